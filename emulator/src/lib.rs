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

mod builder;
mod calls;
mod envoy_foreign;
pub mod envoy_yaml;
pub mod glue;
mod host;
#[cfg(test)]
mod host_rules_tests;
mod http_streams;
mod lifecycle;
pub mod module;
mod plugin;
mod shared_state;
pub mod sources {
    #![doc = include_str!("sources.md")]
}
mod state;
mod tcp_streams;
pub mod wasm;

pub use builder::EmulatorBuilder;
pub use glue::{InProcess, PluginInstance};
pub use http_streams::HttpStreamView;
pub use plugin::{CallbackFailure, FailureKind, Mode, Plugin};
pub use state::{GrpcCall, HttpCall, LocalResponse};
pub use tcp_streams::TcpStreamView;

use plugin::Instance;
use proxywasm::abi::native_host;
use proxywasm::dispatcher;
use state::{Phase, State};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

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

/// The emulated proxy. Dropping it uninstalls it from the thread.
pub struct Emulator {
    state: Rc<RefCell<State>>,
    root_id: u32,
    instance: RefCell<Instance>,
    collecting: Cell<bool>,
    failures: RefCell<Vec<CallbackFailure>>,
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
