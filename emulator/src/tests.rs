//! Tests of the emulator: each feature and each misuse rule, through tiny plugins defined here.

use super::*;
use proxywasm::error::Error;
use proxywasm::{
    config, http, http_call, metrics, properties, queue, shared_data, tcp, Context, HttpContext,
    RootContext, TcpContext,
};
use std::cell::RefCell as Cell;

thread_local! {
    /// What the test plugin observed, for assertions.
    static SEEN: Cell<Vec<String>> = const { Cell::new(Vec::new()) };
    /// Whether the test root creates TCP contexts (true) or HTTP contexts (false) for new streams.
    static WANT_TCP: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn seen(s: impl Into<String>) {
    SEEN.with(|v| v.borrow_mut().push(s.into()));
}

fn take_seen() -> Vec<String> {
    SEEN.with(|v| std::mem::take(&mut *v.borrow_mut()))
}

struct Root;
impl Context for Root {}
impl RootContext for Root {
    fn on_vm_start(&mut self, size: usize) -> bool {
        let config = proxywasm::config::vm_configuration();
        seen(format!("vm {size} {config:?}"));
        true
    }
    fn on_plugin_start(&mut self, size: usize) -> bool {
        let config = proxywasm::config::plugin_configuration()
            .unwrap()
            .unwrap_or_default();
        seen(format!(
            "plugin {size} {}",
            String::from_utf8_lossy(&config)
        ));
        queue::register("jobs").unwrap();
        config != b"reject"
    }
    fn on_tick(&mut self) {
        proxywasm::logging::info("tick");
        // A stream-only operation from the root context does nothing (Envoy answers ok).
        seen(format!(
            "tick local response: {:?}",
            http::send_http_response(200, &[], b"")
        ));
    }
    fn on_queue_ready(&mut self, queue_id: u32) {
        while let Ok(item) = queue::dequeue(queue_id) {
            seen(format!("dequeued {}", String::from_utf8_lossy(&item)));
        }
        seen(format!("then {:?}", queue::dequeue(queue_id)));
    }
    fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream))
    }
    fn new_tcp_context(&mut self, _id: u32) -> Option<Box<dyn TcpContext>> {
        WANT_TCP
            .with(|w| w.get())
            .then(|| Box::new(Tcp) as Box<dyn TcpContext>)
    }
}

struct Stream;
impl Context for Stream {}
impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        seen(format!(
            "response headers during request: {:?}",
            http::response_headers()
        ));
        seen(format!(
            "body during headers: {:?}",
            http::request_body_all()
        ));
        seen(format!(
            "tick from stream: {:?}",
            proxywasm::timers::set_tick_period(Duration::from_secs(1))
        ));
        http::replace_request_header("x-b", "replaced").unwrap();
        http::remove_request_header("x-gone").unwrap();
        http::add_request_header("X-Added", "1").unwrap();
        if http::request_header(":path").unwrap().as_deref() == Some("/call") {
            let request = http_call::HttpRequest {
                cluster: "auth",
                headers: &[
                    (":method", "GET"),
                    (":path", "/check"),
                    (":authority", "auth"),
                ],
                body: None,
                trailers: &[],
                timeout: Duration::from_millis(500),
            };
            http_call::dispatch_http_call(&request, |headers, body, _| {
                // A failed call has no response map: Envoy answers bad_argument.
                let status = http_call::response_header(":status").unwrap_or_default();
                seen(format!("call answered {headers} {body} {status:?}"));
                if status.as_deref() == Some("200") {
                    http::resume_http_request().unwrap();
                } else {
                    http::send_http_response(403, &[("x-denied", "1")], b"denied").unwrap();
                }
            })
            .unwrap();
            return Action::Pause;
        }
        Action::Continue
    }
    fn on_http_request_body(&mut self, size: usize, eos: bool) -> Action {
        if !eos {
            return Action::Pause;
        }
        let body = http::request_body(0, size).unwrap();
        http::replace_request_body(&body.to_ascii_uppercase()).unwrap();
        seen(format!("bad range: {:?}", http::request_body(size + 1, 1)));
        Action::Continue
    }
    fn on_http_response_headers(&mut self, _n: usize, _eos: bool) -> Action {
        http::add_response_header("x-response", "seen").unwrap();
        Action::Continue
    }
}

