//! WAT twins for every pattern of real plugins that the spec-only audit used to call broken although
//! cpp-host loads them, and for the host facts that decide a load: each pattern as a violating module
//! and a conforming twin, checked under the newest cpp-host profile, under an older profile where the
//! verdict differs, and under `--spec-only`.
//!
//! Set `CONFORMANCE_DUMP_TWINS=<dir>` to also write every twin as `<dir>/<name>.wasm`, to run them
//! through the real loader by hand.

use proxywasm_conformance::{
    audit_at, AbiChoice, FindingId, HostTarget, Level, Report, Scope, Severity,
};

/// A plugin for ABI 0.2.1 that loads everywhere: the marker, memory, `_initialize`, the allocator,
/// `proxy_on_context_create`, plus `fields` (imports first, then anything else).
fn plugin(imports: &str, fields: &str) -> String {
    plugin_for("proxy_abi_version_0_2_1", imports, fields)
}

fn plugin_for(marker: &str, imports: &str, fields: &str) -> String {
    format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  (func (export "{marker}"))
  (func (export "_initialize"))
  (func $alloc (export "proxy_on_memory_allocate") (param i32) (result i32) i32.const 0)
  (func (export "proxy_on_context_create") (param i32 i32))
  {fields}
)"#
    )
}

fn bytes(name: &str, wat: &str) -> Vec<u8> {
    let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("{name}: {e}\n{wat}"));
    if let Some(dir) = std::env::var_os("CONFORMANCE_DUMP_TWINS") {
        let dir = std::path::PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{name}.wasm")), &bytes);
    }
    bytes
}

