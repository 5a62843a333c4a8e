//! The executor: tasks owned by contexts, polled only when a host callback wakes them.
//!
//! Tasks live in a slab; a waker names a slab index, made once per slot (so no allocation per poll). A wake only
//! queues the index; the queue is drained at the end of the host callback that caused it. A slot whose
//! task ended may be reused, so a stale waker can wake an unrelated task: a spurious poll, which every
//! future tolerates.

use crate::dispatcher::{self, GrpcEvent, HostEvent, TaskHooks};
use crate::task::http_call::Records;
use crate::task::TaskError;
use crate::word::{words, Word};
use crate::Action;
use std::cell::Cell;
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
    /// Wakes this slot's index; made when the slot is first used and kept for every task it holds
    /// (out of the slot while its task is polled).
    waker: Option<Waker>,
    owner: u32,
    state: State,
    queued: bool,
    resume: Resume,
    /// While vacant: the next vacant slot ([`NO_SLOT`]: none).
    next_free: u32,
}

/// The end of the vacant slots' chain.
const NO_SLOT: u32 = u32::MAX;

pub(crate) struct Executor {
    slots: Vec<Slot>,
    /// The first vacant slot ([`NO_SLOT`]: none); each names the next.
    free: u32,
    ready: VecDeque<usize>,
    /// Whether `run_ready` is draining the queue.
    draining: bool,
    /// The tasks waiting for the next tick.
    tick_waiters: Vec<usize>,
    /// Tasks waiting for a shared queue to have items.
    queue_waiters: Vec<(u32, usize)>,
    /// The HTTP calls futures wait on (here, so a completion reaches its call and task in one borrow).
    pub(crate) calls: Records,
}

/// No task is being polled.
const NO_TASK: usize = usize::MAX;

words! {
    /// The task being polled ([`NO_TASK`]: none). Every SDK future asks, so it is a word of its own.
    static POLLING = NO_TASK as u64;
    /// Whether the executor was made (1) or not yet (0).
    static MADE = 0;
    /// Whether the dispatcher has this layer's hooks (1) or not (0).
    static HOOKED = 0;
    /// Whether [`GRPC`] holds the gRPC hooks (1), so a plugin without gRPC futures reads no
    /// thread-local at a deletion.
    static GRPC_ON = 0;
    /// Ticks seen so far (a word, not a field: the executor stays 4-byte aligned, so making it adds no
    /// new alignment to the allocation code a callback plugin shares).
    static TICKS = 0;
    /// Whether a task ever waited for a tick (1): then the hooks stay, so every tick is counted.
    static TICK_USED = 0;
    /// How many slots hold a task: a context's deletion looks no further when none does. A word: the
    /// dispatcher no longer reads it (it calls in only while the hooks are installed), so callback
    /// plugins do not link it.
    static LIVE = 0;
}

thread_local! {
    static EXECUTOR: ExecutorCell = const { ExecutorCell::new() };
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

/// The async layer's hooks.
static HOOKS: TaskHooks = TaskHooks {
    event: on_host_event,
    http_call_response: super::http_call::deliver,
};

/// Routes host events to the async layer (it is about to hold a task or a call); with `grpc`, gRPC
/// events too. The hooks are removed again when the layer holds nothing an event could reach
/// ([`idle_when_empty`]), so a context's deletion then costs no call into it.
#[inline(always)]
pub(crate) fn install(grpc: Option<&'static GrpcHooks>) {
    if HOOKED.with(Word::get) == 0 {
        HOOKED.with(|h| h.set(1));
        if MADE.with(Word::get) == 0 {
            MADE.with(|m| m.set(1));
            EXECUTOR.with(ExecutorCell::make);
        }
        dispatcher::install_task_hooks(|| &HOOKS);
    }
    if grpc.is_some() {
        GRPC.with(|g| g.set(grpc));
        GRPC_ON.with(|g| g.set(1));
    }
}

#[inline(always)]
fn grpc_hooks() -> Option<&'static GrpcHooks> {
    if GRPC_ON.with(Word::get) == 0 {
        return None;
    }
    GRPC.with(Cell::get)
}

#[inline(always)]
pub(crate) fn with_executor<T>(f: impl FnOnce(&mut Executor) -> T) -> T {
    EXECUTOR.with(|e| e.lend(f))
}

