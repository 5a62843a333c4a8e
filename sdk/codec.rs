//! Encoding and decoding of what crosses the boundary as bytes: header maps and property paths. Decoding
//! never panics and never reads out of bounds; malformed bytes give a [`DecodeError`].

use core::fmt;

/// Why bytes from the host could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The data ends before the structure it announces.
    Truncated,
    /// A key or value is not followed by its NUL terminator.
    MissingTerminator,
    /// Bytes remain after the announced structure.
    TrailingBytes,
    /// A text value is not valid UTF-8.
    NotUtf8,
    /// A property value does not have the size its type requires.
    WrongSize,
    /// The host reported a buffer longer than the memory it allocated, or a length without a buffer.
    BadBuffer,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeError::Truncated => "data ends before the structure it announces",
            DecodeError::MissingTerminator => "a key or value lacks its NUL terminator",
            DecodeError::TrailingBytes => "bytes remain after the announced structure",
            DecodeError::NotUtf8 => "text is not valid UTF-8",
            DecodeError::WrongSize => "value has the wrong size for its type",
            DecodeError::BadBuffer => "buffer length exceeds the allocated memory",
        })
    }
}

impl std::error::Error for DecodeError {}

/// Serializes header pairs in the ABI's map format (see `spec/types.witx`, `$serialized_map`).
pub fn encode_map<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Vec<u8> {
    let body: usize = pairs
        .iter()
        .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
        .sum();
    let mut out = Vec::with_capacity(4 + pairs.len() * 8 + body);
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.as_ref().len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.as_ref().len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_ref());
        out.push(0);
        out.extend_from_slice(v.as_ref());
        out.push(0);
    }
    out
}

fn read_u32(bytes: &[u8], at: usize) -> Result<usize, DecodeError> {
    let end = at.checked_add(4).ok_or(DecodeError::Truncated)?;
    let word = bytes.get(at..end).ok_or(DecodeError::Truncated)?;
    let mut le = [0u8; 4];
    le.copy_from_slice(word);
    Ok(u32::from_le_bytes(le) as usize)
}

/// One borrowed `(key, value)` entry of a decoded map.
pub type BytePair<'a> = (&'a [u8], &'a [u8]);

/// Walks a serialized map, checking all of it, and hands each `(key, value)` entry to `visit` in order.
/// Answers the number of entries.
fn walk_map<'a>(
    bytes: &'a [u8],
    mut visit: impl FnMut(&'a [u8], &'a [u8]),
) -> Result<usize, DecodeError> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let count = read_u32(bytes, 0)?;
    // Each pair needs at least 8 size bytes and 2 terminators: reject impossible counts before allocating.
    if count > bytes.len() / 10 + 1 {
        return Err(DecodeError::Truncated);
    }
    let mut data = 4usize
        .checked_add(count.checked_mul(8).ok_or(DecodeError::Truncated)?)
        .ok_or(DecodeError::Truncated)?;
    if data > bytes.len() {
        return Err(DecodeError::Truncated);
    }
    let take = |len: usize, data: &mut usize| -> Result<&'a [u8], DecodeError> {
        let end = data.checked_add(len).ok_or(DecodeError::Truncated)?;
        let item = bytes.get(*data..end).ok_or(DecodeError::Truncated)?;
        match bytes.get(end) {
            Some(0) => {}
            Some(_) => return Err(DecodeError::MissingTerminator),
            None => return Err(DecodeError::Truncated),
        }
        *data = end + 1;
        Ok(item)
    };
    for i in 0..count {
        let key_len = read_u32(bytes, 4 + i * 8)?;
        let value_len = read_u32(bytes, 8 + i * 8)?;
        let key = take(key_len, &mut data)?;
        let value = take(value_len, &mut data)?;
        visit(key, value);
    }
    if data != bytes.len() {
        return Err(DecodeError::TrailingBytes);
    }
    Ok(count)
}

/// Decodes a serialized map into borrowed `(key, value)` byte pairs, in order, duplicates kept.
pub fn decode_map(bytes: &[u8]) -> Result<Vec<BytePair<'_>>, DecodeError> {
    let mut pairs = Vec::new();
    walk_map(bytes, |key, value| pairs.push((key, value)))?;
    Ok(pairs)
}

/// The value of the first entry named `key` in a serialized map (`None` when absent), without
/// allocating; the whole map is checked as [`decode_map`] checks it.
pub fn find_in_map<'a>(bytes: &'a [u8], key: &[u8]) -> Result<Option<&'a [u8]>, DecodeError> {
    let mut found = None;
    walk_map(bytes, |k, v| {
        if found.is_none() && k == key {
            found = Some(v);
        }
    })?;
    Ok(found)
}

/// Decodes a serialized map into owned text pairs; a non-UTF-8 key or value is an error.
pub fn decode_map_utf8(bytes: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    decode_map(bytes)?
        .into_iter()
        .map(|(k, v)| Ok((utf8(k)?, utf8(v)?)))
        .collect()
}

/// One owned `(key, value)` entry of a decoded map.
pub type OwnedBytePair = (Vec<u8>, Vec<u8>);

