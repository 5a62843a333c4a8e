//! HTTP body: buffers a request body that arrives in several chunks until the end of the stream, rewrites
//! it (every occurrence of the configured word becomes `[redacted]`), and fixes `content-length` to match.
//! The word comes from the plugin configuration (default `secret` when there is none).
//!
//! It fails closed: a configuration it cannot read fails the start, and a body it cannot read or rewrite is
//! answered with a local 500 instead of being forwarded unredacted; every failure is logged.

use proxywasm::{http, Action, Context, HttpContext, RootContext};
use std::rc::Rc;

/// What replaces each occurrence of the word.
pub const REPLACEMENT: &str = "[redacted]";
/// The word redacted when the configuration gives none.
pub const DEFAULT_WORD: &str = "secret";

/// Replaces every occurrence of `word` (not empty) in `body` with [`REPLACEMENT`], byte for byte: a body
/// that is not UTF-8 keeps its other bytes unchanged.
pub fn redact(body: &[u8], word: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while !word.is_empty() && rest.len() >= word.len() {
        if rest.starts_with(word) {
            out.extend_from_slice(REPLACEMENT.as_bytes());
            rest = &rest[word.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out.extend_from_slice(rest);
    out
}

/// The root context.
pub struct Root {
    word: Option<Rc<String>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        let config = match proxywasm::config::plugin_configuration() {
            Ok(config) => config.unwrap_or_default(),
            Err(e) => {
                proxywasm::logging::error(&format!(
                    "http_body: cannot read the configuration: {e}"
                ));
                return false;
            }
        };
        let Ok(word) = String::from_utf8(config) else {
            proxywasm::logging::error("http_body: bad configuration: the word is not UTF-8 text");
            return false;
        };
        let word = word.trim();
        self.word = Some(Rc::new(if word.is_empty() {
            DEFAULT_WORD.to_string()
        } else {
            word.to_string()
        }));
        true
    }

    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        // Before a successful start there is no word: no stream context, so the proxy does not run the
        // filter on a stream it could not redact.
        let word = self.word.clone()?;
        Some(Box::new(Redact { word }))
    }
}

/// One HTTP stream.
pub struct Redact {
    word: Rc<String>,
}

impl Context for Redact {}

fn fail_closed(why: String) -> Action {
    proxywasm::logging::error(&format!("http_body: {why}; answering 500"));
    if let Err(e) = http::send_http_response(500, &[], b"request body could not be processed\n") {
        proxywasm::logging::error(&format!("http_body: cannot answer 500: {e}"));
    }
    Action::Pause
}

impl HttpContext for Redact {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            // The body will change size: the proxy must not forward the old length.
            if let Err(e) = http::remove_request_header("content-length") {
                return fail_closed(format!("cannot remove content-length: {e}"));
            }
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            // Keep buffering: the proxy holds the chunks until the last one.
            return Action::Pause;
        }
        let body = match http::request_body(0, body_size) {
            Ok(body) => body,
            Err(e) => return fail_closed(format!("cannot read the body: {e}")),
        };
        let rewritten = redact(&body, self.word.as_bytes());
        if rewritten != body {
            if let Err(e) = http::replace_request_body(&rewritten) {
                return fail_closed(format!("cannot replace the body: {e}"));
            }
        }
        Action::Continue
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root { word: None })
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::abi::{BufferType, Status};
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn buffers_chunks_until_end_of_stream_then_rewrites_the_body(plugin) {
            let host = Emulator::builder()
                .plugin_configuration("password")
                .load(plugin);
            assert!(host.start_plugin());
            let stream = host.new_http_stream();
            host.request_headers(
                stream,
                &[(":path", "/login"), ("content-length", "33")],
                false,
            );
            assert!(host
                .http_stream(stream)
                .request_headers
                .iter()
                .all(|(k, _)| k != "content-length"));
            assert_eq!(
                host.request_body(stream, b"user=bob&pass", false),
                Action::Pause
            );
            assert_eq!(
                host.request_body(stream, b"word=password", false),
                Action::Pause
            );
            assert_eq!(host.request_body(stream, b"123", true), Action::Continue);
            assert_eq!(
                host.http_stream(stream).request_body,
                b"user=bob&[redacted]=[redacted]123",
                "a word split across chunks is still found"
            );
        }

        fn the_default_word_is_secret(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/")], false);
            host.request_body(stream, b"a secret", true);
            assert_eq!(host.http_stream(stream).request_body, b"a [redacted]");
        }

        fn an_unreadable_configuration_fails_the_start(plugin) {
            let host = Emulator::builder().plugin_configuration("password").load(plugin);
            host.make_buffer_unreadable(BufferType::PluginConfiguration, Status::InternalFailure);
            assert!(!host.start_plugin());
            assert_eq!(host.logs(LogLevel::Error).len(), 1);
        }

        fn an_unreadable_body_is_answered_with_500_not_forwarded(plugin) {
            let host = Emulator::builder().plugin_configuration("password").load(plugin);
            assert!(host.start_plugin());
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/")], false);
            host.make_buffer_unreadable(BufferType::HttpRequestBody, Status::InternalFailure);
            assert_eq!(host.request_body(stream, b"my password", true), Action::Pause);
            assert_eq!(host.local_response(stream).map(|r| r.status), Some(500));
            assert_eq!(host.logs(LogLevel::Error).len(), 1);
        }

        fn a_root_created_again_keeps_its_configured_word(plugin) {
            let host = Emulator::builder().plugin_configuration("password").load(plugin);
            assert!(host.start_plugin());
            // A faulty host creates the root context again, without configuring it.
            host.repeat_context_create(host.root_id(), 0);
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/")], false);
            host.request_body(stream, b"my password", true);
            assert_eq!(host.http_stream(stream).request_body, b"my [redacted]");
        }

        fn a_host_that_overstates_body_lengths_leaks_no_guest_memory(plugin) {
            let host = Emulator::builder().plugin_configuration("password").load(plugin);
            assert!(host.start_plugin());
            // Every buffer the host hands over claims 64 KiB more than it allocated (wasm mode only).
            host.overstate_buffer_lengths(64 * 1024);
            let body = vec![b'a'; 60 * 1024];
            let growth = host.guest_memory_over(20, 400, |host| {
                let stream = host.new_http_stream();
                host.request_headers(stream, &[(":path", "/")], false);
                // The SDK refuses the buffer, so the plugin fails closed.
                assert_eq!(host.request_body(stream, &body, true), Action::Pause);
                host.complete_stream(stream);
                host.forget_stream(stream);
            });
            if let Some(growth) = growth {
                assert_eq!(growth.after, growth.after_warm_up, "refused buffers must be freed");
            }
        }

        fn bytes_that_are_not_utf8_pass_unchanged(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/")], false);
            host.request_body(stream, b"\xff secret \xfe", true);
            assert_eq!(host.http_stream(stream).request_body, b"\xff [redacted] \xfe");
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);

    #[test]
    fn redacts_every_occurrence_and_never_an_empty_word() {
        assert_eq!(redact(b"aXbXX", b"X"), b"a[redacted]b[redacted][redacted]");
        assert_eq!(redact(b"abc", b""), b"abc");
        assert_eq!(redact(b"ab", b"abc"), b"ab");
    }
}
