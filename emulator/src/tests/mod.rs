//! Tests of the emulator: each feature and each misuse rule, through tiny plugins defined here.

use super::*;
use proxywasm::abi::{Action, LogLevel, MetricType, PeerType};
use proxywasm::error::Error;
use proxywasm::{
    config, http, http_call, metrics, properties, queue, shared_data, tcp, Context, HttpContext,
    RootContext, TcpContext,
};
use std::cell::RefCell as Cell;
use std::time::{Duration, SystemTime};

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
        // Read in place; the loop ends at `Empty`.
        let text = |item: &[u8]| String::from_utf8_lossy(item).into_owned();
        while let Ok(item) = queue::dequeue_with(queue_id, text) {
            seen(format!("dequeued {item}"));
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

mod calls;
mod hostcalls;
mod lifecycle;
mod shared_state;
mod streams;
