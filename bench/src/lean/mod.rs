//! The lean host: a wasmtime host that does only what the ABI needs (real header maps and buffers, one
//! guest allocation per value handed back, metrics, shared data and queues), so the time of a scenario
//! is mostly the plugin's own. It drives the callbacks in the order a proxy does (proxy-wasm-cpp-host
//! src/wasm.cc and src/context.cc: `_initialize`, `proxy_on_context_create(root, 0)`, `proxy_on_vm_start`,
//! `proxy_on_configure`; per stream `proxy_on_context_create(id, root)`, the stream callbacks, then
//! `proxy_on_done`, `proxy_on_log`, `proxy_on_delete`). A callback a plugin does not export is skipped,
//! as cpp-host does when it finds no such export (`on_done` then counts as true).
//!
//! It models one stream at a time and keeps no phase rules (which map a callback may see): the bench's
//! plugins only touch what their callback has. The repository's emulator stays the host that checks
//! those rules; this one exists to time.

mod env;
mod state;
mod wasi;

pub use state::HostState;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use wasmtime::{Engine, Instance, Linker, Module, Store, TypedFunc};

/// The log level the lean host runs with (warn: the bench's plugins log nothing at or above it).
const LOG_LEVEL: u32 = 3;

fn engine(metered: bool) -> &'static Engine {
    static PLAIN: OnceLock<Engine> = OnceLock::new();
    static METERED: OnceLock<Engine> = OnceLock::new();
    let make = |fuel: bool| {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(fuel);
        Engine::new(&config).expect("wasmtime accepts the default configuration")
    };
    if metered {
        METERED.get_or_init(|| make(true))
    } else {
        PLAIN.get_or_init(|| make(false))
    }
}

fn linker(metered: bool) -> Result<&'static Linker<HostState>, String> {
    static PLAIN: OnceLock<Linker<HostState>> = OnceLock::new();
    static METERED: OnceLock<Linker<HostState>> = OnceLock::new();
    let cell = if metered { &METERED } else { &PLAIN };
    if let Some(linker) = cell.get() {
        return Ok(linker);
    }
    let mut linker = Linker::new(engine(metered));
    env::add(&mut linker).map_err(|e| format!("{e:#}"))?;
    wasi::add(&mut linker).map_err(|e| format!("{e:#}"))?;
    Ok(cell.get_or_init(|| linker))
}

fn module(path: &Path, metered: bool) -> Result<Module, String> {
    static CACHE: OnceLock<Mutex<HashMap<(PathBuf, bool), Module>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (path.to_path_buf(), metered);
    if let Some(module) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(module.clone());
    }
    let module = Module::from_file(engine(metered), path)
        .map_err(|e| format!("{}: {e:#}", path.display()))?;
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, module.clone());
    Ok(module)
}

type Stream3 = Option<TypedFunc<(u32, u32, u32), u32>>;

/// The plugin's callbacks the bench drives; `None` where the plugin does not export one.
struct Callbacks {
    context_create: Option<TypedFunc<(u32, u32), ()>>,
    vm_start: Option<TypedFunc<(u32, u32), u32>>,
    configure: Option<TypedFunc<(u32, u32), u32>>,
    request_headers: Stream3,
    response_headers: Stream3,
    request_body: Stream3,
    new_connection: Option<TypedFunc<u32, u32>>,
    downstream_data: Stream3,
    done: Option<TypedFunc<u32, u32>>,
    log: Option<TypedFunc<u32, ()>>,
    delete: Option<TypedFunc<u32, ()>>,
    tick: Option<TypedFunc<u32, ()>>,
    queue_ready: Option<TypedFunc<(u32, u32), ()>>,
}

impl Callbacks {
    fn find(store: &mut Store<HostState>, instance: &Instance) -> Self {
        macro_rules! get {
            ($name:literal) => {
                instance.get_typed_func(&mut *store, $name).ok()
            };
        }
        Callbacks {
            context_create: get!("proxy_on_context_create"),
            vm_start: get!("proxy_on_vm_start"),
            configure: get!("proxy_on_configure"),
            request_headers: get!("proxy_on_request_headers"),
            response_headers: get!("proxy_on_response_headers"),
            request_body: get!("proxy_on_request_body"),
            new_connection: get!("proxy_on_new_connection"),
            downstream_data: get!("proxy_on_downstream_data"),
            done: get!("proxy_on_done"),
            log: get!("proxy_on_log"),
            delete: get!("proxy_on_delete"),
            tick: get!("proxy_on_tick"),
            queue_ready: get!("proxy_on_queue_ready"),
        }
    }
}

/// A callback's result when the plugin does not export it (`Continue`, `true`).
const CONTINUE: u32 = 0;

/// One plugin instance in the lean host.
pub struct LeanHost {
    store: Store<HostState>,
    callbacks: Callbacks,
    root: u32,
    next_id: u32,
    /// Request-body bytes the plugin let through (what `Continue` releases).
    pub request_body_forwarded: Vec<u8>,
}

