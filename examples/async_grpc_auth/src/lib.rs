//! Async gRPC auth, the twin of `grpc_auth` written with `proxywasm::task`: each request spawns a task
//! that sends the request's path to the `authz` cluster's `authz.v1.Authorizer/Check` method (the message
//! is the raw path bytes) and awaits the reply. A reply `allow` with gRPC status 0 resumes the request;
//! anything else, or a failed or timed-out call, answers 403.

use proxywasm::grpc::GrpcTarget;
use proxywasm::task::{self, TaskError};
use proxywasm::{http, Action, Context, Error, HttpContext, RootContext};
use std::time::Duration;

/// Where the question goes.
pub const TARGET: GrpcTarget<'static> = GrpcTarget {
    cluster: "authz",
    service: "authz.v1.Authorizer",
    method: "Check",
    initial_metadata: &[],
};
/// How long it waits for the reply.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Authorize))
    }
}

/// One HTTP stream.
pub struct Authorize;

impl Context for Authorize {}

impl HttpContext for Authorize {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        task::spawn_request(authorize()).unwrap_or_else(|e| {
            proxywasm::logging::error(&format!("async_grpc_auth: cannot start: {e}; denying"));
            forbid()
        })
    }
}

async fn authorize() -> Action {
    let path = match http::request_header(":path") {
        Ok(Some(path)) => path,
        Ok(None) => {
            proxywasm::logging::error("async_grpc_auth: the request has no :path; denying");
            return forbid();
        }
        Err(e) => {
            proxywasm::logging::error(&format!("async_grpc_auth: cannot read :path: {e}; denying"));
            return forbid();
        }
    };
    match task::grpc_call(&TARGET, path.as_bytes(), TIMEOUT).await {
        Ok(reply) if reply.message == b"allow" => Action::Continue,
        Ok(_) => forbid(),
        Err(Error::Task(TaskError::GrpcStatus { code })) => {
            proxywasm::logging::warn(&format!(
                "async_grpc_auth: authz failed with gRPC status {code}; denying"
            ));
            forbid()
        }
        Err(e) => {
            proxywasm::logging::error(&format!("async_grpc_auth: cannot call authz: {e}; denying"));
            forbid()
        }
    }
}

/// Answers the request with the local 403; the stream stays paused.
fn forbid() -> Action {
    if let Err(e) = http::send_http_response(403, &[], b"forbidden\n") {
        proxywasm::logging::error(&format!("async_grpc_auth: cannot answer 403: {e}"));
    }
    Action::Pause
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
    use proxywasm_emulator::{Emulator, Plugin};

    fn paused(host: &Emulator) -> (u32, u32) {
        let stream = host.new_http_stream();
        assert_eq!(
            host.request_headers(stream, &[(":path", "/admin")], true),
            Action::Pause
        );
        let call = host.grpc_calls().pop().expect("a gRPC call");
        assert_eq!(
            (
                call.cluster.as_str(),
                call.service.as_str(),
                call.method.as_str()
            ),
            ("authz", "authz.v1.Authorizer", "Check")
        );
        assert_eq!(call.messages, [b"/admin".to_vec()]);
        assert_eq!(call.timeout_ms, 1000);
        (stream, call.token)
    }

    fn decide(plugin: &Plugin, reply: Option<&[u8]>, status: u32) -> (u32, Option<u32>) {
        let host = Emulator::builder().load(plugin);
        let (stream, token) = paused(&host);
        host.grpc_initial_metadata(token, &[("x-authz", "v1")]);
        if let Some(reply) = reply {
            host.grpc_message(token, reply);
        }
        host.grpc_close(token, status);
        let view = host.http_stream(stream);
        (view.request_resumed, view.local_response.map(|r| r.status))
    }

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn allow_resumes_the_request(plugin) {
            assert_eq!(decide(plugin, Some(b"allow"), 0), (1, None));
        }

        fn deny_or_a_failure_answers_403(plugin) {
            assert_eq!(decide(plugin, Some(b"deny"), 0), (0, Some(403)));
            assert_eq!(decide(plugin, None, 0), (0, Some(403)), "no reply message");
            assert_eq!(decide(plugin, Some(b"allow"), 14), (0, Some(403)), "UNAVAILABLE");
        }

        fn a_timed_out_call_answers_403_with_a_warning(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused(&host);
            host.time_out_grpc_call(token);
            assert_eq!(host.local_response(stream).map(|r| r.status), Some(403));
            assert_eq!(
                host.logs(LogLevel::Warn),
                ["async_grpc_auth: authz failed with gRPC status 4; denying"]
            );
        }

        fn a_stream_reset_while_the_call_is_pending_cancels_it(plugin) {
            let host = Emulator::builder().load(plugin);
            let (stream, token) = paused(&host);
            host.complete_stream(stream);
            let call = host.grpc_calls().pop().unwrap();
            assert!(call.cancelled, "dropping the task cancels its call");
            // A close that raced the cancel reaches nobody.
            host.grpc_close(token, 0);
            let view = host.http_stream(stream);
            assert_eq!((view.request_resumed, view.local_response), (0, None));
            assert_eq!(host.registry_size(), (1, 0));
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
