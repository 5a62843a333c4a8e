//! Waiting for several futures at once, in one task.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future (boxed once, so it stays pinned while the join moves) and then its output.
enum MaybeDone<F: Future> {
    Pending(Pin<Box<F>>),
    Done(F::Output),
    Taken,
}

impl<F: Future> MaybeDone<F> {
    fn new(future: F) -> Self {
        MaybeDone::Pending(Box::pin(future))
    }

    /// Polls the future if it is still pending; `true` once it has an output.
    fn poll(&mut self, cx: &mut Context<'_>) -> bool {
        match self {
            MaybeDone::Pending(future) => match future.as_mut().poll(cx) {
                Poll::Ready(output) => {
                    *self = MaybeDone::Done(output);
                    true
                }
                Poll::Pending => false,
            },
            MaybeDone::Done(_) => true,
            MaybeDone::Taken => false,
        }
    }

    fn take(&mut self) -> Option<F::Output> {
        match std::mem::replace(self, MaybeDone::Taken) {
            MaybeDone::Done(output) => Some(output),
            other => {
                *self = other;
                None
            }
        }
    }
}

// Every future a join holds is boxed, so the join itself may move: polling needs no pin projection.
impl<F: Future> Unpin for MaybeDone<F> {}

/// Waits for two futures at once; yields both outputs. Nest it (`join(a, join(b, c))`) for more, or use
/// [`join_all`] for many of one type. Each future is boxed once, when the join is made.
pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a: MaybeDone::new(a),
        b: MaybeDone::new(b),
    }
}

/// The future of [`join`].
#[must_use = "a join does nothing unless awaited"]
pub struct Join<A: Future, B: Future> {
    a: MaybeDone<A>,
    b: MaybeDone<B>,
}

impl<A: Future, B: Future> Future for Join<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let a_done = this.a.poll(cx);
        let b_done = this.b.poll(cx);
        if !(a_done && b_done) {
            return Poll::Pending;
        }
        match (this.a.take(), this.b.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            // Only after the join itself completed: never again ready.
            _ => Poll::Pending,
        }
    }
}

/// Waits for every future of `futures` at once; yields their outputs in the same order. Each future is
/// boxed once, when the join is made.
pub fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
    JoinAll {
        all: futures.into_iter().map(MaybeDone::new).collect(),
    }
}

/// The future of [`join_all`].
#[must_use = "a join does nothing unless awaited"]
pub struct JoinAll<F: Future> {
    all: Vec<MaybeDone<F>>,
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut all_done = true;
        for element in &mut this.all {
            all_done &= element.poll(cx);
        }
        if !all_done {
            return Poll::Pending;
        }
        let outputs: Option<Vec<F::Output>> = this.all.iter_mut().map(MaybeDone::take).collect();
        outputs.map_or(Poll::Pending, Poll::Ready)
    }
}
