//! VM and plugin configuration: logs the VM configuration when the VM starts and the plugin configuration
//! when the plugin starts. ABI 0.1.0 has no way to read the VM configuration, so this example targets
//! 0.2.0 and 0.2.1.

use proxywasm::{config, Context, RootContext};

fn describe(what: &str, bytes: Result<Option<Vec<u8>>, proxywasm::Error>) -> bool {
    match bytes {
        Ok(Some(bytes)) => {
            proxywasm::infof!("{what}: {}", String::from_utf8_lossy(&bytes));
            true
        }
        Ok(None) => {
            proxywasm::infof!("{what}: none");
            true
        }
        Err(e) => {
            proxywasm::logging::error(&format!("{what}: cannot read: {e}"));
            false
        }
    }
}

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn on_vm_start(&mut self, _size: usize) -> bool {
        describe("vm configuration", config::vm_configuration())
    }

    fn on_plugin_start(&mut self, _size: usize) -> bool {
        describe("plugin configuration", config::plugin_configuration())
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
    use proxywasm::emulator::Emulator;
    use proxywasm::LogLevel;

    proxywasm::emulator_tests! {
        plugin: new_root;

        fn logs_both_configurations(plugin) {
            let host = Emulator::builder()
                .vm_configuration("vm-wide")
                .plugin_configuration("per-plugin")
                .load(plugin);
            assert!(host.start_vm());
            assert!(host.start_plugin());
            let expected: Vec<String> = if proxywasm::abi::BufferType::VmConfiguration.is_defined() {
                vec![
                    "vm configuration: vm-wide".into(),
                    "plugin configuration: per-plugin".into(),
                ]
            } else {
                vec!["plugin configuration: per-plugin".into()]
            };
            assert_eq!(host.logs(LogLevel::Info), expected);
        }
    }
}
