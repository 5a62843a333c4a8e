//! VM and plugin configuration: logs the VM configuration when the VM starts and the plugin configuration
//! when the plugin starts, under every ABI version (0.1.0 reads both through `proxy_get_configuration`).

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
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn logs_both_configurations(plugin) {
            let host = Emulator::builder()
                .vm_configuration("vm-wide")
                .plugin_configuration("per-plugin")
                .load(plugin);
            assert!(host.start_vm());
            assert!(host.start_plugin());
            let expected = [
                "vm configuration: vm-wide".to_string(),
                "plugin configuration: per-plugin".to_string(),
            ];
            assert_eq!(host.logs(LogLevel::Info), expected);
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
