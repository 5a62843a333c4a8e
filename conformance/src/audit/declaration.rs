//! The module's version declarations: which version is audited, what the host makes of them, and
//! from which point of the host's history the module loads.

use super::*;

/// The version declarations the module exports, in export order (the host takes the first).
pub(super) fn declared(module: &ModuleInfo) -> Vec<&'static AbiSymbols> {
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
pub(super) fn declaration(
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

/// The oldest point of the host's history from which the module loads, through the target's date:
/// `cpp-host@DATE`, with the oldest release carrying it when the profile knows releases.
pub(super) fn oldest_loading(
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
