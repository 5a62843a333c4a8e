//! TCP streams: the proxy's side of a network filter's connection (data in both directions, closes), and
//! what it holds of each connection after the plugin's changes.

use crate::state::{Phase, TcpPhase, TcpStream};
use crate::Emulator;
use proxywasm::abi::{Action, PeerType};

/// What the emulated proxy holds of one TCP stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpStreamView {
    /// Downstream data of the last downstream callback, after the plugin's changes.
    pub downstream: Vec<u8>,
    /// Upstream data of the last upstream callback, after the plugin's changes.
    pub upstream: Vec<u8>,
    /// Whether the plugin closed the downstream connection.
    pub downstream_closed: bool,
    /// Whether the plugin closed the upstream connection.
    pub upstream_closed: bool,
    /// How often the plugin resumed the downstream side.
    pub downstream_resumed: u32,
    /// How often the plugin resumed the upstream side.
    pub upstream_resumed: u32,
}

impl Emulator {
    /// Creates a TCP stream context under the first root context and calls `proxy_on_new_connection`;
    /// returns its id and the action.
    pub fn new_tcp_stream(&self) -> (u32, Action) {
        let root = self.root_id;
        let id = self.next_id();
        self.state.borrow_mut().tcp.insert(
            id,
            TcpStream {
                root_id: root,
                ..TcpStream::default()
            },
        );
        self.create_context(id, root);
        let action = self
            .run(id, Phase::Tcp(TcpPhase::Connection), |plugin| {
                plugin.proxy_on_new_connection(id)
            })
            .unwrap_or(Action::Continue);
        (id, action)
    }

    /// Delivers downstream data (replacing the previous chunk); returns the action.
    pub fn downstream_data(&self, id: u32, data: &[u8], end_of_stream: bool) -> Action {
        if let Some(s) = self.state.borrow_mut().tcp.get_mut(&id) {
            s.downstream = data.to_vec();
        }
        let action = self
            .run(id, Phase::Tcp(TcpPhase::Downstream), |plugin| {
                plugin.proxy_on_downstream_data(id, data.len(), end_of_stream)
            })
            .unwrap_or(Action::Continue);
        if let Some(s) = self.state.borrow_mut().tcp.get_mut(&id) {
            s.downstream_held = action != Action::Continue;
        }
        action
    }

    /// Delivers upstream data (replacing the previous chunk); returns the action.
    pub fn upstream_data(&self, id: u32, data: &[u8], end_of_stream: bool) -> Action {
        if let Some(s) = self.state.borrow_mut().tcp.get_mut(&id) {
            s.upstream = data.to_vec();
        }
        let action = self
            .run(id, Phase::Tcp(TcpPhase::Upstream), |plugin| {
                plugin.proxy_on_upstream_data(id, data.len(), end_of_stream)
            })
            .unwrap_or(Action::Continue);
        if let Some(s) = self.state.borrow_mut().tcp.get_mut(&id) {
            s.upstream_held = action != Action::Continue;
        }
        action
    }

    /// Tells the plugin the downstream connection closed on side `peer`.
    pub fn downstream_close(&self, id: u32, peer: PeerType) {
        self.run(id, Phase::Tcp(TcpPhase::Connection), |plugin| {
            plugin.proxy_on_downstream_connection_close(id, peer)
        });
    }

    /// Tells the plugin the upstream connection closed on side `peer`.
    pub fn upstream_close(&self, id: u32, peer: PeerType) {
        self.run(id, Phase::Tcp(TcpPhase::Connection), |plugin| {
            plugin.proxy_on_upstream_connection_close(id, peer)
        });
    }

    /// The TCP stream `id` as the proxy holds it now. Panics if no such stream was created.
    pub fn tcp_stream(&self, id: u32) -> TcpStreamView {
        let s = self.state.borrow();
        let t = s
            .tcp
            .get(&id)
            .unwrap_or_else(|| panic!("no TCP stream {id} in this emulator"));
        TcpStreamView {
            downstream: t.downstream.clone(),
            upstream: t.upstream.clone(),
            downstream_closed: t.downstream_closed,
            upstream_closed: t.upstream_closed,
            downstream_resumed: t.downstream_resumed,
            upstream_resumed: t.upstream_resumed,
        }
    }
}
