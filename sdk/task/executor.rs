//! The executor: tasks owned by contexts, polled only when a host callback wakes them.
//!
//! Tasks live in a slab; a waker names a slab index, made once per slot (so no allocation per poll). A wake only
//! queues the index; the queue is drained at the end of the host callback that caused it. A slot whose
//! task ended may be reused, so a stale waker can wake an unrelated task: a spurious poll, which every
//! future tolerates.

use crate::dispatcher::{self, GrpcEvent, HostEvent};
use crate::task::TaskError;
use crate::Action;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as PollContext, Poll, Wake, Waker};

type BoxedTask = Pin<Box<dyn Future<Output = Action>>>;

/// What to do when a task that did not finish in its first poll finishes with [`Action::Continue`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Nothing: a plain task.
    Nothing,
    /// Resume the paused request of the owner stream.
    Request,
    /// Resume the paused response of the owner stream.
    Response,
}

enum State {
    Vacant,
    Idle(BoxedTask),
    /// Being polled: the future is on the poller's stack.
    Running,
    /// Its owner was deleted while it was being polled: dropped when the poll returns.
    CancelledWhileRunning,
}

struct Slot {
    /// Wakes this slot's index; made when the slot is first used and kept for every task it holds.
    waker: Waker,
    owner: u32,
    state: State,
    queued: bool,
    resume: Resume,
}

struct Executor {
    slots: Vec<Slot>,
    free: Vec<usize>,
    ready: VecDeque<usize>,
    /// The task being polled, if any.
    polling: Option<usize>,
    /// Whether `run_ready` is draining the queue.
    draining: bool,
    /// Ticks seen so far, and the tasks waiting for the next one.
    ticks: u64,
    tick_waiters: Vec<usize>,
    /// Tasks waiting for a shared queue to have items.
    queue_waiters: Vec<(u32, usize)>,
}

thread_local! {
    static EXECUTOR: RefCell<Executor> = const { RefCell::new(Executor::new()) };
    /// The gRPC part of the hook, installed by the first gRPC call or stream of the async layer, so a
    /// plugin that awaits only HTTP calls, queues or ticks does not link it.
    static GRPC: Cell<Option<&'static GrpcHooks>> = const { Cell::new(None) };
}

/// What the hook asks of the gRPC futures' module.
pub(crate) struct GrpcHooks {
    /// Takes an event for a call a future waits on; `false` for other tokens.
    pub deliver: fn(token: u32, event: GrpcEvent) -> bool,
    /// Cancels and forgets the calls of a deleted context.
    pub forget_owned_by: fn(owner: u32),
    /// Forgets every call.
    pub forget_all: fn(),
}

/// Routes host events to the async layer; with `grpc`, gRPC events too.
pub(crate) fn install(grpc: Option<&'static GrpcHooks>) {
    dispatcher::install_task_hook(on_host_event);
    if grpc.is_some() {
        GRPC.with(|g| g.set(grpc));
    }
}

fn grpc_hooks() -> Option<&'static GrpcHooks> {
    GRPC.with(Cell::get)
}

fn with_executor<T>(f: impl FnOnce(&mut Executor) -> T) -> T {
    EXECUTOR.with(|e| f(&mut e.borrow_mut()))
}

impl Executor {
    const fn new() -> Self {
        Executor {
            slots: Vec::new(),
            free: Vec::new(),
            ready: VecDeque::new(),
            polling: None,
            draining: false,
            ticks: 0,
            tick_waiters: Vec::new(),
            queue_waiters: Vec::new(),
        }
    }

    fn insert(&mut self, owner: u32, future: BoxedTask) -> usize {
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index];
                slot.owner = owner;
                slot.state = State::Idle(future);
                slot.queued = false;
                slot.resume = Resume::Nothing;
                index
            }
            None => {
                let index = self.slots.len();
                self.slots.push(Slot {
                    waker: Waker::from(Arc::new(SlotWaker(index))),
                    owner,
                    state: State::Idle(future),
                    queued: false,
                    resume: Resume::Nothing,
                });
                index
            }
        }
    }

    fn vacate(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index) {
            if !matches!(slot.state, State::Vacant) {
                slot.state = State::Vacant;
                self.free.push(index);
            }
        }
    }

    fn wake(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index) {
            if !slot.queued && !matches!(slot.state, State::Vacant) {
                slot.queued = true;
                self.ready.push_back(index);
            }
        }
    }
}

