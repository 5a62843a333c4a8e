//! Header, trailer and metadata maps: the raw map hostcalls behind every family that reads or writes
//! one (HTTP headers and trailers, HTTP-call responses, gRPC metadata).

use crate::abi::{env, MapType};
use crate::codec::{decode_map_bytes, decode_map_utf8, encode_map, DecodeError, OwnedBytePair};
use crate::error::{check, Error};
use crate::hostcall::{call_for_buffer, call_for_bytes, optional};
use crate::memory::HostBuffer;

/// Every entry of `map`, in order, duplicates kept; non-UTF-8 text is [`Error::Malformed`].
pub(crate) fn pairs(map: MapType) -> Result<Vec<(String, String)>, Error> {
    let buffer = call_for_buffer(|data, size| {
        env::safe::proxy_get_header_map_pairs(map.into(), data, size)
    })?;
    Ok(decode_map_utf8(buffer.bytes()?)?)
}

/// `map` as the host serialized it (decoded later by the caller).
pub(crate) fn serialized(map: MapType) -> Result<Vec<u8>, Error> {
    call_for_bytes(|data, size| env::safe::proxy_get_header_map_pairs(map.into(), data, size))
}

/// Every entry of `map` as raw bytes.
pub(crate) fn pairs_bytes(map: MapType) -> Result<Vec<OwnedBytePair>, Error> {
    let buffer = call_for_buffer(|data, size| {
        env::safe::proxy_get_header_map_pairs(map.into(), data, size)
    })?;
    Ok(decode_map_bytes(buffer.bytes()?)?)
}

/// Replaces every entry of `map`.
pub(crate) fn set_pairs(map: MapType, pairs: &[(&str, &str)]) -> Result<(), Error> {
    let bytes = encode_map(pairs);
    check(env::safe::proxy_set_header_map_pairs(map.into(), &bytes))
}

/// The first value of `key` in `map`, or `None`.
pub(crate) fn value(map: MapType, key: &str) -> Result<Option<String>, Error> {
    optional(call_for_bytes(|data, size| {
        env::safe::proxy_get_header_map_value(map.into(), key.as_bytes(), data, size)
    }))?
    .map(|v| String::from_utf8(v).map_err(|_| Error::Malformed(DecodeError::NotUtf8)))
    .transpose()
}

/// Runs `f` on the first value of `key` in `map` (`None` when absent), read in place: no copy, no
/// UTF-8 check; the host's buffer is freed (or kept for the next read) when `f` returns.
pub(crate) fn with_value<T>(
    map: MapType,
    key: &str,
    f: impl FnOnce(Option<&[u8]>) -> T,
) -> Result<T, Error> {
    // The buffer stays where the host writes it (not moved out of a `Result`).
    let mut buffer = HostBuffer::empty();
    let (data, size) = buffer.slots();
    match check(env::safe::proxy_get_header_map_value(
        map.into(),
        key.as_bytes(),
        data,
        size,
    )) {
        Ok(()) => Ok(f(Some(buffer.bytes()?))),
        Err(Error::NotFound) => Ok(f(None)),
        Err(e) => Err(e),
    }
}

/// Adds an entry, keeping existing ones with the same key.
pub(crate) fn add(map: MapType, key: &str, value: &str) -> Result<(), Error> {
    check(env::safe::proxy_add_header_map_value(
        map.into(),
        key.as_bytes(),
        value.as_bytes(),
    ))
}

/// Sets `key` to `value`, replacing the entries with that key (adding it when absent).
pub(crate) fn replace(map: MapType, key: &str, value: &str) -> Result<(), Error> {
    check(env::safe::proxy_replace_header_map_value(
        map.into(),
        key.as_bytes(),
        value.as_bytes(),
    ))
}

/// Removes every entry with `key`.
pub(crate) fn remove(map: MapType, key: &str) -> Result<(), Error> {
    check(env::safe::proxy_remove_header_map_value(
        map.into(),
        key.as_bytes(),
    ))
}

/// The serialized size of `map`.
pub(crate) fn size(map: MapType) -> Result<usize, Error> {
    let mut size = 0usize;
    check(env::safe::proxy_get_header_map_size(map.into(), &mut size))?;
    Ok(size)
}
