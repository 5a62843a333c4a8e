//! Calls out of the plugin and their answers: HTTP calls, gRPC calls and streams, and foreign functions in
//! both directions.

use crate::state::{CallResponse, GrpcCall, GrpcEvent, HttpCall, Phase};
use crate::{owned, CallbackFailure, Emulator, PluginInstance, BROKEN_CONNECTION};
use proxywasm::abi::Status;
use std::time::Duration;

impl Emulator {
    /// Every HTTP call dispatched so far, answered or not.
    pub fn http_calls(&self) -> Vec<HttpCall> {
        self.state.borrow().http_calls.clone()
    }

    fn deliver_call(&self, token: u32, response: Option<CallResponse>) {
        let root = {
            let mut s = self.state.borrow_mut();
            let Some(call) = s.http_calls.iter().find(|c| c.token == token) else {
                return;
            };
            let root = s
                .http
                .get(&call.context_id)
                .map_or(call.context_id, |h| h.root_id);
            s.call_response = response.clone();
            s.settled_calls.insert(token);
            // Envoy's `Context::onHttpCallFailure`: the root's status becomes broken_connection with
            // message `reset` for the callback; the message is cleared afterwards, the code stays.
            if response.is_none() {
                if let Some(info) = s.roots.get_mut(&root) {
                    info.status = (BROKEN_CONNECTION, "reset".into());
                }
            }
            root
        };
        let (h, b, t) = response.as_ref().map_or((0, 0, 0), |r| {
            (r.headers.len(), r.body.len(), r.trailers.len())
        });
        self.run(root, Phase::HttpCallResponse(token), |plugin| {
            plugin.proxy_on_http_call_response(root, token, h, b, t)
        });
        let mut s = self.state.borrow_mut();
        s.call_response = None;
        if let Some(info) = s.roots.get_mut(&root) {
            info.status.1.clear();
        }
    }

    /// Answers HTTP call `token` with a response (status taken from `:status`, 200 if absent).
    pub fn answer_http_call(
        &self,
        token: u32,
        headers: &[(&str, &str)],
        body: &[u8],
        trailers: &[(&str, &str)],
    ) {
        let status = headers
            .iter()
            .find(|(k, _)| *k == ":status")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(200);
        self.deliver_call(
            token,
            Some(CallResponse {
                headers: owned(headers),
                body: body.to_vec(),
                trailers: owned(trailers),
                status,
            }),
        );
    }

    /// Fails HTTP call `token` (a timeout or a connection failure): the plugin sees all counts 0.
    pub fn fail_http_call(&self, token: u32) {
        self.deliver_call(token, None);
    }

    /// Times HTTP call `token` out: moves the clock forward by the call's timeout, then delivers the
    /// failure. Envoy reports a timeout like any other failure, through `Context::onHttpCallFailure`
    /// (context.cc): the plugin sees all counts 0, and `proxy_get_status` reads `broken_connection`.
    /// Unknown or settled tokens are ignored.
    pub fn time_out_http_call(&self, token: u32) {
        let timeout_ms = {
            let s = self.state.borrow();
            if s.settled_calls.contains(&token) {
                return;
            }
            s.http_calls
                .iter()
                .find(|c| c.token == token)
                .map(|c| c.timeout_ms)
        };
        if let Some(ms) = timeout_ms {
            self.advance_time(Duration::from_millis(u64::from(ms)));
            self.deliver_call(token, None);
        }
    }

    /// Times gRPC call `token` out: moves the clock forward by the call's timeout, then closes it with
    /// status 4 (`DEADLINE_EXCEEDED`), the status Envoy's gRPC client fails an expired call with; the
    /// close reaches the plugin through `Context::onGrpcCloseWrapper` (context.cc).
    pub fn time_out_grpc_call(&self, token: u32) {
        let timeout_ms = self
            .state
            .borrow()
            .grpc_calls
            .iter()
            .find(|c| c.token == token)
            .map(|c| c.timeout_ms);
        if let Some(ms) = timeout_ms {
            self.advance_time(Duration::from_millis(u64::from(ms)));
            self.grpc_close(token, 4);
        }
    }

