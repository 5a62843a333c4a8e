//! The safe API's families that the examples and the emulator's own tests do not reach, each exercised
//! through the host emulator: trailers, response bodies, TCP data edits and resumption, HTTP-call bodies
//! and trailers delivered to the trait method, gRPC metadata, integer properties and the `log` backend.

use proxywasm::{
    grpc, http, http_call, properties, tcp, Action, Context, HttpContext, LogLevel, PeerType,
    RootContext, TcpContext,
};
use proxywasm_emulator::Emulator;
use std::cell::RefCell;
use std::time::Duration;

thread_local! {
    static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static TCP: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn seen(s: impl Into<String>) {
    SEEN.with(|v| v.borrow_mut().push(s.into()));
}

fn take() -> Vec<String> {
    SEEN.with(|v| std::mem::take(&mut *v.borrow_mut()))
}

struct Root;
impl Context for Root {}
impl RootContext for Root {
    fn on_plugin_start(&mut self, _: usize) -> bool {
        proxywasm::logging::init_log_backend();
        log::info!("through the log crate");
        true
    }
    fn new_http_context(&mut self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream))
    }
    fn new_tcp_context(&mut self, _: u32) -> Option<Box<dyn TcpContext>> {
        TCP.with(|t| t.get())
            .then(|| Box::new(Tcp) as Box<dyn TcpContext>)
    }
}

struct Stream;
impl Context for Stream {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body: usize, trailers: usize) {
        seen(format!(
            "trait delivery {token}: {headers} {body} {trailers} body={:?} trailers={:?} headers={:?}",
            http_call::response_body(0, body).map(String::from_utf8),
            http_call::response_trailers(),
            http_call::response_headers().map(|h| h.len())
        ));
    }
    fn on_grpc_receive_initial_metadata(&mut self, _token: u32, n: usize) {
        seen(format!(
            "initial {n} {:?}",
            grpc::received_initial_metadata()
        ));
    }
    fn on_grpc_receive_trailing_metadata(&mut self, _token: u32, n: usize) {
        seen(format!(
            "trailing {n} {:?}",
            grpc::received_trailing_metadata()
        ));
    }
}
impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let request = http_call::HttpRequest {
            cluster: "c",
            headers: &[(":method", "POST"), (":path", "/"), (":authority", "c")],
            body: Some(b"ping"),
            trailers: &[("t", "1")],
            timeout: Duration::from_secs(1),
        };
        http_call::dispatch_http_call_to_context(&request).unwrap();
        let target = grpc::GrpcTarget {
            cluster: "g",
            service: "s",
            method: "m",
            initial_metadata: &[("k", b"v")],
        };
        grpc::open_stream(&target).unwrap();
        Action::Continue
    }
    fn on_http_request_trailers(&mut self, _: usize) -> Action {
        http::add_request_trailer("x-a", "1").unwrap();
        http::replace_request_trailer("grpc-status", "0").unwrap();
        http::remove_request_trailer("drop").unwrap();
        seen(format!(
            "{:?} {:?}",
            http::request_trailer("grpc-status"),
            http::request_trailers_bytes().map(|t| t.len())
        ));
        Action::Continue
    }
    fn on_http_response_body(&mut self, size: usize, eos: bool) -> Action {
        if !eos {
            return Action::Pause;
        }
        http::prepend_response_body(b"<").unwrap();
        http::append_response_body(b">").unwrap();
        seen(format!(
            "response body {size} {:?}",
            http::response_body_all().map(String::from_utf8)
        ));
        Action::Continue
    }
    fn on_http_response_trailers(&mut self, _: usize) -> Action {
        http::set_response_trailers(&[("x-done", "yes")]).unwrap();
        seen(format!("{:?}", http::response_trailer("x-done")));
        Action::Continue
    }
}

struct Tcp;
impl Context for Tcp {}
impl TcpContext for Tcp {
    fn on_upstream_data(&mut self, size: usize, _: bool) -> Action {
        tcp::prepend_upstream_data(b"[").unwrap();
        tcp::append_upstream_data(b"]").unwrap();
        seen(format!(
            "upstream {size} {:?}",
            tcp::upstream_data(0, size + 2)
        ));
        seen(format!("resume upstream: {:?}", tcp::resume_upstream()));
        seen(format!("close upstream: {:?}", tcp::close_upstream()));
        Action::Pause
    }
    fn on_downstream_data(&mut self, _: usize, _: bool) -> Action {
        tcp::replace_downstream_data(b"x").unwrap();
        seen(format!("resume downstream: {:?}", tcp::resume_downstream()));
        Action::Continue
    }
    fn on_upstream_close(&mut self, peer: PeerType) {
        seen(format!("upstream closed by {peer}"));
    }
}

