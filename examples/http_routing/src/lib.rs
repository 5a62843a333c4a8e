//! HTTP routing: requests carrying `x-canary: true` are sent to the canary service: `:authority` becomes
//! `canary.internal` and `:path` gets the `/canary` prefix. Other requests pass untouched.
//!
//! Envoy's Wasm filter clears the route cache itself whenever a plugin changes the request headers, so the
//! router matches the rewritten request; the plugin does not call `clear_route_cache`. A request whose
//! headers cannot be read or rewritten is answered with a local 500 and an error log line, never routed
//! half-rewritten.

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

fn fail_closed(why: String) -> Action {
    proxywasm::logging::error(&format!("http_routing: {why}; answering 500"));
    if let Err(e) = http::send_http_response(500, &[], b"cannot route the request\n") {
        proxywasm::logging::error(&format!("http_routing: cannot answer 500: {e}"));
    }
    Action::Pause
}

impl HttpContext for Route {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        match http::request_header("x-canary") {
            Ok(Some(value)) if value == "true" => {}
            Ok(_) => return Action::Continue,
            Err(e) => return fail_closed(format!("cannot read x-canary: {e}")),
        }
        let path = match http::request_header(":path") {
            Ok(Some(path)) => path,
            Ok(None) => return fail_closed("a canary request without :path".to_string()),
            Err(e) => return fail_closed(format!("cannot read :path: {e}")),
        };
        if let Err(e) = http::replace_request_header(":authority", CANARY_AUTHORITY) {
            return fail_closed(format!("cannot rewrite :authority: {e}"));
        }
        if let Err(e) = http::replace_request_header(":path", &format!("/canary{path}")) {
            return fail_closed(format!("cannot rewrite :path: {e}"));
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
    use proxywasm::abi::{MapType, Status};
    use proxywasm::LogLevel;
    use proxywasm_emulator::{Emulator, HttpStreamView};

    fn route(plugin: &proxywasm_emulator::Plugin, headers: &[(&str, &str)]) -> HttpStreamView {
        let host = Emulator::builder().load(plugin);
        let stream = host.new_http_stream();
        assert_eq!(
            host.request_headers(stream, headers, true),
            Action::Continue
        );
        host.http_stream(stream)
    }

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn canary_requests_are_rerouted_and_envoy_recomputes_the_route(plugin) {
            let stream = route(plugin, &[
                (":authority", "shop.example"),
                (":path", "/cart?id=1"),
                ("x-canary", "true"),
            ]);
            // Envoy's Wasm context clears the route cache on each request-header change.
            assert!(stream.route_cache_cleared > 0);
            let headers = stream.request_headers;
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
            let stream = route(plugin, &original);
            assert_eq!(stream.request_headers, expected);
            assert_eq!(stream.route_cache_cleared, 0);
        }

        fn unreadable_headers_fail_closed_with_a_log_line(plugin) {
            let host = Emulator::builder().load(plugin);
            let stream = host.new_http_stream();
            host.make_map_unreadable(MapType::HttpRequestHeaders, Status::InternalFailure);
            let action = host.request_headers(stream, &[(":path", "/"), ("x-canary", "true")], true);
            assert_eq!(action, Action::Pause);
            assert_eq!(host.local_response(stream).map(|r| r.status), Some(500));
            assert_eq!(host.logs(LogLevel::Error).len(), 1);
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