    /// Every gRPC call and stream opened so far.
    pub fn grpc_calls(&self) -> Vec<GrpcCall> {
        self.state.borrow().grpc_calls.clone()
    }

    fn grpc_event(
        &self,
        token: u32,
        kind: GrpcEvent,
        data: CallResponse,
        event: impl FnOnce(&mut dyn PluginInstance, u32) -> Result<Option<()>, CallbackFailure>,
    ) {
        let close = kind == GrpcEvent::Close;
        let root = {
            let mut s = self.state.borrow_mut();
            let owner = s
                .grpc_calls
                .iter()
                .find(|c| c.token == token)
                .map_or(self.root_id, |c| c.context_id);
            let root = s.http.get(&owner).map_or(owner, |h| h.root_id);
            if close {
                s.settled_calls.insert(token);
                // Envoy's `Context::onGrpcCloseWrapper` sets the root's status to the call's.
                let status = data.status;
                if let Some(info) = s.roots.get_mut(&root) {
                    info.status = (status, String::new());
                }
            }
            s.grpc_data = data;
            root
        };
        self.run(root, Phase::Grpc(token, kind), |plugin| event(plugin, root));
        self.state.borrow_mut().grpc_data = CallResponse::default();
    }

    /// Delivers initial metadata on gRPC call or stream `token`.
    pub fn grpc_initial_metadata(&self, token: u32, metadata: &[(&str, &str)]) {
        let data = CallResponse {
            headers: owned(metadata),
            ..CallResponse::default()
        };
        let n = metadata.len();
        self.grpc_event(token, GrpcEvent::InitialMetadata, data, |plugin, root| {
            plugin.proxy_on_grpc_receive_initial_metadata(root, token, n)
        });
    }

    /// Delivers a message on gRPC call or stream `token`.
    pub fn grpc_message(&self, token: u32, message: &[u8]) {
        let data = CallResponse {
            body: message.to_vec(),
            ..CallResponse::default()
        };
        let n = message.len();
        self.grpc_event(token, GrpcEvent::Message, data, |plugin, root| {
            plugin.proxy_on_grpc_receive(root, token, n)
        });
    }

    /// Delivers trailing metadata on gRPC call or stream `token`.
    pub fn grpc_trailing_metadata(&self, token: u32, metadata: &[(&str, &str)]) {
        let data = CallResponse {
            trailers: owned(metadata),
            ..CallResponse::default()
        };
        let n = metadata.len();
        self.grpc_event(token, GrpcEvent::TrailingMetadata, data, |plugin, root| {
            plugin.proxy_on_grpc_receive_trailing_metadata(root, token, n)
        });
    }

    /// Closes gRPC call or stream `token` with a gRPC status (0 is OK).
    pub fn grpc_close(&self, token: u32, status: u32) {
        let data = CallResponse {
            status,
            ..CallResponse::default()
        };
        self.grpc_event(token, GrpcEvent::Close, data, |plugin, root| {
            plugin.proxy_on_grpc_close(root, token, status)
        });
    }

    /// Registers a host function the plugin can call with `call_foreign_function(name, …)`.
    pub fn register_foreign_function(
        &self,
        name: &str,
        function: impl FnMut(&[u8]) -> Result<Vec<u8>, Status> + 'static,
    ) {
        self.state
            .borrow_mut()
            .foreign_functions
            .insert(name.to_string(), Box::new(function));
    }

    /// The foreign-function calls the plugin made: name and arguments.
    pub fn foreign_calls(&self) -> Vec<(String, Vec<u8>)> {
        self.state.borrow().foreign_calls.clone()
    }

    /// Calls the plugin's foreign function `function_id` with `arguments` (`proxy_on_foreign_function`).
    pub fn call_plugin_foreign_function(&self, function_id: u32, arguments: &[u8]) {
        self.state.borrow_mut().foreign_arguments = arguments.to_vec();
        let root = self.root_id;
        self.run(root, Phase::ForeignFunction, |plugin| {
            plugin.proxy_on_foreign_function(root, function_id, arguments.len())
        });
    }
}
