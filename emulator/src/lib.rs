//! # proxywasm-emulator
//!
//! A host emulator for [`proxywasm`] plugins: unit-test a plugin with plain `cargo test`, no proxy needed.
//! Add it as a dev-dependency of the plugin crate; nothing of it is compiled into the plugin.
//!
//! It drives a plugin in one of two [`Mode`]s with the same state and the same test API:
//! - natively, the plugin is compiled into the test; the SDK's raw hostcalls go to the host installed on
//!   the current thread (the guest SDK's seam, `proxywasm::abi::native_host`), and [`Emulator`] installs
//!   itself there ([`EmulatorBuilder::build`]);
//! - in wasm mode, the plugin's compiled `.wasm` runs in wasmtime and reaches the emulator through host
//!   glue generated from the spec ([`EmulatorBuilder::build_wasm`], module [`wasm`]).
//!
//! The emulator implements the host side of the ABI version the `proxywasm` crate is compiled for in the
//! same build (its `build.rs` reads it from the SDK's build script: see [`glue`]); a plugin's tests pick
//! the version with the plugin's own `abi-*` feature.
//!
//! [`emulator_tests!`] writes a test once and runs it in both modes; its wasm half fails (naming the
//! command that rebuilds the module) when the plugin's `.wasm` is missing or older than its sources, so it
//! never reports `ok` without having run ([`module`]). Either way the emulator drives
//! the plugin's callbacks the way a proxy does and lets the test inspect what the plugin did; a callback
//! that panics or traps fails the test naming the callback, or is returned as a [`CallbackFailure`]
//! inside [`Emulator::checked`]. It implements the generated `proxywasm::abi::EnvHost` trait, so every host
//! function of the spec has an implementation (the build breaks otherwise), and the generated glue makes it
//! behave as a host of the selected ABI version (a hostcall or enum value the version lacks is refused
//! before it reaches the emulator).
//!
//! ```
//! use proxywasm_emulator::Emulator;
//! use proxywasm::{Action, Context, HttpContext, RootContext};
//!
//! struct Root;
//! impl Context for Root {}
//! impl RootContext for Root {
//!     fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
//!         Some(Box::new(AddHeader))
//!     }
//! }
//! struct AddHeader;
//! impl Context for AddHeader {}
//! impl HttpContext for AddHeader {
//!     fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
//!         proxywasm::http::add_request_header("x-seen", "yes").unwrap();
//!         Action::Continue
//!     }
//! }
//!
//! let host = Emulator::builder().build(|_| Box::new(Root));
//! assert!(host.start_plugin());
//! let stream = host.new_http_stream();
//! assert_eq!(host.request_headers(stream, &[(":path", "/")], true), Action::Continue);
//! assert_eq!(host.http_stream(stream).request_headers[1], ("x-seen".into(), "yes".into()));
//! ```
//!
//! # Rules the emulator enforces (what a proxy refuses, and the status it returns)
//!
//! Sources: `proxy-wasm-cpp-host` (src/exports.cc, src/context.cc, src/wasm.cc, include/proxy-wasm/context.h)
//! and Envoy's implementation of the context interface (source/extensions/common/wasm/context.cc). The
//! per-hostcall table with each source and every deliberate difference is [`sources`]; in short:
//! - A header or trailer map of the HTTP stream is reachable only from that stream's context, during its
//!   own callback and afterwards while that callback paused and the request was not resumed;
//!   `proxy_on_log` reads the request headers and the response maps, changes nothing. A map the
//!   callback cannot see reads as an empty list of pairs; a value from it, its size, or a change to it
//!   is `bad_argument`. Under ABI 0.1.0 a missing header value is an empty one (Envoy's answer). An
//!   HTTP call's response maps and gRPC metadata can be read, never changed; a failed call has no
//!   response map.
//! - A body, TCP data or a gRPC message outside its callback reads as empty and refuses writes
//!   (`bad_argument`); a body a callback paused on stays reachable. The configurations, a foreign
//!   call's arguments and an HTTP call's response body are read-only.
//! - `proxy_set_buffer_bytes` follows Envoy: at start 0 it replaces the first `size` bytes (prepends when
//!   `size` is 0), at or past the end it appends, anywhere else `bad_argument`. `proxy_get_buffer_bytes`
//!   clamps its range to the data.
//! - HTTP-stream operations (local response, resume, reset, route cache) from a TCP or root context, and
//!   TCP operations from elsewhere, do nothing and answer `ok`, as Envoy does; a local response stops
//!   the callback whatever it returns. Resuming the upstream side of a TCP stream is `unimplemented`.
//! - `proxy_set_tick_period_milliseconds` from a stream sets its root's period; `proxy_done` is
//!   `not_found` unless `proxy_on_done` deferred the shutdown. `proxy_set_effective_context` with an
//!   unknown id: `bad_argument`.
//! - `proxy_http_call` without `:method`, `:path` and `:authority` (names compared lower-cased), or with
//!   a timeout above `i32::MAX`: `bad_argument`.
//! - Header maps keep order and duplicates; lookups ignore ASCII case; `get`/`replace` act on the first
//!   entry of a key (replace also drops the later duplicates, like Envoy's `setCopy`); added keys are
//!   stored lower-case.
//! - Shared data: a non-zero `cas` that differs from the entry's version is `cas_mismatch`; `cas` 0
//!   writes unconditionally. Queues: unknown id `not_found`, empty `empty`. Metrics: counters refuse
//!   increments of 0 or less and add what is recorded; histograms refuse `increment` and reading.
//! - Logs below the configured log level are dropped, as hosts do.
//!
//! Not emulated: Envoy recomputing `content-length` when a body changes (a plugin that rewrites a body must
//! fix or remove the header itself, as with Envoy's buffered bodies); flow control and watermarks; clusters
//! beyond their names (every name is accepted unless [`EmulatorBuilder::clusters`] lists them); timeouts firing by themselves (call [`Emulator::fail_http_call`]);
//! well-known properties beyond those given in the options.

#![warn(missing_docs)]
#![cfg(not(target_arch = "wasm32"))]

mod envoy_foreign;
pub mod envoy_yaml;
pub mod glue;
mod host;
#[cfg(test)]
mod host_rules_tests;
pub mod module;
pub mod sources {
    #![doc = include_str!("sources.md")]
}
mod state;
pub mod wasm;

pub use glue::{InProcess, PluginInstance};
pub use state::{GrpcCall, HttpCall, LocalResponse};

use host::HostHandle;
use proxywasm::abi::{native_host, Action, BoolResult, LogLevel, MetricType, PeerType, Status};
use proxywasm::dispatcher::{self, Dispatcher, RootContextFactory};
use state::{
    CallResponse, GrpcEvent, HttpPhase, HttpStream, Phase, RootInfo, State, TcpPhase, TcpStream,
};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

/// The status code Envoy gives a failed HTTP call (`WasmResult::BrokenConnection`, numbered in
/// proxy-wasm-cpp-sdk's proxy_wasm_common.h), which `proxy_get_status` then reads.
const BROKEN_CONNECTION: u32 = 11;

/// The guest's linear memory in bytes at two points of [`Emulator::guest_memory_over`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryGrowth {
    /// After the warm-up runs (or before the first run, with no warm-up).
    pub after_warm_up: usize,
    /// After the last run.
    pub after: usize,
}

