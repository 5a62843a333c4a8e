//! Dispatching HTTP calls on tick: every 10 seconds the root context calls the `status` cluster and logs the
//! response status and body size (or the failure).

use proxywasm::http_call::{self, HttpRequest};
use proxywasm::{Context, RootContext};
use std::time::Duration;

/// How often the plugin calls.
pub const PERIOD: Duration = Duration::from_secs(10);

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        match proxywasm::timers::set_tick_period(PERIOD) {
            Ok(()) => true,
            Err(e) => {
                proxywasm::logging::error(&format!("tick_http_call: cannot set the tick: {e}"));
                false
            }
        }
    }

    fn on_tick(&mut self) {
        let request = HttpRequest {
            cluster: "status",
            headers: &[
                (":method", "GET"),
                (":path", "/health"),
                (":authority", "status"),
            ],
            body: None,
            trailers: &[],
            timeout: Duration::from_secs(2),
        };
        let dispatched = http_call::dispatch_http_call(&request, |num_headers, body_size, _| {
            if num_headers == 0 {
                proxywasm::logging::warn("tick_http_call: the status call failed");
                return;
            }
            match http_call::response_header(":status") {
                Ok(Some(status)) => {
                    proxywasm::infof!("tick_http_call: status {status}, {body_size} body bytes")
                }
                Ok(None) => proxywasm::logging::warn(&format!(
                    "tick_http_call: an answer without :status, {body_size} body bytes"
                )),
                Err(e) => proxywasm::logging::warn(&format!(
                    "tick_http_call: cannot read the answer's :status: {e}"
                )),
            }
        });
        if let Err(e) = dispatched {
            proxywasm::logging::error(&format!("tick_http_call: cannot dispatch: {e}"));
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
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn calls_on_every_tick_and_logs_answers_and_failures(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            assert_eq!(host.tick_period(), Some(PERIOD));
            host.tick();
            host.tick();
            let calls = host.http_calls();
            assert_eq!(calls.len(), 2);
            assert_eq!(calls[0].cluster, "status");
            assert_eq!(calls[0].timeout_ms, 2000);
            host.answer_http_call(calls[0].token, &[(":status", "200")], b"ok", &[]);
            host.fail_http_call(calls[1].token);
            assert_eq!(
                host.logs(LogLevel::Info),
                ["tick_http_call: status 200, 2 body bytes"]
            );
            assert_eq!(
                host.logs(LogLevel::Warn),
                ["tick_http_call: the status call failed"]
            );
            assert_eq!(host.registry_size(), (1, 0), "no call left pending");
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
