//! Routes every callback from the host to the right user context.
//!
//! The registry is thread-local (a wasm VM has one thread; natively, each test thread has its own
//! plugin). Each context lives in a reference-counted cell; a small open-addressing table maps the
//! host's context ids to cells (a deleted context's emptied cell is kept for the next creation), and
//! the last two contexts looked up are remembered (a host calls the same stream several times in a
//! row, and its root for the next stream's creation or a tick). Each export has its own short entry:
//! it takes a share of the context's cell (the last context's share is lent from a thread-local slot
//! outside the registry, any other one is cloned under a short registry borrow), borrows the cell,
//! calls the one method the callback names, and lets go (the lent share goes back to its slot), so
//! the callback may call any SDK function meanwhile. What this leaves to handle explicitly (out of
//! line, off the common path):
//! - a callback for a context whose own callback is still running (a re-entrant call) finds its cell
//!   borrowed and is ignored (`Continue` / `true`), as is a callback for an unknown id;
//! - a context the host deletes during its own callback is forgotten at once (its id is free for a new
//!   context) and dropped when that callback lets go of its share;
//! - if user code panics (natively: a failing test; on wasm a panic aborts the VM), the context being
//!   called is dropped, the registry stays consistent, and later callbacks for that id are ignored as
//!   for an unknown context.

use crate::abi::{Action, BoolResult, Callbacks, PeerType, UnknownEnumValue};
use crate::traits::{Context, HttpContext, RootContext, TcpContext};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

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

/// The callbacks every context kind has, of the context in a cell.
#[inline(always)]
fn context(cell: &mut Option<Kind>) -> Option<&mut dyn Context> {
    match cell.as_mut()? {
        Kind::Root(c) => Some(&mut **c),
        Kind::Http(c) => Some(&mut **c),
        Kind::Tcp(c) => Some(&mut **c),
    }
}

/// A context's cell: the context, or `None` while the cell waits in the spare pool. Shared: a callback
/// holds a clone while it runs, so the registry is free meanwhile, the cell's borrow flag tells a
/// re-entrant call apart, and a context deleted during its own callback lives until that clone drops.
/// A cell outlives its contexts: an idle one freed by a deletion serves the next creation (no
/// allocation per context).
type Shared = Rc<RefCell<Option<Kind>>>;

#[cold]
#[inline(never)]
fn empty_cell() -> Shared {
    Rc::new(RefCell::new(None))
}

/// A pending HTTP call, gRPC call or gRPC stream: the context that opened it, and for an HTTP call
/// the closure that takes the response, if any.
struct PendingCall {
    context_id: u32,
    callback: Option<HttpCallback>,
}

struct Registry {
    factory: Option<RootContextFactory>,
    /// Context id -> cell, for the live contexts.
    ids: IdTable<Shared>,
    /// The empty cell of a deleted context, shared with nobody, for the next creation (a field, not
    /// the vector: the common case of one stream after another touches no vector).
    spare: Option<Shared>,
    /// More of them, when several streams ended since the last creation.
    spares: Vec<Shared>,
    /// The one [`LAST`] held before (typically the root, while the last is a stream): a root's tick
    /// finds its root here; it becomes the last again when the last is deleted (for the next stream's
    /// creation).
    previous: Option<(u32, Shared)>,
    /// Call token -> the call's owner (and closure).
    http_calls: IdTable<PendingCall>,
    /// Call token -> the gRPC call or stream (no closure).
    grpc_calls: IdTable<PendingCall>,
}

impl Registry {
    const fn new(factory: Option<RootContextFactory>) -> Self {
        Registry {
            factory,
            ids: IdTable::new(),
            spare: None,
            spares: Vec::new(),
            previous: None,
            http_calls: IdTable::new(),
            grpc_calls: IdTable::new(),
        }
    }

