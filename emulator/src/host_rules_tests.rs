//! The host rules the review of every hostcall against cpp-host and Envoy found (see [`super::sources`]):
//! each test drives the emulator's host side directly, in a chosen context and callback, and checks the
//! status and effect the cited source gives.

use super::host::HostHandle;
use super::state::{HttpPhase, Phase, TcpPhase};
use super::*;
use proxywasm::abi::{BufferType, EnvHost, MapType, MetricType, StreamType};
use proxywasm::{http, Context, HttpContext, RootContext};

struct Root;
impl Context for Root {
    fn on_done(&mut self) -> bool {
        false
    }
}
impl RootContext for Root {
    fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Replier))
    }
}

/// Sends a local response on request headers and still returns `Continue`.
struct Replier;
impl Context for Replier {}
impl HttpContext for Replier {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        http::send_http_response(400, &[("X-Why", "bad")], b"no").unwrap();
        Action::Continue
    }
}

fn no_pairs() -> Vec<u8> {
    proxywasm::codec::encode_map::<&str, &str>(&[])
}

fn emulator() -> Emulator {
    Emulator::builder()
        .vm_configuration("vm")
        .build(|_| Box::new(Root))
}

/// The host side as a hostcall made by `context` during `phase` reaches it.
fn host_at(emulator: &Emulator, context: u32, phase: Phase) -> HostHandle {
    let mut s = emulator.state.borrow_mut();
    s.current = context;
    s.phase = phase;
    HostHandle(emulator.state.clone())
}

fn set_request_body(emulator: &Emulator, stream: u32, body: &[u8]) {
    let mut s = emulator.state.borrow_mut();
    s.http.get_mut(&stream).expect("a stream").request_body = body.to_vec();
}

/// Envoy's `Context::getBuffer` wraps an absent body or TCP data as an empty buffer: reads give 0
/// bytes, writes `bad_argument` (cpp-host `BufferBase::copyFrom`).
#[test]
fn a_body_outside_its_callback_reads_empty_and_refuses_writes() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    set_request_body(&emulator, stream, b"held");
    for (context, phase) in [
        (stream, Phase::Http(HttpPhase::RequestHeaders)),
        (stream, Phase::Http(HttpPhase::ResponseBody)),
        (emulator.root_id(), Phase::Root),
    ] {
        let mut host = host_at(&emulator, context, phase);
        let body = BufferType::HttpRequestBody;
        assert_eq!(host.proxy_get_buffer_status(body), Ok((0, 0)), "{phase:?}");
        assert_eq!(host.proxy_get_buffer_bytes(body, 0, 10), Ok(Vec::new()));
        assert_eq!(
            host.proxy_set_buffer_bytes(body, 0, 0, b"x"),
            Err(Status::BadArgument)
        );
        assert_eq!(
            host.proxy_get_buffer_bytes(BufferType::DownstreamData, 0, 10),
            Ok(Vec::new())
        );
        assert_eq!(
            host.proxy_get_buffer_status(BufferType::GrpcReceiveBuffer),
            Ok((0, 0))
        );
    }
    let mut host = host_at(&emulator, stream, Phase::Tcp(TcpPhase::Connection));
    assert_eq!(
        host.proxy_get_buffer_bytes(BufferType::HttpRequestBody, 0, 10),
        Ok(Vec::new())
    );
}

/// Envoy keeps the body a callback paused on (`buffering_request_body_`): a later callback of the
/// stream (an HTTP call's response, with the stream as effective context) reads and changes it.
#[test]
fn a_paused_body_stays_reachable_after_its_callback() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    set_request_body(&emulator, stream, b"held");
    emulator
        .state
        .borrow_mut()
        .http
        .get_mut(&stream)
        .unwrap()
        .request_body_buffering = true;
    let mut host = host_at(&emulator, stream, Phase::HttpCallResponse(7));
    let body = BufferType::HttpRequestBody;
    assert_eq!(
        host.proxy_get_buffer_bytes(body, 0, 10),
        Ok(b"held".to_vec())
    );
    assert_eq!(host.proxy_set_buffer_bytes(body, 4, 0, b"!"), Ok(()));
    assert_eq!(emulator.http_stream(stream).request_body, b"held!");
}