fn host(name: &str) -> Level {
    Level::Host(
        name.parse::<HostTarget>()
            .unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}

fn host_engine(name: &str, engine: &str) -> Level {
    Level::Host(
        name.parse::<HostTarget>()
            .and_then(|t| t.with_engine(engine))
            .unwrap_or_else(|e| panic!("{name} {engine}: {e}")),
    )
}

fn run(name: &str, wat: &str, level: &Level) -> Report {
    audit_at(&bytes(name, wat), AbiChoice::Auto, level, None)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The newest cpp-host profile, an older one, and the written spec.
fn newest() -> Level {
    host("cpp-host")
}

fn describe(report: &Report) -> String {
    report
        .findings
        .iter()
        .map(|f| format!("{} [{}]", f, f.scope.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts the host verdict: loads or not, and that the errors (if any) are all of `id`, scope host.
fn assert_loads(report: &Report, loads: bool, context: &str) {
    assert_eq!(
        report.loads,
        Some(loads),
        "{context}:\n{}",
        describe(report)
    );
    assert_eq!(report.ok, loads, "{context}");
}

fn assert_refused_with(report: &Report, id: FindingId, symbol: &str, context: &str) {
    assert_loads(report, false, context);
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(
        errors
            .iter()
            .all(|f| f.scope == Scope::Host && f.id == id && f.symbol.as_deref() == Some(symbol)),
        "{context}: expected only {id} on {symbol}:\n{}",
        describe(report)
    );
    assert!(!errors.is_empty(), "{context}");
}

fn assert_spec_warning(report: &Report, id: FindingId, symbol: &str, context: &str) {
    assert!(
        report.findings.iter().any(|f| f.id == id
            && f.severity == Severity::Warning
            && f.scope == Scope::Spec
            && f.symbol.as_deref() == Some(symbol)),
        "{context}: expected a spec warning {id} on {symbol}:\n{}",
        describe(report)
    );
}

fn assert_spec_error(report: &Report, id: FindingId, symbol: &str, context: &str) {
    assert!(!report.ok, "{context}");
    assert_eq!(
        report.loads, None,
        "{context}: --spec-only has no host verdict"
    );
    assert!(
        report.findings.iter().any(|f| f.id == id
            && f.severity == Severity::Error
            && f.symbol.as_deref() == Some(symbol)),
        "{context}: expected a spec error {id} on {symbol}:\n{}",
        describe(report)
    );
}

fn assert_clean(report: &Report, context: &str) {
    assert!(report.ok, "{context}:\n{}", describe(report));
    assert!(
        report.findings.is_empty(),
        "{context}:\n{}",
        describe(report)
    );
    assert!(report.within_spec, "{context}");
}

// Pattern 1: WASI functions cpp-host registers that the spec does not list.

#[test]
fn wasi_function_outside_the_spec() {
    let import = r#"(import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func (param i32 i32) (result i32)))"#;
    let wat = plugin(import, "");
    let symbol = "wasi_snapshot_preview1.fd_fdstat_set_flags";

    let now = run("p1_fd_fdstat_set_flags", &wat, &newest());
    assert_loads(&now, true, "newest");
    assert_spec_warning(&now, FindingId::ImportUnknown, symbol, "newest");
    assert!(!now.within_spec);
    // Registered for Go's wasip1 runtime on 2024-12-19 (c4d7bb0).
    assert_eq!(now.loads_since.as_deref(), Some("cpp-host@2024-12-19"));

    let before = run("p1_fd_fdstat_set_flags", &wat, &host("cpp-host@2024-06-30"));
    assert_refused_with(&before, FindingId::ImportUnknown, symbol, "2024-06-30");
    assert!(before.findings[0].message.contains("since 2024-12-19"));

    let spec = run("p1_fd_fdstat_set_flags", &wat, &Level::SpecOnly);
    assert_spec_error(&spec, FindingId::ImportUnknown, symbol, "spec-only");

    // The twin imports the WASI function the spec lists.
    let twin = plugin(
        r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#,
        "",
    );
    for level in [newest(), host("cpp-host@2024-06-30"), Level::SpecOnly] {
        assert_clean(&run("p1_twin_fd_write", &twin, &level), "twin");
    }
}

#[test]
fn wasi_function_with_another_signature_than_the_host_registers() {
    // WASI's path_symlink takes five parameters; cpp-host registers it with four.
    let wat = plugin(
        r#"(import "wasi_snapshot_preview1" "path_symlink" (func (param i32 i32 i32 i32 i32) (result i32)))"#,
        "",
    );
    let now = run("p1_path_symlink_wasi_signature", &wat, &newest());
    assert_refused_with(
        &now,
        FindingId::ImportSignatureMismatch,
        "wasi_snapshot_preview1.path_symlink",
        "newest",
    );
    assert_eq!(
        now.findings[0].expected.as_deref(),
        Some("(i32, i32, i32, i32) -> (i32)")
    );
}

// Pattern 2: `wasi_unstable`, which cpp-host registers beside `wasi_snapshot_preview1`.

#[test]
fn wasi_unstable_module() {
    let wat = plugin(
        r#"(import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "clock_time_get" (func (param i32 i64 i32) (result i32)))"#,
        // `malloc` too, so the allocator does not date the module (its fallback came on 2020-10-26).
        r#"(export "malloc" (func $alloc))"#,
    );
    let now = run("p2_wasi_unstable", &wat, &newest());
    assert_loads(&now, true, "newest");
    assert_spec_warning(
        &now,
        FindingId::ImportForeignModule,
        "wasi_unstable.fd_write",
        "newest",
    );
    // clock_time_get arrived on 2020-10-13 (4636486), under both module names.
    assert_eq!(
        now.loads_since.as_deref(),
        Some("cpp-host@2020-10-13 (so envoy@1.17, istio@1.8 and later)")
    );
    let before = run("p2_wasi_unstable", &wat, &host("cpp-host@2020-09-01"));
    assert_refused_with(
        &before,
        FindingId::ImportForeignModule,
        "wasi_unstable.clock_time_get",
        "2020-09-01",
    );
    let spec = run("p2_wasi_unstable", &wat, &Level::SpecOnly);
    assert_spec_error(
        &spec,
        FindingId::ImportForeignModule,
        "wasi_unstable.fd_write",
        "spec-only",
    );
    // Capabilities file `wasi_unstable` functions under the spec's families.
    assert_eq!(now.capabilities, vec!["clocks", "logging"]);

    let twin = plugin(
        r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))"#,
        "",
    );
    for level in [newest(), host("cpp-host@2020-11-01"), Level::SpecOnly] {
        assert_clean(&run("p2_twin_preview1", &twin, &level), "twin");
    }
}

// Pattern 3: the Emscripten helpers.

#[test]
fn emscripten_helpers() {
    let wat = plugin(
        r#"(import "env" "emscripten_notify_memory_growth" (func (param i32)))
  (import "env" "pthread_equal" (func (param i32 i32) (result i32)))"#,
        "",
    );
    let now = run("p3_emscripten_helpers", &wat, &newest());
    assert_loads(&now, true, "newest");
    assert_spec_warning(
        &now,
        FindingId::ImportUnknown,
        "env.emscripten_notify_memory_growth",
        "newest",
    );
    assert_spec_warning(
        &now,
        FindingId::ImportUnknown,
        "env.pthread_equal",
        "newest",
    );
    assert_eq!(now.loads_since.as_deref(), Some("cpp-host@2022-06-15"));
    assert_eq!(
        now.toolchain.as_deref(),
        Some("Emscripten (guessed from its imports)")
    );
    // Before 2022-06-15 (73fe589) only pthread_equal was registered.
    let before = run("p3_emscripten_helpers", &wat, &host("cpp-host@2022-01-01"));
    assert_refused_with(
        &before,
        FindingId::ImportUnknown,
        "env.emscripten_notify_memory_growth",
        "2022-01-01",
    );
    let spec = run("p3_emscripten_helpers", &wat, &Level::SpecOnly);
    assert_spec_error(
        &spec,
        FindingId::ImportUnknown,
        "env.pthread_equal",
        "spec-only",
    );

    let twin = plugin("", "");
    for level in [newest(), host("cpp-host@2022-01-01"), Level::SpecOnly] {
        assert_clean(&run("p3_twin_no_helpers", &twin, &level), "twin");
    }
}

// Pattern 4: no `_initialize`/`_start` (looked up, never required), and the allocator (required).

#[test]
fn no_entry_point() {
    let wat = r#"(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) i32.const 0)
  (func (export "proxy_on_context_create") (param i32 i32))
)"#;
    let now = run("p4_no_entry", wat, &newest());
    assert_loads(&now, true, "newest");
    assert_spec_warning(&now, FindingId::RequiredExportMissing, "entry", "newest");
    let old = run("p4_no_entry", wat, &host("cpp-host@2020-11-01"));
    assert_loads(&old, true, "2020-11-01");
    let spec = run("p4_no_entry", wat, &Level::SpecOnly);
    assert_spec_error(
        &spec,
        FindingId::RequiredExportMissing,
        "entry",
        "spec-only",
    );
}

#[test]
fn allocator_required_by_the_host() {
    let without = r#"(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "_initialize"))
)"#;
    let now = run("p4_no_allocator", without, &newest());
    assert_refused_with(
        &now,
        FindingId::RequiredExportMissing,
        "malloc/proxy_on_memory_allocate",
        "newest",
    );
    let spec = run("p4_no_allocator", without, &Level::SpecOnly);
    assert_spec_error(
        &spec,
        FindingId::RequiredExportMissing,
        "allocator",
        "spec-only",
    );

    // Only `proxy_on_memory_allocate`: the fallback exists since 2020-10-26 (7bd429d).
    let twin = plugin("", "");
    assert_clean(&run("p4_twin_allocator", &twin, &newest()), "newest");
    let before = run("p4_twin_allocator", &twin, &host("cpp-host@2020-10-01"));
    assert_refused_with(
        &before,
        FindingId::RequiredExportMissing,
        "malloc",
        "2020-10-01",
    );
    let report = run("p4_twin_allocator", &twin, &newest());
    assert_eq!(
        report.loads_since.as_deref(),
        Some("cpp-host@2020-10-26 (so envoy@1.17, istio@1.8 and later)")
    );
}

// Pattern 5: callbacks the spec does not list but cpp-host looks up, and the reverse.

#[test]
fn metadata_and_validate_configuration_callbacks() {
    let wat = plugin(
        "",
        r#"(func (export "proxy_on_request_metadata") (param i32 i32) (result i32) i32.const 0)
  (func (export "proxy_on_response_metadata") (param i32 i32) (result i32) i32.const 0)
  (func (export "proxy_validate_configuration") (param i32 i32) (result i32) i32.const 1)"#,
    );
    let now = run("p5_metadata", &wat, &newest());
    assert_loads(&now, true, "newest");
    for name in ["proxy_on_request_metadata", "proxy_on_response_metadata"] {
        let f = now
            .findings
            .iter()
            .find(|f| f.symbol.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name}: {}", describe(&now)));
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("looks it up and calls it"), "{f}");
        assert!(!f.message.contains("never called"), "{f}");
    }
    let validate = now
        .findings
        .iter()
        .find(|f| f.symbol.as_deref() == Some("proxy_validate_configuration"))
        .unwrap_or_else(|| panic!("{}", describe(&now)));
    assert!(validate.message.contains("never calls it"), "{validate}");
    // Under the written spec they are unknown callbacks: a warning there too.
    let spec = run("p5_metadata", &wat, &Level::SpecOnly);
    assert!(spec.ok, "{}", describe(&spec));
    assert!(spec.has(FindingId::ExportUnknown));
}

