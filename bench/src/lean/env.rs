//! The `env` hostcalls of the lean host: only what the ABI needs, each doing what the reference host
//! does for the cases the bench reaches (proxy-wasm-cpp-host src/exports.cc for the argument checks and
//! hand-back, Envoy source/extensions/common/wasm/context.cc for maps, buffers and metrics, cpp-host
//! src/shared_data.cc and src/shared_queue.cc for shared data and queues). Every guest address is
//! bounds-checked: out of bounds is `invalid_memory_access`, never a host crash.

use super::state::{HostState, Metric, Queue};
use proxywasm::abi::{BufferType, MapType, MetricType, Status};
use wasmtime::{Caller, Linker};

type Call<'a> = Caller<'a, HostState>;

fn status(s: Status) -> u32 {
    u32::from(s)
}

const OK: u32 = 0;

/// Records `what` with the guest instructions executed so far, when the host traces. The host burns no
/// guest instructions between a hostcall's entry and its return except in a guest allocation (marked
/// too), so the differences between marks are the guest's own segments.
fn mark(caller: &mut Call<'_>, what: &'static str) {
    if caller.data().trace.is_none() {
        return;
    }
    let used = caller.get_fuel().map_or(0, |left| u64::MAX - left);
    if let Some(trace) = &mut caller.data_mut().trace {
        trace.push((what, used));
    }
}

/// The guest's memory and the host's state, borrowed together.
fn split<'a>(caller: &'a mut Call<'_>) -> Option<(&'a mut [u8], &'a mut HostState)> {
    let memory = caller.data().memory?;
    Some(memory.data_and_store_mut(caller))
}

fn range(ptr: u32, len: u32) -> Option<std::ops::Range<usize>> {
    let start = ptr as usize;
    Some(start..start.checked_add(len as usize)?)
}

fn put(memory: &mut [u8], ptr: u32, bytes: &[u8]) -> Option<()> {
    memory
        .get_mut(range(ptr, bytes.len() as u32)?)?
        .copy_from_slice(bytes);
    Some(())
}

/// Runs `f` with the guest bytes at `ptr..ptr+len` and the host state; `invalid_memory_access` when
/// they are out of bounds.
fn with_input(
    caller: &mut Call<'_>,
    ptr: u32,
    len: u32,
    f: impl FnOnce(&[u8], &mut HostState) -> u32,
) -> u32 {
    let Some((memory, state)) = split(caller) else {
        return status(Status::InvalidMemoryAccess);
    };
    match range(ptr, len).and_then(|r| memory.get(r)) {
        Some(bytes) => f(bytes, state),
        None => status(Status::InvalidMemoryAccess),
    }
}

/// Hands the guest a copy of the bytes `pick` selects in the host's state: one allocation through the
/// guest's allocator, then the address and length written at `ptr_ptr` and `size_ptr` (cpp-host
/// `WasmBase::copyToPointerSize`; empty bytes are address 0 without an allocation). `None` from `pick`
/// answers `missing`.
fn hand_back(
    caller: &mut Call<'_>,
    ptr_ptr: u32,
    size_ptr: u32,
    missing: Status,
    pick: impl Fn(&HostState) -> Option<&[u8]>,
) -> wasmtime::Result<u32> {
    let Some(len) = pick(caller.data()).map(<[u8]>::len) else {
        return Ok(status(missing));
    };
    let Ok(len) = u32::try_from(len) else {
        return Ok(status(Status::SerializationFailure));
    };
    let mut address = 0;
    if len > 0 {
        let Some(allocate) = caller.data().allocate.clone() else {
            return Ok(status(Status::InternalFailure));
        };
        mark(caller, "allocate");
        address = allocate.call(&mut *caller, len)?;
        mark(caller, "allocated");
        if address == 0 {
            return Ok(status(Status::InternalFailure));
        }
    }
    let Some((memory, state)) = split(caller) else {
        return Ok(status(Status::InvalidMemoryAccess));
    };
    let written = pick(state)
        .filter(|bytes| bytes.len() == len as usize)
        .and_then(|bytes| put(memory, address, bytes))
        .and_then(|()| put(memory, ptr_ptr, &address.to_le_bytes()))
        .and_then(|()| put(memory, size_ptr, &len.to_le_bytes()));
    Ok(match written {
        Some(()) => OK,
        None => status(Status::InvalidMemoryAccess),
    })
}

