//! Selects the ABI version the SDK is compiled for from its cargo features, as the cfg
//! `proxywasm_abi = "<major>_<minor>_<patch>"`; `sdk/abi.rs` includes that version's checked-in bindings
//! from `sdk/generated/`. Nothing is generated here: a plugin's build runs no generator.
//!
//! Exactly one of the `abi-<major>-<minor>-<patch>` features must be enabled; none or several is reported
//! by a `compile_error!` in `sdk/abi.rs`, with advice. In that case the newest selected version (or the
//! newest of all) is still chosen, so that error is the only one the user sees.

// `VERSIONS` (feature, cfg value) and `NEWEST`, generated from the versions described in `spec/`.
include!("sdk/generated/versions.rs");

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=sdk/generated/versions.rs");
    let values: Vec<String> = VERSIONS.iter().map(|(_, v)| format!("\"{v}\"")).collect();
    println!(
        "cargo:rustc-check-cfg=cfg(proxywasm_abi, values({}))",
        values.join(", ")
    );
    let selected = VERSIONS
        .iter()
        .rfind(|(feature, _)| {
            let variable = format!("CARGO_FEATURE_{}", feature.to_uppercase().replace('-', "_"));
            std::env::var_os(variable).is_some()
        })
        .map_or(NEWEST, |(_, value)| value);
    println!("cargo:rustc-cfg=proxywasm_abi=\"{selected}\"");
}
