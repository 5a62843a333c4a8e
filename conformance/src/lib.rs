//! `proxywasm-conformance`: audits Proxy-Wasm plugin binaries against the ABI version they declare.
//!
//! Everything the audit knows about what a version allows comes from the symbol tables generated from
//! `spec/` at build time ([`symbols`]); nothing is written by hand here.
//!
//! ```no_run
//! use proxywasm_conformance::{audit, AbiChoice, ExpectList};
//! let bytes = std::fs::read("plugin.wasm")?;
//! let expect = ExpectList::parse("env.proxy_log\n");
//! let report = audit(&bytes, AbiChoice::Auto, Some(&expect))?;
//! for finding in &report.findings {
//!     println!("{finding}");
//! }
//! assert!(report.ok);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod audit;
pub mod findings;
pub mod module;
pub mod symbols;

pub use audit::{audit, audit_module, AbiChoice, ExpectList, UnknownAbi};
pub use findings::{FileReport, Finding, FindingId, JsonOutput, Report, Severity};
pub use module::{parse, ModuleInfo, ParseError};
pub use symbols::{AbiSymbols, RequiredGroup, Symbol, ValType};