fn write_u32(caller: &mut Call<'_>, ptr: u32, value: u32) -> u32 {
    match split(caller).and_then(|(memory, _)| put(memory, ptr, &value.to_le_bytes())) {
        Some(()) => OK,
        None => status(Status::InvalidMemoryAccess),
    }
}

/// The header map a map hostcall names; `None` for maps the bench never has (gRPC metadata, HTTP-call
/// responses): Envoy answers those with `bad_argument` when no call or stream holds them.
fn header_map(state: &mut HostState, map: u32) -> Option<&mut super::state::HeaderMap> {
    match MapType::try_from(map).ok()? {
        MapType::HttpRequestHeaders => Some(&mut state.request_headers),
        MapType::HttpRequestTrailers => Some(&mut state.request_trailers),
        MapType::HttpResponseHeaders => Some(&mut state.response_headers),
        MapType::HttpResponseTrailers => Some(&mut state.response_trailers),
        _ => None,
    }
}

fn header_map_ref(state: &HostState, map: u32) -> Option<&super::state::HeaderMap> {
    match MapType::try_from(map).ok()? {
        MapType::HttpRequestHeaders => Some(&state.request_headers),
        MapType::HttpRequestTrailers => Some(&state.request_trailers),
        MapType::HttpResponseHeaders => Some(&state.response_headers),
        MapType::HttpResponseTrailers => Some(&state.response_trailers),
        _ => None,
    }
}

/// A buffer the plugin may read: bodies and TCP data of the current stream, and the plugin
/// configuration (the VM configuration is empty). Envoy's `getBuffer`; an HTTP call's response body or
/// a gRPC message does not exist here: `not_found` (cpp-host `get_buffer_bytes` for a null buffer).
fn readable(state: &HostState, buffer: u32) -> Option<&[u8]> {
    Some(match BufferType::try_from(buffer).ok()? {
        BufferType::HttpRequestBody => &state.request_body,
        BufferType::HttpResponseBody => &state.response_body,
        BufferType::DownstreamData => &state.downstream,
        BufferType::UpstreamData => &state.upstream,
        BufferType::PluginConfiguration => &state.plugin_configuration,
        BufferType::VmConfiguration => &[],
        _ => return None,
    })
}

/// A buffer the plugin may change; the configurations are read-only (`bad_argument`).
fn writable(state: &mut HostState, buffer: u32) -> Option<&mut Vec<u8>> {
    match BufferType::try_from(buffer).ok()? {
        BufferType::HttpRequestBody => Some(&mut state.request_body),
        BufferType::HttpResponseBody => Some(&mut state.response_body),
        BufferType::DownstreamData => Some(&mut state.downstream),
        BufferType::UpstreamData => Some(&mut state.upstream),
        _ => None,
    }
}

/// Registers every `env` hostcall the lean host implements.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    logging(linker)?;
    maps(linker)?;
    buffers(linker)?;
    metrics(linker)?;
    shared(linker)?;
    contexts(linker)?;
    outside(linker)?;
    Ok(())
}