fn trap(e: wasmtime::Error) -> String {
    format!("the plugin trapped: {e:?}")
}

impl LeanHost {
    /// Instantiates the module at `path` (compiled once per path and metering), runs its entry point,
    /// creates the root context and starts it with `configuration`. Errors: the module cannot be
    /// compiled or linked (an import this host lacks), a trap, or a start the plugin refused.
    pub fn start(path: &Path, configuration: &str, metered: bool) -> Result<Self, String> {
        let module = module(path, metered)?;
        let mut store = Store::new(
            engine(metered),
            HostState {
                log_level: LOG_LEVEL,
                plugin_configuration: configuration.as_bytes().to_vec(),
                ..HostState::default()
            },
        );
        if metered {
            store.set_fuel(u64::MAX).map_err(|e| format!("{e:#}"))?;
        }
        let instance = linker(metered)?
            .instantiate(&mut store, &module)
            .map_err(|e| format!("{}: {e:#}", path.display()))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or("the module exports no memory")?;
        // cpp-host src/wasm.cc looks up `malloc` first, then `proxy_on_memory_allocate`.
        let allocate = instance
            .get_typed_func::<u32, u32>(&mut store, "malloc")
            .or_else(|_| instance.get_typed_func(&mut store, "proxy_on_memory_allocate"))
            .ok();
        store.data_mut().memory = Some(memory);
        store.data_mut().allocate = allocate;
        let entry = instance
            .get_typed_func::<(), ()>(&mut store, "_initialize")
            .or_else(|_| instance.get_typed_func(&mut store, "_start"))
            .ok();
        if let Some(entry) = entry {
            if let Err(e) = entry.call(&mut store, ()) {
                if !matches!(e.downcast_ref::<wasi::ProcExit>(), Some(wasi::ProcExit(0))) {
                    return Err(trap(e));
                }
            }
        }
        let callbacks = Callbacks::find(&mut store, &instance);
        let mut host = LeanHost {
            store,
            callbacks,
            root: 1,
            next_id: 2,
            request_body_forwarded: Vec::new(),
        };
        host.create(1, 0)?;
        let size = configuration.len() as u32;
        let vm = host.call2(|c| c.vm_start.clone(), (1, 0), 1)?;
        let configured = host.call2(|c| c.configure.clone(), (1, size), 1)?;
        if vm == 0 || configured == 0 {
            return Err("the plugin refused to start".into());
        }
        Ok(host)
    }

    /// The host's state (maps, buffers, metrics, shared data, queues, log lines).
    pub fn state(&self) -> &HostState {
        self.store.data()
    }

    /// Wasm instructions the guest executed so far (fuel burnt), when metered.
    pub fn guest_instructions(&self) -> u64 {
        self.store.get_fuel().map_or(0, |left| u64::MAX - left)
    }

    /// Starts recording the traced hostcalls and guest allocations (see [`HostState::trace`]).
    pub fn start_trace(&mut self) {
        self.store.data_mut().trace = Some(Vec::new());
    }

    /// Stops recording; hands back what was recorded since [`LeanHost::start_trace`].
    pub fn take_trace(&mut self) -> Vec<(&'static str, u64)> {
        self.store.data_mut().trace.take().unwrap_or_default()
    }

    fn enter(&mut self, id: u32) {
        self.store.data_mut().effective = id;
    }

    fn create(&mut self, id: u32, parent: u32) -> Result<(), String> {
        self.store.data_mut().live.push(id);
        self.enter(id);
        if let Some(f) = self.callbacks.context_create.clone() {
            f.call(&mut self.store, (id, parent)).map_err(trap)?;
        }
        Ok(())
    }

    fn call2(
        &mut self,
        pick: impl Fn(&Callbacks) -> Option<TypedFunc<(u32, u32), u32>>,
        args: (u32, u32),
        missing: u32,
    ) -> Result<u32, String> {
        self.enter(args.0);
        match pick(&self.callbacks) {
            Some(f) => f.call(&mut self.store, args).map_err(trap),
            None => Ok(missing),
        }
    }

    fn call3(
        &mut self,
        pick: impl Fn(&Callbacks) -> Stream3,
        args: (u32, u32, u32),
    ) -> Result<u32, String> {
        self.enter(args.0);
        match pick(&self.callbacks) {
            Some(f) => f.call(&mut self.store, args).map_err(trap),
            None => Ok(CONTINUE),
        }
    }

    fn call1(&mut self, f: Option<TypedFunc<u32, ()>>, id: u32) -> Result<(), String> {
        self.enter(id);
        match f {
            Some(f) => f.call(&mut self.store, id).map_err(trap),
            None => Ok(()),
        }
    }

    /// Creates a stream context (HTTP or TCP: the plugin decides) under the root; returns its id.
    pub fn new_stream(&mut self) -> Result<u32, String> {
        let id = self.next_id;
        self.next_id += 1;
        self.create(id, self.root)?;
        Ok(id)
    }

