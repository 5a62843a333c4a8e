//! Routes every callback from the host to the right user context.
//!
//! The registry is thread-local (a wasm VM has one thread; natively, each test thread has its own
//! plugin). Each context lives in a shared slot of its own: a callback finds the slot with one lookup,
//! releases the registry and runs with the slot borrowed, so the callback may call any SDK function
//! (dispatch an HTTP call, …) without re-entering a registry borrow, and nothing has to be put back
//! afterwards. A callback for a context whose own callback is still running is ignored. If the host
//! deletes a context during its own callback, the context lives until that callback returns. If user
//! code panics (natively: a failing test; on wasm a panic aborts the VM), the context being called is
//! dropped, the registry stays consistent, and later callbacks for that id are ignored as for an unknown
//! context (they return `Continue` / `true`).

use crate::abi::{Action, BoolResult, Callbacks, PeerType, UnknownEnumValue};
use crate::traits::{Context, HttpContext, RootContext, TcpContext};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// Creates the root context of each plugin configuration.
pub type RootContextFactory = fn(context_id: u32) -> Box<dyn RootContext>;

/// A closure that receives an HTTP call's response: header count, body size, trailer count.
pub type HttpCallback = Box<dyn FnOnce(usize, usize, usize)>;

enum Kind {
    Root(Box<dyn RootContext>),
    Http(Box<dyn HttpContext>),
    Tcp(Box<dyn TcpContext>),
    /// A slot kept for the next context after its own was deleted (never in the context map).
    Vacant,
}

impl Kind {
    fn context(&mut self) -> Option<&mut dyn Context> {
        match self {
            Kind::Root(c) => Some(&mut **c),
            Kind::Http(c) => Some(&mut **c),
            Kind::Tcp(c) => Some(&mut **c),
            Kind::Vacant => None,
        }
    }
}

struct PendingCall {
    context_id: u32,
    callback: Option<HttpCallback>,
}

/// Hashes the host's context ids and call tokens: small integers the host chooses, not an attacker, so
/// a multiplicative hash (Fibonacci hashing) spreads them well at a fraction of SipHash's cost.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, id: u32) {
        self.write_u64(u64::from(id));
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = (self.0 ^ id).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;

/// One context's home: shared so a running callback keeps it alive, borrowed while it runs.
type Slot = Rc<RefCell<Kind>>;

#[derive(Default)]
struct Registry {
    factory: Option<RootContextFactory>,
    contexts: IdMap<Slot>,
    /// The root and the stream context most recently created or called: a host calls the same
    /// stream several times in a row and creates streams under the same root, so most lookups end
    /// here without hashing. Always also in `contexts`; removed from here when removed from there.
    recent: [Option<(u32, Slot)>; 2],
    /// The slot of the last deleted stream context, emptied, reused by the next one: one allocation
    /// less per stream.
    spare: Option<Slot>,
    http_calls: IdMap<PendingCall>,
    grpc_calls: IdMap<u32>,
}

/// Which `recent` entry a kind of context uses.
fn recent_index(kind: &Kind) -> usize {
    match kind {
        Kind::Root(_) => 0,
        _ => 1,
    }
}

impl Registry {
    const fn new() -> Self {
        Registry {
            factory: None,
            contexts: HashMap::with_hasher(BuildHasherDefault::new()),
            recent: [None, None],
            spare: None,
            http_calls: HashMap::with_hasher(BuildHasherDefault::new()),
            grpc_calls: HashMap::with_hasher(BuildHasherDefault::new()),
        }
    }

    /// The slot of context `id`, from `recent` when it is there.
    fn find(&mut self, id: u32) -> Option<Slot> {
        for (recent_id, slot) in self.recent.iter().flatten() {
            if *recent_id == id {
                return Some(slot.clone());
            }
        }
        let slot = self.contexts.get(&id)?.clone();
        // A borrowed slot is running its callback; its kind is still readable through `try_borrow`.
        if let Ok(kind) = slot.try_borrow() {
            self.recent[recent_index(&kind)] = Some((id, slot.clone()));
        }
        Some(slot)
    }

