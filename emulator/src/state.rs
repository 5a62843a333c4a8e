//! The emulated proxy's state, and the rules that say which hostcall is allowed where.

use proxywasm::abi::{BufferType, LogLevel, MapType, MetricType, Status};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::SystemTime;

/// Which callback the emulator is running, which decides what the plugin may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No callback, or a root callback without data (VM start, configure, tick, queue ready, done).
    Root,
    /// `proxy_on_vm_start`: the VM configuration is readable.
    VmStart,
    /// `proxy_on_configure`: the plugin configuration is readable.
    Configure,
    /// An HTTP callback with this much of the exchange available.
    Http(HttpPhase),
    /// A TCP callback.
    Tcp(TcpPhase),
    /// An HTTP call's response is being delivered (its token).
    HttpCallResponse(u32),
    /// A gRPC event is being delivered (its token, and which event).
    Grpc(u32, GrpcEvent),
    /// `proxy_on_foreign_function`: the call's arguments are readable.
    ForeignFunction,
}

/// Which gRPC callback runs: Envoy holds each received part only during its own callback
/// (`onGrpcReceiveInitialMetadataWrapper`, `onGrpcReceiveWrapper`, `onGrpcReceiveTrailingMetadataWrapper`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GrpcEvent {
    /// `proxy_on_grpc_receive_initial_metadata`.
    InitialMetadata,
    /// `proxy_on_grpc_receive`.
    Message,
    /// `proxy_on_grpc_receive_trailing_metadata`.
    TrailingMetadata,
    /// `proxy_on_grpc_close`.
    Close,
}

/// How far an HTTP stream has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum HttpPhase {
    /// `proxy_on_request_headers`.
    RequestHeaders,
    /// `proxy_on_request_body`.
    RequestBody,
    /// `proxy_on_request_trailers`.
    RequestTrailers,
    /// `proxy_on_response_headers`.
    ResponseHeaders,
    /// `proxy_on_response_body`.
    ResponseBody,
    /// `proxy_on_response_trailers`.
    ResponseTrailers,
    /// `proxy_on_done` / `proxy_on_delete` of the stream.
    Done,
    /// `proxy_on_log` of the stream: Envoy's access-log phase, where the request headers, response
    /// headers and response trailers can be read (`Context::getConstMap`).
    Log,
}

/// Which TCP callback runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TcpPhase {
    /// `proxy_on_new_connection` or a close callback.
    Connection,
    /// `proxy_on_downstream_data`.
    Downstream,
    /// `proxy_on_upstream_data`.
    Upstream,
}

/// A local response the plugin sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalResponse {
    /// The HTTP status.
    pub status: u32,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The status-code details string.
    pub details: String,
    /// The gRPC status, when one was given (0..=16).
    pub grpc_status: Option<u32>,
}

/// One HTTP stream's data as the emulated proxy holds it.
#[derive(Debug, Default, Clone)]
pub(crate) struct HttpStream {
    pub root_id: u32,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Vec<u8>,
    pub request_trailers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Vec<u8>,
    pub response_trailers: Vec<(String, String)>,
    pub phase: Option<HttpPhase>,
    pub local_response: Option<LocalResponse>,
    pub request_resumed: u32,
    /// Whether the last request-body callback paused (the proxy then keeps buffering).
    pub request_body_buffering: bool,
    /// Whether the last response-body callback paused.
    pub response_body_buffering: bool,
    /// Request body bytes the proxy forwarded upstream (after the plugin's changes).
    pub request_body_forwarded: Vec<u8>,
    /// Response body bytes the proxy forwarded downstream.
    pub response_body_forwarded: Vec<u8>,
    pub response_resumed: u32,
    pub reset: bool,
    pub route_cache_cleared: u32,
    /// The header/trailer callbacks that did not continue and were not resumed since: Envoy keeps their
    /// map reachable until then (`Context::decodeHeaders` and friends clear it on `Continue`,
    /// `continueStream` clears the request's).
    pub held: std::collections::BTreeSet<HttpPhase>,
}

impl HttpStream {
    /// One direction's body: what the proxy holds, whether it is buffering, and what it forwarded.
    pub fn body_mut(&mut self, response: bool) -> (&mut Vec<u8>, &mut bool, &mut Vec<u8>) {
        if response {
            (
                &mut self.response_body,
                &mut self.response_body_buffering,
                &mut self.response_body_forwarded,
            )
        } else {
            (
                &mut self.request_body,
                &mut self.request_body_buffering,
                &mut self.request_body_forwarded,
            )
        }
    }
}

/// One TCP stream's data.
#[derive(Debug, Default, Clone)]
pub(crate) struct TcpStream {
    pub root_id: u32,
    pub downstream: Vec<u8>,
    pub upstream: Vec<u8>,
    pub downstream_closed: bool,
    pub upstream_closed: bool,
    pub downstream_resumed: u32,
    pub upstream_resumed: u32,
    /// Whether the last downstream / upstream data callback did not continue: Envoy then keeps that
    /// chunk reachable (`Context::onData` / `onWrite` clear it only on `Continue`).
    pub downstream_held: bool,
    pub upstream_held: bool,
}

/// An HTTP call the plugin dispatched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    /// The token the host returned.
    pub token: u32,
    /// The context that dispatched it.
    pub context_id: u32,
    /// The cluster called.
    pub cluster: String,
    /// The request headers.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// The request trailers.
    pub trailers: Vec<(String, String)>,
    /// The timeout, in milliseconds.
    pub timeout_ms: u32,
}

