//! `proxywasm-conformance`: audits Proxy-Wasm plugin binaries against the ABI version they declare,
//! with two verdicts never confused: whether a real host loads the module (a host profile, default the
//! newest cpp-host) and whether it stays within the written spec (`--spec-only`).
//!
//! What a version allows comes from the symbol tables generated from `spec/` at build time
//! ([`symbols`]); what a host registers, looks up and refuses comes from the host profiles generated
//! from `spec/hosts/` ([`profile`]). Nothing is written by hand here.
//!
//! ```no_run
//! use proxywasm_conformance::{audit_at, AbiChoice, ExpectList, Level};
//! let bytes = std::fs::read("plugin.wasm")?;
//! let report = audit_at(&bytes, AbiChoice::Auto, &Level::newest_host(), None)?;
//! for finding in &report.findings {
//!     println!("{finding}");
//! }
//! assert_eq!(report.loads, Some(true));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod audit;
pub mod cli;
mod date;
pub mod describe;
pub mod findings;
pub mod fleet;
pub mod module;
pub mod profile;
pub mod sarif;
pub mod sha256;
pub mod symbols;

pub use audit::{
    audit, audit_at, audit_module, audit_module_at, AbiChoice, ExpectList, Level, UnknownAbi,
};
pub use findings::{FileReport, Finding, FindingId, JsonOutput, Report, Scope, Severity};
pub use module::{parse, ModuleInfo, ParseError};
pub use profile::{HostProfile, HostTarget, UnknownHost};
pub use symbols::{AbiSymbols, RequiredGroup, Symbol, ValType};
