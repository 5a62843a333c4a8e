//! Deferred shutdown: when the proxy asks the plugin to stop (`on_done`), the plugin answers `false` while
//! it still has a pending flush, finishes it on the next tick, and then calls `proxywasm::done()` so the
//! proxy can delete it.

use proxywasm::{Context, RootContext};
use std::time::Duration;

/// The root context: `pending` is work that must finish before shutdown.
pub struct Root {
    pending: u32,
    stopping: bool,
}

impl Context for Root {
    fn on_done(&mut self) -> bool {
        self.stopping = true;
        if self.pending == 0 {
            return true;
        }
        proxywasm::infof!(
            "plugin_done: deferring shutdown, {} item(s) to flush",
            self.pending
        );
        false
    }
}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        self.pending = 2;
        proxywasm::timers::set_tick_period(Duration::from_millis(100)).is_ok()
    }

    fn on_tick(&mut self) {
        if self.pending > 0 {
            self.pending -= 1;
            proxywasm::infof!("plugin_done: flushed one, {} left", self.pending);
        }
        if self.stopping && self.pending == 0 {
            match proxywasm::done() {
                Ok(()) => proxywasm::logging::info("plugin_done: shutdown complete"),
                Err(e) => proxywasm::logging::error(&format!("plugin_done: cannot finish: {e}")),
            }
            self.stopping = false;
        }
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root {
        pending: 0,
        stopping: false,
    })
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn defers_shutdown_until_the_work_is_flushed(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            assert!(!host.plugin_done(), "work is pending: shutdown is deferred");
            host.tick();
            assert!(!host.done_called());
            host.tick();
            assert!(host.done_called());
            assert_eq!(
                host.logs(LogLevel::Info),
                [
                    "plugin_done: deferring shutdown, 2 item(s) to flush",
                    "plugin_done: flushed one, 1 left",
                    "plugin_done: flushed one, 0 left",
                    "plugin_done: shutdown complete"
                ]
            );
        }

        fn with_nothing_pending_shutdown_is_immediate(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.plugin_done());
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
