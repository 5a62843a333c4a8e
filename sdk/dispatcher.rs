//! Routes every callback from the host to the right user context.
//!
//! The registry is thread-local (a wasm VM has one thread; natively, each test thread has its own
//! plugin). Contexts live in a slab; a small open-addressing table maps the host's context ids to slab
//! slots. A callback takes its context out of the slot for as long as it runs (the slot is marked
//! running) and puts it back afterwards, so the registry is borrowed only for the two short moves and
//! the callback may call any SDK function meanwhile. What this leaves to handle explicitly:
//! - a callback for a context whose own callback is still running (a re-entrant call) finds the slot
//!   running and is ignored (`Continue` / `true`), as is a callback for an unknown id;
//! - a context the host deletes during its own callback is forgotten at once (its id is free for a new
//!   context) and dropped when that callback returns;
//! - if user code panics (natively: a failing test; on wasm a panic aborts the VM), the context being
//!   called is dropped, the registry stays consistent, and later callbacks for that id are ignored as
//!   for an unknown context.

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

impl Kind {
    fn context(&mut self) -> &mut dyn Context {
        match self {
            Kind::Root(c) => &mut **c,
            Kind::Http(c) => &mut **c,
            Kind::Tcp(c) => &mut **c,
        }
    }
}

/// One slot of the context slab.
enum Slot {
    /// Unused; `next` is the next free slot ([`NO_SLOT`] at the end of the list).
    Free { next: u32 },
    /// A context waiting for its next callback.
    Idle(Kind),
    /// The context is out of its slot: its callback is running.
    Running,
    /// The context is out of its slot and the host deleted it meanwhile: it is dropped, and the slot
    /// freed, when its callback returns.
    Deleted,
}

/// The end of the free list.
const NO_SLOT: u32 = u32::MAX;

struct PendingCall {
    context_id: u32,
    callback: Option<HttpCallback>,
}

struct Registry {
    factory: Option<RootContextFactory>,
    /// Context id -> slab slot, for the live contexts (a deleted running one is already gone here).
    ids: IdTable<u32>,
    slots: Vec<Slot>,
    free: u32,
    /// The id and slot of the context most recently looked up ([`NO_SLOT`]: none): a host calls the
    /// same context several times in a row, so most lookups end here.
    last: (u32, u32),
    /// Call token -> the call's owner (and closure).
    http_calls: IdTable<PendingCall>,
    /// Call token -> the id of the context that opened the gRPC call or stream.
    grpc_calls: IdTable<u32>,
}

impl Registry {
    const fn new(factory: Option<RootContextFactory>) -> Self {
        Registry {
            factory,
            ids: IdTable::new(),
            slots: Vec::new(),
            free: NO_SLOT,
            last: (0, NO_SLOT),
            http_calls: IdTable::new(),
            grpc_calls: IdTable::new(),
        }
    }

    /// Adds a context under `id` (the caller checked that the id is not in use).
    fn insert(&mut self, id: u32, kind: Kind) {
        let index = match self.slots.get_mut(self.free as usize) {
            Some(slot) => {
                let index = self.free;
                if let Slot::Free { next } = *slot {
                    self.free = next;
                }
                *slot = Slot::Idle(kind);
                index
            }
            None => {
                self.slots.push(Slot::Idle(kind));
                (self.slots.len() - 1) as u32
            }
        };
        self.ids.insert(id, index);
        self.last = (id, index);
    }

    fn release(&mut self, index: u32) {
        if let Some(slot) = self.slots.get_mut(index as usize) {
            *slot = Slot::Free { next: self.free };
            self.free = index;
        }
    }

    /// Takes context `id` out of its slot for a callback: its slot index and the context, or `None`
    /// when the id is unknown or its callback is already running.
    #[inline(always)]
    fn take(&mut self, id: u32) -> Option<(u32, Kind)> {
        let index = match self.last {
            (last_id, index) if last_id == id && index != NO_SLOT => index,
            _ => {
                let index = *self.ids.get(id)?;
                self.last = (id, index);
                index
            }
        };
        let slot = self.slots.get_mut(index as usize)?;
        if !matches!(slot, Slot::Idle(_)) {
            return None;
        }
        match std::mem::replace(slot, Slot::Running) {
            Slot::Idle(kind) => Some((index, kind)),
            _ => None,
        }
    }