    fn insert(&mut self, id: u32, kind: Kind) {
        let index = recent_index(&kind);
        let slot = match self.spare.take() {
            // The spare holds `Kind::Vacant`, which drops nothing.
            Some(spare) => {
                *spare.borrow_mut() = kind;
                spare
            }
            None => Rc::new(RefCell::new(kind)),
        };
        self.recent[index] = Some((id, slot.clone()));
        self.contexts.insert(id, slot);
    }

    fn remove(&mut self, id: u32) -> Option<Slot> {
        for recent in &mut self.recent {
            if recent
                .as_ref()
                .is_some_and(|(recent_id, _)| *recent_id == id)
            {
                *recent = None;
            }
        }
        self.contexts.remove(&id)
    }
}

thread_local! {
    static REGISTRY: RefCell<Registry> = const { RefCell::new(Registry::new()) };
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
    with_registry(|r| {
        let context_id = current_context_id();
        r.http_calls.insert(
            token,
            PendingCall {
                context_id,
                callback,
            },
        );
    });
}

/// Remembers a gRPC call or stream opened by the current context.
pub(crate) fn register_grpc_call(token: u32) {
    with_registry(|r| {
        let context_id = current_context_id();
        r.grpc_calls.insert(token, context_id);
    });
}

/// How many contexts and pending calls the registry holds (for leak checks in tests).
pub fn registry_size() -> (usize, usize) {
    with_registry(|r| (r.contexts.len(), r.http_calls.len() + r.grpc_calls.len()))
}

/// Forgets every context, pending call and remembered metric id, keeping the root factory. The host
/// emulator calls this when a new emulated VM starts on this thread.
pub fn reset() {
    crate::metrics::forget_definitions();
    with_registry(|r| {
        let factory = r.factory;
        *r = Registry {
            factory,
            ..Registry::default()
        };
    });
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

/// Armed while a context's callback runs. Dropped only when the callback panics: then it removes the
/// failed context from the registry, so it counts as gone.
struct RemoveOnPanic(u32);

impl Drop for RemoveOnPanic {
    fn drop(&mut self) {
        let id = self.0;
        let _ = REGISTRY.try_with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                r.remove(id);
            }
        });
    }
}

/// Runs `f` on context `id` as the current context; `None` for an unknown id (or one whose callback is
/// already running).
fn with_context<T>(id: u32, f: impl FnOnce(&mut Kind) -> T) -> Option<T> {
    let slot = with_registry(|r| r.find(id))?;
    let mut kind = slot.try_borrow_mut().ok()?;
    let _restore = RestoreCurrent(replace_current(id));
    let on_panic = RemoveOnPanic(id);
    let result = f(&mut kind);
    std::mem::forget(on_panic);
    Some(result)
}

fn action(id: u32, f: impl FnOnce(&mut Kind) -> Option<Action>) -> Action {
    with_context(id, f).flatten().unwrap_or(Action::Continue)
}

fn bool_result(value: bool) -> BoolResult {
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
    let Some(call) = with_registry(|r| r.http_calls.remove(&token)) else {
        return;
    };
    match call.callback {
        Some(callback) => {
            let _restore = RestoreCurrent(replace_current(call.context_id));
            let _ = crate::context::set_effective_context(call.context_id);
            callback(num_headers, body_size, num_trailers);
        }
        None => {
            let _ = crate::context::set_effective_context(call.context_id);
            with_context(call.context_id, |k| {
                if let Some(c) = k.context() {
                    c.on_http_call_response(token, num_headers, body_size, num_trailers);
                }
            });
        }
    }
}

