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

    let out = run(&["audit"], &[&good]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains("conforms") && stdout.contains(abi.version),
        "{stdout}"
    );

    let out = run(&["audit"], &[&good, &bad]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.contains("error[memory-missing]")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("2 files")),
        "{stdout}"
    );

    let out = run(&["audit"], &[&good, &bad, &broken]);
    assert_eq!(out.status.code(), Some(2));

    let out = run(&["audit", "--abi", "9.9.9"], &[&good]);
    assert_eq!(out.status.code(), Some(2));
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
