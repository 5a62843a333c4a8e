//! HTTP calls as futures. The task waiting for a call is polled inside the call's completion callback,
//! so a response read right after the `await` asks the host in place, as a callback plugin would. A
//! response still held when that poll returns (joined with another call, or kept across a later
//! `await`) is copied out of the host before the callback returns: a later read finds the copy.

use super::executor::{current_task, run_now};
use super::TaskError;
use crate::abi::MapType;
use crate::codec::{decode_map_utf8, find_in_map};
use crate::error::Error;
use crate::http_call::{self as calls, HttpRequest};
use crate::maps;
use core::fmt;
use std::cell::{OnceCell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a call's record knows of its answer.
enum Answer {
    /// Not arrived yet.
    Awaited,
    /// In the host's buffers: only while the completion callback runs.
    Live {
        body_size: usize,
    },
    /// Copied out of the host (the response outlived its callback); each part is taken once by the
    /// response.
    Kept {
        headers: Option<Vec<u8>>,
        body: Option<Vec<u8>>,
        trailers: Option<Vec<u8>>,
    },
    /// Failed, timed out or cancelled; or the copy could not be read.
    Failed(Error),
}

/// One call between its dispatch and the end of its response: shared by the completion closure and the
/// future (then the response), and freed when neither holds it.
struct Record {
    holders: u8,
    /// The task that awaits the call, once polled.
    task: Option<usize>,
    answer: Answer,
}

thread_local! {
    /// The calls' records; a record's index is free again once nobody holds it.
    static RECORDS: RefCell<Records> = const { RefCell::new(Records { all: Vec::new(), free: Vec::new() }) };
}

struct Records {
    all: Vec<Record>,
    free: Vec<u32>,
}

fn with_records<T>(f: impl FnOnce(&mut Records) -> T) -> T {
    RECORDS.with(|r| f(&mut r.borrow_mut()))
}

impl Records {
    fn open(&mut self) -> u32 {
        let record = Record {
            holders: 2,
            task: None,
            answer: Answer::Awaited,
        };
        match self.free.pop() {
            Some(index) => {
                self.all[index as usize] = record;
                index
            }
            None => {
                self.all.push(record);
                (self.all.len() - 1) as u32
            }
        }
    }

    fn get(&mut self, index: u32) -> Option<&mut Record> {
        self.all.get_mut(index as usize).filter(|r| r.holders > 0)
    }

    /// One holder lets go; the record's contents are handed back to drop outside the borrow.
    fn release(&mut self, index: u32) -> Option<Answer> {
        let record = self.get(index)?;
        record.holders -= 1;
        if record.holders > 0 {
            return None;
        }
        record.task = None;
        let answer = std::mem::replace(&mut record.answer, Answer::Awaited);
        self.free.push(index);
        Some(answer)
    }
}

fn release(index: u32) {
    drop(with_records(|r| r.release(index)));
}

/// Lives in the completion closure: delivers the answer when it runs, or cancels the call when the
/// dispatcher drops the closure unrun (the dispatching context was deleted).
struct Completion(u32);

impl Completion {
    fn complete(self, num_headers: usize, body_size: usize, num_trailers: usize) {
        let index = self.0;
        std::mem::forget(self);
        let failed = num_headers == 0 && body_size == 0 && num_trailers == 0;
        let task = with_records(|r| {
            let record = r.get(index)?;
            record.answer = if failed {
                Answer::Failed(TaskError::CallFailed.into())
            } else {
                Answer::Live { body_size }
            };
            record.task
        });
        if let Some(task) = task {
            run_now(task);
        }
        // Still live: the future or its response outlives this callback; keep a copy of the answer.
        let live = with_records(|r| match r.get(index) {
            Some(record) if record.holders > 1 => match record.answer {
                Answer::Live { body_size } => Some(body_size),
                _ => None,
            },
            _ => None,
        });
        if let Some(body_size) = live {
            let kept = keep(body_size, num_headers, num_trailers);
            let old = with_records(|r| {
                r.get(index)
                    .map(|record| std::mem::replace(&mut record.answer, kept))
            });
            drop(old);
        }
        release(index);
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        let index = self.0;
        let old = with_records(|r| {
            r.get(index).map(|record| {
                std::mem::replace(
                    &mut record.answer,
                    Answer::Failed(TaskError::Cancelled.into()),
                )
            })
        });
        drop(old);
        release(index);
    }
}

/// Copies the answer being delivered out of the host.
fn keep(body_size: usize, num_headers: usize, num_trailers: usize) -> Answer {
    let read = || -> Result<Answer, Error> {
        Ok(Answer::Kept {
            headers: Some(read_map(MapType::HttpCallResponseHeaders, num_headers)?),
            body: Some(read_body(body_size)?),
            trailers: Some(read_map(MapType::HttpCallResponseTrailers, num_trailers)?),
        })
    };
    read().unwrap_or_else(Answer::Failed)
}

fn read_map(map: MapType, entries: usize) -> Result<Vec<u8>, Error> {
    if entries == 0 {
        return Ok(Vec::new());
    }
    maps::serialized(map)
}

fn read_body(body_size: usize) -> Result<Vec<u8>, Error> {
    if body_size == 0 {
        return Ok(Vec::new());
    }
    calls::response_body(0, body_size)
}

/// Sends an HTTP call now and returns a future of its response. The call is dispatched at once (so
/// several calls started before awaiting run in parallel). Await it in a task ([`super::spawn`],
/// [`super::spawn_request`]).
///
/// Errors (when awaited): as [`crate::http_call::dispatch_http_call`] for a call the host refused;
/// [`TaskError::CallFailed`] for a call that failed or timed out; [`TaskError::Cancelled`] when the
/// calling context was deleted first; [`TaskError::NotInTask`] outside a task.
pub fn http_call(request: &HttpRequest<'_>) -> HttpCall {
    let index = with_records(Records::open);
    let completion = Completion(index);
    match calls::dispatch_http_call(request, move |h, b, t| completion.complete(h, b, t)) {
        // The closure was dropped unrun, which recorded the call as cancelled: the refusal says more.
        Err(e) => {
            release(index);
            HttpCall {
                state: State::Refused(e),
            }
        }
        Ok(_) => HttpCall {
            state: State::Waiting(index),
        },
    }
}

enum State {
    Waiting(u32),
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

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = match current_task() {
            Ok(task) => task,
            Err(e) => return Poll::Ready(Err(e.into())),
        };
        let index = match &self.state {
            State::Waiting(index) => *index,
            State::Refused(e) => {
                let e = e.clone();
                self.state = State::Done;
                return Poll::Ready(Err(e));
            }
            State::Done => return Poll::Ready(Err(TaskError::AlreadyCompleted.into())),
        };
        // `None`: still awaited; `Some(Ok(()))`: the answer is there; `Some(Err)`: the call failed.
        let outcome = with_records(|r| {
            let record = r.get(index)?;
            match &record.answer {
                Answer::Awaited => {
                    record.task = Some(task);
                    None
                }
                Answer::Failed(e) => Some(Err(e.clone())),
                Answer::Live { .. } | Answer::Kept { .. } => Some(Ok(())),
            }
        });
        match outcome {
            None => Poll::Pending,
            Some(Ok(())) => {
                // The future's hold on the record passes to the response.
                self.state = State::Done;
                Poll::Ready(Ok(HttpResponse {
                    record: index,
                    headers: OnceCell::new(),
                    body: OnceCell::new(),
                    trailers: OnceCell::new(),
                }))
            }
            Some(Err(e)) => {
                self.state = State::Done;
                release(index);
                Poll::Ready(Err(e))
            }
        }
    }
}