    /// Puts a context back after its callback; hands it back when it was deleted meanwhile (to be
    /// dropped outside the registry borrow).
    #[inline(always)]
    fn put_back(&mut self, index: u32, kind: Kind) -> Option<Kind> {
        match self.slots.get_mut(index as usize) {
            Some(slot @ Slot::Running) => {
                *slot = Slot::Idle(kind);
                None
            }
            Some(Slot::Deleted) => {
                self.release(index);
                Some(kind)
            }
            // Only after a `reset` during the callback: the slot belongs to nobody now.
            _ => Some(kind),
        }
    }

    /// Forgets context `id`: hands back the context when it was idle; a running one is marked to be
    /// dropped when its callback returns.
    fn remove(&mut self, id: u32) -> Option<Kind> {
        let index = self.ids.remove(id)?;
        if self.last.1 == index {
            self.last = (0, NO_SLOT);
        }
        let slot = self.slots.get_mut(index as usize)?;
        match std::mem::replace(slot, Slot::Deleted) {
            Slot::Idle(kind) => {
                self.release(index);
                Some(kind)
            }
            Slot::Running => None,
            other => {
                *slot = other;
                None
            }
        }
    }
}

thread_local! {
    static REGISTRY: RefCell<Registry> = const { RefCell::new(Registry::new(None)) };
    /// The context whose callback is running; outside the registry so entering and leaving a callback
    /// needs no registry borrow.
    static CURRENT: Cell<u32> = const { Cell::new(0) };
    /// The stream context a root just created, on its way from the root's callback to the registry.
    static CREATED: Cell<Option<Kind>> = const { Cell::new(None) };
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
    REGISTRY.with(|r| f(&mut r.borrow_mut()))
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
    with_registry(|r| r.grpc_calls.insert(token, context_id));
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
    // Dropped outside the borrow: a context's `Drop` may use the SDK.
    drop(old);
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
/// panics (natively; on wasm a panic aborts): then it frees the failed context's slot so the id counts
/// as gone, and puts back the previous current context.
struct OnUnwind {
    id: u32,
    index: u32,
    previous: u32,
}

impl Drop for OnUnwind {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.previous));
        let _ = REGISTRY.try_with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                if r.ids.get(self.id) == Some(&self.index) {
                    r.ids.remove(self.id);
                }
                r.last = (0, NO_SLOT);
                if matches!(
                    r.slots.get(self.index as usize),
                    Some(Slot::Running | Slot::Deleted)
                ) {
                    r.release(self.index);
                }
            }
        });
    }
}

/// A callback from the host, with its arguments, for the context it names.
enum Event {
    Create(u32),
    Done,
    Log,
    VmStart(usize),
    Configure(usize),
    Tick,
    QueueReady(u32),
    Foreign(u32, usize),
    NewConnection,
    DownstreamData(usize, bool),
    DownstreamClose(PeerType),
    UpstreamData(usize, bool),
    UpstreamClose(PeerType),
    RequestHeaders(usize, bool),
    RequestBody(usize, bool),
    RequestTrailers(usize),
    ResponseHeaders(usize, bool),
    ResponseBody(usize, bool),
    ResponseTrailers(usize),
    HttpCallResponse(u32, usize, usize, usize),
    GrpcInitialMetadata(u32, usize),
    GrpcMessage(u32, usize),
    GrpcTrailingMetadata(u32, usize),
    GrpcClose(u32, u32),
}

/// What a context answered; `Nothing` also when the event does not apply to the context's kind (a
/// created stream context goes through [`CREATED`], so answers need no drop).
#[derive(Clone, Copy)]
enum Answer {
    Nothing,
    Action(Action),
    Bool(bool),
}

