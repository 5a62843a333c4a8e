//! The emulated proxy's side of every hostcall: the implementation of the generated [`EnvHost`] trait.

use super::state::{
    GrpcCall, GrpcEvent, HttpCall, HttpPhase, LocalResponse, Metric, Phase, Queue, State, TcpPhase,
};
use proxywasm::abi::{BufferType, EnvHost, LogLevel, MapType, MetricType, Status, StreamType};
use proxywasm::codec::{decode_map, decode_path, encode_map};
use std::cell::RefCell;
use std::rc::Rc;

/// The prefix Envoy puts before a plugin's property path to name its filter state (`CelStateKeyPrefix`
/// in source/extensions/common/wasm/context.cc).
pub(crate) const FILTER_STATE_PREFIX: &[u8] = b"wasm.";

/// The first path segments Envoy resolves itself (`PROPERTY_TOKENS` in
/// source/extensions/common/wasm/context.cc); any other first segment names filter state.
const ENVOY_PROPERTY_ROOTS: [&str; 20] = [
    "metadata",
    "request",
    "response",
    "connection",
    "upstream",
    "node",
    "source",
    "destination",
    "listener_direction",
    "listener_metadata",
    "cluster_name",
    "cluster_metadata",
    "route_name",
    "route_metadata",
    "plugin_name",
    "upstream_host_metadata",
    "plugin_root_id",
    "plugin_vm_id",
    "connection_id",
    "filter_state",
];

/// The handle installed in the raw layer's host slot; shares the state with the test's [`super::Emulator`].
pub(crate) struct HostHandle(pub Rc<RefCell<State>>);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn parse_map(bytes: &[u8]) -> Result<Vec<(String, String)>, Status> {
    Ok(decode_map(bytes)
        .map_err(|_| Status::ParseFailure)?
        .into_iter()
        .map(|(k, v)| (text(k), text(v)))
        .collect())
}

/// Whether `map` belongs to the HTTP stream (not to an HTTP call or a gRPC call).
fn is_stream_map(map: MapType) -> bool {
    matches!(
        map,
        MapType::HttpRequestHeaders
            | MapType::HttpRequestTrailers
            | MapType::HttpResponseHeaders
            | MapType::HttpResponseTrailers
    )
}

fn lower(key: &[u8]) -> String {
    text(key).to_ascii_lowercase()
}

/// A buffer as a hostcall finds it.
enum BufferAccess<'a> {
    /// The bytes, and whether the plugin may change them: Envoy wraps the configurations, a foreign
    /// call's arguments and an HTTP call's response body as read-only strings, whose writes are
    /// `bad_argument` (cpp-host's `BufferBase::copyFrom`, include/proxy-wasm/context.h).
    Data(&'a mut Vec<u8>, bool),
    /// Envoy's wrapper around no data (a body or TCP data outside its callback, gRPC data outside a gRPC
    /// event): reads see 0 bytes, writes are `bad_argument`.
    Nothing,
}

impl State {
    /// The header map `map` as the current callback may read it.
    fn map(&mut self, map: MapType) -> Result<&mut Vec<(String, String)>, Status> {
        self.map_access(map, false)
    }

    /// The header map `map` as the current callback may read it, or change it (`write`).
    fn map_access(
        &mut self,
        map: MapType,
        write: bool,
    ) -> Result<&mut Vec<(String, String)>, Status> {
        if let Some((_, status)) = self.unreadable_maps.iter().find(|(m, _)| *m == map) {
            return Err(*status);
        }
        let current = self.current;
        let phase = self.phase;
        match map {
            MapType::HttpRequestHeaders
            | MapType::HttpRequestTrailers
            | MapType::HttpResponseHeaders
            | MapType::HttpResponseTrailers => {
                let stream = self.http.get_mut(&current).ok_or(Status::BadArgument)?;
                let held = stream.held.clone();
                let reached = stream.phase.ok_or(Status::BadArgument)?;
                let (needed, data) = match map {
                    MapType::HttpRequestHeaders => {
                        (HttpPhase::RequestHeaders, &mut stream.request_headers)
                    }
                    MapType::HttpRequestTrailers => {
                        (HttpPhase::RequestTrailers, &mut stream.request_trailers)
                    }
                    MapType::HttpResponseHeaders => {
                        (HttpPhase::ResponseHeaders, &mut stream.response_headers)
                    }
                    _ => (HttpPhase::ResponseTrailers, &mut stream.response_trailers),
                };
                // Envoy's `getMap` / `getConstMap`: a map is there during its own callback, and after
                // it while that callback has not let the stream continue; `proxy_on_log` reads every
                // map but the request trailers.
                let own = phase == Phase::Http(needed);
                let logged = !write
                    && phase == Phase::Http(HttpPhase::Log)
                    && needed != HttpPhase::RequestTrailers
                    && reached >= needed;
                if !(own || held.contains(&needed) || logged) {
                    return Err(Status::BadArgument);
                }
                Ok(data)
            }
            MapType::HttpCallResponseHeaders | MapType::HttpCallResponseTrailers => {
                if !matches!(self.phase, Phase::HttpCallResponse(_)) {
                    return Err(Status::BadArgument);
                }
                // A failed call has no response: Envoy's `getConstMap` finds no map.
                let response = self.call_response.as_mut().ok_or(Status::BadArgument)?;
                Ok(if map == MapType::HttpCallResponseHeaders {
                    &mut response.headers
                } else {
                    &mut response.trailers
                })
            }
            // Envoy's `getConstMap` reads metadata the root holds only during its own callback.
            MapType::GrpcReceiveInitialMetadata => match phase {
                Phase::Grpc(_, GrpcEvent::InitialMetadata) => Ok(&mut self.grpc_data.headers),
                _ => Err(Status::BadArgument),
            },
            MapType::GrpcReceiveTrailingMetadata => match phase {
                Phase::Grpc(_, GrpcEvent::TrailingMetadata) => Ok(&mut self.grpc_data.trailers),
                _ => Err(Status::BadArgument),
            },
        }
    }