    /// Adds a context under `id` (the caller checked that the id is not in use). Hands back a spare
    /// cell it could not use (not reached: a spare cell is empty and idle), to be dropped outside
    /// the borrow.
    fn insert(&mut self, id: u32, kind: Kind) -> Option<Shared> {
        let spare = match self.spare.take() {
            Some(cell) => cell,
            None => self.spares.pop().unwrap_or_else(empty_cell),
        };
        let unplaced = match spare.try_borrow_mut() {
            Ok(mut context) if context.is_none() => {
                // Replaces the `None` just seen: no drop code runs for it.
                if let Some(_nothing) = context.replace(kind) {}
                None
            }
            _ => Some(kind),
        };
        let (cell, unusable) = match unplaced {
            None => (spare, None),
            Some(kind) => (Rc::new(RefCell::new(Some(kind))), Some(spare)),
        };
        self.ids.insert_new(id, cell.clone());
        self.remember(id, cell);
        unusable
    }

    /// Makes context `id` the last one looked up; the one before becomes `previous`. What is dropped
    /// here is a share of a cell the id table also holds (a removed context is forgotten at
    /// removal): no context drops inside the registry borrow.
    #[inline(always)]
    fn remember(&mut self, id: u32, cell: Shared) {
        let before_id = LAST_ID.replace(id);
        if let Some(before) = LAST.replace(Some(cell)) {
            // Dropped only when there is one (no drop code runs for an empty `previous`).
            // (A binding dropped at the end of its block: no call through `mem::drop`.)
            if let Some(_forgotten) = self.previous.replace((before_id, before)) {}
        }
    }

    /// Context `id`'s cell, shared.
    #[inline(always)]
    fn get(&mut self, id: u32) -> Option<Shared> {
        match last_share(id) {
            Some(cell) => Some(cell),
            None => self.find(id),
        }
    }

    /// Context `id`'s cell from `previous`, else from the id table (then remembered as the last one).
    #[inline(never)]
    fn find(&mut self, id: u32) -> Option<Shared> {
        if let Some((previous, cell)) = &self.previous {
            if *previous == id {
                return Some(cell.clone());
            }
        }
        let cell = self.ids.get(id)?.clone();
        self.remember(id, cell.clone());
        Some(cell)
    }

    /// Forgets context `id`; hands back the context when it was idle (to be dropped outside the
    /// registry borrow), and keeps its emptied cell for the next creation. A running one stays with
    /// its callback's share of the cell, and is dropped when that callback returns.
    fn remove(&mut self, id: u32) -> Option<Kind> {
        let cell = self.ids.remove(id)?;
        // Not the last shares: `cell` is one.
        if LAST_ID.get() == id {
            let (promoted_id, promoted) = match self.previous.take() {
                Some((previous_id, previous)) => (previous_id, Some(previous)),
                None => (0, None),
            };
            LAST_ID.set(promoted_id);
            if let Some(_forgotten) = LAST.replace(promoted) {}
        } else if matches!(&self.previous, Some((previous, _)) if *previous == id) {
            self.previous = None;
        }
        let kind = match cell.try_borrow_mut() {
            Ok(mut context) => context.take(),
            // Running: the callback's share drops the context; this share is not the last one.
            Err(_) => return None,
        };
        if Rc::strong_count(&cell) == 1 {
            if let Some(other) = self.spare.replace(cell) {
                self.spares.push(other);
            }
        }
        kind
    }
}

/// Drops a spare cell that could not serve a creation (not reached: a spare cell is empty and idle),
/// outside the registry borrow, with whatever it held.
#[cold]
#[inline(never)]
fn drop_displaced(displaced: Shared) {
    drop(displaced);
}