/// Delivers `event` to `context`.
#[inline(always)]
fn handle(context: &mut Kind, event: Event) -> Answer {
    use Event as E;
    match (context, event) {
        (Kind::Root(root), E::Create(id)) => {
            let created = match root.new_tcp_context(id) {
                Some(tcp) => Some(Kind::Tcp(tcp)),
                None => root.new_http_context(id).map(Kind::Http),
            };
            CREATED.with(|c| c.set(created));
            Answer::Nothing
        }
        (Kind::Root(root), E::Done) => Answer::Bool(root.on_done()),
        (Kind::Http(http), E::Done) => {
            http.on_http_stream_done();
            Answer::Bool(http.on_done())
        }
        (Kind::Tcp(tcp), E::Done) => {
            tcp.on_stream_done();
            Answer::Bool(tcp.on_done())
        }
        (context, E::Log) => {
            context.context().on_log();
            Answer::Nothing
        }
        (Kind::Root(root), E::VmStart(size)) => {
            Answer::Bool(crate::config::during(crate::config::Start::Vm, || {
                root.on_vm_start(size)
            }))
        }
        (Kind::Root(root), E::Configure(size)) => {
            Answer::Bool(crate::config::during(crate::config::Start::Plugin, || {
                root.on_plugin_start(size)
            }))
        }
        (Kind::Root(root), E::Tick) => {
            root.on_tick();
            Answer::Nothing
        }
        (Kind::Root(root), E::QueueReady(queue)) => {
            root.on_queue_ready(queue);
            Answer::Nothing
        }
        (Kind::Root(root), E::Foreign(function, size)) => {
            root.on_foreign_function(function, size);
            Answer::Nothing
        }
        (Kind::Tcp(tcp), E::NewConnection) => Answer::Action(tcp.on_new_connection()),
        (Kind::Tcp(tcp), E::DownstreamData(size, end)) => {
            Answer::Action(tcp.on_downstream_data(size, end))
        }
        (Kind::Tcp(tcp), E::DownstreamClose(peer)) => {
            tcp.on_downstream_close(peer);
            Answer::Nothing
        }
        (Kind::Tcp(tcp), E::UpstreamData(size, end)) => {
            Answer::Action(tcp.on_upstream_data(size, end))
        }
        (Kind::Tcp(tcp), E::UpstreamClose(peer)) => {
            tcp.on_upstream_close(peer);
            Answer::Nothing
        }
        (Kind::Http(http), E::RequestHeaders(n, end)) => {
            Answer::Action(http.on_http_request_headers(n, end))
        }
        (Kind::Http(http), E::RequestBody(size, end)) => {
            Answer::Action(http.on_http_request_body(size, end))
        }
        (Kind::Http(http), E::RequestTrailers(n)) => {
            Answer::Action(http.on_http_request_trailers(n))
        }
        (Kind::Http(http), E::ResponseHeaders(n, end)) => {
            Answer::Action(http.on_http_response_headers(n, end))
        }
        (Kind::Http(http), E::ResponseBody(size, end)) => {
            Answer::Action(http.on_http_response_body(size, end))
        }
        (Kind::Http(http), E::ResponseTrailers(n)) => {
            Answer::Action(http.on_http_response_trailers(n))
        }
        (context, E::HttpCallResponse(token, headers, body, trailers)) => {
            context
                .context()
                .on_http_call_response(token, headers, body, trailers);
            Answer::Nothing
        }
        (context, E::GrpcInitialMetadata(token, n)) => {
            context.context().on_grpc_receive_initial_metadata(token, n);
            Answer::Nothing
        }
        (context, E::GrpcMessage(token, size)) => {
            context.context().on_grpc_receive(token, size);
            Answer::Nothing
        }
        (context, E::GrpcTrailingMetadata(token, n)) => {
            context
                .context()
                .on_grpc_receive_trailing_metadata(token, n);
            Answer::Nothing
        }
        (context, E::GrpcClose(token, status)) => {
            context.context().on_grpc_close(token, status);
            Answer::Nothing
        }
        _ => Answer::Nothing,
    }
}

/// Delivers `event` to context `id` as the current context: takes the context out of its slot, runs
/// the callback, puts it back. `None` for an unknown id (or one whose callback is already running).
/// One function for every callback, so the registry's hot path exists once in the binary.
fn dispatch(id: u32, event: Event) -> Option<Answer> {
    // `try_borrow_mut`: the registry is never borrowed across a callback, and this form stays inline.
    let (index, mut kind) =
        REGISTRY.with(|r| r.try_borrow_mut().ok().and_then(|mut r| r.take(id)))?;
    let previous = replace_current(id);
    let on_unwind = OnUnwind {
        id,
        index,
        previous,
    };
    let answer = handle(&mut kind, event);
    std::mem::forget(on_unwind);
    replace_current(previous);
    // A context deleted during its callback is dropped here, outside the registry borrow.
    drop(REGISTRY.with(|r| match r.try_borrow_mut() {
        Ok(mut r) => r.put_back(index, kind),
        // Unreachable (nothing holds the registry between callbacks): the context is dropped.
        Err(_) => Some(kind),
    }));
    Some(answer)
}

