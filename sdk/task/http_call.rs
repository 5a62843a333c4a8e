//! HTTP calls as futures: the response is read inside its completion callback and handed to the task.

use super::executor::{current_task, run_ready};
use super::TaskError;
use crate::abi::MapType;
use crate::codec::{decode_map_utf8, find_in_map};
use crate::error::Error;
use crate::http_call::{self as calls, HttpRequest};
use crate::maps;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// An HTTP call's response, read in full when it arrived. The header and trailer maps are kept as the
/// host serialized them and decoded when asked, so reading one header allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    headers: Vec<u8>,
    body: Vec<u8>,
    trailers: Vec<u8>,
}

/// The first value of `name` in a serialized map, as text; `None` when absent, empty, not text, or the
/// map does not decode.
fn find<'a>(map: &'a [u8], name: &str) -> Option<&'a str> {
    find_in_map(map, name.as_bytes())
        .ok()
        .flatten()
        .and_then(|v| std::str::from_utf8(v).ok())
        .filter(|v| !v.is_empty())
}

impl HttpResponse {
    /// The HTTP status (`:status`), or `None` when the answer has none or it is not a number.
    pub fn status(&self) -> Option<u16> {
        self.header(":status")?.parse().ok()
    }

    /// The first value of header `name` (exact, lower-case name), or `None`. An empty value counts as
    /// absent: under ABI 0.1.0 Envoy reports an absent header as empty.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// Every response header, in order. Errors: [`Error::Malformed`] when the host's map does not decode
    /// or holds non-UTF-8 text.
    pub fn headers(&self) -> Result<Vec<(String, String)>, Error> {
        Ok(decode_map_utf8(&self.headers)?)
    }

    /// The response body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The first value of trailer `name`, or `None` (as [`HttpResponse::header`]).
    pub fn trailer(&self, name: &str) -> Option<&str> {
        find(&self.trailers, name)
    }

    /// Every response trailer, in order. Errors: as [`HttpResponse::headers`].
    pub fn trailers(&self) -> Result<Vec<(String, String)>, Error> {
        Ok(decode_map_utf8(&self.trailers)?)
    }
}

#[derive(Default)]
struct Shared {
    outcome: Option<Result<HttpResponse, Error>>,
    waker: Option<Waker>,
}

type SharedCall = Rc<RefCell<Shared>>;

fn settle(shared: &SharedCall, outcome: Result<HttpResponse, Error>) {
    let waker = {
        let mut s = shared.borrow_mut();
        s.outcome = Some(outcome);
        s.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Lives in the completion closure: settles the call when it runs, or as cancelled when the dispatcher
/// drops the closure unrun (the dispatching context was deleted).
struct Completion(Option<SharedCall>);

impl Completion {
    fn complete(mut self, num_headers: usize, body_size: usize, num_trailers: usize) {
        if let Some(shared) = self.0.take() {
            settle(&shared, read_response(num_headers, body_size, num_trailers));
            run_ready();
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if let Some(shared) = self.0.take() {
            settle(&shared, Err(TaskError::Cancelled.into()));
        }
    }
}

fn read_response(
    num_headers: usize,
    body_size: usize,
    num_trailers: usize,
) -> Result<HttpResponse, Error> {
    if num_headers == 0 && body_size == 0 && num_trailers == 0 {
        return Err(TaskError::CallFailed.into());
    }
    let mut response = HttpResponse::default();
    if num_headers > 0 {
        response.headers = maps::serialized(MapType::HttpCallResponseHeaders)?;
    }
    if body_size > 0 {
        response.body = calls::response_body(0, body_size)?;
    }
    if num_trailers > 0 {
        response.trailers = maps::serialized(MapType::HttpCallResponseTrailers)?;
    }
    Ok(response)
}

/// Sends an HTTP call now and returns a future of its response. The call is dispatched at once (so
/// several calls started before awaiting run in parallel); the future yields the response, read in
/// full when it arrived. Await it in a task ([`super::spawn`], [`super::spawn_request`]).
///
/// Errors (when awaited): as [`crate::http_call::dispatch_http_call`] for a call the host refused;
/// [`TaskError::CallFailed`] for a call that failed or timed out; [`TaskError::Cancelled`] when the
/// calling context was deleted first; [`TaskError::NotInTask`] outside a task; reading the response:
/// as the [`crate::http_call`] getters.
pub fn http_call(request: &HttpRequest<'_>) -> HttpCall {
    let shared = SharedCall::default();
    let completion = Completion(Some(shared.clone()));
    let state =
        match calls::dispatch_http_call(request, move |h, b, t| completion.complete(h, b, t)) {
            Ok(_) => State::Waiting(shared),
            Err(e) => State::Refused(e),
        };
    HttpCall { state }
}

enum State {
    Waiting(SharedCall),
    Refused(Error),
    Done,
}

/// The future of [`http_call`].
#[must_use = "an HTTP call's future does nothing unless awaited"]
pub struct HttpCall {
    state: State,
}

impl Future for HttpCall {
    type Output = Result<HttpResponse, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Err(e) = current_task() {
            return Poll::Ready(Err(e.into()));
        }
        let outcome = match &self.state {
            State::Done => Err(TaskError::AlreadyCompleted.into()),
            State::Refused(e) => Err(e.clone()),
            State::Waiting(shared) => {
                let mut s = shared.borrow_mut();
                match s.outcome.take() {
                    Some(outcome) => outcome,
                    None => {
                        s.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                }
            }
        };
        self.state = State::Done;
        Poll::Ready(outcome)
    }
}