    /// The header map `map` if the plugin may change it: Envoy's `Context::getMap` has no HTTP call
    /// response or gRPC metadata map, so changing those is `bad_argument`.
    fn mutable_map(&mut self, map: MapType) -> Result<&mut Vec<(String, String)>, Status> {
        match map {
            MapType::HttpCallResponseHeaders
            | MapType::HttpCallResponseTrailers
            | MapType::GrpcReceiveInitialMetadata
            | MapType::GrpcReceiveTrailingMetadata => Err(Status::BadArgument),
            MapType::HttpRequestHeaders => {
                // Envoy's Wasm context clears the route cache itself after every change a plugin makes
                // to the request headers (add/replace/remove/set pairs in
                // source/extensions/common/wasm/context.cc), so the router sees the new headers.
                self.map_access(map, true)?;
                let current = self.current;
                if let Some(stream) = self.http.get_mut(&current) {
                    stream.route_cache_cleared += 1;
                }
                self.map_access(map, true)
            }
            _ => self.map_access(map, true),
        }
    }

    /// The byte buffer `buffer` as the current callback may see it (Envoy's `Context::getBuffer`,
    /// source/extensions/common/wasm/context.cc; `Err` is what cpp-host's exports answer).
    fn buffer(&mut self, buffer: BufferType) -> Result<BufferAccess<'_>, Status> {
        if let Some(status) = self.unreadable(buffer) {
            return Err(status);
        }
        let current = self.current;
        let phase = self.phase;
        match buffer {
            BufferType::HttpRequestBody | BufferType::HttpResponseBody => {
                let response = buffer == BufferType::HttpResponseBody;
                let Some(stream) = self.http.get_mut(&current) else {
                    return Ok(BufferAccess::Nothing);
                };
                let needed = if response {
                    HttpPhase::ResponseBody
                } else {
                    HttpPhase::RequestBody
                };
                // Envoy keeps the body after a callback that paused (it buffers), drops it after one
                // that continued (`decodeData` / `encodeData`).
                let (held, buffering, _) = stream.body_mut(response);
                if phase == Phase::Http(needed) || *buffering {
                    Ok(BufferAccess::Data(held, true))
                } else {
                    Ok(BufferAccess::Nothing)
                }
            }
            BufferType::DownstreamData | BufferType::UpstreamData => {
                let Some(stream) = self.tcp.get_mut(&current) else {
                    return Ok(BufferAccess::Nothing);
                };
                // Envoy keeps the chunk of a data callback that did not continue.
                match (buffer, phase) {
                    (BufferType::DownstreamData, Phase::Tcp(TcpPhase::Downstream)) => {
                        Ok(BufferAccess::Data(&mut stream.downstream, true))
                    }
                    (BufferType::UpstreamData, Phase::Tcp(TcpPhase::Upstream)) => {
                        Ok(BufferAccess::Data(&mut stream.upstream, true))
                    }
                    (BufferType::DownstreamData, _) if stream.downstream_held => {
                        Ok(BufferAccess::Data(&mut stream.downstream, true))
                    }
                    (BufferType::UpstreamData, _) if stream.upstream_held => {
                        Ok(BufferAccess::Data(&mut stream.upstream, true))
                    }
                    _ => Ok(BufferAccess::Nothing),
                }
            }
            // Envoy hands the response body out as a read-only string, and nothing (`not_found`)
            // without a response (outside the callback, or for a failed call).
            BufferType::HttpCallResponseBody => match (phase, self.call_response.as_mut()) {
                (Phase::HttpCallResponse(_), Some(response)) => {
                    Ok(BufferAccess::Data(&mut response.body, false))
                }
                _ => Err(Status::NotFound),
            },
            BufferType::GrpcReceiveBuffer => match phase {
                Phase::Grpc(_, GrpcEvent::Message) => {
                    Ok(BufferAccess::Data(&mut self.grpc_data.body, true))
                }
                _ => Ok(BufferAccess::Nothing),
            },
            BufferType::VmConfiguration => match phase {
                Phase::VmStart => Ok(BufferAccess::Data(&mut self.vm_configuration, false)),
                _ => Err(Status::BadArgument),
            },
            BufferType::PluginConfiguration => match phase {
                Phase::Configure => {
                    let root = self.roots.get_mut(&current).ok_or(Status::BadArgument)?;
                    Ok(BufferAccess::Data(&mut root.plugin_configuration, false))
                }
                _ => Err(Status::BadArgument),
            },
            BufferType::CallData => match phase {
                Phase::ForeignFunction => {
                    Ok(BufferAccess::Data(&mut self.foreign_arguments, false))
                }
                _ => Err(Status::BadArgument),
            },
        }
    }

    /// The status the host answers for `buffer` when a test made it unreadable.
    fn unreadable(&self, buffer: BufferType) -> Option<Status> {
        self.unreadable_buffers
            .iter()
            .find(|(b, _)| *b == buffer)
            .map(|(_, status)| *status)
    }

    /// Whether the proxy has the cluster `name` (every name, unless the test listed its clusters).
    fn knows_cluster(&self, name: &[u8]) -> bool {
        self.clusters
            .as_ref()
            .is_none_or(|known| known.contains(text(name).as_str()))
    }

    fn metric(&mut self, id: u32) -> Result<&mut Metric, Status> {
        let index = id.checked_sub(1).ok_or(Status::NotFound)? as usize;
        let metric = *self.metric_ids.get(index).ok_or(Status::NotFound)?;
        self.metrics.get_mut(metric).ok_or(Status::NotFound)
    }

    /// A gRPC call or stream Envoy still holds (`grpc_call_request_` / `grpc_stream_`): a cancelled one,
    /// a unary call that was answered or closed, or a stream closed by both sides is `not_found`.
    fn grpc_call(&mut self, token: u32) -> Result<&mut GrpcCall, Status> {
        let settled = self.settled_calls.contains(&token);
        self.grpc_calls
            .iter_mut()
            .find(|c| c.token == token)
            .filter(|c| !c.cancelled && !(settled && (!c.is_stream || c.closed_by_plugin)))
            .ok_or(Status::NotFound)
    }

    fn queue(&mut self, id: u32) -> Result<&mut Queue, Status> {
        let index = id.checked_sub(1).ok_or(Status::NotFound)? as usize;
        self.queues.get_mut(index).ok_or(Status::NotFound)
    }

    /// Envoy's `Context::continueStream`: resuming the upstream side of a TCP stream is
    /// `unimplemented`; a stream the current context does not have is resumed by nobody, and the
    /// answer is still `ok`.
    fn resume(&mut self, stream: StreamType) -> Result<(), Status> {
        let current = self.current;
        match stream {
            StreamType::HttpRequest | StreamType::HttpResponse => {
                if let Some(s) = self.http.get_mut(&current) {
                    // Envoy lets go of the request's maps on either resume, never the response's.
                    s.held.remove(&HttpPhase::RequestHeaders);
                    s.held.remove(&HttpPhase::RequestTrailers);
                    if stream == StreamType::HttpRequest {
                        s.request_resumed += 1;
                    } else {
                        s.response_resumed += 1;
                    }
                }
                Ok(())
            }
            StreamType::Downstream => {
                if let Some(s) = self.tcp.get_mut(&current) {
                    s.downstream_resumed += 1;
                }
                Ok(())
            }
            StreamType::Upstream => Err(Status::Unimplemented),
        }
    }
}