    /// Delivers the request headers; returns the plugin's action.
    pub fn request_headers(
        &mut self,
        id: u32,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Result<u32, String> {
        self.store.data_mut().request_headers.fill(headers);
        let n = headers.len() as u32;
        self.call3(|c| c.request_headers.clone(), (id, n, end_of_stream.into()))
    }

    /// Delivers the response headers; returns the plugin's action.
    pub fn response_headers(
        &mut self,
        id: u32,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Result<u32, String> {
        self.store.data_mut().response_headers.fill(headers);
        let n = headers.len() as u32;
        self.call3(
            |c| c.response_headers.clone(),
            (id, n, end_of_stream.into()),
        )
    }

    /// Adds a request-body chunk to what the proxy buffers and tells the plugin the buffered size; on
    /// `Continue` the buffered bytes go on (into [`LeanHost::request_body_forwarded`]), on `Pause` they
    /// stay buffered (Envoy's `StopIterationAndBuffer`).
    pub fn request_body(
        &mut self,
        id: u32,
        chunk: &[u8],
        end_of_stream: bool,
    ) -> Result<u32, String> {
        self.store.data_mut().request_body.extend_from_slice(chunk);
        let size = self.store.data().request_body.len() as u32;
        let action = self.call3(|c| c.request_body.clone(), (id, size, end_of_stream.into()))?;
        if action == CONTINUE {
            let body = &mut self.store.data_mut().request_body;
            self.request_body_forwarded.append(body);
        }
        Ok(action)
    }

    /// Tells the plugin a connection is open.
    pub fn new_connection(&mut self, id: u32) -> Result<u32, String> {
        self.enter(id);
        match self.callbacks.new_connection.clone() {
            Some(f) => f.call(&mut self.store, id).map_err(trap),
            None => Ok(CONTINUE),
        }
    }

    /// Delivers downstream data (the buffer holds exactly `data`, as after a read that the previous
    /// callback let through).
    pub fn downstream_data(
        &mut self,
        id: u32,
        data: &[u8],
        end_of_stream: bool,
    ) -> Result<u32, String> {
        let buffer = &mut self.store.data_mut().downstream;
        buffer.clear();
        buffer.extend_from_slice(data);
        let size = data.len() as u32;
        self.call3(
            |c| c.downstream_data.clone(),
            (id, size, end_of_stream.into()),
        )
    }

    /// Ends stream `id`: `proxy_on_done`, `proxy_on_log`, `proxy_on_delete`; then the stream's maps
    /// and buffers are dropped (their allocations kept for the next stream).
    pub fn complete(&mut self, id: u32) -> Result<(), String> {
        self.complete_observed(id, &mut |_, _| {})
    }

    /// [`LeanHost::complete`], calling `observe` with each callback's name and the guest instructions
    /// so far after it returns (for the breakdown).
    pub fn complete_observed(
        &mut self,
        id: u32,
        observe: &mut dyn FnMut(&'static str, u64),
    ) -> Result<(), String> {
        self.enter(id);
        if let Some(f) = self.callbacks.done.clone() {
            f.call(&mut self.store, id).map_err(trap)?;
        }
        observe("done", self.guest_instructions());
        self.call1(self.callbacks.log.clone(), id)?;
        observe("log", self.guest_instructions());
        self.call1(self.callbacks.delete.clone(), id)?;
        observe("delete", self.guest_instructions());
        let state = self.store.data_mut();
        state.live.retain(|l| *l != id);
        for map in [
            &mut state.request_headers,
            &mut state.response_headers,
            &mut state.request_trailers,
            &mut state.response_trailers,
        ] {
            map.entries.clear();
        }
        state.request_body.clear();
        state.response_body.clear();
        state.downstream.clear();
        state.upstream.clear();
        self.request_body_forwarded.clear();
        Ok(())
    }

    /// Calls `proxy_on_tick` on the root, then `proxy_on_queue_ready` for each queue that received an
    /// item (cpp-host posts the notification to the queue owner's thread; here it runs right after).
    pub fn tick(&mut self) -> Result<(), String> {
        self.tick_observed(&mut |_, _| {})
    }

    /// [`LeanHost::tick`], calling `observe` after each callback as [`LeanHost::complete_observed`].
    pub fn tick_observed(
        &mut self,
        observe: &mut dyn FnMut(&'static str, u64),
    ) -> Result<(), String> {
        self.call1(self.callbacks.tick.clone(), self.root)?;
        observe("tick", self.guest_instructions());
        while let Some(queue) = self.store.data_mut().ready.pop() {
            let owner = self.store.data().queues[queue as usize].owner;
            self.enter(owner);
            if let Some(f) = self.callbacks.queue_ready.clone() {
                f.call(&mut self.store, (owner, queue)).map_err(trap)?;
            }
            observe("queue_ready", self.guest_instructions());
        }
        Ok(())
    }
}
