//! Async parallel calls, the twin of `parallel_http_calls` written with `proxywasm::task`: each request
//! spawns a task that calls every backend in `BACKENDS` at once and awaits them all with
//! `task::join_all`; the request stays paused until the last answers, then it is resumed with
//! `x-backends-ok: <n>` (how many answered 200).

use proxywasm::http_call::HttpRequest;
use proxywasm::task;
use proxywasm::{http, Action, Context, HttpContext, RootContext};
use std::time::Duration;

/// The clusters called for each request.
pub const BACKENDS: [&str; 3] = ["inventory", "pricing", "reviews"];
/// How long each call may take.
pub const TIMEOUT: Duration = Duration::from_millis(300);

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
        task::spawn_request(fan_out()).unwrap_or_else(|e| {
            // Nothing was asked: let the request through unannotated, and say why.
            proxywasm::logging::error(&format!("async_parallel_calls: cannot start: {e}"));
            Action::Continue
        })
    }
}

/// Calls every backend at once, counts the 200s, annotates and resumes the request.
async fn fan_out() -> Action {
    // Every call is dispatched here, before the first await: they run in parallel.
    let calls = BACKENDS.map(|cluster| {
        let request = HttpRequest {
            cluster,
            headers: &[
                (":method", "GET"),
                (":path", "/ping"),
                (":authority", cluster),
            ],
            body: None,
            trailers: &[],
            timeout: TIMEOUT,
        };
        task::http_call(&request)
    });
    let mut succeeded = 0;
    for (cluster, answer) in BACKENDS.iter().zip(task::join_all(calls).await) {
        match answer {
            Ok(response) if response.status() == Ok(Some(200)) => succeeded += 1,
            Ok(_) => {}
            // Counted as not answered, and said so.
            Err(e) => proxywasm::logging::warn(&format!("async_parallel_calls: {cluster}: {e}")),
        }
    }
    if let Err(e) = http::replace_request_header("x-backends-ok", &succeeded.to_string()) {
        proxywasm::logging::warn(&format!(
            "async_parallel_calls: cannot set x-backends-ok: {e}"
        ));
    }
    Action::Continue
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root)
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    fn fanned_out(host: &Emulator) -> (u32, Vec<u32>) {
        let stream = host.new_http_stream();
        assert_eq!(
            host.request_headers(stream, &[(":path", "/product/7")], true),
            Action::Pause
        );
        let calls = host.http_calls();
        let clusters: Vec<&str> = calls.iter().map(|c| c.cluster.as_str()).collect();
        assert_eq!(clusters, BACKENDS, "all dispatched at once");
        (stream, calls.iter().map(|c| c.token).collect())
    }

    fn backends_ok(host: &Emulator, stream: u32) -> Option<String> {
        host.http_stream(stream)
            .request_headers
            .into_iter()
            .find(|(k, _)| k == "x-backends-ok")
            .map(|(_, v)| v)
    }

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn resumes_only_when_the_last_call_answers_in_any_order(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, tokens) = fanned_out(&host);
            host.answer_http_call(tokens[1], &[(":status", "200")], b"", &[]);
            host.fail_http_call(tokens[0]);
            assert_eq!(host.http_stream(stream).request_resumed, 0, "one call is still pending");
            host.answer_http_call(tokens[2], &[(":status", "200")], b"", &[]);
            assert_eq!(host.http_stream(stream).request_resumed, 1);
            assert_eq!(backends_ok(&host, stream).as_deref(), Some("2"));
            assert_eq!(
                host.logs(LogLevel::Warn),
                ["async_parallel_calls: inventory: the HTTP call failed or timed out"]
            );
        }

        fn non_200_answers_and_timeouts_are_not_counted(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, tokens) = fanned_out(&host);
            host.time_out_http_call(tokens[2]);
            host.answer_http_call(tokens[0], &[(":status", "503")], b"", &[]);
            host.answer_http_call(tokens[1], &[(":status", "200")], b"", &[]);
            assert_eq!(host.http_stream(stream).request_resumed, 1);
            assert_eq!(backends_ok(&host, stream).as_deref(), Some("1"));
            assert_eq!(host.logs(LogLevel::Warn).len(), 1, "the timeout is said");
        }

        fn a_stream_reset_while_calls_are_pending_drops_the_task(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, tokens) = fanned_out(&host);
            host.answer_http_call(tokens[0], &[(":status", "200")], b"", &[]);
            host.complete_stream(stream);
            host.answer_http_call(tokens[1], &[(":status", "200")], b"", &[]);
            host.answer_http_call(tokens[2], &[(":status", "200")], b"", &[]);
            assert_eq!(host.http_stream(stream).request_resumed, 0);
            assert_eq!(backends_ok(&host, stream), None);
            assert_eq!(host.registry_size(), (1, 0));
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
