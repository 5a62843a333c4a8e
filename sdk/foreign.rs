//! Foreign functions: calling functions the host registered by name, and reading the arguments of the
//! host's calls into the plugin ([`crate::RootContext::on_foreign_function`]).

use crate::abi::{env, BufferType};
use crate::buffers;
use crate::error::Error;
use crate::hostcall::call_for_bytes;

/// Calls the host function `name` with serialized `arguments`; returns its serialized results.
/// Errors: [`Error::NotFound`] when the host has no such function, or whatever the function returns.
pub fn call_foreign_function(name: &str, arguments: &[u8]) -> Result<Vec<u8>, Error> {
    call_for_bytes(|data, size| {
        env::safe::proxy_call_foreign_function(name.as_bytes(), arguments, data, size)
    })
}

/// The arguments of the foreign-function call being delivered; available in
/// [`crate::RootContext::on_foreign_function`]. Errors: [`Error::BadArgument`] elsewhere, and under ABI
/// 0.1.0 (which has no such calls).
pub fn call_arguments() -> Result<Vec<u8>, Error> {
    buffers::all(BufferType::CallData)
}
