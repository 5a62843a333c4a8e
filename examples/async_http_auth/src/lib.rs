//! Async HTTP auth, the twin of `http_auth` written with `proxywasm::task`: each request's headers
//! callback spawns a task that asks the `auth` cluster over HTTP (forwarding the request's path and
//! `authorization` header) and awaits the answer. The request stays paused meanwhile; a 200 resumes it,
//! any other answer gets a local 403, a failed or timed-out call a local 503.

use proxywasm::http_call::HttpRequest;
use proxywasm::task::{self, TaskError};
use proxywasm::{http, Action, Context, Error, HttpContext, RootContext};
use std::time::Duration;

/// The cluster the plugin asks.
pub const AUTH_CLUSTER: &str = "auth";
/// How long it waits for the answer.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(1);
/// The body of the local 403.
pub const DENIED_BODY: &[u8] = b"access denied\n";
/// The body of the local 503.
pub const UNAVAILABLE_BODY: &[u8] = b"auth service unavailable\n";

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

impl HttpContext for Auth {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        task::spawn_request(authorize())
            .unwrap_or_else(|e| unavailable(&format!("cannot start the auth task: {e}")))
    }
}

/// The whole decision, top to bottom: read the request, ask, answer.
async fn authorize() -> Action {
    // Read before the first await, while the headers callback runs. Empty values count as absent
    // (ABI 0.1.0 Envoy reports an absent header as empty).
    let path = match http::request_header(":path").map(|p| p.filter(|v| !v.is_empty())) {
        Ok(Some(path)) => path,
        Ok(None) => return unavailable("the request has no :path"),
        Err(e) => return unavailable(&format!("cannot read :path: {e}")),
    };
    let authorization = match http::request_header("authorization") {
        Ok(value) => value.filter(|v| !v.is_empty()),
        Err(e) => return unavailable(&format!("cannot read authorization: {e}")),
    };
    let mut headers = vec![
        (":method", "GET"),
        (":path", path.as_str()),
        (":authority", AUTH_CLUSTER),
    ];
    // Forwarded only when the request has one: the auth service must not see an empty credential.
    if let Some(authorization) = &authorization {
        headers.push(("authorization", authorization.as_str()));
    }
    let request = HttpRequest {
        cluster: AUTH_CLUSTER,
        headers: &headers,
        body: None,
        trailers: &[],
        timeout: AUTH_TIMEOUT,
    };
    let response = match task::http_call(&request).await {
        Ok(response) => response,
        Err(Error::Task(TaskError::CallFailed)) => {
            return unavailable("the auth call failed or timed out")
        }
        Err(e) => return unavailable(&format!("cannot call {AUTH_CLUSTER}: {e}")),
    };
    match response.status() {
        Ok(Some(200)) => Action::Continue,
        Ok(Some(_)) => reply(403, DENIED_BODY),
        Ok(None) => {
            proxywasm::logging::error("async_http_auth: the auth answer has no :status; denying");
            reply(403, DENIED_BODY)
        }
        Err(e) => {
            proxywasm::logging::error(&format!(
                "async_http_auth: cannot read the auth answer's :status: {e}; denying"
            ));
            reply(403, DENIED_BODY)
        }
    }
}

/// Answers locally; the stream stays paused (the task's result says so).
fn reply(status: u32, body: &[u8]) -> Action {
    let headers = [("content-type", "text/plain")];
    if let Err(e) = http::send_http_response(status, &headers, body) {
        proxywasm::logging::error(&format!("async_http_auth: cannot answer {status}: {e}"));
    }
    Action::Pause
}

/// Fails the request closed: logs why and answers 503.
fn unavailable(why: &str) -> Action {
    proxywasm::logging::error(&format!("async_http_auth: {why}"));
    reply(503, UNAVAILABLE_BODY)
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root)
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::abi::{MapType, Status};
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

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

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn an_allowed_request_is_resumed(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused_request(&host);
            host.answer_http_call(token, &[(":status", "200")], b"", &[]);
            assert_eq!(host.http_stream(stream).request_resumed, 1);
            assert_eq!(host.local_response(stream), None);
            host.complete_stream(stream);
            assert_eq!(host.registry_size(), (1, 0));
        }

        fn a_denied_request_gets_a_local_403(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused_request(&host);
            host.answer_http_call(token, &[(":status", "401")], b"no", &[]);
            let response = host.local_response(stream).expect("a local response");
            assert_eq!(response.status, 403);
            assert_eq!(response.body, DENIED_BODY);
            assert!(response.headers.contains(&("content-type".into(), "text/plain".into())));
            assert_eq!(host.http_stream(stream).request_resumed, 0);
        }

        fn a_failed_auth_call_gets_a_local_503(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused_request(&host);
            host.fail_http_call(token);
            let response = host.local_response(stream).expect("a local response");
            assert_eq!((response.status, response.body.as_slice()), (503, UNAVAILABLE_BODY));
            assert_eq!(host.logs(LogLevel::Error), ["async_http_auth: the auth call failed or timed out"]);
        }

        fn a_timed_out_auth_call_gets_a_local_503(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused_request(&host);
            host.time_out_http_call(token);
            assert_eq!(host.local_response(stream).map(|r| r.status), Some(503));
            assert_eq!(host.http_stream(stream).request_resumed, 0);
        }

        fn a_stream_reset_while_the_call_is_pending_drops_the_task(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused_request(&host);
            let (other, other_token) = paused_request(&host);
            // The first stream goes away (a downstream reset); its late answer reaches nobody.
            host.complete_stream(stream);
            host.answer_http_call(token, &[(":status", "200")], b"", &[]);
            let view = host.http_stream(stream);
            assert_eq!((view.request_resumed, view.local_response), (0, None));
            // The other stream is unaffected, answered after the reset.
            host.answer_http_call(other_token, &[(":status", "200")], b"", &[]);
            assert_eq!(host.http_stream(other).request_resumed, 1);
            host.complete_stream(other);
            assert_eq!(host.registry_size(), (1, 0));
            assert!(host.logs(LogLevel::Error).is_empty());
        }

        fn a_request_without_authorization_is_asked_about_without_one(plugin) {
            let host = Emulator::builder().load(plugin);
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/open")], true);
            let call = host.http_calls().pop().expect("an auth call");
            assert!(call.headers.iter().all(|(k, _)| k != "authorization"), "{:?}", call.headers);
        }

        fn unreadable_request_headers_fail_closed_at_once(plugin) {
            let host = Emulator::builder().load(plugin);
            let stream = host.new_http_stream();
            host.make_map_unreadable(MapType::HttpRequestHeaders, Status::InternalFailure);
            let action = host.request_headers(stream, &[(":path", "/private")], true);
            assert_eq!(action, Action::Pause);
            assert!(host.http_calls().is_empty(), "nothing is asked about a path it could not read");
            assert_eq!(host.local_response(stream).map(|r| r.status), Some(503));
            assert_eq!(host.logs(LogLevel::Error).len(), 1);
        }

        fn an_answer_without_status_is_denied_with_a_log_line(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused_request(&host);
            host.answer_http_call(token, &[("x-no-status", "1")], b"", &[]);
            assert_eq!(host.local_response(stream).map(|r| r.status), Some(403));
            assert_eq!(host.logs(LogLevel::Error).len(), 1);
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
