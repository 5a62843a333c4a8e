//! The cargo features that select an ABI version cannot be generated (Cargo reads them from the
//! manifests), so this test checks them against the one list of versions, the documents in `spec/`:
//! the SDK's `Cargo.toml` has exactly one `abi-<major>-<minor>-<patch>` feature per version and enables
//! none by default (with none, `sdk/abi_selection.rs` compiles the newest); every example forwards
//! exactly those features to the SDK and lists in `[package.metadata.proxywasm] abi` only versions the
//! spec describes. The documents that restate an example's list (its README's `ABI versions:` line, its
//! row in the README's table of examples) must say what its manifest says, and the sentences of the docs
//! that enumerate every version must name exactly the spec's.

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

/// The `x.y.z` versions written in `text`, in order.
fn versions_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
        let word = word.trim_matches('.');
        let parts: Vec<&str> = word.split('.').collect();
        if parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()) {
            found.push(word.to_string());
        }
    }
    found
}

/// Each example's name and the versions its manifest lists, sorted.
fn example_lists() -> Vec<(String, Vec<String>)> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut lists = Vec::new();
    for entry in std::fs::read_dir(&examples).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("Cargo.toml").is_file() {
            continue;
        }
        let metadata = section(&read(&dir.join("Cargo.toml")), "package.metadata.proxywasm");
        let mut abi = metadata
            .iter()
            .find(|(k, _)| k == "abi")
            .map(|(_, v)| strings(v))
            .unwrap_or_default();
        abi.sort();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        lists.push((name, abi));
    }
    lists.sort();
    assert!(
        !lists.is_empty(),
        "no example found under {}",
        examples.display()
    );
    lists
}

#[test]
fn the_documents_restating_an_examples_versions_agree_with_its_manifest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = read(&root.join("README.md"));
    for (name, listed) in example_lists() {
        let own = read(&root.join("examples").join(&name).join("README.md"));
        let line = own
            .lines()
            .find(|l| l.starts_with("ABI versions:"))
            .unwrap_or_else(|| panic!("examples/{name}/README.md: no `ABI versions:` line"));
        let mut said = versions_in(line);
        said.sort();
        said.dedup();
        assert_eq!(
            said, listed,
            "examples/{name}/README.md `{line}` against its [package.metadata.proxywasm] abi"
        );

        let link = format!("| [`{name}`](examples/{name}) |");
        let row = readme
            .lines()
            .find(|l| l.starts_with(&link))
            .unwrap_or_else(|| panic!("README.md: no row for example `{name}`"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let mut said = cells.get(3).map(|c| versions_in(c)).unwrap_or_default();
        said.sort();
        assert_eq!(
            said, listed,
            "README.md, the examples table's row `{row}` against examples/{name}'s [package.metadata.proxywasm] abi"
        );
    }
}

#[test]
fn versions_are_found_in_prose() {
    assert_eq!(
        versions_in("ABI versions: 0.1.0 (resumes with `x`), 0.2.0, 0.2.1. Build:"),
        ["0.1.0", "0.2.0", "0.2.1"]
    );
    assert!(versions_in("0.2 and 1.2.3.4 and v0.1").is_empty());
    assert_eq!(
        named_versions("features `abi-0-2-1`, `abi-0-1-0`; 0.2.1 by default; abi-x"),
        ["0.1.0", "0.2.1"]
    );
}

/// The versions named in `text`, as `x.y.z` or as their cargo feature `abi-x-y-z`, sorted, once each.
fn named_versions(text: &str) -> Vec<String> {
    let mut found = versions_in(text);
    for (at, _) in text.match_indices("abi-") {
        let word: String = text[at + 4..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        let parts: Vec<&str> = word.trim_end_matches('-').split('-').collect();
        if parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()) {
            found.push(parts.join("."));
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_docs_that_enumerate_every_version_name_exactly_the_specs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected: Vec<String> = spec_versions().iter().map(Version::to_string).collect();
    // (file, a text on the first line of the enumeration); the enumeration may wrap onto the next line.
    for (file, marker) in [
        ("README.md", "are described once, machine-readably"),
        ("README.md", "Pick the ABI with a cargo feature"),
        ("README.md", "| operation |"),
        ("sdk/lib.rs", "picks the version with one of the features"),
        (
            "conformance/README.md",
            "proxywasm-conformance audit [--host HOST]",
        ),
    ] {
        let text = read(&root.join(file));
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains(marker))
            .unwrap_or_else(|| panic!("{file}: no line with `{marker}`"));
        let enumeration = lines[at..lines.len().min(at + 2)].join("\n");
        assert_eq!(
            named_versions(&enumeration),
            expected,
            "{file}:{}: `{}` against spec/",
            at + 1,
            lines[at]
        );
    }
}
