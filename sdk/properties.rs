//! Properties: values the proxy exposes by path (`["request", "path"]`, `["source", "address"]`, …)
//! and custom ones a plugin sets (filter state). Available in every callback; which paths exist depends on
//! the callback (request properties only during a request).

use crate::abi::env;
use crate::codec::{encode_path, DecodeError};
use crate::error::{check, Error};
use crate::hostcall::{call_for_bytes, optional};

/// The raw value of the property at `path`, or `None` when the host has none.
pub fn get(path: &[&str]) -> Result<Option<Vec<u8>>, Error> {
    let path = encode_path(path);
    optional(call_for_bytes(|data, size| {
        env::safe::proxy_get_property(&path, data, size)
    }))
}

/// The property at `path` as UTF-8 text. Errors: [`Error::Malformed`] when it is not text.
pub fn get_string(path: &[&str]) -> Result<Option<String>, Error> {
    get(path)?
        .map(|v| String::from_utf8(v).map_err(|_| Error::Malformed(DecodeError::NotUtf8)))
        .transpose()
}

/// The property at `path` as an integer (hosts encode them as 8 little-endian bytes).
/// Errors: [`Error::Malformed`] with [`DecodeError::WrongSize`] when it is not 8 bytes long.
pub fn get_u64(path: &[&str]) -> Result<Option<u64>, Error> {
    get(path)?.map(|v| decode_u64(&v)).transpose()
}

/// Decodes an 8-byte little-endian integer property value.
pub fn decode_u64(bytes: &[u8]) -> Result<u64, Error> {
    let bytes: [u8; 8] = bytes
        .try_into()
        .map_err(|_| Error::Malformed(DecodeError::WrongSize))?;
    Ok(u64::from_le_bytes(bytes))
}

/// Sets the property at `path` to `value`. Errors: [`Error::NotFound`] / [`Error::BadArgument`] when the
/// host does not allow writing that path.
pub fn set(path: &[&str], value: &[u8]) -> Result<(), Error> {
    let path = encode_path(path);
    check(env::safe::proxy_set_property(&path, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_properties_need_exactly_eight_bytes() {
        assert_eq!(decode_u64(&7u64.to_le_bytes()), Ok(7));
        assert_eq!(
            decode_u64(&[1, 2, 3]),
            Err(Error::Malformed(DecodeError::WrongSize))
        );
    }
}
