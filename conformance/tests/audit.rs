//! The audit over WAT modules built from the symbol tables: a clean module per version, and one
//! negative case per finding kind.

mod common;

use common::{newest, sig, skip, Plugin};
use proxywasm_conformance::{
    audit, symbols, AbiChoice, AbiSymbols, ExpectList, FindingId, Report, Severity, ValType,
};

fn run(plugin: &Plugin, abi: AbiChoice) -> Report {
    match audit(&plugin.bytes(), abi, None) {
        Ok(report) => report,
        Err(e) => panic!("the test module does not parse: {e}\n{}", plugin.wat()),
    }
}

fn ids(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.id.as_str()).collect()
}

fn declaration(abi: &AbiSymbols) -> &'static str {
    match abi.declaration() {
        Some(d) => d.name,
        None => panic!("ABI {} declares no version marker", abi.version),
    }
}

/// Pairs of distinct versions (a, b) this build knows.
fn pairs() -> Vec<(&'static AbiSymbols, &'static AbiSymbols)> {
    let all = symbols::versions();
    let mut out = Vec::new();
    for a in all {
        for b in all {
            if a.version != b.version {
                out.push((*a, *b));
            }
        }
    }
    if out.is_empty() {
        skip("only one ABI version has a spec document; cross-version cases need two");
    }
    out
}

#[test]
fn the_tables_hold_every_known_version_and_well_known_names() {
    let versions: Vec<&str> = symbols::versions().iter().map(|v| v.version).collect();
    assert!(versions.contains(&"0.2.1"), "{versions:?}");
    for v in ["0.1.0", "0.2.0"] {
        if !versions.contains(&v) {
            skip(&format!(
                "spec/proxy_wasm_{}.witx does not exist",
                v.replace('.', "_")
            ));
        }
    }
    for abi in symbols::versions() {
        let log = abi.import("env", "proxy_log").map(|s| s.signature());
        assert_eq!(
            log.as_deref(),
            Some("(i32, i32, i32) -> (i32)"),
            "ABI {}",
            abi.version
        );
        let marker = declaration(abi);
        assert_eq!(
            marker,
            format!("proxy_abi_version_{}", abi.version.replace('.', "_"))
        );
        assert!(abi.memory_required, "ABI {}", abi.version);
        assert!(
            abi.required_groups.iter().any(|g| g.family == "allocator"),
            "ABI {} requires an allocator",
            abi.version
        );
    }
    assert!(symbols::host_modules().contains(&"env"));
    assert!(symbols::host_modules().contains(&"wasi_snapshot_preview1"));
}

#[test]
fn a_conforming_module_of_every_version_audits_clean() {
    for abi in symbols::versions() {
        for choice in [AbiChoice::Auto, AbiChoice::Version(abi)] {
            let report = run(&Plugin::conforming(abi), choice);
            assert_eq!(report.findings, vec![], "ABI {} ({choice})", abi.version);
            assert!(report.ok);
            assert_eq!(report.abi.as_deref(), Some(abi.version));
        }
        let minimal = run(&Plugin::minimal(abi), AbiChoice::Auto);
        assert!(
            minimal.ok && minimal.findings.is_empty(),
            "{:?}",
            minimal.findings
        );
        assert!(minimal.capabilities.is_empty());
    }
}

#[test]
fn capabilities_are_the_families_of_the_imports() {
    for abi in symbols::versions() {
        let report = run(&Plugin::conforming(abi), AbiChoice::Auto);
        let mut expected: Vec<String> = abi
            .imports
            .iter()
            .filter(|s| s.written)
            .filter(|s| {
                !proxywasm_conformance::describe::NON_CAPABILITY_FAMILIES.contains(&s.family)
            })
            .map(|s| s.family.to_string())
            .collect();
        expected.sort();
        expected.dedup();
        assert_eq!(report.capabilities, expected);
        if abi.import("env", "proxy_log").is_some() {
            let log = Plugin::minimal(abi).with_import(
                "env",
                "proxy_log",
                sig(abi
                    .import("env", "proxy_log")
                    .unwrap_or_else(|| unreachable!())),
            );
            assert_eq!(
                run(&log, AbiChoice::Auto).capabilities,
                vec!["logging".to_string()]
            );
        }
    }
}

