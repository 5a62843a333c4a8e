//! The module's imports against the version's symbol table and the host's registrations.

use super::*;

pub(super) fn spec_import(
    import: &crate::module::Import,
    abi: &'static AbiSymbols,
) -> Option<Finding> {
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

pub(super) fn host_signature(params: &[ValType], results: &[ValType]) -> String {
    symbols::signature_text(
        params.iter().map(|t| t.as_str()),
        results.iter().map(|t| t.as_str()),
    )
}

pub(super) fn same_signature(sig: &Signature, params: &[ValType], results: &[ValType]) -> bool {
    sig.params.len() == params.len()
        && sig.results.len() == results.len()
        && sig.params.iter().zip(params).all(|(a, b)| a == b.as_str())
        && sig
            .results
            .iter()
            .zip(results)
            .all(|(a, b)| a == b.as_str())
}

pub(super) fn check_import(
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
