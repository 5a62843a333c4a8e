//! Shared queue: the plugin configured as `receiver` registers the queue `paths` and logs every item when
//! the host says the queue is ready; the plugin configured as `sender` (or with no configuration) enqueues
//! each request's path. Both run in one VM, so they find the queue by name. Any other configuration, or one
//! that cannot be read, fails the start with the reason in the error log.

use proxywasm::{http, queue, Action, Context, HttpContext, RootContext};

/// The queue's name.
pub const QUEUE: &str = "paths";

/// The root context, in the role its configuration gives it.
pub struct Root {
    receiver: bool,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        let config = match proxywasm::config::plugin_configuration() {
            Ok(config) => config.unwrap_or_default(),
            Err(e) => {
                proxywasm::logging::error(&format!(
                    "shared_queue: cannot read the configuration: {e}"
                ));
                return false;
            }
        };
        self.receiver = match config.trim_ascii() {
            b"receiver" => true,
            b"sender" | b"" => false,
            other => {
                proxywasm::logging::error(&format!(
                    "shared_queue: bad configuration `{}`: expected `receiver` or `sender`",
                    String::from_utf8_lossy(other)
                ));
                return false;
            }
        };
        if self.receiver {
            if let Err(e) = queue::register(QUEUE) {
                proxywasm::logging::error(&format!("shared_queue: cannot register {QUEUE}: {e}"));
                return false;
            }
        }
        true
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        loop {
            match queue::dequeue(queue_id) {
                Ok(item) => {
                    proxywasm::infof!("shared_queue: received {}", String::from_utf8_lossy(&item))
                }
                Err(proxywasm::Error::Empty) => break,
                Err(e) => {
                    proxywasm::logging::error(&format!("shared_queue: dequeue failed: {e}"));
                    break;
                }
            }
        }
    }

    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        (!self.receiver).then(|| Box::new(Sender) as Box<dyn HttpContext>)
    }
}

/// One HTTP stream of the sender.
pub struct Sender;

impl Context for Sender {}

impl HttpContext for Sender {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let path = match http::request_header(":path") {
            Ok(Some(path)) => path,
            Ok(None) => return Action::Continue,
            Err(e) => {
                proxywasm::logging::warn(&format!("shared_queue: cannot read :path: {e}"));
                return Action::Continue;
            }
        };
        match queue::resolve("", QUEUE) {
            Ok(id) => {
                if let Err(e) = queue::enqueue(id, path.as_bytes()) {
                    proxywasm::logging::warn(&format!("shared_queue: enqueue failed: {e}"));
                }
            }
            Err(e) => proxywasm::logging::warn(&format!("shared_queue: no queue {QUEUE}: {e}")),
        }
        Action::Continue
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root { receiver: false })
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::LogLevel;
    use proxywasm_emulator::envoy_yaml::EnvoyFilter;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn its_envoy_yaml_runs_a_receiver_service_and_a_sender_filter(plugin) {
            let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/envoy.yaml"))
                .unwrap();
            let service = EnvoyFilter::parse_service(&text).unwrap();
            let filter = EnvoyFilter::parse(&text).unwrap();
            assert_eq!(service.vm_id, filter.vm_id, "one VM, so the queue is shared");
            let host = service.builder().load(plugin);
            assert!(host.start_plugin());
            let (sender, accepted) = host.add_plugin(filter.plugin_configuration.clone());
            assert!(accepted);
            let stream = host.new_http_stream_in(sender);
            host.request_headers(stream, &[(":path", "/from-envoy-yaml")], true);
            assert_eq!(host.logs(LogLevel::Info), ["shared_queue: received /from-envoy-yaml"]);
            assert!(host.logs(LogLevel::Error).is_empty());
        }

        fn an_unknown_role_fails_the_start(plugin) {
            let host = Emulator::builder().plugin_configuration("listener").load(plugin);
            assert!(!host.start_plugin());
            assert_eq!(host.logs(LogLevel::Error).len(), 1);
        }

        fn the_sender_enqueues_and_the_receiver_drains_on_queue_ready(plugin) {
            let host = Emulator::builder()
                .plugin_configuration("receiver")
                .load(plugin);
            assert!(host.start_plugin());
            let (sender, accepted) = host.add_plugin("sender");
            assert!(accepted);
            for path in ["/a", "/b"] {
                let stream = host.new_http_stream_in(sender);
                host.request_headers(stream, &[(":path", path)], true);
            }
            assert_eq!(
                host.logs(LogLevel::Info),
                ["shared_queue: received /a", "shared_queue: received /b"]
            );
            assert!(host.queue_items(QUEUE).is_empty());
        }

        fn without_a_receiver_the_sender_warns(plugin) {
            let host = Emulator::builder()
                .plugin_configuration("sender")
                .load(plugin);
            assert!(host.start_plugin());
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/x")], true);
            assert_eq!(
                host.logs(LogLevel::Warn),
                ["shared_queue: no queue paths: not found"]
            );
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
