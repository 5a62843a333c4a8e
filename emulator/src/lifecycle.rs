//! The root context's life as the proxy drives it (VM start, configuration, further plugins in the same
//! VM, ticks, shutdown), the emulated clock and the log, and the host's count of what the plugin holds.

use crate::state::{Phase, RootInfo};
use crate::{Emulator, Mode};
use proxywasm::abi::{BoolResult, LogLevel};
use proxywasm::dispatcher;
use std::time::Duration;

impl Emulator {
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

    pub(crate) fn next_id(&self) -> u32 {
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
}
