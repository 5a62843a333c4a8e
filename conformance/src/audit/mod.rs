//! The checks: a parsed module against one version's symbol table (the written spec) and, unless
//! `--spec-only`, against a host profile (what the host registers, looks up and refuses).
//!
//! Two verdicts, never confused: a finding of scope [`Scope::Host`] and severity error means the host
//! would refuse the module; a finding of scope [`Scope::Spec`] is about the written spec only, an error
//! under `--spec-only` and a warning under a host profile (the host tolerates it).

use crate::describe;
use crate::findings::{Finding, FindingId, Report, Scope, Severity};
use crate::module::{parse, ItemKind, ModuleInfo, ParseError, Signature};
use crate::profile::{HostTarget, Lookup, Reaction};
use crate::symbols::{self, AbiSymbols, ValType, CALLBACK_PREFIX, MEMORY_EXPORT};
use std::fmt;
use std::str::FromStr;

mod choice;
mod declaration;
mod expect;
mod exports;
mod host_load;
mod imports;

pub use choice::{AbiChoice, UnknownAbi};
use declaration::{declaration, oldest_loading};
use expect::check_expect;
pub use expect::ExpectList;
use exports::{check_export, check_memory, check_required};
use host_load::{check_allocator, check_engine_features, check_start};
use imports::{check_import, host_signature, same_signature};

/// What a verdict is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    /// Whether the module loads in this host: errors where it would refuse the module; what only the
    /// written spec forbids is a warning.
    Host(HostTarget),
    /// The strict reading of the written spec: everything outside it is an error.
    SpecOnly,
}

impl Level {
    /// The newest point of the first host profile (the CLI's default), or [`Level::SpecOnly`] when the
    /// tool was built without profiles.
    pub fn newest_host() -> Level {
        HostTarget::newest().map_or(Level::SpecOnly, Level::Host)
    }
}

/// Validates and audits one module against the written spec only (`--spec-only`).
///
/// # Errors
///
/// A [`ParseError`] (with the offset) when `bytes` is not a valid core wasm module.
pub fn audit(
    bytes: &[u8],
    abi: AbiChoice,
    expect: Option<&ExpectList>,
) -> Result<Report, ParseError> {
    Ok(audit_module(&parse(bytes)?, abi, expect))
}

/// Audits a module already parsed with [`parse`] against the written spec only.
pub fn audit_module(module: &ModuleInfo, abi: AbiChoice, expect: Option<&ExpectList>) -> Report {
    audit_module_at(module, abi, &Level::SpecOnly, expect)
}

/// Validates and audits one module at `level` (a host profile, or the written spec only).
///
/// # Errors
///
/// A [`ParseError`] (with the offset) when `bytes` is not a valid core wasm module.
pub fn audit_at(
    bytes: &[u8],
    abi: AbiChoice,
    level: &Level,
    expect: Option<&ExpectList>,
) -> Result<Report, ParseError> {
    Ok(audit_module_at(&parse(bytes)?, abi, level, expect))
}

/// Audits a module already parsed with [`parse`] at `level`.
pub fn audit_module_at(
    module: &ModuleInfo,
    abi: AbiChoice,
    level: &Level,
    expect: Option<&ExpectList>,
) -> Report {
    let host = match level {
        Level::Host(h) => Some(h),
        Level::SpecOnly => None,
    };
    let mut findings = Vec::new();
    let target = declaration(module, abi, host, &mut findings);
    let mut spec_errors = findings
        .iter()
        .any(|f| f.severity == Severity::Error || f.id.severity() == Severity::Error);
    let mut loads_since = None;
    if let Some(target) = target {
        let checked = check(module, target, host);
        spec_errors |= checked.spec_errors;
        findings.extend(checked.findings);
        if let Some(host) = host {
            if !findings.iter().any(|f| f.severity == Severity::Error) {
                loads_since = oldest_loading(module, target, host);
            }
        }
    }
    if let Some(expect) = expect {
        check_expect(module, expect, &mut findings);
    }
    let ok = !findings.iter().any(|f| f.severity == Severity::Error);
    Report {
        abi: target.map(|t| t.version.to_string()),
        ok,
        host: host.map(ToString::to_string),
        loads: host.map(|_| {
            !findings
                .iter()
                .any(|f| f.severity == Severity::Error && f.scope != Scope::Expect)
        }),
        loads_since,
        within_spec: !spec_errors,
        kind: target.map(|t| describe::kind(module, Some(t))),
        toolchain: describe::toolchain(module),
        capabilities: describe::capabilities(module, target),
        findings,
    }
}

/// What [`check`] found.
struct Checked {
    findings: Vec<Finding>,
    /// Whether the written spec alone (as `--spec-only` reads it) has an error.
    spec_errors: bool,
}

/// A spec finding turned into what the level says: an error under `--spec-only`, else a warning
/// about the spec (the host tolerates it).
fn spec_finding(f: Finding, host: Option<&HostTarget>, tolerated: &str) -> Finding {
    match host {
        None => f,
        Some(_) => f
            .severity(Severity::Warning)
            .message_suffix(&format!("; {tolerated}")),
    }
}

/// Every check of the module against `abi` (and the host, if any), except the version declaration
/// and the expect list.
fn check(module: &ModuleInfo, abi: &'static AbiSymbols, host: Option<&HostTarget>) -> Checked {
    let mut out = Checked {
        findings: Vec::new(),
        spec_errors: false,
    };
    for import in &module.imports {
        check_import(import, abi, host, &mut out);
    }
    for export in &module.exports {
        check_export(module, export, abi, host, &mut out);
    }
    check_memory(module, abi, host, &mut out);
    check_required(module, abi, host, &mut out);
    if let Some(host) = host {
        check_start(module, host, &mut out);
        check_engine_features(module, host, &mut out);
        check_allocator(module, host, &mut out);
    }
    out
}
