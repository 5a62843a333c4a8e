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

/// Includes the generated bindings of one version (a folder of `sdk/generated/`). It is invoked from
/// `sdk/generated/select.rs`, so the paths are relative to that folder.
macro_rules! bindings {
    ($version:literal) => {
        include!(concat!($version, "/types.rs"));
        include!(concat!($version, "/imports.rs"));
        include!(concat!($version, "/host.rs"));
        include!(concat!($version, "/exports.rs"));

        /// The wasm runner's host glue for the selected version (feature `wasm-runner`).
        #[cfg(all(feature = "wasm-runner", not(target_arch = "wasm32")))]
        pub mod runner {
            use super::*;
            include!(concat!($version, "/runner.rs"));
        }
    };
}

// The bindings of the selected version, and the errors for no or several selected versions: generated
// from the list of versions in `spec/`.
include!("generated/select.rs");
