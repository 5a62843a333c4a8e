//! HTTP and gRPC calls: argument checks, clusters, status and the bookkeeping of streams.
use super::*;

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