/// cpp-host's `get_buffer_bytes` (src/exports.cc) clamps a range that starts beyond the data to
/// nothing; only an overflowing range is `bad_argument`.
#[test]
fn a_read_beyond_the_data_is_empty_and_an_overflowing_range_is_refused() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    set_request_body(&emulator, stream, b"abc");
    let mut host = host_at(&emulator, stream, Phase::Http(HttpPhase::RequestBody));
    let body = BufferType::HttpRequestBody;
    assert_eq!(host.proxy_get_buffer_bytes(body, 5, 3), Ok(Vec::new()));
    assert_eq!(host.proxy_get_buffer_bytes(body, 1, 10), Ok(b"bc".to_vec()));
    assert_eq!(
        host.proxy_get_buffer_bytes(body, 1, usize::MAX),
        Err(Status::BadArgument)
    );
}

/// Envoy's `Buffer::copyFrom`: at start 0 it drains `size` bytes and prepends the value; at or past
/// the end it appends; a start inside the data is `bad_argument`.
#[test]
fn set_buffer_bytes_replaces_a_prefix_prepends_appends_or_refuses() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    set_request_body(&emulator, stream, b"hello world");
    let mut host = host_at(&emulator, stream, Phase::Http(HttpPhase::RequestBody));
    let body = BufferType::HttpRequestBody;
    assert_eq!(host.proxy_set_buffer_bytes(body, 0, 5, b"HOWDY"), Ok(()));
    assert_eq!(host.proxy_set_buffer_bytes(body, 0, 0, b"<"), Ok(()));
    assert_eq!(host.proxy_set_buffer_bytes(body, 12, 0, b">"), Ok(()));
    assert_eq!(emulator.http_stream(stream).request_body, b"<HOWDY world>");
    assert_eq!(
        host.proxy_set_buffer_bytes(body, 3, 1, b"?"),
        Err(Status::BadArgument)
    );
    assert_eq!(host.proxy_set_buffer_bytes(body, 0, 99, b"all"), Ok(()));
    assert_eq!(emulator.http_stream(stream).request_body, b"all");
}

/// Envoy wraps the configurations and an HTTP call's response body as read-only strings
/// (cpp-host `BufferBase::copyFrom`: `bad_argument`); without a response, the body is `not_found`.
#[test]
fn read_only_buffers_refuse_writes_and_a_missing_call_response_is_not_found() {
    let emulator = emulator();
    let root = emulator.root_id();
    let mut host = host_at(&emulator, root, Phase::VmStart);
    let vm = BufferType::VmConfiguration;
    assert_eq!(
        host.proxy_set_buffer_bytes(vm, 0, 0, b"x"),
        Err(Status::BadArgument)
    );
    assert_eq!(host.proxy_get_buffer_bytes(vm, 0, 10), Ok(b"vm".to_vec()));
    let call_body = BufferType::HttpCallResponseBody;
    let mut host = host_at(&emulator, root, Phase::HttpCallResponse(1));
    assert_eq!(
        host.proxy_get_buffer_bytes(call_body, 0, 10),
        Err(Status::NotFound)
    );
    emulator.state.borrow_mut().call_response = Some(CallResponse {
        body: b"answer".to_vec(),
        ..CallResponse::default()
    });
    assert_eq!(
        host.proxy_get_buffer_bytes(call_body, 0, 10),
        Ok(b"answer".to_vec())
    );
    assert_eq!(
        host.proxy_set_buffer_bytes(call_body, 0, 0, b"x"),
        Err(Status::BadArgument)
    );
    let mut host = host_at(&emulator, root, Phase::Root);
    assert_eq!(
        host.proxy_get_buffer_status(call_body),
        Err(Status::NotFound)
    );
}

