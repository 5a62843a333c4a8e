//! gRPC unary calls and streams as futures. Their events are taken from the dispatcher before they reach
//! the context's `on_grpc_*` methods, read inside the event's callback, and handed to the task.

use super::executor::{current_task, install, GrpcHooks};
use super::TaskError;
use crate::dispatcher::GrpcEvent;
use crate::error::Error;
use crate::grpc::{self as calls, GrpcTarget};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// What arrived on one call or stream so far.
#[derive(Default)]
struct Shared {
    owner: u32,
    initial_metadata: Vec<(String, String)>,
    messages: VecDeque<Vec<u8>>,
    trailing_metadata: Vec<(String, String)>,
    /// The gRPC status and message, once closed; or why it ended otherwise.
    end: Option<Result<(), Error>>,
    waker: Option<Waker>,
    /// Whether a message or metadata wakes the task (a stream's receiver); a unary call's future waits
    /// for the close only.
    wake_on_each_event: bool,
}

type SharedCall = Rc<RefCell<Shared>>;

thread_local! {
    /// The calls and streams futures wait on, with their tokens (few at a time: a list).
    static CALLS: RefCell<Vec<(u32, SharedCall)>> = const { RefCell::new(Vec::new()) };
}

static HOOKS: GrpcHooks = GrpcHooks {
    deliver,
    forget_owned_by,
    forget_all,
};

fn find(token: u32) -> Option<SharedCall> {
    CALLS.with(|c| {
        c.borrow()
            .iter()
            .find(|(t, _)| *t == token)
            .map(|(_, s)| s.clone())
    })
}

fn forget(token: u32) {
    CALLS.with(|c| c.borrow_mut().retain(|(t, _)| *t != token));
}

