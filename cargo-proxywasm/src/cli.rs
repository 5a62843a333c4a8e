//! The command line: `cargo proxywasm <new|build|test|audit|expect>`, and the argument cargo inserts
//! when it runs a subcommand.

use crate::abi::Abi;
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// Create, build, test and audit Proxy-Wasm plugins written with proxywasm.
#[derive(Debug, Parser)]
#[command(name = "cargo-proxywasm", bin_name = "cargo proxywasm", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Creates a plugin crate: Cargo.toml, README, envoy.yaml, a small working plugin, emulator tests in
    /// both modes and the expect list of each ABI version (written by building and auditing it once).
    New(NewArgs),
    /// Builds the plugin for wasm32-wasip1 (release, size profile), puts it in
    /// TARGET/plugins/VERSION/CRATE.wasm and audits it against imports/VERSION.txt.
    Build(BuildArgs),
    /// Builds the module(s) first, then runs `cargo test` for each ABI version (native and wasm mode).
    Test(TestArgs),
    /// The conformance auditor (`proxywasm-conformance audit`); without arguments, audits every built
    /// module under TARGET/plugins.
    Audit(AuditArgs),
    /// Rewrites imports/VERSION.txt from what the built module imports.
    Expect(ExpectArgs),
}

/// The kind of plugin `new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An HTTP filter.
    Http,
    /// A network (TCP) filter.
    Tcp,
    /// A root context only (a bootstrap service: ticks, shared data).
    Root,
}

/// `cargo proxywasm new`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("kind").multiple(false))]
pub struct NewArgs {
    /// The package name (letters, digits, `-`, `_`; starts with a letter).
    pub name: String,
    /// An HTTP filter (the default).
    #[arg(long, group = "kind")]
    pub http: bool,
    /// A network (TCP) filter.
    #[arg(long, group = "kind")]
    pub tcp: bool,
    /// A root context only, loaded as a bootstrap service.
    #[arg(long, group = "kind")]
    pub root: bool,
    /// The folder to create (default: ./NAME).
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// A local checkout of the proxywasm repository: the dependencies become path dependencies instead of
    /// crates.io versions.
    #[arg(long, value_name = "PATH")]
    pub sdk_path: Option<PathBuf>,
    /// Only write the files: do not build and audit the plugin to write its expect lists.
    #[arg(long)]
    pub no_expect: bool,
}

impl NewArgs {
    /// The kind asked for; HTTP when none is.
    pub fn kind(&self) -> Kind {
        if self.tcp {
            Kind::Tcp
        } else if self.root {
            Kind::Root
        } else {
            Kind::Http
        }
    }
}

/// Which packages and ABI versions a command works on.
#[derive(Debug, Clone, Args)]
pub struct Selection {
    /// A package of the workspace (repeatable); default: the package of the current folder, or every
    /// plugin of a virtual workspace.
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub packages: Vec<String>,
    /// The Cargo.toml to use instead of the nearest one.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// One ABI version (default: the one the package's default features select, else the newest).
    #[arg(long, value_parser = Abi::parse_arg, conflicts_with = "all_abis")]
    pub abi: Option<Abi>,
    /// Every version listed in the package's [package.metadata.proxywasm] abi.
    #[arg(long)]
    pub all_abis: bool,
}

/// `cargo proxywasm build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Packages and versions.
    #[command(flatten)]
    pub selection: Selection,
    /// Build only: skip the audit.
    #[arg(long)]
    pub no_audit: bool,
    /// Pass --quiet to cargo.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `cargo proxywasm test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Packages and versions.
    #[command(flatten)]
    pub selection: Selection,
    /// Pass --quiet to cargo.
    #[arg(short, long)]
    pub quiet: bool,
    /// Skip building and auditing: test against the modules `cargo proxywasm build` already put in
    /// TARGET/plugins (a missing or stale module still fails the wasm-mode tests, naming the command
    /// that builds it).
    #[arg(long)]
    pub no_build: bool,
    /// Arguments for `cargo test`, after `--` (so `-- -- --nocapture` reaches the test binaries).
    #[arg(last = true, value_name = "CARGO TEST ARGS")]
    pub cargo_args: Vec<String>,
}

/// `cargo proxywasm audit`: every argument, `--help` included, goes to the conformance CLI.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct AuditArgs {
    /// The arguments of `proxywasm-conformance audit` (`cargo proxywasm audit --help` lists them).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<OsString>,
}

