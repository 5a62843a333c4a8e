//! Host profiles: what a real Proxy-Wasm host registers for plugins and what it looks up in them, per ABI
//! version, over the host's history. One JSON document per host under `spec/hosts/` (the format is
//! described in `spec/hosts/README.md`); every fact names the commit it starts at (and, if it ended,
//! the commit it ended at) and the host source file it was read from.
//!
//! [`load`] reads a profile and checks it against the ABI model: every commit a fact names exists in the
//! profile's commit list, every signature parses, and a function the written spec also defines has the
//! signature the spec gives it (a profile cannot silently redefine an ABI fact).

use crate::model::{Abi, CoreType};
use date::is_date;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The profiles' date rule, shared with the conformance crate (one file, included by path).
#[path = "../../conformance/src/date.rs"]
mod date;

/// Why a host profile cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a profile document.
    #[error("{path}: not a host profile: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What serde said.
        message: String,
    },
    /// The document is well-formed but contradicts itself or the spec.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// One commit of the host's repository that a fact starts or ends at.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    /// The full commit id.
    pub id: String,
    /// Its commit date, `YYYY-MM-DD`.
    pub date: String,
}

/// A product release that carries a given host commit (e.g. an Envoy release pinning a cpp-host commit).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// `product@version`, e.g. `envoy@1.33`.
    pub name: String,
    /// The host commit the release pins (a key of [`Profile::commits`]).
    pub commit: String,
    /// Where the pin was read.
    pub source: String,
}

/// How the host detects a module's ABI version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbiDetection {
    /// The versions the host recognises, each with the commit it was first recognised at.
    pub versions: BTreeMap<String, String>,
    /// `first`: the first version marker in export order decides.
    pub rule: String,
    /// Where this was read.
    pub source: String,
}

/// A group of functions the host registers for plugins of some ABI versions, between two commits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportGroup {
    /// The wasm modules each function is registered under.
    pub modules: Vec<String>,
    /// The ABI versions the registration applies to.
    pub abi: Vec<String>,
    /// The commit the registration starts at.
    pub since: String,
    /// The commit it stops at, if it did.
    pub until: Option<String>,
    /// Where this was read.
    pub source: String,
    /// Function name to core signature (`(i32, i64) -> (i32)`).
    pub functions: BTreeMap<String, String>,
}

/// When the host looks an export up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LookupCondition {
    /// On every load.
    Always,
    /// Only when `_initialize` is exported.
    #[serde(rename = "_initialize-present")]
    InitializePresent,
    /// Only when `_initialize` is not exported.
    #[serde(rename = "_initialize-absent")]
    InitializeAbsent,
    /// Only when `malloc` is not exported.
    MallocAbsent,
}

/// A group of exports the host looks up in plugins of some ABI versions, between two commits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportGroup {
    /// Export name to the core signature the host expects.
    pub names: BTreeMap<String, String>,
    /// The ABI versions the lookup applies to.
    pub abi: Vec<String>,
    /// The commit the lookup starts at.
    pub since: String,
    /// The commit it stops at, if it did.
    pub until: Option<String>,
    /// When the lookup happens.
    pub when: LookupCondition,
    /// Whether the host ever calls what it looks up.
    pub called: bool,
    /// Where this was read.
    pub source: String,
}

/// Exports of which the host needs at least one, or it refuses the module.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredExports {
    /// The names, in the host's order of preference.
    pub one_of: Vec<String>,
    /// The commit the requirement starts at.
    pub since: String,
    /// The commit it stops at, if it did.
    pub until: Option<String>,
    /// Where this was read.
    pub source: String,
}

/// What an engine does with one kind of module feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineReaction {
    /// The load fails.
    Refuse,
    /// The feature is ignored (a wrongly typed callback is never called).
    Ignore,
    /// The host supplies it (an imported memory or table).
    Provided,
    /// It runs normally (a wasm start function).
    Runs,
    /// Instantiation traps (a wasm start function).
    Traps,
}

