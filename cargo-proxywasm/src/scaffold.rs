//! `cargo proxywasm new`: the files of a new plugin crate, from the templates in `templates/`.

use crate::abi::Abi;
use crate::cli::Kind;
use crate::error::Error;
use std::path::{Path, PathBuf};

/// The SDK version a new plugin depends on when it does not use a local checkout.
pub const SDK_VERSION: &str = "0.1";

/// Where a new plugin gets the SDK from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sdk {
    /// crates.io, [`SDK_VERSION`].
    Published,
    /// A local checkout of the proxywasm repository (its root folder).
    Path(PathBuf),
}

/// One file of the new crate: its path inside the crate and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Relative to the crate folder.
    pub path: &'static str,
    /// The contents.
    pub text: String,
}

/// Checks `name` is a package name cargo accepts and answers the library name (`-` becomes `_`).
pub fn lib_name(name: &str) -> Result<String, Error> {
    let invalid = |reason| Error::InvalidName {
        name: name.to_string(),
        reason,
    };
    let mut chars = name.chars();
    match chars.next() {
        None => return Err(invalid("it is empty")),
        Some(c) if !c.is_ascii_alphabetic() => {
            return Err(invalid("it must start with an ASCII letter"))
        }
        Some(_) => {}
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(invalid(
            "only ASCII letters, digits, `-` and `_` are allowed",
        ));
    }
    let lib = name.replace('-', "_");
    if [
        "proxywasm",
        "proxywasm_emulator",
        "std",
        "core",
        "alloc",
        "test",
        "self",
        "crate",
        "super",
    ]
    .contains(&lib.as_str())
    {
        return Err(invalid(
            "it names a crate the plugin needs or a reserved name",
        ));
    }
    Ok(lib)
}

/// A TOML basic string for `text`.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `[dependencies]` line for the SDK and the `[dev-dependencies]` line for its test host, the crate
/// `proxywasm-emulator` (in the repository's `emulator/` folder).
fn dependencies(sdk: &Sdk) -> (String, String) {
    match sdk {
        Sdk::Published => {
            let version = toml_string(SDK_VERSION);
            (
                format!("proxywasm = {{ version = {version} }}"),
                format!("proxywasm-emulator = {{ version = {version} }}"),
            )
        }
        Sdk::Path(root) => (
            format!(
                "proxywasm = {{ path = {} }}",
                toml_string(&root.to_string_lossy())
            ),
            format!(
                "proxywasm-emulator = {{ path = {} }}",
                toml_string(&root.join("emulator").to_string_lossy())
            ),
        ),
    }
}

/// The files of a new plugin `name` of `kind`.
pub fn files(name: &str, kind: Kind, sdk: &Sdk) -> Result<Vec<File>, Error> {
    let lib = lib_name(name)?;
    let (sdk_dependency, emulator_dependency) = dependencies(sdk);
    let (summary, envoy, lib_rs, test_rs, envoy_yaml) = match kind {
        Kind::Http => (
            "An HTTP filter: answers requests for `/forbidden` with a 403 and adds a header to every other \
             request, set to the plugin configuration.",
            "`envoy.yaml` loads the module as an HTTP filter in front of a static reply (the plugin \
             configuration is the header's value). Copy the built `.wasm` next to it and run \
             `envoy -c envoy.yaml`, then `curl -v localhost:10000/` and `curl -v localhost:10000/forbidden`.",
            include_str!("../templates/http_lib.rs.tmpl"),
            include_str!("../templates/http_test.rs.tmpl"),
            include_str!("../templates/http_envoy.yaml.tmpl"),
        ),
        Kind::Tcp => (
            "A network (TCP) filter: counts the bytes each connection receives from downstream into a \
             counter and logs each close.",
            "`envoy.yaml` loads the module as a network filter in front of a TCP proxy to 127.0.0.1:9000. \
             Copy the built `.wasm` next to it and run `envoy -c envoy.yaml`; the counter is in Envoy's \
             stats (`curl localhost:9901/stats | grep downstream_bytes`).",
            include_str!("../templates/tcp_lib.rs.tmpl"),
            include_str!("../templates/tcp_test.rs.tmpl"),
            include_str!("../templates/tcp_envoy.yaml.tmpl"),
        ),
        Kind::Root => (
            "A root context only, loaded as a bootstrap service: ticks every second, counts the ticks in a \
             counter and logs each one.",
            "`envoy.yaml` loads the module as a singleton bootstrap service (`envoy.bootstrap.wasm`). Copy \
             the built `.wasm` next to it and run `envoy -c envoy.yaml`; the ticks appear in Envoy's log at \
             info level.",
            include_str!("../templates/root_lib.rs.tmpl"),
            include_str!("../templates/root_test.rs.tmpl"),
            include_str!("../templates/root_envoy.yaml.tmpl"),
        ),
    };
    let abi_features: Vec<String> = Abi::all()
        .map(|abi| format!("{0} = [\"proxywasm/{0}\"]", abi.feature()))
        .collect();
    let abi_list: Vec<String> = Abi::all().map(|abi| format!("\"{abi}\"")).collect();
    let newest_abi = Abi::newest().to_string();
    let render = |template: &str| {
        template
            .replace("{{abi_features}}", &abi_features.join("\n"))
            .replace("{{abi_list}}", &abi_list.join(", "))
            .replace("{{abi_versions}}", &Abi::known())
            .replace("{{newest_abi}}", &newest_abi)
            .replace("{{sdk_dependency}}", &sdk_dependency)
            .replace("{{emulator_dependency}}", &emulator_dependency)
            .replace("{{summary}}", summary)
            .replace("{{envoy}}", envoy)
            .replace("{{name}}", name)
            .replace("{{lib}}", &lib)
    };
    Ok(vec![
        File {
            path: "Cargo.toml",
            text: render(include_str!("../templates/Cargo.toml.tmpl")),
        },
        File {
            path: ".gitignore",
            text: render(include_str!("../templates/gitignore.tmpl")),
        },
        File {
            path: "README.md",
            text: render(include_str!("../templates/README.md.tmpl")),
        },
        File {
            path: "envoy.yaml",
            text: render(envoy_yaml),
        },
        File {
            path: "src/lib.rs",
            text: render(lib_rs),
        },
        File {
            path: "tests/plugin.rs",
            text: render(test_rs),
        },
    ])
}