/// The action a context answered; `Continue` when it has none.
fn action(answer: Option<Answer>) -> Action {
    match answer {
        Some(Answer::Action(action)) => action,
        _ => Action::Continue,
    }
}

/// The boolean a context answered; `default` when it has none.
fn boolean(answer: Option<Answer>, default: bool) -> BoolResult {
    let value = match answer {
        Some(Answer::Bool(value)) => value,
        _ => default,
    };
    if value {
        BoolResult::True
    } else {
        BoolResult::False
    }
}

fn peer(peer: Result<PeerType, UnknownEnumValue>) -> PeerType {
    peer.unwrap_or(PeerType::Unknown)
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
        None => {
            dispatch(
                call.context_id,
                Event::HttpCallResponse(token, num_headers, body_size, num_trailers),
            );
        }
    }
}

fn deliver_grpc(token: u32, grpc_event: GrpcEvent, event: Event) {
    let close = matches!(grpc_event, GrpcEvent::Close(_));
    let owner = with_registry(|r| {
        if close {
            r.grpc_calls.remove(token)
        } else {
            r.grpc_calls.get(token).copied()
        }
    });
    if let Some(id) = owner {
        let _ = crate::context::set_effective_context(id);
        if task_hook(HostEvent::Grpc {
            token,
            event: grpc_event,
        }) {
            return;
        }
        dispatch(id, event);
    }
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
        if with_registry(|r| r.ids.get(context_id).is_some()) {
            crate::logging::error(&format!(
                "proxywasm: context {context_id} already exists; the duplicate creation (parent \
                 {parent_context_id}) is ignored"
            ));
            return;
        }
        let created = if parent_context_id == 0 {
            let Some(factory) = with_registry(|r| r.factory) else {
                return;
            };
            Kind::Root(factory(context_id))
        } else {
            dispatch(parent_context_id, Event::Create(context_id));
            match CREATED.with(Cell::take) {
                Some(kind) => kind,
                None => return,
            }
        };
        with_registry(|r| r.insert(context_id, created));
    }

    fn proxy_on_done(context_id: u32) -> BoolResult {
        boolean(dispatch(context_id, Event::Done), true)
    }

    fn proxy_on_log(context_id: u32) {
        dispatch(context_id, Event::Log);
    }

    fn proxy_on_delete(context_id: u32) {
        let removed = with_registry(|r| {
            if !r.http_calls.is_empty() {
                r.http_calls.retain(|c| c.context_id != context_id);
            }
            if !r.grpc_calls.is_empty() {
                r.grpc_calls.retain(|owner| *owner != context_id);
            }
            r.remove(context_id)
        });
        // Dropped outside the registry borrow: a context's `Drop` may use the SDK.
        drop(removed);
        task_hook(HostEvent::ContextDeleted(context_id));
    }

    fn proxy_on_vm_start(context_id: u32, vm_configuration_size: usize) -> BoolResult {
        boolean(
            dispatch(context_id, Event::VmStart(vm_configuration_size)),
            false,
        )
    }

    fn proxy_on_configure(context_id: u32, plugin_configuration_size: usize) -> BoolResult {
        boolean(
            dispatch(context_id, Event::Configure(plugin_configuration_size)),
            false,
        )
    }

    fn proxy_on_tick(context_id: u32) {
        dispatch(context_id, Event::Tick);
        task_hook(HostEvent::Tick);
    }

    fn proxy_on_queue_ready(context_id: u32, queue_id: u32) {
        dispatch(context_id, Event::QueueReady(queue_id));
        task_hook(HostEvent::QueueReady(queue_id));
    }

    fn proxy_on_foreign_function(context_id: u32, function_id: u32, arguments_size: usize) {
        dispatch(context_id, Event::Foreign(function_id, arguments_size));
    }

    fn proxy_on_new_connection(context_id: u32) -> Action {
        action(dispatch(context_id, Event::NewConnection))
    }

    fn proxy_on_downstream_data(context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        action(dispatch(
            context_id,
            Event::DownstreamData(data_size, end_of_stream),
        ))
    }

    fn proxy_on_downstream_connection_close(
        context_id: u32,
        peer_type: Result<PeerType, UnknownEnumValue>,
    ) {
        dispatch(context_id, Event::DownstreamClose(peer(peer_type)));
    }

    fn proxy_on_upstream_data(context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        action(dispatch(
            context_id,
            Event::UpstreamData(data_size, end_of_stream),
        ))
    }

    fn proxy_on_upstream_connection_close(
        context_id: u32,
        peer_type: Result<PeerType, UnknownEnumValue>,
    ) {
        dispatch(context_id, Event::UpstreamClose(peer(peer_type)));
    }

    fn proxy_on_request_headers(
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        action(dispatch(
            context_id,
            Event::RequestHeaders(num_headers, end_of_stream),
        ))
    }

    fn proxy_on_request_body(context_id: u32, body_size: usize, end_of_stream: bool) -> Action {
        action(dispatch(
            context_id,
            Event::RequestBody(body_size, end_of_stream),
        ))
    }

    fn proxy_on_request_trailers(context_id: u32, num_trailers: usize) -> Action {
        action(dispatch(context_id, Event::RequestTrailers(num_trailers)))
    }

    fn proxy_on_response_headers(
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        action(dispatch(
            context_id,
            Event::ResponseHeaders(num_headers, end_of_stream),
        ))
    }

    fn proxy_on_response_body(context_id: u32, body_size: usize, end_of_stream: bool) -> Action {
        action(dispatch(
            context_id,
            Event::ResponseBody(body_size, end_of_stream),
        ))
    }

    fn proxy_on_response_trailers(context_id: u32, num_trailers: usize) -> Action {
        action(dispatch(context_id, Event::ResponseTrailers(num_trailers)))
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
        deliver_grpc(
            call_id,
            GrpcEvent::InitialMetadata,
            Event::GrpcInitialMetadata(call_id, num_elements),
        );
    }

    fn proxy_on_grpc_receive(_context_id: u32, call_id: u32, message_size: usize) {
        deliver_grpc(
            call_id,
            GrpcEvent::Message,
            Event::GrpcMessage(call_id, message_size),
        );
    }

    fn proxy_on_grpc_receive_trailing_metadata(
        _context_id: u32,
        call_id: u32,
        num_elements: usize,
    ) {
        deliver_grpc(
            call_id,
            GrpcEvent::TrailingMetadata,
            Event::GrpcTrailingMetadata(call_id, num_elements),
        );
    }

    fn proxy_on_grpc_close(_context_id: u32, call_id: u32, status_code: u32) {
        deliver_grpc(
            call_id,
            GrpcEvent::Close(status_code),
            Event::GrpcClose(call_id, status_code),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    thread_local! {
        static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    fn event(e: impl Into<String>) {
        EVENTS.with(|v| v.borrow_mut().push(e.into()));
    }

    fn events() -> Vec<String> {
        EVENTS.with(|v| std::mem::take(&mut *v.borrow_mut()))
    }

    struct Root;
    impl Context for Root {}
    impl RootContext for Root {
        fn on_vm_start(&mut self, size: usize) -> bool {
            event(format!("vm_start {size}"));
            true
        }
        fn new_http_context(&mut self, id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Stream(id)))
        }
    }

    struct Stream(u32);
    impl Context for Stream {
        fn on_http_call_response(
            &mut self,
            token: u32,
            headers: usize,
            body: usize,
            trailers: usize,
        ) {
            event(format!(
                "{} call {token}: {headers} {body} {trailers}",
                self.0
            ));
        }
    }
    impl HttpContext for Stream {
        fn on_http_request_headers(&mut self, n: usize, eos: bool) -> Action {
            if n == 99 {
                panic!("user code failed");
            }
            event(format!("{} headers {n} {eos}", self.0));
            Action::Pause
        }
    }

    /// Runs `f` as context `id`'s callback would (the current context set).
    fn as_context(id: u32, f: impl FnOnce()) {
        let previous = replace_current(id);
        f();
        replace_current(previous);
    }

    fn fresh() {
        reset();
        set_root_context_factory(|_| Box::new(Root));
        events();
    }

    #[test]
    fn routes_callbacks_to_the_right_context_kind() {
        fresh();
        Dispatcher::proxy_on_context_create(1, 0);
        assert_eq!(Dispatcher::proxy_on_vm_start(1, 7), BoolResult::True);
        Dispatcher::proxy_on_context_create(2, 1);
        assert_eq!(
            Dispatcher::proxy_on_request_headers(2, 3, true),
            Action::Pause
        );
        // A TCP callback on an HTTP context, and any callback on an unknown context, do nothing.
        assert_eq!(
            Dispatcher::proxy_on_downstream_data(2, 10, false),
            Action::Continue
        );
        assert_eq!(
            Dispatcher::proxy_on_request_headers(42, 1, false),
            Action::Continue
        );
        assert_eq!(Dispatcher::proxy_on_vm_start(2, 0), BoolResult::False);
        assert_eq!(events(), ["vm_start 7", "2 headers 3 true"]);
        assert_eq!(Dispatcher::proxy_on_done(2), BoolResult::True);
        Dispatcher::proxy_on_delete(2);
        assert_eq!(registry_size(), (1, 0));
    }

    struct DeletesItself(Rc<Cell<bool>>);
    impl Drop for DeletesItself {
        fn drop(&mut self) {
            // A context's Drop may use the SDK: the registry is not borrowed while it runs.
            let _ = registry_size();
            self.0.set(true);
        }
    }
    impl Context for DeletesItself {}
    impl HttpContext for DeletesItself {
        fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
            // The host deletes the context, then calls it again, while this callback runs.
            Dispatcher::proxy_on_delete(current_context_id());
            assert!(!self.0.get(), "dropped while its callback still runs");
            assert_eq!(
                Dispatcher::proxy_on_request_headers(current_context_id(), 1, false),
                Action::Continue
            );
            Action::Pause
        }
    }

    #[test]
    fn a_context_deleted_during_its_own_callback_lives_until_the_callback_returns() {
        fresh();
        let dropped = Rc::new(Cell::new(false));
        Dispatcher::proxy_on_context_create(1, 0);
        let context = DeletesItself(dropped.clone());
        REGISTRY.with(|r| r.borrow_mut().insert(2, Kind::Http(Box::new(context))));
        assert_eq!(
            Dispatcher::proxy_on_request_headers(2, 1, false),
            Action::Pause
        );
        assert!(dropped.get());
        assert_eq!(current_context_id(), 0);
        assert_eq!(registry_size(), (1, 0));
    }

    struct Configured(u32);
    impl Context for Configured {}
    impl RootContext for Configured {
        fn on_plugin_start(&mut self, size: usize) -> bool {
            self.0 = size as u32;
            true
        }
        fn on_tick(&mut self) {
            event(format!("configured with {}", self.0));
        }
        fn new_http_context(&mut self, id: u32) -> Option<Box<dyn HttpContext>> {
            event(format!("stream {id} created"));
            Some(Box::new(Stream(id)))
        }
    }

    #[test]
    fn a_duplicate_context_id_does_not_replace_the_live_context() {
        fresh();
        set_root_context_factory(|_| Box::new(Configured(0)));
        Dispatcher::proxy_on_context_create(1, 0);
        Dispatcher::proxy_on_configure(1, 7);
        Dispatcher::proxy_on_context_create(2, 1);
        // The host creates root 1 again, and stream 2 again under it.
        Dispatcher::proxy_on_context_create(1, 0);
        Dispatcher::proxy_on_context_create(2, 1);
        Dispatcher::proxy_on_tick(1);
        assert_eq!(events(), ["stream 2 created", "configured with 7"]);
        assert_eq!(registry_size(), (2, 0));
    }

    struct Counted(Rc<Cell<u32>>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    impl Context for Counted {}
    impl HttpContext for Counted {
        fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
            Action::Pause
        }
    }

    #[test]
    fn a_deleted_context_is_dropped_and_forgotten_though_it_was_the_most_recent() {
        fresh();
        let drops = Rc::new(Cell::new(0));
        Dispatcher::proxy_on_context_create(1, 0);
        for id in [2, 3] {
            let context = Counted(drops.clone());
            REGISTRY.with(|r| r.borrow_mut().insert(id, Kind::Http(Box::new(context))));
            assert_eq!(
                Dispatcher::proxy_on_request_headers(id, 1, false),
                Action::Pause
            );
            Dispatcher::proxy_on_delete(id);
            assert_eq!(drops.get(), id - 1, "dropped at its deletion");
            // Gone, though its slot is reused by the next one.
            assert_eq!(
                Dispatcher::proxy_on_request_headers(id, 1, false),
                Action::Continue
            );
        }
        // The reused slot serves a new stream, and the root is still found.
        Dispatcher::proxy_on_context_create(4, 1);
        assert_eq!(
            Dispatcher::proxy_on_request_headers(4, 3, true),
            Action::Pause
        );
        assert_eq!(events(), ["4 headers 3 true"]);
        assert_eq!(
            Dispatcher::proxy_on_request_headers(2, 1, false),
            Action::Continue
        );
        assert_eq!(registry_size(), (2, 0));
    }

    #[test]
    fn a_stream_context_needs_a_known_root() {
        fresh();
        Dispatcher::proxy_on_context_create(5, 4);
        assert_eq!(registry_size(), (0, 0));
    }

    #[test]
    fn http_call_responses_reach_the_closure_or_the_dispatching_context() {
        fresh();
        Dispatcher::proxy_on_context_create(1, 0);
        Dispatcher::proxy_on_context_create(2, 1);
        let seen = Rc::new(Cell::new(None));
        let inner = seen.clone();
        as_context(2, || {
            register_http_call(
                10,
                Some(Box::new(move |h, b, t| inner.set(Some((h, b, t))))),
            );
            register_http_call(11, None);
        });
        assert_eq!(registry_size(), (2, 2));
        Dispatcher::proxy_on_http_call_response(1, 10, 1, 2, 3);
        assert_eq!(seen.get(), Some((1, 2, 3)));
        Dispatcher::proxy_on_http_call_response(1, 11, 4, 5, 6);
        assert_eq!(events(), ["2 call 11: 4 5 6"]);
        // Delivered once: a repeated or unknown token is ignored.
        Dispatcher::proxy_on_http_call_response(1, 11, 0, 0, 0);
        assert!(events().is_empty());
        assert_eq!(registry_size(), (2, 0));
    }

    #[test]
    fn deleting_a_context_forgets_its_pending_calls() {
        fresh();
        Dispatcher::proxy_on_context_create(1, 0);
        Dispatcher::proxy_on_context_create(2, 1);
        as_context(2, || register_http_call(7, None));
        Dispatcher::proxy_on_delete(2);
        assert_eq!(registry_size(), (1, 0));
    }

    #[test]
    fn a_panic_in_user_code_drops_that_context_and_leaves_the_registry_usable() {
        fresh();
        Dispatcher::proxy_on_context_create(1, 0);
        Dispatcher::proxy_on_context_create(2, 1);
        Dispatcher::proxy_on_context_create(3, 1);
        let panicked =
            std::panic::catch_unwind(|| Dispatcher::proxy_on_request_headers(2, 99, false));
        assert!(panicked.is_err());
        assert_eq!(
            current_context_id(),
            0,
            "the current context is not left pointing at the failed one"
        );
        assert_eq!(
            Dispatcher::proxy_on_request_headers(2, 1, false),
            Action::Continue,
            "context 2 is gone"
        );
        assert_eq!(
            Dispatcher::proxy_on_request_headers(3, 1, false),
            Action::Pause,
            "others still work"
        );
        assert_eq!(registry_size(), (2, 0));
    }

    /// Deletes itself, lets the host create a new context under the same id, and checks that both the
    /// re-entrant call to itself and the calls to the new context behave.
    struct ReusesItsId(Rc<Cell<bool>>);
    impl Drop for ReusesItsId {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    impl Context for ReusesItsId {}
    impl HttpContext for ReusesItsId {
        fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
            let id = current_context_id();
            Dispatcher::proxy_on_delete(id);
            // The id is free at once: the host may give it to a new stream.
            Dispatcher::proxy_on_context_create(id, 1);
            assert_eq!(
                Dispatcher::proxy_on_request_headers(id, 5, true),
                Action::Pause,
                "the new context under the reused id runs"
            );
            assert_eq!(current_context_id(), id, "the current context is restored");
            assert!(!self.0.get());
            Action::Continue
        }
    }

    #[test]
    fn an_id_deleted_during_its_callback_can_be_reused_at_once() {
        fresh();
        let dropped = Rc::new(Cell::new(false));
        Dispatcher::proxy_on_context_create(1, 0);
        let context = ReusesItsId(dropped.clone());
        REGISTRY.with(|r| r.borrow_mut().insert(2, Kind::Http(Box::new(context))));
        assert_eq!(
            Dispatcher::proxy_on_request_headers(2, 1, false),
            Action::Continue
        );
        assert!(
            dropped.get(),
            "the deleted context is dropped when its callback returns"
        );
        // The new context under id 2 is the one left.
        assert_eq!(
            Dispatcher::proxy_on_request_headers(2, 3, false),
            Action::Pause
        );
        assert_eq!(events(), ["2 headers 5 true", "2 headers 3 false"]);
        assert_eq!(registry_size(), (2, 0));
        Dispatcher::proxy_on_delete(2);
        Dispatcher::proxy_on_delete(2);
        assert_eq!(registry_size(), (1, 0));
    }

    /// A root whose tick calls back into itself (ignored) and into one of its streams (delivered).
    struct Reenters;
    impl Context for Reenters {}
    impl RootContext for Reenters {
        fn on_tick(&mut self) {
            let id = current_context_id();
            Dispatcher::proxy_on_tick(id);
            assert_eq!(Dispatcher::proxy_on_vm_start(id, 1), BoolResult::False);
            assert_eq!(
                Dispatcher::proxy_on_request_headers(2, 4, false),
                Action::Pause
            );
            assert_eq!(current_context_id(), id);
            event("tick");
        }
        fn new_http_context(&mut self, id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Stream(id)))
        }
    }

    #[test]
    fn a_reentrant_callback_reaches_other_contexts_but_not_the_running_one() {
        fresh();
        set_root_context_factory(|_| Box::new(Reenters));
        Dispatcher::proxy_on_context_create(1, 0);
        Dispatcher::proxy_on_context_create(2, 1);
        Dispatcher::proxy_on_tick(1);
        assert_eq!(events(), ["2 headers 4 false", "tick"]);
        assert_eq!(current_context_id(), 0);
        // The root was put back: it runs again.
        Dispatcher::proxy_on_tick(1);
        assert_eq!(events(), ["2 headers 4 false", "tick"]);
    }

    #[test]
    fn unknown_ids_get_the_default_answers() {
        fresh();
        for id in [0, 7, u32::MAX] {
            assert_eq!(
                Dispatcher::proxy_on_request_headers(id, 1, false),
                Action::Continue
            );
            assert_eq!(
                Dispatcher::proxy_on_downstream_data(id, 1, false),
                Action::Continue
            );
            assert_eq!(Dispatcher::proxy_on_done(id), BoolResult::True);
            assert_eq!(Dispatcher::proxy_on_configure(id, 1), BoolResult::False);
            Dispatcher::proxy_on_log(id);
            Dispatcher::proxy_on_tick(id);
            Dispatcher::proxy_on_delete(id);
        }
        assert!(events().is_empty());
        assert_eq!(registry_size(), (0, 0));
    }

    #[test]
    fn many_streams_come_and_go_and_their_ids_are_reused() {
        fresh();
        Dispatcher::proxy_on_context_create(1, 0);
        for round in 0..3 {
            for id in 2..200 {
                Dispatcher::proxy_on_context_create(id, 1);
            }
            assert_eq!(registry_size(), (199, 0));
            for id in (2..200).rev().step_by(3) {
                Dispatcher::proxy_on_delete(id);
            }
            for id in 2..200 {
                let live = (199 - id) % 3 != 0;
                let expected = if live {
                    Action::Pause
                } else {
                    Action::Continue
                };
                assert_eq!(
                    Dispatcher::proxy_on_request_headers(id, round, false),
                    expected,
                    "stream {id}"
                );
            }
            for id in 2..200 {
                Dispatcher::proxy_on_delete(id);
            }
            assert_eq!(registry_size(), (1, 0));
            events();
        }
    }
}