/// How one engine of the host treats a module, between two commits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineFacts {
    /// The engine name (`v8`, `wamr`, `wasmtime`, `wasmedge`).
    pub engine: String,
    /// The commit these facts start at.
    pub since: String,
    /// The commit they stop at, if they did.
    pub until: Option<String>,
    /// A callback the host looks up, exported with another signature: `refuse` or `ignore`.
    pub export_signature: EngineReaction,
    /// A wasm start function: `runs` or `traps`.
    pub start_function: EngineReaction,
    /// An imported memory: `provided` or `refuse`.
    pub memory_import: EngineReaction,
    /// An imported table: `provided` or `refuse`.
    pub table_import: EngineReaction,
    /// An imported global: `refuse`.
    pub global_import: EngineReaction,
    /// Exports the engine itself runs while instantiating the module, before the host has set up any
    /// context (beside the wasm start function).
    #[serde(default)]
    pub runs_at_instantiation: Vec<String>,
    /// A host function called while instantiating (from the start function or one of
    /// `runs_at_instantiation`): `refuse` (it finds no context and the load fails) or `runs`.
    pub host_call_at_instantiation: EngineReaction,
    /// A module using 128-bit SIMD: `runs`, or `refuse` (the engine is built without it).
    pub simd: EngineReaction,
    /// Where this was read.
    pub source: String,
}

/// One host's profile, as read from `spec/hosts/<host>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name used on command lines (`cpp-host`).
    pub host: String,
    /// What the host is.
    pub title: String,
    /// Its source repository.
    pub repository: String,
    /// The engine assumed when none is named.
    pub default_engine: String,
    /// How the host detects the ABI version.
    pub abi_detection: AbiDetection,
    /// Every commit a fact refers to, by short id.
    pub commits: BTreeMap<String, Commit>,
    /// Product releases and the commit each pins.
    pub releases: Vec<Release>,
    /// What the host registers.
    pub imports: Vec<ImportGroup>,
    /// What the host looks up.
    pub exports: Vec<ExportGroup>,
    /// Exports the host cannot do without.
    pub required: Vec<RequiredExports>,
    /// Per-engine behaviour.
    pub engines: Vec<EngineFacts>,
}

impl Profile {
    /// The date of commit `short` (a key of [`Profile::commits`]).
    pub fn date(&self, short: &str) -> Option<&str> {
        self.commits.get(short).map(|c| c.date.as_str())
    }
}

/// Parses a core signature written `(i32, i64) -> (i32)`.
pub fn parse_signature(text: &str) -> Option<(Vec<CoreType>, Vec<CoreType>)> {
    let (params, results) = text.split_once("->")?;
    let list = |part: &str| -> Option<Vec<CoreType>> {
        let inner = part.trim().strip_prefix('(')?.strip_suffix(')')?;
        inner
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| match t {
                "i32" => Some(CoreType::I32),
                "i64" => Some(CoreType::I64),
                "f32" => Some(CoreType::F32),
                "f64" => Some(CoreType::F64),
                _ => None,
            })
            .collect()
    };
    Some((list(params)?, list(results)?))
}

