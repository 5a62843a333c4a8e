//! The CLI on good, bad and malformed files: exit codes, one-line errors, the JSON schema.

mod common;

use common::{newest, Plugin};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("proxywasm-conformance-cli-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir().join(name);
    if let Err(e) = std::fs::write(&path, bytes) {
        panic!("{}: {e}", path.display());
    }
    path
}

fn run(args: &[&str], files: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_proxywasm-conformance"));
    cmd.args(args);
    cmd.args(files);
    match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run the CLI: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit 2, exactly one line on stderr naming the file and an offset, and no panic.
fn assert_unparsable(name: &str, bytes: &[u8]) {
    let path = file(name, bytes);
    let out = run(&["audit"], &[&path]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{name}: {stderr}");
    assert!(
        lines[0].contains(&path.display().to_string()),
        "{name}: {stderr}"
    );
    assert!(lines[0].contains("offset"), "{name}: {stderr}");
}

#[test]
fn malformed_files_exit_2_with_one_line() {
    let valid = common::small_valid_module();
    assert_unparsable("empty.wasm", b"");
    assert_unparsable("text.wasm", b"this is not wasm at all\n");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    assert_unparsable("random.wasm", &random);
    assert_unparsable("magic-only.wasm", b"\0asm");
    for cut in [9, valid.len() / 2, valid.len() - 1] {
        assert_unparsable(&format!("truncated-{cut}.wasm"), &valid[..cut]);
    }
    // A section claiming ~4 GiB: a type section of size 0xFFFFFFFF (LEB128), then almost nothing.
    let mut huge = b"\0asm\x01\0\0\0".to_vec();
    huge.extend([0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    assert_unparsable("huge-section.wasm", &huge);
    // A custom section name claiming a huge length.
    let mut huge_name = b"\0asm\x01\0\0\0".to_vec();
    huge_name.extend([0x00, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, b'x']);
    assert_unparsable("huge-name.wasm", &huge_name);
    // Valid structure, invalid code: a function declared to return i32 whose body returns nothing.
    if let Ok(invalid) = wat::parse_str("(module (func (result i32)))") {
        assert_unparsable("invalid.wasm", &invalid);
    }
    let mut bad_body = b"\0asm\x01\0\0\0".to_vec();
    // type (func (result i32)); one function of that type; a body that is just `end`.
    bad_body.extend([0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f]);
    bad_body.extend([0x03, 0x02, 0x01, 0x00]);
    bad_body.extend([0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]);
    assert_unparsable("invalid-body.wasm", &bad_body);
}

#[test]
fn a_missing_file_exits_2() {
    let path = dir().join("does-not-exist.wasm");
    let out = run(&["audit"], &[&path]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr).lines().count(), 1);
}

#[test]
fn exit_codes_and_text_output() {
    let abi = newest();
    let good = file("good.wasm", &Plugin::conforming(abi).bytes());
    let mut no_memory = Plugin::conforming(abi);
    no_memory.memory = None;
    let bad = file("bad.wasm", &no_memory.bytes());
    let broken = file("broken.wasm", b"\0asm\x01\0\0");

    let out = run(&["audit", "--spec-only"], &[&good]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains("conforms") && stdout.contains(abi.version),
        "{stdout}"
    );

    let out = run(&["audit", "--spec-only"], &[&good, &bad]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.contains("error[memory-missing]")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("2 files, 2 distinct modules")),
        "{stdout}"
    );

    // The host verdict: cpp-host loads a module without an exported memory (a spec warning).
    let out = run(&["audit"], &[&good, &bad]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("warning[memory-missing] (spec)")),
        "{stdout}"
    );
    assert!(stdout.contains("loads in cpp-host@"), "{stdout}");

    let out = run(&["audit"], &[&good, &bad, &broken]);
    assert_eq!(out.status.code(), Some(2));

    let out = run(&["audit", "--abi", "9.9.9"], &[&good]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["audit", "--host", "cpp-host@1999-01-01"], &[&good]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["audit", "--engine", "nope"], &[&good]);
    assert_eq!(out.status.code(), Some(2));
}

/// A module that cpp-host refuses (an import it never registered) and one it loads.
fn fleet_dir(name: &str) -> std::path::PathBuf {
    let root = dir().join(name);
    let _ = std::fs::remove_dir_all(&root);
    let nested = root.join("team-a").join("nested");
    std::fs::create_dir_all(&nested).unwrap_or_else(|e| panic!("{e}"));
    let abi = newest();
    let loads = Plugin::minimal(abi).bytes();
    let refused = Plugin::minimal(abi)
        .with_import("env", "proxy_not_a_hostcall", (vec![], vec![]))
        .bytes();
    let write =
        |p: std::path::PathBuf, b: &[u8]| std::fs::write(p, b).unwrap_or_else(|e| panic!("{e}"));
    write(root.join("a.wasm"), &loads);
    write(nested.join("copy-of-a.wasm"), &loads);
    write(root.join("team-a").join("refused.wasm"), &refused);
    write(root.join("notes.txt"), b"not wasm, not audited");
    root
}

#[test]
fn fleet_directories_duplicates_and_summary() {
    let root = fleet_dir("fleet-text");
    let out = run(&["audit"], &[&root]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("3 files, 2 distinct modules: 1 pass, 1 fail"),
        "{stdout}"
    );
    assert!(
        stdout.contains("copy-of-a.wasm: same module as"),
        "{stdout}"
    );
    assert!(stdout.contains("by finding"), "{stdout}");
    assert!(stdout.contains("  import-unknown: 1 / 0; 1"), "{stdout}");
    assert!(stdout.contains("by toolchain"), "{stdout}");
    assert!(!stdout.contains("notes.txt"), "{stdout}");

    let out = run(&["audit", "--errors-only"], &[&root]);
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("warning["), "{stdout}");
    assert!(!stdout.contains("a.wasm: ABI"), "{stdout}");
    assert!(
        stdout.contains("refused.wasm: error[import-unknown]"),
        "{stdout}"
    );

    let out = run(&["audit", "--format", "json"], &[&root]);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let files = json["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 3);
    assert_eq!(files[0]["sha256"], files[1]["sha256"]);
    assert!(files[1]["duplicate_of"]
        .as_str()
        .is_some_and(|p| p.ends_with("a.wasm")));
    assert_eq!(files[2]["loads"], false);
    assert_eq!(json["summary"]["modules"], 2);
    assert_eq!(
        json["summary"]["by_finding"]["import-unknown"]["error_modules"],
        1
    );
}

#[test]
fn sarif_output() {
    let root = fleet_dir("fleet-sarif");
    let out = run(&["audit", "--format", "sarif"], &[&root]);
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"]
        .as_str()
        .is_some_and(|s| s.contains("sarif-2.1.0")));
    let run0 = &log["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "proxywasm-conformance");
    let rules = run0["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let results = run0["results"].as_array().cloned().unwrap_or_default();
    let error = results
        .iter()
        .find(|r| r["level"] == "error")
        .unwrap_or_else(|| panic!("no error result: {results:?}"));
    assert_eq!(error["ruleId"], "import-unknown");
    let index = error["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
    assert_eq!(rules[index]["id"], "import-unknown");
    assert!(
        error["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("refused.wasm"))
    );
    // The duplicate is reported once.
    assert!(results.iter().all(
        |r| !r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("copy-of-a.wasm"))
    ));
}

#[test]
fn expect_list_from_a_file() {
    let abi = newest();
    let plugin = Plugin::conforming(abi);
    let wasm = file("expect.wasm", &plugin.bytes());
    let list: String = plugin
        .imports
        .iter()
        .map(|(m, n, _)| format!("{m}.{n}\n"))
        .collect();
    let exact = file("exact.expect", list.as_bytes());
    let out = run(
        &["audit", "--expect", &exact.display().to_string()],
        &[&wasm],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let more = file(
        "more.expect",
        format!("{list}env.proxy_not_imported\n").as_bytes(),
    );
    let out = run(
        &["audit", "--expect", &more.display().to_string()],
        &[&wasm],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("expected-import-missing"));
}

#[test]
fn json_output_follows_the_schema() {
    let abi = newest();
    let good = file("json-good.wasm", &Plugin::conforming(abi).bytes());
    let Some(import) = abi.imports.iter().find(|s| s.written) else {
        return common::skip("the newest version defines no import");
    };
    let mut params = import.params.to_vec();
    params.push(proxywasm_conformance::ValType::I64);
    let bad = file(
        "json-bad.wasm",
        &Plugin::minimal(abi)
            .with_import(
                import.module,
                import.name,
                (params, import.results.to_vec()),
            )
            .bytes(),
    );
    let broken = file("json-broken.wasm", b"garbage");
    let out = run(&["audit", "--format", "json"], &[&good, &bad, &broken]);
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    let files = json["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 3);
    for f in &files {
        for key in ["path", "abi", "ok", "findings", "capabilities", "error"] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
    }
    assert_eq!(files[0]["ok"], true);
    assert_eq!(files[0]["abi"], abi.version);
    assert!(files[0]["error"].is_null());
    assert_eq!(files[1]["ok"], false);
    let finding = &files[1]["findings"][0];
    for key in ["id", "severity", "message", "symbol", "expected", "actual"] {
        assert!(finding.get(key).is_some(), "{key} missing in {finding}");
    }
    assert_eq!(finding["id"], "import-signature-mismatch");
    assert_eq!(finding["severity"], "error");
    assert_eq!(
        finding["symbol"],
        format!("{}.{}", import.module, import.name)
    );
    assert_eq!(finding["expected"], import.signature());
    assert_eq!(files[2]["ok"], false);
    assert!(files[2]["abi"].is_null());
    assert!(files[2]["error"]
        .as_str()
        .is_some_and(|e| e.contains("offset")));
}

#[test]
fn symbols_lists_a_version() {
    let abi = newest();
    let out = run(&["symbols", "--abi", abi.version], &[]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("import env.proxy_log (i32, i32, i32) -> (i32)")),
        "{stdout}"
    );
    let out = run(&["symbols", "--abi", abi.version, "--format", "json"], &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(json["abi"], abi.version);
    assert_eq!(
        json["imports"].as_array().map(Vec::len),
        Some(abi.imports.len())
    );
}