/// Runs `f` with the executor's cell: one thread-local access for a whole poll (borrow, poll with no
/// borrow held, borrow again), so what a poll carries stays in locals.
#[inline(always)]
pub(crate) fn with_cell<T>(f: impl FnOnce(&ExecutorCell) -> T) -> T {
    EXECUTOR.with(f)
}

/// Where the executor lives: it is lent out for each access and put back after (in a wasm plugin a
/// take and a put cost less than a `RefCell`'s borrow, an out-of-line call), and is absent while lent,
/// so an access nested in another finds it busy. Made when the async layer is first used.
pub(crate) struct ExecutorCell(Cell<Option<Box<Executor>>>);

impl ExecutorCell {
    const fn new() -> Self {
        ExecutorCell(Cell::new(None))
    }

    /// Makes the executor (once: the async layer's first use).
    fn make(&self) {
        let previous = self.0.replace(Some(Box::new(Executor::new())));
        drop(previous);
    }

    /// Runs `f` with the executor lent out. Not reached while it is lent (no access nests in
    /// another): that panics, as a `RefCell` would.
    #[inline(always)]
    pub(crate) fn lend<T>(&self, f: impl FnOnce(&mut Executor) -> T) -> T {
        let Some(mut executor) = self.0.take() else {
            executor_busy()
        };
        let answer = f(&mut executor);
        // The cell stays empty while lent (a nested access finds it empty and puts nothing back):
        // what is replaced is nothing, forgotten with no drop code.
        std::mem::forget(self.0.replace(Some(executor)));
        answer
    }

    /// [`ExecutorCell::lend`], or `None` while the executor is lent (or before the async layer's
    /// first use).
    #[inline(always)]
    pub(crate) fn try_lend<T>(&self, f: impl FnOnce(&mut Executor) -> T) -> Option<T> {
        let mut executor = self.0.take()?;
        let answer = f(&mut executor);
        std::mem::forget(self.0.replace(Some(executor)));
        Some(answer)
    }
}

/// Not reached: no access to the executor nests in another, and every path reaches it after
/// [`install`].
#[cold]
#[inline(never)]
fn executor_busy() -> ! {
    panic!("proxywasm: the async executor is already in use")
}

impl Executor {
    const fn new() -> Self {
        Executor {
            slots: Vec::new(),
            free: NO_SLOT,
            ready: VecDeque::new(),
            draining: false,
            tick_waiters: Vec::new(),
            queue_waiters: Vec::new(),
            calls: Records::new(),
        }
    }

    fn insert(&mut self, owner: u32, future: BoxedTask, resume: Resume) -> usize {
        LIVE.with(|l| l.set(l.get() + 1));
        let index = self.free as usize;
        match self.slots.get_mut(index) {
            Some(slot) => {
                self.free = slot.next_free;
                if slot.waker.is_none() {
                    // A poll that panicked (natively) left the slot without its waker.
                    slot.waker = Some(Waker::from(Arc::new(SlotWaker(index))));
                }
                slot.owner = owner;
                set_state(slot, State::Idle(future));
                slot.queued = false;
                slot.resume = resume;
                index
            }
            None => {
                let index = self.slots.len();
                self.slots.push(Slot {
                    waker: Some(Waker::from(Arc::new(SlotWaker(index)))),
                    owner,
                    state: State::Idle(future),
                    queued: false,
                    resume,
                    next_free: NO_SLOT,
                });
                index
            }
        }
    }

    /// Adds a task owned by `owner` that is polled right away: its slot says it is running, and its
    /// waker is handed out with its index (the future stays with the caller for that poll).
    #[inline(always)]
    fn insert_running(&mut self, owner: u32, resume: Resume) -> (usize, Waker) {
        LIVE.with(|l| l.set(l.get() + 1));
        let mut index = self.free as usize;
        let waker = match self.slots.get_mut(index) {
            Some(slot) => {
                self.free = slot.next_free;
                slot.owner = owner;
                set_state(slot, State::Running);
                slot.queued = false;
                slot.resume = resume;
                match slot.waker.take() {
                    Some(waker) => waker,
                    // A poll that panicked (natively) left the slot without its waker.
                    None => Waker::from(Arc::new(SlotWaker(index))),
                }
            }
            None => {
                index = self.slots.len();
                self.slots.push(Slot {
                    waker: None,
                    owner,
                    state: State::Running,
                    queued: false,
                    resume,
                    next_free: NO_SLOT,
                });
                Waker::from(Arc::new(SlotWaker(index)))
            }
        };
        POLLING.with(|p| p.set(index as u64));
        (index, waker)
    }