struct Tcp;
impl Context for Tcp {}
impl TcpContext for Tcp {
    fn on_downstream_data(&mut self, size: usize, _eos: bool) -> Action {
        let data = tcp::downstream_data(0, size).unwrap();
        tcp::replace_downstream_data(&data.to_ascii_uppercase()).unwrap();
        seen(format!(
            "upstream during downstream: {:?}",
            tcp::upstream_data_all()
        ));
        seen(format!("headers in tcp: {:?}", http::request_headers()));
        if data == b"quit" {
            tcp::close_downstream().unwrap_or(());
        }
        Action::Continue
    }
    fn on_downstream_close(&mut self, peer: PeerType) {
        seen(format!("closed by {peer}"));
    }
}

fn emulator() -> Emulator {
    take_seen();
    Emulator::builder()
        .vm_configuration("vmconf")
        .plugin_configuration("pconf")
        .build(|_| Box::new(Root))
}

#[test]
fn starts_the_vm_and_the_plugin_with_their_configurations() {
    let host = emulator();
    assert!(host.start_vm());
    assert!(host.start_plugin());
    // Every version reads the VM configuration in on_vm_start: ABI 0.1.0 through
    // proxy_get_configuration, which Envoy answers with it outside proxy_on_configure.
    assert_eq!(
        take_seen(),
        [
            "vm 6 Ok(Some([118, 109, 99, 111, 110, 102]))",
            "plugin 5 pconf"
        ]
    );
    let (_, accepted) = host.add_plugin("reject");
    assert!(!accepted);
}

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
fn streams_are_deleted_and_the_registry_empties() {
    let host = emulator();
    host.start_plugin();
    let s = host.new_http_stream();
    host.request_headers(s, &[(":path", "/")], true);
    assert!(host.complete_stream(s));
    assert_eq!(
        host.registry_size(),
        (1, 0),
        "only the root context remains"
    );
}

#[test]
fn natively_there_is_no_guest_memory_to_watch() {
    let host = emulator();
    host.start_plugin();
    assert_eq!(host.guest_memory_size(), None);
    assert_eq!(host.guest_memory_over(1, 3, |_| {}), None);
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
fn ticks_logs_and_the_tick_period() {
    struct Ticker;
    impl Context for Ticker {}
    impl RootContext for Ticker {
        fn on_plugin_start(&mut self, _: usize) -> bool {
            proxywasm::timers::set_tick_period(Duration::from_millis(1500)).is_ok()
        }
        fn on_tick(&mut self) {
            proxywasm::logging::debug("dropped below the level");
            proxywasm::logging::warn(&format!(
                "now {:?}",
                proxywasm::time::current_time().unwrap()
            ));
        }
    }
    let host = Emulator::builder()
        .log_level(LogLevel::Info)
        .build(|_| Box::new(Ticker));
    assert!(host.start_plugin());
    assert_eq!(host.tick_period(), Some(Duration::from_millis(1500)));
    host.advance_time(Duration::from_secs(10));
    host.tick();
    assert!(host.logs(LogLevel::Debug).is_empty());
    let expected = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_010);
    assert_eq!(host.logs(LogLevel::Warn), [format!("now {expected:?}")]);
}

#[test]
fn stream_operations_from_the_root_context_do_nothing() {
    let host = emulator();
    host.start_plugin();
    host.tick();
    assert!(take_seen().contains(&"tick local response: Ok(())".to_string()));
    assert_eq!(host.logs(LogLevel::Info), ["tick"]);
}

