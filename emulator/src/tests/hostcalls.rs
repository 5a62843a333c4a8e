//! The hostcalls no other test reaches, each checked against what a proxy answers.
use super::*;

#[test]
fn the_remaining_hostcalls_each_behave_like_a_proxy() {
    struct Misc;
    impl Context for Misc {}
    impl RootContext for Misc {
        fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(MiscStream))
        }
        fn on_tick(&mut self) {
            seen(format!("log level {:?}", proxywasm::logging::log_level()));
            let target = proxywasm::grpc::GrpcTarget {
                cluster: "c",
                service: "s",
                method: "m",
                initial_metadata: &[],
            };
            let stream = proxywasm::grpc::open_stream(&target).unwrap();
            proxywasm::grpc::send(stream, b"one", false).unwrap();
            proxywasm::grpc::send(stream, b"two", true).unwrap();
            let call = proxywasm::grpc::call(&target, b"x", Duration::from_secs(1)).unwrap();
            proxywasm::grpc::cancel(call).unwrap();
            seen(format!("close unknown: {:?}", proxywasm::grpc::close(999)));
            proxywasm::grpc::close(stream).unwrap();
            seen(format!(
                "send on a unary call: {:?}",
                proxywasm::grpc::send(call, b"", false)
            ));
        }
    }
    struct MiscStream;
    impl Context for MiscStream {}
    impl HttpContext for MiscStream {
        fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
            http::set_request_headers(&[(":path", "/new"), ("a", "1")]).unwrap();
            let size = http::request_headers_size().unwrap();
            seen(format!("map size {size}"));
            seen(format!("route cache: {:?}", http::clear_route_cache()));
            Action::Continue
        }
        fn on_http_request_body(&mut self, size: usize, _eos: bool) -> Action {
            seen(format!(
                "body size {:?} of {size}",
                http::request_body_size()
            ));
            Action::Continue
        }
        fn on_http_response_headers(&mut self, _n: usize, _eos: bool) -> Action {
            seen(format!(
                "resume response: {:?}",
                http::resume_http_response()
            ));
            Action::Pause
        }
    }
    take_seen();
    let host = Emulator::builder()
        .log_level(LogLevel::Debug)
        .build(|_| Box::new(Misc));
    host.tick();
    let level = if proxywasm::abi::LogLevel::Debug.is_defined() && cfg!(proxywasm_abi = "0_2_1") {
        "log level Ok(Debug)".to_string()
    } else {
        format!("log level {:?}", Err::<LogLevel, _>(Error::Unimplemented))
    };
    assert_eq!(
        take_seen(),
        [
            level,
            "close unknown: Err(NotFound)".to_string(),
            "send on a unary call: Err(NotFound)".to_string()
        ]
    );
    let calls = host.grpc_calls();
    assert!(calls[0].is_stream && calls[0].closed_by_plugin && !calls[0].cancelled);
    assert_eq!(calls[0].messages, [b"one".to_vec(), b"two".to_vec()]);
    assert!(!calls[1].is_stream && calls[1].cancelled);

    let s = host.new_http_stream();
    host.request_headers(s, &[(":path", "/old")], false);
    assert_eq!(
        host.http_stream(s).request_headers,
        owned(&[(":path", "/new"), ("a", "1")])
    );
    // Envoy's byteSize: the bytes of the names and values.
    let expected_size = ":path/new".len() + "a1".len();
    let route = if cfg!(proxywasm_abi = "0_1_0") {
        "route cache: Ok(())"
    } else {
        "route cache: Err(Unimplemented)"
    };
    assert_eq!(
        take_seen(),
        [format!("map size {expected_size}"), route.to_string()]
    );
    host.request_body(s, b"12345", true);
    assert_eq!(take_seen(), ["body size Ok(5) of 5"]);
    host.response_headers(s, &[(":status", "200")], true);
    assert_eq!(take_seen(), ["resume response: Ok(())"]);
    assert_eq!(host.http_stream(s).response_resumed, 1);
}