/// How to set up an [`Emulator`]; build one with [`Emulator::builder`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    vm_configuration: Vec<u8>,
    plugin_configuration: Vec<u8>,
    vm_id: String,
    root_id: u32,
    properties: Vec<(Vec<String>, Vec<u8>)>,
    shared_data: Vec<(String, Vec<u8>)>,
    now: SystemTime,
    log_level: LogLevel,
    metered: bool,
    clusters: Option<HashSet<String>>,
}

impl EmulatorBuilder {
    /// The VM configuration the plugin reads in `on_vm_start`.
    pub fn vm_configuration(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.vm_configuration = bytes.into();
        self
    }

    /// The plugin configuration the first root context reads in `on_plugin_start`.
    pub fn plugin_configuration(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.plugin_configuration = bytes.into();
        self
    }

    /// The VM id (default `vm`), used to resolve shared queues.
    pub fn vm_id(mut self, vm_id: impl Into<String>) -> Self {
        self.vm_id = vm_id.into();
        self
    }

    /// The id of the first root context (default 1).
    pub fn root_id(mut self, id: u32) -> Self {
        self.root_id = id;
        self
    }

    /// A property the plugin can read, e.g. `(&["source", "address"], b"10.0.0.1:1234")`.
    pub fn property(mut self, path: &[&str], value: impl Into<Vec<u8>>) -> Self {
        self.properties
            .push((path.iter().map(|s| s.to_string()).collect(), value.into()));
        self
    }

    /// An initial shared-data entry.
    pub fn shared_data(mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.shared_data.push((key.into(), value.into()));
        self
    }

    /// The emulated clock's start (default: the Unix epoch plus 1,700,000,000 s).
    pub fn now(mut self, now: SystemTime) -> Self {
        self.now = now;
        self
    }

    /// The host's log level (default `Trace`: every log line is kept).
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = level;
        self
    }

    /// The upstream clusters the proxy knows (default: every name is accepted). Once given, an HTTP call
    /// to another cluster is `bad_argument` and a gRPC call or stream `parse_failure`, as Envoy's
    /// `Context::httpCall` / `grpcCall` answer when the cluster manager has no such cluster.
    pub fn clusters<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.clusters = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// In wasm mode, meter the guest's work with fuel (about one unit per wasm instruction executed),
    /// read with [`Emulator::guest_instructions`]. Runs somewhat slower; natively it has no effect.
    pub fn metered(mut self, metered: bool) -> Self {
        self.metered = metered;
        self
    }

    /// Installs the emulator on this thread for the plugin whose root contexts `factory` creates (the
    /// plugin compiled into the test), and creates the first root context
    /// (`proxy_on_context_create(root_id, 0)`), as a proxy does on load.
    pub fn build(self, factory: RootContextFactory) -> Emulator {
        let root_id = self.root_id;
        let state = self.into_state();
        native_host::install_env_host(Box::new(HostHandle(state.clone())));
        native_host::set_guest_allocator(proxywasm::memory::allocate);
        dispatcher::reset();
        dispatcher::set_root_context_factory(factory);
        Emulator::start(state, root_id, Instance::Native(InProcess::new()))
    }

    /// Builds the emulator for `plugin`, in its mode. Panics with the reason when a `.wasm` plugin cannot
    /// be loaded (in a test, that is the failure to report); use [`EmulatorBuilder::build_wasm`] to get the
    /// typed error instead.
    pub fn load(self, plugin: &Plugin) -> Emulator {
        match plugin {
            Plugin::Native(factory) => self.build(*factory),
            Plugin::Wasm(path) => self
                .build_wasm(path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        }
    }

    /// Loads the compiled plugin at `path` into wasmtime and drives it through the ABI, with the same
    /// state and test API as [`EmulatorBuilder::build`]. The module must pass the conformance audit for
    /// the ABI version this SDK is built for; its entry point (`_initialize` or `_start`) runs, then the
    /// first root context is created.
    ///
    /// # Errors
    ///
    /// [`wasm::LoadError`]: the file cannot be read, is not valid wasm, fails the audit (with the
    /// findings), targets another ABI version, cannot be instantiated, or traps during start-up.
    pub fn build_wasm(
        self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Emulator, wasm::LoadError> {
        self.start_wasm(wasm::Source::Path(path.as_ref()))
    }

    /// Like [`EmulatorBuilder::build_wasm`], for a module given as bytes (compiled anew, not cached).
    ///
    /// # Errors
    ///
    /// As [`EmulatorBuilder::build_wasm`].
    pub fn build_wasm_bytes(self, bytes: &[u8]) -> Result<Emulator, wasm::LoadError> {
        self.start_wasm(wasm::Source::Bytes(bytes))
    }

    fn start_wasm(self, source: wasm::Source<'_>) -> Result<Emulator, wasm::LoadError> {
        let root_id = self.root_id;
        let metered = self.metered;
        let state = self.into_state();
        let instance = wasm::instantiate(source, HostHandle(state.clone()), metered)?;
        Ok(Emulator::start(
            state,
            root_id,
            Instance::Wasm(Box::new(instance)),
        ))
    }

    fn into_state(self) -> Rc<RefCell<State>> {
        let mut roots = HashMap::new();
        roots.insert(
            self.root_id,
            RootInfo {
                plugin_configuration: self.plugin_configuration,
                ..RootInfo::default()
            },
        );
        let properties = self.properties.into_iter().collect();
        let state = State {
            vm_id: self.vm_id,
            vm_configuration: self.vm_configuration,
            log_level: self.log_level,
            now: self.now,
            roots,
            http: HashMap::new(),
            tcp: HashMap::new(),
            next_id: self.root_id.max(100),
            current: 0,
            phase: Phase::Root,
            logs: Vec::new(),
            shared_data: self
                .shared_data
                .into_iter()
                .map(|(k, v)| (k, (v, 1)))
                .collect(),
            queues: Vec::new(),
            metrics: Vec::new(),
            metric_ids: Vec::new(),
            properties,
            filter_state: HashMap::new(),
            racing_writes: Vec::new(),
            unreadable_buffers: Vec::new(),
            unreadable_maps: Vec::new(),
            overstated_lengths: 0,
            http_calls: Vec::new(),
            grpc_calls: Vec::new(),
            call_response: None,
            grpc_data: CallResponse::default(),
            foreign_functions: HashMap::new(),
            foreign_calls: Vec::new(),
            foreign_arguments: Vec::new(),
            next_token: 0,
            live_contexts: BTreeSet::new(),
            settled_calls: HashSet::new(),
            stop_iteration: false,
            clusters: self.clusters,
        };
        Rc::new(RefCell::new(state))
    }
}

/// Defines each test once and runs it in both modes: `native` (the plugin compiled into the test) and
/// `wasm` (the crate's built `.wasm` in the wasm runner; see [`Plugin::wasm_for_test`] for where it is
/// looked up). The `wasm` test fails, naming the command that (re)builds the module, when the module is
/// missing or older than the plugin's sources ([`module`]): it never passes without having run. Each `fn name(plugin) { … }` becomes a module `name` with the tests
/// `native` and `wasm`; the body builds its emulator with [`EmulatorBuilder::load`].
///
/// ```ignore
/// proxywasm_emulator::emulator_tests! {
///     plugin: new_root;
///
///     fn adds_a_header(plugin) {
///         let host = Emulator::builder().load(plugin);
///         let stream = host.new_http_stream();
///         host.request_headers(stream, &[(":path", "/")], true);
///         assert_eq!(host.http_stream(stream).request_headers.len(), 2);
///     }
/// }
/// ```
#[macro_export]
macro_rules! emulator_tests {
    (plugin: $factory:expr; $( $(#[$meta:meta])* fn $name:ident($plugin:ident) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn body($plugin: &$crate::Plugin) $body

                #[test]
                fn native() {
                    body(&$crate::Plugin::Native($factory));
                }

                #[test]
                fn wasm() {
                    body(&$crate::Plugin::wasm_for_test(
                        env!("CARGO_MANIFEST_DIR"),
                        env!("CARGO_CRATE_NAME"),
                    ));
                }
            }
        )*
    };
}

/// The plugin instance an emulator drives.
enum Instance {
    Native(InProcess<Dispatcher>),
    Wasm(Box<glue::runner::WasmInstance>),
}

impl Instance {
    fn plugin(&mut self) -> &mut dyn PluginInstance {
        match self {
            Instance::Native(native) => native,
            Instance::Wasm(wasm) => &mut **wasm,
        }
    }
}

/// Which build of a plugin an [`Emulator`] drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The plugin compiled into the test, called directly.
    Native,
    /// The plugin's `.wasm` module, run in wasmtime.
    Wasm,
}