#[test]
fn shared_data_has_versions_and_cas() {
    struct Cas;
    impl Context for Cas {}
    impl RootContext for Cas {
        fn on_tick(&mut self) {
            let (value, cas) = shared_data::get("k").unwrap();
            seen(format!("{value:?} {cas}"));
            shared_data::set("k", b"2", cas).unwrap();
            seen(format!("stale: {:?}", shared_data::set("k", b"3", cas)));
            seen(format!("missing: {:?}", shared_data::get("nope")));
        }
    }
    take_seen();
    let host = Emulator::builder()
        .shared_data("k", "1")
        .build(|_| Box::new(Cas));
    host.tick();
    assert_eq!(
        take_seen(),
        [
            "Some([49]) 1",
            "stale: Err(CasMismatch)",
            "missing: Ok((None, 0))"
        ]
    );
    assert_eq!(host.shared_data("k"), Some((b"2".to_vec(), 2)));
}

#[test]
fn queues_deliver_items_between_two_plugins_of_one_vm() {
    struct Producer;
    impl Context for Producer {}
    impl RootContext for Producer {
        fn on_tick(&mut self) {
            let id = queue::resolve("", "jobs").unwrap();
            queue::enqueue(id, b"a").unwrap();
            queue::enqueue(id, b"b").unwrap();
            seen(format!("unknown: {:?}", queue::resolve("other-vm", "jobs")));
        }
    }
    fn factory(id: u32) -> Box<dyn RootContext> {
        if id == 1 {
            Box::new(Root)
        } else {
            Box::new(Producer)
        }
    }
    take_seen();
    let host = Emulator::builder().build(factory);
    assert!(host.start_plugin());
    let (producer, _) = host.add_plugin("");
    host.tick_root(producer);
    let seen = take_seen();
    assert!(
        seen.contains(&"unknown: Err(NotFound)".to_string()),
        "{seen:?}"
    );
    let order: Vec<_> = seen
        .iter()
        .filter(|s| s.starts_with("dequeued") || s.starts_with("then"))
        .cloned()
        .collect();
    assert_eq!(order, ["dequeued a", "dequeued b", "then Err(Empty)"]);
    assert!(host.queue_items("jobs").is_empty());
}

#[test]
fn metrics_properties_and_foreign_functions() {
    struct Everything;
    impl Context for Everything {}
    impl RootContext for Everything {
        fn on_tick(&mut self) {
            let c = metrics::Counter::new("requests").unwrap();
            c.increment().unwrap();
            c.add(2).unwrap();
            seen(format!("counter value {:?}", c.value()));
            seen(format!(
                "counter down: {:?}",
                metrics::increment(
                    metrics::define(MetricType::Counter, "requests").unwrap(),
                    -1
                )
            ));
            let g = metrics::Gauge::new("active").unwrap();
            g.set(5).unwrap();
            g.add(-2).unwrap();
            metrics::Histogram::new("latency")
                .unwrap()
                .record(42)
                .unwrap();
            let addr = properties::get_string(&["source", "address"]).unwrap();
            // Envoy's setProperty needs a stream: a root context has no filter state.
            seen(format!(
                "root set: {:?}",
                properties::set(&["custom"], b"v")
            ));
            seen(format!(
                "{addr:?} {:?}",
                properties::get(&["missing"]).unwrap()
            ));
            let out = proxywasm::foreign::call_foreign_function("double", b"ab").unwrap();
            seen(format!("foreign {}", String::from_utf8_lossy(&out)));
            seen(format!(
                "unknown foreign: {:?}",
                proxywasm::foreign::call_foreign_function("nope", b"")
            ));
        }
        fn on_foreign_function(&mut self, id: u32, size: usize) {
            seen(format!(
                "called {id} {size} {:?}",
                proxywasm::foreign::call_arguments()
            ));
        }
    }
    take_seen();
    let host = Emulator::builder()
        .property(&["source", "address"], "10.0.0.1:80")
        .build(|_| Box::new(Everything));
    host.register_foreign_function("double", |args| Ok([args, args].concat()));
    host.tick();
    assert_eq!(host.metric("requests"), Some((MetricType::Counter, 3)));
    assert_eq!(host.metric("active"), Some((MetricType::Gauge, 3)));
    assert_eq!(host.histogram("latency"), [42]);
    assert_eq!(
        host.foreign_calls(),
        [
            ("double".to_string(), b"ab".to_vec()),
            ("nope".to_string(), vec![])
        ]
    );
    let seen = take_seen();
    assert_eq!(
        seen,
        [
            "counter value Ok(3)",
            "counter down: Err(BadArgument)",
            "root set: Err(NotFound)",
            "Some(\"10.0.0.1:80\") None",
            "foreign abab",
            "unknown foreign: Err(NotFound)"
        ]
    );
    host.call_plugin_foreign_function(7, b"xyz");
    let expected = if proxywasm::abi::BufferType::CallData.is_defined() {
        "called 7 3 Ok([120, 121, 122])".to_string()
    } else {
        "called 7 3 Err(BadArgument)".to_string()
    };
    assert_eq!(take_seen(), [expected]);
}

