//! Routes every callback from the host to the right user context.
//!
//! The registry is thread-local (a wasm VM has one thread; natively, each test thread has its own
//! plugin). Contexts are owned by value: the two most recently used ones sit in two thread-local
//! slots (`Slots`: a host calls the same stream several times in a row, and its root for the next
//! stream's creation or a tick), every other one in a small open-addressing table keyed by the host's
//! context id. Every id lives in exactly one of these places. A callback moves its context out of its
//! place (leaving a running mark), calls the one method the callback names, and moves it back, so the
//! callback may call any SDK function meanwhile, and nothing is borrowed or reference-counted. The
//! common path touches only the last slot; a context found elsewhere is first moved into it (the last
//! one moves to the previous slot, the previous one to the table). The per-stream callbacks share one
//! body (`frequent`), the seldom ones another (`rare`), so each export is a few instructions. What
//! this leaves to handle explicitly (out of line, off the common path):
//! - a callback for a context whose own callback is still running (a re-entrant call) finds the
//!   running mark and is ignored (`Continue` / `true`), as is a callback for an unknown id;
//! - a context the host deletes during its own callback is forgotten at once (its id is free for a new
//!   context): the callback finds no running mark to come back to, and the context is dropped when
//!   the callback returns;
//! - if user code panics (natively: a failing test; on wasm a panic aborts the VM), the context being
//!   called is dropped by the unwinding, its running mark is removed so later callbacks for that id
//!   are ignored as for an unknown context, and the registry stays consistent.

use crate::abi::{Action, BoolResult, Callbacks, PeerType, UnknownEnumValue};
use crate::traits::{Context, HttpContext, RootContext, TcpContext};
use std::cell::{Cell, RefCell};

mod id_table;

use id_table::IdTable;

/// Creates the root context of each plugin configuration.
pub type RootContextFactory = fn(context_id: u32) -> Box<dyn RootContext>;

/// A closure that receives an HTTP call's response: header count, body size, trailer count.
pub type HttpCallback = Box<dyn FnOnce(usize, usize, usize)>;

enum Kind {
    Root(Box<dyn RootContext>),
    Http(Box<dyn HttpContext>),
    Tcp(Box<dyn TcpContext>),
}

/// The callbacks every context kind has.
#[inline(always)]
fn context(kind: &mut Kind) -> &mut dyn Context {
    match kind {
        Kind::Root(c) => &mut **c,
        Kind::Http(c) => &mut **c,
        Kind::Tcp(c) => &mut **c,
    }
}

/// What a slot holds (the id is beside it).
enum Held {
    /// A context no callback is running for.
    Idle(Kind),
    /// The context is out with its running callback, which puts it back here.
    Running,
    /// Nothing. In the last slot, its id is then no live context's (a callback for it needs no
    /// search).
    Free,
}

impl Held {
    fn is_free(&self) -> bool {
        matches!(self, Held::Free)
    }
}

/// What a slot holds, without its context.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Running,
    Free,
}

/// The state of `slot` (it is left as it was).
#[inline(always)]
fn state(slot: &Cell<Held>) -> State {
    let held = slot.replace(Held::Free);
    let state = match &held {
        Held::Idle(_) => State::Idle,
        Held::Running => State::Running,
        Held::Free => State::Free,
    };
    // What comes back is the `Free` just stored (`forget`: no drop code for it).
    std::mem::forget(slot.replace(held));
    state
}

/// Whether `slot` holds nothing (it is left as it was).
#[inline(always)]
fn is_free(slot: &Cell<Held>) -> bool {
    state(slot) == State::Free
}

/// A pending HTTP call, gRPC call or gRPC stream: the context that opened it, and for an HTTP call
/// the closure that takes the response, if any.
struct PendingCall {
    context_id: u32,
    callback: Option<HttpCallback>,
}

/// What the id tables hold. One type for the context table and the call tables, so the table's code
/// is linked once.
enum Stored {
    /// An idle context (context table).
    Idle(Kind),
    /// A context whose callback runs (context table).
    Running,
    /// A pending call (call tables).
    Call(PendingCall),
}

impl Stored {
    /// The pending call, for a value of a call table.
    fn into_call(self) -> Option<PendingCall> {
        match self {
            Stored::Call(call) => Some(call),
            _ => None,
        }
    }

    /// The context that opened the call, for a value of a call table.
    fn owner(&self) -> Option<u32> {
        match self {
            Stored::Call(call) => Some(call.context_id),
            _ => None,
        }
    }
}