#[test]
fn wrongly_typed_callback_depends_on_the_engine() {
    let wat = plugin(
        "",
        r#"(func (export "proxy_on_request_metadata") (param i32) (result i32) i32.const 0)"#,
    );
    let symbol = "proxy_on_request_metadata";
    let v8 = run("p5_metadata_bad_type", &wat, &newest());
    assert_refused_with(&v8, FindingId::ExportSignatureMismatch, symbol, "v8");
    let wamr = run(
        "p5_metadata_bad_type",
        &wat,
        &host_engine("cpp-host", "wamr"),
    );
    assert_refused_with(&wamr, FindingId::ExportSignatureMismatch, symbol, "wamr");
    // The wasmtime-cpp-api backend (2026-05-20, a7cfd87) drops it instead; the older one refused.
    let wasmtime = run(
        "p5_metadata_bad_type",
        &wat,
        &host_engine("cpp-host", "wasmtime"),
    );
    assert_loads(&wasmtime, true, "wasmtime");
    assert!(wasmtime
        .findings
        .iter()
        .any(|f| f.id == FindingId::ExportSignatureMismatch
            && f.severity == Severity::Warning
            && f.scope == Scope::Host
            && f.message.contains("never called")));
    let old = run(
        "p5_metadata_bad_type",
        &wat,
        &host_engine("cpp-host@2025-01-01", "wasmtime"),
    );
    assert_refused_with(
        &old,
        FindingId::ExportSignatureMismatch,
        symbol,
        "wasmtime 2025",
    );
    // The spec does not know the callback: a warning only.
    let spec = run("p5_metadata_bad_type", &wat, &Level::SpecOnly);
    assert!(spec.ok, "{}", describe(&spec));
}

