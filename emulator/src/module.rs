//! Where a wasm-mode test finds the plugin's built `.wasm`, and the rule that keeps it honest: a module that
//! is missing is a failure (never a skipped test that reports `ok`), and a module older than the sources it
//! was built from is refused, naming the command that rebuilds it.
//!
//! The sources are the plugin crate's `src/` (every file below it), its `Cargo.toml` and `build.rs`, and
//! the guest SDK's (`sdk/`, `Cargo.toml` and `build.rs` of the `proxywasm` package). The comparison uses
//! modification times: `scripts/plugins` copies each module into place after building it, so a copied
//! module is newer than every source it was built from.
//!
//! The SDK's folder is the one of the `proxywasm` package this crate was compiled against, in the same
//! build as the plugin: the SDK's build script reports it through cargo's `links` metadata
//! (`DEP_PROXYWASM_SOURCES`), and `build.rs` compiles it in as [`SDK_SOURCES`]. So the check follows the
//! SDK wherever cargo takes it from (a path in this repository or a user's checkout, or the registry's
//! unpacked copy, which never changes).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Why a plugin's built module cannot be used by a wasm-mode test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleProblem {
    /// No file at the path the test looks at.
    Missing {
        /// Where the module was looked up.
        path: PathBuf,
        /// The command that builds it.
        build: String,
    },
    /// The module is older than a source file of the plugin or of the SDK.
    Stale {
        /// The module.
        path: PathBuf,
        /// The newest source file, changed after the module was built.
        source: PathBuf,
        /// The command that rebuilds it.
        build: String,
    },
}

impl std::fmt::Display for ModuleProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModuleProblem::Missing { path, build } => write!(
                f,
                "{} does not exist; build it with {build}",
                path.display()
            ),
            ModuleProblem::Stale {
                path,
                source,
                build,
            } => write!(
                f,
                "{} is older than {}, which changed after it was built; rebuild it with {build}",
                path.display(),
                source.display()
            ),
        }
    }
}

impl std::error::Error for ModuleProblem {}

/// The folder holding one sub-folder of built modules per ABI version: `$PROXYWASM_PLUGIN_DIR`, else
/// `$CARGO_TARGET_DIR/plugins`, else `target/plugins` of the nearest folder above `manifest_dir` that holds
/// a `Cargo.lock` (where `scripts/plugins` puts them).
pub fn plugin_dir(manifest_dir: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("PROXYWASM_PLUGIN_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return workspace_root(manifest_dir).join(target).join("plugins");
    }
    workspace_root(manifest_dir).join("target").join("plugins")
}

/// The nearest folder at or above `manifest_dir` that holds a `Cargo.lock`, else `manifest_dir`.
fn workspace_root(manifest_dir: &Path) -> &Path {
    manifest_dir
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .unwrap_or(manifest_dir)
}

/// The built module of the plugin crate at `manifest_dir` (library name `crate_name`) for ABI `version`,
/// `<plugin_dir>/<version>/<crate_name>.wasm`, checked to exist and to be newer than its sources.
pub fn built_module(
    manifest_dir: &Path,
    crate_name: &str,
    version: &str,
) -> Result<PathBuf, ModuleProblem> {
    let path = plugin_dir(manifest_dir)
        .join(version)
        .join(format!("{crate_name}.wasm"));
    check_module(&path, manifest_dir, crate_name, version)?;
    Ok(path)
}

/// Checks that the module at `path`, built from the plugin crate at `manifest_dir`, exists and is not older
/// than any of its sources (see the module documentation).
pub fn check_module(
    path: &Path,
    manifest_dir: &Path,
    crate_name: &str,
    version: &str,
) -> Result<(), ModuleProblem> {
    let build = || build_command(manifest_dir, crate_name, version, path);
    let Ok(built) = std::fs::metadata(path).and_then(|m| m.modified()) else {
        return Err(ModuleProblem::Missing {
            path: path.to_path_buf(),
            build: build(),
        });
    };
    if let Some((source, changed)) = newest_source(manifest_dir) {
        if changed > built {
            return Err(ModuleProblem::Stale {
                path: path.to_path_buf(),
                source,
                build: build(),
            });
        }
    }
    Ok(())
}

/// The folder of the `proxywasm` package (the guest SDK) this crate was compiled against.
pub const SDK_SOURCES: &str = env!("PROXYWASM_SDK_SOURCES");