impl Drop for HttpCall {
    fn drop(&mut self) {
        if let State::Waiting(index) = self.state {
            release(index);
        }
    }
}

/// An HTTP call's response. Read right after the `await`, it asks the host in place (nothing copied
/// until asked); one kept across another `await` was copied when its callback ended. Each part is read
/// at most once from the host, on first use.
pub struct HttpResponse {
    record: u32,
    headers: OnceCell<Vec<u8>>,
    body: OnceCell<Vec<u8>>,
    trailers: OnceCell<Vec<u8>>,
}

/// Which part of a response.
#[derive(Clone, Copy)]
enum Part {
    Headers,
    Body,
    Trailers,
}

/// Where a part of a response is when its cell is empty.
enum Source {
    /// Read it from the host now.
    Live { body_size: usize },
    /// The copy made when the callback ended.
    Kept(Vec<u8>),
}

/// The first value of `name` in a serialized map, as text; `None` when absent or empty (under ABI 0.1.0
/// Envoy reports an absent header as empty). Errors: [`Error::Malformed`] when the map does not decode
/// or the value is not UTF-8.
fn find<'a>(map: &'a [u8], name: &str) -> Result<Option<&'a str>, Error> {
    match find_in_map(map, name.as_bytes())? {
        Some(value) if !value.is_empty() => Ok(Some(
            std::str::from_utf8(value)
                .map_err(|_| Error::Malformed(crate::codec::DecodeError::NotUtf8))?,
        )),
        _ => Ok(None),
    }
}