#[test]
fn missing_declaration() {
    for abi in symbols::versions() {
        let plugin = Plugin::conforming(abi).without_export(declaration(abi));
        for choice in [AbiChoice::Auto, AbiChoice::Version(abi)] {
            let report = run(&plugin, choice);
            assert_eq!(
                ids(&report),
                vec!["abi-version-missing"],
                "ABI {} ({choice})",
                abi.version
            );
            assert!(!report.ok);
            assert_eq!(report.findings[0].actual.as_deref(), Some("none"));
            match choice {
                AbiChoice::Version(_) => assert_eq!(report.abi.as_deref(), Some(abi.version)),
                // Without a marker, nothing else is audited: no version, no cascade.
                AbiChoice::Auto => assert_eq!(report.abi, None),
            }
        }
    }
}

#[test]
fn two_declarations() {
    for (a, b) in pairs() {
        let plugin = Plugin::conforming(a).with_export(declaration(b), (vec![], vec![]));
        let report = run(&plugin, AbiChoice::Auto);
        assert!(
            report.has(FindingId::AbiVersionMultiple),
            "{:?}",
            report.findings
        );
        assert!(!report.ok);
        let evidence = report.findings[0].actual.clone().unwrap_or_default();
        assert!(
            evidence.contains(declaration(a)) && evidence.contains(declaration(b)),
            "{evidence}"
        );
        // Audited against one of the declared versions: `a`, or `b` if the module fits it as well.
        assert!(
            report.abi.as_deref() == Some(a.version) || report.abi.as_deref() == Some(b.version)
        );
        assert!(run(&plugin, AbiChoice::Version(a)).has(FindingId::AbiVersionMultiple));
    }
}

#[test]
fn declaring_another_version_than_asked() {
    for (a, b) in pairs() {
        let report = run(&Plugin::conforming(a), AbiChoice::Version(b));
        assert!(
            report.has(FindingId::AbiVersionMismatch),
            "{:?}",
            report.findings
        );
        assert_eq!(report.abi.as_deref(), Some(b.version));
        assert!(!report.ok);
    }
}

/// `t` plus one more `i32`: a signature that differs from `t`.
fn altered((params, results): (Vec<ValType>, Vec<ValType>)) -> (Vec<ValType>, Vec<ValType>) {
    let mut params = params;
    params.push(ValType::I32);
    (params, results)
}

#[test]
fn wrong_callback_signature() {
    for abi in symbols::versions() {
        for callback in abi.exports.iter().filter(|s| !s.is_declaration()) {
            let plugin = Plugin::conforming(abi).with_export(callback.name, altered(sig(callback)));
            let report = run(&plugin, AbiChoice::Auto);
            assert_eq!(
                ids(&report),
                vec!["export-signature-mismatch"],
                "{}",
                callback.name
            );
            let f = &report.findings[0];
            assert_eq!(f.symbol.as_deref(), Some(callback.name));
            assert_eq!(
                f.expected,
                Some(format!("function {}", callback.signature()))
            );
            assert_ne!(f.expected, f.actual);
            assert!(!report.ok);
        }
    }
}

#[test]
fn a_callback_exported_as_a_global_is_a_wrong_signature() {
    let abi = newest();
    let Some(callback) = abi.exports.iter().find(|s| !s.is_declaration()) else {
        return skip("no callback");
    };
    let mut plugin = Plugin::conforming(abi).without_export(callback.name);
    plugin.extra.push(format!(
        "  (global (export \"{}\") i32 (i32.const 0))",
        callback.name
    ));
    let report = run(&plugin, AbiChoice::Auto);
    assert!(
        report.has(FindingId::ExportSignatureMismatch),
        "{:?}",
        report.findings
    );
    // The allocator or entry point exported as a global does not satisfy the requirement either.
    if callback.required {
        assert!(report.has(FindingId::RequiredExportMissing));
    }
}

#[test]
fn wrong_import_signature() {
    for abi in symbols::versions() {
        for import in abi.imports.iter().filter(|s| s.written) {
            let plugin =
                Plugin::minimal(abi).with_import(import.module, import.name, altered(sig(import)));
            let report = run(&plugin, AbiChoice::Auto);
            assert_eq!(
                ids(&report),
                vec!["import-signature-mismatch"],
                "{}",
                import.name
            );
            let f = &report.findings[0];
            assert_eq!(f.symbol, Some(format!("{}.{}", import.module, import.name)));
            assert_eq!(f.expected, Some(import.signature()));
            assert!(!report.ok);
        }
    }
}

