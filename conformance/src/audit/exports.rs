//! The module's exports, its memory and the required export groups against the version's symbol
//! table and what the host looks up.

use super::*;

pub(super) fn spec_export(
    export: &crate::module::Export,
    abi: &'static AbiSymbols,
) -> Option<Finding> {
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
pub(super) fn looked_up(module: &ModuleInfo, when: Lookup) -> bool {
    match when {
        Lookup::Always => true,
        Lookup::InitializePresent => module.exports_function("_initialize"),
        Lookup::InitializeAbsent => !module.exports_function("_initialize"),
        Lookup::MallocAbsent => !module.exports_function("malloc"),
    }
}

pub(super) fn check_export(
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

pub(super) fn check_memory(
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

pub(super) fn check_required(
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
