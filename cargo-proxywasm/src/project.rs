//! The plugins a command works on, read from `cargo metadata`: their library name, manifest folder, ABI
//! versions (`[package.metadata.proxywasm] abi`) and features, and where the workspace builds.

use crate::abi::Abi;
use crate::error::Error;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A plugin package: a library that builds a `cdylib`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    /// The package name (`my-filter`).
    pub package: String,
    /// Cargo's id of the package, as in its build messages.
    pub id: String,
    /// The library name, which names the `.wasm` (`my_filter`).
    pub lib_name: String,
    /// The folder of its Cargo.toml.
    pub dir: PathBuf,
    /// The versions it lists in `[package.metadata.proxywasm] abi` (every version when it lists none).
    pub abis: Vec<Abi>,
    /// The version its default features select (else the SDK's default, 0.2.1).
    pub default_abi: Abi,
    /// Whether its default features name an ABI version (then building another version needs
    /// `--no-default-features`, or the two versions would clash).
    pub default_names_abi: bool,
    /// Its features.
    pub features: Vec<String>,
}

impl Plugin {
    /// Its expect list for `abi`: `imports/<version>.txt` next to its Cargo.toml.
    pub fn expect_list(&self, abi: Abi) -> PathBuf {
        self.dir.join("imports").join(format!("{abi}.txt"))
    }

    /// Whether building it for `abi` needs `--no-default-features`: its default features name another
    /// version. (Otherwise its default features stay on, and with no `abi-*` feature the SDK's weak
    /// default is the only version.)
    pub fn needs_no_default_features(&self, abi: Abi) -> bool {
        self.default_names_abi && self.default_abi != abi
    }

    /// The `--features` value that selects `abi` for this package, or why it has none.
    pub fn abi_feature(&self, abi: Abi) -> Result<String, Error> {
        if self.features.iter().any(|f| *f == abi.feature()) {
            Ok(format!("{}/{}", self.package, abi.feature()))
        } else {
            Err(Error::MissingAbiFeature {
                package: self.package.clone(),
                feature: abi.feature(),
            })
        }
    }
}

/// The workspace a command runs in and the plugins it selected.
#[derive(Debug, Clone)]
pub struct Project {
    /// The manifest to pass to cargo.
    pub manifest: PathBuf,
    /// Cargo's target directory.
    pub target_dir: PathBuf,
    /// The selected plugins.
    pub plugins: Vec<Plugin>,
}

impl Project {
    /// The folder with one sub-folder of built modules per version, where the emulator's wasm-mode tests
    /// look: `$PROXYWASM_PLUGIN_DIR`, else `<target>/plugins`.
    pub fn plugin_dir(&self) -> PathBuf {
        std::env::var_os("PROXYWASM_PLUGIN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.target_dir.join("plugins"))
    }

    /// The versions to work on: `--abi V` (for the plugins that list it), every listed version, or each
    /// plugin's default; as `(version, plugins)` in version order, plugins in selection order.
    pub fn builds(
        &self,
        abi: Option<Abi>,
        all_abis: bool,
    ) -> Result<Vec<(Abi, Vec<&Plugin>)>, Error> {
        let mut by_version: BTreeMap<Abi, Vec<&Plugin>> = BTreeMap::new();
        for plugin in &self.plugins {
            let versions: Vec<Abi> = match (abi, all_abis) {
                (Some(v), _) => plugin.abis.iter().copied().filter(|a| *a == v).collect(),
                (None, true) => plugin.abis.clone(),
                (None, false) => vec![plugin.default_abi],
            };
            for v in versions {
                by_version.entry(v).or_default().push(plugin);
            }
        }
        if let (Some(v), true) = (abi, by_version.is_empty()) {
            return Err(Error::AbiNotSupported {
                version: v.to_string(),
            });
        }
        Ok(by_version.into_iter().collect())
    }
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    target_directory: PathBuf,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    id: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
    features: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
    crate_types: Vec<String>,
}

/// The nearest `Cargo.toml` at or above `dir`.
pub fn find_manifest(dir: &Path) -> Result<PathBuf, Error> {
    dir.ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|m| m.is_file())
        .ok_or_else(|| Error::NotACargoProject(dir.to_path_buf()))
}

