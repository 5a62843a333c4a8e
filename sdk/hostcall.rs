//! Small helpers shared by the hostcall wrappers: status checks and host-allocated outputs.

use crate::error::{check, Error};
use crate::memory::HostBuffer;

/// Calls a hostcall that hands back a host-allocated buffer, and returns the buffer (freed on drop).
pub(crate) fn call_for_buffer(
    call: impl FnOnce(&mut *mut u8, &mut usize) -> u32,
) -> Result<HostBuffer, Error> {
    let mut buffer = HostBuffer::empty();
    let (data, size) = buffer.slots();
    check(call(data, size))?;
    Ok(buffer)
}

/// Calls a hostcall that hands back a host-allocated buffer, and returns a copy of its bytes.
pub(crate) fn call_for_bytes(
    call: impl FnOnce(&mut *mut u8, &mut usize) -> u32,
) -> Result<Vec<u8>, Error> {
    Ok(call_for_buffer(call)?.into_vec()?)
}

/// Like [`call_for_bytes`], but `NotFound` becomes `None`.
pub(crate) fn optional(result: Result<Vec<u8>, Error>) -> Result<Option<Vec<u8>>, Error> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