    #[inline(always)]
    fn vacate(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index) {
            if !matches!(slot.state, State::Vacant) {
                set_state(slot, State::Vacant);
                slot.next_free = self.free;
                self.free = index as u32;
                LIVE.with(|l| l.set(l.get() - 1));
            }
        }
    }

    #[inline(always)]
    fn wake(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index) {
            if !slot.queued && !matches!(slot.state, State::Vacant) {
                slot.queued = true;
                self.ready.push_back(index);
            }
        }
    }
}

/// Sets a slot's state; an old state without a future (the common case) is replaced with no drop code
/// run (an idle one's future drops here: not reached, every caller takes it out first).
#[inline(always)]
fn set_state(slot: &mut Slot, state: State) {
    match std::mem::replace(&mut slot.state, state) {
        State::Idle(future) => drop(future),
        other => std::mem::forget(other),
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
    let _ = EXECUTOR.try_with(|e| e.try_lend(|e| e.wake(index)));
}

// ---- what the futures ask ----

/// The task being polled; [`TaskError::NotInTask`] when an SDK future is polled by anything else.
#[inline(always)]
pub(crate) fn current_task() -> Result<usize, TaskError> {
    match POLLING.with(Word::get) as usize {
        NO_TASK => Err(TaskError::NotInTask),
        task => Ok(task),
    }
}

/// Makes task `index` wait for the next tick; returns the ticks seen so far.
pub(crate) fn wait_for_tick(index: usize) -> u64 {
    TICK_USED.with(|t| t.set(1));
    with_executor(|e| {
        if !e.tick_waiters.contains(&index) {
            e.tick_waiters.push(index);
        }
        TICKS.with(Word::get)
    })
}

/// Ticks seen so far.
pub(crate) fn ticks() -> u64 {
    TICKS.with(Word::get)
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
    install(None);
    if current_task().is_ok() {
        if resume != Resume::Nothing {
            return Err(TaskError::Reentrant);
        }
        with_executor(|e| {
            let index = e.insert(owner, future, resume);
            e.wake(index);
        });
        return Ok(None);
    }
    with_cell(|cell| {
        let (index, mut taken) = {
            let (index, waker) = cell.lend(|e| e.insert_running(owner, resume));
            let task = Taken {
                future,
                waker,
                owner,
            };
            (index, Some(task))
        };
        // Woken during its own first poll: polled again before the callback returns, so a stream task
        // that finishes now answers through the callback's result, never by resuming a stream not yet
        // paused.
        loop {
            let Some(mut task) = taken else {
                return Ok(None);
            };
            // Spawned by its owner's callback, which runs.
            let result = task.poll_as_current(index);
            let (polled, drain) = cell.lend(|e| e.finish(index, task, result));
            match polled {
                Polled::Finished(action, _, future) => {
                    drop(future);
                    if drain {
                        run_ready();
                    }
                    return Ok(Some(action));
                }
                Polled::Pending { woken: true } => {
                    taken = cell.lend(|e| {
                        e.ready.retain(|&i| i != index);
                        e.take(index)
                    });
                }
                Polled::Pending { woken: false } | Polled::Gone(_) => {
                    after_poll(polled, drain);
                    return Ok(None);
                }
            }
        }
    })
}

/// What one poll of a task came to.
pub(crate) enum Polled {
    /// It finished with this action (and what its stream wants then: nothing when it was cancelled);
    /// the future is to be dropped outside the executor's borrow (its `Drop` may use the SDK).
    Finished(Action, Resume, BoxedTask),
    /// It waits; `woken` when it was woken during the poll (it is queued).
    Pending { woken: bool },
    /// Cancelled while it was polled: its future, to drop.
    Gone(Option<BoxedTask>),
}

/// A task out of its slot for a poll: its future and its slot's waker.
pub(crate) struct Taken {
    future: BoxedTask,
    waker: Waker,
    owner: u32,
}

/// Armed while a task is polled and forgotten when the poll returns: dropped only when the poll panics
/// (natively, a failing test; on wasm a panic aborts), it forgets the task and restores the executor.
struct OnUnwind(usize);

impl Drop for OnUnwind {
    fn drop(&mut self) {
        POLLING.with(|p| p.set(NO_TASK as u64));
        let _ = EXECUTOR.try_with(|e| {
            e.try_lend(|e| {
                e.draining = false;
                e.vacate(self.0);
            })
        });
    }
}

impl Taken {
    /// Polls the task (in slot `index`) as its owner context (no executor borrow is held meanwhile).
    #[inline(always)]
    pub(crate) fn poll(&mut self, index: usize) -> Poll<Action> {
        let on_unwind = OnUnwind(index);
        let caller = dispatcher::current_context_id();
        let owner = self.owner;
        let result = if caller == owner {
            self.future
                .as_mut()
                .poll(&mut PollContext::from_waker(&self.waker))
        } else {
            self.poll_as_owner(caller)
        };
        std::mem::forget(on_unwind);
        result
    }

    /// Polls the task (in slot `index`) in a callback of its owner: the current and effective context
    /// are the owner already (a spawn, the owner's call completing).
    #[inline(always)]
    pub(crate) fn poll_as_current(&mut self, index: usize) -> Poll<Action> {
        let on_unwind = OnUnwind(index);
        let result = self
            .future
            .as_mut()
            .poll(&mut PollContext::from_waker(&self.waker));
        std::mem::forget(on_unwind);
        result
    }

    /// A task woken from another context's callback (a tick, a queue) acts on its own context.
    #[inline(never)]
    fn poll_as_owner(&mut self, caller: u32) -> Poll<Action> {
        let _current = dispatcher::enter_context(self.owner);
        let switched = crate::context::set_effective_context(self.owner).is_ok();
        let result = self
            .future
            .as_mut()
            .poll(&mut PollContext::from_waker(&self.waker));
        if switched {
            let _ = crate::context::set_effective_context(caller);
        }
        result
    }
}

impl Executor {
    /// Takes task `index` out of its slot for a poll and makes it the task being polled (no task is
    /// being polled: every caller checks); `None` when there is no idle task there (finished,
    /// cancelled, or being polled).
    #[inline(always)]
    pub(crate) fn take(&mut self, index: usize) -> Option<Taken> {
        let slot = self.slots.get_mut(index)?;
        if !matches!(slot.state, State::Idle(_)) {
            return None;
        }
        // The slot's waker leaves the slot for the poll, so polling costs no reference count.
        let waker = slot.waker.take()?;
        let State::Idle(future) = std::mem::replace(&mut slot.state, State::Running) else {
            return None;
        };
        slot.queued = false;
        POLLING.with(|p| p.set(index as u64));
        Some(Taken {
            future,
            waker,
            owner: slot.owner,
        })
    }

    /// Puts a polled task back (or frees its slot when it finished or was cancelled meanwhile); with
    /// it, whether woken tasks wait for [`run_ready`].
    #[inline(always)]
    pub(crate) fn finish(
        &mut self,
        index: usize,
        task: Taken,
        result: Poll<Action>,
    ) -> (Polled, bool) {
        POLLING.with(|p| p.set(NO_TASK as u64));
        let drain = !self.draining && !self.ready.is_empty();
        let Some(slot) = self.slots.get_mut(index) else {
            return (Polled::Gone(Some(task.future)), drain);
        };
        // What is replaced is nothing: the waker was out for the poll.
        std::mem::forget(slot.waker.replace(task.waker));
        let cancelled = matches!(slot.state, State::CancelledWhileRunning);
        let outcome = match result {
            Poll::Pending if !cancelled => {
                set_state(slot, State::Idle(task.future));
                return (Polled::Pending { woken: slot.queued }, drain);
            }
            Poll::Pending => Polled::Gone(Some(task.future)),
            Poll::Ready(action) => {
                let resume = if cancelled {
                    Resume::Nothing
                } else {
                    slot.resume
                };
                Polled::Finished(action, resume, task.future)
            }
        };
        // The slot is vacated: running or cancelled, it holds no future (nothing to drop).
        std::mem::forget(std::mem::replace(&mut slot.state, State::Vacant));
        slot.next_free = self.free;
        self.free = index as u32;
        LIVE.with(|l| l.set(l.get() - 1));
        (outcome, drain)
    }

    /// Queues task `index` for [`run_ready`].
    pub(crate) fn wake_task(&mut self, index: usize) {
        self.wake(index);
    }

    /// Whether task `index` may be polled now, from the host callback that completed what it waits for;
    /// when a task is already being polled, it is queued instead (the outer poll's drain runs it).
    #[inline(always)]
    pub(crate) fn take_now(&mut self, index: usize) -> Option<Taken> {
        if current_task().is_ok() || self.draining {
            self.wake(index);
            None
        } else {
            self.take(index)
        }
    }
}

/// After a poll: drops a finished future and resumes its stream when it finished with
/// [`Action::Continue`], then polls the tasks that poll woke.
#[inline(always)]
pub(crate) fn after_poll(polled: Polled, drain: bool) {
    match polled {
        Polled::Finished(action, resume, future) => {
            // Dropped here, at the end of its scope.
            let _future = future;
            if action == Action::Continue {
                resume_stream(resume);
            }
        }
        Polled::Gone(future) => {
            let _future = future;
        }
        Polled::Pending { .. } => {}
    }
    if drain {
        run_ready();
    }
}

/// Polls task `index` and resumes its stream when it finished with [`Action::Continue`]; returns
/// whether woken tasks wait for [`run_ready`].
fn poll_and_resume(index: usize) -> bool {
    let Some(mut task) = with_executor(|e| e.take(index)) else {
        return false;
    };
    let result = task.poll(index);
    let (polled, drain) = with_executor(|e| e.finish(index, task, result));
    after_poll(polled, false);
    drain
}

#[inline(always)]
fn resume_stream(resume: Resume) {
    let resumed = match resume {
        Resume::Nothing => return,
        Resume::Request => crate::http::resume_http_request(),
        Resume::Response => crate::http::resume_http_response(),
    };
    if let Err(e) = resumed {
        cannot_resume(e);
    }
}

#[cold]
#[inline(never)]
fn cannot_resume(e: crate::error::Error) {
    crate::logging::error(&format!(
        "proxywasm: a finished task cannot resume its stream: {e}"
    ));
}

/// Polls every woken task until none is left. Called at the end of each host callback that can wake
/// tasks; a call made while tasks are being polled returns at once (the outer drain continues).
pub(crate) fn run_ready() {
    if current_task().is_ok() {
        return;
    }
    let start = with_executor(|e| {
        if e.draining || e.ready.is_empty() {
            false
        } else {
            e.draining = true;
            true
        }
    });
    if !start {
        return;
    }
    while let Some(index) = with_executor(|e| e.ready.pop_front()) {
        poll_and_resume(index);
    }
    with_executor(|e| e.draining = false);
}

/// Drops every task of context `owner` (outside the executor's borrow: a future's `Drop` may use the
/// SDK).
fn cancel_owned_by(owner: u32) {
    if LIVE.with(Word::get) == 0 {
        return;
    }
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
                    slot.next_free = e.free;
                    e.free = index as u32;
                    LIVE.with(|l| l.set(l.get() - 1));
                }
                State::Running => slot.state = State::CancelledWhileRunning,
                other => slot.state = other,
            }
        }
        dropped
    });
    drop(dropped);
}