/// Decodes a serialized map into owned byte pairs.
pub fn decode_map_bytes(bytes: &[u8]) -> Result<Vec<OwnedBytePair>, DecodeError> {
    Ok(decode_map(bytes)?
        .into_iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect())
}

/// Owned UTF-8 text from bytes.
pub fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::NotUtf8)
}

/// Serializes a property path: the segments joined by NUL bytes, with no NUL after the last one (what
/// the official SDKs send). The bytes matter beyond parsing: Envoy's `setProperty`
/// (source/extensions/common/wasm/context.cc) keys the filter state by `wasm.` followed by these exact
/// bytes, so a trailing NUL would name a key no reader finds.
pub fn encode_path<S: AsRef<[u8]>>(segments: &[S]) -> Vec<u8> {
    let mut out = Vec::with_capacity(segments.iter().map(|s| s.as_ref().len() + 1).sum());
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(s.as_ref());
    }
    out
}

/// Splits a serialized property path back into its segments the way Envoy's `getProperty` does: at each
/// NUL byte, a single trailing NUL tolerated (older SDKs sent one). An empty path has no segments.
pub fn decode_path(bytes: &[u8]) -> Vec<&[u8]> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    bytes.split(|b| *b == 0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_in_map_answers_the_first_entry_and_checks_the_whole_map() {
        let bytes = encode_map(&[("a", "1"), ("b", ""), ("a", "2")]);
        assert_eq!(find_in_map(&bytes, b"a"), Ok(Some(&b"1"[..])));
        assert_eq!(find_in_map(&bytes, b"b"), Ok(Some(&b""[..])));
        assert_eq!(find_in_map(&bytes, b"c"), Ok(None));
        assert_eq!(find_in_map(&[], b"a"), Ok(None));
        let mut corrupt = bytes.clone();
        corrupt.push(0);
        assert_eq!(find_in_map(&corrupt, b"a"), Err(DecodeError::TrailingBytes));
        let last = bytes.len() - 1;
        let mut unterminated = bytes;
        unterminated[last] = b'x';
        assert_eq!(
            find_in_map(&unterminated, b"a"),
            Err(DecodeError::MissingTerminator)
        );
    }

    #[test]
    fn maps_round_trip_with_order_and_duplicates() {
        let pairs = [("a", "1"), ("b", ""), ("a", "2")];
        let bytes = encode_map(&pairs);
        let decoded = decode_map(&bytes).unwrap();
        let expected: Vec<BytePair> = pairs
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        assert_eq!(decoded, expected);
        assert_eq!(
            decode_map_utf8(&bytes).unwrap()[2],
            ("a".to_string(), "2".to_string())
        );
    }

    #[test]
    fn the_wire_format_is_the_one_the_spec_prose_describes() {
        let bytes = encode_map(&[("k", "vv")]);
        assert_eq!(
            bytes,
            [1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, b'k', 0, b'v', b'v', 0]
        );
    }

    #[test]
    fn malformed_maps_are_errors() {
        let good = encode_map(&[("key", "value")]);
        assert_eq!(decode_map(&good[..3]), Err(DecodeError::Truncated));
        for cut in 1..good.len() {
            assert!(decode_map(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut no_nul = good.clone();
        let last = no_nul.len() - 1;
        no_nul[last] = b'x';
        assert_eq!(decode_map(&no_nul), Err(DecodeError::MissingTerminator));
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode_map(&trailing), Err(DecodeError::TrailingBytes));
        assert_eq!(
            decode_map(&[0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::Truncated)
        );
        let mut huge_len = good.clone();
        huge_len[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode_map(&huge_len), Err(DecodeError::Truncated));
        assert_eq!(
            decode_map_utf8(&encode_map(&[(b"k".as_slice(), [0xffu8].as_slice())])),
            Err(DecodeError::NotUtf8)
        );
        assert_eq!(decode_map(&[]), Ok(vec![]));
    }

    #[test]
    fn paths_are_nul_separated_without_a_trailing_nul() {
        let bytes = encode_path(&["request", "headers"]);
        assert_eq!(bytes, b"request\0headers");
        assert_eq!(encode_path(&["seen_path"]), b"seen_path");
        assert_eq!(encode_path::<&str>(&[]), b"");
        assert_eq!(
            decode_path(&bytes),
            vec![b"request".as_slice(), b"headers".as_slice()]
        );
        // A trailing NUL, as older SDKs sent, is tolerated when reading.
        assert_eq!(
            decode_path(b"request\0headers\0"),
            vec![b"request".as_slice(), b"headers".as_slice()]
        );
        assert_eq!(decode_path(b"x"), vec![b"x".as_slice()]);
        assert!(decode_path(b"").is_empty());
    }

    #[test]
    fn every_prefix_and_mutation_of_a_map_decodes_or_errs_without_panicking() {
        let good = encode_map(&[("alpha", "1"), ("beta", "two"), ("alpha", "")]);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut m = good.clone();
            let i = (state as usize) % m.len();
            m[i] = (state >> 32) as u8;
            let _ = decode_map(&m[..(state as usize >> 8) % (m.len() + 1)]);
        }
    }
}
