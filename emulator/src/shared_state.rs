//! What the plugin shares with the proxy and other plugins: shared data, queues, metrics, properties and
//! filter state; and the host failures a test can inject (unreadable buffers and maps, overstated buffer
//! lengths, a repeated context creation).

use crate::{segments, Emulator};
use proxywasm::abi::{MetricType, Status};

impl Emulator {
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
}
