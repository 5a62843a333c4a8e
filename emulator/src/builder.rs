//! Setting up an emulator: the VM and plugin configuration, the proxy's properties and shared data, the
//! clock, the log level and the known clusters, then building it for a plugin compiled into the test or a
//! `.wasm` module.

use crate::host::HostHandle;
use crate::state::{CallResponse, Phase, RootInfo, State};
use crate::{wasm, Emulator, InProcess, Instance, Plugin};
use proxywasm::abi::{native_host, LogLevel};
use proxywasm::dispatcher::{self, RootContextFactory};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

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
}