// ---- wakers: one per slot, naming its index ----

/// Wakes the task in slot `.0` (the executor of the thread that wakes it).
struct SlotWaker(usize);

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        wake_index(self.0);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        wake_index(self.0);
    }
}

fn wake_index(index: usize) {
    // A waker used on another thread, or while the executor is busy being torn down, wakes nothing.
    let _ = EXECUTOR.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            e.wake(index);
        }
    });
}

// ---- what the futures ask ----

/// The task being polled; [`TaskError::NotInTask`] when an SDK future is polled by anything else.
pub(crate) fn current_task() -> Result<usize, TaskError> {
    with_executor(|e| e.polling).ok_or(TaskError::NotInTask)
}

/// Makes task `index` wait for the next tick; returns the ticks seen so far.
pub(crate) fn wait_for_tick(index: usize) -> u64 {
    with_executor(|e| {
        if !e.tick_waiters.contains(&index) {
            e.tick_waiters.push(index);
        }
        e.ticks
    })
}

/// Ticks seen so far.
pub(crate) fn ticks() -> u64 {
    with_executor(|e| e.ticks)
}

/// Makes task `index` wait for queue `queue_id` to be ready.
pub(crate) fn wait_for_queue(queue_id: u32, index: usize) {
    with_executor(|e| {
        if !e.queue_waiters.contains(&(queue_id, index)) {
            e.queue_waiters.push((queue_id, index));
        }
    });
}

// ---- spawning and polling ----

/// Adds a task owned by the current context and polls it once (or queues it, when called from inside
/// another task). `Some(action)` when it finished in that first poll.
pub(crate) fn spawn(future: BoxedTask, resume: Resume) -> Result<Option<Action>, TaskError> {
    let owner = dispatcher::current_context_id();
    if owner == 0 {
        return Err(TaskError::NoContext);
    }
    let inside_task = with_executor(|e| e.polling.is_some());
    if inside_task && resume != Resume::Nothing {
        return Err(TaskError::Reentrant);
    }
    install(None);
    let index = with_executor(|e| e.insert(owner, future));
    if inside_task {
        with_executor(|e| e.wake(index));
        return Ok(None);
    }
    // Woken during its own first poll: polled again before the callback returns, so a stream task that
    // finishes now answers through the callback's result, never by resuming a stream not yet paused.
    let mut finished = poll_task(index);
    while finished.is_none() && with_executor(|e| e.slots.get(index).is_some_and(|s| s.queued)) {
        with_executor(|e| e.ready.retain(|&i| i != index));
        finished = poll_task(index);
    }
    if finished.is_none() {
        with_executor(|e| {
            if let Some(slot) = e.slots.get_mut(index) {
                slot.resume = resume;
            }
        });
    }
    run_ready();
    Ok(finished)
}

/// Restores the executor when a poll ends, also by a panic (natively, a failing test): the task that
/// panicked is forgotten.
struct PollGuard {
    index: usize,
    previous: Option<usize>,
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        let _ = EXECUTOR.try_with(|e| {
            if let Ok(mut e) = e.try_borrow_mut() {
                e.polling = self.previous;
                if std::thread::panicking() {
                    e.vacate(self.index);
                }
            }
        });
    }
}

/// Polls task `index` as its owner context; `Some(action)` when it finished.
fn poll_task(index: usize) -> Option<Action> {
    let (mut future, owner, previous) = with_executor(|e| {
        let slot = e.slots.get_mut(index)?;
        slot.queued = false;
        match std::mem::replace(&mut slot.state, State::Running) {
            State::Idle(future) => {
                let owner = slot.owner;
                Some((future, owner, e.polling.replace(index)))
            }
            other => {
                slot.state = other;
                None
            }
        }
    })?;
    let guard = PollGuard { index, previous };
    let caller = dispatcher::current_context_id();
    let _current = dispatcher::enter_context(owner);
    // A task woken from another context's callback (a tick, a queue) acts on its own context.
    let switched = caller != owner && crate::context::set_effective_context(owner).is_ok();
    let waker = with_executor(|e| e.slots[index].waker.clone());
    let result = future.as_mut().poll(&mut PollContext::from_waker(&waker));
    let (finished, resume) = with_executor(|e| {
        let slot = &mut e.slots[index];
        let cancelled = matches!(slot.state, State::CancelledWhileRunning);
        let resume = slot.resume;
        let finished = match result {
            Poll::Ready(action) => Some(action),
            Poll::Pending if cancelled => None,
            Poll::Pending => {
                slot.state = State::Idle(future);
                return (None, Resume::Nothing);
            }
        };
        e.vacate(index);
        (finished, if cancelled { Resume::Nothing } else { resume })
    });
    if finished == Some(Action::Continue) {
        resume_stream(resume);
    }
    if switched {
        let _ = crate::context::set_effective_context(caller);
    }
    drop(guard);
    finished
}

