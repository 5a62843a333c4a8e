//! A network (TCP) filter: counts the bytes of each connection in both directions into two counters, and
//! logs every close with the side that closed it.

use proxywasm::metrics::Counter;
use proxywasm::{Action, Context, PeerType, RootContext, TcpContext};

/// Counter of bytes received from downstream.
pub const DOWNSTREAM_BYTES: &str = "tcp_bytes.downstream";
/// Counter of bytes received from upstream.
pub const UPSTREAM_BYTES: &str = "tcp_bytes.upstream";

/// The root context: defines the counters.
#[derive(Default)]
pub struct Root {
    counters: Option<(Counter, Counter)>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        match (Counter::new(DOWNSTREAM_BYTES), Counter::new(UPSTREAM_BYTES)) {
            (Ok(down), Ok(up)) => {
                self.counters = Some((down, up));
                true
            }
            (Err(e), _) | (_, Err(e)) => {
                proxywasm::logging::error(&format!("tcp_bytes: cannot define metrics: {e}"));
                false
            }
        }
    }

    fn new_tcp_context(&mut self, context_id: u32) -> Option<Box<dyn TcpContext>> {
        let (downstream, upstream) = self.counters?;
        Some(Box::new(Connection {
            id: context_id,
            downstream,
            upstream,
            received: (0, 0),
        }))
    }
}

/// One TCP connection.
pub struct Connection {
    id: u32,
    downstream: Counter,
    upstream: Counter,
    received: (usize, usize),
}

impl Context for Connection {}

/// Adds `bytes` to `counter`. Envoy refuses a counter increment of 0 (`Context::incrementMetric`), so an
/// empty data event adds nothing; any other failure is logged.
fn count(counter: &Counter, bytes: usize) {
    if bytes == 0 {
        return;
    }
    if let Err(e) = counter.add(bytes as u64) {
        proxywasm::logging::warn(&format!("tcp_bytes: cannot count {bytes} bytes: {e}"));
    }
}

impl TcpContext for Connection {
    fn on_downstream_data(&mut self, data_size: usize, _end_of_stream: bool) -> Action {
        self.received.0 += data_size;
        count(&self.downstream, data_size);
        Action::Continue
    }

    fn on_upstream_data(&mut self, data_size: usize, _end_of_stream: bool) -> Action {
        self.received.1 += data_size;
        count(&self.upstream, data_size);
        Action::Continue
    }

    fn on_downstream_close(&mut self, peer: PeerType) {
        proxywasm::infof!(
            "connection {}: downstream closed by {peer} after {} bytes in",
            self.id,
            self.received.0
        );
    }

    fn on_upstream_close(&mut self, peer: PeerType) {
        proxywasm::infof!(
            "connection {}: upstream closed by {peer} after {} bytes in",
            self.id,
            self.received.1
        );
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root::default())
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::abi::MetricType;
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn counts_bytes_both_ways_across_connections_and_logs_closes(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            let (first, action) = host.new_tcp_stream();
            assert_eq!(action, Action::Continue);
            assert_eq!(
                host.downstream_data(first, b"hello", false),
                Action::Continue
            );
            host.upstream_data(first, b"hi!", false);
            let (second, _) = host.new_tcp_stream();
            host.downstream_data(second, b"1234567890", true);
            assert_eq!(
                host.metric(DOWNSTREAM_BYTES),
                Some((MetricType::Counter, 15))
            );
            assert_eq!(host.metric(UPSTREAM_BYTES), Some((MetricType::Counter, 3)));
            host.downstream_close(first, PeerType::Remote);
            host.upstream_close(first, PeerType::Local);
            assert_eq!(
                host.logs(LogLevel::Info),
                [
                    format!("connection {first}: downstream closed by remote after 5 bytes in"),
                    format!("connection {first}: upstream closed by local after 3 bytes in"),
                ]
            );
            assert!(host.complete_stream(first));
            assert!(host.complete_stream(second));
            assert_eq!(host.registry_size(), (1, 0));
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