/// Reads the workspace of `manifest` (default: the nearest Cargo.toml above the current folder) and
/// selects `packages` (default: the package of that manifest, or every plugin of a virtual workspace).
pub fn load(manifest: Option<&Path>, packages: &[String]) -> Result<Project, Error> {
    let manifest = match manifest {
        Some(m) if m.is_file() => m.to_path_buf(),
        Some(m) => return Err(Error::NotACargoProject(m.to_path_buf())),
        None => {
            let cwd = std::env::current_dir().map_err(Error::io("."))?;
            find_manifest(&cwd)?
        }
    };
    let manifest = manifest.canonicalize().map_err(Error::io(&manifest))?;
    let output = Command::new(cargo())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(&manifest)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|source| Error::CannotRun {
            program: "cargo metadata".into(),
            source,
        })?;
    if !output.status.success() {
        return Err(Error::CommandFailed {
            command: format!("cargo metadata --manifest-path {}", manifest.display()),
            status: output.status,
        });
    }
    let metadata: Metadata =
        serde_json::from_slice(&output.stdout).map_err(|e| Error::Metadata(e.to_string()))?;
    select(metadata, &manifest, packages)
}

fn select(metadata: Metadata, manifest: &Path, packages: &[String]) -> Result<Project, Error> {
    let members: Vec<&Package> = metadata
        .packages
        .iter()
        .filter(|p| metadata.workspace_members.contains(&p.id))
        .collect();
    let mut plugins = Vec::new();
    if packages.is_empty() {
        if let Some(package) = members.iter().find(|p| p.manifest_path == manifest) {
            plugins.push(plugin(package)?);
        } else {
            for package in &members {
                if is_plugin(package) {
                    plugins.push(plugin(package)?);
                }
            }
            if plugins.is_empty() {
                return Err(Error::NoPlugin(manifest.to_path_buf()));
            }
        }
    } else {
        for name in packages {
            let package = members
                .iter()
                .find(|p| &p.name == name)
                .ok_or_else(|| Error::NoSuchPackage(name.clone()))?;
            plugins.push(plugin(package)?);
        }
    }
    Ok(Project {
        manifest: manifest.to_path_buf(),
        target_dir: metadata.target_directory,
        plugins,
    })
}

fn library(package: &Package) -> Option<&Target> {
    package
        .targets
        .iter()
        .find(|t| t.kind.iter().any(|k| k == "lib" || k == "cdylib"))
}

fn is_plugin(package: &Package) -> bool {
    let cdylib = library(package).is_some_and(|l| l.crate_types.iter().any(|c| c == "cdylib"));
    cdylib && proxywasm_metadata(package).is_some()
}

fn proxywasm_metadata(package: &Package) -> Option<&serde_json::Value> {
    package.metadata.as_ref()?.get("proxywasm")
}

fn plugin(package: &Package) -> Result<Plugin, Error> {
    let lib = library(package);
    let Some(lib) = lib.filter(|l| l.crate_types.iter().any(|c| c == "cdylib")) else {
        return Err(Error::NotACdylib {
            package: package.name.clone(),
            crate_types: lib.map(|l| l.crate_types.clone()).unwrap_or_default(),
        });
    };
    let listed = proxywasm_metadata(package)
        .and_then(|m| m.get("abi"))
        .and_then(|a| a.as_array());
    let abis = match listed {
        None => Abi::all().collect(),
        Some(entries) => {
            let mut abis = Vec::new();
            for entry in entries {
                let text = entry.as_str().unwrap_or_default();
                let abi = Abi::parse(text).ok_or_else(|| Error::UnknownAbiInMetadata {
                    package: package.name.clone(),
                    given: entry.to_string(),
                    known: Abi::known(),
                })?;
                abis.push(abi);
            }
            abis.sort();
            abis.dedup();
            abis
        }
    };
    let default_feature_abi = package
        .features
        .get("default")
        .into_iter()
        .flatten()
        .find_map(|f| Abi::from_feature(f));
    Ok(Plugin {
        package: package.name.clone(),
        id: package.id.clone(),
        lib_name: lib.name.replace('-', "_"),
        dir: package
            .manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        abis,
        default_abi: default_feature_abi.unwrap_or(Abi::newest()),
        default_names_abi: default_feature_abi.is_some(),
        features: package.features.keys().cloned().collect(),
    })
}

