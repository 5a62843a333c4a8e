//! The raw ABI of the selected version: bindings generated from `spec/` by `proxywasm-codegen`, checked in
//! under `sdk/generated/v<version>/` (rewritten by `cargo run -p proxywasm-codegen -- regenerate`; a test
//! fails when they are stale). `build.rs` turns the `abi-*` features into the cfg `proxywasm_abi` (see
//! [the crate docs](crate#choosing-the-abi-version) for the rule).
//!
//! - the enumerations ([`Status`], [`LogLevel`], [`MapType`], …), checked with `TryFrom<u32>`;
//! - [`env`](mod@env): the raw hostcalls, `extern "C"` on wasm32 and routed to [`native_host`] elsewhere; a
//!   hostcall the selected version lacks is a local stub that returns [`Status::Unimplemented`];
//! - [`EnvHost`]: the ABI as a host sees it, one method per hostcall in lifted types. On native targets
//!   [`native_host`] is the seam where a host running the plugin in its own process (the
//!   `proxywasm-emulator` crate, for tests) installs its implementation;
//! - [`Callbacks`]: the callbacks the plugin exports (implemented by the SDK's dispatcher).

#![allow(missing_docs, clippy::all, clippy::pedantic, unused_unsafe, dead_code)]

/// Includes the generated bindings of one version (a folder of `sdk/generated/`).
macro_rules! bindings {
    ($version:literal) => {
        include!(concat!("generated/", $version, "/types.rs"));
        include!(concat!("generated/", $version, "/imports.rs"));
        include!(concat!("generated/", $version, "/host.rs"));
        include!(concat!("generated/", $version, "/exports.rs"));
    };
}

#[cfg(proxywasm_abi = "0_1_0")]
bindings!("v0_1_0");
#[cfg(proxywasm_abi = "0_2_0")]
bindings!("v0_2_0");
#[cfg(proxywasm_abi = "0_2_1")]
bindings!("v0_2_1");

// Two `abi-*` features are enabled in the build: `build.rs` wrote the message (which names them).
#[cfg(proxywasm_abi_conflict)]
compile_error!(env!("PROXYWASM_ABI_CONFLICT"));