/// Envoy's `incrementMetric` refuses a counter delta of 0 or less; `recordMetric` adds to a counter.
#[test]
fn counters_take_positive_increments_and_records_add() {
    let emulator = emulator();
    let mut host = host_at(&emulator, emulator.root_id(), Phase::Root);
    let counter = host
        .proxy_define_metric(MetricType::Counter, b"hits")
        .unwrap();
    assert_eq!(
        host.proxy_increment_metric(counter, 0),
        Err(Status::BadArgument)
    );
    assert_eq!(
        host.proxy_increment_metric(counter, -1),
        Err(Status::BadArgument)
    );
    assert_eq!(host.proxy_increment_metric(counter, 2), Ok(()));
    assert_eq!(host.proxy_record_metric(counter, 5), Ok(()));
    assert_eq!(host.proxy_get_metric(counter), Ok(7));
    let gauge = host
        .proxy_define_metric(MetricType::Gauge, b"level")
        .unwrap();
    assert_eq!(host.proxy_record_metric(gauge, 10), Ok(()));
    assert_eq!(host.proxy_increment_metric(gauge, -4), Ok(()));
    assert_eq!(host.proxy_get_metric(gauge), Ok(6));
}

/// Envoy's `continueStream` has no upstream resume (`unimplemented`); `continueStream`,
/// `closeStream` and `clearRouteCache` from a context without the stream do nothing and answer `ok`.
#[test]
fn stream_operations_outside_their_stream_do_nothing_and_upstream_resume_is_unimplemented() {
    let emulator = emulator();
    let root = emulator.root_id();
    let stream = emulator.new_http_stream();
    let mut host = host_at(&emulator, root, Phase::Root);
    if StreamType::Upstream.is_defined() {
        assert_eq!(
            host.proxy_continue_stream(StreamType::Upstream),
            Err(Status::Unimplemented)
        );
    }
    assert_eq!(host.proxy_continue_stream(StreamType::HttpRequest), Ok(()));
    assert_eq!(host.proxy_close_stream(StreamType::HttpRequest), Ok(()));
    assert_eq!(host.proxy_close_stream(StreamType::Downstream), Ok(()));
    assert_eq!(host.proxy_clear_route_cache(), Ok(()));
    assert_eq!(
        host.proxy_send_local_response(403, b"", b"", &no_pairs(), 0),
        Ok(())
    );
    let view = emulator.http_stream(stream);
    assert_eq!((view.request_resumed, view.reset), (0, false));
    assert_eq!(view.local_response, None);
    let cleared = emulator.state.borrow().http[&stream].route_cache_cleared;
    assert_eq!(cleared, 0);
}

/// cpp-host's `ContextBase::setTimerPeriod` sets the root's timer, from a stream context too.
#[test]
fn a_stream_sets_its_roots_tick_period() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    let mut host = host_at(&emulator, stream, Phase::Http(HttpPhase::RequestHeaders));
    assert_eq!(host.proxy_set_tick_period_milliseconds(250), Ok(()));
    assert_eq!(emulator.tick_period(), Some(Duration::from_millis(250)));
}

/// cpp-host's `WasmBase::done`: `not_found` unless the plugin deferred its shutdown; any context of
/// the plugin may finish it, once.
#[test]
fn done_finishes_only_a_deferred_shutdown() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    let mut host = host_at(&emulator, stream, Phase::Root);
    assert_eq!(host.proxy_done(), Err(Status::NotFound));
    assert!(!emulator.plugin_done(), "the plugin defers its shutdown");
    let mut host = host_at(&emulator, stream, Phase::Root);
    assert_eq!(host.proxy_done(), Ok(()));
    assert!(emulator.done_called());
    assert_eq!(host.proxy_done(), Err(Status::NotFound));
}

