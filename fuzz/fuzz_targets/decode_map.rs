//! Fuzzes the header-map decoder with arbitrary bytes: it must return a value or a `DecodeError`, never
//! panic, and whatever it accepts must re-encode to the same bytes.
//!
//! Run with `cargo +nightly fuzz run decode_map` from the repository root.

#![no_main]

use libfuzzer_sys::fuzz_target;
use proxywasm::codec::{decode_map, encode_map};

fuzz_target!(|data: &[u8]| {
    if let Ok(pairs) = decode_map(data) {
        if !data.is_empty() {
            assert_eq!(encode_map(&pairs), data);
        }
    }
});
