//! `cargo proxywasm new` run as a user runs it (the built binary, in a temporary folder): the crate it
//! writes for each kind. Building and testing that crate for every ABI is the end-to-end step of
//! `scripts/test` (too slow for `cargo test`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("cargo-proxywasm-new-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn cargo_proxywasm(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-proxywasm"))
        .current_dir(dir)
        .arg("proxywasm")
        .args(args)
        .output()
        .expect("runs cargo-proxywasm")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn new_writes_a_plugin_crate_of_each_kind_with_the_sdk_by_path() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository");
    let sdk = sdk.canonicalize().expect("repository path");
    for (flag, context, filter) in [
        (
            "--http",
            "impl HttpContext for Filter",
            "envoy.filters.http.wasm",
        ),
        (
            "--tcp",
            "impl TcpContext for Connection",
            "envoy.filters.network.wasm",
        ),
        (
            "--root",
            "impl RootContext for Service",
            "envoy.bootstrap.wasm",
        ),
    ] {
        let dir = scratch(&flag[2..]);
        let output = cargo_proxywasm(
            &dir,
            &[
                "new",
                "my-filter",
                flag,
                "--no-expect",
                "--sdk-path",
                sdk.to_str().unwrap(),
            ],
        );
        assert!(output.status.success(), "{flag}: {output:?}");
        let crate_dir = dir.join("my-filter");
        let manifest = read(&crate_dir.join("Cargo.toml"));
        assert!(manifest.contains("name = \"my-filter\""), "{manifest}");
        assert!(
            manifest.contains(&format!("path = \"{}\"", sdk.display())),
            "{manifest}"
        );
        assert!(manifest.contains("crate-type = [\"cdylib\", \"rlib\"]"));
        assert!(
            read(&crate_dir.join("src/lib.rs")).contains(context),
            "{flag}"
        );
        assert!(
            read(&crate_dir.join("envoy.yaml")).contains(filter),
            "{flag}"
        );
        assert!(
            read(&crate_dir.join("envoy.yaml")).contains("my_filter.wasm"),
            "{flag}"
        );
        let tests = read(&crate_dir.join("tests/plugin.rs"));
        assert!(tests.contains("use my_filter::"), "{tests}");
        assert!(read(&crate_dir.join("README.md")).contains("cargo proxywasm build"));
        assert!(crate_dir.join(".gitignore").is_file());
        // Not built, so no expect list yet (the end-to-end run in scripts/test writes and checks them).
        assert!(!crate_dir.join("imports").exists());

        // A second `new` into the same folder refuses to overwrite it.
        let again = cargo_proxywasm(&dir, &["new", "my-filter", "--no-expect"]);
        assert_eq!(again.status.code(), Some(2), "{again:?}");
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn errors_are_clear_and_exit_non_zero() {
    let dir = scratch("errors");
    let bad = cargo_proxywasm(&dir, &["new", "1bad", "--no-expect"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot be a plugin name"));

    let usage = cargo_proxywasm(&dir, &["new", "x", "--http", "--tcp"]);
    assert_eq!(usage.status.code(), Some(2));

    // An empty folder outside any cargo project (when the temporary folder is not inside one).
    if !dir.ancestors().any(|d| d.join("Cargo.toml").is_file()) {
        let build = cargo_proxywasm(&dir, &["build"]);
        assert_eq!(build.status.code(), Some(2), "{build:?}");
        assert!(String::from_utf8_lossy(&build.stderr).contains("not inside a cargo project"));
    }

    // The conformance CLI's own usage error comes through `audit`.
    let audit = cargo_proxywasm(&dir, &["audit", "--abi", "9.9", "x.wasm"]);
    assert_eq!(audit.status.code(), Some(2), "{audit:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn build_outside_a_plugin_crate_says_so() {
    // The repository root is the `proxywasm` library: not a cdylib.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository");
    let output = cargo_proxywasm(root, &["build", "-p", "proxywasm"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a plugin"), "{stderr}");
}
