//! Fleet audits: many files and directories at once. Directories are walked recursively for `*.wasm`
//! files; a module found under several paths (same SHA-256) is audited once and its later copies point
//! at the first; unique modules are audited on every core; the summary groups the findings by id and
//! the modules by toolchain.

use crate::audit::{audit_at, AbiChoice, ExpectList, Level};
use crate::findings::{FileReport, Report, Severity};
use crate::sha256;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The files to audit: each file as given, and every `*.wasm` file under each directory (recursively,
/// without following symbolic links to directories), each directory's files in sorted order.
///
/// # Errors
///
/// The first path that does not exist or cannot be listed, with the reason.
pub fn inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        let Ok(meta) = std::fs::symlink_metadata(&entry) else {
            continue;
        };
        if meta.is_dir() {
            walk(&entry, out)?;
        } else if entry.extension().is_some_and(|x| x == "wasm") {
            out.push(entry);
        }
    }
    Ok(())
}

/// Reads, hashes and audits `files`, in order. The reports of duplicates repeat their first copy's
/// report, with `duplicate_of` set. A file that cannot be read or parsed gets `error`.
pub fn audit_files(
    files: &[PathBuf],
    abi: AbiChoice,
    level: &Level,
    expect: Option<&ExpectList>,
) -> Vec<FileReport> {
    struct Input {
        path: String,
        bytes: Result<Vec<u8>, String>,
        sha256: Option<String>,
        first: Option<usize>,
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut inputs: Vec<Input> = Vec::with_capacity(files.len());
    for (i, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"));
        let sha256 = bytes.as_ref().ok().map(|b| sha256::hex(b));
        let first = sha256.as_ref().and_then(|h| seen.get(h).copied());
        if let (Some(h), None) = (&sha256, first) {
            seen.insert(h.clone(), i);
        }
        inputs.push(Input {
            path: path.display().to_string(),
            bytes,
            sha256,
            first,
        });
    }
    let unique: Vec<usize> = (0..inputs.len())
        .filter(|&i| inputs[i].first.is_none())
        .collect();
    let mut results: Vec<Option<Result<Report, String>>> = vec![None; inputs.len()];
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8)
        .min(unique.len().max(1));
    let run = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = unique.get(k) else { break };
            let result = match &inputs[i].bytes {
                Ok(bytes) => audit_at(bytes, abi, level, expect)
                    .map_err(|e| format!("not a valid wasm module: {e}")),
                Err(e) => Err(e.clone()),
            };
            done.push((i, result));
        }
        done
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).map(|_| scope.spawn(run)).collect();
        for (i, r) in run() {
            results[i] = Some(r);
        }
        for handle in handles {
            // A worker that panicked leaves its files unaudited; they are reported as such below.
            if let Ok(done) = handle.join() {
                for (i, r) in done {
                    results[i] = Some(r);
                }
            }
        }
    });
    let mut reports: Vec<FileReport> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let source = input.first.unwrap_or(i);
        let result = results[source]
            .clone()
            .unwrap_or_else(|| Err("internal error: the audit did not run".to_string()));
        let duplicate_of = input.first.map(|f| inputs[f].path.clone());
        reports.push(match result {
            Ok(report) => FileReport {
                path: input.path.clone(),
                sha256: input.sha256.clone(),
                duplicate_of,
                report,
                error: None,
            },
            Err(error) => FileReport {
                path: input.path.clone(),
                sha256: input.sha256.clone(),
                duplicate_of,
                report: Report::default(),
                error: Some(error),
            },
        });
    }
    reports
}

/// How many distinct modules had findings of one id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FindingCount {
    /// Distinct modules with at least one error of this id.
    pub error_modules: usize,
    /// Distinct modules with at least one warning of this id.
    pub warning_modules: usize,
    /// Findings of this id in all distinct modules.
    pub findings: usize,
}

/// The modules built by one toolchain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ToolchainCount {
    /// Distinct modules.
    pub modules: usize,
    /// Of which pass (no error).
    pub pass: usize,
    /// Of which fail.
    pub fail: usize,
}

/// The summary of a fleet audit, over distinct modules (duplicates counted once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files given or found.
    pub files: usize,
    /// Distinct modules (by SHA-256) among them.
    pub modules: usize,
    /// Files that could not be read or parsed.
    pub unreadable: usize,
    /// Distinct modules that pass.
    pub pass: usize,
    /// Distinct modules that fail.
    pub fail: usize,
    /// Per finding id.
    pub by_finding: BTreeMap<String, FindingCount>,
    /// Per toolchain (its name without the version; `unknown` without a `producers` section).
    pub by_toolchain: BTreeMap<String, ToolchainCount>,
}

/// The toolchain's name without its version: `rustc 1.80.0` → `rustc`, `C11 (clang 17)` → `C11
/// (clang)`.
pub fn toolchain_family(toolchain: Option<&str>) -> String {
    let Some(t) = toolchain else {
        return "unknown".to_string();
    };
    let strip = |part: &str| -> String {
        part.split_whitespace()
            .filter(|w| !w.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match t.split_once(" (") {
        Some((language, rest)) if !rest.starts_with("guessed") => {
            format!(
                "{} ({})",
                strip(language),
                strip(rest.trim_end_matches(')'))
            )
        }
        _ => strip(t),
    }
}

/// Summarises `reports`.
pub fn summarise(reports: &[FileReport]) -> Summary {
    let mut s = Summary {
        files: reports.len(),
        ..Summary::default()
    };
    for file in reports {
        if file.duplicate_of.is_some() {
            continue;
        }
        if file.error.is_some() {
            s.unreadable += 1;
            continue;
        }
        s.modules += 1;
        let r = &file.report;
        if r.ok {
            s.pass += 1;
        } else {
            s.fail += 1;
        }
        let t = s
            .by_toolchain
            .entry(toolchain_family(r.toolchain.as_deref()))
            .or_default();
        t.modules += 1;
        if r.ok {
            t.pass += 1;
        } else {
            t.fail += 1;
        }
        let mut counted: Vec<(String, Severity)> = Vec::new();
        for f in &r.findings {
            let c = s.by_finding.entry(f.id.as_str().to_string()).or_default();
            c.findings += 1;
            let key = (f.id.as_str().to_string(), f.severity);
            if !counted.contains(&key) {
                match f.severity {
                    Severity::Error => c.error_modules += 1,
                    Severity::Warning => c.warning_modules += 1,
                }
                counted.push(key);
            }
        }
    }
    s
}
