//! HTTP auth: pauses each request, asks the `auth` cluster over HTTP (forwarding the request's path and
//! `authorization` header), then resumes the request when the answer is 200, or answers locally with 403
//! (denied) or 503 (the auth service failed or timed out).

use proxywasm::http_call::{self, HttpRequest};
use proxywasm::{http, Action, Context, HttpContext, RootContext};
use std::time::Duration;

/// The cluster the plugin asks.
pub const AUTH_CLUSTER: &str = "auth";
/// How long it waits for the answer.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(1);

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Auth))
    }
}

/// One HTTP stream.
pub struct Auth;

impl Context for Auth {}

fn decide(num_headers: usize) {
    let result = if num_headers == 0 {
        http::send_http_response(503, &[], b"auth service unavailable\n")
    } else {
        match http_call::response_header(":status") {
            Ok(Some(status)) if status == "200" => http::resume_http_request(),
            _ => {
                http::send_http_response(403, &[("content-type", "text/plain")], b"access denied\n")
            }
        }
    };
    if let Err(e) = result {
        proxywasm::logging::error(&format!("http_auth: cannot finish the request: {e}"));
    }
}

impl HttpContext for Auth {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let path = http::request_header(":path")
            .ok()
            .flatten()
            .unwrap_or_else(|| "/".to_string());
        let authorization = http::request_header("authorization")
            .ok()
            .flatten()
            .unwrap_or_default();
        let headers = [
            (":method", "GET"),
            (":path", path.as_str()),
            (":authority", AUTH_CLUSTER),
            ("authorization", authorization.as_str()),
        ];
        let request = HttpRequest {
            cluster: AUTH_CLUSTER,
            headers: &headers,
            body: None,
            trailers: &[],
            timeout: AUTH_TIMEOUT,
        };
        match http_call::dispatch_http_call(&request, |num_headers, _, _| decide(num_headers)) {
            Ok(_) => Action::Pause,
            Err(e) => {
                proxywasm::logging::error(&format!("http_auth: cannot call {AUTH_CLUSTER}: {e}"));
                let _ = http::send_http_response(503, &[], b"auth service unavailable\n");
                Action::Pause
            }
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
    use proxywasm::emulator::Emulator;

    fn paused_request(host: &Emulator) -> (u32, u32) {
        let stream = host.new_http_stream();
        let action = host.request_headers(
            stream,
            &[(":path", "/private"), ("authorization", "Bearer t")],
            true,
        );
        assert_eq!(action, Action::Pause);
        let call = host.http_calls().pop().expect("an auth call");
        assert_eq!(call.cluster, AUTH_CLUSTER);
        assert_eq!(call.timeout_ms, 1000);
        assert!(call.headers.contains(&(":path".into(), "/private".into())));
        assert!(call
            .headers
            .contains(&("authorization".into(), "Bearer t".into())));
        (stream, call.token)
    }

    proxywasm::emulator_tests! {
        plugin: new_root;

        fn an_allowed_request_is_resumed(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused_request(&host);
            host.answer_http_call(token, &[(":status", "200")], b"", &[]);
            assert_eq!(host.http_stream(stream).request_resumed, 1);
            assert_eq!(host.local_response(stream), None);
        }

        fn a_denied_request_gets_a_local_403(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused_request(&host);
            host.answer_http_call(token, &[(":status", "401")], b"no", &[]);
            let response = host.local_response(stream).expect("a local response");
            assert_eq!(response.status, 403);
            assert_eq!(response.body, b"access denied\n");
            assert_eq!(host.http_stream(stream).request_resumed, 0);
        }

        fn a_failed_auth_call_gets_a_local_503(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused_request(&host);
            host.fail_http_call(token);
            assert_eq!(host.local_response(stream).map(|r| r.status), Some(503));
        }
    }
}