impl HostHandle {
    /// Bytes to add to each buffer length reported to the guest (see `Emulator::overstate_buffer_lengths`).
    pub(crate) fn overstated_lengths(&self) -> u32 {
        self.0.try_borrow().map_or(0, |s| s.overstated_lengths)
    }

    fn with<T>(&mut self, f: impl FnOnce(&mut State) -> Result<T, Status>) -> Result<T, Status> {
        let mut state = self
            .0
            .try_borrow_mut()
            .map_err(|_| Status::InternalFailure)?;
        f(&mut state)
    }
}

impl EnvHost for HostHandle {
    fn proxy_log(&mut self, log_level: LogLevel, message: &[u8]) -> Result<(), Status> {
        self.with(|s| {
            if log_level >= s.log_level {
                s.logs.push((log_level, text(message)));
            }
            Ok(())
        })
    }

    fn proxy_get_log_level(&mut self) -> Result<LogLevel, Status> {
        self.with(|s| Ok(s.log_level))
    }

    fn proxy_get_current_time_nanoseconds(&mut self) -> Result<u64, Status> {
        self.with(|s| {
            let since = s
                .now
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| Status::InternalFailure)?;
            u64::try_from(since.as_nanos()).map_err(|_| Status::InternalFailure)
        })
    }

    /// cpp-host's `ContextBase::setTimerPeriod` (src/context.cc): the period is set on the current
    /// context's root context, so a stream context sets its root's timer.
    fn proxy_set_tick_period_milliseconds(&mut self, tick_period: u32) -> Result<(), Status> {
        self.with(|s| {
            let root = s.current_root().ok_or(Status::BadArgument)?;
            s.roots.entry(root).or_default().tick_period_ms = tick_period;
            Ok(())
        })
    }

    /// cpp-host's `WasmBase::done` (src/wasm.cc): finishes a shutdown the plugin deferred (its
    /// `proxy_on_done` answered false); with no deferred shutdown the answer is `not_found`. Any
    /// context of the plugin may call it.
    fn proxy_done(&mut self) -> Result<(), Status> {
        self.with(|s| {
            let root = s.current_root().ok_or(Status::NotFound)?;
            let info = s.roots.entry(root).or_default();
            if !info.shutdown_deferred {
                return Err(Status::NotFound);
            }
            info.shutdown_deferred = false;
            info.done_called = true;
            Ok(())
        })
    }

    fn proxy_set_effective_context(&mut self, context_id: u32) -> Result<(), Status> {
        self.with(|s| {
            let known = s.roots.contains_key(&context_id)
                || s.http.contains_key(&context_id)
                || s.tcp.contains_key(&context_id);
            if !known {
                return Err(Status::BadArgument);
            }
            s.current = context_id;
            Ok(())
        })
    }

    /// Envoy's `Context::getConfiguration` (source/extensions/common/wasm/context.cc): the plugin
    /// configuration while a plugin is configured (cpp-host's `temp_plugin_` is set only around
    /// `proxy_on_configure`), the VM configuration in every other callback, `proxy_on_vm_start` included.
    fn proxy_get_configuration(&mut self) -> Result<Vec<u8>, Status> {
        self.with(|s| {
            let wanted = if s.phase == Phase::Configure {
                BufferType::PluginConfiguration
            } else {
                BufferType::VmConfiguration
            };
            if let Some(status) = s.unreadable(wanted) {
                return Err(status);
            }
            Ok(())
        })?;
        self.with(|s| match s.phase {
            Phase::Configure => s
                .roots
                .get(&s.current)
                .map(|r| r.plugin_configuration.clone())
                .ok_or(Status::BadArgument),
            _ => Ok(s.vm_configuration.clone()),
        })
    }

    fn proxy_get_buffer_bytes(
        &mut self,
        buffer_id: BufferType,
        start: usize,
        max_size: usize,
    ) -> Result<Vec<u8>, Status> {
        self.with(|s| {
            let BufferAccess::Data(data, _) = s.buffer(buffer_id)? else {
                return Ok(Vec::new());
            };
            // cpp-host's `get_buffer_bytes` (src/exports.cc) clamps the range: a start beyond the
            // data reads nothing; only a range whose end overflows is `bad_argument`.
            if start.checked_add(max_size).is_none() {
                return Err(Status::BadArgument);
            }
            let start = start.min(data.len());
            let end = start.saturating_add(max_size).min(data.len());
            Ok(data[start..end].to_vec())
        })
    }

    fn proxy_get_buffer_status(&mut self, buffer_id: BufferType) -> Result<(usize, u32), Status> {
        self.with(|s| match s.buffer(buffer_id)? {
            BufferAccess::Data(data, _) => Ok((data.len(), 0)),
            BufferAccess::Nothing => Ok((0, 0)),
        })
    }

    fn proxy_set_buffer_bytes(
        &mut self,
        buffer_id: BufferType,
        start: usize,
        size: usize,
        value: &[u8],
    ) -> Result<(), Status> {
        self.with(|s| {
            let BufferAccess::Data(data, true) = s.buffer(buffer_id)? else {
                return Err(Status::BadArgument);
            };
            // Envoy's `Buffer::copyFrom` (source/extensions/common/wasm/context.cc): at start 0 it
            // drains `size` bytes (all there are, at most) and prepends the value; at or beyond the end
            // it appends; a start inside the data is `bad_argument`.
            if start == 0 {
                data.splice(..size.min(data.len()), value.iter().copied());
            } else if start >= data.len() {
                data.extend_from_slice(value);
            } else {
                return Err(Status::BadArgument);
            }
            Ok(())
        })
    }

    /// Envoy's `Context::getHeaderMapPairs`: a map the callback cannot see reads as empty, never as an
    /// error.
    fn proxy_get_header_map_pairs(&mut self, map_id: MapType) -> Result<Vec<u8>, Status> {
        self.with(|s| {
            // A failure a test injected (`Emulator::make_map_unreadable`) still reaches the plugin.
            if let Some((_, status)) = s.unreadable_maps.iter().find(|(m, _)| *m == map_id) {
                return Err(*status);
            }
            Ok(s.map(map_id).map(|m| encode_map(m)).unwrap_or_default())
        })
    }

    /// Envoy's `Context::getHeaderMapSize`: the map's `byteSize()`, the bytes of every name and value
    /// (not the serialized size the specification describes); only the maps the plugin may change
    /// have a size, so an HTTP call's response and gRPC metadata are `bad_argument`.
    fn proxy_get_header_map_size(&mut self, map_id: MapType) -> Result<usize, Status> {
        self.with(|s| {
            let map = s.mutable_map(map_id)?;
            Ok(map.iter().map(|(k, v)| k.len() + v.len()).sum())
        })
    }

    fn proxy_set_header_map_pairs(
        &mut self,
        map_id: MapType,
        serialized_pairs: &[u8],
    ) -> Result<(), Status> {
        self.with(|s| {
            let pairs = parse_map(serialized_pairs)?;
            *s.mutable_map(map_id)? = pairs;
            Ok(())
        })
    }

    fn proxy_get_header_map_value(
        &mut self,
        map_id: MapType,
        key: &[u8],
    ) -> Result<Vec<u8>, Status> {
        self.with(|s| {
            let key = lower(key);
            // Envoy's `getHeaderMapValue`: under ABI 0.1.0 a missing value is an empty one, and so is
            // a stream map `proxy_on_log` cannot read (0.2.x: `not_found` for both).
            let missing = if proxywasm::abi::ABI_VERSION == "0.1.0" {
                Ok(Vec::new())
            } else {
                Err(Status::NotFound)
            };
            let logging = s.phase == Phase::Http(HttpPhase::Log);
            let map = match s.map(map_id) {
                Ok(map) => map,
                Err(Status::BadArgument) if logging && is_stream_map(map_id) => return missing,
                Err(status) => return Err(status),
            };
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                .map_or(missing, |(_, v)| Ok(v.clone().into_bytes()))
        })
    }

    fn proxy_add_header_map_value(
        &mut self,
        map_id: MapType,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), Status> {
        self.with(|s| {
            s.mutable_map(map_id)?.push((lower(key), text(value)));
            Ok(())
        })
    }

    fn proxy_replace_header_map_value(
        &mut self,
        map_id: MapType,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), Status> {
        self.with(|s| {
            let key = lower(key);
            let map = s.mutable_map(map_id)?;
            match map.iter().position(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                Some(first) => {
                    map[first].1 = text(value);
                    let mut i = 0;
                    map.retain(|(k, _)| {
                        i += 1;
                        i - 1 == first || !k.eq_ignore_ascii_case(&key)
                    });
                }
                None => map.push((key, text(value))),
            }
            Ok(())
        })
    }

    fn proxy_remove_header_map_value(&mut self, map_id: MapType, key: &[u8]) -> Result<(), Status> {
        self.with(|s| {
            let key = lower(key);
            s.mutable_map(map_id)?
                .retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
            Ok(())
        })
    }

    fn proxy_continue_stream(&mut self, stream_type: StreamType) -> Result<(), Status> {
        self.with(|s| s.resume(stream_type))
    }

    fn proxy_continue_request(&mut self) -> Result<(), Status> {
        self.with(|s| s.resume(StreamType::HttpRequest))
    }

    fn proxy_continue_response(&mut self) -> Result<(), Status> {
        self.with(|s| s.resume(StreamType::HttpResponse))
    }

    /// Envoy's `Context::closeStream`: resets the HTTP stream or closes a side of the TCP stream;
    /// from a context without such a stream nothing happens and the answer is `ok`.
    fn proxy_close_stream(&mut self, stream_type: StreamType) -> Result<(), Status> {
        self.with(|s| {
            let current = s.current;
            match stream_type {
                StreamType::HttpRequest | StreamType::HttpResponse => {
                    if let Some(stream) = s.http.get_mut(&current) {
                        stream.reset = true;
                    }
                }
                StreamType::Downstream => {
                    if let Some(stream) = s.tcp.get_mut(&current) {
                        stream.downstream_closed = true;
                    }
                }
                StreamType::Upstream => {
                    if let Some(stream) = s.tcp.get_mut(&current) {
                        stream.upstream_closed = true;
                    }
                }
            }
            Ok(())
        })
    }

    /// cpp-host's `clear_route_cache` (src/exports.cc) answers `ok` whatever the context; Envoy clears
    /// the route of the HTTP stream when there is one.
    fn proxy_clear_route_cache(&mut self) -> Result<(), Status> {
        self.with(|s| {
            let current = s.current;
            if let Some(stream) = s.http.get_mut(&current) {
                stream.route_cache_cleared += 1;
            }
            Ok(())
        })
    }

    /// cpp-host's `get_status` (src/exports.cc) reads the root context's last status, in any
    /// callback: Envoy sets it when a gRPC call closes (its status) and when an HTTP call fails
    /// (`broken_connection`, 11, with message `reset`); a successful HTTP call leaves it unchanged.
    fn proxy_get_status(&mut self) -> Result<(u32, Vec<u8>), Status> {
        self.with(|s| {
            let root = s.current_root().ok_or(Status::NotFound)?;
            Ok(s.roots
                .get(&root)
                .map(|r| (r.status.0, r.status.1.clone().into_bytes()))
                .unwrap_or_default())
        })
    }

    fn proxy_send_local_response(
        &mut self,
        status_code: u32,
        status_code_details: &[u8],
        body: &[u8],
        serialized_headers: &[u8],
        grpc_status: u32,
    ) -> Result<(), Status> {
        self.with(|s| {
            let headers = parse_map(serialized_headers)?
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect();
            // cpp-host's `send_local_response` (src/exports.cc) stops the current callback's
            // iteration whatever it returns; Envoy's `Context::sendLocalResponse` sends the reply only
            // from an HTTP stream (elsewhere nothing happens, and the answer is still `ok`), with
            // header names lower-cased and every whitespace of the details replaced by `_`.
            s.stop_iteration = true;
            let current = s.current;
            if let Some(stream) = s.http.get_mut(&current) {
                let details = text(status_code_details)
                    .chars()
                    .map(|c| if c.is_whitespace() { '_' } else { c })
                    .collect();
                stream.local_response = Some(LocalResponse {
                    status: status_code,
                    headers,
                    body: body.to_vec(),
                    details,
                    grpc_status: (grpc_status <= 16).then_some(grpc_status),
                });
            }
            Ok(())
        })
    }

    fn proxy_http_call(
        &mut self,
        upstream_name: &[u8],
        serialized_headers: &[u8],
        body: &[u8],
        serialized_trailers: &[u8],
        timeout: u32,
    ) -> Result<u32, Status> {
        self.with(|s| {
            // Envoy's `Context::httpCall`: a timeout that is negative as a signed int is
            // `bad_argument`; the request map lower-cases names, and must hold `:path`, `:method` and
            // `:authority` (`Host`).
            if i32::try_from(timeout).is_err() || !s.knows_cluster(upstream_name) {
                return Err(Status::BadArgument);
            }
            let mut headers: Vec<(String, String)> = parse_map(serialized_headers)?
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect();
            let trailers = parse_map(serialized_trailers)?;
            for required in [":method", ":path", ":authority"] {
                if !headers.iter().any(|(k, _)| k == required) {
                    return Err(Status::BadArgument);
                }
            }
            // Envoy sets the request's content-length to the body it sends (`setContentLength`).
            if !body.is_empty() {
                headers.retain(|(k, _)| k != "content-length");
                headers.push(("content-length".into(), body.len().to_string()));
            }
            if s.current_root().is_none() {
                return Err(Status::BadArgument);
            }
            let token = s.token();
            s.http_calls.push(HttpCall {
                token,
                context_id: s.current,
                cluster: text(upstream_name),
                headers,
                body: body.to_vec(),
                trailers,
                timeout_ms: timeout,
            });
            Ok(token)
        })
    }

    fn proxy_grpc_call(
        &mut self,
        upstream_name: &[u8],
        service_name: &[u8],
        method_name: &[u8],
        serialized_initial_metadata: &[u8],
        message: &[u8],
        timeout: u32,
    ) -> Result<u32, Status> {
        self.with(|s| {
            // Envoy's `grpcCall` / `grpcStream`: a name that is neither a serialized service nor a
            // known cluster is `parse_failure`.
            if !s.knows_cluster(upstream_name) {
                return Err(Status::ParseFailure);
            }
            let initial_metadata = parse_map(serialized_initial_metadata)?;
            let token = s.token();
            s.grpc_calls.push(GrpcCall {
                token,
                context_id: s.current,
                cluster: text(upstream_name),
                service: text(service_name),
                method: text(method_name),
                initial_metadata,
                messages: vec![message.to_vec()],
                is_stream: false,
                timeout_ms: timeout,
                closed_by_plugin: false,
                cancelled: false,
            });
            Ok(token)
        })
    }

    fn proxy_grpc_stream(
        &mut self,
        upstream_name: &[u8],
        service_name: &[u8],
        method_name: &[u8],
        serialized_initial_metadata: &[u8],
    ) -> Result<u32, Status> {
        self.with(|s| {
            // Envoy's `grpcCall` / `grpcStream`: a name that is neither a serialized service nor a
            // known cluster is `parse_failure`.
            if !s.knows_cluster(upstream_name) {
                return Err(Status::ParseFailure);
            }
            let initial_metadata = parse_map(serialized_initial_metadata)?;
            let token = s.token();
            s.grpc_calls.push(GrpcCall {
                token,
                context_id: s.current,
                cluster: text(upstream_name),
                service: text(service_name),
                method: text(method_name),
                initial_metadata,
                messages: Vec::new(),
                is_stream: true,
                timeout_ms: 0,
                closed_by_plugin: false,
                cancelled: false,
            });
            Ok(token)
        })
    }

    fn proxy_grpc_send(
        &mut self,
        stream_id: u32,
        message: &[u8],
        end_stream: bool,
    ) -> Result<(), Status> {
        self.with(|s| {
            // Envoy's `Context::grpcSend`: a unary call's token is `bad_argument`, a stream that is
            // gone `not_found`.
            let call = s.grpc_call(stream_id)?;
            if !call.is_stream {
                return Err(Status::BadArgument);
            }
            call.messages.push(message.to_vec());
            call.closed_by_plugin |= end_stream;
            Ok(())
        })
    }

    fn proxy_grpc_cancel(&mut self, call_or_stream_id: u32) -> Result<(), Status> {
        self.with(|s| {
            let call = s.grpc_call(call_or_stream_id)?;
            call.cancelled = true;
            call.closed_by_plugin = true;
            s.settled_calls.insert(call_or_stream_id);
            Ok(())
        })
    }

    /// Envoy's `Context::grpcClose`: closing a unary call cancels it (no callback follows); closing a
    /// stream half-closes it.
    fn proxy_grpc_close(&mut self, call_or_stream_id: u32) -> Result<(), Status> {
        self.with(|s| {
            let call = s.grpc_call(call_or_stream_id)?;
            call.closed_by_plugin = true;
            if !call.is_stream {
                call.cancelled = true;
                s.settled_calls.insert(call_or_stream_id);
            }
            Ok(())
        })
    }

    fn proxy_get_shared_data(&mut self, key: &[u8]) -> Result<(Vec<u8>, u32), Status> {
        self.with(|s| {
            let key = text(key);
            let found = s.shared_data.get(&key).cloned().ok_or(Status::NotFound);
            // Another worker thread writes between this read and the plugin's next write (a race Envoy's
            // workers allow: cpp-host's SharedData is one map shared by every thread, src/shared_data.cc).
            if let Some(i) = s.racing_writes.iter().position(|(k, _)| *k == key) {
                let (key, value) = s.racing_writes.remove(i);
                let version = s.shared_data.get(&key).map_or(0, |e| e.1);
                s.shared_data.insert(key, (value, version + 1));
            }
            found
        })
    }

    fn proxy_set_shared_data(&mut self, key: &[u8], value: &[u8], cas: u32) -> Result<(), Status> {
        self.with(|s| {
            let entry = s
                .shared_data
                .entry(text(key))
                .or_insert_with(|| (Vec::new(), 0));
            if cas != 0 && entry.1 != 0 && cas != entry.1 {
                return Err(Status::CasMismatch);
            }
            *entry = (value.to_vec(), entry.1 + 1);
            Ok(())
        })
    }

    fn proxy_register_shared_queue(&mut self, name: &[u8]) -> Result<u32, Status> {
        self.with(|s| {
            let owner = s.current_root().ok_or(Status::BadArgument)?;
            let (vm_id, name) = (s.vm_id.clone(), text(name));
            if let Some(i) = s
                .queues
                .iter()
                .position(|q| q.vm_id == vm_id && q.name == name)
            {
                s.queues[i].owner = owner;
                return Ok(i as u32 + 1);
            }
            s.queues.push(Queue {
                vm_id,
                name,
                owner,
                items: Default::default(),
            });
            Ok(s.queues.len() as u32)
        })
    }

    fn proxy_resolve_shared_queue(&mut self, vm_id: &[u8], name: &[u8]) -> Result<u32, Status> {
        self.with(|s| {
            let vm_id = if vm_id.is_empty() {
                s.vm_id.clone()
            } else {
                text(vm_id)
            };
            let name = text(name);
            s.queues
                .iter()
                .position(|q| q.vm_id == vm_id && q.name == name)
                .map(|i| i as u32 + 1)
                .ok_or(Status::NotFound)
        })
    }

    fn proxy_enqueue_shared_queue(&mut self, queue_id: u32, value: &[u8]) -> Result<(), Status> {
        self.with(|s| {
            s.queue(queue_id)?.items.push_back(value.to_vec());
            Ok(())
        })
    }

    fn proxy_dequeue_shared_queue(&mut self, queue_id: u32) -> Result<Vec<u8>, Status> {
        self.with(|s| s.queue(queue_id)?.items.pop_front().ok_or(Status::Empty))
    }

    /// Envoy's `Context::defineMetric` (source/extensions/common/wasm/context.cc): every call allocates
    /// a new id and a new entry in the VM's id map, even for a name already defined; the id points at
    /// the stat the scope finds by name, so values are shared. The emulator does the same and counts the
    /// definitions per metric (`Emulator::metric_definitions`).
    fn proxy_define_metric(&mut self, metric_type: MetricType, name: &[u8]) -> Result<u32, Status> {
        self.with(|s| {
            let name = text(name);
            if name.is_empty() {
                return Err(Status::BadArgument);
            }
            let index = match s
                .metrics
                .iter()
                .position(|m| m.name == name && m.kind == metric_type)
            {
                Some(i) => i,
                None => {
                    s.metrics.push(Metric {
                        name,
                        kind: metric_type,
                        value: 0,
                        recorded: Vec::new(),
                        definitions: 0,
                    });
                    s.metrics.len() - 1
                }
            };
            s.metrics[index].definitions += 1;
            s.metric_ids.push(index);
            u32::try_from(s.metric_ids.len()).map_err(|_| Status::InternalFailure)
        })
    }

    fn proxy_increment_metric(&mut self, metric_id: u32, delta: i64) -> Result<(), Status> {
        self.with(|s| {
            let m = s.metric(metric_id)?;
            // Envoy's `Context::incrementMetric`: a counter takes only a positive delta (0 included
            // in the refusal); a gauge adds or subtracts; a histogram is `bad_argument`.
            match m.kind {
                MetricType::Counter if delta <= 0 => Err(Status::BadArgument),
                MetricType::Counter | MetricType::Gauge => {
                    m.value = m.value.saturating_add(delta);
                    Ok(())
                }
                MetricType::Histogram => Err(Status::BadArgument),
            }
        })
    }

    fn proxy_record_metric(&mut self, metric_id: u32, value: u64) -> Result<(), Status> {
        self.with(|s| {
            let m = s.metric(metric_id)?;
            // Envoy's `Context::recordMetric`: a counter adds the value, a gauge is set to it, a
            // histogram records it.
            match m.kind {
                MetricType::Counter => {
                    let value = i64::try_from(value).map_err(|_| Status::BadArgument)?;
                    m.value = m.value.saturating_add(value);
                    Ok(())
                }
                MetricType::Gauge => {
                    m.value = i64::try_from(value).map_err(|_| Status::BadArgument)?;
                    Ok(())
                }
                MetricType::Histogram => {
                    m.recorded.push(value);
                    Ok(())
                }
            }
        })
    }

    fn proxy_get_metric(&mut self, metric_id: u32) -> Result<u64, Status> {
        self.with(|s| {
            let m = s.metric(metric_id)?;
            match m.kind {
                MetricType::Histogram => Err(Status::BadArgument),
                _ => u64::try_from(m.value).map_err(|_| Status::InternalFailure),
            }
        })
    }

    /// Envoy's `Context::getProperty` (source/extensions/common/wasm/context.cc): the path is split at
    /// NUL bytes (a trailing NUL tolerated). A path the test provided answers with its value; otherwise a
    /// one-segment path whose name is not one of Envoy's property roots reads the filter state the plugin
    /// set on the current stream (`wasm.<name>`, Envoy's `findValue`).
    fn proxy_get_property(&mut self, path: &[u8]) -> Result<Vec<u8>, Status> {
        self.with(|s| {
            let segments: Vec<String> = decode_path(path).into_iter().map(text).collect();
            if let Some(value) = s.properties.get(&segments) {
                return Ok(value.clone());
            }
            match segments.as_slice() {
                [name] if !ENVOY_PROPERTY_ROOTS.contains(&name.as_str()) => {
                    let key = [FILTER_STATE_PREFIX, name.as_bytes()].concat();
                    s.filter_state
                        .get(&(s.current, key))
                        .cloned()
                        .ok_or(Status::NotFound)
                }
                _ => Err(Status::NotFound),
            }
        })
    }

    /// Envoy's `Context::setProperty` (source/extensions/common/wasm/context.cc): writes the stream's
    /// filter state under `wasm.` followed by the raw path bytes (NULs included); without a stream (a
    /// root context) there is no stream info and the answer is `not_found`.
    fn proxy_set_property(&mut self, path: &[u8], value: &[u8]) -> Result<(), Status> {
        self.with(|s| {
            let current = s.current;
            if !s.http.contains_key(&current) && !s.tcp.contains_key(&current) {
                return Err(Status::NotFound);
            }
            let key = [FILTER_STATE_PREFIX, path].concat();
            s.filter_state.insert((current, key), value.to_vec());
            Ok(())
        })
    }

    fn proxy_call_foreign_function(
        &mut self,
        name: &[u8],
        arguments: &[u8],
    ) -> Result<Vec<u8>, Status> {
        let name = text(name);
        // The closure runs without the state borrowed, so it may inspect the emulator.
        let registered = self.with(|s| {
            s.foreign_calls.push((name.clone(), arguments.to_vec()));
            Ok(s.foreign_functions.remove(&name))
        })?;
        // Not registered by the test: one of Envoy's own foreign functions, or unknown.
        let Some(mut function) = registered else {
            return self.with(|s| {
                super::envoy_foreign::call(s, &name, arguments).unwrap_or(Err(Status::NotFound))
            });
        };
        let result = function(arguments);
        self.with(|s| {
            s.foreign_functions.entry(name).or_insert(function);
            Ok(())
        })?;
        result
    }
}