struct Registry {
    factory: Option<RootContextFactory>,
    /// Context id -> context, for the live contexts not in a slot.
    ids: IdTable<Stored>,
    /// Call token -> the call's owner (and closure).
    http_calls: IdTable<Stored>,
    /// Call token -> the gRPC call or stream (no closure).
    grpc_calls: IdTable<Stored>,
}

impl Registry {
    const fn new(factory: Option<RootContextFactory>) -> Self {
        Registry {
            factory,
            ids: IdTable::new(),
            http_calls: IdTable::new(),
            grpc_calls: IdTable::new(),
        }
    }

    /// Clears [`CALLS_REGISTERED`] once no call is pending, so deletions stop looking for calls.
    fn note_calls_left(&self) {
        if self.http_calls.is_empty() && self.grpc_calls.is_empty() {
            set_calls_registered(false);
        }
    }
}

/// The two remembered contexts, each beside its id.
struct Slots {
    /// The context most recently created or called (a host calls the same context several times in a
    /// row, so most callbacks find their context here).
    last: Cell<Held>,
    last_id: Cell<u32>,
    /// The context `last` held before (typically the root, while the last is a stream): a root's tick
    /// finds it here, and it becomes the last again when the last is deleted (for the next stream's
    /// creation).
    previous: Cell<Held>,
    /// Meaningless while `previous` is free.
    previous_id: Cell<u32>,
    /// A context on its way back from its callback to a slot other than `last` (free otherwise).
    handover: Cell<Held>,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = const { RefCell::new(Registry::new(None)) };
    static SLOTS: Slots = const {
        Slots {
            last: Cell::new(Held::Free),
            last_id: Cell::new(0),
            previous: Cell::new(Held::Free),
            previous_id: Cell::new(0),
            handover: Cell::new(Held::Free),
        }
    };
    /// The context whose callback is running; outside the registry so entering and leaving a callback
    /// needs no registry borrow.
    static CURRENT: Cell<u32> = const { Cell::new(0) };
}

crate::word::words! {
    /// Whether a call may be pending (1: set when one is registered, cleared when none is left): a
    /// deletion then looks for the deleted context's calls, and a response looks in the registry (with
    /// none, it can only be the async layer's). A word: read in place on wasm, not through a getter.
    static CALLS_REGISTERED = 0;
}

/// Whether a call may be pending ([`CALLS_REGISTERED`]).
#[inline(always)]
fn calls_registered() -> bool {
    CALLS_REGISTERED.with(crate::word::Word::get) != 0
}

/// Sets [`CALLS_REGISTERED`].
#[inline(always)]
fn set_calls_registered(registered: bool) {
    CALLS_REGISTERED.with(|w| w.set(u64::from(registered)));
}

impl Slots {
    /// Takes context `id` out for its callback, leaving its running mark; `None` for an unknown id or
    /// a context whose callback is already running.
    #[inline(always)]
    fn take(&self, id: u32) -> Option<Kind> {
        if self.last_id.get() != id && !self.promote(id) {
            return None;
        }
        // Running already (a re-entrant call) or free (a dead id): left as it is.
        if state(&self.last) != State::Idle {
            return None;
        }
        match self.last.replace(Held::Running) {
            Held::Idle(kind) => Some(kind),
            // Not reached (the slot was just seen idle); nothing to drop.
            _ => None,
        }
    }

    /// Puts context `id` back where its running mark is; drops it when the mark is gone (the host
    /// deleted the context during the callback).
    #[inline(always)]
    fn give_back(&self, id: u32, kind: Kind) {
        if self.last_id.get() == id && state(&self.last) == State::Running {
            // What comes back is the running mark (`forget`: no drop code for it).
            std::mem::forget(self.last.replace(Held::Idle(kind)));
        } else {
            // The hand-over slot is empty between hand-overs (`forget`: no drop code for it).
            std::mem::forget(self.handover.replace(Held::Idle(kind)));
            self.settle(id);
        }
    }

    /// Makes context `id` (not `last`'s) the last one, if it is live and idle: from `previous` (the
    /// two swap) or from the id table (the last one moves to `previous`, the previous one to the
    /// table). `false` for an unknown id or a running context.
    #[inline(never)]
    fn promote(&self, id: u32) -> bool {
        if self.previous_id.get() == id {
            match self.previous.replace(Held::Free) {
                Held::Idle(kind) => {
                    // What comes back is the `Free` just stored (`forget`: no drop code for it).
                    std::mem::forget(self.previous.replace(self.last.replace(Held::Idle(kind))));
                    self.previous_id.set(self.last_id.replace(id));
                    return true;
                }
                Held::Running => {
                    self.previous.set(Held::Running);
                    return false;
                }
                Held::Free => {}
            }
        }
        let idle = REGISTRY.with(|r| {
            let mut r = r.try_borrow_mut().ok()?;
            // A running context (`None`) stays where it is.
            match r.ids.get(id) {
                Some(Stored::Idle(_)) => match r.ids.remove(id)? {
                    Stored::Idle(kind) => Some(kind),
                    _ => None,
                },
                _ => None,
            }
        });
        match idle {
            Some(kind) => {
                self.insert(id, kind);
                true
            }
            None => false,
        }
    }