fn unimplemented_in_0_1_0() -> &'static str {
    if proxywasm::abi::StreamType::Downstream.is_defined() {
        "Ok(())"
    } else {
        "Err(Unimplemented)"
    }
}

#[test]
fn trailers_response_bodies_and_the_log_backend() {
    take();
    let host = Emulator::builder().build(|_| Box::new(Root));
    assert!(host.start_plugin());
    assert_eq!(host.logs(LogLevel::Info), ["through the log crate"]);
    let s = host.new_http_stream();
    host.request_headers(s, &[(":path", "/")], false);
    host.request_trailers(s, &[("drop", "1"), ("grpc-status", "2")]);
    host.response_headers(s, &[(":status", "200")], false);
    assert_eq!(host.response_body(s, b"ab", false), Action::Pause);
    host.response_body(s, b"c", true);
    host.response_trailers(s, &[("old", "1")]);
    let view = host.http_stream(s);
    assert_eq!(
        view.request_trailers,
        [
            ("grpc-status".to_string(), "0".to_string()),
            ("x-a".into(), "1".into())
        ]
    );
    assert_eq!(view.response_body_forwarded, b"<abc>");
    assert_eq!(
        view.response_trailers,
        [("x-done".to_string(), "yes".to_string())]
    );
    assert_eq!(
        take(),
        [
            "Ok(Some(\"0\")) Ok(2)".to_string(),
            "response body 3 Ok(Ok(\"<abc>\"))".to_string(),
            "Ok(Some(\"yes\"))".to_string()
        ]
    );
}

#[test]
fn call_responses_reach_the_trait_method_and_grpc_metadata_is_readable() {
    take();
    let host = Emulator::builder().build(|_| Box::new(Root));
    let s = host.new_http_stream();
    host.request_headers(s, &[(":path", "/")], true);
    let call = host.http_calls()[0].clone();
    assert_eq!(
        (call.body.as_slice(), call.trailers.len()),
        (b"ping".as_slice(), 1)
    );
    host.answer_http_call(
        call.token,
        &[(":status", "200"), ("a", "b")],
        b"pong",
        &[("t", "2")],
    );
    let grpc_stream = host.grpc_calls()[0].token;
    host.grpc_initial_metadata(grpc_stream, &[("m", "1")]);
    host.grpc_trailing_metadata(grpc_stream, &[("n", "2")]);
    assert_eq!(
        take(),
        [
            format!(
                "trait delivery {}: 2 4 1 body=Ok(Ok(\"pong\")) trailers=Ok([(\"t\", \"2\")]) headers=Ok(2)",
                call.token
            ),
            "initial 1 Ok([(\"m\", \"1\")])".to_string(),
            "trailing 1 Ok([(\"n\", \"2\")])".to_string(),
        ]
    );
}

#[test]
fn tcp_data_edits_resumption_and_closes() {
    take();
    let host = Emulator::builder().build(|_| Box::new(Root));
    TCP.with(|t| t.set(true));
    let (id, _) = host.new_tcp_stream();
    TCP.with(|t| t.set(false));
    host.downstream_data(id, b"abc", false);
    assert_eq!(host.upstream_data(id, b"up", false), Action::Pause);
    host.upstream_close(id, PeerType::Unknown);
    let view = host.tcp_stream(id);
    assert_eq!(
        (view.downstream.as_slice(), view.upstream.as_slice()),
        (b"x".as_slice(), b"[up]".as_slice())
    );
    let supported = proxywasm::abi::StreamType::Downstream.is_defined();
    assert_eq!(
        (
            view.downstream_resumed,
            view.upstream_resumed,
            view.upstream_closed
        ),
        // Envoy's Context::continueStream cannot resume the upstream side (unimplemented).
        (u32::from(supported), 0, supported)
    );
    let expected = unimplemented_in_0_1_0();
    assert_eq!(
        take(),
        [
            format!("resume downstream: {expected}"),
            "upstream 2 Ok([91, 117, 112, 93])".to_string(),
            "resume upstream: Err(Unimplemented)".to_string(),
            format!("close upstream: {expected}"),
            "upstream closed by unknown".to_string(),
        ]
    );
}

#[test]
fn integer_properties_are_decoded_and_checked() {
    struct Props;
    impl Context for Props {}
    impl RootContext for Props {
        fn on_tick(&mut self) {
            seen(format!(
                "{:?} {:?}",
                properties::get_u64(&["n"]),
                properties::get_u64(&["bad"])
            ));
        }
    }
    take();
    let host = Emulator::builder()
        .property(&["n"], 42u64.to_le_bytes())
        .property(&["bad"], vec![1u8, 2])
        .build(|_| Box::new(Props));
    host.tick();
    assert_eq!(take(), ["Ok(Some(42)) Err(Malformed(WrongSize))"]);
}
