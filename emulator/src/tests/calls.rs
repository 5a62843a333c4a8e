//! HTTP and gRPC calls: recorded, answered, failed, and their events delivered.
use super::*;

#[test]
fn http_calls_are_recorded_answered_and_resume_or_reject_the_stream() {
    let host = emulator();
    host.start_plugin();
    let allowed = host.new_http_stream();
    assert_eq!(
        host.request_headers(allowed, &[(":path", "/call")], true),
        Action::Pause
    );
    let denied = host.new_http_stream();
    host.request_headers(denied, &[(":path", "/call")], true);
    let calls = host.http_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].cluster, "auth");
    assert_eq!(calls[0].timeout_ms, 500);
    assert_eq!(calls[0].context_id, allowed);
    assert!(calls[0]
        .headers
        .contains(&(":path".into(), "/check".into())));
    host.answer_http_call(calls[0].token, &[(":status", "200")], b"ok", &[]);
    host.answer_http_call(calls[1].token, &[(":status", "401")], b"", &[]);
    assert_eq!(host.http_stream(allowed).request_resumed, 1);
    assert!(host.local_response(allowed).is_none());
    let local = host.local_response(denied).expect("a local response");
    assert_eq!(
        (local.status, local.body.as_slice()),
        (403, b"denied".as_slice())
    );
    assert_eq!(local.headers, owned(&[("x-denied", "1")]));
    assert_eq!(host.http_stream(denied).request_resumed, 0);
    let seen = take_seen();
    assert!(
        seen.contains(&"call answered 1 2 Some(\"200\")".to_string()),
        "{seen:?}"
    );
}

#[test]
fn a_failed_call_delivers_zero_counts_and_no_response_maps() {
    let host = emulator();
    host.start_plugin();
    let s = host.new_http_stream();
    host.request_headers(s, &[(":path", "/call")], true);
    let token = host.http_calls()[0].token;
    host.fail_http_call(token);
    assert!(take_seen().contains(&"call answered 0 0 None".to_string()));
    assert_eq!(host.local_response(s).map(|r| r.status), Some(403));
}

#[test]
fn grpc_calls_are_recorded_and_their_events_delivered() {
    struct Grpc;
    impl Context for Grpc {
        fn on_grpc_receive(&mut self, token: u32, size: usize) {
            seen(format!(
                "message {token} {size} {:?}",
                proxywasm::grpc::received_message()
            ));
        }
        fn on_grpc_close(&mut self, token: u32, status: u32) {
            seen(format!(
                "close {token} {status} {:?}",
                proxywasm::grpc::call_status().map(|s| s.0)
            ));
        }
    }
    impl RootContext for Grpc {
        fn on_tick(&mut self) {
            let target = proxywasm::grpc::GrpcTarget {
                cluster: "authz",
                service: "svc.Auth",
                method: "Check",
                initial_metadata: &[("k", b"v".as_slice())],
            };
            proxywasm::grpc::call(&target, b"req", Duration::from_secs(1)).unwrap();
        }
    }
    take_seen();
    let host = Emulator::builder().build(|_| Box::new(Grpc));
    host.tick();
    let call = &host.grpc_calls()[0];
    assert_eq!(
        (
            call.cluster.as_str(),
            call.service.as_str(),
            call.method.as_str()
        ),
        ("authz", "svc.Auth", "Check")
    );
    assert_eq!(call.messages, [b"req".to_vec()]);
    host.grpc_message(call.token, b"resp");
    host.grpc_close(call.token, 0);
    assert_eq!(
        take_seen(),
        [
            format!("message {0} 4 Ok([114, 101, 115, 112])", call.token),
            format!("close {} 0 Ok(0)", call.token)
        ]
    );
}