    /// Ends [`Slots::give_back`] for a context whose running mark is not in `last`: the context
    /// waiting in `handover` goes to its mark in `previous` or the id table, or is dropped when it has
    /// none (deleted meanwhile).
    #[cold]
    #[inline(never)]
    fn settle(&self, id: u32) {
        let Held::Idle(kind) = self.handover.replace(Held::Free) else {
            return;
        };
        if self.previous_id.get() == id && state(&self.previous) == State::Running {
            // What comes back is the running mark (`forget`: no drop code for it).
            return std::mem::forget(self.previous.replace(Held::Idle(kind)));
        }
        let deleted = REGISTRY.with(|r| {
            let Ok(mut r) = r.try_borrow_mut() else {
                return Some(kind);
            };
            match r.ids.get_mut(id) {
                Some(mark @ Stored::Running) => {
                    // What is replaced is the running mark: nothing to drop.
                    std::mem::forget(std::mem::replace(mark, Stored::Idle(kind)));
                    None
                }
                _ => Some(kind),
            }
        });
        // Dropped outside the registry borrow: a context's `Drop` may use the SDK.
        drop(deleted);
    }

    /// Makes context `id` (which no slot or table entry holds) the last one: the last one moves to
    /// `previous`, the previous one to the id table.
    #[inline(never)]
    fn insert(&self, id: u32, kind: Kind) {
        self.insert_inline(id, kind);
    }

    /// [`Slots::insert`], inlined into a stream's creation.
    #[inline(always)]
    fn insert_inline(&self, id: u32, kind: Kind) {
        let previous = self.previous.replace(self.last.replace(Held::Idle(kind)));
        let previous_id = self.previous_id.replace(self.last_id.replace(id));
        if !previous.is_free() {
            stash(previous_id, previous);
        } else {
            // Nothing to drop (`forget`: no drop code for it).
            std::mem::forget(previous);
        }
    }

    /// Whether context `id` is live (idle or running).
    fn is_live(&self, id: u32) -> bool {
        (self.last_id.get() == id && !is_free(&self.last))
            || (self.previous_id.get() == id && !is_free(&self.previous))
            || REGISTRY.with(|r| r.try_borrow().is_ok_and(|r| r.ids.get(id).is_some()))
    }

    /// Deletes context `id`: forgets it (its id is free at once), then its pending calls, then drops
    /// it when it was idle (outside any borrow: a context's `Drop` may use the SDK). A running context
    /// is dropped by its callback when that returns; an unknown id is ignored.
    #[inline(always)]
    fn delete(&self, id: u32) {
        if self.last_id.get() != id {
            return self.delete_elsewhere(id);
        }
        let held = self.last.replace(Held::Free);
        // The previous context becomes the last (the next stream's creation finds its root here);
        // else the slot stays free under the deleted id.
        if !held.is_free() && !is_free(&self.previous) {
            // What comes back is the `Free` just stored (`forget`: no drop code for it).
            std::mem::forget(self.last.replace(self.previous.replace(Held::Free)));
            self.last_id.set(self.previous_id.get());
        }
        forget_calls(id);
        // Each box dropped by itself: no drop code for the whole slot value through memory.
        match held {
            Held::Idle(Kind::Http(http)) => drop(http),
            Held::Idle(Kind::Tcp(tcp)) => drop(tcp),
            Held::Idle(Kind::Root(root)) => drop(root),
            // Nothing to drop.
            other => std::mem::forget(other),
        }
    }

    /// [`Slots::delete`] for a context that is not `last`'s.
    #[inline(never)]
    fn delete_elsewhere(&self, id: u32) {
        let held = if self.previous_id.get() == id && !is_free(&self.previous) {
            self.previous.replace(Held::Free)
        } else {
            with_registry(|r| match r.ids.remove(id) {
                Some(Stored::Idle(kind)) => Held::Idle(kind),
                Some(Stored::Running) => Held::Running,
                _ => Held::Free,
            })
        };
        forget_calls(id);
        drop(held);
    }