/// Envoy: `getHeaderMapPairs` of a map the callback cannot see is empty (never an error);
/// `getHeaderMapSize` is `byteSize()`; an HTTP call's response and gRPC metadata cannot be changed and
/// have no size; a failed call has no response map (`bad_argument`).
#[test]
fn header_map_rules_follow_envoys_context() {
    let emulator = emulator();
    let root = emulator.root_id();
    let stream = emulator.new_http_stream();
    let mut host = host_at(&emulator, root, Phase::Root);
    assert_eq!(
        host.proxy_get_header_map_pairs(MapType::HttpRequestHeaders),
        Ok(Vec::new())
    );
    assert_eq!(
        host.proxy_get_header_map_value(MapType::HttpRequestHeaders, b"a"),
        Err(Status::BadArgument)
    );
    {
        let mut s = emulator.state.borrow_mut();
        let h = s.http.get_mut(&stream).unwrap();
        h.phase = Some(HttpPhase::RequestHeaders);
        h.request_headers = vec![(":path".into(), "/x".into()), ("a".into(), "bc".into())];
    }
    let mut host = host_at(&emulator, stream, Phase::Http(HttpPhase::RequestHeaders));
    assert_eq!(
        host.proxy_get_header_map_size(MapType::HttpRequestHeaders),
        Ok(":path/x".len() + "abc".len())
    );
    let mut host = host_at(&emulator, root, Phase::HttpCallResponse(1));
    let response = MapType::HttpCallResponseHeaders;
    assert_eq!(
        host.proxy_get_header_map_value(response, b":status"),
        Err(Status::BadArgument)
    );
    assert_eq!(host.proxy_get_header_map_pairs(response), Ok(Vec::new()));
    emulator.state.borrow_mut().call_response = Some(CallResponse {
        headers: vec![(":status".into(), "200".into())],
        ..CallResponse::default()
    });
    assert_eq!(
        host.proxy_get_header_map_value(response, b":status"),
        Ok(b"200".to_vec())
    );
    assert_eq!(
        host.proxy_add_header_map_value(response, b"x", b"1"),
        Err(Status::BadArgument)
    );
    assert_eq!(
        host.proxy_remove_header_map_value(response, b":status"),
        Err(Status::BadArgument)
    );
    assert_eq!(
        host.proxy_get_header_map_size(response),
        Err(Status::BadArgument)
    );
}

/// cpp-host's `send_local_response` stops the callback whatever it returns; Envoy lower-cases the
/// header names and replaces whitespace in the details with `_`.
#[test]
fn a_local_response_stops_the_callback_and_is_sent_as_envoy_sends_it() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    assert_eq!(
        emulator.request_headers(stream, &[(":path", "/")], true),
        Action::Pause
    );
    let reply = emulator.local_response(stream).expect("a reply");
    assert_eq!(reply.headers, [("x-why".to_string(), "bad".to_string())]);
    let mut host = host_at(&emulator, stream, Phase::Http(HttpPhase::RequestHeaders));
    let headers = no_pairs();
    host.proxy_send_local_response(403, b"denied by\tpolicy", b"", &headers, 99)
        .unwrap();
    let reply = emulator.local_response(stream).expect("a reply");
    assert_eq!(
        (reply.details.as_str(), reply.grpc_status),
        ("denied_by_policy", None)
    );
}

/// Envoy's `httpCall`: a timeout that is negative as a signed int is `bad_argument`; header names are
/// lower-cased before the `:method`/`:path`/`:authority` check.
#[test]
fn http_call_checks_the_timeout_and_lower_cases_header_names() {
    let emulator = emulator();
    let mut host = host_at(&emulator, emulator.root_id(), Phase::Root);
    let headers =
        proxywasm::codec::encode_map(&[(":METHOD", "GET"), (":Path", "/"), (":authority", "a")]);
    let none = no_pairs();
    assert_eq!(
        host.proxy_http_call(b"c", &headers, b"", &none, 1 << 31),
        Err(Status::BadArgument)
    );
    assert!(host
        .proxy_http_call(b"c", &headers, b"", &none, 1000)
        .is_ok());
    assert_eq!(emulator.http_calls()[0].headers[1].0, ":path");
    // A body sets content-length, replacing one the plugin gave.
    let with_length = proxywasm::codec::encode_map(&[
        (":method", "POST"),
        (":path", "/"),
        (":authority", "a"),
        ("Content-Length", "99"),
    ]);
    assert!(host
        .proxy_http_call(b"c", &with_length, b"12345", &none, 1000)
        .is_ok());
    let sent = &emulator.http_calls()[1].headers;
    let lengths: Vec<&str> = sent
        .iter()
        .filter(|(k, _)| k == "content-length")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(lengths, ["5"]);
}

