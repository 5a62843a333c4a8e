//! Builds plugins for `wasm32-wasip1` with the size profile, one cargo invocation per ABI version for all
//! the plugins of that version, and copies each module to `<plugin dir>/<version>/<lib>.wasm`.

use crate::abi::Abi;
use crate::error::Error;
use crate::project::{cargo, Plugin, Project};
use crate::toolchain::WASM_TARGET;
use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The release profile a plugin is built with, as cargo's environment overrides, so the plugin's
/// Cargo.toml need not carry it: smallest code, whole-program LTO, no symbols, abort on panic (a panic
/// must not unwind into the host), one codegen unit.
pub const SIZE_PROFILE: [(&str, &str); 5] = [
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z"),
    ("CARGO_PROFILE_RELEASE_LTO", "true"),
    ("CARGO_PROFILE_RELEASE_STRIP", "true"),
    ("CARGO_PROFILE_RELEASE_PANIC", "abort"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
];

/// One built module, in place.
#[derive(Debug, Clone)]
pub struct Built {
    /// The plugin.
    pub plugin: Plugin,
    /// The version it was built for.
    pub abi: Abi,
    /// Where it was put.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

impl std::fmt::Display for Built {
    /// `package (ABI version): path (size bytes)`, the line printed for each module built.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (ABI {}): {} ({} bytes)",
            self.plugin.package,
            self.abi,
            self.path.display(),
            self.size
        )
    }
}

/// The cargo command that builds `plugins` for `abi`: release, the wasm target, each package with its
/// own `abi-*` feature (and `--no-default-features` when a package's default features name another
/// version, which would clash).
pub fn build_command(
    project: &Project,
    abi: Abi,
    plugins: &[&Plugin],
    quiet: bool,
) -> Result<Command, Error> {
    let mut command = Command::new(cargo());
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(&project.manifest)
        .args(["--release", "--target", WASM_TARGET])
        .args(["--message-format", "json-render-diagnostics"]);
    if plugins.iter().any(|p| p.needs_no_default_features(abi)) {
        command.arg("--no-default-features");
    }
    if quiet {
        command.arg("--quiet");
    }
    for plugin in plugins {
        command
            .args(["-p", &plugin.package])
            .args(["--features", &plugin.abi_feature(abi)?]);
    }
    command.envs(SIZE_PROFILE);
    Ok(command)
}

/// Builds `plugins` for `abi` and copies each module into the plugin folder, fresh (its modification
/// time is now, so the emulator's staleness check sees it newer than every source it was built from).
pub fn build(
    project: &Project,
    abi: Abi,
    plugins: &[&Plugin],
    quiet: bool,
) -> Result<Vec<Built>, Error> {
    let mut command = build_command(project, abi, plugins, quiet)?;
    let names: Vec<&str> = plugins.iter().map(|p| p.package.as_str()).collect();
    if !quiet {
        eprintln!(
            "cargo proxywasm: building {} for ABI {abi}",
            names.join(", ")
        );
    }
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|source| Error::CannotRun {
            program: "cargo build".into(),
            source,
        })?;
    let mut modules: Vec<(String, PathBuf)> = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.map_err(Error::io("cargo build's output"))?;
            if let Some(found) = wasm_artifact(&line) {
                modules.push(found);
            }
        }
    }
    let status = child.wait().map_err(|source| Error::CannotRun {
        program: "cargo build".into(),
        source,
    })?;
    if !status.success() {
        return Err(Error::CommandFailed {
            command: format!(
                "cargo build --release --target {WASM_TARGET} (ABI {abi}: {})",
                names.join(", ")
            ),
            status,
        });
    }
    let folder = project.plugin_dir().join(abi.as_str());
    std::fs::create_dir_all(&folder).map_err(Error::io(&folder))?;
    let mut built = Vec::new();
    for plugin in plugins {
        let Some((_, source)) = modules.iter().find(|(id, _)| *id == plugin.id) else {
            return Err(Error::NoModule {
                package: plugin.package.clone(),
            });
        };
        let path = folder.join(format!("{}.wasm", plugin.lib_name));
        std::fs::copy(source, &path).map_err(Error::io(&path))?;
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            .map_err(Error::io(&path))?;
        let size = std::fs::metadata(&path).map_err(Error::io(&path))?.len();
        built.push(Built {
            plugin: (*plugin).clone(),
            abi,
            path,
            size,
        });
    }
    Ok(built)
}

