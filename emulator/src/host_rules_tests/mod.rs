//! The host rules the review of every hostcall against cpp-host and Envoy found (see [`super::sources`]):
//! each test drives the emulator's host side directly, in a chosen context and callback, and checks the
//! status and effect the cited source gives.

use super::host::HostHandle;
use super::state::{HttpPhase, Phase, TcpPhase};
use super::*;
use crate::state::{CallResponse, TcpStream};
use proxywasm::abi::{Action, Status};
use proxywasm::abi::{BufferType, EnvHost, MapType, MetricType, StreamType};
use proxywasm::{http, Context, HttpContext, RootContext};
use std::time::Duration;

struct Root;
impl Context for Root {
    fn on_done(&mut self) -> bool {
        false
    }
}
impl RootContext for Root {
    fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Replier))
    }
}

/// Sends a local response on request headers and still returns `Continue`.
struct Replier;
impl Context for Replier {}
impl HttpContext for Replier {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        http::send_http_response(400, &[("X-Why", "bad")], b"no").unwrap();
        Action::Continue
    }
}

fn no_pairs() -> Vec<u8> {
    proxywasm::codec::encode_map::<&str, &str>(&[])
}

fn emulator() -> Emulator {
    Emulator::builder()
        .vm_configuration("vm")
        .build(|_| Box::new(Root))
}

/// The host side as a hostcall made by `context` during `phase` reaches it.
fn host_at(emulator: &Emulator, context: u32, phase: Phase) -> HostHandle {
    let mut s = emulator.state.borrow_mut();
    s.current = context;
    s.phase = phase;
    HostHandle(emulator.state.clone())
}

fn set_request_body(emulator: &Emulator, stream: u32, body: &[u8]) {
    let mut s = emulator.state.borrow_mut();
    s.http.get_mut(&stream).expect("a stream").request_body = body.to_vec();
}

/// Puts stream `stream` at `reached` with a request header, response headers and request trailers.
fn stream_with_maps(emulator: &Emulator, stream: u32, reached: HttpPhase) {
    let mut s = emulator.state.borrow_mut();
    let h = s.http.get_mut(&stream).unwrap();
    h.phase = Some(reached);
    h.request_headers = vec![(":path".into(), "/p".into())];
    h.request_trailers = vec![("t".into(), "1".into())];
    h.response_headers = vec![(":status".into(), "200".into())];
}

mod buffers;
mod calls;
mod maps;
mod root;