/// A plugin to test: compiled into the test (its root-context factory) or a built `.wasm` module. Tests
/// written once for both use [`emulator_tests!`].
#[derive(Debug, Clone)]
pub enum Plugin {
    /// The plugin compiled into this test binary.
    Native(RootContextFactory),
    /// A compiled module.
    Wasm(std::path::PathBuf),
}

impl Plugin {
    /// The built `.wasm` of the crate under test, for a test in wasm mode, as found by
    /// [`Plugin::wasm_module_for_test`].
    ///
    /// # Panics
    ///
    /// When the module is missing or stale: the test fails with the reason and the command that fixes
    /// it.
    pub fn wasm_for_test(manifest_dir: &str, crate_name: &str) -> Plugin {
        Plugin::Wasm(Plugin::wasm_module_for_test(manifest_dir, crate_name))
    }

    /// The path of the crate's built `.wasm` for the ABI version this test binary was built for:
    /// `<dir>/<ABI version>/<crate_name>.wasm`, where `<dir>` is `$PROXYWASM_PLUGIN_DIR`, else
    /// `$CARGO_TARGET_DIR/plugins`, else `target/plugins` of the nearest folder above `manifest_dir` that
    /// holds a `Cargo.lock` (where `scripts/plugins` puts them).
    ///
    /// # Panics
    ///
    /// When the module does not exist, or is older than a source of the plugin or of the SDK
    /// ([`module::check_module`]); the message names the command that (re)builds it.
    pub fn wasm_module_for_test(manifest_dir: &str, crate_name: &str) -> std::path::PathBuf {
        module::built_module(
            std::path::Path::new(manifest_dir),
            crate_name,
            proxywasm::abi::ABI_VERSION,
        )
        .unwrap_or_else(|problem| panic!("wasm mode cannot run: {problem}"))
    }

    /// The mode an emulator for this plugin runs in.
    pub fn mode(&self) -> Mode {
        match self {
            Plugin::Native(_) => Mode::Native,
            Plugin::Wasm(_) => Mode::Wasm,
        }
    }
}

/// Why a callback into the plugin failed. Natively a panic; in wasm a trap (a panic aborts the guest, an
/// out-of-bounds access, running out of fuel or stack); in both a result the ABI version does not define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackFailure {
    /// The callback, e.g. `proxy_on_request_headers`.
    pub callback: &'static str,
    /// What happened.
    pub kind: FailureKind,
}

/// What went wrong in a [`CallbackFailure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The plugin panicked (native mode), with the panic message.
    Panicked(String),
    /// The guest trapped (wasm mode), with wasmtime's description and backtrace.
    Trapped(String),
    /// The callback returned a value the ABI version does not define.
    BadResult(u64),
}

impl CallbackFailure {
    /// A panic caught around a native callback.
    pub fn panicked(callback: &'static str, payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-text panic payload".to_string());
        CallbackFailure {
            callback,
            kind: FailureKind::Panicked(message),
        }
    }

    /// A trap raised by wasmtime during a wasm callback.
    pub fn trapped(callback: &'static str, error: wasmtime::Error) -> Self {
        CallbackFailure {
            callback,
            kind: FailureKind::Trapped(format!("{error:?}")),
        }
    }

    /// A callback result outside the version's enumeration.
    pub fn bad_result(callback: &'static str, value: u64) -> Self {
        CallbackFailure {
            callback,
            kind: FailureKind::BadResult(value),
        }
    }
}

impl std::fmt::Display for CallbackFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let callback = self.callback;
        match &self.kind {
            FailureKind::Panicked(message) => {
                write!(f, "plugin callback `{callback}` panicked: {message}")
            }
            FailureKind::Trapped(message) => {
                write!(f, "plugin callback `{callback}` trapped: {message}")
            }
            FailureKind::BadResult(value) => write!(
                f,
                "plugin callback `{callback}` returned {value}, which ABI {} does not define",
                proxywasm::abi::ABI_VERSION
            ),
        }
    }
}

impl std::error::Error for CallbackFailure {}

/// The emulated proxy. Dropping it uninstalls it from the thread.
pub struct Emulator {
    state: Rc<RefCell<State>>,
    root_id: u32,
    instance: RefCell<Instance>,
    collecting: Cell<bool>,
    failures: RefCell<Vec<CallbackFailure>>,
}

/// What the emulated proxy holds of one HTTP stream, after the plugin's changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpStreamView {
    /// Request headers.
    pub request_headers: Vec<(String, String)>,
    /// The request body the proxy holds now: the last chunk, or every chunk since the plugin started
    /// pausing (after the plugin's changes).
    pub request_body: Vec<u8>,
    /// Every request body byte the proxy forwarded upstream so far (after the plugin's changes).
    pub request_body_forwarded: Vec<u8>,
    /// Request trailers.
    pub request_trailers: Vec<(String, String)>,
    /// Response headers.
    pub response_headers: Vec<(String, String)>,
    /// The response body the proxy holds now (see `request_body`).
    pub response_body: Vec<u8>,
    /// Every response body byte the proxy forwarded downstream so far.
    pub response_body_forwarded: Vec<u8>,
    /// Response trailers.
    pub response_trailers: Vec<(String, String)>,
    /// The local response the plugin sent, if any.
    pub local_response: Option<LocalResponse>,
    /// How often the plugin resumed the request.
    pub request_resumed: u32,
    /// How often the plugin resumed the response.
    pub response_resumed: u32,
    /// Whether the plugin reset the stream.
    pub reset: bool,
    /// How often the route cache was cleared: by the plugin (`clear_route_cache`), or by Envoy's Wasm
    /// context itself after each change the plugin made to the request headers.
    pub route_cache_cleared: u32,
}

