//! The three context kinds a plugin implements: [`RootContext`] (one per plugin configuration),
//! [`HttpContext`] (one per HTTP stream) and [`TcpContext`] (one per TCP stream). Every method has a
//! default, so a plugin overrides only what it needs.

use crate::{Action, PeerType};

/// Callbacks every context kind receives for outgoing calls it made and for its end of life.
pub trait Context {
    /// The response to an HTTP call this context dispatched without a callback closure arrived (or the
    /// call failed: then all counts are 0). Read it with [`crate::http_call`]'s response getters.
    fn on_http_call_response(
        &mut self,
        token: u32,
        num_headers: usize,
        body_size: usize,
        num_trailers: usize,
    ) {
        let _ = (token, num_headers, body_size, num_trailers);
    }

    /// Initial metadata arrived on a gRPC call or stream this context opened.
    fn on_grpc_receive_initial_metadata(&mut self, token: u32, num_elements: usize) {
        let _ = (token, num_elements);
    }

    /// A message arrived on a gRPC call or stream this context opened; read it with
    /// [`crate::grpc::received_message`].
    fn on_grpc_receive(&mut self, token: u32, message_size: usize) {
        let _ = (token, message_size);
    }

    /// Trailing metadata arrived on a gRPC call or stream this context opened.
    fn on_grpc_receive_trailing_metadata(&mut self, token: u32, num_elements: usize) {
        let _ = (token, num_elements);
    }

    /// A gRPC call or stream this context opened closed with a gRPC status code (0 is OK).
    fn on_grpc_close(&mut self, token: u32, status_code: u32) {
        let _ = (token, status_code);
    }

    /// The host is done with this context. Return `false` to keep it alive until the plugin calls
    /// [`crate::done`] (deferred shutdown).
    fn on_done(&mut self) -> bool {
        true
    }

    /// Called after `on_done` succeeded, before the context is deleted: the place for final log lines.
    fn on_log(&mut self) {}
}

/// A plugin (root) context: one per plugin configuration. It creates the stream contexts.
pub trait RootContext: Context {
    /// The VM started; `vm_configuration_size` bytes of VM configuration are available through
    /// [`crate::config::vm_configuration`]. Return `false` to fail the start.
    fn on_vm_start(&mut self, vm_configuration_size: usize) -> bool {
        let _ = vm_configuration_size;
        true
    }

    /// The plugin was (re)configured; `plugin_configuration_size` bytes are available through
    /// [`crate::config::plugin_configuration`]. Return `false` to reject the configuration.
    fn on_plugin_start(&mut self, plugin_configuration_size: usize) -> bool {
        let _ = plugin_configuration_size;
        true
    }

    /// The tick period set with [`crate::timers::set_tick_period`] elapsed.
    fn on_tick(&mut self) {}

    /// A shared queue this plugin registered has items.
    fn on_queue_ready(&mut self, queue_id: u32) {
        let _ = queue_id;
    }

    /// The host called one of this plugin's foreign functions; read the arguments with
    /// [`crate::foreign::call_arguments`].
    fn on_foreign_function(&mut self, function_id: u32, arguments_size: usize) {
        let _ = (function_id, arguments_size);
    }

    /// A new TCP stream starts: return its context, or `None` if this plugin is not a network filter.
    /// Tried before [`RootContext::new_http_context`].
    fn new_tcp_context(&mut self, context_id: u32) -> Option<Box<dyn TcpContext>> {
        let _ = context_id;
        None
    }

    /// A new HTTP stream starts: return its context, or `None` if this plugin is not an HTTP filter.
    fn new_http_context(&mut self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        let _ = context_id;
        None
    }
}

/// An HTTP stream context: one per HTTP request/response pair.
pub trait HttpContext: Context {
    /// The request headers arrived (`num_headers` of them); `end_of_stream` when no body follows (always
    /// `false` under ABI 0.1.0, which does not say).
    fn on_http_request_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        let _ = (num_headers, end_of_stream);
        Action::Continue
    }

    /// A chunk of the request body arrived; `body_size` is the size buffered so far.
    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let _ = (body_size, end_of_stream);
        Action::Continue
    }

    /// The request trailers arrived.
    fn on_http_request_trailers(&mut self, num_trailers: usize) -> Action {
        let _ = num_trailers;
        Action::Continue
    }

    /// The response headers arrived.
    fn on_http_response_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        let _ = (num_headers, end_of_stream);
        Action::Continue
    }

    /// A chunk of the response body arrived; `body_size` is the size buffered so far.
    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let _ = (body_size, end_of_stream);
        Action::Continue
    }

    /// The response trailers arrived.
    fn on_http_response_trailers(&mut self, num_trailers: usize) -> Action {
        let _ = num_trailers;
        Action::Continue
    }

    /// The stream is complete (the host is about to delete it).
    fn on_http_stream_done(&mut self) {}
}

/// A TCP stream context: one per connection through a network filter.
pub trait TcpContext: Context {
    /// A new connection was accepted.
    fn on_new_connection(&mut self) -> Action {
        Action::Continue
    }

    /// Data arrived from downstream; `data_size` bytes are buffered.
    fn on_downstream_data(&mut self, data_size: usize, end_of_stream: bool) -> Action {
        let _ = (data_size, end_of_stream);
        Action::Continue
    }

    /// The downstream connection closed, on the side `peer`.
    fn on_downstream_close(&mut self, peer: PeerType) {
        let _ = peer;
    }

    /// Data arrived from upstream; `data_size` bytes are buffered.
    fn on_upstream_data(&mut self, data_size: usize, end_of_stream: bool) -> Action {
        let _ = (data_size, end_of_stream);
        Action::Continue
    }

    /// The upstream connection closed, on the side `peer`.
    fn on_upstream_close(&mut self, peer: PeerType) {
        let _ = peer;
    }

    /// The stream is complete (the host is about to delete it).
    fn on_stream_done(&mut self) {}
}