#[test]
fn unknown_proxy_import() {
    let name = "proxy_no_version_defines_this";
    for abi in symbols::versions() {
        assert!(symbols::versions()
            .iter()
            .all(|v| v.import("env", name).is_none()));
        let plugin =
            Plugin::minimal(abi).with_import("env", name, (vec![ValType::I32], vec![ValType::I32]));
        let report = run(&plugin, AbiChoice::Auto);
        assert_eq!(ids(&report), vec!["import-unknown"]);
        assert_eq!(report.findings[0].symbol, Some(format!("env.{name}")));
        assert!(!report.ok);
        // A memory imported from a host module does not link either.
        let mut memory = Plugin::minimal(abi);
        memory.memory = None;
        memory.head.push(
            "  (import \"env\" \"memory\" (memory 1))\n  (export \"memory\" (memory 0))".into(),
        );
        assert_eq!(ids(&run(&memory, AbiChoice::Auto)), vec!["import-unknown"]);
    }
}

#[test]
fn import_from_a_foreign_module() {
    for abi in symbols::versions() {
        let plugin =
            Plugin::minimal(abi).with_import("wasi_unstable", "fd_write", (vec![], vec![]));
        let report = run(&plugin, AbiChoice::Auto);
        assert_eq!(ids(&report), vec!["import-foreign-module"]);
        assert_eq!(
            report.findings[0].symbol.as_deref(),
            Some("wasi_unstable.fd_write")
        );
        assert!(!report.ok);
    }
}

#[test]
fn missing_memory() {
    for abi in symbols::versions().iter().filter(|v| v.memory_required) {
        let mut plugin = Plugin::conforming(abi);
        plugin.memory = None;
        let report = run(&plugin, AbiChoice::Auto);
        assert_eq!(ids(&report), vec!["memory-missing"]);
        assert_eq!(report.findings[0].actual.as_deref(), Some("nothing"));
        // A memory under another name does not count.
        plugin.memory = Some("mem".into());
        assert_eq!(ids(&run(&plugin, AbiChoice::Auto)), vec!["memory-missing"]);
    }
}

#[test]
fn missing_required_exports_such_as_the_allocator() {
    for abi in symbols::versions() {
        let marker = declaration(abi);
        for group in abi
            .required_groups
            .iter()
            .filter(|g| !g.names.contains(&marker))
        {
            let mut plugin = Plugin::conforming(abi);
            for name in group.names {
                plugin = plugin.without_export(name);
            }
            let report = run(&plugin, AbiChoice::Auto);
            assert_eq!(
                ids(&report),
                vec!["required-export-missing"],
                "group {}",
                group.family
            );
            assert_eq!(report.findings[0].symbol.as_deref(), Some(group.family));
            assert!(!report.ok);
            // Any one member satisfies the group.
            for name in group.names {
                let Some(symbol) = abi.export(name) else {
                    continue;
                };
                let one = plugin.clone().with_export(name, sig(symbol));
                assert!(run(&one, AbiChoice::Auto).findings.is_empty(), "{name}");
            }
        }
    }
}

/// Imports one version defines and another does not, both ways.
#[test]
fn an_import_of_another_version() {
    let mut checked = 0;
    for (a, b) in pairs() {
        for import in b
            .imports
            .iter()
            .filter(|s| a.import(s.module, s.name).is_none())
        {
            let plugin = Plugin::minimal(a).with_import(import.module, import.name, sig(import));
            let report = run(&plugin, AbiChoice::Auto);
            assert_eq!(
                ids(&report),
                vec!["import-other-version"],
                "{} in a {} module",
                import.name,
                a.version
            );
            assert!(report.findings[0].message.contains(b.version));
            assert!(!report.ok);
            checked += 1;
        }
    }
    let has = |v: &str| symbols::version(v).is_some();
    if has("0.1.0") && has("0.2.1") {
        assert!(checked > 0, "0.1.0 and 0.2.1 define the same imports?");
    } else {
        skip(
            "0.1.0-only imports in a 0.2.1 module and the reverse need spec/proxy_wasm_0_1_0.witx",
        );
    }
}

#[test]
fn a_callback_of_another_version() {
    for (a, b) in pairs() {
        for callback in b
            .exports
            .iter()
            .filter(|s| !s.is_declaration() && a.export(s.name).is_none())
        {
            let plugin = Plugin::conforming(a).with_export(callback.name, sig(callback));
            let report = run(&plugin, AbiChoice::Version(a));
            assert_eq!(
                ids(&report),
                vec!["export-other-version"],
                "{} in a {} module",
                callback.name,
                a.version
            );
        }
    }
}

