//! JSON body validation: buffers the request body of `application/json` requests and answers 400 when it is
//! not a JSON object or lacks one of the required keys (`id` and `type`). A request whose `content-type` or
//! body cannot be read is answered with a local 500 and an error log line, never passed unchecked.

use proxywasm::{http, Action, Context, HttpContext, RootContext};

/// Keys every JSON body must have.
pub const REQUIRED: [&str; 2] = ["id", "type"];

/// Checks a body; the error says what is wrong.
pub fn validate(body: &[u8]) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let object = value.as_object().ok_or("the body must be a JSON object")?;
    match REQUIRED.iter().find(|k| !object.contains_key(**k)) {
        Some(missing) => Err(format!("missing key `{missing}`")),
        None => Ok(()),
    }
}

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Validate { json: false }))
    }
}

/// One HTTP stream.
pub struct Validate {
    json: bool,
}

impl Context for Validate {}

fn reply(status: u32, body: &[u8]) {
    if let Err(e) = http::send_http_response(status, &[("content-type", "text/plain")], body) {
        proxywasm::logging::error(&format!("json_validation: cannot answer {status}: {e}"));
    }
}

fn fail_closed(why: &str) -> Action {
    proxywasm::logging::error(&format!("json_validation: {why}; answering 500"));
    reply(500, b"request could not be validated\n");
    Action::Pause
}

impl HttpContext for Validate {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let content_type = match http::request_header("content-type") {
            Ok(value) => value.unwrap_or_default(),
            Err(e) => return fail_closed(&format!("cannot read content-type: {e}")),
        };
        self.json = content_type.starts_with("application/json");
        if self.json && end_of_stream {
            reply(400, b"missing JSON body\n");
            return Action::Pause;
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !self.json {
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let body = match http::request_body(0, body_size) {
            Ok(body) => body,
            Err(e) => return fail_closed(&format!("cannot read the body: {e}")),
        };
        match validate(&body) {
            Ok(()) => Action::Continue,
            Err(reason) => {
                reply(400, format!("{reason}\n").as_bytes());
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

    fn send(plugin: &proxywasm_emulator::Plugin, body_chunks: &[&[u8]]) -> Option<(u32, Vec<u8>)> {
        let host = Emulator::builder().load(plugin);
        let stream = host.new_http_stream();
        host.request_headers(
            stream,
            &[(":path", "/items"), ("content-type", "application/json")],
            false,
        );
        for (i, chunk) in body_chunks.iter().enumerate() {
            host.request_body(stream, chunk, i + 1 == body_chunks.len());
        }
        host.local_response(stream).map(|r| (r.status, r.body))
    }

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn a_valid_body_in_chunks_passes(plugin) {
            assert_eq!(send(plugin, &[b"{\"id\": 1, ", b"\"type\": \"book\"}"]), None);
        }

        fn invalid_bodies_get_400_with_the_reason(plugin) {
            assert_eq!(
                send(plugin, &[b"{\"id\": 1}"]),
                Some((400, b"missing key `type`\n".to_vec()))
            );
            assert_eq!(
                send(plugin, &[b"[1, 2]"]),
                Some((400, b"the body must be a JSON object\n".to_vec()))
            );
            let (status, body) = send(plugin, &[b"{oops"]).expect("rejected");
            assert_eq!(status, 400);
            assert!(
                body.starts_with(b"invalid JSON: key must be a string"),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }

        fn other_content_types_are_not_inspected(plugin) {
            let host = Emulator::builder().load(plugin);
            let stream = host.new_http_stream();
            host.request_headers(
                stream,
                &[(":path", "/"), ("content-type", "text/plain")],
                false,
            );
            assert_eq!(
                host.request_body(stream, b"not json", true),
                Action::Continue
            );
            assert_eq!(host.local_response(stream), None);
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
