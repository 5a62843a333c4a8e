//! The `proxywasm-codegen` command line: listings, errors and exit codes.

use proxywasm_codegen::Version;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_proxywasm-codegen"))
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn symbols_json_has_the_documented_shape_sorted_by_name() {
    for version in Version::ALL {
        let abi = version.to_string();
        let out = run(&["symbols", "--abi", &abi, "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(json["abi"], abi);
        let imports = json["imports"].as_array().expect("imports");
        let exports = json["exports"].as_array().expect("exports");
        let names = |list: &Vec<serde_json::Value>| {
            list.iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let (i, e) = (names(imports), names(exports));
        assert!(
            i.windows(2).all(|w| w[0] <= w[1]) && e.windows(2).all(|w| w[0] <= w[1]),
            "sorted by name"
        );
        let log = imports
            .iter()
            .find(|s| s["name"] == "proxy_log")
            .expect("proxy_log");
        assert_eq!(log["module"], "env");
        assert_eq!(log["params"], serde_json::json!(["i32", "i32", "i32"]));
        assert_eq!(log["results"], serde_json::json!(["i32"]));
        let marker = format!("proxy_abi_version_{}", abi.replace('.', "_"));
        let marker = exports
            .iter()
            .find(|s| s["name"] == marker.as_str())
            .expect("marker");
        assert_eq!(marker["required"], true);
        assert_eq!(marker["params"], serde_json::json!([]));
    }
}

#[test]
fn diff_lists_what_0_2_1_added() {
    let out = run(&["diff", "--from", "0.2.0", "--to", "0.2.1"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("+ import env.proxy_get_log_level (i32) -> (i32)"),
        "{text}"
    );
    assert!(text.contains("2 added, 1 removed, 0 changed"), "{text}");
}

#[test]
fn document_prints_a_versions_whole_witx_document() {
    for version in Version::ALL {
        let out = run(&["document", "--abi", &version.to_string()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(text.contains("(use \"types.witx\")"), "{text}");
        let marker = format!("(export \"proxy_abi_version_{}\")", version.underscored());
        assert!(text.contains(&marker), "{version}: no {marker}");
        assert!(!text.contains("@versions") && !text.contains("@include"));
    }
}

#[test]
fn an_unknown_version_exits_2_with_a_clear_message() {
    let out = run(&["symbols", "--abi", "0.3.0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown ABI version `0.3.0`"));
}

#[test]
fn an_invalid_spec_file_exits_2_naming_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("proxywasm-cli-bad-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    std::fs::copy(spec.join("types.witx"), dir.join("types.witx")).unwrap();
    std::fs::write(dir.join("proxy_wasm_0_2_1.witx"), "(use \"types.witx\")\n(module $env.x\n  (@interface func (export \"f\") (param $p $no_such_type)))\n").unwrap();
    let out = run(&[
        "--spec-dir",
        dir.to_str().unwrap(),
        "symbols",
        "--abi",
        "0.2.1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("proxy_wasm_0_2_1.witx") && err.contains("3 |"),
        "{err}"
    );
}
