//! TCP routing through filter state: for each new connection, picks the upstream cluster from the source
//! address (`10.*` goes to `internal`, everything else to `external`) and stores it in the filter state
//! `envoy.tcp_proxy.cluster`, which Envoy's TCP proxy reads to choose the cluster.
//!
//! Envoy's own filter-state objects are set with its foreign function `set_envoy_filter_state`, not with
//! `proxy_set_property` (which would store `wasm.envoy.tcp_proxy.cluster`, a key the TCP proxy never
//! reads). A connection whose source cannot be read, or whose cluster cannot be set, is closed with an
//! error log rather than routed to a default.

use proxywasm::{foreign, properties, tcp, Action, Context, RootContext, TcpContext};

/// The filter state Envoy's TCP proxy reads.
pub const CLUSTER_FILTER_STATE: &str = "envoy.tcp_proxy.cluster";
/// Envoy's foreign function that sets one of its filter-state objects.
pub const SET_ENVOY_FILTER_STATE: &str = "set_envoy_filter_state";
/// `LifeSpan.DownstreamConnection` of Envoy's `SetEnvoyFilterStateArguments`.
const SPAN_CONNECTION: u8 = 2;

/// The cluster for a source address (`ip:port`).
pub fn cluster_for(source: &str) -> &'static str {
    if source.starts_with("10.") {
        "internal"
    } else {
        "external"
    }
}

fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The `SetEnvoyFilterStateArguments` protobuf (Envoy's
/// source/extensions/common/wasm/ext/set_envoy_filter_state.proto): `path` = 1, `value` = 2, `span` = 3.
pub fn filter_state_arguments(path: &str, value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + value.len() + 8);
    for (tag, bytes) in [(0x0a, path.as_bytes()), (0x12, value.as_bytes())] {
        out.push(tag);
        push_varint(&mut out, bytes.len());
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(&[0x18, SPAN_CONNECTION]);
    out
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

fn refuse(why: &str) -> Action {
    proxywasm::logging::error(&format!("tcp_routing: closing the connection: {why}"));
    if let Err(e) = tcp::close_downstream() {
        proxywasm::logging::error(&format!("tcp_routing: cannot close the connection: {e}"));
    }
    Action::Pause
}

impl TcpContext for Route {
    fn on_new_connection(&mut self) -> Action {
        let source = match properties::get_string(&["source", "address"]) {
            Ok(Some(source)) => source,
            Ok(None) => return refuse("the proxy gives no source.address"),
            Err(e) => return refuse(&format!("cannot read source.address: {e}")),
        };
        let cluster = cluster_for(&source);
        let arguments = filter_state_arguments(CLUSTER_FILTER_STATE, cluster);
        match foreign::call_foreign_function(SET_ENVOY_FILTER_STATE, &arguments) {
            Ok(_) => {
                proxywasm::infof!("tcp_routing: {source} -> {cluster}");
                Action::Continue
            }
            Err(e) => refuse(&format!("cannot route {source} to {cluster}: {e}")),
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

        fn routes_by_source_address(plugin) {
            for (source, cluster) in [
                ("10.0.0.7:4242", "internal"),
                ("203.0.113.9:80", "external"),
            ] {
                let host = Emulator::builder()
                    .property(&["source", "address"], source)
                    .load(plugin);
                let (id, action) = host.new_tcp_stream();
                assert_eq!(action, Action::Continue);
                assert_eq!(
                    host.filter_state(id, CLUSTER_FILTER_STATE),
                    Some(cluster.as_bytes().to_vec())
                );
                assert_eq!(
                    host.logs(LogLevel::Info),
                    [format!("tcp_routing: {source} -> {cluster}")]
                );
            }
        }

        fn a_connection_without_a_source_address_is_closed_not_routed(plugin) {
            let host = Emulator::builder().load(plugin);
            let (id, action) = host.new_tcp_stream();
            assert_eq!(action, Action::Pause);
            // ABI 0.1.0 cannot close a stream: the paused connection never reaches the TCP proxy.
            let closes = proxywasm::abi::StreamType::Downstream.is_defined();
            assert_eq!(host.tcp_stream(id).downstream_closed, closes);
            assert_eq!(host.filter_state(id, CLUSTER_FILTER_STATE), None);
            assert!(host.logs(LogLevel::Error)[0].contains("no source.address"));
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);

    #[test]
    fn the_shipped_envoy_yaml_defines_every_cluster_the_plugin_picks() {
        let yaml = include_str!("../envoy.yaml");
        for source in ["10.0.0.1:1234", "192.168.1.1:1234"] {
            let cluster = cluster_for(source);
            assert!(
                yaml.contains(&format!("cluster_name: {cluster}\n")),
                "envoy.yaml has no cluster `{cluster}`: Envoy's TCP proxy would close the connection"
            );
        }
    }

    #[test]
    fn the_arguments_are_the_protobuf_envoy_parses() {
        assert_eq!(
            filter_state_arguments("k", "vv"),
            [0x0a, 1, b'k', 0x12, 2, b'v', b'v', 0x18, 2]
        );
    }
}