    /// After a panic in context `id`'s callback (natively): removes its running mark, so the id
    /// counts as unknown. The context itself is dropped by the unwinding.
    fn forget_running(&self, id: u32) {
        if self.last_id.get() == id {
            match self.last.replace(Held::Free) {
                // The slot stays free under the failed context's id.
                Held::Running => return,
                other => self.last.set(other),
            }
        }
        if self.previous_id.get() == id {
            match self.previous.replace(Held::Free) {
                Held::Running => return,
                other => self.previous.set(other),
            }
        }
        let _ = REGISTRY.try_with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                if matches!(r.ids.get(id), Some(Stored::Running)) {
                    // A running mark: nothing to drop.
                    r.ids.remove(id);
                }
            }
        });
    }

    /// How many contexts the slots hold.
    fn len(&self) -> usize {
        usize::from(!is_free(&self.last)) + usize::from(!is_free(&self.previous))
    }
}

/// Moves a context out of the previous slot into the id table.
#[inline(never)]
fn stash(id: u32, held: Held) {
    let entry = match held {
        Held::Idle(kind) => Stored::Idle(kind),
        Held::Running => Stored::Running,
        Held::Free => return,
    };
    with_registry(|r| r.ids.insert_new(id, entry));
}

/// What the async layer ([`crate::task`]) hears of the host, besides call completions.
pub(crate) enum HostEvent {
    /// Context `id` was deleted: its tasks are dropped.
    ContextDeleted(u32),
    /// A root context's tick.
    Tick,
    /// A shared queue has items.
    QueueReady(u32),
    /// A gRPC event for a call or stream (its owner context is already the effective context).
    Grpc { token: u32, event: GrpcEvent },
    /// The registry was reset (a new emulated VM on this thread).
    Reset,
}

/// One gRPC event with what the host passed along.
#[derive(Clone, Copy)]
pub(crate) enum GrpcEvent {
    InitialMetadata,
    Message,
    TrailingMetadata,
    Close(u32),
}

/// The async layer's entry points: the response to one of its HTTP calls (the most frequent event) is
/// called directly, the rest through [`HostEvent`].
pub(crate) struct TaskHooks {
    /// Returns `true` when the async layer took the event (a gRPC event it owns goes nowhere else).
    pub event: fn(HostEvent) -> bool,
    /// The response to an HTTP call the dispatcher has no record of (the async layer sends its calls
    /// itself).
    pub http_call_response:
        fn(token: u32, num_headers: usize, body_size: usize, num_trailers: usize),
}

/// Gives the async layer's current table (a function rather than a reference in the cell: reading a
/// cell of function pointers shares code the dispatcher has anyway, so callback plugins pay no bytes).
pub(crate) type TaskHooksFn = fn() -> &'static TaskHooks;

thread_local! {
    /// Installed by the first spawned task: a plugin that never spawns one pays one empty check per
    /// tick, queue-ready, gRPC event and deletion, and never links the executor.
    static TASK_HOOKS: Cell<Option<TaskHooksFn>> = const { Cell::new(None) };
}

/// Routes host events to the async layer's table from now on (until [`remove_task_hooks`]).
#[inline(always)]
pub(crate) fn install_task_hooks(hooks: TaskHooksFn) {
    TASK_HOOKS.with(|h| h.set(Some(hooks)));
}

/// Stops routing host events to the async layer (it holds nothing they could reach).
#[inline(always)]
pub(crate) fn remove_task_hooks() {
    TASK_HOOKS.with(|h| h.set(None));
}

#[inline(always)]
fn task_hooks() -> Option<&'static TaskHooks> {
    TASK_HOOKS.with(Cell::get).map(|hooks| hooks())
}

fn task_hook(event: HostEvent) -> bool {
    task_hooks().is_some_and(|hooks| (hooks.event)(event))
}

/// Makes `id` the current context until the returned guard drops (the async layer polls a task as its
/// owner).
pub(crate) fn enter_context(id: u32) -> impl Drop {
    RestoreCurrent(replace_current(id))
}

fn with_registry<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    REGISTRY.with(|r| match r.try_borrow_mut() {
        Ok(mut r) => f(&mut r),
        Err(_) => registry_busy(),
    })
}

/// Not reached: nothing holds the registry while other code runs (user code and drops run outside it).
#[cold]
#[inline(never)]
fn registry_busy() -> ! {
    panic!("proxywasm: the context registry is already in use")
}

/// Installs the function that creates each root context. Called by [`crate::main!`].
pub fn set_root_context_factory(factory: RootContextFactory) {
    with_registry(|r| r.factory = Some(factory));
}

/// The id of the context whose callback is running (0 outside callbacks).
pub fn current_context_id() -> u32 {
    CURRENT.with(Cell::get)
}

fn replace_current(id: u32) -> u32 {
    CURRENT.with(|c| c.replace(id))
}

