//! What the lean host keeps between hostcalls: the current stream's header maps and buffers, metrics,
//! shared data, shared queues, the tick period and the log lines at or above the log level. One stream
//! at a time: the bench drives streams one after another, so the maps of "the current stream" are the
//! only ones a callback can reach, as in a proxy where each hostcall acts on the effective context.

use std::collections::{HashMap, VecDeque};
use wasmtime::{Memory, TypedFunc};

/// One header map: entries in order, duplicates kept, keys stored lower-case (Envoy keeps header names
/// lower-case: `addHeaderMapValue` adds with a `LowerCaseString` key, source/extensions/common/wasm/
/// context.cc).
#[derive(Default)]
pub struct HeaderMap {
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl HeaderMap {
    /// Replaces every entry with `pairs` (reusing the allocations of the previous stream's entries).
    pub fn fill(&mut self, pairs: &[(&str, &str)]) {
        self.entries.truncate(pairs.len());
        for (i, (k, v)) in pairs.iter().enumerate() {
            match self.entries.get_mut(i) {
                Some((key, value)) => {
                    key.clear();
                    key.extend_from_slice(k.as_bytes());
                    value.clear();
                    value.extend_from_slice(v.as_bytes());
                }
                None => self
                    .entries
                    .push((k.as_bytes().to_vec(), v.as_bytes().to_vec())),
            }
        }
    }

    /// The first value of `key` (ASCII case ignored: Envoy looks names up lower-cased).
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }

    /// Appends an entry with a lower-cased key.
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        self.entries
            .push((key.to_ascii_lowercase(), value.to_vec()));
    }

    /// Removes every entry of `key`.
    pub fn remove(&mut self, key: &[u8]) {
        self.entries.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
    }

    /// Sets `key` to `value`: the first entry is overwritten and the others removed; added when absent.
    pub fn replace(&mut self, key: &[u8], value: &[u8]) {
        self.remove(key);
        self.add(key, value);
    }

    /// The bytes of every name and value (what Envoy's `getHeaderMapSize` counts: `byteSize()`).
    pub fn byte_size(&self) -> usize {
        self.entries.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// The ABI's serialized form (spec/types.witx `$serialized_map`): a u32 count, a u32 key size and a
    /// u32 value size per entry, then each key and value followed by a NUL byte, little-endian.
    pub fn serialize(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for (k, v) in &self.entries {
            out.extend_from_slice(&(k.len() as u32).to_le_bytes());
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        }
        for (k, v) in &self.entries {
            out.extend_from_slice(k);
            out.push(0);
            out.extend_from_slice(v);
            out.push(0);
        }
    }
}

/// One metric: its kind (the ABI's `$metric_type`), name and value.
pub struct Metric {
    pub kind: u32,
    pub name: Vec<u8>,
    pub value: u64,
}

/// One shared queue: its name, the root context that registered it, and its items.
pub struct Queue {
    pub name: Vec<u8>,
    pub owner: u32,
    pub items: VecDeque<Vec<u8>>,
}

/// The lean host's state, the data of the wasmtime store.
#[derive(Default)]
pub struct HostState {
    /// The guest's memory and allocator, attached after instantiation.
    pub memory: Option<Memory>,
    pub allocate: Option<TypedFunc<u32, u32>>,
    /// The context hostcalls act on (the one whose callback runs).
    pub effective: u32,
    /// Live context ids (to answer `proxy_set_effective_context`).
    pub live: Vec<u32>,
    /// Log lines below this level are dropped.
    pub log_level: u32,
    /// The lines kept (level, text).
    pub log: Vec<(u32, String)>,
    pub plugin_configuration: Vec<u8>,
    pub request_headers: HeaderMap,
    pub response_headers: HeaderMap,
    pub request_trailers: HeaderMap,
    pub response_trailers: HeaderMap,
    pub request_body: Vec<u8>,
    pub response_body: Vec<u8>,
    pub downstream: Vec<u8>,
    pub upstream: Vec<u8>,
    /// Indexed by metric id.
    pub metrics: Vec<Metric>,
    /// Value and version by key; versions come from one counter (cpp-host src/shared_data.cc).
    pub shared: HashMap<Vec<u8>, (Vec<u8>, u32)>,
    pub cas_counter: u32,
    /// Indexed by queue id.
    pub queues: Vec<Queue>,
    /// Queues that received an item during the current callback (their owner is told afterwards).
    pub ready: Vec<u32>,
    pub tick_period_ms: u32,
    /// Reused for serialized maps handed to the guest.
    pub scratch: Vec<u8>,
    /// When set (the breakdown), each traced hostcall and each guest allocation records its name and
    /// the guest instructions executed so far, on entry and on return.
    pub trace: Option<Vec<(&'static str, u64)>>,
}