/// `cargo proxywasm expect`.
#[derive(Debug, Args)]
pub struct ExpectArgs {
    /// Rewrite the lists (the only action; required so that nothing is rewritten by accident).
    #[arg(long, required = true)]
    pub update: bool,
    /// Packages; `--abi V` rewrites one version's list, else every listed version's.
    #[command(flatten)]
    pub selection: Selection,
}

/// The arguments without the `proxywasm` cargo inserts after the program name when it runs
/// `cargo-proxywasm` as the subcommand `cargo proxywasm` (also there with `cargo run -- proxywasm …`).
pub fn strip_subcommand_name(args: Vec<OsString>) -> Vec<OsString> {
    let mut args = args;
    if args.get(1).is_some_and(|a| a == "proxywasm") {
        args.remove(1);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::tests::v;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let args = strip_subcommand_name(args.iter().map(OsString::from).collect());
        Cli::try_parse_from(args)
    }

    #[test]
    fn the_name_cargo_inserts_is_dropped_and_a_direct_call_works_too() {
        for args in [
            &["cargo-proxywasm", "proxywasm", "build", "--all-abis"][..],
            &["cargo-proxywasm", "build", "--all-abis"][..],
        ] {
            match parse(args).expect("parses").command {
                Command::Build(b) => assert!(b.selection.all_abis),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn test_can_skip_the_build_and_pass_arguments_to_cargo_test() {
        let Command::Test(t) = parse(&[
            "c",
            "test",
            "--no-build",
            "--abi",
            "0.1.0",
            "-p",
            "a",
            "--",
            "--lib",
        ])
        .unwrap()
        .command
        else {
            panic!("test")
        };
        assert!(t.no_build);
        assert_eq!(t.selection.abi, Some(v("0.1.0")));
        assert_eq!(t.cargo_args, ["--lib"]);
        let Command::Test(t) = parse(&["c", "test"]).unwrap().command else {
            panic!("test")
        };
        assert!(!t.no_build);
    }

    #[test]
    fn new_takes_one_kind_and_defaults_to_http() {
        let Command::New(args) = parse(&["c", "new", "f"]).unwrap().command else {
            panic!("new")
        };
        assert_eq!(args.kind(), Kind::Http);
        let Command::New(args) = parse(&["c", "new", "f", "--tcp", "--sdk-path", "/sdk"])
            .unwrap()
            .command
        else {
            panic!("new")
        };
        assert_eq!(args.kind(), Kind::Tcp);
        assert_eq!(args.sdk_path, Some(PathBuf::from("/sdk")));
        assert!(parse(&["c", "new", "f", "--tcp", "--root"]).is_err());
        assert!(parse(&["c", "new"]).is_err());
    }

    #[test]
    fn abi_is_one_known_version_or_all() {
        let Command::Build(b) = parse(&["c", "build", "--abi", "0.1.0", "-p", "a", "-p", "b"])
            .unwrap()
            .command
        else {
            panic!("build")
        };
        assert_eq!(b.selection.abi, Some(v("0.1.0")));
        assert_eq!(b.selection.packages, ["a", "b"]);
        assert!(parse(&["c", "build", "--abi", "0.3.0"]).is_err());
        assert!(parse(&["c", "build", "--abi", "0.2.1", "--all-abis"]).is_err());
    }

    #[test]
    fn test_passes_what_follows_the_double_dash_to_cargo_test() {
        let Command::Test(t) = parse(&[
            "c",
            "test",
            "--all-abis",
            "--",
            "--lib",
            "--",
            "--nocapture",
        ])
        .unwrap()
        .command
        else {
            panic!("test")
        };
        assert!(t.selection.all_abis);
        assert_eq!(t.cargo_args, ["--lib", "--", "--nocapture"]);
    }

    #[test]
    fn audit_keeps_the_conformance_arguments_as_given() {
        let Command::Audit(a) = parse(&["c", "audit", "--spec-only", "--abi", "0.2.0", "x.wasm"])
            .unwrap()
            .command
        else {
            panic!("audit")
        };
        assert_eq!(a.args, ["--spec-only", "--abi", "0.2.0", "x.wasm"]);
    }

    #[test]
    fn expect_requires_update() {
        assert!(parse(&["c", "expect"]).is_err());
        let Command::Expect(e) = parse(&["c", "expect", "--update", "--abi", "0.2.0"])
            .unwrap()
            .command
        else {
            panic!("expect")
        };
        assert_eq!(e.selection.abi, Some(v("0.2.0")));
    }
}