/// Remembers an HTTP call dispatched by the current context, with an optional response closure.
pub(crate) fn register_http_call(token: u32, callback: Option<HttpCallback>) {
    let context_id = current_context_id();
    let call = PendingCall {
        context_id,
        callback,
    };
    set_calls_registered(true);
    // A token the host hands out again replaces the forgotten call it belonged to.
    let replaced = with_registry(|r| r.http_calls.insert(token, Stored::Call(call)));
    drop(replaced);
}

/// Remembers a gRPC call or stream opened by the current context.
pub(crate) fn register_grpc_call(token: u32) {
    let context_id = current_context_id();
    let call = PendingCall {
        context_id,
        callback: None,
    };
    set_calls_registered(true);
    let replaced = with_registry(|r| r.grpc_calls.insert(token, Stored::Call(call)));
    drop(replaced);
}

/// How many contexts and pending calls the registry holds (for leak checks in tests).
pub fn registry_size() -> (usize, usize) {
    let in_slots = SLOTS.with(Slots::len);
    with_registry(|r| {
        (
            r.ids.len() + in_slots,
            r.http_calls.len() + r.grpc_calls.len(),
        )
    })
}

/// Forgets every context, pending call and remembered metric id, keeping the root factory. The host
/// emulator calls this when a new emulated VM starts on this thread.
pub fn reset() {
    crate::metrics::forget_definitions();
    let old = with_registry(|r| {
        let factory = r.factory;
        std::mem::replace(r, Registry::new(factory))
    });
    let (last, previous) = SLOTS.with(|s| {
        s.last_id.set(0);
        (s.last.replace(Held::Free), s.previous.replace(Held::Free))
    });
    set_calls_registered(false);
    // Dropped outside the borrow: a context's `Drop` may use the SDK.
    drop(old);
    drop(last);
    drop(previous);
    replace_current(0);
    task_hook(HostEvent::Reset);
}

/// Puts back the previous current context when dropped, so a panicking closure does not leave it set.
struct RestoreCurrent(u32);

impl Drop for RestoreCurrent {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

/// Armed while a context's callback runs; forgotten when it returns. Dropped only when the callback
/// panics (natively; on wasm a panic aborts): then it removes the failed context's running mark so the
/// id counts as gone, and puts back the previous current context.
struct OnUnwind {
    id: u32,
    previous: u32,
}

impl Drop for OnUnwind {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.previous));
        let _ = SLOTS.try_with(|s| s.forget_running(self.id));
    }
}

/// Runs `f` on context `id` as the current context: what `default` makes for an unknown id (or one
/// whose callback is already running), else what `f` answers. Every export goes through here.
#[inline(always)]
fn with_context<R>(id: u32, default: impl FnOnce() -> R, f: impl FnOnce(&mut Kind) -> R) -> R {
    SLOTS.with(|slots| {
        let Some(mut kind) = slots.take(id) else {
            return default();
        };
        let previous = replace_current(id);
        let on_unwind = OnUnwind { id, previous };
        let answer = f(&mut kind);
        std::mem::forget(on_unwind);
        replace_current(previous);
        slots.give_back(id, kind);
        answer
    })
}

/// A callback the host makes for every stream (or a root's tick and queue): one shared body runs them
/// all, so each export stays small.
#[derive(Clone, Copy)]
#[repr(u32)]
enum Frequent {
    RequestHeaders,
    RequestBody,
    ResponseHeaders,
    ResponseBody,
    DownstreamData,
    UpstreamData,
    Done,
    Log,
    Tick,
    /// The size is the queue's id.
    QueueReady,
}

/// Runs a [`Frequent`] callback on context `id`, with the size (header count or data size) and
/// end-of-stream flag of the data callbacks. The answer is `true` for a paused stream or a context
/// not done yet; `false` for an unknown id, a context of another kind, or a callback that answers
/// nothing.
#[inline(never)]
fn frequent(id: u32, event: Frequent, size: usize, end: bool) -> bool {
    let paused = |action: Action| action == Action::Pause;
    with_context(
        id,
        || false,
        |kind| match event {
            Frequent::RequestHeaders => match kind {
                Kind::Http(http) => paused(http.on_http_request_headers(size, end)),
                _ => false,
            },
            Frequent::RequestBody => match kind {
                Kind::Http(http) => paused(http.on_http_request_body(size, end)),
                _ => false,
            },
            Frequent::ResponseHeaders => match kind {
                Kind::Http(http) => paused(http.on_http_response_headers(size, end)),
                _ => false,
            },
            Frequent::ResponseBody => match kind {
                Kind::Http(http) => paused(http.on_http_response_body(size, end)),
                _ => false,
            },
            Frequent::DownstreamData => match kind {
                Kind::Tcp(tcp) => paused(tcp.on_downstream_data(size, end)),
                _ => false,
            },
            Frequent::UpstreamData => match kind {
                Kind::Tcp(tcp) => paused(tcp.on_upstream_data(size, end)),
                _ => false,
            },
            Frequent::Done => !match kind {
                Kind::Root(root) => root.on_done(),
                Kind::Http(http) => {
                    http.on_http_stream_done();
                    http.on_done()
                }
                Kind::Tcp(tcp) => {
                    tcp.on_stream_done();
                    tcp.on_done()
                }
            },
            Frequent::Log => {
                context(kind).on_log();
                false
            }
            Frequent::Tick => {
                if let Kind::Root(root) = kind {
                    root.on_tick();
                }
                false
            }
            Frequent::QueueReady => {
                if let Kind::Root(root) = kind {
                    // The id the export widened.
                    root.on_queue_ready(size as u32);
                }
                false
            }
        },
    )
}

