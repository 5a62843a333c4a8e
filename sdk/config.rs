//! The VM and plugin configurations the proxy hands to the plugin.
//!
//! ABI 0.2.x exposes them as buffers (`vm_configuration`, `plugin_configuration`); ABI 0.1.0 has
//! `proxy_get_configuration` instead, for the plugin configuration only. The functions here use whichever
//! the selected version has.

use crate::abi::{env, BufferType};
use crate::error::Error;
use crate::hostcall::{call_for_bytes, optional};

fn buffer(kind: BufferType) -> Result<Option<Vec<u8>>, Error> {
    optional(call_for_bytes(|data, size| {
        // SAFETY: the out-pointers come from a live HostBuffer.
        unsafe { env::proxy_get_buffer_bytes(kind.into(), 0, u32::MAX as usize, data, size) }
    }))
}

/// The VM configuration, or `None` when the proxy gave none. Call it from
/// [`crate::RootContext::on_vm_start`]. Errors: [`Error::Unimplemented`] under ABI 0.1.0 (which has no way
/// to read it), [`Error::BadArgument`] outside `on_vm_start` on hosts that refuse it there.
pub fn vm_configuration() -> Result<Option<Vec<u8>>, Error> {
    match buffer(BufferType::VmConfiguration) {
        Err(Error::BadArgument) if !BufferType::VmConfiguration.is_defined() => {
            Err(Error::Unimplemented)
        }
        other => other,
    }
}

/// The plugin configuration, or `None` when the proxy gave none. Call it from
/// [`crate::RootContext::on_plugin_start`]. Errors: [`Error::BadArgument`] outside `on_plugin_start` on
/// hosts that refuse it there.
pub fn plugin_configuration() -> Result<Option<Vec<u8>>, Error> {
    if BufferType::PluginConfiguration.is_defined() {
        return buffer(BufferType::PluginConfiguration);
    }
    optional(call_for_bytes(|data, size| {
        // SAFETY: the out-pointers come from a live HostBuffer.
        unsafe { env::proxy_get_configuration(data, size) }
    }))
}