fn logging(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // exports.cc `log`: the message is read from guest memory; the proxy drops lines below its level.
    linker.func_wrap(
        "env",
        "proxy_log",
        |mut caller: Call<'_>, level: u32, ptr: u32, len: u32| -> u32 {
            with_input(&mut caller, ptr, len, |message, state| {
                if level >= state.log_level {
                    let text = String::from_utf8_lossy(message).into_owned();
                    state.log.push((level, text));
                }
                OK
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_log_level",
        |mut caller: Call<'_>, ptr: u32| -> u32 {
            let level = caller.data().log_level;
            write_u32(&mut caller, ptr, level)
        },
    )?;
    Ok(())
}

fn maps(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // Envoy `getHeaderMapValue`: the first value; a missing key is `not_found` under 0.2.x.
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut caller: Call<'_>,
         map: u32,
         key_ptr: u32,
         key_len: u32,
         ptr_ptr: u32,
         size_ptr: u32|
         -> wasmtime::Result<u32> {
            mark(&mut caller, "get_header_map_value");
            let Some(key) = split(&mut caller)
                .and_then(|(memory, _)| memory.get(range(key_ptr, key_len)?))
                .map(<[u8]>::to_vec)
            else {
                return Ok(status(Status::InvalidMemoryAccess));
            };
            if header_map_ref(caller.data(), map).is_none() {
                return Ok(status(Status::BadArgument));
            }
            hand_back(&mut caller, ptr_ptr, size_ptr, Status::NotFound, |state| {
                header_map_ref(state, map)?.get(&key)
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut caller: Call<'_>, map: u32, ptr_ptr: u32, size_ptr: u32| -> wasmtime::Result<u32> {
            let state = caller.data_mut();
            let mut scratch = std::mem::take(&mut state.scratch);
            match header_map_ref(state, map) {
                Some(headers) => headers.serialize(&mut scratch),
                None => return Ok(status(Status::BadArgument)),
            }
            state.scratch = scratch;
            hand_back(&mut caller, ptr_ptr, size_ptr, Status::NotFound, |state| {
                Some(&state.scratch)
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |mut caller: Call<'_>, map: u32, kp: u32, kl: u32, vp: u32, vl: u32| -> u32 {
            mark(&mut caller, "add_header_map_value");
            edit_map(&mut caller, map, kp, kl, vp, vl, |m, k, v| m.add(k, v))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_replace_header_map_value",
        |mut caller: Call<'_>, map: u32, kp: u32, kl: u32, vp: u32, vl: u32| -> u32 {
            edit_map(&mut caller, map, kp, kl, vp, vl, |m, k, v| m.replace(k, v))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut caller: Call<'_>, map: u32, kp: u32, kl: u32| -> u32 {
            mark(&mut caller, "remove_header_map_value");
            edit_map(&mut caller, map, kp, kl, kp, 0, |m, k, _| m.remove(k))
        },
    )?;
    // Envoy `setHeaderMapPairs`: the map's entries replaced by the decoded ones; an undecodable map is
    // `bad_argument` (cpp-host `set_header_map_pairs` fails to deserialize it).
    linker.func_wrap(
        "env",
        "proxy_set_header_map_pairs",
        |mut caller: Call<'_>, map: u32, ptr: u32, len: u32| -> u32 {
            with_input(&mut caller, ptr, len, |bytes, state| {
                let Ok(pairs) = proxywasm::codec::decode_map(bytes) else {
                    return status(Status::BadArgument);
                };
                match header_map(state, map) {
                    Some(headers) => {
                        headers.entries.clear();
                        for (k, v) in pairs {
                            headers.add(k, v);
                        }
                        OK
                    }
                    None => status(Status::BadArgument),
                }
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_size",
        |mut caller: Call<'_>, map: u32, size_ptr: u32| -> u32 {
            let Some(size) = header_map(caller.data_mut(), map).map(|m| m.byte_size()) else {
                return status(Status::BadArgument);
            };
            write_u32(&mut caller, size_ptr, size as u32)
        },
    )?;
    Ok(())
}

/// Reads a key and a value from guest memory and applies `edit` to map `map`.
fn edit_map(
    caller: &mut Call<'_>,
    map: u32,
    key_ptr: u32,
    key_len: u32,
    value_ptr: u32,
    value_len: u32,
    edit: impl FnOnce(&mut super::state::HeaderMap, &[u8], &[u8]),
) -> u32 {
    let Some((memory, state)) = split(caller) else {
        return status(Status::InvalidMemoryAccess);
    };
    let (Some(key), Some(value)) = (
        range(key_ptr, key_len).and_then(|r| memory.get(r)),
        range(value_ptr, value_len).and_then(|r| memory.get(r)),
    ) else {
        return status(Status::InvalidMemoryAccess);
    };
    match header_map(state, map) {
        Some(headers) => {
            edit(headers, key, value);
            OK
        }
        None => status(Status::BadArgument),
    }
}

fn buffers(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // exports.cc `get_buffer_bytes`: an overflowing range is `bad_argument`; the range is clamped to
    // the data; nothing is handed back for an empty range.
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut caller: Call<'_>,
         buffer: u32,
         start: u32,
         max: u32,
         ptr_ptr: u32,
         size_ptr: u32|
         -> wasmtime::Result<u32> {
            if start.checked_add(max).is_none() {
                return Ok(status(Status::BadArgument));
            }
            let (start, max) = (start as usize, max as usize);
            let Some(len) = readable(caller.data(), buffer).map(<[u8]>::len) else {
                return Ok(status(Status::NotFound));
            };
            if start >= len || max == 0 {
                return Ok(OK);
            }
            let end = len.min(start + max);
            hand_back(&mut caller, ptr_ptr, size_ptr, Status::NotFound, |state| {
                readable(state, buffer).map(|b| &b[start..end])
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_buffer_status",
        |mut caller: Call<'_>, buffer: u32, len_ptr: u32, flags_ptr: u32| -> u32 {
            let Some(len) = readable(caller.data(), buffer).map(<[u8]>::len) else {
                return status(Status::NotFound);
            };
            match write_u32(&mut caller, len_ptr, len as u32) {
                OK => write_u32(&mut caller, flags_ptr, 0),
                other => other,
            }
        },
    )?;
    // Envoy `Buffer::copyFrom`: at start 0 drain `size` bytes and prepend; at or past the end append;
    // anything else `bad_argument`.
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |mut caller: Call<'_>, buffer: u32, start: u32, size: u32, ptr: u32, len: u32| -> u32 {
            with_input(&mut caller, ptr, len, |data, state| {
                let Some(target) = writable(state, buffer) else {
                    return status(Status::BadArgument);
                };
                let (start, size) = (start as usize, size as usize);
                if start == 0 {
                    target.splice(..size.min(target.len()), data.iter().copied());
                } else if start >= target.len() {
                    target.extend_from_slice(data);
                } else {
                    return status(Status::BadArgument);
                }
                OK
            })
        },
    )?;
    Ok(())
}

fn metrics(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // Envoy `defineMetric`: a new id per definition.
    linker.func_wrap(
        "env",
        "proxy_define_metric",
        |mut caller: Call<'_>, kind: u32, ptr: u32, len: u32, id_ptr: u32| -> u32 {
            if MetricType::try_from(kind).is_err() {
                return status(Status::BadArgument);
            }
            let mut id = 0;
            let defined = with_input(&mut caller, ptr, len, |name, state| {
                id = state.metrics.len() as u32;
                state.metrics.push(Metric {
                    kind,
                    name: name.to_vec(),
                    value: 0,
                });
                OK
            });
            if defined != OK {
                return defined;
            }
            write_u32(&mut caller, id_ptr, id)
        },
    )?;
    // Envoy `incrementMetric`: counters take positive deltas only; histograms cannot be incremented.
    linker.func_wrap(
        "env",
        "proxy_increment_metric",
        |mut caller: Call<'_>, id: u32, delta: i64| -> u32 {
            mark(&mut caller, "increment_metric");
            let Some(metric) = caller.data_mut().metrics.get_mut(id as usize) else {
                return status(Status::NotFound);
            };
            match MetricType::try_from(metric.kind) {
                Ok(MetricType::Counter) if delta > 0 => {
                    metric.value = metric.value.wrapping_add(delta as u64);
                    OK
                }
                Ok(MetricType::Gauge) => {
                    metric.value = metric.value.wrapping_add_signed(delta);
                    OK
                }
                _ => status(Status::BadArgument),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_record_metric",
        |mut caller: Call<'_>, id: u32, value: u64| -> u32 {
            let Some(metric) = caller.data_mut().metrics.get_mut(id as usize) else {
                return status(Status::NotFound);
            };
            match MetricType::try_from(metric.kind) {
                Ok(MetricType::Counter) => metric.value = metric.value.wrapping_add(value),
                _ => metric.value = value,
            }
            OK
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_metric",
        |mut caller: Call<'_>, id: u32, ptr: u32| -> u32 {
            let Some(value) = caller.data().metrics.get(id as usize).map(|m| m.value) else {
                return status(Status::NotFound);
            };
            match split(&mut caller).and_then(|(memory, _)| put(memory, ptr, &value.to_le_bytes()))
            {
                Some(()) => OK,
                None => status(Status::InvalidMemoryAccess),
            }
        },
    )?;
    Ok(())
}

fn shared(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // cpp-host `SharedData::get`: the value and its version; an unknown key is `not_found`.
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut caller: Call<'_>,
         key_ptr: u32,
         key_len: u32,
         ptr_ptr: u32,
         size_ptr: u32,
         cas_ptr: u32|
         -> wasmtime::Result<u32> {
            mark(&mut caller, "get_shared_data");
            let Some(key) = split(&mut caller)
                .and_then(|(memory, _)| memory.get(range(key_ptr, key_len)?))
                .map(<[u8]>::to_vec)
            else {
                return Ok(status(Status::InvalidMemoryAccess));
            };
            let Some(cas) = caller.data().shared.get(&key).map(|(_, cas)| *cas) else {
                return Ok(status(Status::NotFound));
            };
            let handed = hand_back(&mut caller, ptr_ptr, size_ptr, Status::NotFound, |state| {
                state.shared.get(&key).map(|(value, _)| value.as_slice())
            })?;
            if handed != OK {
                return Ok(handed);
            }
            Ok(write_u32(&mut caller, cas_ptr, cas))
        },
    )?;
    // cpp-host `SharedData::set`: a non-zero cas must match the entry's version; every write takes a
    // new version from one counter.
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut caller: Call<'_>, kp: u32, kl: u32, vp: u32, vl: u32, cas: u32| -> u32 {
            mark(&mut caller, "set_shared_data");
            let Some((memory, state)) = split(&mut caller) else {
                return status(Status::InvalidMemoryAccess);
            };
            let (Some(key), Some(value)) = (
                range(kp, kl).and_then(|r| memory.get(r)),
                range(vp, vl).and_then(|r| memory.get(r)),
            ) else {
                return status(Status::InvalidMemoryAccess);
            };
            state.cas_counter = state.cas_counter.wrapping_add(1).max(1);
            let version = state.cas_counter;
            match state.shared.get_mut(key) {
                Some((_, current)) if cas != 0 && cas != *current => status(Status::CasMismatch),
                Some((stored, current)) => {
                    stored.clear();
                    stored.extend_from_slice(value);
                    *current = version;
                    OK
                }
                None => {
                    state.shared.insert(key.to_vec(), (value.to_vec(), version));
                    OK
                }
            }
        },
    )?;
    // cpp-host `SharedQueue::registerQueue`: the same name registered again keeps its id.
    linker.func_wrap(
        "env",
        "proxy_register_shared_queue",
        |mut caller: Call<'_>, ptr: u32, len: u32, id_ptr: u32| -> u32 {
            let mut id = 0;
            let registered = with_input(&mut caller, ptr, len, |name, state| {
                let owner = state.effective;
                id = match state.queues.iter().position(|q| q.name == name) {
                    Some(i) => {
                        state.queues[i].owner = owner;
                        i as u32
                    }
                    None => {
                        state.queues.push(Queue {
                            name: name.to_vec(),
                            owner,
                            items: Default::default(),
                        });
                        state.queues.len() as u32 - 1
                    }
                };
                OK
            });
            if registered != OK {
                return registered;
            }
            write_u32(&mut caller, id_ptr, id)
        },
    )?;
    // cpp-host `SharedQueue::resolveQueue`: the queue registered under this name (one VM here).
    linker.func_wrap(
        "env",
        "proxy_resolve_shared_queue",
        |mut caller: Call<'_>, _vp: u32, _vl: u32, ptr: u32, len: u32, id_ptr: u32| -> u32 {
            let mut found = None;
            let looked = with_input(&mut caller, ptr, len, |name, state| {
                found = state.queues.iter().position(|q| q.name == name);
                OK
            });
            match (looked, found) {
                (OK, Some(id)) => write_u32(&mut caller, id_ptr, id as u32),
                (OK, None) => status(Status::NotFound),
                (other, _) => other,
            }
        },
    )?;
    // cpp-host `SharedQueue::enqueue`: appends and tells the owner (after the current callback).
    linker.func_wrap(
        "env",
        "proxy_enqueue_shared_queue",
        |mut caller: Call<'_>, id: u32, ptr: u32, len: u32| -> u32 {
            mark(&mut caller, "enqueue_shared_queue");
            with_input(&mut caller, ptr, len, |item, state| {
                let Some(queue) = state.queues.get_mut(id as usize) else {
                    return status(Status::NotFound);
                };
                queue.items.push_back(item.to_vec());
                if !state.ready.contains(&id) {
                    state.ready.push(id);
                }
                OK
            })
        },
    )?;
    // cpp-host `SharedQueue::dequeue`: the oldest item; `empty` when there is none.
    linker.func_wrap(
        "env",
        "proxy_dequeue_shared_queue",
        |mut caller: Call<'_>, id: u32, ptr_ptr: u32, size_ptr: u32| -> wasmtime::Result<u32> {
            mark(&mut caller, "dequeue_shared_queue");
            let Some(queue) = caller.data_mut().queues.get_mut(id as usize) else {
                return Ok(status(Status::NotFound));
            };
            let Some(item) = queue.items.pop_front() else {
                return Ok(status(Status::Empty));
            };
            caller.data_mut().scratch = item;
            hand_back(&mut caller, ptr_ptr, size_ptr, Status::Empty, |state| {
                Some(&state.scratch)
            })
        },
    )?;
    Ok(())
}

