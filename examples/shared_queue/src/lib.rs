//! Shared queue: the plugin configured as `receiver` registers the queue `paths` and logs every item when
//! the host says the queue is ready; the plugin configured as `sender` (any other configuration) enqueues
//! each request's path. Both run in one VM, so they find the queue by name.

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
        let config = proxywasm::config::plugin_configuration()
            .ok()
            .flatten()
            .unwrap_or_default();
        self.receiver = config == b"receiver";
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
        let path = http::request_header(":path")
            .ok()
            .flatten()
            .unwrap_or_default();
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
    use proxywasm::emulator::Emulator;
    use proxywasm::LogLevel;

    proxywasm::emulator_tests! {
        plugin: new_root;

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
}