#[test]
fn an_unknown_proxy_export_is_a_warning() {
    let abi = newest();
    let plugin = Plugin::conforming(abi).with_export("proxy_on_reqest_headers", (vec![], vec![]));
    let report = run(&plugin, AbiChoice::Auto);
    assert_eq!(ids(&report), vec!["export-unknown"]);
    assert_eq!(report.findings[0].severity, Severity::Warning);
    assert!(report.ok);
    // Other exports are none of the audit's business.
    let other = Plugin::conforming(abi).with_export("my_helper", (vec![], vec![]));
    assert!(run(&other, AbiChoice::Auto).findings.is_empty());
}

#[test]
fn an_unwritten_import_is_a_warning() {
    let mut checked = 0;
    for abi in symbols::versions() {
        for import in abi.imports.iter().filter(|s| !s.written) {
            let plugin = Plugin::minimal(abi).with_import(import.module, import.name, sig(import));
            let report = run(&plugin, AbiChoice::Auto);
            assert_eq!(ids(&report), vec!["import-unwritten"]);
            let f = &report.findings[0];
            assert_eq!(f.severity, Severity::Warning);
            assert!(f.message.contains("outside the written spec"));
            assert!(report.ok);
            checked += 1;
        }
    }
    if checked == 0 {
        skip("no version's spec has an `unwritten` host function yet");
    }
}

#[test]
fn exactly_the_expected_symbols() {
    let abi = newest();
    let plugin = Plugin::conforming(abi);
    let imported: Vec<(&str, &str)> = abi
        .imports
        .iter()
        .filter(|s| s.written)
        .map(|s| (s.module, s.name))
        .collect();
    let exact = ExpectList::from_symbols(imported.iter().copied());
    let report =
        audit(&plugin.bytes(), AbiChoice::Auto, Some(&exact)).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.findings.is_empty(), "{:?}", report.findings);

    // Bare names match any module; comments and blank lines are ignored.
    let text: String = imported
        .iter()
        .map(|(_, n)| format!("{n}  # a comment\n\n"))
        .collect();
    let report = audit(
        &plugin.bytes(),
        AbiChoice::Auto,
        Some(&ExpectList::parse(&text)),
    );
    assert!(report.is_ok_and(|r| r.findings.is_empty()));

    let Some(((first_module, first_name), rest)) = imported.split_first() else {
        return skip("the newest version defines no import");
    };
    // One fewer expected: that import is unexpected; one more expected: it is missing.
    let mut fewer = ExpectList::from_symbols(rest.iter().copied());
    let report =
        audit(&plugin.bytes(), AbiChoice::Auto, Some(&fewer)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids(&report), vec!["unexpected-import"]);
    assert_eq!(
        report.findings[0].symbol,
        Some(format!("{first_module}.{first_name}"))
    );
    assert!(!report.ok);
    fewer
        .entries
        .push((Some("env".into()), "proxy_not_imported".into()));
    fewer.entries.push((None, first_name.to_string()));
    let report =
        audit(&plugin.bytes(), AbiChoice::Auto, Some(&fewer)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids(&report), vec!["expected-import-missing"]);
    assert_eq!(
        report.findings[0].symbol.as_deref(),
        Some("env.proxy_not_imported")
    );
}

#[test]
fn every_finding_kind_has_an_id_a_severity_and_a_description() {
    let mut seen = std::collections::BTreeSet::new();
    for id in FindingId::ALL {
        assert!(seen.insert(id.as_str()), "duplicate id {id}");
        assert_eq!(FindingId::from_id(id.as_str()), Some(*id));
        assert!(!id.description().is_empty());
        assert!(id
            .as_str()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-'));
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    for id in FindingId::ALL {
        let row = format!("| `{}` | {} |", id.as_str(), id.severity());
        assert!(
            readme.contains(&row),
            "README.md lacks the row starting `{row}`"
        );
    }
}

#[test]
fn a_component_is_not_a_plugin() {
    let Ok(bytes) = wat::parse_str("(component)") else {
        return skip("wat cannot assemble components");
    };
    let err = audit(&bytes, AbiChoice::Auto, None).err();
    assert!(err.is_some_and(|e| e.message.contains("component")));
}