/// cpp-host's `get_status` reads the root context's status in any callback; Envoy sets it when an
/// HTTP call fails (broken_connection, `reset` during the callback) and when a gRPC call closes.
#[test]
fn get_status_reads_the_roots_last_status() {
    let emulator = emulator();
    let root = emulator.root_id();
    let mut host = host_at(&emulator, root, Phase::Root);
    assert_eq!(host.proxy_get_status(), Ok((0, Vec::new())));
    let headers =
        proxywasm::codec::encode_map(&[(":method", "GET"), (":path", "/"), (":authority", "a")]);
    let none = no_pairs();
    let token = host
        .proxy_http_call(b"c", &headers, b"", &none, 1000)
        .unwrap();
    emulator.fail_http_call(token);
    let mut host = host_at(&emulator, root, Phase::Root);
    assert_eq!(host.proxy_get_status(), Ok((BROKEN_CONNECTION, Vec::new())));
    let grpc = host
        .proxy_grpc_call(b"c", b"svc", b"m", &none, b"", 1000)
        .unwrap();
    emulator.grpc_close(grpc, 14);
    let mut host = host_at(&emulator, root, Phase::Root);
    assert_eq!(host.proxy_get_status(), Ok((14, Vec::new())));
}

/// Envoy's `grpcSend` refuses a unary call (`bad_argument`); `grpcClose` of a unary call cancels it;
/// a call or stream Envoy no longer holds is `not_found`.
#[test]
fn grpc_send_close_and_cancel_follow_envoys_bookkeeping() {
    let emulator = emulator();
    let mut host = host_at(&emulator, emulator.root_id(), Phase::Root);
    let none = no_pairs();
    let call = host
        .proxy_grpc_call(b"c", b"svc", b"m", &none, b"", 1000)
        .unwrap();
    assert_eq!(
        host.proxy_grpc_send(call, b"more", false),
        Err(Status::BadArgument)
    );
    assert_eq!(host.proxy_grpc_close(call), Ok(()));
    assert!(emulator.grpc_calls()[0].cancelled);
    assert_eq!(host.proxy_grpc_cancel(call), Err(Status::NotFound));
    let stream = host.proxy_grpc_stream(b"c", b"svc", b"m", &none).unwrap();
    assert_eq!(host.proxy_grpc_send(stream, b"one", false), Ok(()));
    assert_eq!(host.proxy_grpc_cancel(stream), Ok(()));
    assert_eq!(
        host.proxy_grpc_send(stream, b"two", false),
        Err(Status::NotFound)
    );
    assert_eq!(host.proxy_grpc_cancel(stream), Err(Status::NotFound));
}

/// Puts stream `stream` at `reached` with a request header, response headers and request trailers.
fn stream_with_maps(emulator: &Emulator, stream: u32, reached: HttpPhase) {
    let mut s = emulator.state.borrow_mut();
    let h = s.http.get_mut(&stream).unwrap();
    h.phase = Some(reached);
    h.request_headers = vec![(":path".into(), "/p".into())];
    h.request_trailers = vec![("t".into(), "1".into())];
    h.response_headers = vec![(":status".into(), "200".into())];
}

/// Envoy clears a header map once its callback lets the stream continue (`decodeHeaders` and friends),
/// and the spec (§ HTTP fields) says the same: request headers cannot be read or changed in a later
/// callback; pairs read as empty.
#[test]
fn a_map_is_gone_after_its_callback_continued() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    stream_with_maps(&emulator, stream, HttpPhase::ResponseHeaders);
    let mut host = host_at(&emulator, stream, Phase::Http(HttpPhase::ResponseHeaders));
    let request = MapType::HttpRequestHeaders;
    assert_eq!(
        host.proxy_get_header_map_value(request, b":path"),
        Err(Status::BadArgument)
    );
    assert_eq!(host.proxy_get_header_map_pairs(request), Ok(Vec::new()));
    assert_eq!(
        host.proxy_add_header_map_value(request, b"x", b"1"),
        Err(Status::BadArgument)
    );
    assert_eq!(
        host.proxy_get_header_map_value(MapType::HttpResponseHeaders, b":status"),
        Ok(b"200".to_vec())
    );
}

