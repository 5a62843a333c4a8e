//! HTTP streams: the proxy's side of each request and response (headers, bodies, trailers, the end of the
//! stream), and what it holds of each stream after the plugin's changes.

use crate::state::{HttpPhase, HttpStream, LocalResponse, Phase, TcpPhase};
use crate::{owned, Emulator};
use proxywasm::abi::{Action, BoolResult};

/// What the emulated proxy holds of one HTTP stream, after the plugin's changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpStreamView {
    /// Request headers.
    pub request_headers: Vec<(String, String)>,
    /// The request body the proxy holds now: the last chunk, or every chunk since the plugin started
    /// pausing (after the plugin's changes).
    pub request_body: Vec<u8>,
    /// Every request body byte the proxy forwarded upstream so far (after the plugin's changes).
    pub request_body_forwarded: Vec<u8>,
    /// Request trailers.
    pub request_trailers: Vec<(String, String)>,
    /// Response headers.
    pub response_headers: Vec<(String, String)>,
    /// The response body the proxy holds now (see `request_body`).
    pub response_body: Vec<u8>,
    /// Every response body byte the proxy forwarded downstream so far.
    pub response_body_forwarded: Vec<u8>,
    /// Response trailers.
    pub response_trailers: Vec<(String, String)>,
    /// The local response the plugin sent, if any.
    pub local_response: Option<LocalResponse>,
    /// How often the plugin resumed the request.
    pub request_resumed: u32,
    /// How often the plugin resumed the response.
    pub response_resumed: u32,
    /// Whether the plugin reset the stream.
    pub reset: bool,
    /// How often the route cache was cleared: by the plugin (`clear_route_cache`), or by Envoy's Wasm
    /// context itself after each change the plugin made to the request headers.
    pub route_cache_cleared: u32,
}

impl Emulator {
    /// Creates an HTTP stream context under the first root context; returns its id.
    pub fn new_http_stream(&self) -> u32 {
        self.new_http_stream_in(self.root_id)
    }

    /// Creates an HTTP stream context under root `root`; returns its id.
    pub fn new_http_stream_in(&self, root: u32) -> u32 {
        let id = self.next_id();
        self.state.borrow_mut().http.insert(
            id,
            HttpStream {
                root_id: root,
                ..HttpStream::default()
            },
        );
        self.create_context(id, root);
        id
    }

    fn http_phase(&self, id: u32, phase: HttpPhase, update: impl FnOnce(&mut HttpStream)) {
        let mut s = self.state.borrow_mut();
        if let Some(stream) = s.http.get_mut(&id) {
            stream.phase = Some(stream.phase.map_or(phase, |p| p.max(phase)));
            update(stream);
        }
    }

    /// `action`, or `Pause` when the callback that returned it sent a local response: cpp-host then
    /// reports the callback as stopped whatever it returned (`send_local_response` calls
    /// `stopNextIteration`, src/exports.cc; src/context.cc converts the result).
    fn stopped_by_local_response(&self, action: Action) -> Action {
        if self.state.borrow().stop_iteration {
            Action::Pause
        } else {
            action
        }
    }

    /// Records whether the header/trailer callback `phase` of stream `id` let the stream continue:
    /// Envoy keeps the map of a callback that did not until the plugin resumes the stream.
    fn hold_map(&self, id: u32, phase: HttpPhase, action: Action) -> Action {
        if let Some(stream) = self.state.borrow_mut().http.get_mut(&id) {
            if action == Action::Continue {
                stream.held.remove(&phase);
            } else {
                stream.held.insert(phase);
            }
        }
        action
    }

