//! Byte buffers: the raw buffer hostcalls behind bodies, TCP data, call responses and configurations.

use crate::abi::{env, BufferType};
use crate::error::{check, Error};
use crate::hostcall::{call_for_bytes, optional};

/// `size` bytes of `buffer` from `start` (the host clamps to what is there); empty when absent.
pub(crate) fn get(buffer: BufferType, start: usize, size: usize) -> Result<Vec<u8>, Error> {
    Ok(optional(call_for_bytes(|data, out| {
        env::safe::proxy_get_buffer_bytes(buffer.into(), start, size, data, out)
    }))?
    .unwrap_or_default())
}

/// Replaces `size` bytes of `buffer` at `start` with `value`: `(0, 0)` prepends, `(len, 0)` appends,
/// `(0, len)` replaces everything.
pub(crate) fn set(
    buffer: BufferType,
    start: usize,
    size: usize,
    value: &[u8],
) -> Result<(), Error> {
    check(env::safe::proxy_set_buffer_bytes(
        buffer.into(),
        start,
        size,
        value,
    ))
}

/// The size of `buffer`.
pub(crate) fn size(buffer: BufferType) -> Result<usize, Error> {
    let (mut size, mut flags) = (0usize, 0u32);
    check(env::safe::proxy_get_buffer_status(
        buffer.into(),
        &mut size,
        &mut flags,
    ))?;
    Ok(size)
}

/// The whole of `buffer`.
pub(crate) fn all(buffer: BufferType) -> Result<Vec<u8>, Error> {
    get(buffer, 0, u32::MAX as usize)
}

/// Replaces the whole of `buffer` with `value`.
pub(crate) fn replace_all(buffer: BufferType, value: &[u8]) -> Result<(), Error> {
    set(buffer, 0, u32::MAX as usize, value)
}

/// Appends `value` to `buffer`.
pub(crate) fn append(buffer: BufferType, value: &[u8]) -> Result<(), Error> {
    set(buffer, u32::MAX as usize, 0, value)
}

/// Prepends `value` to `buffer`.
pub(crate) fn prepend(buffer: BufferType, value: &[u8]) -> Result<(), Error> {
    set(buffer, 0, 0, value)
}