/// A callback that did not continue keeps its map until the plugin resumes the request (Envoy's
/// `continueStream` clears the request maps): an HTTP call's response can still change the headers.
#[test]
fn a_paused_map_stays_until_the_stream_is_resumed() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    // The replier sends a local response, so its request-headers callback counts as paused.
    assert_eq!(
        emulator.request_headers(stream, &[(":path", "/")], true),
        Action::Pause
    );
    let mut host = host_at(&emulator, stream, Phase::HttpCallResponse(1));
    let request = MapType::HttpRequestHeaders;
    assert_eq!(
        host.proxy_add_header_map_value(request, b"x-late", b"1"),
        Ok(())
    );
    assert_eq!(host.proxy_continue_stream(StreamType::HttpRequest), Ok(()));
    assert_eq!(
        host.proxy_get_header_map_value(request, b"x-late"),
        Err(Status::BadArgument)
    );
    assert_eq!(
        emulator.http_stream(stream).request_headers[1],
        ("x-late".to_string(), "1".to_string())
    );
}

/// `proxy_on_log` is Envoy's access-log phase: request headers, response headers and response
/// trailers can be read, not changed; the request trailers are missing (`not_found`, or an empty value
/// under ABI 0.1.0).
#[test]
fn on_log_reads_the_exchange_but_changes_nothing() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    stream_with_maps(&emulator, stream, HttpPhase::Done);
    let mut host = host_at(&emulator, stream, Phase::Http(HttpPhase::Log));
    assert_eq!(
        host.proxy_get_header_map_value(MapType::HttpRequestHeaders, b":path"),
        Ok(b"/p".to_vec())
    );
    assert_eq!(
        host.proxy_get_header_map_value(MapType::HttpResponseHeaders, b":status"),
        Ok(b"200".to_vec())
    );
    let missing = if proxywasm::abi::ABI_VERSION == "0.1.0" {
        Ok(Vec::new())
    } else {
        Err(Status::NotFound)
    };
    assert_eq!(
        host.proxy_get_header_map_value(MapType::HttpRequestTrailers, b"t"),
        missing
    );
    assert_eq!(
        host.proxy_get_header_map_value(MapType::HttpRequestHeaders, b"absent"),
        missing
    );
    assert_eq!(
        host.proxy_replace_header_map_value(MapType::HttpRequestHeaders, b":path", b"/q"),
        Err(Status::BadArgument)
    );
}

/// A queue-ready callback delivered after a callback that sent a local response does not undo the
/// stop cpp-host gives that callback.
#[test]
fn a_local_response_still_stops_when_a_queue_callback_follows() {
    struct Enqueuer;
    impl Context for Enqueuer {}
    impl HttpContext for Enqueuer {
        fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
            let queue = proxywasm::queue::resolve("", "q").unwrap();
            proxywasm::queue::enqueue(queue, b"item").unwrap();
            http::send_http_response(429, &[], b"").unwrap();
            Action::Continue
        }
    }
    struct Owner;
    impl Context for Owner {}
    impl RootContext for Owner {
        fn on_plugin_start(&mut self, _size: usize) -> bool {
            proxywasm::queue::register("q").is_ok()
        }
        fn on_queue_ready(&mut self, queue_id: u32) {
            while proxywasm::queue::dequeue(queue_id).is_ok() {}
        }
        fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Enqueuer))
        }
    }
    let emulator = Emulator::builder().build(|_| Box::new(Owner));
    assert!(emulator.start_plugin());
    let stream = emulator.new_http_stream();
    assert_eq!(
        emulator.request_headers(stream, &[(":path", "/")], true),
        Action::Pause
    );
    assert_eq!(emulator.local_response(stream).map(|r| r.status), Some(429));
}

