//! gRPC auth: pauses each request and sends the request's path to the `authz` cluster's
//! `authz.v1.Authorizer/Check` method over gRPC (the message is the raw path bytes). A reply whose message is
//! `allow` with gRPC status 0 resumes the request; anything else, or a failed call, answers 403.

use proxywasm::grpc::{self, GrpcTarget};
use proxywasm::{http, Action, Context, HttpContext, RootContext};
use std::time::Duration;

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Authorize { allowed: false }))
    }
}

/// One HTTP stream; `allowed` is what the reply message said.
pub struct Authorize {
    allowed: bool,
}

impl Context for Authorize {
    fn on_grpc_receive(&mut self, _token: u32, _message_size: usize) {
        self.allowed = match grpc::received_message() {
            Ok(message) => message == b"allow",
            Err(e) => {
                proxywasm::logging::error(&format!(
                    "grpc_auth: cannot read the reply: {e}; denying"
                ));
                false
            }
        };
    }

    fn on_grpc_close(&mut self, _token: u32, status_code: u32) {
        if status_code != 0 {
            proxywasm::logging::warn(&format!(
                "grpc_auth: authz failed with gRPC status {status_code}; denying"
            ));
        }
        if status_code == 0 && self.allowed {
            if let Err(e) = http::resume_http_request() {
                proxywasm::logging::error(&format!("grpc_auth: cannot resume the request: {e}"));
            }
        } else {
            forbid();
        }
    }
}

/// Answers the request with the local 403.
fn forbid() {
    if let Err(e) = http::send_http_response(403, &[], b"forbidden\n") {
        proxywasm::logging::error(&format!("grpc_auth: cannot answer 403: {e}"));
    }
}

impl HttpContext for Authorize {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let path = match http::request_header(":path") {
            Ok(Some(path)) => path,
            Ok(None) => {
                proxywasm::logging::error("grpc_auth: the request has no :path; denying");
                forbid();
                return Action::Pause;
            }
            Err(e) => {
                proxywasm::logging::error(&format!("grpc_auth: cannot read :path: {e}; denying"));
                forbid();
                return Action::Pause;
            }
        };
        let target = GrpcTarget {
            cluster: "authz",
            service: "authz.v1.Authorizer",
            method: "Check",
            initial_metadata: &[],
        };
        match grpc::call(&target, path.as_bytes(), Duration::from_secs(1)) {
            Ok(_) => Action::Pause,
            Err(e) => {
                proxywasm::logging::error(&format!("grpc_auth: cannot call authz: {e}; denying"));
                forbid();
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
    use proxywasm_emulator::Emulator;

    fn decide(
        plugin: &proxywasm_emulator::Plugin,
        reply: Option<&[u8]>,
        status: u32,
    ) -> (u32, Option<u32>) {
        let host = Emulator::builder().load(plugin);
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
        if let Some(reply) = reply {
            host.grpc_message(call.token, reply);
        }
        host.grpc_close(call.token, status);
        let view = host.http_stream(stream);
        (view.request_resumed, view.local_response.map(|r| r.status))
    }

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn allow_resumes_the_request(plugin) {
            assert_eq!(decide(plugin, Some(b"allow"), 0), (1, None));
        }

        fn deny_or_failure_answers_403(plugin) {
            assert_eq!(decide(plugin, Some(b"deny"), 0), (0, Some(403)));
            assert_eq!(decide(plugin, Some(b"allow"), 14), (0, Some(403)), "UNAVAILABLE");
            assert_eq!(
                decide(plugin, None, 4),
                (0, Some(403)),
                "DEADLINE_EXCEEDED without a reply"
            );
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
