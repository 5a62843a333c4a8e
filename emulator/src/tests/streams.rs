//! HTTP and TCP streams: maps, bodies, data, closes, and stream operations from the wrong context.
use super::*;

#[test]
fn headers_are_modified_in_order_with_duplicates_and_phase_rules() {
    let host = emulator();
    host.start_plugin();
    let s = host.new_http_stream();
    let action = host.request_headers(
        s,
        &[(":path", "/"), ("x-b", "1"), ("x-gone", "a"), ("X-B", "2")],
        false,
    );
    assert_eq!(action, Action::Continue);
    assert_eq!(
        host.http_stream(s).request_headers,
        owned(&[(":path", "/"), ("x-b", "replaced"), ("x-added", "1")])
    );
    let seen = take_seen();
    assert!(
        seen.contains(&"response headers during request: Ok([])".to_string()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"body during headers: Ok([])".to_string()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"tick from stream: Ok(())".to_string()),
        "{seen:?}"
    );
    host.response_headers(s, &[(":status", "200")], true);
    assert_eq!(
        host.http_stream(s).response_headers[1],
        ("x-response".into(), "seen".into())
    );
}

#[test]
fn bodies_arrive_in_chunks_and_are_rewritten_at_end_of_stream() {
    let host = emulator();
    host.start_plugin();
    let s = host.new_http_stream();
    host.request_headers(s, &[(":path", "/")], false);
    assert_eq!(host.request_body(s, b"hello ", false), Action::Pause);
    assert_eq!(host.request_body(s, b"world", true), Action::Continue);
    assert_eq!(host.http_stream(s).request_body, b"HELLO WORLD");
    assert!(take_seen().contains(&"bad range: Ok([])".to_string()));
}

#[test]
fn tcp_data_is_rewritten_closes_are_seen_and_http_calls_are_refused() {
    let host = emulator();
    host.start_plugin();
    WANT_TCP.with(|w| w.set(true));
    let (id, action) = host.new_tcp_stream();
    WANT_TCP.with(|w| w.set(false));
    assert_eq!(action, Action::Continue);
    host.downstream_data(id, b"ping", false);
    assert_eq!(host.tcp_stream(id).downstream, b"PING");
    let seen = take_seen();
    assert!(
        seen.contains(&"upstream during downstream: Ok([])".to_string()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"headers in tcp: Ok([])".to_string()),
        "{seen:?}"
    );
    host.downstream_data(id, b"quit", true);
    let closes_supported = proxywasm::abi::StreamType::Downstream.is_defined();
    assert_eq!(host.tcp_stream(id).downstream_closed, closes_supported);
    host.downstream_close(id, PeerType::Remote);
    assert!(take_seen().contains(&"closed by remote".to_string()));
}

#[test]
fn stream_operations_from_the_root_context_do_nothing() {
    let host = emulator();
    host.start_plugin();
    host.tick();
    assert!(take_seen().contains(&"tick local response: Ok(())".to_string()));
    assert_eq!(host.logs(LogLevel::Info), ["tick"]);
}
