//! The emulated proxy's side of every hostcall: the implementation of the generated [`EnvHost`] trait,
//! one module per family of hostcalls ([`vm`], [`streams`], [`calls`], [`shared_state`]); [`access`]
//! holds the rules of which buffer or map a callback may reach.

mod access;
mod calls;
mod shared_state;
mod streams;
mod vm;

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
        self.with(|s| vm::proxy_log(s, log_level, message))
    }

    fn proxy_get_log_level(&mut self) -> Result<LogLevel, Status> {
        self.with(vm::proxy_get_log_level)
    }

    fn proxy_get_current_time_nanoseconds(&mut self) -> Result<u64, Status> {
        self.with(vm::proxy_get_current_time_nanoseconds)
    }

    fn proxy_set_tick_period_milliseconds(&mut self, tick_period: u32) -> Result<(), Status> {
        self.with(|s| vm::proxy_set_tick_period_milliseconds(s, tick_period))
    }

    fn proxy_done(&mut self) -> Result<(), Status> {
        self.with(vm::proxy_done)
    }

    fn proxy_set_effective_context(&mut self, context_id: u32) -> Result<(), Status> {
        self.with(|s| vm::proxy_set_effective_context(s, context_id))
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
        self.with(|s| streams::proxy_get_buffer_bytes(s, buffer_id, start, max_size))
    }

    fn proxy_get_buffer_status(&mut self, buffer_id: BufferType) -> Result<(usize, u32), Status> {
        self.with(|s| streams::proxy_get_buffer_status(s, buffer_id))
    }

    fn proxy_set_buffer_bytes(
        &mut self,
        buffer_id: BufferType,
        start: usize,
        size: usize,
        value: &[u8],
    ) -> Result<(), Status> {
        self.with(|s| streams::proxy_set_buffer_bytes(s, buffer_id, start, size, value))
    }

    fn proxy_get_header_map_pairs(&mut self, map_id: MapType) -> Result<Vec<u8>, Status> {
        self.with(|s| streams::proxy_get_header_map_pairs(s, map_id))
    }

    fn proxy_get_header_map_size(&mut self, map_id: MapType) -> Result<usize, Status> {
        self.with(|s| streams::proxy_get_header_map_size(s, map_id))
    }

    fn proxy_set_header_map_pairs(
        &mut self,
        map_id: MapType,
        serialized_pairs: &[u8],
    ) -> Result<(), Status> {
        self.with(|s| streams::proxy_set_header_map_pairs(s, map_id, serialized_pairs))
    }

    fn proxy_get_header_map_value(
        &mut self,
        map_id: MapType,
        key: &[u8],
    ) -> Result<Vec<u8>, Status> {
        self.with(|s| streams::proxy_get_header_map_value(s, map_id, key))
    }

    fn proxy_add_header_map_value(
        &mut self,
        map_id: MapType,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), Status> {
        self.with(|s| streams::proxy_add_header_map_value(s, map_id, key, value))
    }

    fn proxy_replace_header_map_value(
        &mut self,
        map_id: MapType,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), Status> {
        self.with(|s| streams::proxy_replace_header_map_value(s, map_id, key, value))
    }

    fn proxy_remove_header_map_value(&mut self, map_id: MapType, key: &[u8]) -> Result<(), Status> {
        self.with(|s| streams::proxy_remove_header_map_value(s, map_id, key))
    }

    fn proxy_continue_stream(&mut self, stream_type: StreamType) -> Result<(), Status> {
        self.with(|s| streams::proxy_continue_stream(s, stream_type))
    }

    fn proxy_continue_request(&mut self) -> Result<(), Status> {
        self.with(streams::proxy_continue_request)
    }

    fn proxy_continue_response(&mut self) -> Result<(), Status> {
        self.with(streams::proxy_continue_response)
    }

    fn proxy_close_stream(&mut self, stream_type: StreamType) -> Result<(), Status> {
        self.with(|s| streams::proxy_close_stream(s, stream_type))
    }

    fn proxy_clear_route_cache(&mut self) -> Result<(), Status> {
        self.with(streams::proxy_clear_route_cache)
    }

    fn proxy_get_status(&mut self) -> Result<(u32, Vec<u8>), Status> {
        self.with(calls::proxy_get_status)
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
            streams::proxy_send_local_response(
                s,
                status_code,
                status_code_details,
                body,
                serialized_headers,
                grpc_status,
            )
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
            calls::proxy_http_call(
                s,
                upstream_name,
                serialized_headers,
                body,
                serialized_trailers,
                timeout,
            )
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
            calls::proxy_grpc_call(
                s,
                upstream_name,
                service_name,
                method_name,
                serialized_initial_metadata,
                message,
                timeout,
            )
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
            calls::proxy_grpc_stream(
                s,
                upstream_name,
                service_name,
                method_name,
                serialized_initial_metadata,
            )
        })
    }

    fn proxy_grpc_send(
        &mut self,
        stream_id: u32,
        message: &[u8],
        end_stream: bool,
    ) -> Result<(), Status> {
        self.with(|s| calls::proxy_grpc_send(s, stream_id, message, end_stream))
    }

    fn proxy_grpc_cancel(&mut self, call_or_stream_id: u32) -> Result<(), Status> {
        self.with(|s| calls::proxy_grpc_cancel(s, call_or_stream_id))
    }

    fn proxy_grpc_close(&mut self, call_or_stream_id: u32) -> Result<(), Status> {
        self.with(|s| calls::proxy_grpc_close(s, call_or_stream_id))
    }

    fn proxy_get_shared_data(&mut self, key: &[u8]) -> Result<(Vec<u8>, u32), Status> {
        self.with(|s| shared_state::proxy_get_shared_data(s, key))
    }

    fn proxy_set_shared_data(&mut self, key: &[u8], value: &[u8], cas: u32) -> Result<(), Status> {
        self.with(|s| shared_state::proxy_set_shared_data(s, key, value, cas))
    }

    fn proxy_register_shared_queue(&mut self, name: &[u8]) -> Result<u32, Status> {
        self.with(|s| shared_state::proxy_register_shared_queue(s, name))
    }

    fn proxy_resolve_shared_queue(&mut self, vm_id: &[u8], name: &[u8]) -> Result<u32, Status> {
        self.with(|s| shared_state::proxy_resolve_shared_queue(s, vm_id, name))
    }

    fn proxy_enqueue_shared_queue(&mut self, queue_id: u32, value: &[u8]) -> Result<(), Status> {
        self.with(|s| shared_state::proxy_enqueue_shared_queue(s, queue_id, value))
    }

    fn proxy_dequeue_shared_queue(&mut self, queue_id: u32) -> Result<Vec<u8>, Status> {
        self.with(|s| shared_state::proxy_dequeue_shared_queue(s, queue_id))
    }

    fn proxy_define_metric(&mut self, metric_type: MetricType, name: &[u8]) -> Result<u32, Status> {
        self.with(|s| shared_state::proxy_define_metric(s, metric_type, name))
    }

    fn proxy_increment_metric(&mut self, metric_id: u32, delta: i64) -> Result<(), Status> {
        self.with(|s| shared_state::proxy_increment_metric(s, metric_id, delta))
    }

    fn proxy_record_metric(&mut self, metric_id: u32, value: u64) -> Result<(), Status> {
        self.with(|s| shared_state::proxy_record_metric(s, metric_id, value))
    }

    fn proxy_get_metric(&mut self, metric_id: u32) -> Result<u64, Status> {
        self.with(|s| shared_state::proxy_get_metric(s, metric_id))
    }

    fn proxy_get_property(&mut self, path: &[u8]) -> Result<Vec<u8>, Status> {
        self.with(|s| shared_state::proxy_get_property(s, path))
    }

    fn proxy_set_property(&mut self, path: &[u8], value: &[u8]) -> Result<(), Status> {
        self.with(|s| shared_state::proxy_set_property(s, path, value))
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
