//! Postponing requests: each request is paused and queued in the root context; on every tick the root
//! context resumes up to `BATCH` queued requests (switching to each stream with
//! `set_effective_context`), smoothing bursts.

use proxywasm::{http, set_effective_context, Action, Context, HttpContext, RootContext};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

/// How many requests one tick releases.
pub const BATCH: usize = 2;

type Waiting = Rc<RefCell<VecDeque<u32>>>;

/// The root context: the queue of paused streams.
#[derive(Default)]
pub struct Root {
    waiting: Waiting,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        proxywasm::timers::set_tick_period(Duration::from_millis(50)).is_ok()
    }

    fn on_tick(&mut self) {
        for _ in 0..BATCH {
            let Some(stream) = self.waiting.borrow_mut().pop_front() else {
                break;
            };
            let resumed = set_effective_context(stream).and_then(|()| http::resume_http_request());
            if let Err(e) = resumed {
                proxywasm::logging::warn(&format!(
                    "postpone_requests: cannot resume {stream}: {e}"
                ));
            }
        }
    }

    fn new_http_context(&mut self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Postpone {
            id: context_id,
            waiting: self.waiting.clone(),
        }))
    }
}

/// One HTTP stream.
pub struct Postpone {
    id: u32,
    waiting: Waiting,
}

impl Context for Postpone {}

impl HttpContext for Postpone {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        self.waiting.borrow_mut().push_back(self.id);
        Action::Pause
    }

    fn on_http_stream_done(&mut self) {
        self.waiting.borrow_mut().retain(|id| *id != self.id);
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
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn each_tick_resumes_a_batch_in_arrival_order(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            let streams: Vec<u32> = (0..3).map(|_| host.new_http_stream()).collect();
            for &s in &streams {
                assert_eq!(
                    host.request_headers(s, &[(":path", "/")], true),
                    Action::Pause
                );
            }
            host.tick();
            let resumed: Vec<u32> = streams
                .iter()
                .map(|&s| host.http_stream(s).request_resumed)
                .collect();
            assert_eq!(resumed, [1, 1, 0]);
            host.tick();
            assert_eq!(host.http_stream(streams[2]).request_resumed, 1);
        }

        fn a_stream_that_ends_while_waiting_is_forgotten(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            let first = host.new_http_stream();
            host.request_headers(first, &[(":path", "/")], true);
            host.complete_stream(first);
            let second = host.new_http_stream();
            host.request_headers(second, &[(":path", "/")], true);
            host.tick();
            assert_eq!(host.http_stream(second).request_resumed, 1);
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