#[test]
fn foreign_function_callback_in_a_0_1_0_module() {
    let wat = r#"(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_1_0"))
  (func (export "_initialize"))
  (func (export "malloc") (param i32) (result i32) i32.const 0)
  (func (export "proxy_on_foreign_function") (param i32 i32 i32))
)"#;
    let now = run("p5_foreign_function_0_1_0", wat, &newest());
    assert_loads(&now, true, "newest");
    let f = &now.findings[0];
    assert_eq!(
        (f.id, f.severity, f.scope),
        (
            FindingId::ExportOtherVersion,
            Severity::Warning,
            Scope::Host
        ),
        "{f}"
    );
    assert!(f.message.contains("never looks it up"), "{f}");
    let spec = run("p5_foreign_function_0_1_0", wat, &Level::SpecOnly);
    assert_spec_error(
        &spec,
        FindingId::ExportOtherVersion,
        "proxy_on_foreign_function",
        "spec-only",
    );
    // The twin declares 0.2.1, where the callback exists.
    let twin = plugin(
        "",
        r#"(func (export "proxy_on_foreign_function") (param i32 i32 i32))"#,
    );
    for level in [newest(), Level::SpecOnly] {
        assert_clean(
            &run("p5_twin_foreign_function_0_2_1", &twin, &level),
            "twin",
        );
    }
}

#[test]
fn misspelt_callback_is_never_called() {
    let wat = plugin(
        "",
        r#"(func (export "proxy_on_grpc_recieve") (param i32 i32 i32))"#,
    );
    let now = run("p5_misspelt", &wat, &newest());
    assert_loads(&now, true, "newest");
    let f = &now.findings[0];
    assert_eq!(
        (f.id, f.severity),
        (FindingId::ExportUnknown, Severity::Warning)
    );
    assert!(f.message.contains("never called"), "{f}");
}

// Pattern 6: no version marker: one finding, no cascade.

