//! The cargo features that select an ABI version cannot be generated (Cargo reads them from the
//! manifests), so this test checks them against the one list of versions, the documents in `spec/`:
//! the SDK's `Cargo.toml` has exactly one `abi-<major>-<minor>-<patch>` feature per version and enables
//! none by default (with none, `sdk/abi_selection.rs` compiles the newest); every example forwards
//! exactly those features to the SDK and lists in `[package.metadata.proxywasm] abi` only versions the
//! spec describes.

use proxywasm_codegen::version::{default_spec_dir, in_spec};
use proxywasm_codegen::Version;
use std::path::Path;

/// The `key = value` lines of one `[section]` of a manifest (no nested tables, as in ours).
fn section(manifest: &str, name: &str) -> Vec<(String, String)> {
    let header = format!("[{name}]");
    let mut inside = false;
    let mut entries = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == header;
            continue;
        }
        if !inside || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            entries.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    entries
}

/// The quoted strings of a one-line TOML array: `["a", "b"]` -> `a`, `b`.
fn strings(array: &str) -> Vec<String> {
    array
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The ABI features a manifest declares, with their values, in order.
fn abi_features(features: &[(String, String)]) -> Vec<(String, String)> {
    features
        .iter()
        .filter(|(k, _)| k.starts_with("abi-"))
        .cloned()
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn spec_versions() -> Vec<Version> {
    let versions = in_spec(&default_spec_dir()).unwrap_or_else(|e| panic!("spec/: {e}"));
    assert!(!versions.is_empty(), "spec/ describes no version");
    versions
}

#[test]
fn the_sdk_has_one_feature_per_spec_version_and_enables_none_by_default() {
    let versions = spec_versions();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let features = section(&read(&root.join("Cargo.toml")), "features");
    let declared: Vec<String> = abi_features(&features)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let expected: Vec<String> = versions.iter().map(Version::feature).collect();
    assert_eq!(declared, expected, "Cargo.toml [features] against spec/");
    let default = features.iter().find(|(k, _)| k == "default");
    assert!(
        default.is_none_or(|(_, v)| !strings(v).iter().any(|f| f.starts_with("abi-"))),
        "Cargo.toml: a default `abi-*` feature would conflict with every plugin's choice"
    );
}

#[test]
fn every_example_forwards_each_version_feature_and_lists_only_spec_versions() {
    let versions = spec_versions();
    let expected: Vec<(String, String)> = versions
        .iter()
        .map(|v| (v.feature(), format!("[\"proxywasm/{}\"]", v.feature())))
        .collect();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let manifest_path = entry.unwrap().path().join("Cargo.toml");
        if !manifest_path.is_file() {
            continue;
        }
        let manifest = read(&manifest_path);
        let features = section(&manifest, "features");
        assert_eq!(
            abi_features(&features),
            expected,
            "{}: [features] against spec/",
            manifest_path.display()
        );
        let metadata = section(&manifest, "package.metadata.proxywasm");
        let abi = metadata
            .iter()
            .find(|(k, _)| k == "abi")
            .unwrap_or_else(|| {
                panic!(
                    "{}: no [package.metadata.proxywasm] abi",
                    manifest_path.display()
                )
            });
        for listed in strings(&abi.1) {
            assert!(
                versions.iter().any(|v| v.to_string() == listed),
                "{}: [package.metadata.proxywasm] abi lists {listed}, which spec/ does not describe",
                manifest_path.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "no example found under {}", examples.display());
}
