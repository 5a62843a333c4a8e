//! Async/await for everything that completes in a later callback: HTTP calls, gRPC calls and streams,
//! shared-queue items and ticks.
//!
//! A task is a future owned by the context that spawned it. A single-threaded executor inside the SDK
//! polls it when a host callback wakes it (an HTTP-call response, a gRPC event, a tick, a queue that
//! became ready); it has no thread and no timer of its own, and allocates nothing per poll (a waker is
//! an index). When the owner context is deleted (a stream reset, the end of a stream), its tasks are
//! dropped, which cancels what they were waiting for.
//!
//! A task awaiting an HTTP call is polled inside the call's response callback, so the response read
//! right after the `await` comes from the host in place, as in a callback plugin; a response the task
//! still holds when that poll returns (joined with another call, kept across a later `await`) is copied
//! out before the callback ends.
//!
//! A stream handler reads top to bottom with [`spawn_request`]: the callback returns whatever the task
//! returns when it finishes at once, and [`Action::Pause`] otherwise; the stream stays paused until the
//! task finishes, and is resumed if it finishes with [`Action::Continue`]. To answer locally, call
//! [`crate::http::send_http_response`] and finish with [`Action::Pause`].
//!
//! ```no_run
//! use proxywasm::http_call::HttpRequest;
//! use proxywasm::{http, task, Action, Context, Error, HttpContext, RootContext};
//! use std::time::Duration;
//!
//! struct Root;
//! impl Context for Root {}
//! impl RootContext for Root {
//!     fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
//!         Some(Box::new(Auth))
//!     }
//! }
//!
//! struct Auth;
//! impl Context for Auth {}
//! impl HttpContext for Auth {
//!     fn on_http_request_headers(&mut self, _headers: usize, _end: bool) -> Action {
//!         // The request stays paused while `check` waits; a spawn error fails closed.
//!         task::spawn_request(check()).unwrap_or_else(|e| deny(&e.to_string()))
//!     }
//! }
//!
//! async fn check() -> Action {
//!     let path = http::request_header(":path").ok().flatten().unwrap_or_default();
//!     let request = HttpRequest {
//!         cluster: "auth",
//!         headers: &[(":method", "GET"), (":path", &path), (":authority", "auth")],
//!         body: None,
//!         trailers: &[],
//!         timeout: Duration::from_secs(1),
//!     };
//!     match task::http_call(&request).await {
//!         Ok(response) if response.status() == Ok(Some(200)) => Action::Continue,
//!         Ok(_) => deny("denied"),
//!         Err(e) => deny(&e.to_string()),
//!     }
//! }
//!
//! fn deny(why: &str) -> Action {
//!     let _ = http::send_http_response(403, &[], why.as_bytes());
//!     Action::Pause
//! }
//!
//! fn new_root(_id: u32) -> Box<dyn RootContext> {
//!     Box::new(Root)
//! }
//! proxywasm::main!(new_root);
//! ```
//!
//! Misuse is an [`Error::Task`], never a hang: spawning outside a callback
//! ([`TaskError::NoContext`]), spawning a stream task from inside another task
//! ([`TaskError::Reentrant`]: nobody would return its action to the host), awaiting an SDK future
//! outside an SDK task ([`TaskError::NotInTask`]), awaiting a call whose context was deleted
//! ([`TaskError::Cancelled`]).
//!
//! Plugins that never spawn a task do not link the executor: the dispatcher only checks an empty hook.

mod executor;
mod grpc;
mod http_call;
mod join;
mod queue;
mod tick;

use crate::error::Error;
use crate::Action;
use core::fmt;
use std::future::Future;

pub use executor::live_tasks;
pub use grpc::{grpc_call, grpc_stream, GrpcCall, GrpcReceive, GrpcReply, GrpcStream};
pub use http_call::{http_call, HttpCall, HttpResponse};
pub use join::{join, join_all, Join, JoinAll};
pub use queue::{dequeue, Dequeue};
pub use tick::{next_tick, sleep, NextTick, Sleep};

/// Why an asynchronous operation failed, or how the async layer was misused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskError {
    /// A task was spawned outside any context callback (no context could own it).
    NoContext,
    /// A stream task ([`spawn_request`], [`spawn_response`]) was spawned from inside a task, where no
    /// callback can return its action to the host. Spawn it from the stream's callback, or use
    /// [`spawn`] and resume the stream yourself.
    Reentrant,
    /// An SDK future was polled outside an SDK task (by hand, or by another executor).
    NotInTask,
    /// The future was polled again after it completed.
    AlreadyCompleted,
    /// The context that made the call was deleted before the answer came: the call was forgotten.
    Cancelled,
    /// The HTTP call failed or timed out: Envoy delivers both as a response with no headers, body or
    /// trailers (`Context::onHttpCallFailure`).
    CallFailed,
    /// The gRPC call or stream closed with a non-zero gRPC status (4 is a timeout, 14 unavailable).
    /// Small and `Copy` on purpose, so every `Result<_, Error>` of the SDK stays as cheap as before;
    /// the status message is logged at debug level when the call closes.
    GrpcStatus {
        /// The gRPC status code.
        code: u32,
    },
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::NoContext => f.write_str("a task needs a context: spawn it from a callback"),
            TaskError::Reentrant => {
                f.write_str("a stream task cannot be spawned from inside another task")
            }
            TaskError::NotInTask => f.write_str("an SDK future was polled outside an SDK task"),
            TaskError::AlreadyCompleted => f.write_str("the future was polled after it completed"),
            TaskError::Cancelled => {
                f.write_str("the call's context was deleted before the call completed")
            }
            TaskError::CallFailed => f.write_str("the HTTP call failed or timed out"),
            TaskError::GrpcStatus { code } => write!(f, "the gRPC call closed with status {code}"),
        }
    }
}

impl std::error::Error for TaskError {}

/// Runs `future` as a task of the current context until it finishes (or the context is deleted).
/// Callable in any callback of any context, and from inside a task (then the new task is first polled
/// after the current poll). Errors: [`TaskError::NoContext`] outside a callback.
pub fn spawn(future: impl Future<Output = ()> + 'static) -> Result<(), Error> {
    let task = async move {
        future.await;
        Action::Continue
    };
    executor::spawn(Box::pin(task), executor::Resume::Nothing)?;
    Ok(())
}

/// Runs `future` as a task of the current HTTP stream, from a request callback (usually
/// `on_http_request_headers`): returns its action if it finishes at once, else [`Action::Pause`]; when
/// it finishes later with [`Action::Continue`] the request is resumed (with [`Action::Pause`] the stream
/// stays as the task left it, e.g. answered locally). Errors: [`TaskError::NoContext`] outside a
/// callback, [`TaskError::Reentrant`] from inside a task.
pub fn spawn_request(future: impl Future<Output = Action> + 'static) -> Result<Action, Error> {
    spawn_stream(Box::pin(future), executor::Resume::Request)
}

/// [`spawn_request`] for a response callback: a task that finishes later with [`Action::Continue`]
/// resumes the response. Errors: as [`spawn_request`].
pub fn spawn_response(future: impl Future<Output = Action> + 'static) -> Result<Action, Error> {
    spawn_stream(Box::pin(future), executor::Resume::Response)
}

#[inline(always)]
fn spawn_stream(
    future: std::pin::Pin<Box<dyn Future<Output = Action>>>,
    resume: executor::Resume,
) -> Result<Action, Error> {
    Ok(executor::spawn(future, resume)?.unwrap_or(Action::Pause))
}
