//! The ABI-selection rule across a real dependency graph (`sdk/abi_selection.rs`): tiny crates in a
//! temporary folder, built with cargo against this SDK by path. A library that depends on `proxywasm`
//! without a feature follows the plugin's choice; two different `abi-*` features fail with the message
//! that names both.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch folder of crates, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!(
        "proxywasm-abi-selection-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    Scratch(dir)
}

fn sdk() -> String {
    env!("CARGO_MANIFEST_DIR").replace('\\', "/")
}

/// Writes a crate `name` under `root` with the given `[dependencies]` lines and `src/<file>`.
fn write_crate(root: &Path, name: &str, dependencies: &str, file: &str, source: &str) {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("src")).expect("crate folder");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\n{dependencies}\n\n[workspace]\n"
        ),
    )
    .expect("Cargo.toml");
    std::fs::write(dir.join("src").join(file), source).expect("source");
}

/// A library that uses the SDK and enables the given features on it.
fn library(root: &Path, name: &str, features: &str) {
    write_crate(
        root,
        name,
        &format!(
            "proxywasm = {{ path = \"{}\", features = [{features}] }}",
            sdk()
        ),
        "lib.rs",
        "pub fn version() -> &'static str {\n    proxywasm::abi::ABI_VERSION\n}\n",
    );
}

/// A program (standing in for the plugin) that enables `features` on the SDK and uses `library`.
fn plugin(root: &Path, features: &str, library: &str) {
    write_crate(
        root,
        "plugin",
        &format!(
            "proxywasm = {{ path = \"{}\", features = [{features}] }}\n{library} = {{ path = \"../{library}\" }}",
            sdk()
        ),
        "main.rs",
        &format!(
            "fn main() {{\n    println!(\"{{}} {{}}\", proxywasm::abi::ABI_VERSION, {library}::version());\n}}\n"
        ),
    );
}

fn cargo(root: &Path, args: &[&str]) -> Output {
    // One target folder for every run of this test, so the SDK is compiled once per feature set.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("abi-selection-test");
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .args(["--quiet", "--offline", "--manifest-path"])
        .arg(root.join("plugin").join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

#[test]
fn a_library_without_a_feature_follows_the_plugins_version() {
    let dir = scratch("follows");
    library(&dir.0, "helper", "");
    plugin(&dir.0, "\"abi-0-1-0\"", "helper");
    let output = cargo(&dir.0, &["run"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "0.1.0 0.1.0"
    );
}

#[test]
fn no_feature_anywhere_compiles_the_newest_version() {
    let dir = scratch("default");
    library(&dir.0, "helper", "");
    plugin(&dir.0, "", "helper");
    let output = cargo(&dir.0, &["run"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "0.2.1 0.2.1"
    );
}

#[test]
fn two_different_features_fail_naming_both() {
    let dir = scratch("conflict");
    library(&dir.0, "pinned", "\"abi-0-2-1\"");
    plugin(&dir.0, "\"abi-0-1-0\"", "pinned");
    let output = cargo(&dir.0, &["check"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the build passed: {stderr}");
    assert!(
        stderr.contains("`abi-0-1-0` and `abi-0-2-1` are enabled together"),
        "{stderr}"
    );
    assert!(
        stderr.contains("a library that depends on proxywasm"),
        "{stderr}"
    );
    // The conflict is the only error: the SDK still compiles one version's bindings.
    assert!(stderr.contains("due to 1 previous error"), "{stderr}");
}
