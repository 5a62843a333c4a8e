//! The VM-wide key-value store shared by every plugin of one VM id, with compare-and-swap versions.
//! Available in every callback.

use crate::abi::env;
use crate::error::{check, Error};
use crate::memory::HostBuffer;

/// The value of `key` (`None` when absent) and its current version, to pass to [`set`] for a
/// compare-and-swap. Errors: only what the host reports besides "not found".
pub fn get(key: &str) -> Result<(Option<Vec<u8>>, u32), Error> {
    let mut value = HostBuffer::empty();
    let mut cas = 0u32;
    let (data, size) = value.slots();
    match check(env::safe::proxy_get_shared_data(
        key.as_bytes(),
        data,
        size,
        &mut cas,
    )) {
        Ok(()) => Ok((Some(value.into_vec()?), cas)),
        Err(Error::NotFound) => Ok((None, 0)),
        Err(e) => Err(e),
    }
}

/// Runs `f` on the value of `key` read in place (`None` when absent) and its current version, and
/// returns what `f` returns: no copy, for a caller that only looks at the value (a counter, a flag).
/// The version is what [`set`] takes for a compare-and-swap. Errors: as [`get`].
pub fn with_entry<T>(key: &str, f: impl FnOnce(Option<&[u8]>, u32) -> T) -> Result<T, Error> {
    let mut value = HostBuffer::empty();
    let mut cas = 0u32;
    let (data, size) = value.slots();
    match check(env::safe::proxy_get_shared_data(
        key.as_bytes(),
        data,
        size,
        &mut cas,
    )) {
        Ok(()) => Ok(f(Some(value.bytes()?), cas)),
        Err(Error::NotFound) => Ok(f(None, 0)),
        Err(e) => Err(e),
    }
}

/// Sets `key` to `value`. With `cas` 0 the write is unconditional; otherwise it succeeds only if the
/// entry's version is still `cas`, and fails with [`Error::CasMismatch`] when another writer got there
/// first: read again with [`get`] and retry.
pub fn set(key: &str, value: &[u8], cas: u32) -> Result<(), Error> {
    check(env::safe::proxy_set_shared_data(key.as_bytes(), value, cas))
}
