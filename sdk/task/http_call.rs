//! HTTP calls as futures. The async layer sends its calls itself and keeps their records (the
//! dispatcher hands it the responses to tokens it does not know). The task waiting for a call is polled
//! inside the call's response callback, so a response read right after the `await` asks the host in
//! place, as a callback plugin would. A response still held when that poll returns (joined with another
//! call, or kept across a later `await`) is copied out of the host before the callback returns: a later
//! read finds the copy.

use super::executor::{
    after_poll, current_task, idle_when_empty, install, run_ready, with_cell, with_executor,
};
use super::TaskError;
use crate::abi::MapType;
use crate::codec::{decode_map_utf8, find_in_map};
use crate::error::Error;
use crate::http_call::{self as calls, HttpRequest};
use crate::maps;
use crate::word::{words, Word};
use core::fmt;
use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a call's record knows of its answer.
enum Answer {
    /// Not arrived yet.
    Awaited,
    /// In the host's buffers: only while the completion callback runs.
    Live { body_size: usize },
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

/// One call between its dispatch and the end of its response: held by the call in flight (until its
/// response arrives or its context is deleted) and by the future (then the response), and freed when
/// neither holds it.
struct Record {
    holders: u8,
    /// The host's token while the call is in flight; `None` after.
    token: Option<u32>,
    /// The context that sent the call: its deletion cancels it.
    owner: u32,
    /// The task that awaits the call, once polled.
    task: Option<usize>,
    answer: Answer,
    /// While free: the next free record ([`NO_RECORD`]: none).
    next_free: u32,
}

/// The calls' records, kept by the executor; a record's index is free again once nobody holds it.
pub(crate) struct Records {
    all: Vec<Record>,
    /// The first free record ([`NO_RECORD`]: none); each names the next.
    free: u32,
}

words! {
    /// How many calls are in flight: a context's deletion looks no further when none is.
    static IN_FLIGHT = 0;
}

/// How many calls are in flight.
#[inline(always)]
pub(crate) fn in_flight() -> u64 {
    IN_FLIGHT.with(Word::get)
}

#[inline(always)]
fn add_in_flight(delta: i64) {
    IN_FLIGHT.with(|n| n.set(n.get().wrapping_add_signed(delta)));
}

/// Forgets the calls in flight and any delivery (the executor, which holds their records, was reset;
/// natively, a test that panicked inside a delivery leaves one behind).
pub(crate) fn forget_all() {
    IN_FLIGHT.with(|n| n.set(0));
    DELIVERING.with(|d| d.set(NO_DELIVERY.pack()));
}

#[inline(always)]
fn with_records<T>(f: impl FnOnce(&mut Records) -> T) -> T {
    with_executor(|e| f(&mut e.calls))
}

impl Records {
    pub(crate) const fn new() -> Self {
        Records {
            all: Vec::new(),
            free: NO_RECORD,
        }
    }

    fn open(&mut self, token: u32, owner: u32, task: Option<usize>) -> u32 {
        add_in_flight(1);
        let index = self.free;
        match self.all.get_mut(index as usize) {
            Some(record) => {
                // A free record's answer holds nothing (its release dropped a copy or failure): it
                // is overwritten with no drop code.
                std::mem::forget(std::mem::replace(&mut record.answer, Answer::Awaited));
                self.free = record.next_free;
                record.holders = 2;
                record.token = Some(token);
                record.owner = owner;
                record.task = task;
                index
            }
            None => {
                self.all.push(Record {
                    holders: 2,
                    token: Some(token),
                    owner,
                    task,
                    answer: Answer::Awaited,
                    next_free: NO_RECORD,
                });
                (self.all.len() - 1) as u32
            }
        }
    }

    /// The record of the call in flight with `token`, which lands now: it is no longer in flight.
    #[inline(always)]
    fn land(&mut self, token: u32) -> Option<(u32, &mut Record)> {
        if IN_FLIGHT.with(Word::get) == 0 {
            return None;
        }
        let (index, record) = self
            .all
            .iter_mut()
            .enumerate()
            .find(|(_, r)| r.holders > 0 && r.token == Some(token))?;
        record.token = None;
        add_in_flight(-1);
        Some((index as u32, record))
    }