#[test]
fn no_marker_is_one_finding() {
    // A pre-0.1.0 build: callbacks and hostcalls, no marker.
    let early = r#"(module
  (import "env" "proxy_log" (func (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_configuration" (func (param i32 i32) (result i32)))
  (import "env" "proxy_something_old" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) i32.const 0)
  (func (export "proxy_on_start") (param i32 i32) (result i32) i32.const 1)
  (func (export "proxy_on_request_headers") (param i32) (result i32) i32.const 0)
)"#;
    let http_wasm = r#"(module
  (import "http_handler" "log" (func (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) i64.const 0)
)"#;
    let other_marker = r#"(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_9_9_9"))
)"#;
    for (name, wat, says) in [
        ("p6_pre_0_1_0", early, "before ABI 0.1.0"),
        ("p6_http_wasm", http_wasm, "http-wasm"),
        ("p6_unknown_marker", other_marker, "proxy_abi_version_9_9_9"),
    ] {
        for level in [newest(), host("cpp-host@2021-01-01"), Level::SpecOnly] {
            let report = run(name, wat, &level);
            assert_eq!(report.abi, None, "{name}");
            assert!(!report.ok, "{name}");
            assert_eq!(report.findings.len(), 1, "{name}:\n{}", describe(&report));
            let f = &report.findings[0];
            assert_eq!(f.id, FindingId::AbiVersionMissing);
            assert!(f.message.contains(says), "{name}: {f}");
        }
    }
}

#[test]
fn several_markers_take_the_first() {
    let wat = plugin("", r#"(func (export "proxy_abi_version_0_1_0"))"#);
    let now = run("p6_two_markers", &wat, &newest());
    assert_loads(&now, true, "newest");
    assert_eq!(now.abi.as_deref(), Some("0.2.1"));
    assert!(now
        .findings
        .iter()
        .any(|f| f.id == FindingId::AbiVersionMultiple && f.severity == Severity::Warning));
    let spec = run("p6_two_markers", &wat, &Level::SpecOnly);
    assert!(!spec.ok);
    assert!(spec.has(FindingId::AbiVersionMultiple));
}

// Engine facts: a wasm start function.

#[test]
fn start_function_traps_only_under_the_new_wasmtime_backend() {
    let wat = plugin("", r#"(func $init) (start $init)"#);
    let v8 = run("e_start_function", &wat, &newest());
    assert_loads(&v8, true, "v8");
    assert!(v8.findings.iter().any(|f| f.id == FindingId::StartFunction
        && f.severity == Severity::Warning
        && f.message.contains("wasmtime")));
    let wasmtime = run(
        "e_start_function",
        &wat,
        &host_engine("cpp-host", "wasmtime"),
    );
    assert_refused_with(&wasmtime, FindingId::StartFunction, "start", "wasmtime");
    let older = run(
        "e_start_function",
        &wat,
        &host_engine("cpp-host@2026-01-01", "wasmtime"),
    );
    assert_clean(&older, "wasmtime before 2026-05-20");
    assert_clean(
        &run("e_start_function", &wat, &Level::SpecOnly),
        "spec-only",
    );
}

#[test]
fn imported_memory_depends_on_the_engine() {
    let wat = r#"(module
  (import "env" "memory" (memory 1))
  (export "memory" (memory 0))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "_initialize"))
  (func (export "malloc") (param i32) (result i32) i32.const 0)
)"#;
    let v8 = run("e_imported_memory", wat, &newest());
    assert_loads(&v8, true, "v8");
    let wasmtime = run(
        "e_imported_memory",
        wat,
        &host_engine("cpp-host", "wasmtime"),
    );
    assert_refused_with(
        &wasmtime,
        FindingId::ImportUnknown,
        "env.memory",
        "wasmtime",
    );
    let spec = run("e_imported_memory", wat, &Level::SpecOnly);
    assert_spec_error(&spec, FindingId::ImportUnknown, "env.memory", "spec-only");
}

// What the module is: kind, toolchain, pitfalls, capabilities.