/// What the emulated proxy holds of one TCP stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpStreamView {
    /// Downstream data of the last downstream callback, after the plugin's changes.
    pub downstream: Vec<u8>,
    /// Upstream data of the last upstream callback, after the plugin's changes.
    pub upstream: Vec<u8>,
    /// Whether the plugin closed the downstream connection.
    pub downstream_closed: bool,
    /// Whether the plugin closed the upstream connection.
    pub upstream_closed: bool,
    /// How often the plugin resumed the downstream side.
    pub downstream_resumed: u32,
    /// How often the plugin resumed the upstream side.
    pub upstream_resumed: u32,
}

fn segments(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Emulator {
    /// Starts describing an emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            vm_configuration: Vec::new(),
            plugin_configuration: Vec::new(),
            vm_id: "vm".to_string(),
            root_id: 1,
            properties: Vec::new(),
            shared_data: Vec::new(),
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            log_level: LogLevel::Trace,
            metered: false,
            clusters: None,
        }
    }

    fn start(state: Rc<RefCell<State>>, root_id: u32, instance: Instance) -> Emulator {
        let emulator = Emulator {
            state,
            root_id,
            instance: RefCell::new(instance),
            collecting: Cell::new(false),
            failures: RefCell::new(Vec::new()),
        };
        emulator.create_context(root_id, 0);
        emulator
    }

    fn create_context(&self, id: u32, parent: u32) {
        self.state.borrow_mut().live_contexts.insert(id);
        self.run(
            if parent == 0 { id } else { parent },
            Phase::Root,
            |plugin| plugin.proxy_on_context_create(id, parent),
        );
    }

    /// The size of the guest's linear memory in bytes (wasm mode); `None` natively, where the plugin
    /// shares the test's heap.
    pub fn guest_memory_size(&self) -> Option<usize> {
        match &mut *self.instance.borrow_mut() {
            Instance::Native(_) => None,
            Instance::Wasm(wasm) => Some(wasm::memory_size(wasm)),
        }
    }

    /// Runs `stream` `runs` times (one HTTP stream or connection each, say) and reports the guest's
    /// linear memory after the first `warm_up` runs and after the last: a leak check for a built
    /// plugin. `None` natively, where the plugin shares the test's heap.
    pub fn guest_memory_over(
        &self,
        warm_up: usize,
        runs: usize,
        mut stream: impl FnMut(&Self),
    ) -> Option<MemoryGrowth> {
        let mut after_warm_up = self.guest_memory_size()?;
        for n in 0..runs {
            stream(self);
            if n + 1 == warm_up {
                after_warm_up = self.guest_memory_size()?;
            }
        }
        Some(MemoryGrowth {
            after_warm_up,
            after: self.guest_memory_size()?,
        })
    }

    /// The wasm instructions the guest has executed so far (fuel burnt), when built
    /// [`metered`](EmulatorBuilder::metered) in wasm mode; `None` otherwise.
    pub fn guest_instructions(&self) -> Option<u64> {
        match &*self.instance.borrow() {
            Instance::Native(_) => None,
            Instance::Wasm(wasm) => wasm::fuel_used(wasm),
        }
    }

    /// Whether this emulator drives a plugin compiled into the test or a `.wasm` module.
    pub fn mode(&self) -> Mode {
        match &*self.instance.borrow() {
            Instance::Native(_) => Mode::Native,
            Instance::Wasm(_) => Mode::Wasm,
        }
    }

    /// The first root context's id.
    pub fn root_id(&self) -> u32 {
        self.root_id
    }

    /// Runs a plugin callback for `context` in `phase`, then restores the previous context and phase and
    /// delivers queue-ready callbacks. No borrow of the state is held while the plugin runs. `None` when
    /// the plugin does not export the callback, or when it failed while failures are being collected (see
    /// [`Emulator::checked`]); a failure outside `checked` panics with the failure (a failing test).
    fn run<T>(
        &self,
        context: u32,
        phase: Phase,
        callback: impl FnOnce(&mut dyn PluginInstance) -> Result<Option<T>, CallbackFailure>,
    ) -> Option<T> {
        let result = self.run_plain(context, phase, callback);
        self.deliver_queue_ready();
        result
    }

    /// Delivers `proxy_on_queue_ready` to the owners of queues that have items, as a proxy's event loop
    /// does after the callback that enqueued them.
    fn deliver_queue_ready(&self) {
        let ready: Vec<(u32, u32)> = {
            let s = self.state.borrow();
            s.queues
                .iter()
                .enumerate()
                .filter(|(_, q)| {
                    !q.items.is_empty() && s.roots.contains_key(&q.owner) && q.vm_id == s.vm_id
                })
                .map(|(i, q)| (q.owner, i as u32 + 1))
                .collect()
        };
        // The callback that enqueued keeps its own outcome (a local response it sent).
        let stopped = self.state.borrow().stop_iteration;
        for (owner, queue) in ready {
            self.run_plain(owner, Phase::Root, |plugin| {
                plugin.proxy_on_queue_ready(owner, queue)
            });
        }
        self.state.borrow_mut().stop_iteration = stopped;
    }

    /// Like [`Emulator::run`], without delivering queue-ready callbacks afterwards (used to deliver them).
    fn run_plain<T>(
        &self,
        context: u32,
        phase: Phase,
        callback: impl FnOnce(&mut dyn PluginInstance) -> Result<Option<T>, CallbackFailure>,
    ) -> Option<T> {
        let previous = {
            let mut s = self.state.borrow_mut();
            let previous = (s.current, s.phase);
            s.current = context;
            s.phase = phase;
            s.stop_iteration = false;
            previous
        };
        let result = match self.instance.try_borrow_mut() {
            Ok(mut instance) => callback(instance.plugin()),
            Err(_) => panic!("the emulator was called from inside a plugin callback"),
        };
        {
            let mut s = self.state.borrow_mut();
            (s.current, s.phase) = previous;
        }
        match result {
            Ok(value) => value,
            Err(failure) => {
                if self.collecting.get() {
                    self.failures.borrow_mut().push(failure);
                    None
                } else {
                    panic!("{failure}")
                }
            }
        }
    }

    /// Runs `steps` (calls on this emulator) and returns their result, or the first failure of a plugin
    /// callback during them (a panic natively, a trap in wasm, an undefined result) instead of panicking.
    /// The emulator stays usable afterwards: the context and phase are restored, and a callback that
    /// failed returns the default a proxy would use (continue, or nothing).
    ///
    /// # Errors
    ///
    /// The first [`CallbackFailure`], which names the callback.
    pub fn checked<T>(&self, steps: impl FnOnce(&Self) -> T) -> Result<T, CallbackFailure> {
        let outer = self.collecting.replace(true);
        let start = self.failures.borrow().len();
        let value = steps(self);
        self.collecting.set(outer);
        let mut failures = self.failures.borrow_mut();
        if failures.len() > start {
            let first = failures.remove(start);
            failures.truncate(start);
            return Err(first);
        }
        Ok(value)
    }

    /// Calls `proxy_on_vm_start` on the first root context; returns what the plugin answered.
    pub fn start_vm(&self) -> bool {
        let size = self.state.borrow().vm_configuration.len();
        self.run(self.root_id, Phase::VmStart, |plugin| {
            plugin.proxy_on_vm_start(self.root_id, size)
        }) != Some(BoolResult::False)
    }

    /// Calls `proxy_on_configure` on the first root context; returns what the plugin answered.
    pub fn start_plugin(&self) -> bool {
        self.configure(self.root_id)
    }

    fn configure(&self, root: u32) -> bool {
        let size = self
            .state
            .borrow()
            .roots
            .get(&root)
            .map_or(0, |r| r.plugin_configuration.len());
        self.run(root, Phase::Configure, |plugin| {
            plugin.proxy_on_configure(root, size)
        }) != Some(BoolResult::False)
    }

    /// Adds a second plugin (another root context with its own configuration) to the same VM: it shares
    /// shared data and queues with the first. Creates and configures it; returns its id and whether it
    /// accepted the configuration.
    pub fn add_plugin(&self, plugin_configuration: impl Into<Vec<u8>>) -> (u32, bool) {
        let id = self.next_id();
        self.state.borrow_mut().roots.insert(
            id,
            RootInfo {
                plugin_configuration: plugin_configuration.into(),
                ..RootInfo::default()
            },
        );
        self.create_context(id, 0);
        (id, self.configure(id))
    }

    fn next_id(&self) -> u32 {
        let mut s = self.state.borrow_mut();
        s.next_id += 1;
        s.next_id
    }

    /// Calls `proxy_on_tick` on the first root context.
    pub fn tick(&self) {
        self.tick_root(self.root_id);
    }

    /// Calls `proxy_on_tick` on root context `root`.
    pub fn tick_root(&self, root: u32) {
        self.run(root, Phase::Root, |plugin| plugin.proxy_on_tick(root));
    }

    /// The tick period the first root context set, if any.
    pub fn tick_period(&self) -> Option<Duration> {
        let ms = self
            .state
            .borrow()
            .roots
            .get(&self.root_id)
            .map_or(0, |r| r.tick_period_ms);
        (ms > 0).then(|| Duration::from_millis(u64::from(ms)))
    }

    /// Moves the emulated clock forward.
    pub fn advance_time(&self, by: Duration) {
        let mut s = self.state.borrow_mut();
        s.now += by;
    }

    /// The messages logged at `level`, in order.
    pub fn logs(&self, level: LogLevel) -> Vec<String> {
        self.state
            .borrow()
            .logs
            .iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Every message logged, with its level.
    pub fn all_logs(&self) -> Vec<(LogLevel, String)> {
        self.state.borrow().logs.clone()
    }

    /// Calls `proxy_on_done` on the first root context (the proxy shutting the plugin down); returns
    /// whether it may be deleted now (`false`: the plugin will call `proxywasm::done()` later).
    pub fn plugin_done(&self) -> bool {
        let done = self.run(self.root_id, Phase::Root, |plugin| {
            plugin.proxy_on_done(self.root_id)
        }) != Some(BoolResult::False);
        if let Some(root) = self.state.borrow_mut().roots.get_mut(&self.root_id) {
            root.shutdown_deferred = !done;
        }
        done
    }

    /// Removes plugin `root` as cpp-host's `WasmBase::startShutdown(plugin_key)` does (src/wasm.cc):
    /// `proxy_on_done`, and when it answers true, `proxy_on_delete` at once (otherwise the root waits
    /// for `proxy_done`, as with [`Emulator::plugin_done`]). Returns what `proxy_on_done` answered.
    pub fn shut_down_plugin(&self, root: u32) -> bool {
        let done = self.run(root, Phase::Root, |plugin| plugin.proxy_on_done(root))
            != Some(BoolResult::False);
        if done {
            self.run(root, Phase::Root, |plugin| plugin.proxy_on_delete(root));
            let mut s = self.state.borrow_mut();
            s.live_contexts.remove(&root);
            s.roots.remove(&root);
        } else if let Some(info) = self.state.borrow_mut().roots.get_mut(&root) {
            info.shutdown_deferred = true;
        }
        done
    }

    /// Whether the first root context called `proxy_done` (finishing a deferred shutdown).
    pub fn done_called(&self) -> bool {
        self.state
            .borrow()
            .roots
            .get(&self.root_id)
            .is_some_and(|r| r.done_called)
    }

    // ---- HTTP streams ----

    /// Creates an HTTP stream context under the first root context; returns its id.
    pub fn new_http_stream(&self) -> u32 {
        self.new_http_stream_in(self.root_id)
    }

    /// Creates an HTTP stream context under root `root`; returns its id.
    pub fn new_http_stream_in(&self, root: u32) -> u32 {
        let id = self.next_id();
        self.state.borrow_mut().http.insert(
            id,
            HttpStream {
                root_id: root,
                ..HttpStream::default()
            },
        );
        self.create_context(id, root);
        id
    }

    fn http_phase(&self, id: u32, phase: HttpPhase, update: impl FnOnce(&mut HttpStream)) {
        let mut s = self.state.borrow_mut();
        if let Some(stream) = s.http.get_mut(&id) {
            stream.phase = Some(stream.phase.map_or(phase, |p| p.max(phase)));
            update(stream);
        }
    }

    /// `action`, or `Pause` when the callback that returned it sent a local response: cpp-host then
    /// reports the callback as stopped whatever it returned (`send_local_response` calls
    /// `stopNextIteration`, src/exports.cc; src/context.cc converts the result).
    fn stopped_by_local_response(&self, action: Action) -> Action {
        if self.state.borrow().stop_iteration {
            Action::Pause
        } else {
            action
        }
    }

    /// Records whether the header/trailer callback `phase` of stream `id` let the stream continue:
    /// Envoy keeps the map of a callback that did not until the plugin resumes the stream.
    fn hold_map(&self, id: u32, phase: HttpPhase, action: Action) -> Action {
        if let Some(stream) = self.state.borrow_mut().http.get_mut(&id) {
            if action == Action::Continue {
                stream.held.remove(&phase);
            } else {
                stream.held.insert(phase);
            }
        }
        action
    }

    /// Delivers the request headers; returns the action the plugin chose.
    pub fn request_headers(
        &self,
        id: u32,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Action {
        self.http_phase(id, HttpPhase::RequestHeaders, |s| {
            s.request_headers = owned(headers)
        });
        let n = headers.len();
        let action = self
            .run(id, Phase::Http(HttpPhase::RequestHeaders), |plugin| {
                plugin.proxy_on_request_headers(id, n, end_of_stream)
            })
            .unwrap_or(Action::Continue);
        let action = self.stopped_by_local_response(action);
        self.hold_map(id, HttpPhase::RequestHeaders, action)
    }

    /// Delivers a chunk of the request body; returns the action the plugin chose. As in Envoy, after a
    /// callback that returned `Continue` the proxy forwards what it holds and the next callback sees only
    /// the new chunk; after `Pause` it keeps buffering, and the next callback sees everything so far.
    pub fn request_body(&self, id: u32, chunk: &[u8], end_of_stream: bool) -> Action {
        self.body_chunk(id, false, chunk, end_of_stream)
    }

    fn body_chunk(&self, id: u32, response: bool, chunk: &[u8], end_of_stream: bool) -> Action {
        let phase = if response {
            HttpPhase::ResponseBody
        } else {
            HttpPhase::RequestBody
        };
        let mut size = 0;
        self.http_phase(id, phase, |s| {
            let (held, buffering, _) = s.body_mut(response);
            if !*buffering {
                held.clear();
            }
            held.extend_from_slice(chunk);
            size = held.len();
        });
        let action = self
            .run(id, Phase::Http(phase), |plugin| {
                if response {
                    plugin.proxy_on_response_body(id, size, end_of_stream)
                } else {
                    plugin.proxy_on_request_body(id, size, end_of_stream)
                }
            })
            .unwrap_or(Action::Continue);
        // After a local response cpp-host reports the body callback as stopped without buffering.
        let replied = self.state.borrow().stop_iteration;
        let stopped = self.stopped_by_local_response(action);
        self.http_phase(id, phase, |s| {
            let (held, buffering, forwarded) = s.body_mut(response);
            *buffering = !replied && action == Action::Pause;
            if stopped == Action::Continue {
                forwarded.extend_from_slice(held);
            }
        });
        stopped
    }

    /// Delivers the request trailers; returns the action the plugin chose.
    pub fn request_trailers(&self, id: u32, trailers: &[(&str, &str)]) -> Action {
        self.http_phase(id, HttpPhase::RequestTrailers, |s| {
            s.request_trailers = owned(trailers)
        });
        let n = trailers.len();
        let action = self
            .run(id, Phase::Http(HttpPhase::RequestTrailers), |plugin| {
                plugin.proxy_on_request_trailers(id, n)
            })
            .unwrap_or(Action::Continue);
        let action = self.stopped_by_local_response(action);
        self.hold_map(id, HttpPhase::RequestTrailers, action)
    }

    /// Delivers the response headers; returns the action the plugin chose.
    pub fn response_headers(
        &self,
        id: u32,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Action {
        self.http_phase(id, HttpPhase::ResponseHeaders, |s| {
            s.response_headers = owned(headers)
        });
        let n = headers.len();
        let action = self
            .run(id, Phase::Http(HttpPhase::ResponseHeaders), |plugin| {
                plugin.proxy_on_response_headers(id, n, end_of_stream)
            })
            .unwrap_or(Action::Continue);
        let action = self.stopped_by_local_response(action);
        self.hold_map(id, HttpPhase::ResponseHeaders, action)
    }

    /// Delivers a chunk of the response body; returns the action the plugin chose. Buffering works as for
    /// [`Emulator::request_body`].
    pub fn response_body(&self, id: u32, chunk: &[u8], end_of_stream: bool) -> Action {
        self.body_chunk(id, true, chunk, end_of_stream)
    }

    /// Delivers the response trailers; returns the action the plugin chose.
    pub fn response_trailers(&self, id: u32, trailers: &[(&str, &str)]) -> Action {
        self.http_phase(id, HttpPhase::ResponseTrailers, |s| {
            s.response_trailers = owned(trailers)
        });
        let n = trailers.len();
        let action = self
            .run(id, Phase::Http(HttpPhase::ResponseTrailers), |plugin| {
                plugin.proxy_on_response_trailers(id, n)
            })
            .unwrap_or(Action::Continue);
        let action = self.stopped_by_local_response(action);
        self.hold_map(id, HttpPhase::ResponseTrailers, action)
    }

    /// Ends a stream (HTTP or TCP) the way a proxy does: `proxy_on_done`, then `proxy_on_log` and
    /// `proxy_on_delete`. Returns what `proxy_on_done` answered.
    pub fn complete_stream(&self, id: u32) -> bool {
        self.http_phase(id, HttpPhase::Done, |_| {});
        let phase = if self.state.borrow().http.contains_key(&id) {
            Phase::Http(HttpPhase::Done)
        } else {
            Phase::Tcp(TcpPhase::Connection)
        };
        let done =
            self.run(id, phase, |plugin| plugin.proxy_on_done(id)) != Some(BoolResult::False);
        let log_phase = match phase {
            Phase::Http(_) => Phase::Http(HttpPhase::Log),
            other => other,
        };
        self.run(id, log_phase, |plugin| plugin.proxy_on_log(id));
        self.run(id, phase, |plugin| plugin.proxy_on_delete(id));
        self.state.borrow_mut().live_contexts.remove(&id);
        done
    }

    /// The HTTP stream `id` as the proxy holds it now. Panics if no such stream was created (a test bug).
    pub fn http_stream(&self, id: u32) -> HttpStreamView {
        let s = self.state.borrow();
        let h = s
            .http
            .get(&id)
            .unwrap_or_else(|| panic!("no HTTP stream {id} in this emulator"));
        HttpStreamView {
            request_headers: h.request_headers.clone(),
            request_body: h.request_body.clone(),
            request_body_forwarded: h.request_body_forwarded.clone(),
            request_trailers: h.request_trailers.clone(),
            response_headers: h.response_headers.clone(),
            response_body: h.response_body.clone(),
            response_body_forwarded: h.response_body_forwarded.clone(),
            response_trailers: h.response_trailers.clone(),
            local_response: h.local_response.clone(),
            request_resumed: h.request_resumed,
            response_resumed: h.response_resumed,
            reset: h.reset,
            route_cache_cleared: h.route_cache_cleared,
        }
    }

    /// The local response sent on stream `id`, if any.
    pub fn local_response(&self, id: u32) -> Option<LocalResponse> {
        self.http_stream(id).local_response
    }

    // ---- TCP streams ----

    /// Creates a TCP stream context under the first root context and calls `proxy_on_new_connection`;
    /// returns its id and the action.
    pub fn new_tcp_stream(&self) -> (u32, Action) {
        let root = self.root_id;
        let id = self.next_id();
        self.state.borrow_mut().tcp.insert(
            id,
            TcpStream {
                root_id: root,
                ..TcpStream::default()
            },
        );
        self.create_context(id, root);
        let action = self
            .run(id, Phase::Tcp(TcpPhase::Connection), |plugin| {
                plugin.proxy_on_new_connection(id)
            })
            .unwrap_or(Action::Continue);
        (id, action)
    }

    /// Delivers downstream data (replacing the previous chunk); returns the action.
    pub fn downstream_data(&self, id: u32, data: &[u8], end_of_stream: bool) -> Action {
        if let Some(s) = self.state.borrow_mut().tcp.get_mut(&id) {
            s.downstream = data.to_vec();
        }
        let action = self
            .run(id, Phase::Tcp(TcpPhase::Downstream), |plugin| {
                plugin.proxy_on_downstream_data(id, data.len(), end_of_stream)
            })
            .unwrap_or(Action::Continue);
        if let Some(s) = self.state.borrow_mut().tcp.get_mut(&id) {
            s.downstream_held = action != Action::Continue;
        }
        action
    }

    /// Delivers upstream data (replacing the previous chunk); returns the action.
    pub fn upstream_data(&self, id: u32, data: &[u8], end_of_stream: bool) -> Action {
        if let Some(s) = self.state.borrow_mut().tcp.get_mut(&id) {
            s.upstream = data.to_vec();
        }
        let action = self
            .run(id, Phase::Tcp(TcpPhase::Upstream), |plugin| {
                plugin.proxy_on_upstream_data(id, data.len(), end_of_stream)
            })
            .unwrap_or(Action::Continue);
        if let Some(s) = self.state.borrow_mut().tcp.get_mut(&id) {
            s.upstream_held = action != Action::Continue;
        }
        action
    }

    /// Tells the plugin the downstream connection closed on side `peer`.
    pub fn downstream_close(&self, id: u32, peer: PeerType) {
        self.run(id, Phase::Tcp(TcpPhase::Connection), |plugin| {
            plugin.proxy_on_downstream_connection_close(id, peer)
        });
    }

    /// Tells the plugin the upstream connection closed on side `peer`.
    pub fn upstream_close(&self, id: u32, peer: PeerType) {
        self.run(id, Phase::Tcp(TcpPhase::Connection), |plugin| {
            plugin.proxy_on_upstream_connection_close(id, peer)
        });
    }

    /// The TCP stream `id` as the proxy holds it now. Panics if no such stream was created.
    pub fn tcp_stream(&self, id: u32) -> TcpStreamView {
        let s = self.state.borrow();
        let t = s
            .tcp
            .get(&id)
            .unwrap_or_else(|| panic!("no TCP stream {id} in this emulator"));
        TcpStreamView {
            downstream: t.downstream.clone(),
            upstream: t.upstream.clone(),
            downstream_closed: t.downstream_closed,
            upstream_closed: t.upstream_closed,
            downstream_resumed: t.downstream_resumed,
            upstream_resumed: t.upstream_resumed,
        }
    }

    // ---- HTTP and gRPC calls ----

    /// Every HTTP call dispatched so far, answered or not.
    pub fn http_calls(&self) -> Vec<HttpCall> {
        self.state.borrow().http_calls.clone()
    }

    fn deliver_call(&self, token: u32, response: Option<CallResponse>) {
        let root = {
            let mut s = self.state.borrow_mut();
            let Some(call) = s.http_calls.iter().find(|c| c.token == token) else {
                return;
            };
            let root = s
                .http
                .get(&call.context_id)
                .map_or(call.context_id, |h| h.root_id);
            s.call_response = response.clone();
            s.settled_calls.insert(token);
            // Envoy's `Context::onHttpCallFailure`: the root's status becomes broken_connection with
            // message `reset` for the callback; the message is cleared afterwards, the code stays.
            if response.is_none() {
                if let Some(info) = s.roots.get_mut(&root) {
                    info.status = (BROKEN_CONNECTION, "reset".into());
                }
            }
            root
        };
        let (h, b, t) = response.as_ref().map_or((0, 0, 0), |r| {
            (r.headers.len(), r.body.len(), r.trailers.len())
        });
        self.run(root, Phase::HttpCallResponse(token), |plugin| {
            plugin.proxy_on_http_call_response(root, token, h, b, t)
        });
        let mut s = self.state.borrow_mut();
        s.call_response = None;
        if let Some(info) = s.roots.get_mut(&root) {
            info.status.1.clear();
        }
    }

    /// Answers HTTP call `token` with a response (status taken from `:status`, 200 if absent).
    pub fn answer_http_call(
        &self,
        token: u32,
        headers: &[(&str, &str)],
        body: &[u8],
        trailers: &[(&str, &str)],
    ) {
        let status = headers
            .iter()
            .find(|(k, _)| *k == ":status")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(200);
        self.deliver_call(
            token,
            Some(CallResponse {
                headers: owned(headers),
                body: body.to_vec(),
                trailers: owned(trailers),
                status,
            }),
        );
    }

    /// Fails HTTP call `token` (a timeout or a connection failure): the plugin sees all counts 0.
    pub fn fail_http_call(&self, token: u32) {
        self.deliver_call(token, None);
    }

    /// Times HTTP call `token` out: moves the clock forward by the call's timeout, then delivers the
    /// failure. Envoy reports a timeout like any other failure, through `Context::onHttpCallFailure`
    /// (context.cc): the plugin sees all counts 0, and `proxy_get_status` reads `broken_connection`.
    /// Unknown or settled tokens are ignored.
    pub fn time_out_http_call(&self, token: u32) {
        let timeout_ms = {
            let s = self.state.borrow();
            if s.settled_calls.contains(&token) {
                return;
            }
            s.http_calls
                .iter()
                .find(|c| c.token == token)
                .map(|c| c.timeout_ms)
        };
        if let Some(ms) = timeout_ms {
            self.advance_time(Duration::from_millis(u64::from(ms)));
            self.deliver_call(token, None);
        }
    }

    /// Times gRPC call `token` out: moves the clock forward by the call's timeout, then closes it with
    /// status 4 (`DEADLINE_EXCEEDED`), the status Envoy's gRPC client fails an expired call with; the
    /// close reaches the plugin through `Context::onGrpcCloseWrapper` (context.cc).
    pub fn time_out_grpc_call(&self, token: u32) {
        let timeout_ms = self
            .state
            .borrow()
            .grpc_calls
            .iter()
            .find(|c| c.token == token)
            .map(|c| c.timeout_ms);
        if let Some(ms) = timeout_ms {
            self.advance_time(Duration::from_millis(u64::from(ms)));
            self.grpc_close(token, 4);
        }
    }

    /// Every gRPC call and stream opened so far.
    pub fn grpc_calls(&self) -> Vec<GrpcCall> {
        self.state.borrow().grpc_calls.clone()
    }

    fn grpc_event(
        &self,
        token: u32,
        kind: GrpcEvent,
        data: CallResponse,
        event: impl FnOnce(&mut dyn PluginInstance, u32) -> Result<Option<()>, CallbackFailure>,
    ) {
        let close = kind == GrpcEvent::Close;
        let root = {
            let mut s = self.state.borrow_mut();
            let owner = s
                .grpc_calls
                .iter()
                .find(|c| c.token == token)
                .map_or(self.root_id, |c| c.context_id);
            let root = s.http.get(&owner).map_or(owner, |h| h.root_id);
            if close {
                s.settled_calls.insert(token);
                // Envoy's `Context::onGrpcCloseWrapper` sets the root's status to the call's.
                let status = data.status;
                if let Some(info) = s.roots.get_mut(&root) {
                    info.status = (status, String::new());
                }
            }
            s.grpc_data = data;
            root
        };
        self.run(root, Phase::Grpc(token, kind), |plugin| event(plugin, root));
        self.state.borrow_mut().grpc_data = CallResponse::default();
    }

    /// Delivers initial metadata on gRPC call or stream `token`.
    pub fn grpc_initial_metadata(&self, token: u32, metadata: &[(&str, &str)]) {
        let data = CallResponse {
            headers: owned(metadata),
            ..CallResponse::default()
        };
        let n = metadata.len();
        self.grpc_event(token, GrpcEvent::InitialMetadata, data, |plugin, root| {
            plugin.proxy_on_grpc_receive_initial_metadata(root, token, n)
        });
    }

    /// Delivers a message on gRPC call or stream `token`.
    pub fn grpc_message(&self, token: u32, message: &[u8]) {
        let data = CallResponse {
            body: message.to_vec(),
            ..CallResponse::default()
        };
        let n = message.len();
        self.grpc_event(token, GrpcEvent::Message, data, |plugin, root| {
            plugin.proxy_on_grpc_receive(root, token, n)
        });
    }

    /// Delivers trailing metadata on gRPC call or stream `token`.
    pub fn grpc_trailing_metadata(&self, token: u32, metadata: &[(&str, &str)]) {
        let data = CallResponse {
            trailers: owned(metadata),
            ..CallResponse::default()
        };
        let n = metadata.len();
        self.grpc_event(token, GrpcEvent::TrailingMetadata, data, |plugin, root| {
            plugin.proxy_on_grpc_receive_trailing_metadata(root, token, n)
        });
    }

    /// Closes gRPC call or stream `token` with a gRPC status (0 is OK).
    pub fn grpc_close(&self, token: u32, status: u32) {
        let data = CallResponse {
            status,
            ..CallResponse::default()
        };
        self.grpc_event(token, GrpcEvent::Close, data, |plugin, root| {
            plugin.proxy_on_grpc_close(root, token, status)
        });
    }

    // ---- Shared state, metrics, properties, foreign functions ----

    /// A shared-data entry and its version.
    pub fn shared_data(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        self.state.borrow().shared_data.get(key).cloned()
    }

    /// The items waiting in queue `name` of this VM, oldest first.
    pub fn queue_items(&self, name: &str) -> Vec<Vec<u8>> {
        let s = self.state.borrow();
        s.queues
            .iter()
            .find(|q| q.name == name && q.vm_id == s.vm_id)
            .map(|q| q.items.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The value of counter or gauge `name` (`None` if undefined).
    pub fn metric(&self, name: &str) -> Option<(MetricType, i64)> {
        let s = self.state.borrow();
        s.metrics
            .iter()
            .find(|m| m.name == name && m.kind != MetricType::Histogram)
            .map(|m| (m.kind, m.value))
    }

    /// How many times the plugin defined the metric `name` (any kind) with `proxy_define_metric`; 0 when
    /// never. Envoy allocates a new id and map entry for each definition and keeps them for the VM's life,
    /// so a plugin should define each metric once: see `proxywasm::metrics`.
    pub fn metric_definitions(&self, name: &str) -> usize {
        let s = self.state.borrow();
        s.metrics
            .iter()
            .filter(|m| m.name == name)
            .map(|m| m.definitions)
            .sum()
    }

    /// The values recorded in histogram `name`.
    pub fn histogram(&self, name: &str) -> Vec<u64> {
        let s = self.state.borrow();
        s.metrics
            .iter()
            .find(|m| m.name == name && m.kind == MetricType::Histogram)
            .map(|m| m.recorded.clone())
            .unwrap_or_default()
    }

    /// The property the proxy provides at `path`, as set by the options or [`Emulator::set_property`]
    /// (what the plugin sets is filter state: see [`Emulator::filter_state`]).
    pub fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        self.state.borrow().properties.get(&segments(path)).cloned()
    }

    /// Sets a property the proxy provides, which the plugin can read.
    pub fn set_property(&self, path: &[&str], value: impl Into<Vec<u8>>) {
        self.state
            .borrow_mut()
            .properties
            .insert(segments(path), value.into());
    }

    /// The filter state entry `key` of stream `stream`, as other filters of the proxy see it. A plugin's
    /// `proxywasm::properties::set(&["name"], …)` writes the key `wasm.name`: Envoy's `setProperty`
    /// prefixes `wasm.` to the raw path bytes (so a two-segment path gives `wasm.a\0b`).
    pub fn filter_state(&self, stream: u32, key: &str) -> Option<Vec<u8>> {
        self.state
            .borrow()
            .filter_state
            .get(&(stream, key.as_bytes().to_vec()))
            .cloned()
    }

    /// Makes another worker of the proxy write `value` to shared-data `key` right after the plugin's next
    /// read of that key, before the plugin can write it back: the race Envoy's worker threads allow,
    /// since they share one store (cpp-host's `SharedData`, src/shared_data.cc). The write bumps the
    /// entry's version as any write does.
    pub fn race_shared_data_write(&self, key: &str, value: impl Into<Vec<u8>>) {
        self.state
            .borrow_mut()
            .racing_writes
            .push((key.to_string(), value.into()));
    }

    /// Makes the host refuse every read and write of `buffer` with `status` from now on (a host
    /// failure, for testing how the plugin copes). Under ABI 0.1.0 it also covers
    /// `proxy_get_configuration` for the configuration it would answer with.
    pub fn make_buffer_unreadable(&self, buffer: proxywasm::abi::BufferType, status: Status) {
        self.state
            .borrow_mut()
            .unreadable_buffers
            .push((buffer, status));
    }

    /// Makes the host report every buffer it hands the guest from now on as `extra` bytes longer than
    /// the block it allocated and filled (a hostile or broken host), in wasm mode; natively it has no
    /// effect. The SDK must refuse such a buffer and still free the block.
    pub fn overstate_buffer_lengths(&self, extra: u32) {
        self.state.borrow_mut().overstated_lengths = extra;
    }

    /// Makes the host refuse every access to header map `map` with `status` from now on (see
    /// [`Emulator::make_buffer_unreadable`]).
    pub fn make_map_unreadable(&self, map: proxywasm::abi::MapType, status: Status) {
        self.state.borrow_mut().unreadable_maps.push((map, status));
    }

    /// Calls `proxy_on_context_create(id, parent)` for an id that may already be live, as a faulty host
    /// would: the plugin must keep its live context (the SDK ignores the duplicate and logs an error).
    pub fn repeat_context_create(&self, id: u32, parent: u32) {
        self.create_context(id, parent);
    }

    /// Registers a host function the plugin can call with `call_foreign_function(name, …)`.
    pub fn register_foreign_function(
        &self,
        name: &str,
        function: impl FnMut(&[u8]) -> Result<Vec<u8>, Status> + 'static,
    ) {
        self.state
            .borrow_mut()
            .foreign_functions
            .insert(name.to_string(), Box::new(function));
    }

    /// The foreign-function calls the plugin made: name and arguments.
    pub fn foreign_calls(&self) -> Vec<(String, Vec<u8>)> {
        self.state.borrow().foreign_calls.clone()
    }

    /// Calls the plugin's foreign function `function_id` with `arguments` (`proxy_on_foreign_function`).
    pub fn call_plugin_foreign_function(&self, function_id: u32, arguments: &[u8]) {
        self.state.borrow_mut().foreign_arguments = arguments.to_vec();
        let root = self.root_id;
        self.run(root, Phase::ForeignFunction, |plugin| {
            plugin.proxy_on_foreign_function(root, function_id, arguments.len())
        });
    }

    /// How many contexts and pending calls the plugin holds (0 contexts after every stream and the root
    /// were deleted). Natively this is the SDK's own registry; in wasm mode the registry lives inside the
    /// guest, so this is the host's view of it: contexts created and not yet deleted, and calls dispatched
    /// by live contexts and not yet answered, failed, closed or cancelled.
    pub fn registry_size(&self) -> (usize, usize) {
        match self.mode() {
            Mode::Native => dispatcher::registry_size(),
            Mode::Wasm => {
                let s = self.state.borrow();
                let pending = s
                    .http_calls
                    .iter()
                    .map(|c| (c.token, c.context_id))
                    .chain(s.grpc_calls.iter().map(|c| (c.token, c.context_id)))
                    .filter(|(token, context)| {
                        s.live_contexts.contains(context) && !s.settled_calls.contains(token)
                    })
                    .count();
                (s.live_contexts.len(), pending)
            }
        }
    }

    /// Forgets what the emulator recorded of a completed stream (its headers, bodies and actions), as a
    /// proxy does once a stream ends; long runs use it to keep the host's memory flat.
    pub fn forget_stream(&self, id: u32) {
        let mut s = self.state.borrow_mut();
        s.http.remove(&id);
        s.tcp.remove(&id);
        s.filter_state.retain(|(stream, _), _| *stream != id);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if self.mode() == Mode::Native {
            native_host::take_env_host();
            dispatcher::reset();
        }
    }
}

#[cfg(test)]
mod tests;
