//! What a host checks at load time beyond symbols: the start function, engine features, and the
//! allocator exported twice.

use super::*;

pub(super) fn check_start(module: &ModuleInfo, host: &HostTarget, out: &mut Checked) {
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
pub(super) fn check_engine_features(module: &ModuleInfo, host: &HostTarget, out: &mut Checked) {
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
pub(super) fn check_allocator(module: &ModuleInfo, host: &HostTarget, out: &mut Checked) {
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
