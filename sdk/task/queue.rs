//! Shared-queue items as futures.

use super::executor::{current_task, wait_for_queue};
use crate::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future of the next item of shared queue `queue_id` (from [`crate::queue::register`] or
/// [`crate::queue::resolve`]): the item at once when the queue has one, else the first one after the host
/// reports the queue ready (`proxy_on_queue_ready`, delivered to the root context that registered it).
/// Errors: as [`crate::queue::dequeue`] (never [`Error::Empty`]: an empty queue is waited on);
/// [`super::TaskError::NotInTask`] outside a task.
pub fn dequeue(queue_id: u32) -> Dequeue {
    Dequeue { queue_id }
}

/// The future of [`dequeue`].
#[must_use = "a dequeue does nothing unless awaited"]
pub struct Dequeue {
    queue_id: u32,
}

impl Future for Dequeue {
    type Output = Result<Vec<u8>, Error>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = match current_task() {
            Ok(task) => task,
            Err(e) => return Poll::Ready(Err(e.into())),
        };
        match crate::queue::dequeue(self.queue_id) {
            Err(Error::Empty) => {
                wait_for_queue(self.queue_id, task);
                Poll::Pending
            }
            other => Poll::Ready(other),
        }
    }
}
