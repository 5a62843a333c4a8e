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

/// Which version to audit a module against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiChoice {
    /// The version the module declares through its `proxy_abi_version_X_Y_Z` export.
    Auto,
    /// This version, whatever the module declares.
    Version(&'static AbiSymbols),
}

impl fmt::Display for AbiChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbiChoice::Auto => f.write_str("auto"),
            AbiChoice::Version(abi) => f.write_str(abi.version),
        }
    }
}

/// A version name this tool does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ABI version `{given}` (known: auto, {known})")]
pub struct UnknownAbi {
    /// What was asked for.
    pub given: String,
    /// The versions this tool knows, comma-separated.
    pub known: String,
}

impl FromStr for AbiChoice {
    type Err = UnknownAbi;

    /// `auto` or a version this tool knows (`0.2.1`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "auto" {
            return Ok(AbiChoice::Auto);
        }
        symbols::version(s)
            .map(AbiChoice::Version)
            .ok_or_else(|| UnknownAbi {
                given: s.to_string(),
                known: symbols::versions()
                    .iter()
                    .map(|a| a.version)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// The host functions a module is expected to import: one per line, `module.name` or just `name` (any
/// module); blank lines and `#` comments are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectList {
    /// The entries, in file order: the module (if given) and the name.
    pub entries: Vec<(Option<String>, String)>,
}

impl ExpectList {
    /// Reads an expect list from its text. Never fails: every non-blank, non-comment line is an entry.
    pub fn parse(text: &str) -> ExpectList {
        let entries = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim())
            .filter(|line| !line.is_empty())
            .map(|line| match line.split_once('.') {
                Some((module, name)) => (Some(module.to_string()), name.to_string()),
                None => (None, line.to_string()),
            })
            .collect();
        ExpectList { entries }
    }

    /// An expect list of exactly these `(module, name)` pairs.
    pub fn from_symbols<'a>(symbols: impl IntoIterator<Item = (&'a str, &'a str)>) -> ExpectList {
        ExpectList {
            entries: symbols
                .into_iter()
                .map(|(m, n)| (Some(m.to_string()), n.to_string()))
                .collect(),
        }
    }

    fn matches(entry: &(Option<String>, String), module: &str, name: &str) -> bool {
        entry.1 == name && entry.0.as_deref().is_none_or(|m| m == module)
    }

    fn show(entry: &(Option<String>, String)) -> String {
        match &entry.0 {
            Some(m) => format!("{m}.{}", entry.1),
            None => entry.1.clone(),
        }
    }
}

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

/// The version declarations the module exports, in export order (the host takes the first).
fn declared(module: &ModuleInfo) -> Vec<&'static AbiSymbols> {
    let known = symbols::versions();
    let mut out: Vec<&'static AbiSymbols> = Vec::new();
    for export in &module.exports {
        if !matches!(export.kind, ItemKind::Function(_)) {
            continue;
        }
        if let Some(v) = known
            .iter()
            .copied()
            .find(|v| v.declaration().is_some_and(|d| d.name == export.name))
        {
            if !out.iter().any(|o| o.version == v.version) {
                out.push(v);
            }
        }
    }
    out
}

