//! The host side of the selected ABI version, generated from `spec/` by `proxywasm-codegen` and checked in
//! under `emulator/generated/v<version>/` (rewritten by `cargo run -p proxywasm-codegen -- regenerate`; a
//! test of the repository fails when they are stale). The version is the one the guest SDK was compiled
//! for (`build.rs`).
//!
//! - [`PluginInstance`]: a plugin as a host calls it, one method per callback in lifted types;
//! - [`InProcess`]: that trait over the guest SDK's `Callbacks`, for a plugin compiled into the test;
//! - `runner`: the wasm runner's glue (every import of the version registered in wasmtime, every export
//!   as a typed function, and `WasmInstance`, the trait over a `.wasm` module).

#![allow(missing_docs, clippy::all, clippy::pedantic, unused_unsafe, dead_code)]

// The generated files name the guest's raw ABI (`Callbacks`, the enumerations, `EnvHost`) unqualified.
use proxywasm::abi::*;

/// Includes the host glue of one version (a folder of `emulator/generated/`), and checks at compile time
/// that the guest SDK was compiled for the same version.
macro_rules! glue {
    ($folder:literal, $version:literal) => {
        include!(concat!("../generated/", $folder, "/instance.rs"));

        /// The wasm runner's host glue for the selected version.
        pub(crate) mod runner {
            use super::*;
            include!(concat!("../generated/", $folder, "/runner.rs"));
        }

        const _: () = assert!(
            same(proxywasm::abi::ABI_VERSION, $version),
            "proxywasm-emulator compiled host glue for another ABI version than the proxywasm SDK"
        );
    };
}

#[cfg(proxywasm_abi = "0_1_0")]
glue!("v0_1_0", "0.1.0");
#[cfg(proxywasm_abi = "0_2_0")]
glue!("v0_2_0", "0.2.0");
#[cfg(proxywasm_abi = "0_2_1")]
glue!("v0_2_1", "0.2.1");

/// Whether two strings are equal, at compile time.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
