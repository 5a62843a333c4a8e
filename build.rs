//! Generates the SDK's raw ABI bindings from `spec/` for the ABI version selected by a cargo feature.

use proxywasm_codegen::{emit, parser, Version};
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let spec_dir = manifest_dir.join("spec");

    let selected: Vec<Version> = Version::ALL
        .into_iter()
        .filter(|v| {
            std::env::var_os(format!(
                "CARGO_FEATURE_{}",
                v.feature().to_uppercase().replace('-', "_")
            ))
            .is_some()
        })
        .collect();
    // More than one or no feature is reported by a `compile_error!` in sdk/abi.rs, with advice; generate
    // the newest selected version (or the default) so that error is the only one the user sees.
    let version = selected.last().copied().unwrap_or(Version::V0_2_1);

    println!("cargo:rerun-if-changed={}", spec_dir.display());
    for v in Version::ALL {
        for doc in parser::documents(&spec_dir, v) {
            println!("cargo:rerun-if-changed={}", doc.display());
        }
    }
    // Every version is loaded: the host and callback traits span all of them.
    let all: Vec<_> = Version::ALL
        .into_iter()
        .map(|v| parser::load(&spec_dir, v).unwrap_or_else(|e| fail(&e.to_string())))
        .collect();
    let abi = all
        .iter()
        .find(|a| a.version == version)
        .expect("every version is loaded");
    let files = emit::generate(abi, &all, &emit::Options::default())
        .unwrap_or_else(|e| fail(&e.to_string()));
    for file in files {
        let path = out_dir.join(file.name);
        std::fs::write(&path, file.contents)
            .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: cannot generate the ABI bindings: {message}");
    std::process::exit(1)
}