    /// Delivers the request headers; returns the action the plugin chose.
    pub fn request_headers(
        &self,
        id: u32,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Action {
        self.http_phase(id, HttpPhase::RequestHeaders, |s| {
            s.request_headers = owned(headers)
        });
        let n = headers.len();
        let action = self
            .run(id, Phase::Http(HttpPhase::RequestHeaders), |plugin| {
                plugin.proxy_on_request_headers(id, n, end_of_stream)
            })
            .unwrap_or(Action::Continue);
        let action = self.stopped_by_local_response(action);
        self.hold_map(id, HttpPhase::RequestHeaders, action)
    }

    /// Delivers a chunk of the request body; returns the action the plugin chose. As in Envoy, after a
    /// callback that returned `Continue` the proxy forwards what it holds and the next callback sees only
    /// the new chunk; after `Pause` it keeps buffering, and the next callback sees everything so far.
    pub fn request_body(&self, id: u32, chunk: &[u8], end_of_stream: bool) -> Action {
        self.body_chunk(id, false, chunk, end_of_stream)
    }

    fn body_chunk(&self, id: u32, response: bool, chunk: &[u8], end_of_stream: bool) -> Action {
        let phase = if response {
            HttpPhase::ResponseBody
        } else {
            HttpPhase::RequestBody
        };
        let mut size = 0;
        self.http_phase(id, phase, |s| {
            let (held, buffering, _) = s.body_mut(response);
            if !*buffering {
                held.clear();
            }
            held.extend_from_slice(chunk);
            size = held.len();
        });
        let action = self
            .run(id, Phase::Http(phase), |plugin| {
                if response {
                    plugin.proxy_on_response_body(id, size, end_of_stream)
                } else {
                    plugin.proxy_on_request_body(id, size, end_of_stream)
                }
            })
            .unwrap_or(Action::Continue);
        // After a local response cpp-host reports the body callback as stopped without buffering.
        let replied = self.state.borrow().stop_iteration;
        let stopped = self.stopped_by_local_response(action);
        self.http_phase(id, phase, |s| {
            let (held, buffering, forwarded) = s.body_mut(response);
            *buffering = !replied && action == Action::Pause;
            if stopped == Action::Continue {
                forwarded.extend_from_slice(held);
            }
        });
        stopped
    }

    /// Delivers the request trailers; returns the action the plugin chose.
    pub fn request_trailers(&self, id: u32, trailers: &[(&str, &str)]) -> Action {
        self.http_phase(id, HttpPhase::RequestTrailers, |s| {
            s.request_trailers = owned(trailers)
        });
        let n = trailers.len();
        let action = self
            .run(id, Phase::Http(HttpPhase::RequestTrailers), |plugin| {
                plugin.proxy_on_request_trailers(id, n)
            })
            .unwrap_or(Action::Continue);
        let action = self.stopped_by_local_response(action);
        self.hold_map(id, HttpPhase::RequestTrailers, action)
    }

    /// Delivers the response headers; returns the action the plugin chose.
    pub fn response_headers(
        &self,
        id: u32,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Action {
        self.http_phase(id, HttpPhase::ResponseHeaders, |s| {
            s.response_headers = owned(headers)
        });
        let n = headers.len();
        let action = self
            .run(id, Phase::Http(HttpPhase::ResponseHeaders), |plugin| {
                plugin.proxy_on_response_headers(id, n, end_of_stream)
            })
            .unwrap_or(Action::Continue);
        let action = self.stopped_by_local_response(action);
        self.hold_map(id, HttpPhase::ResponseHeaders, action)
    }

    /// Delivers a chunk of the response body; returns the action the plugin chose. Buffering works as for
    /// [`Emulator::request_body`].
    pub fn response_body(&self, id: u32, chunk: &[u8], end_of_stream: bool) -> Action {
        self.body_chunk(id, true, chunk, end_of_stream)
    }

    /// Delivers the response trailers; returns the action the plugin chose.
    pub fn response_trailers(&self, id: u32, trailers: &[(&str, &str)]) -> Action {
        self.http_phase(id, HttpPhase::ResponseTrailers, |s| {
            s.response_trailers = owned(trailers)
        });
        let n = trailers.len();
        let action = self
            .run(id, Phase::Http(HttpPhase::ResponseTrailers), |plugin| {
                plugin.proxy_on_response_trailers(id, n)
            })
            .unwrap_or(Action::Continue);
        let action = self.stopped_by_local_response(action);
        self.hold_map(id, HttpPhase::ResponseTrailers, action)
    }

    /// Ends a stream (HTTP or TCP) the way a proxy does: `proxy_on_done`, then `proxy_on_log` and
    /// `proxy_on_delete`. Returns what `proxy_on_done` answered.
    pub fn complete_stream(&self, id: u32) -> bool {
        self.http_phase(id, HttpPhase::Done, |_| {});
        let phase = if self.state.borrow().http.contains_key(&id) {
            Phase::Http(HttpPhase::Done)
        } else {
            Phase::Tcp(TcpPhase::Connection)
        };
        let done =
            self.run(id, phase, |plugin| plugin.proxy_on_done(id)) != Some(BoolResult::False);
        let log_phase = match phase {
            Phase::Http(_) => Phase::Http(HttpPhase::Log),
            other => other,
        };
        self.run(id, log_phase, |plugin| plugin.proxy_on_log(id));
        self.run(id, phase, |plugin| plugin.proxy_on_delete(id));
        self.state.borrow_mut().live_contexts.remove(&id);
        done
    }

    /// The HTTP stream `id` as the proxy holds it now. Panics if no such stream was created (a test bug).
    pub fn http_stream(&self, id: u32) -> HttpStreamView {
        let s = self.state.borrow();
        let h = s
            .http
            .get(&id)
            .unwrap_or_else(|| panic!("no HTTP stream {id} in this emulator"));
        HttpStreamView {
            request_headers: h.request_headers.clone(),
            request_body: h.request_body.clone(),
            request_body_forwarded: h.request_body_forwarded.clone(),
            request_trailers: h.request_trailers.clone(),
            response_headers: h.response_headers.clone(),
            response_body: h.response_body.clone(),
            response_body_forwarded: h.response_body_forwarded.clone(),
            response_trailers: h.response_trailers.clone(),
            local_response: h.local_response.clone(),
            request_resumed: h.request_resumed,
            response_resumed: h.response_resumed,
            reset: h.reset,
            route_cache_cleared: h.route_cache_cleared,
        }
    }

    /// The local response sent on stream `id`, if any.
    pub fn local_response(&self, id: u32) -> Option<LocalResponse> {
        self.http_stream(id).local_response
    }

    /// Forgets what the emulator recorded of a completed stream (its headers, bodies and actions), as a
    /// proxy does once a stream ends; long runs use it to keep the host's memory flat.
    pub fn forget_stream(&self, id: u32) {
        let mut s = self.state.borrow_mut();
        s.http.remove(&id);
        s.tcp.remove(&id);
        s.filter_state.retain(|(stream, _), _| *stream != id);
    }
}