thread_local! {
    static REGISTRY: RefCell<Registry> = const { RefCell::new(Registry::new(None)) };
    /// A share of the cell of the context most recently created or looked up (a host calls the same
    /// context several times in a row, so most lookups end here), outside the registry: a callback
    /// for it takes this share and gives it back when it returns (no registry borrow, no share count
    /// change). Empty while lent out. When set, the id table maps [`LAST_ID`] to this cell.
    static LAST: Cell<Option<Shared>> = const { Cell::new(None) };
    /// The id [`LAST`] belongs to (also while the share is lent out).
    static LAST_ID: Cell<u32> = const { Cell::new(0) };
    /// The context whose callback is running; outside the registry so entering and leaving a callback
    /// needs no registry borrow.
    static CURRENT: Cell<u32> = const { Cell::new(0) };
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
    /// The response to an HTTP call the dispatcher has no record of (the async layer sends its calls
    /// itself).
    HttpCallResponse {
        token: u32,
        num_headers: usize,
        body_size: usize,
        num_trailers: usize,
    },
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

/// Returns `true` when the async layer took the event (a gRPC event it owns goes nowhere else).
pub(crate) type TaskHook = fn(HostEvent) -> bool;

thread_local! {
    /// Installed by the first spawned task: a plugin that never spawns one pays one empty check per
    /// tick, queue-ready, gRPC event and deletion, and never links the executor.
    static TASK_HOOK: Cell<Option<TaskHook>> = const { Cell::new(None) };
}

/// Routes host events to the async layer from now on.
pub(crate) fn install_task_hook(hook: TaskHook) {
    TASK_HOOK.with(|h| h.set(Some(hook)));
}

fn task_hook(event: HostEvent) -> bool {
    TASK_HOOK.with(Cell::get).is_some_and(|hook| hook(event))
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
    // A token the host hands out again replaces the forgotten call it belonged to.
    let replaced = with_registry(|r| r.http_calls.insert(token, call));
    drop(replaced);
}

/// Remembers a gRPC call or stream opened by the current context.
pub(crate) fn register_grpc_call(token: u32) {
    let context_id = current_context_id();
    let call = PendingCall {
        context_id,
        callback: None,
    };
    let replaced = with_registry(|r| r.grpc_calls.insert(token, call));
    drop(replaced);
}

/// How many contexts and pending calls the registry holds (for leak checks in tests).
pub fn registry_size() -> (usize, usize) {
    with_registry(|r| (r.ids.len(), r.http_calls.len() + r.grpc_calls.len()))
}

/// Forgets every context, pending call and remembered metric id, keeping the root factory. The host
/// emulator calls this when a new emulated VM starts on this thread.
pub fn reset() {
    crate::metrics::forget_definitions();
    let old = with_registry(|r| {
        let factory = r.factory;
        std::mem::replace(r, Registry::new(factory))
    });
    LAST_ID.set(0);
    let last = LAST.take();
    // Dropped outside the borrow: a context's `Drop` may use the SDK.
    drop(old);
    drop(last);
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
/// panics (natively; on wasm a panic aborts): then it forgets the failed context (if the id still names
/// it) so the id counts as gone, and puts back the previous current context.
struct OnUnwind {
    id: u32,
    /// The failed context's cell (compared, never read).
    cell: *const RefCell<Option<Kind>>,
    previous: u32,
}

impl Drop for OnUnwind {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.previous));
        let _ = REGISTRY.try_with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                if r.get(self.id).is_some_and(|s| Rc::as_ptr(&s) == self.cell) {
                    // The cell is borrowed by the failed callback: nothing is dropped here.
                    r.remove(self.id);
                }
            }
        });
    }
}

/// A clone of [`LAST`]'s share when it belongs to context `id` (and is not lent out).
#[inline(always)]
fn last_share(id: u32) -> Option<Shared> {
    if LAST_ID.get() != id {
        return None;
    }
    let last = LAST.take()?;
    let share = last.clone();
    // Refills the slot just emptied: no drop code for what it held.
    if let Some(_nothing) = LAST.replace(Some(last)) {}
    Some(share)
}

/// Context `id`'s cell, shared; `None` for an unknown id. The last context's share is lent (taken
/// from [`LAST`], given back by [`give_back`]).
#[inline(never)]
fn lookup(id: u32) -> Option<Shared> {
    if LAST_ID.get() == id {
        if let Some(lent) = LAST.take() {
            return Some(lent);
        }
    }
    lookup_in_registry(id)
}

