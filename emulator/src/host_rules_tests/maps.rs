//! Header and trailer maps and local responses: which context and callback may reach a map, and how long.
use super::*;

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
