//! The generated code and symbol listings must match the checked-in golden copies in `tests/golden/`.
//! After an intended change to `spec/` or `codegen/`, refresh them with
//! `cargo run -p proxywasm-codegen -- golden` and review `git diff tests/golden`.

use proxywasm_codegen::{emit, listing, parser, version::default_spec_dir, Version};
use std::path::Path;

const REFRESH: &str = "cargo run -p proxywasm-codegen -- golden";

fn golden(version: Version, file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(version.to_string())
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; create it with `{REFRESH}`", path.display()))
}

fn all() -> Vec<proxywasm_codegen::Abi> {
    Version::ALL
        .into_iter()
        .map(|v| parser::load(&default_spec_dir(), v).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn generated_code_matches_the_golden_copies() {
    let all = all();
    let mut drift = Vec::new();
    for abi in &all {
        for file in emit::generate(abi, &all, &emit::Options::default()).expect("emits") {
            if golden(abi.version, file.name) != file.contents {
                drift.push(format!("{}/{}", abi.version, file.name));
            }
        }
    }
    assert!(
        drift.is_empty(),
        "generated code drifted from tests/golden: {drift:?}; if intended, run `{REFRESH}`"
    );
}

#[test]
fn symbol_listings_match_the_golden_copies() {
    for abi in all() {
        let json =
            serde_json::to_string_pretty(&listing::symbols(&abi)).expect("serializes") + "\n";
        assert!(
            golden(abi.version, "symbols.json") == json,
            "symbols of {} drifted from tests/golden; if intended, run `{REFRESH}`",
            abi.version
        );
    }
}
