//! `proxywasm-codegen`: reads the Proxy-Wasm ABI spec (`spec/*.witx`) into one model ([`model::Abi`])
//! and emits Rust from it: raw guest imports, export shims and their dispatcher trait, the host-side
//! trait and its native glue, and the expected-symbol tables. It also reads the host profiles
//! (`spec/hosts/*.json`, [`hosts`]), checks them against the spec, and emits them as tables for the
//! conformance audit ([`emit::profile`]).
//!
//! ```no_run
//! use proxywasm_codegen::{emit, parser, version::{default_spec_dir, Version}};
//! let all: Vec<_> = Version::ALL
//!     .into_iter()
//!     .map(|v| parser::load(&default_spec_dir(), v))
//!     .collect::<Result<_, _>>()?;
//! let abi = &all[2];
//! for file in emit::generate(abi, &all, &emit::Options::default())? {
//!     println!("{}: {} bytes", file.name, file.contents.len());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod emit;
pub mod expand;
pub mod hosts;
pub mod listing;
pub mod lowering;
pub mod model;
pub mod names;
pub mod parser;
pub mod regenerate;
pub mod version;

pub use model::Abi;
pub use version::Version;