    #[inline(always)]
    fn get(&mut self, index: u32) -> Option<&mut Record> {
        self.all.get_mut(index as usize).filter(|r| r.holders > 0)
    }

    /// One holder lets go.
    #[inline(always)]
    fn release(&mut self, index: u32) {
        self.release_n(index, 1)
    }

    /// `n` holders let go at once; the last one frees the record (a kept copy or a failure drops here:
    /// an answer's drop does not use the SDK).
    #[inline(always)]
    fn release_n(&mut self, index: u32, n: u8) {
        let free = self.free;
        let Some(record) = self.get(index) else {
            return;
        };
        record.holders = record.holders.saturating_sub(n);
        if record.holders > 0 {
            return;
        }
        record.task = None;
        if let Answer::Kept { .. } | Answer::Failed(_) = record.answer {
            record.answer = Answer::Awaited;
        }
        record.next_free = free;
        self.free = index;
    }
}

fn release(index: u32) {
    with_records(|r| r.release(index));
}

/// The call whose answer is in the host's buffers while its completion polls the awaiting task, and
/// what that poll did with it. Read by the call's future and response without the executor's borrow.
#[derive(Clone, Copy)]
struct Delivery {
    /// The call's record ([`NO_RECORD`]: none is being delivered).
    record: u32,
    failed: bool,
    taken: Taken,
}

/// What the poll did with the answer being delivered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// Nothing: the future was not polled, or is not ready for it.
    No,
    /// The future yielded a response, still alive.
    Held,
    /// The future yielded its error, or a response that was dropped already: the future's hold on the
    /// record is over.
    Done,
}

const NO_RECORD: u32 = u32::MAX;

const NO_DELIVERY: Delivery = Delivery {
    record: NO_RECORD,
    failed: false,
    taken: Taken::No,
};

impl Delivery {
    /// The delivery as one word: the record in the low 32 bits, then `failed`, then `taken`.
    #[inline(always)]
    const fn pack(self) -> u64 {
        self.record as u64 | (self.failed as u64) << 32 | (self.taken as u64) << 33
    }

    #[inline(always)]
    fn unpack(word: u64) -> Self {
        Delivery {
            record: word as u32,
            failed: word & 1 << 32 != 0,
            taken: taken_of(word),
        }
    }
}

/// What the poll did with the answer of a packed delivery ([`Delivery::pack`]).
#[inline(always)]
fn taken_of(word: u64) -> Taken {
    match word >> 33 {
        0 => Taken::No,
        1 => Taken::Held,
        _ => Taken::Done,
    }
}

words! {
    /// The delivery under way, packed ([`Delivery::pack`]).
    static DELIVERING = NO_DELIVERY.pack();
    /// Completions seen so far: a future first polled before any completion since it was made cannot
    /// have an answer yet.
    static COMPLETIONS = 0;
}

#[inline(always)]
fn delivering() -> Delivery {
    Delivery::unpack(DELIVERING.with(Word::get))
}

#[inline(always)]
fn set_taken(taken: Taken) {
    DELIVERING.with(|d| d.set(d.get() & !(3 << 33) | (taken as u64) << 33));
}

/// The record being delivered ([`NO_RECORD`]: none).
#[inline(always)]
fn delivering_record() -> u32 {
    DELIVERING.with(Word::get) as u32
}