#[test]
fn allocator_pitfall_two_functions() {
    let wat = plugin(
        "",
        r#"(func (export "malloc") (param i32) (result i32) i32.const 8)"#,
    );
    let now = run("k_two_allocators", &wat, &newest());
    assert_loads(&now, true, "newest");
    let f = now
        .findings
        .iter()
        .find(|f| f.id == FindingId::AllocatorAmbiguous)
        .unwrap_or_else(|| panic!("{}", describe(&now)));
    assert!(f.message.contains("calls `malloc`"), "{f}");
    // The same function under both names is fine.
    let same = plugin("", r#"(export "malloc" (func $alloc))"#);
    assert_clean(&run("k_one_allocator_two_names", &same, &newest()), "same");
}

#[test]
fn plugin_kind_and_toolchain() {
    let http = plugin(
        "",
        r#"(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) i32.const 0)"#,
    );
    assert_eq!(
        run("k_http", &http, &newest()).kind.as_deref(),
        Some("http")
    );
    let tcp = plugin(
        "",
        r#"(func (export "proxy_on_new_connection") (param i32) (result i32) i32.const 0)"#,
    );
    assert_eq!(
        run("k_tcp", &tcp, &newest()).kind.as_deref(),
        Some("network")
    );
    let root = plugin("", r#"(func (export "proxy_on_tick") (param i32))"#);
    let report = run("k_root", &root, &newest());
    assert_eq!(report.kind.as_deref(), Some("root-only"));
    assert_eq!(report.toolchain, None);
    // A producers section: one field, `processed-by`, with one value (TinyGo 0.30.0).
    let producers = plugin(
        "",
        r#"(@custom "producers" "\01\0cprocessed-by\01\06TinyGo\060.30.0")"#,
    );
    assert_eq!(
        run("k_producers", &producers, &newest())
            .toolchain
            .as_deref(),
        Some("TinyGo 0.30.0")
    );
}

#[test]
fn capabilities_are_real_families_only() {
    let wat = plugin(
        r#"(import "env" "proxy_done" (func (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func (param i32 i32 i32) (result i32)))"#,
        "",
    );
    let report = run("k_capabilities", &wat, &newest());
    assert_eq!(report.capabilities, vec!["logging"]);
}

#[test]
fn host_names_resolve() {
    assert!("cpp-host@2019-01-01".parse::<HostTarget>().is_err());
    assert!("cpp-host@yesterday".parse::<HostTarget>().is_err());
    assert!("nginx".parse::<HostTarget>().is_err());
    let t: HostTarget = "cpp-host@2023-03-01"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.to_string(), "cpp-host@2023-03-01 (v8)");
    assert!(t.clone().with_engine("wamr").is_ok());
    // WasmEdge support arrived on 2022-04-07.
    assert!("cpp-host@2022-01-01"
        .parse::<HostTarget>()
        .and_then(|t| t.with_engine("wasmedge"))
        .is_err());
}

#[test]
fn host_call_while_instantiating() {
    // cpp-host's WAMR build runs an exported `__wasm_call_ctors` at instantiation; a host function
    // called then finds no context.
    let ctors_call_host = plugin(
        r#"(import "wasi_snapshot_preview1" "environ_sizes_get" (func $env (param i32 i32) (result i32)))"#,
        r#"(func $helper (drop (call $env (i32.const 0) (i32.const 4))))
  (func (export "__wasm_call_ctors") (call $helper))"#,
    );
    let wamr = run(
        "e_ctors_call_host",
        &ctors_call_host,
        &host_engine("cpp-host", "wamr"),
    );
    assert_refused_with(&wamr, FindingId::StartFunction, "start", "wamr");
    assert!(wamr
        .findings
        .iter()
        .any(|f| f.message.contains("environ_sizes_get")));
    let v8 = run("e_ctors_call_host", &ctors_call_host, &newest());
    assert_loads(&v8, true, "v8");
    assert!(v8.findings.iter().any(|f| f.id == FindingId::StartFunction
        && f.severity == Severity::Warning
        && f.message.contains("wamr")));
    assert_clean(
        &run("e_ctors_call_host", &ctors_call_host, &Level::SpecOnly),
        "spec-only",
    );
    // The twin's constructors call no host function.
    let ctors_quiet = plugin("", r#"(func (export "__wasm_call_ctors"))"#);
    for level in [newest(), host_engine("cpp-host", "wamr"), Level::SpecOnly] {
        assert_clean(&run("e_twin_ctors_quiet", &ctors_quiet, &level), "twin");
    }
    // A wasm start function that calls the host fails under every engine.
    let start_calls_host = plugin(
        r#"(import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))"#,
        r#"(func $init (drop (call $log (i32.const 2) (i32.const 0) (i32.const 0)))) (start $init)"#,
    );
    for engine in ["v8", "wamr"] {
        let report = run(
            "e_start_calls_host",
            &start_calls_host,
            &host_engine("cpp-host", engine),
        );
        assert_refused_with(&report, FindingId::StartFunction, "start", engine);
    }
    // Its twin reaches the host only on an abort path (inside an `if` arm, as AssemblyScript's
    // start-up code reaches `proc_exit`): the call may never happen, and here it does not.
    let start_may_call_host = plugin(
        r#"(import "wasi_unstable" "proc_exit" (func $exit (param i32)))"#,
        r#"(global $broken (mut i32) (i32.const 0))
  (func $abort (call $exit (i32.const 255)))
  (func $init (if (global.get $broken) (then (call $abort)))) (start $init)"#,
    );
    for engine in ["v8", "wamr"] {
        let report = run(
            "e_twin_start_may_call_host",
            &start_may_call_host,
            &host_engine("cpp-host", engine),
        );
        assert_loads(&report, true, engine);
    }
}

#[test]
fn releases_name_the_host_they_pin() {
    // Envoy 1.17 ships cpp-host as of 2020-12-15 (its envoy-release/v1.17 branch point).
    let envoy: HostTarget = "envoy@1.17".parse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(envoy.date, "2020-12-15");
    assert_eq!(envoy.to_string(), "envoy@1.17 = cpp-host@2020-12-15 (v8)");
    // A Go wasip1 plugin needs 2024-12-19: Envoy 1.17 refuses it.
    let go = plugin(
        r#"(import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func (param i32 i32) (result i32)))"#,
        "",
    );
    let report = run("r_go_in_envoy_1_17", &go, &Level::Host(envoy));
    assert_refused_with(
        &report,
        FindingId::ImportUnknown,
        "wasi_snapshot_preview1.fd_fdstat_set_flags",
        "envoy@1.17",
    );
    // A plugin that needs nothing newer than the allocator fallback (2020-10-26) names both releases.
    let old = run("r_old_plugin", &plugin("", ""), &newest());
    assert_eq!(
        old.loads_since.as_deref(),
        Some("cpp-host@2020-10-26 (so envoy@1.17, istio@1.8 and later)")
    );
}

#[test]
fn simd_depends_on_the_engine() {
    // cpp-host builds WAMR's interpreter without SIMD (bazel/external/wamr.BUILD).
    let simd = plugin(
        "",
        r#"(func (export "proxy_on_tick") (param i32) (drop (i32x4.splat (local.get 0))))"#,
    );
    let wamr = run("e_simd", &simd, &host_engine("cpp-host", "wamr"));
    assert_refused_with(&wamr, FindingId::EngineFeature, "simd", "wamr");
    let v8 = run("e_simd", &simd, &newest());
    assert_loads(&v8, true, "v8");
    assert!(v8
        .findings
        .iter()
        .any(|f| f.id == FindingId::EngineFeature && f.severity == Severity::Warning));
    assert_clean(&run("e_simd", &simd, &Level::SpecOnly), "spec-only");
    let twin = plugin(
        "",
        r#"(func (export "proxy_on_tick") (param i32) (drop (i32.mul (local.get 0) (i32.const 4))))"#,
    );
    for level in [newest(), host_engine("cpp-host", "wamr")] {
        assert_clean(&run("e_twin_no_simd", &twin, &level), "twin");
    }
}

#[test]
fn memory_not_exported() {
    // cpp-host does not look the memory up at load time; only hostcalls that touch guest memory fail.
    let wat = r#"(module
  (memory 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "_initialize"))
  (func (export "malloc") (param i32) (result i32) i32.const 0)
  (func (export "proxy_on_context_create") (param i32 i32))
)"#;
    let now = run("m_memory_not_exported", wat, &newest());
    assert_loads(&now, true, "newest");
    assert_spec_warning(&now, FindingId::MemoryMissing, "memory", "newest");
    let spec = run("m_memory_not_exported", wat, &Level::SpecOnly);
    assert_spec_error(&spec, FindingId::MemoryMissing, "memory", "spec-only");
}
