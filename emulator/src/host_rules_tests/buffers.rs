//! Bodies, TCP data and read-only buffers: reachable in their own callback (and while paused), Envoy's rules for writes.
use super::*;

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
