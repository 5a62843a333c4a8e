//! What each subcommand does, in terms of the other modules.

use crate::audit::{audit_all, run_conformance_cli, write_expect};
use crate::cli::{AuditArgs, BuildArgs, Command, ExpectArgs, Kind, NewArgs, Selection, TestArgs};
use crate::error::Error;
use crate::project::{self, cargo, Project};
use crate::scaffold::{self, Sdk};
use crate::toolchain::ensure_wasm_target;
use crate::wasm_build::{self, Built};
use std::path::{Path, PathBuf};

/// Runs one subcommand.
pub fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::New(args) => new(&args),
        Command::Build(args) => build(&args),
        Command::Test(args) => test(&args),
        Command::Audit(args) => audit(args),
        Command::Expect(args) => expect(&args),
    }
}

fn new(args: &NewArgs) -> Result<(), Error> {
    let cwd = std::env::current_dir().map_err(Error::io("."))?;
    let dir = args.path.clone().unwrap_or_else(|| cwd.join(&args.name));
    let sdk = match &args.sdk_path {
        None => Sdk::Published,
        Some(path) => {
            let root = path.canonicalize().map_err(Error::io(path))?;
            if !root.join("Cargo.toml").is_file() {
                return Err(Error::NotACargoProject(root));
            }
            Sdk::Path(root)
        }
    };
    let files = scaffold::files(&args.name, args.kind(), &sdk)?;
    scaffold::write(&dir, &files)?;
    let kind = match args.kind() {
        Kind::Http => "an HTTP filter",
        Kind::Tcp => "a network (TCP) filter",
        Kind::Root => "a root-context-only plugin",
    };
    println!("created {}: {kind}", dir.display());
    if args.no_expect {
        println!(
            "no expect lists yet: `cargo proxywasm expect --update` writes imports/<version>.txt"
        );
        return Ok(());
    }
    // The expect lists are what the module imports: build it once per version and write them.
    let project = project::load(Some(&dir.join("Cargo.toml")), &[])?;
    let built = build_all(&project, &selection_all(), true)?;
    for module in &built {
        let path = write_expect(module)?;
        println!("wrote {}", path.display());
    }
    audit_all(&built)
}

fn selection_all() -> Selection {
    Selection {
        packages: Vec::new(),
        manifest_path: None,
        abi: None,
        all_abis: true,
    }
}

/// Builds every (version, plugins) group of the selection.
fn build_all(project: &Project, selection: &Selection, quiet: bool) -> Result<Vec<Built>, Error> {
    let dir = project.manifest.parent().unwrap_or(Path::new("."));
    ensure_wasm_target(dir)?;
    let mut built = Vec::new();
    for (abi, plugins) in project.builds(selection.abi, selection.all_abis)? {
        built.extend(wasm_build::build(project, abi, &plugins, quiet)?);
    }
    Ok(built)
}

fn load(selection: &Selection) -> Result<Project, Error> {
    project::load(selection.manifest_path.as_deref(), &selection.packages)
}

fn build(args: &BuildArgs) -> Result<(), Error> {
    let project = load(&args.selection)?;
    let built = build_all(&project, &args.selection, args.quiet)?;
    if args.no_audit {
        for module in &built {
            println!("{module}");
        }
        return Ok(());
    }
    audit_all(&built)
}

fn test(args: &TestArgs) -> Result<(), Error> {
    let project = load(&args.selection)?;
    if !args.no_build {
        let built = build_all(&project, &args.selection, args.quiet)?;
        audit_all(&built)?;
    }
    for (abi, plugins) in project.builds(args.selection.abi, args.selection.all_abis)? {
        let mut command = std::process::Command::new(cargo());
        command
            .arg("test")
            .arg("--manifest-path")
            .arg(&project.manifest);
        if plugins.iter().any(|p| p.needs_no_default_features(abi)) {
            command.arg("--no-default-features");
        }
        if args.quiet {
            command.arg("--quiet");
        }
        for plugin in &plugins {
            command
                .args(["-p", &plugin.package])
                .args(["--features", &plugin.abi_feature(abi)?]);
        }
        command.args(&args.cargo_args);
        // The tests look for the modules where they were just put, whatever the target folder setting.
        command.env("PROXYWASM_PLUGIN_DIR", project.plugin_dir());
        println!("cargo proxywasm: testing ABI {abi} (native and wasm mode)");
        let status = command.status().map_err(|source| Error::CannotRun {
            program: "cargo test".into(),
            source,
        })?;
        if !status.success() {
            return Err(Error::CommandFailed {
                command: format!("cargo test (ABI {abi})"),
                status,
            });
        }
    }
    Ok(())
}

fn audit(args: AuditArgs) -> Result<(), Error> {
    if !args.args.is_empty() {
        return run_conformance_cli(args.args);
    }
    // No arguments: every module built for the current workspace.
    let project = project::load(None, &[]).or_else(|_| workspace_without_plugins())?;
    let dir: PathBuf = project.plugin_dir();
    if !dir.is_dir() {
        return Err(Error::Io {
            path: dir,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no module built yet; run `cargo proxywasm build` first",
            ),
        });
    }
    run_conformance_cli(vec![dir.into_os_string()])
}

/// The current workspace's target folder even when it has no plugin (the modules may come from
/// elsewhere).
fn workspace_without_plugins() -> Result<Project, Error> {
    let cwd = std::env::current_dir().map_err(Error::io("."))?;
    let manifest = project::find_manifest(&cwd)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.parent().unwrap_or(&cwd).join("target"));
    Ok(Project {
        manifest,
        target_dir: target,
        plugins: Vec::new(),
    })
}

fn expect(args: &ExpectArgs) -> Result<(), Error> {
    let mut selection = args.selection.clone();
    selection.all_abis = selection.abi.is_none();
    let project = load(&selection)?;
    let built = build_all(&project, &selection, false)?;
    for module in &built {
        let path = write_expect(module)?;
        println!("wrote {}", path.display());
    }
    audit_all(&built)
}
