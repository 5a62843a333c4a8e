//! HTTP routing: requests carrying `x-canary: true` are sent to the canary service: `:authority` becomes
//! `canary.internal` and `:path` gets the `/canary` prefix. Other requests pass untouched.

use proxywasm::{http, Action, Context, HttpContext, RootContext};

/// The authority canary requests are sent to.
pub const CANARY_AUTHORITY: &str = "canary.internal";

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Route))
    }
}

/// One HTTP stream.
pub struct Route;

impl Context for Route {}

impl HttpContext for Route {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if http::request_header("x-canary").ok().flatten().as_deref() != Some("true") {
            return Action::Continue;
        }
        let path = http::request_header(":path")
            .ok()
            .flatten()
            .unwrap_or_else(|| "/".to_string());
        let rewritten = [
            http::replace_request_header(":authority", CANARY_AUTHORITY),
            http::replace_request_header(":path", &format!("/canary{path}")),
        ];
        for result in rewritten {
            if let Err(e) = result {
                proxywasm::logging::error(&format!("http_routing: cannot rewrite: {e}"));
            }
        }
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
    use proxywasm::emulator::Emulator;

    fn route(
        plugin: &proxywasm::emulator::Plugin,
        headers: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let host = Emulator::builder().load(plugin);
        let stream = host.new_http_stream();
        assert_eq!(
            host.request_headers(stream, headers, true),
            Action::Continue
        );
        host.http_stream(stream).request_headers
    }

    proxywasm::emulator_tests! {
        plugin: new_root;

        fn canary_requests_are_rerouted(plugin) {
            let headers = route(plugin, &[
                (":authority", "shop.example"),
                (":path", "/cart?id=1"),
                ("x-canary", "true"),
            ]);
            assert_eq!(
                headers[0],
                (":authority".to_string(), CANARY_AUTHORITY.to_string())
            );
            assert_eq!(
                headers[1],
                (":path".to_string(), "/canary/cart?id=1".to_string())
            );
        }

        fn other_requests_are_untouched(plugin) {
            let original = [
                (":authority", "shop.example"),
                (":path", "/cart"),
                ("x-canary", "false"),
            ];
            let expected: Vec<_> = original
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(route(plugin, &original), expected);
        }
    }
}
