//! Selects the ABI version the SDK is compiled for from the `abi-*` features enabled on it anywhere in
//! the dependency graph (the rule: `sdk/abi_selection.rs`), as the cfg
//! `proxywasm_abi = "<major>_<minor>_<patch>"`; `sdk/abi.rs` includes that version's checked-in bindings
//! from `sdk/generated/`. Nothing is generated here: a plugin's build runs no generator.
//!
//! The package declares `links = "proxywasm"`, so it also tells the crates that depend on it which
//! version it compiled: `DEP_PROXYWASM_ABI` (`0_2_1`) in their build scripts. The host crate
//! `proxywasm-emulator` compiles its glue for that version, and `DEP_PROXYWASM_SOURCES` (this package's
//! folder) tells it where the guest sources are, for its check that a built module is not stale.

#[path = "sdk/abi_selection.rs"]
#[allow(dead_code)]
mod abi_selection;

use abi_selection::{conflict_message, feature_variable, select, Selection, VERSIONS};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=sdk/abi_selection.rs");
    let values: Vec<String> = VERSIONS.iter().map(|(_, v)| format!("\"{v}\"")).collect();
    println!(
        "cargo:rustc-check-cfg=cfg(proxywasm_abi, values({}))",
        values.join(", ")
    );
    println!("cargo:rustc-check-cfg=cfg(proxywasm_abi_conflict)");
    let selection = select(|feature| std::env::var_os(feature_variable(feature)).is_some());
    if let Selection::Conflict(features) = &selection {
        println!("cargo:rustc-cfg=proxywasm_abi_conflict");
        println!(
            "cargo:rustc-env=PROXYWASM_ABI_CONFLICT={}",
            conflict_message(features)
        );
    }
    let version = selection.version();
    println!("cargo:rustc-cfg=proxywasm_abi=\"{version}\"");
    println!("cargo:abi={version}");
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        println!("cargo:sources={}", dir.to_string_lossy());
    }
}
