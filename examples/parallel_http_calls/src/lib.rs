//! Several HTTP calls at once: each request triggers one call per backend in `BACKENDS`; the request stays
//! paused until the last call answers, then it is resumed with `x-backends-ok: <n>` (how many answered 200).

use proxywasm::http_call::{self, HttpRequest};
use proxywasm::{http, Action, Context, HttpContext, RootContext};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// The clusters called for each request.
pub const BACKENDS: [&str; 3] = ["inventory", "pricing", "reviews"];

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(FanOut))
    }
}

/// One HTTP stream.
pub struct FanOut;

impl Context for FanOut {}

impl HttpContext for FanOut {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let remaining = Rc::new(Cell::new(0usize));
        let succeeded = Rc::new(Cell::new(0usize));
        for cluster in BACKENDS {
            let request = HttpRequest {
                cluster,
                headers: &[
                    (":method", "GET"),
                    (":path", "/ping"),
                    (":authority", cluster),
                ],
                body: None,
                trailers: &[],
                timeout: Duration::from_millis(300),
            };
            let (remaining_in_call, succeeded_in_call) = (remaining.clone(), succeeded.clone());
            let dispatched = http_call::dispatch_http_call(&request, move |_, _, _| {
                match http_call::response_header(":status") {
                    Ok(Some(status)) if status == "200" => {
                        succeeded_in_call.set(succeeded_in_call.get() + 1)
                    }
                    Ok(_) => {}
                    // Counted as not answered, and said so.
                    Err(e) => proxywasm::logging::warn(&format!(
                        "parallel_http_calls: {cluster}: cannot read :status: {e}"
                    )),
                }
                remaining_in_call.set(remaining_in_call.get() - 1);
                if remaining_in_call.get() == 0 {
                    let count = succeeded_in_call.get().to_string();
                    if let Err(e) = http::replace_request_header("x-backends-ok", &count) {
                        proxywasm::logging::warn(&format!(
                            "parallel_http_calls: cannot set x-backends-ok: {e}"
                        ));
                    }
                    if let Err(e) = http::resume_http_request() {
                        proxywasm::logging::error(&format!(
                            "parallel_http_calls: cannot resume the request: {e}"
                        ));
                    }
                }
            });
            match dispatched {
                Ok(_) => remaining.set(remaining.get() + 1),
                Err(e) => proxywasm::logging::warn(&format!("parallel_http_calls: {cluster}: {e}")),
            }
        }
        if remaining.get() == 0 {
            Action::Continue
        } else {
            Action::Pause
        }
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root)
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn resumes_only_when_the_last_call_answers(plugin) {
            let host = Emulator::builder().load(plugin);
            let stream = host.new_http_stream();
            assert_eq!(
                host.request_headers(stream, &[(":path", "/product/7")], true),
                Action::Pause
            );
            let calls = host.http_calls();
            let clusters: Vec<&str> = calls.iter().map(|c| c.cluster.as_str()).collect();
            assert_eq!(clusters, BACKENDS);
            host.answer_http_call(calls[1].token, &[(":status", "200")], b"", &[]);
            host.fail_http_call(calls[0].token);
            assert_eq!(
                host.http_stream(stream).request_resumed,
                0,
                "one call is still pending"
            );
            host.answer_http_call(calls[2].token, &[(":status", "200")], b"", &[]);
            let view = host.http_stream(stream);
            assert_eq!(view.request_resumed, 1);
            assert!(view
                .request_headers
                .contains(&("x-backends-ok".into(), "2".into())));
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