/// A callback the host makes seldom (once per plugin, or per connection, call or trailers): one shared
/// body runs them all, so their exports stay small. The per-stream callbacks have their own inlined
/// bodies.
enum Rare {
    VmStart(usize),
    Configure(usize),
    ForeignFunction(u32, usize),
    NewConnection,
    DownstreamClose(PeerType),
    UpstreamClose(PeerType),
    RequestTrailers(usize),
    ResponseTrailers(usize),
    HttpCallResponse {
        token: u32,
        headers: usize,
        body: usize,
        trailers: usize,
    },
    Grpc {
        token: u32,
        event: GrpcEvent,
        size: usize,
    },
}

/// Runs a [`Rare`] callback on context `id`. The answer is `true` for a started root or a paused
/// stream; `false` for an unknown id, a context of another kind, or a callback that answers nothing.
#[inline(never)]
fn rare(id: u32, event: Rare) -> bool {
    use crate::config::{during, Start};
    let paused = |action: Action| action == Action::Pause;
    with_context(
        id,
        || false,
        |kind| match (kind, event) {
            (Kind::Root(root), Rare::VmStart(size)) => during(Start::Vm, || root.on_vm_start(size)),
            (Kind::Root(root), Rare::Configure(size)) => {
                during(Start::Plugin, || root.on_plugin_start(size))
            }
            (Kind::Root(root), Rare::ForeignFunction(function, size)) => {
                root.on_foreign_function(function, size);
                false
            }
            (Kind::Tcp(tcp), Rare::NewConnection) => paused(tcp.on_new_connection()),
            (Kind::Tcp(tcp), Rare::DownstreamClose(peer)) => {
                tcp.on_downstream_close(peer);
                false
            }
            (Kind::Tcp(tcp), Rare::UpstreamClose(peer)) => {
                tcp.on_upstream_close(peer);
                false
            }
            (Kind::Http(http), Rare::RequestTrailers(n)) => {
                paused(http.on_http_request_trailers(n))
            }
            (Kind::Http(http), Rare::ResponseTrailers(n)) => {
                paused(http.on_http_response_trailers(n))
            }
            (
                kind,
                Rare::HttpCallResponse {
                    token,
                    headers,
                    body,
                    trailers,
                },
            ) => {
                context(kind).on_http_call_response(token, headers, body, trailers);
                false
            }
            (kind, Rare::Grpc { token, event, size }) => {
                let context = context(kind);
                match event {
                    GrpcEvent::InitialMetadata => {
                        context.on_grpc_receive_initial_metadata(token, size)
                    }
                    GrpcEvent::Message => context.on_grpc_receive(token, size),
                    GrpcEvent::TrailingMetadata => {
                        context.on_grpc_receive_trailing_metadata(token, size)
                    }
                    GrpcEvent::Close(status) => context.on_grpc_close(token, status),
                }
                false
            }
            _ => false,
        },
    )
}

/// A stream's answer to a [`Rare`] callback.
fn action(paused: bool) -> Action {
    if paused {
        Action::Pause
    } else {
        Action::Continue
    }
}

fn boolean(value: bool) -> BoolResult {
    if value {
        BoolResult::True
    } else {
        BoolResult::False
    }
}

fn peer(peer: Result<PeerType, UnknownEnumValue>) -> PeerType {
    peer.unwrap_or(PeerType::Unknown)
}

/// Asks root `parent_id` for the context of new stream `id`: TCP first, then HTTP.
fn create_stream(parent_id: u32, id: u32) -> Option<Kind> {
    with_context(
        parent_id,
        || None,
        move |kind| match kind {
            Kind::Root(root) => match root.new_tcp_context(id) {
                Some(tcp) => Some(Kind::Tcp(tcp)),
                None => root.new_http_context(id).map(Kind::Http),
            },
            _ => None,
        },
    )
}