/// Settles the version to audit against and reports on the declarations. `None`: nothing else is
/// checked (the host would stop there too).
fn declaration(
    module: &ModuleInfo,
    abi: AbiChoice,
    host: Option<&HostTarget>,
    findings: &mut Vec<Finding>,
) -> Option<&'static AbiSymbols> {
    let declared = declared(module);
    let names = |list: &[&'static AbiSymbols]| {
        list.iter()
            .filter_map(|v| v.declaration().map(|d| d.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let host_scope = |f: Finding| match host {
        Some(_) => f.scope(Scope::Host),
        None => f,
    };
    let target = match (abi, declared.as_slice()) {
        (AbiChoice::Auto, []) => {
            findings.push(host_scope(
                Finding::new(
                    FindingId::AbiVersionMissing,
                    format!(
                        "the module declares no Proxy-Wasm ABI version, so a host refuses it \
                         (missing or unknown ABI version); {}",
                        describe::unmarked(module)
                    ),
                )
                .expected(format!("one of: {}", names(symbols::versions())))
                .actual("none"),
            ));
            return None;
        }
        (AbiChoice::Version(v), []) => {
            findings.push(host_scope(
                Finding::new(
                    FindingId::AbiVersionMissing,
                    format!(
                        "the module declares no ABI version; audited against {}, as asked",
                        v.version
                    ),
                )
                .expected(v.declaration().map_or("", |d| d.name))
                .actual("none"),
            ));
            v
        }
        (AbiChoice::Auto, [first, ..]) => first,
        (AbiChoice::Version(v), [first, ..]) => {
            if first.version != v.version {
                findings.push(host_scope(
                    Finding::new(
                        FindingId::AbiVersionMismatch,
                        format!(
                            "the module declares another ABI version than {} (a host reads {})",
                            v.version, first.version
                        ),
                    )
                    .expected(v.declaration().map_or("", |d| d.name))
                    .actual(names(&declared)),
                ));
            }
            v
        }
    };
    if declared.len() > 1 {
        let mut f = Finding::new(
            FindingId::AbiVersionMultiple,
            format!(
                "the module declares more than one ABI version; a host takes the first in export \
                 order ({}), and so does this audit",
                declared[0].version
            ),
        )
        .expected("exactly one version marker")
        .actual(names(&declared));
        if let Some(h) = host {
            f = f.severity(Severity::Warning).message_suffix(&format!(
                "; {} does the same (source: {})",
                h.profile.host, h.profile.detection_source
            ));
        }
        findings.push(f);
    }
    if let Some(h) = host {
        if !h.knows_abi(target.version) {
            findings.push(
                Finding::new(
                    FindingId::AbiVersionUnsupported,
                    format!(
                        "{h} does not recognise ABI {} (source: {})",
                        target.version, h.profile.detection_source
                    ),
                )
                .scope(Scope::Host)
                .symbol(target.declaration().map_or("", |d| d.name))
                .actual(target.version),
            );
            return None;
        }
    }
    Some(target)
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

fn spec_import(import: &crate::module::Import, abi: &'static AbiSymbols) -> Option<Finding> {
    let known = symbols::versions();
    let host_modules = symbols::host_modules();
    let qualified = format!("{}.{}", import.module, import.name);
    if !host_modules.contains(&import.module.as_str()) {
        return Some(
            Finding::new(
                FindingId::ImportForeignModule,
                format!(
                    "imported from module `{}`, which the written spec does not name (it names: {})",
                    import.module,
                    host_modules.join(", ")
                ),
            )
            .symbol(qualified)
            .actual(import.kind.to_string()),
        );
    }
    let ItemKind::Function(sig) = &import.kind else {
        return Some(
            Finding::new(
                FindingId::ImportUnknown,
                format!(
                    "the written spec has plugins import functions only, not a {}",
                    import.kind
                ),
            )
            .symbol(qualified)
            .actual(import.kind.to_string()),
        );
    };
    if let Some(symbol) = abi.import(&import.module, &import.name) {
        if !sig.matches(symbol) {
            return Some(
                Finding::new(
                    FindingId::ImportSignatureMismatch,
                    format!(
                        "imported with another signature than ABI {} defines",
                        abi.version
                    ),
                )
                .symbol(qualified)
                .expected(symbol.signature())
                .actual(sig.to_string()),
            );
        }
        if !symbol.written {
            return Some(
                Finding::new(
                    FindingId::ImportUnwritten,
                    format!(
                        "outside the written spec of ABI {} (the reference host provides it)",
                        abi.version
                    ),
                )
                .symbol(qualified),
            );
        }
        return None;
    }
    let defined_in: Vec<&str> = known
        .iter()
        .filter(|v| v.version != abi.version && v.import(&import.module, &import.name).is_some())
        .map(|v| v.version)
        .collect();
    Some(if defined_in.is_empty() {
        Finding::new(
            FindingId::ImportUnknown,
            "no version of the written spec defines this host function",
        )
        .symbol(qualified)
        .actual(sig.to_string())
    } else {
        Finding::new(
            FindingId::ImportOtherVersion,
            format!(
                "defined by ABI {} but not by ABI {}",
                defined_in.join(", "),
                abi.version
            ),
        )
        .symbol(qualified)
        .actual(sig.to_string())
    })
}

fn host_signature(params: &[ValType], results: &[ValType]) -> String {
    symbols::signature_text(
        params.iter().map(|t| t.as_str()),
        results.iter().map(|t| t.as_str()),
    )
}

fn same_signature(sig: &Signature, params: &[ValType], results: &[ValType]) -> bool {
    sig.params.len() == params.len()
        && sig.results.len() == results.len()
        && sig.params.iter().zip(params).all(|(a, b)| a == b.as_str())
        && sig
            .results
            .iter()
            .zip(results)
            .all(|(a, b)| a == b.as_str())
}

fn check_import(
    import: &crate::module::Import,
    abi: &'static AbiSymbols,
    host: Option<&HostTarget>,
    out: &mut Checked,
) {
    let spec = spec_import(import, abi);
    if spec.as_ref().is_some_and(|f| f.severity == Severity::Error) {
        out.spec_errors = true;
    }
    let Some(host) = host else {
        out.findings.extend(spec);
        return;
    };
    let qualified = format!("{}.{}", import.module, import.name);
    let refusal: Option<Finding> = match &import.kind {
        ItemKind::Function(sig) => match host.registered(abi.version, &import.module, &import.name)
        {
            Some(reg) if same_signature(sig, reg.params, reg.results) => {
                if let Some(f) = spec {
                    out.findings.push(spec_finding(
                        f,
                        Some(host),
                        &format!(
                            "{} registers it since {} (source: {})",
                            host.profile.host,
                            reg.since.short(),
                            reg.source
                        ),
                    ));
                }
                None
            }
            Some(reg) => Some(
                Finding::new(
                    FindingId::ImportSignatureMismatch,
                    format!(
                        "{host} registers it with another signature: the load fails (source: {})",
                        reg.source
                    ),
                )
                .expected(host_signature(reg.params, reg.results))
                .actual(sig.to_string()),
            ),
            None => {
                let later = host
                    .registered_ever(abi.version, &import.module, &import.name)
                    .filter(|r| r.since.date > host.date.as_str())
                    .map(|r| format!("; it registers it since {}", r.since.short()))
                    .unwrap_or_default();
                let id = spec.as_ref().map_or(FindingId::ImportUnknown, |f| f.id);
                let note = spec
                    .as_ref()
                    .map(|f| format!("; the written spec: {}", f.message))
                    .unwrap_or_default();
                Some(
                    Finding::new(
                        id,
                        format!(
                            "{host} does not register this function for ABI {}: the load fails \
                             (missing import){later}{note}",
                            abi.version
                        ),
                    )
                    .actual(sig.to_string()),
                )
            }
        },
        other => {
            let reaction = |e: &crate::profile::HostEngine| match other {
                ItemKind::Memory => e.memory_import,
                ItemKind::Table => e.table_import,
                _ => e.global_import,
            };
            let facts = host.engine_facts();
            match facts.map(reaction) {
                Some(Reaction::Provided) => {
                    let refusing: Vec<&str> = host
                        .engines()
                        .filter(|e| reaction(e) == Reaction::Refuse)
                        .map(|e| e.engine)
                        .collect();
                    let others = if refusing.is_empty() {
                        String::new()
                    } else {
                        format!("; the {} engine(s) refuse it", refusing.join(", "))
                    };
                    if let Some(f) = spec {
                        out.findings.push(spec_finding(
                            f,
                            Some(host),
                            &format!(
                                "{host} creates an imported {other} itself{others} (source: {})",
                                facts.map_or("", |e| e.source)
                            ),
                        ));
                    }
                    None
                }
                _ => Some(
                    Finding::new(
                        FindingId::ImportUnknown,
                        format!(
                            "{host} cannot supply an imported {other}: the load fails (source: {})",
                            facts.map_or("", |e| e.source)
                        ),
                    )
                    .actual(other.to_string()),
                ),
            }
        }
    };
    if let Some(f) = refusal {
        out.findings.push(
            f.severity(Severity::Error)
                .scope(Scope::Host)
                .symbol(qualified),
        );
    }
}

fn spec_export(export: &crate::module::Export, abi: &'static AbiSymbols) -> Option<Finding> {
    let name = export.name.as_str();
    if let Some(symbol) = abi.export(name) {
        let fits = matches!(&export.kind, ItemKind::Function(sig) if sig.matches(symbol));
        return (!fits).then(|| {
            Finding::new(
                FindingId::ExportSignatureMismatch,
                format!(
                    "exported with another signature than ABI {} defines",
                    abi.version
                ),
            )
            .symbol(name)
            .expected(format!("function {}", symbol.signature()))
            .actual(export.kind.to_string())
        });
    }
    if !matches!(export.kind, ItemKind::Function(_)) {
        return None;
    }
    let defined_in: Vec<&str> = symbols::versions()
        .iter()
        .filter(|v| v.version != abi.version && v.export(name).is_some())
        .map(|v| v.version)
        .collect();
    if !defined_in.is_empty() {
        return Some(
            Finding::new(
                FindingId::ExportOtherVersion,
                format!(
                    "a callback of ABI {}, not of ABI {}",
                    defined_in.join(", "),
                    abi.version
                ),
            )
            .symbol(name)
            .actual(export.kind.to_string()),
        );
    }
    name.starts_with(CALLBACK_PREFIX).then(|| {
        Finding::new(
            FindingId::ExportUnknown,
            "no version of the written spec defines this callback",
        )
        .symbol(name)
        .actual(export.kind.to_string())
    })
}

/// Whether the host's lookup condition holds for this module.
fn looked_up(module: &ModuleInfo, when: Lookup) -> bool {
    match when {
        Lookup::Always => true,
        Lookup::InitializePresent => module.exports_function("_initialize"),
        Lookup::InitializeAbsent => !module.exports_function("_initialize"),
        Lookup::MallocAbsent => !module.exports_function("malloc"),
    }
}

fn check_export(
    module: &ModuleInfo,
    export: &crate::module::Export,
    abi: &'static AbiSymbols,
    host: Option<&HostTarget>,
    out: &mut Checked,
) {
    let name = export.name.as_str();
    // Version declarations are the declaration check's business.
    if symbols::versions()
        .iter()
        .any(|v| v.declaration().is_some_and(|d| d.name == name))
    {
        return;
    }
    let spec = spec_export(export, abi);
    if spec.as_ref().is_some_and(|f| f.severity == Severity::Error) {
        out.spec_errors = true;
    }
    let Some(host) = host else {
        out.findings.extend(spec);
        return;
    };
    let lookup = host
        .lookup(abi.version, name)
        .filter(|l| looked_up(module, l.when));
    let Some(lookup) = lookup else {
        // The host never looks it up: whatever the spec says, it is never called.
        if let Some(f) = spec {
            let never = format!(
                "{} never looks it up for ABI {}, so it is never called",
                host.profile.host, abi.version
            );
            let f = spec_finding(f, Some(host), &never);
            let callback = name.starts_with(CALLBACK_PREFIX);
            out.findings
                .push(if callback { f.scope(Scope::Host) } else { f });
        }
        return;
    };
    let fits = matches!(&export.kind, ItemKind::Function(sig) if same_signature(sig, lookup.params, lookup.results));
    if fits {
        if let Some(f) = spec {
            let what = if lookup.called {
                "looks it up and calls it"
            } else {
                "looks it up (and checks its type) but never calls it"
            };
            out.findings.push(spec_finding(
                f,
                Some(host),
                &format!(
                    "{} {what} (since {}; source: {})",
                    host.profile.host,
                    lookup.since.short(),
                    lookup.source
                ),
            ));
        }
        return;
    }
    let reaction = host.engine_facts().map(|e| e.export_signature);
    let others: Vec<String> = host
        .engines()
        .filter(|e| Some(e.export_signature) != reaction)
        .map(|e| {
            format!(
                "the {} engine {} it",
                e.engine,
                if e.export_signature == Reaction::Refuse {
                    "refuses"
                } else {
                    "silently drops"
                }
            )
        })
        .collect();
    let others = if others.is_empty() {
        String::new()
    } else {
        format!("; {}", others.join(", "))
    };
    let expected = format!("function {}", host_signature(lookup.params, lookup.results));
    let f = Finding::new(FindingId::ExportSignatureMismatch, String::new())
        .scope(Scope::Host)
        .symbol(name)
        .expected(expected)
        .actual(export.kind.to_string());
    out.findings.push(match reaction {
        Some(Reaction::Refuse) => Finding {
            message: format!(
                "{host} looks this callback up with another signature and refuses the module \
                 (bad function signature){others} (source: {})",
                lookup.source
            ),
            ..f
        }
        .severity(Severity::Error),
        _ => Finding {
            message: format!(
                "{host} looks this callback up with another signature and drops it: it is never \
                 called{others} (source: {})",
                lookup.source
            ),
            ..f
        }
        .severity(Severity::Warning),
    });
}

fn check_memory(
    module: &ModuleInfo,
    abi: &'static AbiSymbols,
    host: Option<&HostTarget>,
    out: &mut Checked,
) {
    if !abi.memory_required
        || matches!(
            module.export(MEMORY_EXPORT).map(|e| &e.kind),
            Some(ItemKind::Memory)
        )
    {
        return;
    }
    out.spec_errors = true;
    let f = Finding::new(
        FindingId::MemoryMissing,
        format!(
            "ABI {} requires the linear memory to be exported as `{MEMORY_EXPORT}`",
            abi.version
        ),
    )
    .symbol(MEMORY_EXPORT)
    .expected("memory")
    .actual(
        module
            .export(MEMORY_EXPORT)
            .map_or("nothing".to_string(), |e| e.kind.to_string()),
    );
    out.findings.push(spec_finding(
        f,
        host,
        "the host still loads it, but every hostcall that reads or writes guest memory fails",
    ));
}

fn check_required(
    module: &ModuleInfo,
    abi: &'static AbiSymbols,
    host: Option<&HostTarget>,
    out: &mut Checked,
) {
    let mut host_missing: Vec<&'static [&'static str]> = Vec::new();
    if let Some(host) = host {
        for r in host.required() {
            if !r.one_of.iter().any(|n| module.exports_function(n)) {
                host_missing.push(r.one_of);
                out.findings.push(
                    Finding::new(
                        FindingId::RequiredExportMissing,
                        format!(
                            "{host} refuses a module without one of these exports (source: {})",
                            r.source
                        ),
                    )
                    .severity(Severity::Error)
                    .scope(Scope::Host)
                    .symbol(r.one_of.join("/"))
                    .expected(format!("one of: {}", r.one_of.join(", ")))
                    .actual("none"),
                );
            }
        }
    }
    let declaration = abi.declaration().map(|d| d.name);
    for group in abi.required_groups {
        if declaration.is_some_and(|d| group.names.contains(&d)) {
            continue;
        }
        if group.names.iter().any(|n| module.exports_function(n)) {
            continue;
        }
        out.spec_errors = true;
        // Already reported as the host's refusal.
        if host_missing
            .iter()
            .any(|m| m.iter().any(|n| group.names.contains(n)))
        {
            continue;
        }
        let f = Finding::new(
            FindingId::RequiredExportMissing,
            format!(
                "ABI {} requires the plugin to export one of its `{}` functions",
                abi.version, group.family
            ),
        )
        .symbol(group.family)
        .expected(format!("one of: {}", group.names.join(", ")))
        .actual("none");
        let tolerated = host.map_or(String::new(), |h| {
            format!(
                "{} only looks them up and loads the module without them",
                h.profile.host
            )
        });
        out.findings.push(spec_finding(f, host, &tolerated));
    }
}

fn check_start(module: &ModuleInfo, host: &HostTarget, out: &mut Checked) {
    // Per engine: why instantiation fails, if it does.
    let failure = |e: &crate::profile::HostEngine| -> Option<String> {
        if module.start && e.start_function == Reaction::Traps {
            return Some(format!(
                "the {} engine traps while running the wasm start function (source: {})",
                e.engine, e.source
            ));
        }
        if e.host_call_at_instantiation != Reaction::Refuse {
            return None;
        }
        let roots = module
            .start_function
            .map(|f| ("the wasm start function".to_string(), f))
            .into_iter()
            .chain(e.runs_at_instantiation.iter().filter_map(|name| {
                module.exported_function(name).map(|f| {
                    (
                        format!(
                            "`{name}`, which the {} engine runs at instantiation",
                            e.engine
                        ),
                        f,
                    )
                })
            }));
        for (what, f) in roots {
            if let Some(import) = module.always_reaches_import(f) {
                return Some(format!(
                    "{what} calls the host function {import} before the host has any context, so the \
                     call fails (source: {})",
                    e.source
                ));
            }
        }
        None
    };
    let selected = host.engine_facts().and_then(failure);
    let others: Vec<String> = host
        .engines()
        .filter(|e| e.engine != host.engine)
        .filter_map(failure)
        .collect();
    let (severity, message) = match selected {
        Some(why) => (
            Severity::Error,
            format!("{host} fails to instantiate the module: {why}"),
        ),
        None if !others.is_empty() => (
            Severity::Warning,
            format!(
                "{host} instantiates the module, but another engine of {} does not: {}",
                host.profile.host,
                others.join("; ")
            ),
        ),
        None => return,
    };
    out.findings.push(
        Finding::new(FindingId::StartFunction, message)
            .scope(Scope::Host)
            .symbol("start")
            .severity(severity),
    );
}

/// Wasm features an engine was built without (128-bit SIMD).
fn check_engine_features(module: &ModuleInfo, host: &HostTarget, out: &mut Checked) {
    if !module.uses_simd {
        return;
    }
    let refusing: Vec<&crate::profile::HostEngine> = host
        .engines()
        .filter(|e| e.simd == Reaction::Refuse)
        .collect();
    let Some(first) = refusing.first() else {
        return;
    };
    let selected = refusing.iter().any(|e| e.engine == host.engine);
    let names: Vec<&str> = refusing.iter().map(|e| e.engine).collect();
    let message = if selected {
        format!(
            "the module uses 128-bit SIMD, which {host} is built without: the load fails (source: {})",
            first.source
        )
    } else {
        format!(
            "the module uses 128-bit SIMD: {host} runs it, {}'s {} engine is built without it (source: {})",
            host.profile.host,
            names.join(", "),
            first.source
        )
    };
    out.findings.push(
        Finding::new(FindingId::EngineFeature, message)
            .scope(Scope::Host)
            .symbol("simd")
            .severity(if selected {
                Severity::Error
            } else {
                Severity::Warning
            }),
    );
}

/// A known SDK pitfall: the allocator exported under both names as two different functions; the host
/// calls the first name of its required group (`malloc`).
fn check_allocator(module: &ModuleInfo, host: &HostTarget, out: &mut Checked) {
    for r in host.required() {
        let exported: Vec<&crate::module::Export> = r
            .one_of
            .iter()
            .filter_map(|n| module.export(n))
            .filter(|e| matches!(e.kind, ItemKind::Function(_)))
            .collect();
        if exported.len() < 2 || exported.iter().all(|e| e.index == exported[0].index) {
            continue;
        }
        let names: Vec<&str> = exported.iter().map(|e| e.name.as_str()).collect();
        out.findings.push(
            Finding::new(
                FindingId::AllocatorAmbiguous,
                format!(
                    "{} are different functions; {} calls `{}` to place data in guest memory \
                     (a language runtime's own allocator?), never `{}` (source: {})",
                    names.join(" and "),
                    host.profile.host,
                    names[0],
                    names[1..].join("`, `"),
                    r.source
                ),
            )
            .scope(Scope::Host)
            .symbol(names.join("/"))
            .expected("one function under both names, or only one of them")
            .actual(format!(
                "functions {}",
                exported
                    .iter()
                    .map(|e| e.index.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
}

/// The oldest point of the host's history from which the module loads, through the target's date:
/// `cpp-host@DATE`, with the oldest release carrying it when the profile knows releases.
fn oldest_loading(
    module: &ModuleInfo,
    abi: &'static AbiSymbols,
    host: &HostTarget,
) -> Option<String> {
    let dates: Vec<&str> = host.history().collect();
    let mut oldest = None;
    for date in dates.iter().rev() {
        let at = host.at(date);
        if at.engine_facts().is_none() || !at.knows_abi(abi.version) {
            break;
        }
        let checked = check(module, abi, Some(&at));
        if checked
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error)
        {
            break;
        }
        oldest = Some(*date);
    }
    let date = oldest?;
    let mut text = format!("{}@{date}", host.profile.host);
    let releases = host.releases_since(date);
    if !releases.is_empty() {
        let names: Vec<&str> = releases.iter().map(|r| r.name).collect();
        text.push_str(&format!(" (so {} and later)", names.join(", ")));
    }
    Some(text)
}

fn check_expect(module: &ModuleInfo, expect: &ExpectList, findings: &mut Vec<Finding>) {
    let functions = || {
        module
            .imports
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::Function(_)))
    };
    for entry in &expect.entries {
        if !functions().any(|i| ExpectList::matches(entry, &i.module, &i.name)) {
            findings.push(
                Finding::new(
                    FindingId::ExpectedImportMissing,
                    "the expect list names this host function, but the module does not import it",
                )
                .scope(Scope::Expect)
                .symbol(ExpectList::show(entry))
                .expected("imported")
                .actual("not imported"),
            );
        }
    }
    for import in functions() {
        if !expect
            .entries
            .iter()
            .any(|e| ExpectList::matches(e, &import.module, &import.name))
        {
            findings.push(
                Finding::new(
                    FindingId::UnexpectedImport,
                    "the module imports this function, but the expect list does not name it",
                )
                .scope(Scope::Expect)
                .symbol(format!("{}.{}", import.module, import.name))
                .expected("not imported")
                .actual(import.kind.to_string()),
            );
        }
    }
}