/// The newest of the plugin's and the SDK's source files, with its modification time.
fn newest_source(manifest_dir: &Path) -> Option<(PathBuf, SystemTime)> {
    let sdk = Path::new(SDK_SOURCES);
    let mut files = Vec::new();
    collect(&manifest_dir.join("src"), &mut files);
    collect(&sdk.join("sdk"), &mut files);
    for file in [
        manifest_dir.join("Cargo.toml"),
        manifest_dir.join("build.rs"),
        sdk.join("Cargo.toml"),
        sdk.join("build.rs"),
    ] {
        files.push(file);
    }
    files
        .into_iter()
        .filter_map(|f| {
            let modified = std::fs::metadata(&f).and_then(|m| m.modified()).ok()?;
            Some((f, modified))
        })
        .max_by_key(|(_, modified)| *modified)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// The command that (re)builds the module: `scripts/plugins` for an example of the proxywasm repository,
/// else a cargo build and a copy into place.
fn build_command(manifest_dir: &Path, crate_name: &str, version: &str, path: &Path) -> String {
    let root = workspace_root(manifest_dir);
    let is_example = manifest_dir.parent() == Some(&root.join("examples"));
    if is_example && root.join("scripts").join("plugins").is_file() {
        let example = manifest_dir
            .file_name()
            .map_or_else(|| crate_name.into(), |n| n.to_string_lossy());
        return format!("`./scripts/plugins {example}` (in {})", root.display());
    }
    format!(
        "`cargo proxywasm build --abi {version}` (in {}; `cargo install cargo-proxywasm`), or \
         `cargo build --release --target wasm32-wasip1` with the plugin's ABI {version} feature, then copy \
         <target>/wasm32-wasip1/release/{crate_name}.wasm to {}",
        manifest_dir.display(),
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("proxywasm-module-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).expect("scratch folder");
        dir
    }

    fn set_modified(path: &Path, time: SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(time))
            .expect("set mtime");
    }

    #[test]
    fn a_missing_module_names_the_command_that_builds_it() {
        let crate_dir = scratch("missing");
        let module = crate_dir.join("demo.wasm");
        let problem = check_module(&module, &crate_dir, "demo", "0.2.1").unwrap_err();
        assert!(matches!(problem, ModuleProblem::Missing { .. }));
        let message = problem.to_string();
        assert!(message.contains("does not exist"), "{message}");
        assert!(message.contains("wasm32-wasip1"), "{message}");
        assert!(message.contains("demo.wasm"), "{message}");
        let _ = std::fs::remove_dir_all(&crate_dir);
    }

    #[test]
    fn a_module_older_than_a_plugin_source_is_refused_and_a_newer_one_accepted() {
        let crate_dir = scratch("stale");
        let source = crate_dir.join("src").join("lib.rs");
        std::fs::write(&source, "// plugin").expect("source");
        let module = crate_dir.join("demo.wasm");
        std::fs::write(&module, b"\0asm").expect("module");
        let now = SystemTime::now();
        // Newer than every SDK source too: the test does not depend on when this tree was checked out.
        set_modified(&module, now + Duration::from_secs(3600));
        set_modified(&source, now + Duration::from_secs(60));
        assert_eq!(check_module(&module, &crate_dir, "demo", "0.2.1"), Ok(()));

        set_modified(&source, now + Duration::from_secs(7200));
        let problem = check_module(&module, &crate_dir, "demo", "0.2.1").unwrap_err();
        match &problem {
            ModuleProblem::Stale { source: s, .. } => assert_eq!(s, &source),
            other => panic!("expected a stale module, got {other:?}"),
        }
        assert!(problem.to_string().contains("rebuild it with"), "{problem}");
        let _ = std::fs::remove_dir_all(&crate_dir);
    }

    #[test]
    fn the_sdk_sources_are_the_guest_crate_this_crate_was_built_with() {
        let sdk = Path::new(SDK_SOURCES);
        assert!(sdk.join("sdk").join("lib.rs").is_file(), "{SDK_SOURCES}");
        assert!(sdk.join("build.rs").is_file(), "{SDK_SOURCES}");
        // A change to the guest SDK makes a module stale: its newest source can be an SDK file.
        let crate_dir = scratch("sdk");
        let (newest, _) = newest_source(&crate_dir).expect("the SDK has sources");
        assert!(newest.starts_with(sdk), "{}", newest.display());
        let _ = std::fs::remove_dir_all(&crate_dir);
    }

    #[test]
    fn an_example_of_this_repository_is_rebuilt_with_scripts_plugins() {
        let root = Path::new(SDK_SOURCES);
        let hello = root.join("examples").join("hello_world");
        let command = build_command(&hello, "hello_world", "0.2.1", Path::new("x.wasm"));
        assert!(
            command.starts_with("`./scripts/plugins hello_world`"),
            "{command}"
        );
    }
}
