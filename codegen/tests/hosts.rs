//! The host profiles in `spec/hosts/` load and agree with the spec; a profile that contradicts the spec
//! or itself is refused with a message naming the problem.

use proxywasm_codegen::{hosts, parser, version::default_spec_dir, Abi, Version};

fn abis() -> Vec<Abi> {
    Version::ALL
        .into_iter()
        .map(|v| parser::load(&default_spec_dir(), v).unwrap_or_else(|e| panic!("{v}: {e}")))
        .collect()
}

fn tampered(edit: impl Fn(&str) -> String) -> Result<hosts::Profile, hosts::ProfileError> {
    let original = default_spec_dir().join("hosts").join("cpp-host.json");
    let text = std::fs::read_to_string(&original).unwrap_or_else(|e| panic!("{e}"));
    let dir = std::env::temp_dir().join(format!("proxywasm-hosts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(format!("cpp-host-{}.json", text.len() ^ edit(&text).len()));
    std::fs::write(&path, edit(&text)).unwrap_or_else(|e| panic!("{e}"));
    hosts::load(&path, &abis())
}

#[test]
fn every_profile_loads_and_agrees_with_the_spec() {
    let abis = abis();
    let documents = hosts::documents(&default_spec_dir());
    assert!(!documents.is_empty(), "no profile in spec/hosts");
    for document in documents {
        let profile = hosts::load(&document, &abis).unwrap_or_else(|e| panic!("{e}"));
        assert!(!profile.imports.is_empty() && !profile.exports.is_empty());
        assert!(profile
            .engines
            .iter()
            .any(|e| e.engine == profile.default_engine));
    }
}

#[test]
fn a_profile_contradicting_the_spec_is_refused() {
    // proxy_log takes three i32 in every version of the spec.
    let err = tampered(|t| {
        t.replacen(
            "\"proxy_log\": \"(i32, i32, i32) -> (i32)\"",
            "\"proxy_log\": \"(i32, i32) -> (i32)\"",
            1,
        )
    })
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.contains("proxy_log") && err.contains("disagrees"),
        "{err}"
    );
}

#[test]
fn a_profile_naming_an_unknown_commit_is_refused() {
    let err = tampered(|t| t.replacen("\"since\": \"e73c498\"", "\"since\": \"0000000\"", 1))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("0000000"), "{err}");
}
