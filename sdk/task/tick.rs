//! Waiting for the root context's ticks: the only clock a plugin has.

use super::executor::{current_task, ticks, wait_for_tick};
use crate::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

/// A future that completes at the next tick of a root context of this plugin (set the period with
/// [`crate::timers::set_tick_period`]; without ticks it never completes, and is dropped with its
/// context). Errors: [`super::TaskError::NotInTask`] outside a task.
pub fn next_tick() -> NextTick {
    NextTick { seen: None }
}

/// The future of [`next_tick`].
#[must_use = "a tick wait does nothing unless awaited"]
pub struct NextTick {
    /// The tick count when first polled.
    seen: Option<u64>,
}

impl Future for NextTick {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = match current_task() {
            Ok(task) => task,
            Err(e) => return Poll::Ready(Err(e.into())),
        };
        match self.seen {
            Some(seen) if ticks() > seen => Poll::Ready(Ok(())),
            _ => {
                let now = wait_for_tick(task);
                self.seen.get_or_insert(now);
                Poll::Pending
            }
        }
    }
}

/// A future that completes at the first tick at which the host's clock
/// ([`crate::time::current_time`]) is at least `duration` past the first poll: the resolution is the
/// tick period. Errors: as [`crate::time::current_time`]; [`super::TaskError::NotInTask`] outside a
/// task.
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        duration,
        deadline: None,
    }
}

/// The future of [`sleep`].
#[must_use = "a sleep does nothing unless awaited"]
pub struct Sleep {
    duration: Duration,
    deadline: Option<SystemTime>,
}

impl Future for Sleep {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = match current_task() {
            Ok(task) => task,
            Err(e) => return Poll::Ready(Err(e.into())),
        };
        let now = match crate::time::current_time() {
            Ok(now) => now,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let duration = self.duration;
        let deadline = *self.deadline.get_or_insert(now + duration);
        if now >= deadline {
            return Poll::Ready(Ok(()));
        }
        wait_for_tick(task);
        Poll::Pending
    }
}
