//! Audits binaries built with another SDK: the official Rust SDK (`proxy-wasm` from crates.io), built here
//! at test time from `tests/fixtures/official_sdk` for both wasm targets. Outside CI, a build that cannot
//! run (no wasm target, no registry) skips with a message; under `CI=true` it fails.

use proxywasm_conformance::{audit, AbiChoice};
use std::path::{Path, PathBuf};
use std::process::Command;

fn build(target: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = root.join("../target/foreign");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            target,
            "--manifest-path",
        ])
        .arg(root.join("tests/fixtures/official_sdk/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .status();
    match status {
        Ok(s) if s.success() => Some(
            target_dir
                .join(target)
                .join("release/official_sdk_headers.wasm"),
        ),
        other if std::env::var_os("CI").is_some() => {
            panic!("building the official-SDK fixture for {target} failed: {other:?}")
        }
        other => {
            eprintln!("skipping: cannot build the official-SDK fixture for {target}: {other:?}");
            None
        }
    }
}

#[test]
fn an_official_sdk_plugin_audits_clean_on_both_targets() {
    for target in ["wasm32-wasip1", "wasm32-unknown-unknown"] {
        let Some(path) = build(target) else { continue };
        let bytes = std::fs::read(&path).expect("built module");
        let report = audit(&bytes, AbiChoice::Auto, None).expect("parses");
        for f in &report.findings {
            eprintln!("{target}: {} {:?} {}", f.id, f.symbol, f.message);
        }
        assert!(report.ok, "{target}: {:?}", report.findings);
        assert_eq!(report.abi.as_deref(), Some("0.2.1"), "{target}");
        assert!(
            report.capabilities.iter().any(|c| c == "http_fields"),
            "{target}: {:?}",
            report.capabilities
        );
    }
}
