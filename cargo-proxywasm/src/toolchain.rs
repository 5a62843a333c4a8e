//! Makes sure the toolchain can build for `wasm32-wasip1`: its standard library for that target is in the
//! sysroot, else rustup adds it, else a clear error.

use crate::error::Error;
use std::path::Path;
use std::process::Command;

/// The target every plugin is built for.
pub const WASM_TARGET: &str = "wasm32-wasip1";

/// Checks the target's standard library is installed for the toolchain that builds in `dir` (a
/// `rust-toolchain.toml` there is honoured) and runs `rustup target add` when it is not.
pub fn ensure_wasm_target(dir: &Path) -> Result<(), Error> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .output()
        .map_err(|source| Error::CannotRun {
            program: "rustc --print sysroot".into(),
            source,
        })?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if target_installed(Path::new(&sysroot)) {
        return Ok(());
    }
    eprintln!("cargo proxywasm: the {WASM_TARGET} target is missing; running `rustup target add {WASM_TARGET}`");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(status) => Err(Error::CommandFailed {
            command: format!("rustup target add {WASM_TARGET}"),
            status,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::WasmTargetMissing {
            target: WASM_TARGET.into(),
            sysroot,
        }),
        Err(source) => Err(Error::CannotRun {
            program: "rustup".into(),
            source,
        }),
    }
}

/// Whether `sysroot` holds the standard library for [`WASM_TARGET`].
fn target_installed(sysroot: &Path) -> bool {
    sysroot
        .join("lib")
        .join("rustlib")
        .join(WASM_TARGET)
        .join("lib")
        .is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sysroot_without_the_target_library_lacks_it() {
        let root =
            std::env::temp_dir().join(format!("cargo-proxywasm-sysroot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("lib/rustlib/x86_64-unknown-linux-gnu/lib")).unwrap();
        assert!(!target_installed(&root));
        std::fs::create_dir_all(root.join("lib/rustlib/wasm32-wasip1/lib")).unwrap();
        assert!(target_installed(&root));
        let _ = std::fs::remove_dir_all(&root);
    }
}
