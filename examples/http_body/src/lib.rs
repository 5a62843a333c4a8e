//! HTTP body: buffers a request body that arrives in several chunks until the end of the stream, rewrites
//! it (every occurrence of the configured word becomes `[redacted]`), and fixes `content-length` to match.
//! The word comes from the plugin configuration (default `secret`).

use proxywasm::{http, Action, Context, HttpContext, RootContext};
use std::rc::Rc;

/// What replaces each occurrence of the word.
pub const REPLACEMENT: &str = "[redacted]";

/// The root context.
pub struct Root {
    word: Rc<String>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        let config = proxywasm::config::plugin_configuration()
            .ok()
            .flatten()
            .unwrap_or_default();
        let word = String::from_utf8_lossy(&config).trim().to_string();
        self.word = Rc::new(if word.is_empty() {
            "secret".to_string()
        } else {
            word
        });
        true
    }

    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Redact {
            word: self.word.clone(),
        }))
    }
}

/// One HTTP stream.
pub struct Redact {
    word: Rc<String>,
}

impl Context for Redact {}

impl HttpContext for Redact {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            // The body will change size: the proxy must not forward the old length.
            let _ = http::remove_request_header("content-length");
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
            Err(e) => {
                proxywasm::logging::error(&format!("http_body: cannot read the body: {e}"));
                return Action::Continue;
            }
        };
        let rewritten = String::from_utf8_lossy(&body).replace(self.word.as_str(), REPLACEMENT);
        if let Err(e) = http::replace_request_body(rewritten.as_bytes()) {
            proxywasm::logging::error(&format!("http_body: cannot replace the body: {e}"));
        }
        Action::Continue
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root {
        word: Rc::new(String::new()),
    })
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::emulator::Emulator;

    proxywasm::emulator_tests! {
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
    }
}
