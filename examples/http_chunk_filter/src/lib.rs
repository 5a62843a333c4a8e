//! HTTP body chunk by chunk: inspects each chunk of the request body as it arrives (without buffering the
//! whole body) and rejects the request with a local 403 as soon as the forbidden pattern appears, even when
//! it straddles two chunks. A chunk it cannot read is not forwarded uninspected: the request gets a local
//! 500 and the error log says why.

use proxywasm::{http, Action, Context, HttpContext, RootContext};

/// The pattern that gets a request rejected.
pub const PATTERN: &[u8] = b"DROP TABLE";

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Inspect { tail: Vec::new() }))
    }
}

/// One HTTP stream: the last bytes of the previous chunk.
pub struct Inspect {
    tail: Vec<u8>,
}

impl Context for Inspect {}

fn reply(status: u32, body: &[u8]) {
    if let Err(e) = http::send_http_response(status, &[("content-type", "text/plain")], body) {
        proxywasm::logging::error(&format!("http_chunk_filter: cannot answer {status}: {e}"));
    }
}

impl HttpContext for Inspect {
    fn on_http_request_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
        // Each callback continues, so the proxy holds only the new chunk.
        let chunk = match http::request_body(0, body_size) {
            Ok(chunk) => chunk,
            Err(e) => {
                proxywasm::logging::error(&format!(
                    "http_chunk_filter: cannot read a body chunk: {e}; answering 500"
                ));
                reply(500, b"request body could not be inspected\n");
                return Action::Pause;
            }
        };
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(&chunk);
        if window.windows(PATTERN.len()).any(|w| w == PATTERN) {
            reply(403, b"forbidden content\n");
            return Action::Pause;
        }
        let keep = window.len().min(PATTERN.len() - 1);
        self.tail = window[window.len() - keep..].to_vec();
        Action::Continue
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

        fn clean_bodies_pass_chunk_by_chunk(plugin) {
            let host = Emulator::builder().load(plugin);
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/q")], false);
            assert_eq!(
                host.request_body(stream, b"SELECT * ", false),
                Action::Continue
            );
            assert_eq!(host.request_body(stream, b"FROM t", true), Action::Continue);
            assert_eq!(host.local_response(stream), None);
            assert_eq!(
                host.http_stream(stream).request_body_forwarded,
                b"SELECT * FROM t"
            );
        }

        fn a_pattern_split_across_chunks_is_rejected_with_403(plugin) {
            let host = Emulator::builder().load(plugin);
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/q")], false);
            assert_eq!(
                host.request_body(stream, b"1; DROP T", false),
                Action::Continue
            );
            assert_eq!(
                host.request_body(stream, b"ABLE users", true),
                Action::Pause
            );
            let response = host.local_response(stream).expect("rejected");
            assert_eq!(
                (response.status, response.body.as_slice()),
                (403, b"forbidden content\n".as_slice())
            );
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