/// The plugin's root context factory.
fn factory() -> Option<RootContextFactory> {
    REGISTRY.with(|r| r.try_borrow().ok()?.factory)
}

/// Forgets the pending calls of a deleted context, if any call is pending.
#[inline(always)]
fn forget_calls(context_id: u32) {
    if calls_registered() {
        forget_calls_of(context_id);
    }
}

/// Forgets the pending calls of a deleted context; their closures are dropped one at a time, outside
/// the registry borrow.
#[cold]
#[inline(never)]
fn forget_calls_of(context_id: u32) {
    let owned = |call: &Stored| call.owner() == Some(context_id);
    while let Some(call) = with_registry(|r| {
        let call = r.http_calls.remove_one_where(owned);
        let call = call.or_else(|| r.grpc_calls.remove_one_where(owned));
        r.note_calls_left();
        call
    }) {
        drop(call);
    }
}

/// Refuses the creation of a context under an id already in use (written without `core::fmt`, which
/// a plugin that does not format links no code for).
#[cold]
#[inline(never)]
fn refuse_duplicate(context_id: u32, parent_context_id: u32) {
    let mut line = String::from("proxywasm: context ");
    push_decimal(&mut line, context_id);
    line.push_str(" already exists; the duplicate creation (parent ");
    push_decimal(&mut line, parent_context_id);
    line.push_str(") is ignored");
    crate::logging::error(&line);
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, n: u32) {
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    let mut scale = 1_000_000_000;
    while scale > 1 && n < scale {
        scale /= 10;
    }
    while scale > 0 {
        out.push_str(DIGITS[(n / scale % 10) as usize]);
        scale /= 10;
    }
}

/// Delivers an HTTP call response to the closure or context that dispatched the call.
fn deliver_http_call(token: u32, num_headers: usize, body_size: usize, num_trailers: usize) {
    // No call registered: the token can only be the async layer's (which keeps its own records).
    let removed = if calls_registered() {
        with_registry(|r| {
            let call = r.http_calls.remove(token);
            r.note_calls_left();
            call
        })
    } else {
        None
    };
    let Some(call) = removed.and_then(Stored::into_call) else {
        if let Some(hooks) = task_hooks() {
            (hooks.http_call_response)(token, num_headers, body_size, num_trailers);
        }
        return;
    };
    let _ = crate::context::set_effective_context(call.context_id);
    match call.callback {
        Some(callback) => {
            let _restore = RestoreCurrent(replace_current(call.context_id));
            callback(num_headers, body_size, num_trailers);
        }
        None => {
            let event = Rare::HttpCallResponse {
                token,
                headers: num_headers,
                body: body_size,
                trailers: num_trailers,
            };
            rare(call.context_id, event);
        }
    }
}

/// Delivers a gRPC event (`size`: the element count or message size) to the async layer or the
/// context that opened the call or stream.
fn deliver_grpc(token: u32, event: GrpcEvent, size: usize) {
    let close = matches!(event, GrpcEvent::Close(_));
    let owner = with_registry(|r| {
        if close {
            let call = r.grpc_calls.remove(token);
            r.note_calls_left();
            call.and_then(|call| call.owner())
        } else {
            r.grpc_calls.get(token).and_then(Stored::owner)
        }
    });
    let Some(id) = owner else {
        return;
    };
    let _ = crate::context::set_effective_context(id);
    if task_hook(HostEvent::Grpc { token, event }) {
        return;
    }
    rare(id, Rare::Grpc { token, event, size });
}

/// The implementation of the generated [`Callbacks`] trait: what every export shim calls.
pub struct Dispatcher;

impl Callbacks for Dispatcher {
    fn proxy_on_memory_allocate(memory_size: usize) -> *mut u8 {
        crate::memory::allocate(memory_size)
    }

    fn proxy_on_context_create(context_id: u32, parent_context_id: u32) {
        // A host that reuses a live id must not silently replace that context (a re-created root would
        // never be configured): the live one stays and the duplicate is refused with an error log.
        if SLOTS.with(|s| s.is_live(context_id)) {
            return refuse_duplicate(context_id, parent_context_id);
        }
        let created = if parent_context_id == 0 {
            let Some(factory) = factory() else {
                return;
            };
            Kind::Root(factory(context_id))
        } else {
            let Some(stream) = create_stream(parent_context_id, context_id) else {
                return;
            };
            stream
        };
        SLOTS.with(|s| s.insert_inline(context_id, created));
    }