/// Writes `files` into `dir`, which must not exist or be empty.
pub fn write(dir: &Path, files: &[File]) -> Result<(), Error> {
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(Error::Exists(dir.to_path_buf()));
        }
    }
    for file in files {
        let path = dir.join(file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::write(&path, &file.text).map_err(Error::io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cargo_refuses_are_refused_and_dashes_become_underscores() {
        assert_eq!(lib_name("my-filter").unwrap(), "my_filter");
        for bad in [
            "",
            "1filter",
            "my filter",
            "my.filter",
            "proxywasm",
            "test",
            "é",
        ] {
            assert!(lib_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_placeholder_is_filled_in_every_kind() {
        for kind in [Kind::Http, Kind::Tcp, Kind::Root] {
            for file in files("my-filter", kind, &Sdk::Published).unwrap() {
                assert!(
                    !file.text.contains("{{"),
                    "{kind:?} {}: {}",
                    file.path,
                    file.text
                );
                assert!(
                    !file.text.contains("}}") || file.path.ends_with(".rs"),
                    "{}",
                    file.path
                );
            }
        }
    }

    #[test]
    fn the_kind_decides_the_envoy_filter_and_the_plugin() {
        let find = |kind, path: &str| {
            files("f", kind, &Sdk::Published)
                .unwrap()
                .into_iter()
                .find(|f| f.path == path)
                .unwrap()
                .text
        };
        assert!(find(Kind::Http, "envoy.yaml").contains("envoy.filters.http.wasm"));
        assert!(find(Kind::Tcp, "envoy.yaml").contains("envoy.filters.network.wasm"));
        assert!(find(Kind::Root, "envoy.yaml").contains("envoy.bootstrap.wasm"));
        assert!(find(Kind::Http, "src/lib.rs").contains("impl HttpContext"));
        assert!(find(Kind::Tcp, "src/lib.rs").contains("impl TcpContext"));
        assert!(!find(Kind::Root, "src/lib.rs").contains("Context for Filter"));
        for kind in [Kind::Http, Kind::Tcp, Kind::Root] {
            let test = find(kind, "tests/plugin.rs");
            assert!(
                test.contains("fn native()") && test.contains("fn wasm()"),
                "{kind:?}"
            );
            assert!(test.contains("wasm_module_for_test(env!(\"CARGO_MANIFEST_DIR\"), \"f\")"));
        }
    }

    #[test]
    fn the_sdk_comes_from_crates_io_or_a_local_path_and_the_manifest_is_a_plugin() {
        let manifest = |sdk| {
            files("my-filter", Kind::Http, &sdk)
                .unwrap()
                .into_iter()
                .find(|f| f.path == "Cargo.toml")
                .unwrap()
                .text
        };
        let published = manifest(Sdk::Published);
        assert!(
            published.contains(&format!("proxywasm = {{ version = \"{SDK_VERSION}\" }}")),
            "{published}"
        );
        assert!(
            published.contains(&format!(
                "proxywasm-emulator = {{ version = \"{SDK_VERSION}\" }}"
            )),
            "{published}"
        );
        assert!(published.contains("crate-type = [\"cdylib\", \"rlib\"]"));
        assert!(published
            .contains("[package.metadata.proxywasm]\nabi = [\"0.1.0\", \"0.2.0\", \"0.2.1\"]"));
        assert!(published.contains("abi-0-1-0 = [\"proxywasm/abi-0-1-0\"]"));
        let local = manifest(Sdk::Path(PathBuf::from("/src/proxy \"wasm\"")));
        assert!(
            local.contains(r#"proxywasm = { path = "/src/proxy \"wasm\"" }"#),
            "{local}"
        );
        assert!(
            local.contains(r#"proxywasm-emulator = { path = "/src/proxy \"wasm\"/emulator" }"#),
            "{local}"
        );
        assert!(!local.contains(&format!("version = \"{SDK_VERSION}\"")));
    }

    #[test]
    fn the_published_version_is_the_sdk_version_of_this_repository() {
        let manifest =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
                .expect("the workspace manifest (this test runs in the proxywasm repository)");
        let package = manifest
            .split("[package]")
            .nth(1)
            .expect("a [package] section");
        let version = package
            .lines()
            .find_map(|l| l.strip_prefix("version = \""))
            .and_then(|v| v.strip_suffix('"'))
            .expect("a version");
        assert!(
            version.starts_with(&format!("{SDK_VERSION}.")),
            "SDK_VERSION {SDK_VERSION} does not match the SDK's version {version}"
        );
    }

    #[test]
    fn a_folder_with_files_is_not_overwritten() {
        let dir =
            std::env::temp_dir().join(format!("cargo-proxywasm-exists-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("keep.txt"), "mine").unwrap();
        let error = write(&dir, &files("f", Kind::Http, &Sdk::Published).unwrap()).unwrap_err();
        assert!(matches!(error, Error::Exists(_)));
        assert_eq!(
            std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
            "mine"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
