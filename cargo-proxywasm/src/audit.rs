//! Audits built modules with `proxywasm-conformance` (the newest cpp-host profile, the module's ABI
//! version, its expect list when it has one), and writes expect lists from what a module imports.

use crate::abi::Abi;
use crate::error::Error;
use crate::wasm_build::Built;
use proxywasm_conformance::module::ItemKind;
use proxywasm_conformance::{audit_at, AbiChoice, ExpectList, Level, Report, Severity};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Prints each module's path and size and audits it; fails when any module fails its audit (the
/// findings are printed) or cannot be read.
pub fn audit_all(built: &[Built]) -> Result<(), Error> {
    let mut failed = 0;
    for module in built {
        println!("{module}");
        let expect_path = module.plugin.expect_list(module.abi);
        let expect = read_expect(&expect_path)?;
        let report = audit(&module.path, module.abi, expect.as_ref())?;
        for finding in &report.findings {
            println!("  {finding}");
        }
        let errors = report.count(Severity::Error);
        if !report.ok || errors > 0 {
            failed += 1;
            println!("  audit: FAILS ({errors} errors)");
            continue;
        }
        let host = match (&report.host, report.loads) {
            (Some(host), Some(true)) => format!("loads in {host}"),
            _ => "conforms to the written spec".to_string(),
        };
        let imports = match expect {
            Some(_) => format!("imports exactly {}", expect_path.display()),
            None => format!(
                "no {} to compare imports with (`cargo proxywasm expect --update --abi {}` writes it)",
                expect_path.display(),
                module.abi
            ),
        };
        println!("  audit: passes: {host}; {imports}");
    }
    if failed > 0 {
        return Err(Error::AuditFailed(failed));
    }
    Ok(())
}

/// The expect list at `path`, or `None` when there is no such file.
fn read_expect(path: &Path) -> Result<Option<ExpectList>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(ExpectList::parse(&text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The audit of the module at `path` for `abi`, as a host loads it (the newest host profile).
fn audit(path: &Path, abi: Abi, expect: Option<&ExpectList>) -> Result<Report, Error> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    let choice: AbiChoice = abi.as_str().parse().map_err(|e| Error::UnreadableModule {
        path: path.to_path_buf(),
        reason: format!("{e}"),
    })?;
    audit_at(&bytes, choice, &Level::newest_host(), expect).map_err(|e| Error::UnreadableModule {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The host functions the module at `path` imports, `module.name`, sorted.
pub fn imported_functions(path: &Path) -> Result<Vec<String>, Error> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    let module = proxywasm_conformance::parse(&bytes).map_err(|e| Error::UnreadableModule {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut names: Vec<String> = module
        .imports
        .iter()
        .filter(|i| matches!(i.kind, ItemKind::Function(_)))
        .map(|i| format!("{}.{}", i.module, i.name))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The text of an expect list: a comment line, then one import per line.
pub fn expect_text(abi: Abi, imports: &[String]) -> String {
    let mut text = format!(
        "# Host functions this plugin imports under ABI {abi} (`cargo proxywasm build` checks the list \
         is exact; `cargo proxywasm expect --update` rewrites it).\n"
    );
    for import in imports {
        text.push_str(import);
        text.push('\n');
    }
    text
}

/// Rewrites the expect list of a built module from what it imports; answers its path.
pub fn write_expect(module: &Built) -> Result<PathBuf, Error> {
    let imports = imported_functions(&module.path)?;
    let path = module.plugin.expect_list(module.abi);
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(Error::io(folder))?;
    }
    std::fs::write(&path, expect_text(module.abi, &imports)).map_err(Error::io(&path))?;
    Ok(path)
}

/// Runs `proxywasm-conformance audit ARGS…` (the conformance crate's own command line).
pub fn run_conformance_cli(args: Vec<OsString>) -> Result<(), Error> {
    let mut argv: Vec<OsString> = vec!["cargo proxywasm audit".into(), "audit".into()];
    argv.extend(args);
    match proxywasm_conformance::cli::run(argv) {
        0 => Ok(()),
        code => Err(Error::AuditExit(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::tests::v;

    #[test]
    fn an_expect_list_is_a_comment_then_one_import_per_line_and_reads_back() {
        let imports = vec![
            "env.proxy_log".to_string(),
            "wasi_snapshot_preview1.fd_write".to_string(),
        ];
        let text = expect_text(v("0.2.1"), &imports);
        assert!(text.starts_with("# "), "{text}");
        assert!(
            text.ends_with("env.proxy_log\nwasi_snapshot_preview1.fd_write\n"),
            "{text}"
        );
        assert_eq!(
            ExpectList::parse(&text),
            ExpectList::from_symbols([
                ("env", "proxy_log"),
                ("wasi_snapshot_preview1", "fd_write"),
            ])
        );
    }

    #[test]
    fn the_imports_of_a_module_are_its_function_imports_sorted() {
        let wasm = wat::parse_str(
            r#"(module
                 (import "env" "proxy_log" (func (param i32 i32 i32) (result i32)))
                 (import "env" "memory" (memory 1))
                 (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
                 (import "env" "proxy_done" (func (result i32))))"#,
        )
        .unwrap();
        let path = std::env::temp_dir().join(format!(
            "cargo-proxywasm-imports-{}.wasm",
            std::process::id()
        ));
        std::fs::write(&path, wasm).unwrap();
        let names = imported_functions(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            names,
            [
                "env.proxy_done",
                "env.proxy_log",
                "wasi_snapshot_preview1.fd_write"
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_wasm_is_an_unreadable_module() {
        let path =
            std::env::temp_dir().join(format!("cargo-proxywasm-bad-{}.wasm", std::process::id()));
        std::fs::write(&path, b"not wasm").unwrap();
        let error = imported_functions(&path).unwrap_err();
        let _ = std::fs::remove_file(&path);
        assert!(matches!(error, Error::UnreadableModule { .. }), "{error}");
    }
}