/// The package id and `.wasm` of a `compiler-artifact` message for a cdylib, if `line` is one.
fn wasm_artifact(line: &str) -> Option<(String, PathBuf)> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    let cdylib = message
        .get("target")?
        .get("crate_types")?
        .as_array()?
        .iter()
        .any(|t| t.as_str() == Some("cdylib"));
    if !cdylib {
        return None;
    }
    let wasm = message
        .get("filenames")?
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".wasm"))?;
    let id = message.get("package_id")?.as_str()?;
    Some((id.to_string(), PathBuf::from(wasm)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::tests::v;
    use std::path::Path;

    fn plugin(name: &str) -> Plugin {
        Plugin {
            package: name.into(),
            id: format!("path+file:///w/{name}#0.1.0"),
            lib_name: name.replace('-', "_"),
            dir: PathBuf::from("/w").join(name),
            abis: Abi::all().collect(),
            default_abi: v("0.2.1"),
            default_names_abi: false,
            features: Abi::all().map(Abi::feature).collect(),
        }
    }

    #[test]
    fn one_invocation_builds_every_plugin_of_a_version_with_its_own_feature_and_the_size_profile() {
        let (a, b) = (plugin("a"), plugin("b-c"));
        let project = Project {
            manifest: PathBuf::from("/w/Cargo.toml"),
            target_dir: PathBuf::from("/w/target"),
            plugins: vec![a.clone(), b.clone()],
        };
        let command = build_command(&project, v("0.1.0"), &[&a, &b], false).unwrap();
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let line = args.join(" ");
        assert!(
            line.starts_with(
                "build --manifest-path /w/Cargo.toml --release --target wasm32-wasip1 --message-format"
            ),
            "{line}"
        );
        assert!(!line.contains("--no-default-features"), "{line}");
        assert!(
            line.ends_with("-p a --features a/abi-0-1-0 -p b-c --features b-c/abi-0-1-0"),
            "{line}"
        );
        let envs: Vec<(String, String)> = command
            .get_envs()
            .filter_map(|(k, v)| {
                Some((
                    k.to_string_lossy().into_owned(),
                    v?.to_string_lossy().into_owned(),
                ))
            })
            .collect();
        for (key, value) in SIZE_PROFILE {
            assert!(envs.contains(&(key.into(), value.into())), "{key}");
        }
    }

    #[test]
    fn a_default_feature_naming_another_version_is_turned_off() {
        let mut old_style = plugin("a");
        old_style.default_names_abi = true;
        let project = Project {
            manifest: PathBuf::from("/w/Cargo.toml"),
            target_dir: PathBuf::from("/w/target"),
            plugins: vec![old_style.clone()],
        };
        let has_flag = |abi| {
            build_command(&project, abi, &[&old_style], false)
                .unwrap()
                .get_args()
                .any(|a| a == "--no-default-features")
        };
        assert!(has_flag(v("0.1.0")));
        assert!(!has_flag(v("0.2.1")));
    }

    #[test]
    fn only_cdylib_artifacts_with_a_wasm_file_are_modules() {
        let lib = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/a#0.1.0","target":{"crate_types":["cdylib","rlib"]},"filenames":["/t/wasm32-wasip1/release/liba.rlib","/t/wasm32-wasip1/release/a.wasm"]}"#;
        assert_eq!(
            wasm_artifact(lib),
            Some((
                "path+file:///w/a#0.1.0".into(),
                Path::new("/t/wasm32-wasip1/release/a.wasm").to_path_buf()
            ))
        );
        let dep = r#"{"reason":"compiler-artifact","package_id":"registry+x#log@0.4.0","target":{"crate_types":["lib"]},"filenames":["/t/liblog.rlib"]}"#;
        assert_eq!(wasm_artifact(dep), None);
        assert_eq!(
            wasm_artifact(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(wasm_artifact("not json"), None);
    }
}