#[inline(never)]
fn lookup_in_registry(id: u32) -> Option<Shared> {
    // `try_borrow_mut`: the registry is never borrowed across a callback.
    REGISTRY.with(|r| r.try_borrow_mut().ok()?.get(id))
}

/// Ends a callback's hold on context `id`'s cell: back to [`LAST`] when it is still the last one
/// (its id unchanged, [`LAST`] not refilled meanwhile) and still live (the id table holds another
/// share); else the share just drops (the last share when the host deleted the context meanwhile:
/// the context is dropped here, outside any borrow).
#[inline(never)]
fn give_back(id: u32, share: Shared) {
    if LAST_ID.get() == id && Rc::strong_count(&share) > 1 {
        // What is replaced: a share of the same live context, taken by a lookup meanwhile.
        if let Some(_other) = LAST.replace(Some(share)) {}
    }
    // Else `share` drops here.
}

/// Runs `f` on context `id` as the current context: `default` for an unknown id (or one whose callback
/// is already running), else what `f` answers for the context (`None` only for a cell emptied by a
/// deletion). Every export goes through here.
#[inline(always)]
fn with_context<R>(id: u32, default: R, f: impl FnOnce(&mut Option<Kind>) -> R) -> R {
    match lookup(id) {
        Some(shared) => with_cell(id, shared, || default, f),
        None => default,
    }
}

/// [`with_context`] for a cell already looked up; the default is made only when it is the answer (no
/// drop code for an unused one).
#[inline(always)]
fn with_cell<R>(
    id: u32,
    shared: Shared,
    default: impl FnOnce() -> R,
    f: impl FnOnce(&mut Option<Kind>) -> R,
) -> R {
    let answer = {
        // Borrowed already: a re-entrant call for the running context.
        let Ok(mut context) = shared.try_borrow_mut() else {
            give_back(id, shared);
            return default();
        };
        let previous = replace_current(id);
        let on_unwind = OnUnwind {
            id,
            cell: Rc::as_ptr(&shared),
            previous,
        };
        let answer = f(&mut context);
        std::mem::forget(on_unwind);
        replace_current(previous);
        answer
    };
    // The borrow has ended.
    give_back(id, shared);
    answer
}

/// Runs an HTTP stream callback; `Continue` for any other context kind.
#[inline(always)]
fn on_http(id: u32, f: impl FnOnce(&mut dyn HttpContext) -> Action) -> Action {
    with_context(id, Action::Continue, |kind| match kind {
        Some(Kind::Http(http)) => f(&mut **http),
        _ => Action::Continue,
    })
}

/// Runs a TCP stream callback; `Continue` for any other context kind.
#[inline(always)]
fn on_tcp(id: u32, f: impl FnOnce(&mut dyn TcpContext) -> Action) -> Action {
    with_context(id, Action::Continue, |kind| match kind {
        Some(Kind::Tcp(tcp)) => f(&mut **tcp),
        _ => Action::Continue,
    })
}

/// Runs a root context callback; nothing for any other context kind.
#[inline(always)]
fn on_root(id: u32, f: impl FnOnce(&mut dyn RootContext)) {
    with_context(id, (), |kind| {
        if let Some(Kind::Root(root)) = kind {
            f(&mut **root);
        }
    });
}

