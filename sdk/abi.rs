//! The raw ABI of the selected version: bindings generated from `spec/` by `proxywasm-codegen`, checked in
//! under `sdk/generated/v<version>/` (rewritten by `cargo run -p proxywasm-codegen -- regenerate`; a test
//! fails when they are stale). `build.rs` turns the selected feature into the cfg `proxywasm_abi`.
//!
//! - the enumerations ([`Status`], [`LogLevel`], [`MapType`], …), checked with `TryFrom<u32>`;
//! - [`env`](mod@env): the raw hostcalls, `extern "C"` on wasm32 and routed to [`native_host`] elsewhere; a
//!   hostcall the selected version lacks is a local stub that returns [`Status::Unimplemented`];
//! - [`EnvHost`]: the host-side trait (what the host emulator implements);
//! - [`Callbacks`]: the callbacks the plugin exports (implemented by the SDK's dispatcher).

#![allow(missing_docs, clippy::all, clippy::pedantic, unused_unsafe, dead_code)]

/// Includes the generated bindings of one version (a folder of `sdk/generated/`).
macro_rules! bindings {
    ($version:literal) => {
        include!(concat!("generated/", $version, "/types.rs"));
        include!(concat!("generated/", $version, "/imports.rs"));
        include!(concat!("generated/", $version, "/host.rs"));
        include!(concat!("generated/", $version, "/exports.rs"));

        /// The wasm runner's host glue for the selected version (feature `wasm-runner`).
        #[cfg(all(feature = "wasm-runner", not(target_arch = "wasm32")))]
        pub mod runner {
            use super::*;
            include!(concat!("generated/", $version, "/runner.rs"));
        }
    };
}

#[cfg(proxywasm_abi = "0_1_0")]
bindings!("v0_1_0");
#[cfg(proxywasm_abi = "0_2_0")]
bindings!("v0_2_0");
#[cfg(proxywasm_abi = "0_2_1")]
bindings!("v0_2_1");

#[cfg(all(
    feature = "abi-0-1-0",
    any(feature = "abi-0-2-0", feature = "abi-0-2-1")
))]
compile_error!(
    "proxywasm: more than one ABI version is selected. Enable exactly one of the features `abi-0-1-0`, \
     `abi-0-2-0`, `abi-0-2-1`; to select an older one, depend on proxywasm with \
     `default-features = false` (or build with `--no-default-features --features abi-0-1-0`)."
);
#[cfg(all(feature = "abi-0-2-0", feature = "abi-0-2-1"))]
compile_error!(
    "proxywasm: more than one ABI version is selected. Enable exactly one of the features `abi-0-1-0`, \
     `abi-0-2-0`, `abi-0-2-1`; to select an older one, depend on proxywasm with \
     `default-features = false` (or build with `--no-default-features --features abi-0-2-0`)."
);
#[cfg(not(any(feature = "abi-0-1-0", feature = "abi-0-2-0", feature = "abi-0-2-1")))]
compile_error!(
    "proxywasm: no ABI version is selected. Enable one of the features `abi-0-1-0`, `abi-0-2-0`, \
     `abi-0-2-1` (the default is `abi-0-2-1`)."
);
