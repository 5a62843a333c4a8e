//! An async shared-queue consumer. The plugin configured as `receiver` registers the queue `jobs` and runs
//! one task for its whole life: await the next item (`task::dequeue`), POST it to the `sink` cluster
//! (`task::http_call`), and on a failure wait a tick (`task::sleep`) and try once more before dropping it
//! with an error log. Items are delivered one at a time, in order. The plugin configured as `sender` (or
//! with no configuration) enqueues each request's path.

use proxywasm::http_call::HttpRequest;
use proxywasm::{http, queue, task, Action, Context, HttpContext, RootContext};
use std::time::Duration;

/// The queue's name.
pub const QUEUE: &str = "jobs";
/// Where items go.
pub const SINK: &str = "sink";
/// How long one delivery may take.
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// How long to wait before the second attempt (and the receiver's tick period).
pub const RETRY_DELAY: Duration = Duration::from_secs(1);
/// Attempts per item.
pub const ATTEMPTS: u32 = 2;

/// The root context, in the role its configuration gives it.
pub struct Root {
    receiver: bool,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        let config = match proxywasm::config::plugin_configuration() {
            Ok(config) => config.unwrap_or_default(),
            Err(e) => return fail(&format!("cannot read the configuration: {e}")),
        };
        self.receiver = match config.trim_ascii() {
            b"receiver" => true,
            b"sender" | b"" => false,
            other => {
                return fail(&format!(
                    "bad configuration `{}`: expected `receiver` or `sender`",
                    String::from_utf8_lossy(other)
                ))
            }
        };
        if !self.receiver {
            return true;
        }
        let queue_id = match queue::register(QUEUE) {
            Ok(id) => id,
            Err(e) => return fail(&format!("cannot register {QUEUE}: {e}")),
        };
        if let Err(e) = proxywasm::timers::set_tick_period(RETRY_DELAY) {
            return fail(&format!("cannot set the tick period: {e}"));
        }
        match task::spawn(consume(queue_id)) {
            Ok(()) => true,
            Err(e) => fail(&format!("cannot start the consumer: {e}")),
        }
    }

    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        (!self.receiver).then(|| Box::new(Sender) as Box<dyn HttpContext>)
    }
}

fn fail(why: &str) -> bool {
    proxywasm::logging::error(&format!("async_queue_consumer: {why}"));
    false
}

/// The receiver's task: every item, in order, one at a time.
async fn consume(queue_id: u32) {
    loop {
        match task::dequeue(queue_id).await {
            Ok(item) => deliver(&item).await,
            Err(e) => {
                proxywasm::logging::error(&format!("async_queue_consumer: dequeue failed: {e}"));
                return;
            }
        }
    }
}

async fn deliver(item: &[u8]) {
    let shown = String::from_utf8_lossy(item);
    for attempt in 1..=ATTEMPTS {
        let request = HttpRequest {
            cluster: SINK,
            headers: &[
                (":method", "POST"),
                (":path", "/items"),
                (":authority", SINK),
            ],
            body: Some(item),
            trailers: &[],
            timeout: TIMEOUT,
        };
        match task::http_call(&request).await {
            Ok(response) if response.status() == Ok(Some(200)) => {
                proxywasm::infof!("async_queue_consumer: delivered {shown}");
                return;
            }
            Ok(response) => match response.status() {
                Ok(status) => proxywasm::logging::warn(&format!(
                    "async_queue_consumer: {shown}: the sink answered {status:?}"
                )),
                Err(e) => proxywasm::logging::warn(&format!(
                    "async_queue_consumer: {shown}: cannot read the sink's answer: {e}"
                )),
            },
            Err(e) => proxywasm::logging::warn(&format!("async_queue_consumer: {shown}: {e}")),
        }
        if attempt < ATTEMPTS {
            if let Err(e) = task::sleep(RETRY_DELAY).await {
                proxywasm::logging::error(&format!("async_queue_consumer: cannot wait: {e}"));
                break;
            }
        }
    }
    proxywasm::logging::error(&format!(
        "async_queue_consumer: dropped {shown} after {ATTEMPTS} attempts"
    ));
}

/// One HTTP stream of the sender: enqueues the request's path.
pub struct Sender;

impl Context for Sender {}

