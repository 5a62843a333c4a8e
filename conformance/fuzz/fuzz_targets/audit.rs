//! The audit over arbitrary bytes, against every known version and `auto`: it must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proxywasm_conformance::{audit, symbols, AbiChoice, ExpectList};

fuzz_target!(|data: &[u8]| {
    let expect = ExpectList::parse("env.proxy_log\nfd_write\n");
    let _ = audit(data, AbiChoice::Auto, Some(&expect));
    for abi in symbols::versions() {
        let _ = audit(data, AbiChoice::Version(abi), None);
    }
});