/// Delivers the response to call `token` (from the dispatcher's hook): polls the task that awaits it
/// while the answer is in the host's buffers, then keeps a copy if the future or its response still
/// holds it. A token the async layer does not know (a call it forgot: its context was deleted) is
/// ignored.
pub(crate) fn deliver(token: u32, num_headers: usize, body_size: usize, num_trailers: usize) {
    COMPLETIONS.with(|c| c.set(c.get().wrapping_add(1)));
    let failed = num_headers == 0 && body_size == 0 && num_trailers == 0;
    with_cell(move |cell| {
        // One borrow: the call's record lands, and the task awaiting it is taken out for a poll now
        // (or queued when a poll is running).
        let found = cell.lend(|e| {
            let landed = e.calls.land(token).map(|(index, record)| {
                // Just landed: its answer was awaited (nothing to drop).
                if let Answer::Awaited = record.answer {
                    std::mem::forget(std::mem::replace(
                        &mut record.answer,
                        if failed {
                            Answer::Failed(TaskError::CallFailed.into())
                        } else {
                            Answer::Live { body_size }
                        },
                    ));
                }
                (index, record.owner, record.task)
            });
            landed.map(|(index, owner, task)| {
                let taken = match task {
                    Some(task) => e.take_now(task),
                    None => None,
                };
                (index, owner, task, taken)
            })
        });
        let Some((index, owner, woken, taken)) = found else {
            return;
        };
        let keep_body = match (woken, taken) {
            (Some(task), Some(mut taken)) => {
                // The task acts on the call's context, as a callback plugin's response callback does.
                let _ = crate::context::set_effective_context(owner);
                let _current = crate::dispatcher::enter_context(owner);
                let delivery = Delivery {
                    record: index,
                    failed,
                    taken: Taken::No,
                };
                // No delivery runs now: a response landing during a poll only queues its task
                // (`take_now`), so the poll's delivery ends with none under way.
                DELIVERING.with(|d| d.set(delivery.pack()));
                let result = taken.poll_as_current(task);
                let delivered = DELIVERING.with(|d| d.replace(NO_DELIVERY.pack()));
                let (settled, polled, drain) = cell.lend(|e| {
                    let (polled, drain) = e.finish(task, taken, result);
                    (
                        settle(&mut e.calls, index, taken_of(delivered)),
                        polled,
                        drain,
                    )
                });
                after_poll(polled, drain);
                settled
            }
            _ => cell.lend(|e| settle(&mut e.calls, index, Taken::No)),
        };
        if let Some(body_size) = keep_body {
            keep_answer(cell, index, woken, body_size, num_headers, num_trailers);
        }
        idle_when_empty(in_flight());
    })
}

/// Copies the answer of record `index` out of the host before its callback ends (the future or its
/// response outlives the callback), and ends the landed call's hold on it.
#[inline(never)]
fn keep_answer(
    cell: &super::executor::ExecutorCell,
    index: u32,
    woken: Option<usize>,
    body_size: usize,
    num_headers: usize,
    num_trailers: usize,
) {
    let kept = keep(body_size, num_headers, num_trailers);
    // A future that moved to another task during the poll: that task is woken for the copy.
    let moved = cell.lend(|e| match e.calls.get(index) {
        Some(record) => {
            record.answer = kept;
            let moved = record.task.filter(|&task| Some(task) != woken);
            if let Some(task) = moved {
                e.wake_task(task);
            }
            e.calls.release(index);
            Some(moved.is_some())
        }
        None => None,
    });
    if moved == Some(true) {
        run_ready();
    }
}

/// Ends the landed call's hold on record `index` after the poll (and the future's, when the poll ended
/// it). `Some(body_size)` when the answer must be kept first (the future or its response outlives the
/// callback): then the caller releases the record itself afterwards. What a release frees (a failure,
/// or nothing) drops here: an answer's drop does not use the SDK.
#[inline(always)]
fn settle(records: &mut Records, index: u32, taken: Taken) -> Option<usize> {
    if taken == Taken::Done {
        records.release_n(index, 2);
        return None;
    }
    match records.get(index) {
        Some(record) if record.holders > 1 => match record.answer {
            Answer::Live { body_size } => Some(body_size),
            _ => {
                records.release(index);
                None
            }
        },
        _ => {
            records.release(index);
            None
        }
    }
}

