//! The checks: a parsed module against one version's symbol table.

use crate::findings::{Finding, FindingId, Report, Severity};
use crate::module::{parse, ItemKind, ModuleInfo, ParseError};
use crate::symbols::{self, AbiSymbols, CALLBACK_PREFIX, MEMORY_EXPORT};
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

/// Validates and audits one module.
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

/// Audits a module already parsed with [`parse`].
pub fn audit_module(module: &ModuleInfo, abi: AbiChoice, expect: Option<&ExpectList>) -> Report {
    let known = symbols::versions();
    let declared: Vec<&'static AbiSymbols> = known
        .iter()
        .copied()
        .filter(|v| {
            v.declaration()
                .is_some_and(|d| module.exports_function(d.name))
        })
        .collect();
    let declared_names = || {
        declared
            .iter()
            .filter_map(|v| v.declaration().map(|d| d.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let expected_declarations = |among: &[&'static AbiSymbols]| {
        let names: Vec<&str> = among
            .iter()
            .filter_map(|v| v.declaration().map(|d| d.name))
            .collect();
        format!("one of: {}", names.join(", "))
    };

    let mut findings = Vec::new();
    let target: Option<&'static AbiSymbols> = match abi {
        AbiChoice::Version(v) => {
            match declared.as_slice() {
                [] => findings.push(
                    Finding::new(
                        FindingId::AbiVersionMissing,
                        format!(
                            "the module declares no ABI version; audited against {}, as asked",
                            v.version
                        ),
                    )
                    .expected(v.declaration().map_or("", |d| d.name))
                    .actual("none"),
                ),
                [only] if only.version == v.version => {}
                [_] => findings.push(
                    Finding::new(
                        FindingId::AbiVersionMismatch,
                        format!("the module declares another ABI version than {}", v.version),
                    )
                    .expected(v.declaration().map_or("", |d| d.name))
                    .actual(declared_names()),
                ),
                _ => findings.push(
                    Finding::new(
                        FindingId::AbiVersionMultiple,
                        "the module declares more than one ABI version",
                    )
                    .expected(v.declaration().map_or("", |d| d.name))
                    .actual(declared_names()),
                ),
            }
            Some(v)
        }
        AbiChoice::Auto => match declared.as_slice() {
            [only] => Some(*only),
            [] => {
                let best = best_fit(module, known);
                if let Some(best) = best {
                    findings.push(
                        Finding::new(
                            FindingId::AbiVersionMissing,
                            format!(
                                "the module declares no ABI version; audited against {}, the known version \
                                 its imports and exports fit best",
                                best.version
                            ),
                        )
                        .expected(expected_declarations(known))
                        .actual("none"),
                    );
                }
                best
            }
            several => {
                let best = best_fit(module, several);
                findings.push(
                    Finding::new(
                        FindingId::AbiVersionMultiple,
                        format!(
                            "the module declares more than one ABI version; audited against {}, the declared \
                             version its imports and exports fit best",
                            best.map_or("none", |b| b.version)
                        ),
                    )
                    .expected(expected_declarations(known))
                    .actual(declared_names()),
                );
                best
            }
        },
    };

    if let Some(target) = target {
        check(module, target, &mut findings);
    }
    if let Some(expect) = expect {
        check_expect(module, expect, &mut findings);
    }
    let capabilities = capabilities(module, target);
    Report {
        abi: target.map(|t| t.version.to_string()),
        ok: !findings.iter().any(|f| f.severity == Severity::Error),
        findings,
        capabilities,
    }
}

/// The version among `candidates` against which the module has the fewest errors, then warnings;
/// the newest on a tie.
fn best_fit(
    module: &ModuleInfo,
    candidates: &[&'static AbiSymbols],
) -> Option<&'static AbiSymbols> {
    let mut best: Option<(&'static AbiSymbols, (usize, usize))> = None;
    for &candidate in candidates {
        let mut findings = Vec::new();
        check(module, candidate, &mut findings);
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let score = (errors, findings.len() - errors);
        // Candidates are oldest first: `<=` lets a newer version win a tie.
        if best.is_none_or(|(_, s)| score <= s) {
            best = Some((candidate, score));
        }
    }
    best.map(|(abi, _)| abi)
}

/// Every check of the module against `abi`, except the version declaration and the expect list.
fn check(module: &ModuleInfo, abi: &'static AbiSymbols, findings: &mut Vec<Finding>) {
    let known = symbols::versions();
    let host_modules = symbols::host_modules();
    let others = || {
        known
            .iter()
            .copied()
            .filter(move |v| v.version != abi.version)
    };

    for import in &module.imports {
        let qualified = format!("{}.{}", import.module, import.name);
        if !host_modules.contains(&import.module.as_str()) {
            findings.push(
                Finding::new(
                    FindingId::ImportForeignModule,
                    format!(
                        "imported from module `{}`, which the host does not provide (it provides: {}); \
                         it would fail to link",
                        import.module,
                        host_modules.join(", ")
                    ),
                )
                .symbol(qualified)
                .actual(import.kind.to_string()),
            );
            continue;
        }
        let ItemKind::Function(sig) = &import.kind else {
            findings.push(
                Finding::new(
                    FindingId::ImportUnknown,
                    format!(
                        "the host provides functions only, not a {}; it would fail to link",
                        import.kind
                    ),
                )
                .symbol(qualified)
                .actual(import.kind.to_string()),
            );
            continue;
        };
        if let Some(symbol) = abi.import(&import.module, &import.name) {
            if !sig.matches(symbol) {
                findings.push(
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
            } else if !symbol.written {
                findings.push(
                    Finding::new(
                        FindingId::ImportUnwritten,
                        format!(
                            "outside the written spec; loads in the reference host (ABI {})",
                            abi.version
                        ),
                    )
                    .symbol(qualified),
                );
            }
            continue;
        }
        let defined_in: Vec<&str> = others()
            .filter(|v| v.import(&import.module, &import.name).is_some())
            .map(|v| v.version)
            .collect();
        if defined_in.is_empty() {
            findings.push(
                Finding::new(
                    FindingId::ImportUnknown,
                    "no ABI version defines this host function; it would fail to link",
                )
                .symbol(qualified)
                .actual(sig.to_string()),
            );
        } else {
            findings.push(
                Finding::new(
                    FindingId::ImportOtherVersion,
                    format!(
                        "defined by ABI {} but not by ABI {}; it would fail to link in a {} host",
                        defined_in.join(", "),
                        abi.version,
                        abi.version
                    ),
                )
                .symbol(qualified)
                .actual(sig.to_string()),
            );
        }
    }

    for export in &module.exports {
        let name = export.name.as_str();
        // Version declarations are the declaration check's business.
        if known
            .iter()
            .any(|v| v.declaration().is_some_and(|d| d.name == name))
        {
            continue;
        }
        if let Some(symbol) = abi.export(name) {
            let fits = matches!(&export.kind, ItemKind::Function(sig) if sig.matches(symbol));
            if !fits {
                findings.push(
                    Finding::new(
                        FindingId::ExportSignatureMismatch,
                        format!(
                            "exported with another signature than ABI {} defines",
                            abi.version
                        ),
                    )
                    .symbol(name)
                    .expected(format!("function {}", symbol.signature()))
                    .actual(export.kind.to_string()),
                );
            }
            continue;
        }
        if !matches!(export.kind, ItemKind::Function(_)) {
            continue;
        }
        let defined_in: Vec<&str> = others()
            .filter(|v| v.export(name).is_some())
            .map(|v| v.version)
            .collect();
        if !defined_in.is_empty() {
            findings.push(
                Finding::new(
                    FindingId::ExportOtherVersion,
                    format!(
                        "a callback of ABI {}, not of ABI {}: the host never calls it",
                        defined_in.join(", "),
                        abi.version
                    ),
                )
                .symbol(name)
                .actual(export.kind.to_string()),
            );
        } else if name.starts_with(CALLBACK_PREFIX) {
            findings.push(
                Finding::new(
                    FindingId::ExportUnknown,
                    "no ABI version defines this callback: the host never calls it",
                )
                .symbol(name)
                .actual(export.kind.to_string()),
            );
        }
    }

    if abi.memory_required
        && !matches!(
            module.export(MEMORY_EXPORT).map(|e| &e.kind),
            Some(ItemKind::Memory)
        )
    {
        findings.push(
            Finding::new(
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
            ),
        );
    }

    let declaration = abi.declaration().map(|d| d.name);
    for group in abi.required_groups {
        if declaration.is_some_and(|d| group.names.contains(&d)) {
            continue;
        }
        if !group.names.iter().any(|n| module.exports_function(n)) {
            findings.push(
                Finding::new(
                    FindingId::RequiredExportMissing,
                    format!(
                        "ABI {} requires the plugin to export one of its `{}` functions",
                        abi.version, group.family
                    ),
                )
                .symbol(group.family)
                .expected(format!("one of: {}", group.names.join(", ")))
                .actual("none"),
            );
        }
    }
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
                .symbol(format!("{}.{}", import.module, import.name))
                .expected("not imported")
                .actual(import.kind.to_string()),
            );
        }
    }
}

/// The families of the host functions the module imports, as the audited version (or else any
/// version) files them.
fn capabilities(module: &ModuleInfo, target: Option<&'static AbiSymbols>) -> Vec<String> {
    let mut families: Vec<&'static str> = Vec::new();
    for import in &module.imports {
        if !matches!(import.kind, ItemKind::Function(_)) {
            continue;
        }
        let symbol = target
            .and_then(|t| t.import(&import.module, &import.name))
            .or_else(|| {
                symbols::versions()
                    .iter()
                    .rev()
                    .find_map(|v| v.import(&import.module, &import.name))
            });
        if let Some(symbol) = symbol {
            families.push(symbol.family);
        }
    }
    families.sort_unstable();
    families.dedup();
    families.into_iter().map(String::from).collect()
}
