//! Hello world: logs when the VM starts, when the plugin starts, and on every tick.

use proxywasm::{Context, RootContext};
use std::time::Duration;

/// How often the plugin ticks.
pub const TICK_PERIOD: Duration = Duration::from_secs(5);

/// The plugin's only context.
#[derive(Default)]
pub struct HelloWorld {
    ticks: u64,
}

impl Context for HelloWorld {}

impl RootContext for HelloWorld {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        proxywasm::logging::info("hello world: VM started");
        true
    }

    fn on_plugin_start(&mut self, _plugin_configuration_size: usize) -> bool {
        proxywasm::logging::info("hello world: plugin started");
        proxywasm::timers::set_tick_period(TICK_PERIOD).is_ok()
    }

    fn on_tick(&mut self) {
        self.ticks += 1;
        proxywasm::infof!("hello world: tick {}", self.ticks);
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(HelloWorld::default())
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn logs_on_start_and_on_every_tick(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_vm());
            assert!(host.start_plugin());
            assert_eq!(host.tick_period(), Some(TICK_PERIOD));
            host.tick();
            host.tick();
            assert_eq!(
                host.logs(LogLevel::Info),
                [
                    "hello world: VM started",
                    "hello world: plugin started",
                    "hello world: tick 1",
                    "hello world: tick 2"
                ]
            );
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