/// The profile documents in `spec_dir/hosts`, sorted by file name.
pub fn documents(spec_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(spec_dir.join("hosts"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Reads and checks one profile against the ABI versions in `abis`.
///
/// # Errors
///
/// [`ProfileError`] when the file cannot be read, is not a profile, names an unknown commit or ABI
/// version, holds a malformed signature, or gives a spec-defined function another signature than the
/// spec.
pub fn load(path: &Path, abis: &[Abi]) -> Result<Profile, ProfileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let profile: Profile = serde_json::from_str(&text).map_err(|e| ProfileError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    check(&profile, abis).map_err(|message| ProfileError::Invalid {
        path: path.to_path_buf(),
        message,
    })?;
    Ok(profile)
}

fn check(profile: &Profile, abis: &[Abi]) -> Result<(), String> {
    let commit = |short: &str, what: &str| -> Result<(), String> {
        if profile.commits.contains_key(short) {
            Ok(())
        } else {
            Err(format!(
                "{what} names commit `{short}`, which `commits` does not list"
            ))
        }
    };
    let interval = |since: &str, until: &Option<String>, what: &str| -> Result<(), String> {
        commit(since, what)?;
        if let Some(until) = until {
            commit(until, what)?;
            if profile.date(until) < profile.date(since) {
                return Err(format!(
                    "{what}: `until` {until} is older than `since` {since}"
                ));
            }
        }
        Ok(())
    };
    for (short, c) in &profile.commits {
        if !c.id.starts_with(short.as_str()) || c.id.len() != 40 {
            return Err(format!("commit `{short}`: id {} does not extend it", c.id));
        }
        if !is_date(&c.date) {
            return Err(format!(
                "commit `{short}`: date `{}` is not YYYY-MM-DD",
                c.date
            ));
        }
    }
    let abi = |version: &str| abis.iter().find(|a| a.version.to_string() == version);
    for (version, since) in &profile.abi_detection.versions {
        commit(since, "abi_detection")?;
        if abi(version).is_none() {
            return Err(format!("abi_detection names unknown ABI version {version}"));
        }
    }
    if profile.abi_detection.rule != "first" {
        return Err(format!(
            "abi_detection: unknown rule `{}` (known: first)",
            profile.abi_detection.rule
        ));
    }
    for r in &profile.releases {
        commit(&r.commit, &format!("release {}", r.name))?;
        if !r.name.contains('@') {
            return Err(format!("release `{}` is not product@version", r.name));
        }
    }
    for g in &profile.imports {
        let what = format!("import group since {}", g.since);
        interval(&g.since, &g.until, &what)?;
        for version in &g.abi {
            let Some(spec) = abi(version) else {
                return Err(format!("{what}: unknown ABI version {version}"));
            };
            for (name, signature) in &g.functions {
                let sig = parse_signature(signature)
                    .ok_or_else(|| format!("{what}: `{name}`: bad signature `{signature}`"))?;
                for module in &g.modules {
                    // The spec writes WASI once, under its current module name.
                    let spec_module = if module == "wasi_unstable" {
                        "wasi_snapshot_preview1"
                    } else {
                        module.as_str()
                    };
                    if let Some(f) = spec.import(spec_module, name) {
                        if (f.core_params(), f.core_results()) != sig {
                            return Err(format!(
                                "{what}: {module}.{name} {signature} disagrees with the signature ABI {version} gives it"
                            ));
                        }
                    }
                }
            }
        }
    }
    for g in &profile.exports {
        let what = format!("export group since {}", g.since);
        interval(&g.since, &g.until, &what)?;
        for version in &g.abi {
            let Some(spec) = abi(version) else {
                return Err(format!("{what}: unknown ABI version {version}"));
            };
            for (name, signature) in &g.names {
                let sig = parse_signature(signature)
                    .ok_or_else(|| format!("{what}: `{name}`: bad signature `{signature}`"))?;
                if let Some(f) = spec.export(name) {
                    if (f.core_params(), f.core_results()) != sig {
                        return Err(format!(
                            "{what}: {name} {signature} disagrees with the signature ABI {version} gives it"
                        ));
                    }
                }
            }
        }
    }
    for r in &profile.required {
        interval(&r.since, &r.until, "required exports")?;
        if r.one_of.is_empty() {
            return Err("required exports: empty `one_of`".to_string());
        }
    }
    if !profile
        .engines
        .iter()
        .any(|e| e.engine == profile.default_engine)
    {
        return Err(format!(
            "default_engine `{}` has no engine facts",
            profile.default_engine
        ));
    }
    for e in &profile.engines {
        interval(&e.since, &e.until, &format!("engine {}", e.engine))?;
        use EngineReaction::*;
        let ok = matches!(e.export_signature, Refuse | Ignore)
            && matches!(e.start_function, Runs | Traps)
            && matches!(e.memory_import, Provided | Refuse)
            && matches!(e.table_import, Provided | Refuse)
            && matches!(e.global_import, Provided | Refuse)
            && matches!(e.host_call_at_instantiation, Runs | Refuse)
            && matches!(e.simd, Runs | Refuse);
        if !ok {
            return Err(format!(
                "engine {} since {}: a reaction that does not fit its feature",
                e.engine, e.since
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_parse_and_reject() {
        assert_eq!(
            parse_signature("(i32, i64) -> (i32)"),
            Some((vec![CoreType::I32, CoreType::I64], vec![CoreType::I32]))
        );
        assert_eq!(parse_signature("() -> ()"), Some((vec![], vec![])));
        assert_eq!(parse_signature("(i32) -> (v128)"), None);
        assert_eq!(parse_signature("i32 -> i32"), None);
    }
}