/// Runs a root context's start callback (VM start or configure) with the configuration it may read;
/// `false` for any other context kind or an unknown id.
fn on_start(
    id: u32,
    start: crate::config::Start,
    f: fn(&mut dyn RootContext, usize) -> bool,
    size: usize,
) -> BoolResult {
    let started = with_context(id, false, |kind| match kind {
        Some(Kind::Root(root)) => crate::config::during(start, || f(&mut **root, size)),
        _ => false,
    });
    boolean(started)
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

/// Asks a root for the context of new stream `id`: TCP first, then HTTP.
fn create_stream(parent_id: u32, parent: Shared, id: u32) -> Option<Kind> {
    with_cell(
        parent_id,
        parent,
        || None,
        |kind| match kind {
            Some(Kind::Root(root)) => match root.new_tcp_context(id) {
                Some(tcp) => Some(Kind::Tcp(tcp)),
                None => root.new_http_context(id).map(Kind::Http),
            },
            _ => None,
        },
    )
}

/// What a context's creation starts from, found under one registry borrow.
enum Origin {
    /// The id is already in use.
    Duplicate,
    /// A root context, made by the plugin's factory.
    Factory(RootContextFactory),
    /// A stream context, made by its root (looked up after the registry borrow).
    Parent,
}

/// Forgets the pending calls of a deleted context; their closures are dropped outside the registry
/// borrow.
#[cold]
#[inline(never)]
fn forget_calls_of(context_id: u32) {
    let forgotten = with_registry(|r| {
        let mut calls = Vec::new();
        for table in [&mut r.http_calls, &mut r.grpc_calls] {
            table.remove_where(|c| c.context_id == context_id, &mut calls);
        }
        calls
    });
    drop(forgotten);
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
    let Some(call) = with_registry(|r| r.http_calls.remove(token)) else {
        task_hook(HostEvent::HttpCallResponse {
            token,
            num_headers,
            body_size,
            num_trailers,
        });
        return;
    };
    let _ = crate::context::set_effective_context(call.context_id);
    match call.callback {
        Some(callback) => {
            let _restore = RestoreCurrent(replace_current(call.context_id));
            callback(num_headers, body_size, num_trailers);
        }
        None => with_context(call.context_id, (), |cell| {
            if let Some(context) = context(cell) {
                context.on_http_call_response(token, num_headers, body_size, num_trailers);
            }
        }),
    }
}

/// Delivers a gRPC event (`size`: the element count or message size) to the async layer or the
/// context that opened the call or stream.
fn deliver_grpc(token: u32, event: GrpcEvent, size: usize) {
    let close = matches!(event, GrpcEvent::Close(_));
    let owner = with_registry(|r| {
        if close {
            r.grpc_calls.remove(token).map(|call| call.context_id)
        } else {
            r.grpc_calls.get(token).map(|call| call.context_id)
        }
    });
    let Some(id) = owner else {
        return;
    };
    let _ = crate::context::set_effective_context(id);
    if task_hook(HostEvent::Grpc { token, event }) {
        return;
    }
    with_context(id, (), |cell| {
        let Some(context) = context(cell) else {
            return;
        };
        match event {
            GrpcEvent::InitialMetadata => context.on_grpc_receive_initial_metadata(token, size),
            GrpcEvent::Message => context.on_grpc_receive(token, size),
            GrpcEvent::TrailingMetadata => context.on_grpc_receive_trailing_metadata(token, size),
            GrpcEvent::Close(status) => context.on_grpc_close(token, status),
        }
    });
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
        let origin = REGISTRY.with(|r| {
            let r = r.try_borrow_mut().ok()?;
            if r.ids.get(context_id).is_some() {
                return Some(Origin::Duplicate);
            }
            if parent_context_id == 0 {
                r.factory.map(Origin::Factory)
            } else {
                Some(Origin::Parent)
            }
        });
        let created = match origin {
            None => return,
            Some(Origin::Duplicate) => return refuse_duplicate(context_id, parent_context_id),
            Some(Origin::Factory(factory)) => Kind::Root(factory(context_id)),
            Some(Origin::Parent) => {
                let Some(parent) = lookup(parent_context_id) else {
                    return;
                };
                match create_stream(parent_context_id, parent, context_id) {
                    Some(kind) => kind,
                    None => return,
                }
            }
        };
        if let Some(displaced) = with_registry(|r| r.insert(context_id, created)) {
            drop_displaced(displaced);
        }
    }

    fn proxy_on_done(context_id: u32) -> BoolResult {
        boolean(with_context(context_id, true, |kind| match kind {
            Some(Kind::Root(root)) => root.on_done(),
            Some(Kind::Http(http)) => {
                http.on_http_stream_done();
                http.on_done()
            }
            Some(Kind::Tcp(tcp)) => {
                tcp.on_stream_done();
                tcp.on_done()
            }
            None => true,
        }))
    }

    fn proxy_on_log(context_id: u32) {
        with_context(context_id, (), |cell| {
            if let Some(context) = context(cell) {
                context.on_log();
            }
        });
    }

    fn proxy_on_delete(context_id: u32) {
        let (removed, calls) = with_registry(|r| {
            let calls = !r.http_calls.is_empty() || !r.grpc_calls.is_empty();
            (r.remove(context_id), calls)
        });
        if calls {
            forget_calls_of(context_id);
        }
        // Dropped outside the registry borrow: a context's `Drop` may use the SDK.
        drop(removed);
        task_hook(HostEvent::ContextDeleted(context_id));
    }

    fn proxy_on_vm_start(context_id: u32, vm_configuration_size: usize) -> BoolResult {
        on_start(
            context_id,
            crate::config::Start::Vm,
            |root, size| root.on_vm_start(size),
            vm_configuration_size,
        )
    }

    fn proxy_on_configure(context_id: u32, plugin_configuration_size: usize) -> BoolResult {
        on_start(
            context_id,
            crate::config::Start::Plugin,
            |root, size| root.on_plugin_start(size),
            plugin_configuration_size,
        )
    }

    fn proxy_on_tick(context_id: u32) {
        on_root(context_id, |root| root.on_tick());
        task_hook(HostEvent::Tick);
    }

    fn proxy_on_queue_ready(context_id: u32, queue_id: u32) {
        on_root(context_id, |root| root.on_queue_ready(queue_id));
        task_hook(HostEvent::QueueReady(queue_id));
    }

    fn proxy_on_foreign_function(context_id: u32, function_id: u32, arguments_size: usize) {
        on_root(context_id, |root| {
            root.on_foreign_function(function_id, arguments_size)
        });
    }

    fn proxy_on_new_connection(context_id: u32) -> Action {
        on_tcp(context_id, |tcp| tcp.on_new_connection())
    }

    fn proxy_on_downstream_data(context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        on_tcp(context_id, |tcp| {
            tcp.on_downstream_data(data_size, end_of_stream)
        })
    }

    fn proxy_on_downstream_connection_close(
        context_id: u32,
        peer_type: Result<PeerType, UnknownEnumValue>,
    ) {
        on_tcp(context_id, |tcp| {
            tcp.on_downstream_close(peer(peer_type));
            Action::Continue
        });
    }

    fn proxy_on_upstream_data(context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        on_tcp(context_id, |tcp| {
            tcp.on_upstream_data(data_size, end_of_stream)
        })
    }

    fn proxy_on_upstream_connection_close(
        context_id: u32,
        peer_type: Result<PeerType, UnknownEnumValue>,
    ) {
        on_tcp(context_id, |tcp| {
            tcp.on_upstream_close(peer(peer_type));
            Action::Continue
        });
    }

    fn proxy_on_request_headers(
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        on_http(context_id, |http| {
            http.on_http_request_headers(num_headers, end_of_stream)
        })
    }

    fn proxy_on_request_body(context_id: u32, body_size: usize, end_of_stream: bool) -> Action {
        on_http(context_id, |http| {
            http.on_http_request_body(body_size, end_of_stream)
        })
    }

    fn proxy_on_request_trailers(context_id: u32, num_trailers: usize) -> Action {
        on_http(context_id, |http| {
            http.on_http_request_trailers(num_trailers)
        })
    }

    fn proxy_on_response_headers(
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        on_http(context_id, |http| {
            http.on_http_response_headers(num_headers, end_of_stream)
        })
    }

    fn proxy_on_response_body(context_id: u32, body_size: usize, end_of_stream: bool) -> Action {
        on_http(context_id, |http| {
            http.on_http_response_body(body_size, end_of_stream)
        })
    }

    fn proxy_on_response_trailers(context_id: u32, num_trailers: usize) -> Action {
        on_http(context_id, |http| {
            http.on_http_response_trailers(num_trailers)
        })
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