fn resume_stream(resume: Resume) {
    let resumed = match resume {
        Resume::Nothing => return,
        Resume::Request => crate::http::resume_http_request(),
        Resume::Response => crate::http::resume_http_response(),
    };
    if let Err(e) = resumed {
        crate::logging::error(&format!(
            "proxywasm: a finished task cannot resume its stream: {e}"
        ));
    }
}

/// Polls every woken task until none is left. Called at the end of each host callback that can wake
/// tasks; a call made while tasks are being polled returns at once (the outer drain continues).
pub(crate) fn run_ready() {
    let start = with_executor(|e| {
        if e.draining || e.polling.is_some() {
            false
        } else {
            e.draining = true;
            true
        }
    });
    if !start {
        return;
    }
    struct Drained;
    impl Drop for Drained {
        fn drop(&mut self) {
            let _ = EXECUTOR.try_with(|e| {
                if let Ok(mut e) = e.try_borrow_mut() {
                    e.draining = false;
                }
            });
        }
    }
    let _drained = Drained;
    while let Some(index) = with_executor(|e| e.ready.pop_front()) {
        poll_task(index);
    }
}

/// Drops every task of context `owner` (outside the executor's borrow: a future's `Drop` may use the
/// SDK).
fn cancel_owned_by(owner: u32) {
    let dropped: Vec<BoxedTask> = with_executor(|e| {
        let mut dropped = Vec::new();
        for index in 0..e.slots.len() {
            let slot = &mut e.slots[index];
            if slot.owner != owner {
                continue;
            }
            match std::mem::replace(&mut slot.state, State::Vacant) {
                State::Idle(future) => {
                    dropped.push(future);
                    e.free.push(index);
                }
                State::Running => slot.state = State::CancelledWhileRunning,
                other => slot.state = other,
            }
        }
        dropped
    });
    drop(dropped);
}

/// The dispatcher's hook, installed by the first spawn.
fn on_host_event(event: HostEvent) -> bool {
    match event {
        HostEvent::ContextDeleted(id) => {
            if let Some(grpc) = grpc_hooks() {
                (grpc.forget_owned_by)(id);
            }
            cancel_owned_by(id);
            false
        }
        HostEvent::Tick => {
            with_executor(|e| {
                e.ticks += 1;
                for index in std::mem::take(&mut e.tick_waiters) {
                    e.wake(index);
                }
            });
            run_ready();
            false
        }
        HostEvent::QueueReady(queue_id) => {
            with_executor(|e| {
                let mut waiters = std::mem::take(&mut e.queue_waiters);
                waiters.retain(|&(queue, index)| {
                    if queue == queue_id {
                        e.wake(index);
                    }
                    queue != queue_id
                });
                e.queue_waiters = waiters;
            });
            run_ready();
            false
        }
        HostEvent::Grpc { token, event } => {
            let taken = grpc_hooks().is_some_and(|grpc| (grpc.deliver)(token, event));
            if taken {
                run_ready();
            }
            taken
        }
        HostEvent::Reset => {
            let old = with_executor(|e| std::mem::replace(e, Executor::new()));
            if let Some(grpc) = grpc_hooks() {
                (grpc.forget_all)();
            }
            drop(old);
            false
        }
    }
}

/// How many tasks are alive (for leak checks in tests).
pub fn live_tasks() -> usize {
    with_executor(|e| {
        e.slots
            .iter()
            .filter(|s| !matches!(s.state, State::Vacant))
            .count()
    })
}
