//! Foreign function call on tick: every second the root context calls the host's `compress` function (a
//! foreign function Envoy registers) with a small payload and logs the size of the result.

use proxywasm::{foreign, Context, RootContext};
use std::time::Duration;

/// The host function called.
pub const FUNCTION: &str = "compress";

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        proxywasm::timers::set_tick_period(Duration::from_secs(1)).is_ok()
    }

    fn on_tick(&mut self) {
        let payload = b"hello hello hello hello";
        match foreign::call_foreign_function(FUNCTION, payload) {
            Ok(result) => proxywasm::infof!(
                "foreign_function_tick: {} bytes -> {} bytes",
                payload.len(),
                result.len()
            ),
            Err(e) => {
                proxywasm::logging::warn(&format!("foreign_function_tick: {FUNCTION} failed: {e}"))
            }
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

        fn calls_the_host_function_on_tick(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            host.register_foreign_function(FUNCTION, |input| Ok(input[..5].to_vec()));
            host.tick();
            assert_eq!(
                host.foreign_calls(),
                [(FUNCTION.to_string(), b"hello hello hello hello".to_vec())]
            );
            assert_eq!(
                host.logs(LogLevel::Info),
                ["foreign_function_tick: 23 bytes -> 5 bytes"]
            );
        }

        fn a_missing_host_function_is_a_warning(plugin) {
            let host = Emulator::builder().load(plugin);
            host.tick();
            assert_eq!(
                host.logs(LogLevel::Warn),
                ["foreign_function_tick: compress failed: not found"]
            );
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