/// Envoy's `httpCall` answers `bad_argument` and `grpcCall` / `grpcStream` `parse_failure` for a
/// cluster its cluster manager does not have; with no cluster list the emulator accepts every name.
#[test]
fn calls_to_an_unknown_cluster_are_refused_once_clusters_are_listed() {
    let headers =
        proxywasm::codec::encode_map(&[(":method", "GET"), (":path", "/"), (":authority", "a")]);
    let none = no_pairs();
    let open = emulator();
    let mut host = host_at(&open, open.root_id(), Phase::Root);
    assert!(host
        .proxy_http_call(b"anything", &headers, b"", &none, 10)
        .is_ok());
    let listed = Emulator::builder()
        .clusters(["auth"])
        .build(|_| Box::new(Root));
    let mut host = host_at(&listed, listed.root_id(), Phase::Root);
    assert!(host
        .proxy_http_call(b"auth", &headers, b"", &none, 10)
        .is_ok());
    assert_eq!(
        host.proxy_http_call(b"other", &headers, b"", &none, 10),
        Err(Status::BadArgument)
    );
    assert_eq!(
        host.proxy_grpc_call(b"other", b"s", b"m", &none, b"", 10),
        Err(Status::ParseFailure)
    );
    assert_eq!(
        host.proxy_grpc_stream(b"other", b"s", b"m", &none),
        Err(Status::ParseFailure)
    );
    assert!(host.proxy_grpc_stream(b"auth", b"s", b"m", &none).is_ok());
}

/// Envoy's `onData` keeps the downstream chunk of a callback that did not continue, so a later
/// callback of the connection (an HTTP call's response, with the stream as effective context) still
/// reads it; after a callback that continued it is gone.
#[test]
fn tcp_data_of_a_paused_callback_stays_reachable() {
    let emulator = emulator();
    let root = emulator.root_id();
    let id = 40;
    emulator.state.borrow_mut().tcp.insert(
        id,
        TcpStream {
            root_id: root,
            downstream: b"held".to_vec(),
            downstream_held: true,
            ..TcpStream::default()
        },
    );
    let mut host = host_at(&emulator, id, Phase::HttpCallResponse(1));
    let data = BufferType::DownstreamData;
    assert_eq!(
        host.proxy_get_buffer_bytes(data, 0, 10),
        Ok(b"held".to_vec())
    );
    emulator
        .state
        .borrow_mut()
        .tcp
        .get_mut(&id)
        .unwrap()
        .downstream_held = false;
    assert_eq!(host.proxy_get_buffer_bytes(data, 0, 10), Ok(Vec::new()));
}

/// Envoy holds each received gRPC part only during its own callback: initial metadata in
/// `proxy_on_grpc_receive_initial_metadata`, the message in `proxy_on_grpc_receive`, trailing metadata
/// in `proxy_on_grpc_receive_trailing_metadata`.
#[test]
fn grpc_parts_are_readable_only_in_their_own_callback() {
    use super::state::GrpcEvent;
    let emulator = emulator();
    let root = emulator.root_id();
    emulator.state.borrow_mut().grpc_data = CallResponse {
        headers: vec![("m".into(), "1".into())],
        body: b"msg".to_vec(),
        trailers: vec![("t".into(), "2".into())],
        status: 0,
    };
    let initial = MapType::GrpcReceiveInitialMetadata;
    let trailing = MapType::GrpcReceiveTrailingMetadata;
    let message = BufferType::GrpcReceiveBuffer;
    let mut host = host_at(&emulator, root, Phase::Grpc(1, GrpcEvent::InitialMetadata));
    assert_eq!(
        host.proxy_get_header_map_value(initial, b"m"),
        Ok(b"1".to_vec())
    );
    assert_eq!(
        host.proxy_get_header_map_value(trailing, b"t"),
        Err(Status::BadArgument)
    );
    assert_eq!(host.proxy_get_buffer_status(message), Ok((0, 0)));
    let mut host = host_at(&emulator, root, Phase::Grpc(1, GrpcEvent::Message));
    assert_eq!(
        host.proxy_get_buffer_bytes(message, 0, 9),
        Ok(b"msg".to_vec())
    );
    assert_eq!(host.proxy_get_header_map_pairs(initial), Ok(Vec::new()));
    let mut host = host_at(&emulator, root, Phase::Grpc(1, GrpcEvent::TrailingMetadata));
    assert_eq!(
        host.proxy_get_header_map_value(trailing, b"t"),
        Ok(b"2".to_vec())
    );
    assert_eq!(
        host.proxy_get_header_map_value(initial, b"m"),
        Err(Status::BadArgument)
    );
}