/// Cancels the calls in flight of deleted context `owner`: their late responses reach nobody, and a
/// task of another context awaiting one gets [`TaskError::Cancelled`].
pub(crate) fn forget_owned_by(owner: u32) {
    if IN_FLIGHT.with(Word::get) == 0 {
        return;
    }
    let woken = with_executor(|e| {
        let mut woken = false;
        let mut tasks = Vec::new();
        for index in 0..e.calls.all.len() {
            let record = &mut e.calls.all[index];
            if record.holders == 0 || record.token.is_none() || record.owner != owner {
                continue;
            }
            record.token = None;
            add_in_flight(-1);
            // In flight: its answer was awaited (nothing to drop).
            record.answer = Answer::Failed(TaskError::Cancelled.into());
            if let Some(task) = record.task {
                tasks.push(task);
            }
            e.calls.release(index as u32);
        }
        for task in tasks {
            e.wake_task(task);
            woken = true;
        }
        woken
    });
    if woken {
        run_ready();
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
    let token = match calls::send(request) {
        Ok(token) => token,
        Err(e) => {
            return HttpCall {
                state: State::Refused(e),
            }
        }
    };
    let task = current_task().ok();
    if task.is_none() {
        // The hooks that deliver the response and cancel the call (a task's spawn installed them).
        install(None);
    }
    let owner = crate::dispatcher::current_context_id();
    let index = with_records(|r| r.open(token, owner, task));
    HttpCall {
        state: State::Waiting {
            index,
            task,
            completions: COMPLETIONS.with(Word::get),
        },
    }
}

enum State {
    /// Dispatched: the record, and until the first poll, the task that made the call and the
    /// completions seen then.
    Waiting {
        index: u32,
        task: Option<usize>,
        completions: u64,
    },
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
        let index = match &mut self.state {
            State::Waiting {
                index,
                task: made_by,
                completions,
            } => {
                let index = *index;
                let delivery = delivering();
                if delivery.record == index {
                    // Its completion is polling this task: the answer is in the host's buffers.
                    self.state = State::Done;
                    if delivery.failed {
                        set_taken(Taken::Done);
                        return Poll::Ready(Err(TaskError::CallFailed.into()));
                    }
                    set_taken(Taken::Held);
                    return Poll::Ready(Ok(HttpResponse::new(index)));
                }
                // First polled by the task that made it, with no completion since: its record already
                // names this task, and nothing can have arrived.
                let fresh =
                    made_by.take() == Some(task) && *completions == COMPLETIONS.with(Word::get);
                if fresh {
                    return Poll::Pending;
                }
                index
            }
            State::Refused(e) => {
                let e = e.clone();
                self.state = State::Done;
                return Poll::Ready(Err(e));
            }
            State::Done => return Poll::Ready(Err(TaskError::AlreadyCompleted.into())),
        };
        // `None`: still awaited; `Some(Ok(()))`: the answer is kept; `Some(Err)`: the call failed.
        let outcome = with_records(|r| {
            let Some(record) = r.get(index) else {
                return Some(Err(Error::Task(TaskError::Cancelled)));
            };
            match &record.answer {
                Answer::Awaited | Answer::Live { .. } => {
                    record.task = Some(task);
                    None
                }
                Answer::Failed(e) => Some(Err(e.clone())),
                Answer::Kept { .. } => Some(Ok(())),
            }
        });
        match outcome {
            None => Poll::Pending,
            Some(Ok(())) => {
                // The future's hold on the record passes to the response.
                self.state = State::Done;
                Poll::Ready(Ok(HttpResponse::new(index)))
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
        if let State::Waiting { index, .. } = self.state {
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
        Some(value) if !value.is_empty() => {
            Ok(Some(std::str::from_utf8(value).map_err(|_| {
                Error::Malformed(crate::codec::DecodeError::NotUtf8)
            })?))
        }
        _ => Ok(None),
    }
}

/// A `:status` value as a number: three digits (RFC 9110 section 15: `status-code = 3DIGIT`); `None`
/// for anything else.
#[inline(always)]
fn parse_status(value: &[u8]) -> Option<u16> {
    let [a, b, c] = *value else {
        return None;
    };
    if !(a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit()) {
        return None;
    }
    Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
}

impl HttpResponse {
    fn new(record: u32) -> Self {
        HttpResponse {
            record,
            headers: OnceCell::new(),
            body: OnceCell::new(),
            trailers: OnceCell::new(),
        }
    }

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
    #[inline(always)]
    fn is_live(&self) -> bool {
        delivering_record() == self.record
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
        Ok(self
            .header(":status")?
            .and_then(|v| parse_status(v.as_bytes())))
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
        if self.is_live() {
            // Dropped while its completion runs: the completion ends the hold.
            set_taken(Taken::Done);
        } else {
            release(self.record);
        }
    }
}