#[test]
fn deferred_shutdown_finishes_with_done() {
    struct Slow;
    impl Context for Slow {
        fn on_done(&mut self) -> bool {
            false
        }
    }
    impl RootContext for Slow {
        fn on_tick(&mut self) {
            proxywasm::done().unwrap();
        }
    }
    let host = Emulator::builder().build(|_| Box::new(Slow));
    assert!(!host.plugin_done());
    assert!(!host.done_called());
    host.tick();
    assert!(host.done_called());
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

#[test]
fn no_host_means_internal_failure_not_a_crash() {
    let host = emulator();
    drop(host);
    assert_eq!(
        proxywasm::http::request_header("x"),
        Err(Error::InternalFailure)
    );
}

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

#[test]
fn under_abi_0_1_0_each_configuration_is_read_only_where_the_host_answers_with_it() {
    struct Misplaced;
    impl Context for Misplaced {}
    impl RootContext for Misplaced {
        fn on_vm_start(&mut self, _size: usize) -> bool {
            seen(format!(
                "vm start: plugin {:?}",
                config::plugin_configuration()
            ));
            true
        }
        fn on_plugin_start(&mut self, _size: usize) -> bool {
            seen(format!("plugin start: vm {:?}", config::vm_configuration()));
            true
        }
    }
    take_seen();
    let host = Emulator::builder()
        .vm_configuration("vmconf")
        .plugin_configuration("pconf")
        .build(|_| Box::new(Misplaced));
    assert!(host.start_vm());
    assert!(host.start_plugin());
    // 0.2.x: the emulator refuses each buffer outside its callback. 0.1.0: the host would answer with
    // the other configuration, so the SDK does not ask.
    assert_eq!(
        take_seen(),
        [
            "vm start: plugin Err(BadArgument)",
            "plugin start: vm Err(BadArgument)"
        ]
    );
}

#[test]
fn a_property_set_by_a_stream_is_its_filter_state_under_the_wasm_prefix() {
    struct Props;
    impl Context for Props {}
    impl RootContext for Props {
        fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Props))
        }
    }
    impl HttpContext for Props {
        fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
            seen(format!("before: {:?}", properties::get(&["seen_path"])));
            if let Err(e) = properties::set(&["seen_path"], b"/a") {
                seen(format!("set: {e}"));
            }
            seen(format!("after: {:?}", properties::get(&["seen_path"])));
            Action::Continue
        }
    }
    take_seen();
    let host = Emulator::builder().build(|_| Box::new(Props));
    let first = host.new_http_stream();
    host.request_headers(first, &[(":path", "/a")], true);
    // Envoy's key is `wasm.` plus the raw path bytes: no trailing NUL, or no other filter finds it.
    assert_eq!(
        host.filter_state(first, "wasm.seen_path"),
        Some(b"/a".to_vec())
    );
    let second = host.new_http_stream();
    host.request_headers(second, &[(":path", "/b")], true);
    assert_eq!(
        take_seen(),
        [
            "before: Ok(None)",
            "after: Ok(Some([47, 97]))",
            // Filter state belongs to its stream.
            "before: Ok(None)",
            "after: Ok(Some([47, 97]))"
        ]
    );
}