/// The cargo that runs this tool (`$CARGO`, set by cargo for its subcommands), else `cargo`.
pub fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::tests::v;

    fn metadata(json: &str) -> Metadata {
        serde_json::from_str(json).expect("metadata")
    }

    const WORKSPACE: &str = r#"{
      "packages": [
        {"name": "my-filter", "id": "path+file:///w/a#0.1.0", "manifest_path": "/w/a/Cargo.toml",
         "targets": [{"name": "my_filter", "kind": ["cdylib", "rlib"], "crate_types": ["cdylib", "rlib"]}],
         "features": {"default": ["abi-0-2-0"], "abi-0-1-0": [], "abi-0-2-0": []},
         "metadata": {"proxywasm": {"abi": ["0.2.0", "0.1.0"]}}},
        {"name": "helper", "id": "path+file:///w/h#0.1.0", "manifest_path": "/w/h/Cargo.toml",
         "targets": [{"name": "helper", "kind": ["lib"], "crate_types": ["lib"]}],
         "features": {}, "metadata": null}
      ],
      "workspace_members": ["path+file:///w/a#0.1.0", "path+file:///w/h#0.1.0"],
      "target_directory": "/w/target"
    }"#;

    #[test]
    fn a_virtual_workspace_selects_its_plugins_with_their_versions_and_default() {
        let project = select(metadata(WORKSPACE), Path::new("/w/Cargo.toml"), &[]).unwrap();
        assert_eq!(project.plugins.len(), 1);
        let plugin = &project.plugins[0];
        assert_eq!(plugin.lib_name, "my_filter");
        assert_eq!(plugin.abis, [v("0.1.0"), v("0.2.0")]);
        assert_eq!(plugin.default_abi, v("0.2.0"));
        assert!(plugin.default_names_abi);
        assert_eq!(plugin.dir, Path::new("/w/a"));
        assert_eq!(
            plugin.expect_list(v("0.1.0")),
            Path::new("/w/a/imports/0.1.0.txt")
        );
        assert_eq!(
            plugin.abi_feature(v("0.1.0")).unwrap(),
            "my-filter/abi-0-1-0"
        );
        assert!(matches!(
            plugin.abi_feature(v("0.2.1")),
            Err(Error::MissingAbiFeature { .. })
        ));
    }

    #[test]
    fn a_library_that_is_not_a_cdylib_is_refused_by_name() {
        let error = select(metadata(WORKSPACE), Path::new("/w/h/Cargo.toml"), &[]).unwrap_err();
        assert!(matches!(error, Error::NotACdylib { ref package, .. } if package == "helper"));
        let error = select(
            metadata(WORKSPACE),
            Path::new("/w/Cargo.toml"),
            &["nope".into()],
        )
        .unwrap_err();
        assert!(matches!(error, Error::NoSuchPackage(ref n) if n == "nope"));
    }

    #[test]
    fn versions_group_plugins_and_an_unsupported_version_is_an_error() {
        let project = select(metadata(WORKSPACE), Path::new("/w/a/Cargo.toml"), &[]).unwrap();
        let all = project.builds(None, true).unwrap();
        let versions: Vec<Abi> = all.iter().map(|(v, _)| *v).collect();
        assert_eq!(versions, [v("0.1.0"), v("0.2.0")]);
        let default = project.builds(None, false).unwrap();
        assert_eq!(default.len(), 1);
        assert_eq!(default[0].0, v("0.2.0"));
        assert!(matches!(
            project.builds(Some(v("0.2.1")), false),
            Err(Error::AbiNotSupported { .. })
        ));
    }

    #[test]
    fn an_unknown_version_in_the_metadata_is_refused() {
        let json = WORKSPACE.replace(r#"["0.2.0", "0.1.0"]"#, r#"["0.2.0", "9.9"]"#);
        let error = select(metadata(&json), Path::new("/w/a/Cargo.toml"), &[]).unwrap_err();
        assert!(matches!(error, Error::UnknownAbiInMetadata { .. }));
    }

    #[test]
    fn the_nearest_manifest_above_a_folder_is_found() {
        let root =
            std::env::temp_dir().join(format!("cargo-proxywasm-find-{}", std::process::id()));
        let inner = root.join("plugin").join("src").join("deep");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(root.join("plugin").join("Cargo.toml"), "[package]\n").unwrap();
        assert_eq!(
            find_manifest(&inner).unwrap(),
            root.join("plugin").join("Cargo.toml")
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
