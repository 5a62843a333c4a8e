//! Compiles the host glue for the ABI version the guest SDK was compiled for. The `proxywasm` package
//! declares `links = "proxywasm"`, so cargo hands its build script's metadata to this one:
//! `DEP_PROXYWASM_ABI` (`0_2_1`), which becomes this crate's cfg `proxywasm_abi` (which of
//! `generated/v<version>/` to include), and `DEP_PROXYWASM_SOURCES` (the SDK package's folder), which
//! becomes the compile-time variable `PROXYWASM_SDK_SOURCES` (read by the stale-module check).

/// The cfg values this crate has glue for, one folder of `generated/` each.
const VERSIONS: [&str; 3] = ["0_1_0", "0_2_0", "0_2_1"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEP_PROXYWASM_ABI");
    println!("cargo:rerun-if-env-changed=DEP_PROXYWASM_SOURCES");
    let values: Vec<String> = VERSIONS.iter().map(|v| format!("\"{v}\"")).collect();
    println!(
        "cargo:rustc-check-cfg=cfg(proxywasm_abi, values({}))",
        values.join(", ")
    );
    let abi = std::env::var("DEP_PROXYWASM_ABI").unwrap_or_default();
    if !VERSIONS.contains(&abi.as_str()) {
        // Only a `proxywasm` this crate was not written for can get here (a version it has no glue for).
        eprintln!(
            "proxywasm-emulator: the proxywasm SDK reports ABI `{abi}` (DEP_PROXYWASM_ABI), for which this \
             version of the emulator has no host glue; use the proxywasm-emulator release that matches \
             your proxywasm release"
        );
        std::process::exit(1);
    }
    println!("cargo:rustc-cfg=proxywasm_abi=\"{abi}\"");
    let sources = std::env::var("DEP_PROXYWASM_SOURCES").unwrap_or_default();
    println!("cargo:rustc-env=PROXYWASM_SDK_SOURCES={sources}");
}
