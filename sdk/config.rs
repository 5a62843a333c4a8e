//! The VM and plugin configurations the proxy hands to the plugin.
//!
//! ABI 0.2.x exposes them as buffers (`vm_configuration`, `plugin_configuration`). ABI 0.1.0 has one
//! hostcall, `proxy_get_configuration`, whose answer depends on the callback: Envoy's
//! `Context::getConfiguration` (source/extensions/common/wasm/context.cc) returns the plugin
//! configuration while a plugin is being configured (`proxy_on_configure`, where cpp-host sets
//! `temp_plugin_`) and the VM configuration otherwise, so during `proxy_on_vm_start` it is the VM
//! configuration. The functions here use whichever the selected version has; under 0.1.0 they answer only
//! inside the callback where the host's answer is the one asked for, never the other configuration.

use crate::abi::{env, BufferType};
use crate::error::Error;
use crate::hostcall::{call_for_bytes, optional};
use std::cell::Cell;

/// Which start callback runs (set by the dispatcher around `on_vm_start` / `on_plugin_start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// `proxy_on_vm_start`.
    Vm,
    /// `proxy_on_configure`.
    Plugin,
}

thread_local! {
    static RUNNING: Cell<Option<Start>> = const { Cell::new(None) };
}

/// Runs `f` as start callback `start`, so the configuration readers know which one they are in.
pub(crate) fn during<T>(start: Start, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Start>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = RUNNING.try_with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(RUNNING.with(|r| r.replace(Some(start))));
    f()
}

fn running() -> Option<Start> {
    RUNNING.with(Cell::get)
}

fn buffer(kind: BufferType) -> Result<Option<Vec<u8>>, Error> {
    optional(call_for_bytes(|data, size| {
        env::safe::proxy_get_buffer_bytes(kind.into(), 0, u32::MAX as usize, data, size)
    }))
}

/// ABI 0.1.0's `proxy_get_configuration`, asked only inside the start callback `start`.
fn configuration_during(start: Start) -> Result<Option<Vec<u8>>, Error> {
    if running() != Some(start) {
        return Err(Error::BadArgument);
    }
    optional(call_for_bytes(|data, size| {
        env::safe::proxy_get_configuration(data, size)
    }))
}

/// The VM configuration, or `None` when the proxy gave none. Call it from
/// [`crate::RootContext::on_vm_start`]. Errors: [`Error::BadArgument`] outside `on_vm_start` under ABI
/// 0.1.0 (where the host would answer with the plugin configuration inside `on_plugin_start`), and on
/// hosts that refuse it elsewhere.
pub fn vm_configuration() -> Result<Option<Vec<u8>>, Error> {
    if BufferType::VmConfiguration.is_defined() {
        return buffer(BufferType::VmConfiguration);
    }
    configuration_during(Start::Vm)
}

/// The plugin configuration, or `None` when the proxy gave none. Call it from
/// [`crate::RootContext::on_plugin_start`]. Errors: [`Error::BadArgument`] outside `on_plugin_start`
/// (under ABI 0.1.0 always, since the host would answer with the VM configuration there; under 0.2.x on
/// hosts that refuse it).
pub fn plugin_configuration() -> Result<Option<Vec<u8>>, Error> {
    if BufferType::PluginConfiguration.is_defined() {
        return buffer(BufferType::PluginConfiguration);
    }
    configuration_during(Start::Plugin)
}
