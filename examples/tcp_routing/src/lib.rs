//! TCP routing through filter state: for each new connection, picks the upstream cluster from the source
//! address (`10.*` goes to `internal`, everything else to `external`) and stores it in the filter-state
//! property `envoy.tcp_proxy.cluster`, which Envoy's TCP proxy reads to choose the cluster.

use proxywasm::{properties, Action, Context, RootContext, TcpContext};

/// The property Envoy's TCP proxy reads.
pub const CLUSTER_PROPERTY: [&str; 1] = ["envoy.tcp_proxy.cluster"];

/// The cluster for a source address (`ip:port`).
pub fn cluster_for(source: &str) -> &'static str {
    if source.starts_with("10.") {
        "internal"
    } else {
        "external"
    }
}

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_tcp_context(&mut self, _context_id: u32) -> Option<Box<dyn TcpContext>> {
        Some(Box::new(Route))
    }
}

/// One TCP connection.
pub struct Route;

impl Context for Route {}

impl TcpContext for Route {
    fn on_new_connection(&mut self) -> Action {
        let source = properties::get_string(&["source", "address"])
            .ok()
            .flatten()
            .unwrap_or_default();
        let cluster = cluster_for(&source);
        match properties::set(&CLUSTER_PROPERTY, cluster.as_bytes()) {
            Ok(()) => proxywasm::infof!("tcp_routing: {source} -> {cluster}"),
            Err(e) => {
                proxywasm::logging::error(&format!("tcp_routing: cannot route {source}: {e}"))
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
    use proxywasm::LogLevel;

    proxywasm::emulator_tests! {
        plugin: new_root;

        fn routes_by_source_address(plugin) {
            for (source, cluster) in [
                ("10.0.0.7:4242", "internal"),
                ("203.0.113.9:80", "external"),
            ] {
                let host = Emulator::builder()
                    .property(&["source", "address"], source)
                    .load(plugin);
                let (_, action) = host.new_tcp_stream();
                assert_eq!(action, Action::Continue);
                assert_eq!(
                    host.property(&CLUSTER_PROPERTY),
                    Some(cluster.as_bytes().to_vec())
                );
                assert_eq!(
                    host.logs(LogLevel::Info),
                    [format!("tcp_routing: {source} -> {cluster}")]
                );
            }
        }
    }
}