impl HttpContext for Sender {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let path = match http::request_header(":path") {
            Ok(Some(path)) => path,
            Ok(None) => return Action::Continue,
            Err(e) => {
                proxywasm::logging::warn(&format!("async_queue_consumer: cannot read :path: {e}"));
                return Action::Continue;
            }
        };
        let enqueued = queue::resolve("", QUEUE).and_then(|id| queue::enqueue(id, path.as_bytes()));
        if let Err(e) = enqueued {
            proxywasm::logging::warn(&format!("async_queue_consumer: cannot enqueue: {e}"));
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
    use proxywasm_emulator::{Emulator, Plugin};

    /// A receiver (the first plugin) and a sender in one VM; returns the host and the sender's id.
    fn pair(plugin: &Plugin) -> (Emulator, u32) {
        let host = Emulator::builder()
            .plugin_configuration("receiver")
            .load(plugin);
        assert!(host.start_plugin());
        assert_eq!(host.tick_period(), Some(RETRY_DELAY));
        let (sender, accepted) = host.add_plugin("sender");
        assert!(accepted);
        (host, sender)
    }

    fn send(host: &Emulator, sender: u32, path: &str) {
        let stream = host.new_http_stream_in(sender);
        assert_eq!(
            host.request_headers(stream, &[(":path", path)], true),
            Action::Continue
        );
        host.complete_stream(stream);
    }

    /// The bodies of the calls made so far, and the token of the last.
    fn calls(host: &Emulator) -> (Vec<String>, u32) {
        let calls = host.http_calls();
        let bodies = calls
            .iter()
            .map(|c| String::from_utf8_lossy(&c.body).into_owned())
            .collect();
        (bodies, calls.last().map_or(0, |c| c.token))
    }

    fn retry_tick(host: &Emulator) {
        host.advance_time(RETRY_DELAY);
        host.tick();
    }

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn items_are_delivered_one_at_a_time_in_order(plugin) {
            let (host, sender) = pair(plugin);
            send(&host, sender, "/a");
            send(&host, sender, "/b");
            let (bodies, token) = calls(&host);
            assert_eq!(bodies, ["/a"], "the second waits for the first");
            assert_eq!(host.http_calls()[0].cluster, SINK);
            host.answer_http_call(token, &[(":status", "200")], b"", &[]);
            let (bodies, token) = calls(&host);
            assert_eq!(bodies, ["/a", "/b"]);
            host.answer_http_call(token, &[(":status", "200")], b"", &[]);
            assert_eq!(
                host.logs(LogLevel::Info),
                ["async_queue_consumer: delivered /a", "async_queue_consumer: delivered /b"]
            );
            assert!(host.queue_items(QUEUE).is_empty());
            // Waiting again: the next item is delivered as soon as it is enqueued.
            send(&host, sender, "/c");
            assert_eq!(calls(&host).0.len(), 3);
        }

        fn a_failed_delivery_is_retried_after_a_tick_then_dropped(plugin) {
            let (host, sender) = pair(plugin);
            send(&host, sender, "/a");
            send(&host, sender, "/b");
            host.fail_http_call(calls(&host).1);
            host.tick();
            assert_eq!(calls(&host).0, ["/a"], "a tick before the delay is not enough");
            retry_tick(&host);
            let (bodies, token) = calls(&host);
            assert_eq!(bodies, ["/a", "/a"]);
            host.answer_http_call(token, &[(":status", "500")], b"", &[]);
            retry_tick(&host);
            assert_eq!(host.logs(LogLevel::Error), ["async_queue_consumer: dropped /a after 2 attempts"]);
            assert_eq!(calls(&host).0, ["/a", "/a", "/b"], "the next item goes on");
        }

        fn a_timed_out_delivery_succeeds_on_the_retry(plugin) {
            let (host, sender) = pair(plugin);
            send(&host, sender, "/a");
            host.time_out_http_call(calls(&host).1);
            assert_eq!(
                host.logs(LogLevel::Warn),
                ["async_queue_consumer: /a: the HTTP call failed or timed out"]
            );
            // The timeout moved the clock by 500 ms: one more tick a second later retries.
            retry_tick(&host);
            host.answer_http_call(calls(&host).1, &[(":status", "200")], b"", &[]);
            assert_eq!(host.logs(LogLevel::Info), ["async_queue_consumer: delivered /a"]);
        }

        fn shutting_the_receiver_down_while_a_delivery_is_pending_drops_its_task(plugin) {
            let (host, sender) = pair(plugin);
            send(&host, sender, "/a");
            send(&host, sender, "/b");
            let token = calls(&host).1;
            assert!(host.shut_down_plugin(host.root_id()));
            host.answer_http_call(token, &[(":status", "200")], b"", &[]);
            retry_tick(&host);
            assert!(host.logs(LogLevel::Info).is_empty(), "the late answer reaches nobody");
            assert_eq!(calls(&host).0, ["/a"]);
            assert_eq!(host.registry_size(), (1, 0), "only the sender is left");
        }

        fn an_unknown_role_fails_the_start(plugin) {
            let host = Emulator::builder().plugin_configuration("listener").load(plugin);
            assert!(!host.start_plugin());
            assert_eq!(host.logs(LogLevel::Error).len(), 1);
        }

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
            send(&host, sender, "/from-envoy-yaml");
            let call = host.http_calls().pop().expect("a delivery");
            assert_eq!(call.body, b"/from-envoy-yaml");
            assert!(host.logs(LogLevel::Error).is_empty());
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