fn contexts(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_set_tick_period_milliseconds",
        |mut caller: Call<'_>, period: u32| -> u32 {
            caller.data_mut().tick_period_ms = period;
            OK
        },
    )?;
    // exports.cc `set_effective_context`: an unknown context is `bad_argument`.
    linker.func_wrap(
        "env",
        "proxy_set_effective_context",
        |mut caller: Call<'_>, id: u32| -> u32 {
            let state = caller.data_mut();
            if state.live.contains(&id) {
                state.effective = id;
                OK
            } else {
                status(Status::BadArgument)
            }
        },
    )?;
    // cpp-host `ContextBase::continueStream` for a stream that is not paused: nothing to do.
    linker.func_wrap(
        "env",
        "proxy_continue_stream",
        |_: Call<'_>, _stream: u32| -> u32 { OK },
    )?;
    // No deferred shutdown is pending in the bench (every `on_done` returns true): `not_found`.
    linker.func_wrap("env", "proxy_done", |_: Call<'_>| -> u32 {
        status(Status::NotFound)
    })?;
    // The bench's plugins read no property; the host has none to give.
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |_: Call<'_>, _: u32, _: u32, _: u32, _: u32| -> u32 { status(Status::NotFound) },
    )?;
    Ok(())
}

/// Hostcalls the bench's plugins import (the official SDK links every hostcall its dispatcher can
/// reach) but never make: answered as a proxy without upstreams, properties or foreign functions does.
fn outside(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // Envoy `httpCall` / `grpcCall` / `grpcStream`: an unknown cluster is `bad_argument`; this host
    // knows none.
    linker.func_wrap(
        "env",
        "proxy_http_call",
        |_: Call<'_>,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32|
         -> u32 { status(Status::BadArgument) },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_call",
        |_: Call<'_>,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32|
         -> u32 { status(Status::BadArgument) },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_stream",
        |_: Call<'_>,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32|
         -> u32 { status(Status::BadArgument) },
    )?;
    // No call or stream is ever open: every token is unknown (`not_found`).
    for name in ["proxy_grpc_cancel", "proxy_grpc_close"] {
        linker.func_wrap("env", name, |_: Call<'_>, _: u32| -> u32 {
            status(Status::NotFound)
        })?;
    }
    linker.func_wrap(
        "env",
        "proxy_grpc_send",
        |_: Call<'_>, _: u32, _: u32, _: u32, _: u32| -> u32 { status(Status::NotFound) },
    )?;
    // exports.cc `get_status`: only meaningful in a gRPC callback, which never happens here.
    linker.func_wrap(
        "env",
        "proxy_get_status",
        |_: Call<'_>, _: u32, _: u32, _: u32| -> u32 { status(Status::NotFound) },
    )?;
    // Envoy `setProperty` keeps the value in the stream's filter state; nothing here reads it back.
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |mut caller: Call<'_>, pp: u32, pl: u32, vp: u32, vl: u32| -> u32 {
            match with_input(&mut caller, pp, pl, |_, _| OK) {
                OK => with_input(&mut caller, vp, vl, |_, _| OK),
                other => other,
            }
        },
    )?;
    // exports.cc `call_foreign_function`: an unknown function name is `not_found`.
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |_: Call<'_>, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32| -> u32 {
            status(Status::NotFound)
        },
    )?;
    // Local responses and stream closes end the stream in a proxy; the bench's plugins send none.
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |_: Call<'_>, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32| -> u32 { OK },
    )?;
    linker.func_wrap("env", "proxy_close_stream", |_: Call<'_>, _: u32| -> u32 {
        OK
    })?;
    linker.func_wrap(
        "env",
        "proxy_get_current_time_nanoseconds",
        |mut caller: Call<'_>, ptr: u32| -> u32 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            match split(&mut caller).and_then(|(memory, _)| put(memory, ptr, &nanos.to_le_bytes()))
            {
                Some(()) => OK,
                None => status(Status::InvalidMemoryAccess),
            }
        },
    )?;
    Ok(())
}