/// A `:status` value as a number; `None` when it is not one.
fn parse_status(value: &[u8]) -> Option<u16> {
    if value.is_empty() || value.len() > 5 {
        return None;
    }
    let mut status: u32 = 0;
    for &digit in value {
        if !digit.is_ascii_digit() {
            return None;
        }
        status = status * 10 + u32::from(digit - b'0');
    }
    u16::try_from(status).ok()
}

impl HttpResponse {
    /// Where `part` is to be read from. Errors: the reason the answer could not be kept.
    fn source(&self, part: Part) -> Result<Source, Error> {
        with_records(|r| {
            let record = r
                .get(self.record)
                .ok_or(Error::Task(TaskError::Cancelled))?;
            match &mut record.answer {
                Answer::Live { body_size } => Ok(Source::Live {
                    body_size: *body_size,
                }),
                Answer::Kept {
                    headers,
                    body,
                    trailers,
                } => {
                    let kept = match part {
                        Part::Headers => headers.take(),
                        Part::Body => body.take(),
                        Part::Trailers => trailers.take(),
                    };
                    Ok(Source::Kept(kept.unwrap_or_default()))
                }
                Answer::Failed(e) => Err(e.clone()),
                Answer::Awaited => Err(Error::Task(TaskError::Cancelled)),
            }
        })
    }

    /// Whether the answer is in the host's buffers now (its completion callback runs).
    fn is_live(&self) -> bool {
        with_records(|r| {
            r.get(self.record)
                .is_some_and(|record| matches!(record.answer, Answer::Live { .. }))
        })
    }

    /// `part`, read (or taken from the copy) on first use.
    fn part(&self, part: Part) -> Result<&[u8], Error> {
        let cell = match part {
            Part::Headers => &self.headers,
            Part::Body => &self.body,
            Part::Trailers => &self.trailers,
        };
        if let Some(bytes) = cell.get() {
            return Ok(bytes);
        }
        let bytes = match self.source(part)? {
            Source::Kept(bytes) => bytes,
            Source::Live { body_size } => match part {
                Part::Headers => maps::serialized(MapType::HttpCallResponseHeaders)?,
                Part::Body => read_body(body_size)?,
                Part::Trailers => maps::serialized(MapType::HttpCallResponseTrailers)?,
            },
        };
        Ok(cell.get_or_init(|| bytes))
    }

    /// The HTTP status (`:status`), or `None` when the answer has none or it is not a number. Errors:
    /// as [`HttpResponse::header`].
    pub fn status(&self) -> Result<Option<u16>, Error> {
        if self.headers.get().is_none() && self.is_live() {
            // Read in place: one value, nothing kept.
            return maps::with_value(MapType::HttpCallResponseHeaders, ":status", |v| {
                v.and_then(parse_status)
            });
        }
        Ok(self.header(":status")?.and_then(|v| parse_status(v.as_bytes())))
    }

    /// The first value of header `name` (exact, lower-case name), or `None`. An empty value counts as
    /// absent: under ABI 0.1.0 Envoy reports an absent header as empty. Errors: [`Error::Malformed`]
    /// when the host's map does not decode or the value is not UTF-8; a host read failing.
    pub fn header(&self, name: &str) -> Result<Option<&str>, Error> {
        find(self.part(Part::Headers)?, name)
    }

    /// Every response header, in order. Errors: as [`HttpResponse::header`].
    pub fn headers(&self) -> Result<Vec<(String, String)>, Error> {
        Ok(decode_map_utf8(self.part(Part::Headers)?)?)
    }

    /// The response body. Errors: a host read failing.
    pub fn body(&self) -> Result<&[u8], Error> {
        self.part(Part::Body)
    }

    /// The first value of trailer `name`, or `None` (as [`HttpResponse::header`]).
    pub fn trailer(&self, name: &str) -> Result<Option<&str>, Error> {
        find(self.part(Part::Trailers)?, name)
    }

    /// Every response trailer, in order. Errors: as [`HttpResponse::header`].
    pub fn trailers(&self) -> Result<Vec<(String, String)>, Error> {
        Ok(decode_map_utf8(self.part(Part::Trailers)?)?)
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl Drop for HttpResponse {
    fn drop(&mut self) {
        release(self.record);
    }
}