/// A gRPC call or stream the plugin opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcCall {
    /// The token the host returned.
    pub token: u32,
    /// The context that opened it.
    pub context_id: u32,
    /// The cluster called.
    pub cluster: String,
    /// The service.
    pub service: String,
    /// The method.
    pub method: String,
    /// The initial metadata sent.
    pub initial_metadata: Vec<(String, String)>,
    /// Messages sent: the unary request, or each `proxy_grpc_send` on a stream.
    pub messages: Vec<Vec<u8>>,
    /// Whether it is a stream (`proxy_grpc_stream`) rather than a unary call.
    pub is_stream: bool,
    /// The timeout of a unary call, in milliseconds.
    pub timeout_ms: u32,
    /// Whether the plugin half-closed the stream (`end_stream`), closed or cancelled it.
    pub closed_by_plugin: bool,
    /// Whether the plugin cancelled it.
    pub cancelled: bool,
}

/// A metric the plugin defined: one per kind and name (Envoy's stats scope finds the same stat again for
/// a name it has seen), however many ids point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Metric {
    pub name: String,
    pub kind: MetricType,
    pub value: i64,
    pub recorded: Vec<u64>,
    /// How many times `proxy_define_metric` defined it: each time Envoy hands out a new id.
    pub definitions: usize,
}

/// A shared queue.
#[derive(Debug, Clone, Default)]
pub(crate) struct Queue {
    pub vm_id: String,
    pub name: String,
    pub owner: u32,
    pub items: std::collections::VecDeque<Vec<u8>>,
}

/// A foreign function registered by a test.
pub type ForeignFunction = Box<dyn FnMut(&[u8]) -> Result<Vec<u8>, Status>>;

/// The response data being delivered to an HTTP-call callback.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallResponse {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
    pub status: u32,
}

/// Everything the emulated proxy knows.
pub(crate) struct State {
    pub vm_id: String,
    pub vm_configuration: Vec<u8>,
    pub log_level: LogLevel,
    pub now: SystemTime,
    pub roots: HashMap<u32, RootInfo>,
    pub http: HashMap<u32, HttpStream>,
    pub tcp: HashMap<u32, TcpStream>,
    pub next_id: u32,
    /// The context hostcalls act on: the callback's, or the one `proxy_set_effective_context` chose.
    pub current: u32,
    pub phase: Phase,
    pub logs: Vec<(LogLevel, String)>,
    pub shared_data: HashMap<String, (Vec<u8>, u32)>,
    pub queues: Vec<Queue>,
    pub metrics: Vec<Metric>,
    /// What each metric id the host handed out points at (an index into `metrics`); id `n` is entry
    /// `n - 1`.
    pub metric_ids: Vec<usize>,
    /// Properties the proxy provides, by path segments (given by the test).
    pub properties: HashMap<Vec<String>, Vec<u8>>,
    /// Filter state the plugin set, per stream context, keyed as Envoy keys it: `wasm.` followed by
    /// the raw path bytes.
    pub filter_state: HashMap<(u32, Vec<u8>), Vec<u8>>,
    /// Writes another worker makes to a shared-data key right after the plugin's next read of it.
    pub racing_writes: Vec<(String, Vec<u8>)>,
    /// Buffers and maps the host refuses to hand over, with the status it answers (fault injection).
    pub unreadable_buffers: Vec<(BufferType, Status)>,
    /// See `unreadable_buffers`.
    pub unreadable_maps: Vec<(MapType, Status)>,
    /// Bytes the wasm runner adds to every buffer length it reports to the guest (a hostile host).
    pub overstated_lengths: u32,
    pub http_calls: Vec<HttpCall>,
    pub grpc_calls: Vec<GrpcCall>,
    pub call_response: Option<CallResponse>,
    pub grpc_data: CallResponse,
    pub foreign_functions: HashMap<String, ForeignFunction>,
    pub foreign_calls: Vec<(String, Vec<u8>)>,
    pub foreign_arguments: Vec<u8>,
    pub next_token: u32,
    /// Contexts created and not yet deleted.
    pub live_contexts: BTreeSet<u32>,
    /// Tokens of calls that were answered, failed, closed or cancelled.
    pub settled_calls: HashSet<u32>,
    /// Set by `proxy_send_local_response` during the current callback: cpp-host then reports the
    /// callback as stopped whatever it returned (`stopNextIteration`, src/exports.cc).
    pub stop_iteration: bool,
    /// The clusters the proxy knows; `None` accepts every name.
    pub clusters: Option<HashSet<String>>,
}

/// What the emulator knows of one root context.
#[derive(Debug, Clone, Default)]
pub(crate) struct RootInfo {
    pub plugin_configuration: Vec<u8>,
    pub tick_period_ms: u32,
    pub done_called: bool,
    /// Whether its `proxy_on_done` answered false and `proxy_done` has not finished the shutdown yet.
    pub shutdown_deferred: bool,
    /// The status `proxy_get_status` reads (cpp-host reads the root context's): code and message.
    pub status: (u32, String),
}

impl State {
    /// The root context the current context belongs to (itself for a root).
    pub fn current_root(&self) -> Option<u32> {
        if self.roots.contains_key(&self.current) {
            return Some(self.current);
        }
        self.http
            .get(&self.current)
            .map(|s| s.root_id)
            .or_else(|| self.tcp.get(&self.current).map(|s| s.root_id))
    }

    /// A fresh token for a call.
    pub fn token(&mut self) -> u32 {
        self.next_token += 1;
        self.next_token
    }
}
