//! Everything that stops a `cargo proxywasm` command, each with what to do about it.

use std::path::PathBuf;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `Cargo.toml` at or above the folder the command runs in.
    #[error("{0} is not inside a cargo project (no Cargo.toml here or above); run `cargo proxywasm new NAME` to create a plugin")]
    NotACargoProject(PathBuf),
    /// A program could not be started at all.
    #[error("cannot run `{program}`: {source}")]
    CannotRun {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// A cargo (or rustup) command ran and failed; its own output says why.
    #[error("`{command}` failed ({status})")]
    CommandFailed {
        /// The command line.
        command: String,
        /// How it ended.
        status: std::process::ExitStatus,
    },
    /// `cargo metadata` answered something this tool cannot read.
    #[error("cannot read the output of `cargo metadata`: {0}")]
    Metadata(String),
    /// `-p NAME` names no package of the workspace.
    #[error("the workspace has no package `{0}`")]
    NoSuchPackage(String),
    /// The package builds no `cdylib`, so there is no `.wasm` to build.
    #[error("package `{package}` is not a plugin: its [lib] crate-type is {crate_types:?}; a plugin needs `crate-type = [\"cdylib\", \"rlib\"]`")]
    NotACdylib {
        /// The package.
        package: String,
        /// What its library builds.
        crate_types: Vec<String>,
    },
    /// No package to work on: the manifest is a workspace whose members are not plugins.
    #[error("no plugin here: {0} is a workspace manifest and none of its members is a cdylib with [package.metadata.proxywasm]; pick one with `-p NAME`")]
    NoPlugin(PathBuf),
    /// `[package.metadata.proxywasm] abi` lists a version the SDK does not know.
    #[error("package `{package}`: [package.metadata.proxywasm] abi lists `{given}`; known versions: {known}")]
    UnknownAbiInMetadata {
        /// The package.
        package: String,
        /// The unknown entry.
        given: String,
        /// The versions the tool knows, for the message.
        known: String,
    },
    /// `--abi V` names a version none of the selected packages supports.
    #[error("no selected package supports ABI {version} (each lists its versions in [package.metadata.proxywasm] abi)")]
    AbiNotSupported {
        /// The version asked for.
        version: String,
    },
    /// The package has no feature forwarding the ABI version to the SDK.
    #[error("package `{package}` has no feature `{feature}`; add `{feature} = [\"proxywasm/{feature}\"]` to its [features]")]
    MissingAbiFeature {
        /// The package.
        package: String,
        /// The feature it lacks.
        feature: String,
    },
    /// The toolchain cannot build for `wasm32-wasip1` and rustup is not there to add the target.
    #[error("the Rust toolchain has no `{target}` standard library ({sysroot}) and rustup is not installed to add it; install the target for this toolchain, or install rustup and run `rustup target add {target}`")]
    WasmTargetMissing {
        /// The target.
        target: String,
        /// The toolchain's sysroot that lacks it.
        sysroot: String,
    },
    /// Cargo reported success but named no `.wasm` for a package.
    #[error("cargo built package `{package}` but reported no .wasm file for it")]
    NoModule {
        /// The package.
        package: String,
    },
    /// A built module is not a wasm module the auditor can read.
    #[error("{path}: not a readable wasm module: {reason}")]
    UnreadableModule {
        /// The module.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The audit found errors in one or more modules (printed above).
    #[error("the audit failed for {0} module(s); the findings are above")]
    AuditFailed(usize),
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `cargo proxywasm new` would overwrite something.
    #[error("{0} already exists and is not empty; pick another name or --path")]
    Exists(PathBuf),
    /// `cargo proxywasm new` was given a name cargo would not accept.
    #[error("`{name}` cannot be a plugin name: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// The conformance CLI (`cargo proxywasm audit`) ended with this non-zero exit code.
    #[error("the audit ended with exit code {0}")]
    AuditExit(u8),
}

impl Error {
    /// The process exit code: 2 for a usage or setup problem the user must fix before anything runs,
    /// 1 when a build, a test or the audit failed, the conformance CLI's own code for `audit`.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::CommandFailed { .. } | Error::AuditFailed(_) | Error::NoModule { .. } => 1,
            Error::AuditExit(code) => *code,
            _ => 2,
        }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