fn deliver_grpc(token: u32, event: GrpcEvent, f: impl FnOnce(&mut dyn Context)) {
    let close = matches!(event, GrpcEvent::Close(_));
    let owner = with_registry(|r| {
        if close {
            r.grpc_calls.remove(&token)
        } else {
            r.grpc_calls.get(&token).copied()
        }
    });
    if let Some(id) = owner {
        let _ = crate::context::set_effective_context(id);
        if task_hook(HostEvent::Grpc { token, event }) {
            return;
        }
        with_context(id, |k| k.context().map(f));
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
        if with_registry(|r| r.contexts.contains_key(&context_id)) {
            crate::logging::error(&format!(
                "proxywasm: context {context_id} already exists; the duplicate creation (parent \
                 {parent_context_id}) is ignored"
            ));
            return;
        }
        if parent_context_id == 0 {
            let Some(factory) = with_registry(|r| r.factory) else {
                return;
            };
            let root = factory(context_id);
            with_registry(|r| r.insert(context_id, Kind::Root(root)));
            return;
        }
        let created = with_context(parent_context_id, |parent| match parent {
            Kind::Root(root) => match root.new_tcp_context(context_id) {
                Some(tcp) => Some(Kind::Tcp(tcp)),
                None => root.new_http_context(context_id).map(Kind::Http),
            },
            _ => None,
        })
        .flatten();
        if let Some(kind) = created {
            with_registry(|r| r.insert(context_id, kind));
        }
    }

    fn proxy_on_done(context_id: u32) -> BoolResult {
        bool_result(
            with_context(context_id, |k| {
                if let Kind::Http(c) = k {
                    c.on_http_stream_done();
                }
                if let Kind::Tcp(c) = k {
                    c.on_stream_done();
                }
                k.context().is_none_or(|c| c.on_done())
            })
            .unwrap_or(true),
        )
    }

    fn proxy_on_log(context_id: u32) {
        with_context(context_id, |k| k.context().map(|c| c.on_log()));
    }

    fn proxy_on_delete(context_id: u32) {
        let slot = with_registry(|r| {
            let slot = r.remove(context_id);
            if !r.http_calls.is_empty() {
                r.http_calls.retain(|_, c| c.context_id != context_id);
            }
            if !r.grpc_calls.is_empty() {
                r.grpc_calls.retain(|_, c| *c != context_id);
            }
            slot
        });
        // Dropped outside the registry borrow: a context's `Drop` may use the SDK. A slot nobody else
        // holds (its callback is not running) is emptied and kept for the next context.
        if let Some(slot) = slot {
            if Rc::strong_count(&slot) == 1 {
                let context = slot
                    .try_borrow_mut()
                    .map(|mut k| std::mem::replace(&mut *k, Kind::Vacant));
                drop(context);
                with_registry(|r| r.spare = Some(slot));
            }
        }
        task_hook(HostEvent::ContextDeleted(context_id));
    }

    fn proxy_on_vm_start(context_id: u32, vm_configuration_size: usize) -> BoolResult {
        bool_result(
            with_context(context_id, |k| match k {
                Kind::Root(r) => crate::config::during(crate::config::Start::Vm, || {
                    r.on_vm_start(vm_configuration_size)
                }),
                _ => false,
            })
            .unwrap_or(false),
        )
    }

    fn proxy_on_configure(context_id: u32, plugin_configuration_size: usize) -> BoolResult {
        bool_result(
            with_context(context_id, |k| match k {
                Kind::Root(r) => crate::config::during(crate::config::Start::Plugin, || {
                    r.on_plugin_start(plugin_configuration_size)
                }),
                _ => false,
            })
            .unwrap_or(false),
        )
    }

    fn proxy_on_tick(context_id: u32) {
        with_context(context_id, |k| {
            if let Kind::Root(r) = k {
                r.on_tick();
            }
        });
        task_hook(HostEvent::Tick);
    }

    fn proxy_on_queue_ready(context_id: u32, queue_id: u32) {
        with_context(context_id, |k| {
            if let Kind::Root(r) = k {
                r.on_queue_ready(queue_id);
            }
        });
        task_hook(HostEvent::QueueReady(queue_id));
    }

    fn proxy_on_foreign_function(context_id: u32, function_id: u32, arguments_size: usize) {
        with_context(context_id, |k| {
            if let Kind::Root(r) = k {
                r.on_foreign_function(function_id, arguments_size);
            }
        });
    }

    fn proxy_on_new_connection(context_id: u32) -> Action {
        action(context_id, |k| match k {
            Kind::Tcp(c) => Some(c.on_new_connection()),
            _ => None,
        })
    }

    fn proxy_on_downstream_data(context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        action(context_id, |k| match k {
            Kind::Tcp(c) => Some(c.on_downstream_data(data_size, end_of_stream)),
            _ => None,
        })
    }

    fn proxy_on_downstream_connection_close(
        context_id: u32,
        peer_type: Result<PeerType, UnknownEnumValue>,
    ) {
        with_context(context_id, |k| {
            if let Kind::Tcp(c) = k {
                c.on_downstream_close(peer(peer_type));
            }
        });
    }

    fn proxy_on_upstream_data(context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        action(context_id, |k| match k {
            Kind::Tcp(c) => Some(c.on_upstream_data(data_size, end_of_stream)),
            _ => None,
        })
    }

    fn proxy_on_upstream_connection_close(
        context_id: u32,
        peer_type: Result<PeerType, UnknownEnumValue>,
    ) {
        with_context(context_id, |k| {
            if let Kind::Tcp(c) = k {
                c.on_upstream_close(peer(peer_type));
            }
        });
    }

    fn proxy_on_request_headers(
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        action(context_id, |k| match k {
            Kind::Http(c) => Some(c.on_http_request_headers(num_headers, end_of_stream)),
            _ => None,
        })
    }

    fn proxy_on_request_body(context_id: u32, body_size: usize, end_of_stream: bool) -> Action {
        action(context_id, |k| match k {
            Kind::Http(c) => Some(c.on_http_request_body(body_size, end_of_stream)),
            _ => None,
        })
    }

    fn proxy_on_request_trailers(context_id: u32, num_trailers: usize) -> Action {
        action(context_id, |k| match k {
            Kind::Http(c) => Some(c.on_http_request_trailers(num_trailers)),
            _ => None,
        })
    }

    fn proxy_on_response_headers(
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        action(context_id, |k| match k {
            Kind::Http(c) => Some(c.on_http_response_headers(num_headers, end_of_stream)),
            _ => None,
        })
    }

    fn proxy_on_response_body(context_id: u32, body_size: usize, end_of_stream: bool) -> Action {
        action(context_id, |k| match k {
            Kind::Http(c) => Some(c.on_http_response_body(body_size, end_of_stream)),
            _ => None,
        })
    }

    fn proxy_on_response_trailers(context_id: u32, num_trailers: usize) -> Action {
        action(context_id, |k| match k {
            Kind::Http(c) => Some(c.on_http_response_trailers(num_trailers)),
            _ => None,
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
        deliver_grpc(call_id, GrpcEvent::InitialMetadata, |c| {
            c.on_grpc_receive_initial_metadata(call_id, num_elements)
        });
    }

    fn proxy_on_grpc_receive(_context_id: u32, call_id: u32, message_size: usize) {
        deliver_grpc(call_id, GrpcEvent::Message, |c| {
            c.on_grpc_receive(call_id, message_size)
        });
    }

    fn proxy_on_grpc_receive_trailing_metadata(
        _context_id: u32,
        call_id: u32,
        num_elements: usize,
    ) {
        deliver_grpc(call_id, GrpcEvent::TrailingMetadata, |c| {
            c.on_grpc_receive_trailing_metadata(call_id, num_elements)
        });
    }

    fn proxy_on_grpc_close(_context_id: u32, call_id: u32, status_code: u32) {
        deliver_grpc(call_id, GrpcEvent::Close(status_code), |c| {
            c.on_grpc_close(call_id, status_code)
        });
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
        REGISTRY.with(|r| {
            r.borrow_mut()
                .contexts
                .insert(2, Rc::new(RefCell::new(Kind::Http(Box::new(context)))))
        });
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
            // Gone, though it was the most recent stream and its slot is kept for the next one.
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
        with_context(2, |_| {
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
        with_context(2, |_| register_http_call(7, None));
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
}