/// When the async layer holds no task, no call in flight and no gRPC hooks, and no task ever waited for
/// a tick (a tick future kept past its task counts on every tick), no host event can reach anything in
/// it: the dispatcher stops calling in (the next task or call installs the hooks again, [`install`]).
#[inline(always)]
pub(crate) fn idle_when_empty(in_flight: u64) {
    if GRPC_ON.with(Word::get) == 0
        && TICK_USED.with(Word::get) == 0
        && in_flight == 0
        && LIVE.with(Word::get) == 0
    {
        HOOKED.with(|h| h.set(0));
        dispatcher::remove_task_hooks();
    }
}

/// The dispatcher's hook for the rarer events.
fn on_host_event(event: HostEvent) -> bool {
    match event {
        HostEvent::ContextDeleted(id) => {
            if let Some(grpc) = grpc_hooks() {
                (grpc.forget_owned_by)(id);
            }
            // Its tasks first, so forgetting its calls wakes only the tasks of other contexts.
            cancel_owned_by(id);
            super::http_call::forget_owned_by(id);
            idle_when_empty(super::http_call::in_flight());
            false
        }
        HostEvent::Tick => {
            with_executor(|e| {
                TICKS.with(|t| t.set(t.get() + 1));
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
            POLLING.with(|p| p.set(NO_TASK as u64));
            TICKS.with(|t| t.set(0));
            LIVE.with(|l| l.set(0));
            super::http_call::forget_all();
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
    LIVE.with(Word::get) as usize
}
