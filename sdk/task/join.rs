//! Waiting for several futures at once, in one task.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future and then its output.
enum MaybeDone<F: Future> {
    Pending(F),
    Done(F::Output),
    Taken,
}

impl<F: Future> MaybeDone<F> {
    /// Polls the future if it is still pending; `true` once it has an output.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY: the future is never moved out of `Pending` while pinned: it is only polled in place
        // and dropped in place when replaced by its output.
        let this = unsafe { self.get_unchecked_mut() };
        match this {
            MaybeDone::Pending(future) => {
                // SAFETY: `future` is pinned as part of `self`, see above.
                let future = unsafe { Pin::new_unchecked(future) };
                match future.poll(cx) {
                    Poll::Ready(output) => {
                        *this = MaybeDone::Done(output);
                        true
                    }
                    Poll::Pending => false,
                }
            }
            MaybeDone::Done(_) => true,
            MaybeDone::Taken => false,
        }
    }

    fn take(self: Pin<&mut Self>) -> Option<F::Output> {
        // SAFETY: only an output (never the pinned future) is moved out.
        let this = unsafe { self.get_unchecked_mut() };
        match std::mem::replace(this, MaybeDone::Taken) {
            MaybeDone::Done(output) => Some(output),
            other => {
                *this = other;
                None
            }
        }
    }
}

/// Waits for two futures at once; yields both outputs. Nest it (`join(a, join(b, c))`) for more, or use
/// [`join_all`] for many of one type.
pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a: MaybeDone::Pending(a),
        b: MaybeDone::Pending(b),
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
        // SAFETY: structural pinning: `a` and `b` are never moved while `self` is pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let (mut a, mut b) = unsafe {
            (
                Pin::new_unchecked(&mut this.a),
                Pin::new_unchecked(&mut this.b),
            )
        };
        let a_done = a.as_mut().poll(cx);
        let b_done = b.as_mut().poll(cx);
        if !(a_done && b_done) {
            return Poll::Pending;
        }
        match (a.take(), b.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            // Only after the join itself completed: never again ready.
            _ => Poll::Pending,
        }
    }
}

/// Waits for every future of `futures` at once; yields their outputs in the same order.
pub fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
    let all: Box<[MaybeDone<F>]> = futures.into_iter().map(MaybeDone::Pending).collect();
    JoinAll { all: all.into() }
}

/// The future of [`join_all`].
#[must_use = "a join does nothing unless awaited"]
pub struct JoinAll<F: Future> {
    all: Pin<Box<[MaybeDone<F>]>>,
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut all_done = true;
        // SAFETY: the elements live in a pinned box and are only polled or replaced in place.
        let all = unsafe { self.all.as_mut().get_unchecked_mut() };
        for element in all.iter_mut() {
            // SAFETY: as above.
            all_done &= unsafe { Pin::new_unchecked(element) }.poll(cx);
        }
        if !all_done {
            return Poll::Pending;
        }
        let outputs: Option<Vec<F::Output>> = all
            .iter_mut()
            // SAFETY: as above.
            .map(|element| unsafe { Pin::new_unchecked(element) }.take())
            .collect();
        outputs.map_or(Poll::Pending, Poll::Ready)
    }
}