fn end(shared: &SharedCall, outcome: Result<(), Error>) {
    let waker = {
        let mut s = shared.borrow_mut();
        if s.end.is_none() {
            s.end = Some(outcome);
        }
        s.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

fn track(token: u32, wake_on_each_event: bool) -> SharedCall {
    let shared = Rc::new(RefCell::new(Shared {
        owner: crate::dispatcher::current_context_id(),
        wake_on_each_event,
        ..Shared::default()
    }));
    CALLS.with(|c| c.borrow_mut().push((token, shared.clone())));
    install(Some(&HOOKS));
    shared
}

/// Takes a gRPC event for a call a task waits on; `false` for any other token (it goes to the context).
fn deliver(token: u32, event: GrpcEvent) -> bool {
    let Some(shared) = find(token) else {
        return false;
    };
    let read = match event {
        GrpcEvent::InitialMetadata => {
            calls::received_initial_metadata().map(|m| shared.borrow_mut().initial_metadata = m)
        }
        GrpcEvent::Message => {
            calls::received_message().map(|m| shared.borrow_mut().messages.push_back(m))
        }
        GrpcEvent::TrailingMetadata => {
            calls::received_trailing_metadata().map(|m| shared.borrow_mut().trailing_metadata = m)
        }
        GrpcEvent::Close(code) => {
            forget(token);
            let outcome = if code == 0 {
                Ok(())
            } else {
                if let Ok((_, message)) = calls::call_status() {
                    if !message.is_empty() {
                        crate::logging::debug(&format!(
                            "proxywasm: gRPC call {token} closed with status {code}: {message}"
                        ));
                    }
                }
                Err(TaskError::GrpcStatus { code }.into())
            };
            end(&shared, outcome);
            return true;
        }
    };
    match read {
        Ok(()) => {
            let waker = {
                let mut s = shared.borrow_mut();
                if s.wake_on_each_event {
                    s.waker.take()
                } else {
                    None
                }
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        Err(e) => end(&shared, Err(e)),
    }
    true
}

/// Cancels the open calls of a deleted context (Envoy makes every call on the root context, exports.cc
/// `grpc_call`, so it would keep them running); their futures end as cancelled.
fn forget_owned_by(owner: u32) {
    let gone: Vec<(u32, SharedCall)> = CALLS.with(|c| {
        let mut calls = c.borrow_mut();
        if calls.is_empty() {
            return Vec::new();
        }
        let (gone, kept) = std::mem::take(&mut *calls)
            .into_iter()
            .partition(|(_, s)| s.borrow().owner == owner);
        *calls = kept;
        gone
    });
    for (token, shared) in gone {
        let _ = calls::cancel(token);
        end(&shared, Err(TaskError::Cancelled.into()));
    }
}

/// Forgets every call (the emulated VM was reset).
fn forget_all() {
    let gone = CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()));
    for (_, shared) in gone {
        end(&shared, Err(TaskError::Cancelled.into()));
    }
}

/// Cancels a call still open when its future or stream is dropped (no close event follows).
fn cancel_if_open(token: u32, shared: &SharedCall) {
    if shared.borrow().end.is_none() {
        shared.borrow_mut().end = Some(Err(TaskError::Cancelled.into()));
        forget(token);
        let _ = calls::cancel(token);
    }
}

/// A unary call's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrpcReply {
    /// The serialized reply message (empty when the server sent none).
    pub message: Vec<u8>,
    /// The initial metadata received.
    pub initial_metadata: Vec<(String, String)>,
    /// The trailing metadata received.
    pub trailing_metadata: Vec<(String, String)>,
}

/// Starts a unary gRPC call now and returns a future of its reply. Await it in a task.
///
/// Errors (when awaited): as [`crate::grpc::call`] for a call the host refused;
/// [`TaskError::GrpcStatus`] for a non-zero status (Envoy reports a timeout as status 4,
/// `DEADLINE_EXCEEDED`); [`TaskError::Cancelled`] when the calling context was deleted first;
/// [`TaskError::NotInTask`] outside a task. Dropping the future before it completes cancels the call.
pub fn grpc_call(target: &GrpcTarget<'_>, message: &[u8], timeout: Duration) -> GrpcCall {
    GrpcCall {
        state: match calls::call(target, message, timeout) {
            Ok(token) => CallState::Waiting(token, track(token, false)),
            Err(e) => CallState::Refused(e),
        },
    }
}

enum CallState {
    Waiting(u32, SharedCall),
    Refused(Error),
    Done,
}

/// The future of [`grpc_call`].
#[must_use = "a gRPC call's future does nothing unless awaited"]
pub struct GrpcCall {
    state: CallState,
}

impl Future for GrpcCall {
    type Output = Result<GrpcReply, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Err(e) = current_task() {
            return Poll::Ready(Err(e.into()));
        }
        let outcome = match &self.state {
            CallState::Done => Err(TaskError::AlreadyCompleted.into()),
            CallState::Refused(e) => Err(e.clone()),
            CallState::Waiting(_, shared) => {
                let mut s = shared.borrow_mut();
                match s.end.clone() {
                    None => {
                        s.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                    Some(Err(e)) => Err(e),
                    Some(Ok(())) => Ok(GrpcReply {
                        message: s.messages.pop_back().unwrap_or_default(),
                        initial_metadata: std::mem::take(&mut s.initial_metadata),
                        trailing_metadata: std::mem::take(&mut s.trailing_metadata),
                    }),
                }
            }
        };
        self.state = CallState::Done;
        Poll::Ready(outcome)
    }
}

impl Drop for GrpcCall {
    fn drop(&mut self) {
        if let CallState::Waiting(token, shared) = &self.state {
            cancel_if_open(*token, shared);
        }
    }
}

/// Opens a gRPC stream whose messages a task receives with [`GrpcStream::receive`]. Errors: as
/// [`crate::grpc::open_stream`]. Dropping the stream before it closed cancels it.
pub fn grpc_stream(target: &GrpcTarget<'_>) -> Result<GrpcStream, Error> {
    let token = calls::open_stream(target)?;
    Ok(GrpcStream {
        token,
        shared: track(token, true),
    })
}

/// An open gRPC stream.
pub struct GrpcStream {
    token: u32,
    shared: SharedCall,
}

impl GrpcStream {
    /// The stream's token (for [`crate::grpc`] functions).
    pub fn token(&self) -> u32 {
        self.token
    }

    /// Sends a serialized message; `end_of_stream` half-closes the stream. Errors: as
    /// [`crate::grpc::send`].
    pub fn send(&self, message: &[u8], end_of_stream: bool) -> Result<(), Error> {
        calls::send(self.token, message, end_of_stream)
    }

    /// The initial metadata received so far.
    pub fn initial_metadata(&self) -> Vec<(String, String)> {
        self.shared.borrow().initial_metadata.clone()
    }

    /// The trailing metadata, once received.
    pub fn trailing_metadata(&self) -> Vec<(String, String)> {
        self.shared.borrow().trailing_metadata.clone()
    }

    /// A future of the next message: `Ok(Some(message))`, or `Ok(None)` once the stream closed with
    /// status 0 and every message was received. Errors: [`TaskError::GrpcStatus`] for a close with a
    /// non-zero status, [`TaskError::Cancelled`] when the owner context was deleted,
    /// [`TaskError::NotInTask`] outside a task.
    pub fn receive(&mut self) -> GrpcReceive<'_> {
        GrpcReceive { stream: self }
    }
}

impl Drop for GrpcStream {
    fn drop(&mut self) {
        cancel_if_open(self.token, &self.shared);
    }
}

/// The future of [`GrpcStream::receive`].
#[must_use = "a receive does nothing unless awaited"]
pub struct GrpcReceive<'a> {
    stream: &'a mut GrpcStream,
}

impl Future for GrpcReceive<'_> {
    type Output = Result<Option<Vec<u8>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Err(e) = current_task() {
            return Poll::Ready(Err(e.into()));
        }
        let mut s = self.stream.shared.borrow_mut();
        if let Some(message) = s.messages.pop_front() {
            return Poll::Ready(Ok(Some(message)));
        }
        match s.end.clone() {
            Some(Ok(())) => Poll::Ready(Ok(None)),
            Some(Err(e)) => Poll::Ready(Err(e)),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
