//! # proxywasm
//!
//! A spec-first SDK for [Proxy-Wasm](https://github.com/proxy-wasm/spec) plugins: WebAssembly extensions
//! for Envoy and other proxies. The raw ABI is generated from the machine-readable spec in `spec/`; this
//! crate adds a safe API shaped like the Proxy-Wasm Go SDK: three context kinds ([`RootContext`],
//! [`HttpContext`], [`TcpContext`]), one entry point ([`main!`]) and free functions grouped by family,
//! each returning `Result<_, Error>`.
//!
//! One plugin source builds for every supported ABI version (see [below](#choosing-the-abi-version)). An
//! operation the selected version lacks returns [`Error::Unimplemented`], the status a host gives for a
//! hostcall it does not implement.
//!
//! ## A complete plugin
//!
//! ```no_run
//! use proxywasm::{Context, RootContext};
//! use std::time::Duration;
//!
//! struct Hello;
//!
//! impl Context for Hello {}
//!
//! impl RootContext for Hello {
//!     fn on_plugin_start(&mut self, _configuration_size: usize) -> bool {
//!         proxywasm::logging::info("hello from a plugin");
//!         proxywasm::timers::set_tick_period(Duration::from_secs(5)).is_ok()
//!     }
//!
//!     fn on_tick(&mut self) {
//!         proxywasm::infof!("tick");
//!     }
//! }
//!
//! fn new_root(_context_id: u32) -> Box<dyn RootContext> {
//!     Box::new(Hello)
//! }
//!
//! proxywasm::main!(new_root);
//! ```
//!
//! ## Choosing the ABI version
//!
//! The plugin (the `cdylib` crate) picks the version with one of the features `abi-0-1-0`, `abi-0-2-0`,
//! `abi-0-2-1`. Cargo enables a package's features for the whole build, so the rule is about every crate
//! that depends on `proxywasm`:
//!
//! - with no `abi-*` feature anywhere, the SDK compiles for the newest version, 0.2.1 (a weak default:
//!   there is no default feature to turn off);
//! - one `abi-*` feature, from any crate, selects that version;
//! - two different `abi-*` features are a compile error that names both.
//!
//! So a library crate that builds on `proxywasm` enables no `abi-*` feature and works under whichever
//! version the plugin that uses it picks. Code that must know the selected version reads
//! [`abi::ABI_VERSION`].
//!
//! ```toml
//! # the plugin
//! [dependencies]
//! proxywasm = { version = "0.1", features = ["abi-0-1-0"] }
//! # a library crate
//! [dependencies]
//! proxywasm = "0.1"
//! ```
//!
//! ## Testing
//!
//! On native targets the raw hostcalls go to a host installed on the current thread
//! ([`abi::native_host`]), so a plugin's unit tests run with plain `cargo test`. The host emulator that
//! plugs in there, and also runs the built `.wasm` in wasmtime, is a separate crate, `proxywasm-emulator`:
//! a plugin adds it as a dev-dependency, and nothing of it is compiled into the plugin.

#![warn(missing_docs)]

pub mod abi;
#[cfg(test)]
mod abi_selection;
mod buffers;
pub mod codec;
pub mod config;
pub mod context;
pub mod dispatcher;
pub mod error;
pub mod foreign;
pub mod grpc;
mod hostcall;
pub mod http;
pub mod http_call;
pub mod logging;
mod maps;
pub mod memory;
pub mod metrics;
pub mod properties;
pub mod queue;
pub mod shared_data;
pub mod task;
pub mod tcp;
pub mod time;
pub mod timers;
pub mod traits;
mod word;

pub use abi::{Action, LogLevel, PeerType};
pub use context::{done, set_effective_context};
pub use dispatcher::{set_root_context_factory, RootContextFactory};
pub use error::Error;
pub use traits::{Context, HttpContext, RootContext, TcpContext};

/// Declares the plugin's entry point: `proxywasm::main!(new_root);` where
/// `new_root: fn(context_id: u32) -> Box<dyn RootContext>` creates the root context of each plugin
/// configuration.
///
/// On `wasm32-wasip1` it exports `_initialize` (which runs static constructors, then installs the
/// factory); on other wasm32 targets it exports `_start`. Natively (for tests) it exports nothing: the
/// in-process host (the `proxywasm-emulator` crate) installs the factory itself.
#[macro_export]
macro_rules! main {
    ($factory:expr) => {
        #[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
        #[no_mangle]
        pub extern "C" fn _initialize() {
            extern "C" {
                fn __wasm_call_ctors();
            }
            // SAFETY: run once by the host before any callback, as the wasi reactor model requires.
            unsafe { __wasm_call_ctors() };
            $crate::set_root_context_factory($factory);
        }

        #[cfg(all(target_arch = "wasm32", not(target_os = "wasi")))]
        #[no_mangle]
        pub extern "C" fn _start() {
            $crate::set_root_context_factory($factory);
        }
    };
}