#[test]
fn every_metric_definition_gets_a_new_id_like_envoy_and_the_sdk_defines_once() {
    struct Defines;
    impl Context for Defines {}
    impl RootContext for Defines {
        fn on_tick(&mut self) {
            let raw = |name: &str| {
                let mut id = 0u32;
                // SAFETY: the pointer describes `name`; `id` is a valid out-pointer.
                let status = unsafe {
                    proxywasm::abi::env::proxy_define_metric(
                        MetricType::Counter.into(),
                        name.as_ptr(),
                        name.len(),
                        &mut id,
                    )
                };
                assert_eq!(status, 0);
                id
            };
            let (a, b) = (raw("raw"), raw("raw"));
            seen(format!("new id each time: {}", a != b));
            metrics::increment(a, 1).unwrap();
            metrics::increment(b, 2).unwrap();
            seen(format!("shared value: {:?}", metrics::value(a)));
            for _ in 0..3 {
                metrics::Counter::new("cached")
                    .unwrap()
                    .increment()
                    .unwrap();
            }
        }
    }
    take_seen();
    let host = Emulator::builder().build(|_| Box::new(Defines));
    host.tick();
    assert_eq!(
        take_seen(),
        ["new id each time: true", "shared value: Ok(3)"]
    );
    assert_eq!(host.metric_definitions("raw"), 2);
    assert_eq!(host.metric_definitions("cached"), 1);
    assert_eq!(host.metric("cached"), Some((MetricType::Counter, 3)));
    assert_eq!(host.metric_definitions("never"), 0);
}

#[test]
fn a_write_with_cas_0_is_unconditional_as_in_cpp_host() {
    // cpp-host's SharedData::set (src/shared_data.cc) checks the version only for a non-zero cas.
    struct Overwrite;
    impl Context for Overwrite {}
    impl RootContext for Overwrite {
        fn on_tick(&mut self) {
            seen(format!("cas 0: {:?}", shared_data::set("k", b"mine", 0)));
        }
    }
    take_seen();
    let host = Emulator::builder()
        .shared_data("k", "theirs")
        .build(|_| Box::new(Overwrite));
    host.race_shared_data_write("k", "raced");
    host.tick();
    assert_eq!(take_seen(), ["cas 0: Ok(())"]);
    assert_eq!(host.shared_data("k"), Some((b"mine".to_vec(), 2)));
}

#[test]
fn a_racing_write_between_read_and_write_makes_the_cas_write_fail() {
    struct Racer;
    impl Context for Racer {}
    impl RootContext for Racer {
        fn on_tick(&mut self) {
            let (_, cas) = shared_data::get("k").unwrap();
            seen(format!("write: {:?}", shared_data::set("k", b"mine", cas)));
        }
    }
    take_seen();
    let host = Emulator::builder()
        .shared_data("k", "1")
        .build(|_| Box::new(Racer));
    host.race_shared_data_write("k", "raced");
    host.tick();
    assert_eq!(take_seen(), ["write: Err(CasMismatch)"]);
    assert_eq!(host.shared_data("k"), Some((b"raced".to_vec(), 2)));
}

#[test]
fn a_repeated_context_creation_keeps_the_live_context() {
    let host = emulator();
    host.start_plugin();
    take_seen();
    host.repeat_context_create(host.root_id(), 0);
    assert!(host
        .logs(LogLevel::Error)
        .iter()
        .any(|l| l.contains("already exists")));
    // The live root, with its queue registration, still answers.
    let (_, accepted) = host.add_plugin("pconf");
    assert!(accepted);
}