    fn proxy_on_done(context_id: u32) -> BoolResult {
        boolean(!frequent(context_id, Frequent::Done, 0, false))
    }

    fn proxy_on_log(context_id: u32) {
        frequent(context_id, Frequent::Log, 0, false);
    }

    fn proxy_on_delete(context_id: u32) {
        SLOTS.with(|s| s.delete(context_id));
        task_hook(HostEvent::ContextDeleted(context_id));
    }

    fn proxy_on_vm_start(context_id: u32, vm_configuration_size: usize) -> BoolResult {
        boolean(rare(context_id, Rare::VmStart(vm_configuration_size)))
    }

    fn proxy_on_configure(context_id: u32, plugin_configuration_size: usize) -> BoolResult {
        boolean(rare(context_id, Rare::Configure(plugin_configuration_size)))
    }

    fn proxy_on_tick(context_id: u32) {
        frequent(context_id, Frequent::Tick, 0, false);
        task_hook(HostEvent::Tick);
    }

    fn proxy_on_queue_ready(context_id: u32, queue_id: u32) {
        frequent(context_id, Frequent::QueueReady, queue_id as usize, false);
        task_hook(HostEvent::QueueReady(queue_id));
    }

    fn proxy_on_foreign_function(context_id: u32, function_id: u32, arguments_size: usize) {
        rare(
            context_id,
            Rare::ForeignFunction(function_id, arguments_size),
        );
    }

    fn proxy_on_new_connection(context_id: u32) -> Action {
        action(rare(context_id, Rare::NewConnection))
    }

    fn proxy_on_downstream_data(context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        action(frequent(
            context_id,
            Frequent::DownstreamData,
            data_size,
            end_of_stream,
        ))
    }

    fn proxy_on_downstream_connection_close(
        context_id: u32,
        peer_type: Result<PeerType, UnknownEnumValue>,
    ) {
        rare(context_id, Rare::DownstreamClose(peer(peer_type)));
    }

    fn proxy_on_upstream_data(context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        action(frequent(
            context_id,
            Frequent::UpstreamData,
            data_size,
            end_of_stream,
        ))
    }

    fn proxy_on_upstream_connection_close(
        context_id: u32,
        peer_type: Result<PeerType, UnknownEnumValue>,
    ) {
        rare(context_id, Rare::UpstreamClose(peer(peer_type)));
    }

    fn proxy_on_request_headers(
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        action(frequent(
            context_id,
            Frequent::RequestHeaders,
            num_headers,
            end_of_stream,
        ))
    }

    fn proxy_on_request_body(context_id: u32, body_size: usize, end_of_stream: bool) -> Action {
        action(frequent(
            context_id,
            Frequent::RequestBody,
            body_size,
            end_of_stream,
        ))
    }

    fn proxy_on_request_trailers(context_id: u32, num_trailers: usize) -> Action {
        action(rare(context_id, Rare::RequestTrailers(num_trailers)))
    }

    fn proxy_on_response_headers(
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        action(frequent(
            context_id,
            Frequent::ResponseHeaders,
            num_headers,
            end_of_stream,
        ))
    }

    fn proxy_on_response_body(context_id: u32, body_size: usize, end_of_stream: bool) -> Action {
        action(frequent(
            context_id,
            Frequent::ResponseBody,
            body_size,
            end_of_stream,
        ))
    }

    fn proxy_on_response_trailers(context_id: u32, num_trailers: usize) -> Action {
        action(rare(context_id, Rare::ResponseTrailers(num_trailers)))
    }

    fn proxy_on_http_call_response(
        _context_id: u32,
        call_id: u32,
        num_headers: usize,
        body_size: usize,
        num_trailers: usize,
    ) {
        deliver_http_call(call_id, num_headers, body_size, num_trailers);
    }

    fn proxy_on_grpc_receive_initial_metadata(_context_id: u32, call_id: u32, num_elements: usize) {
        deliver_grpc(call_id, GrpcEvent::InitialMetadata, num_elements);
    }

    fn proxy_on_grpc_receive(_context_id: u32, call_id: u32, message_size: usize) {
        deliver_grpc(call_id, GrpcEvent::Message, message_size);
    }

    fn proxy_on_grpc_receive_trailing_metadata(
        _context_id: u32,
        call_id: u32,
        num_elements: usize,
    ) {
        deliver_grpc(call_id, GrpcEvent::TrailingMetadata, num_elements);
    }

    fn proxy_on_grpc_close(_context_id: u32, call_id: u32, status_code: u32) {
        deliver_grpc(call_id, GrpcEvent::Close(status_code), 0);
    }
}

#[cfg(test)]
mod tests;
