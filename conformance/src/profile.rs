//! Host profiles: what a real host registers for plugins and what it looks up in them, per ABI version,
//! over its history, as generated from `spec/hosts/*.json` at build time. Every fact carries the dated
//! commit it starts at (and ends at, if it did) and the host source file it was read from.
//!
//! A [`HostTarget`] is one profile at one date with one engine: the host the audit's "loads in H"
//! verdict is about. `--host cpp-host` is the newest point of the profile; `cpp-host@2021-06-30` the
//! host as it was at the end of that day; `envoy@1.NN` the commit an Envoy release pins.

use crate::date::is_date;
use crate::symbols::ValType;
use std::fmt;
use std::str::FromStr;

/// A dated commit of the host's repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cite {
    /// The full commit id.
    pub commit: &'static str,
    /// Its commit date, `YYYY-MM-DD`.
    pub date: &'static str,
}

impl Cite {
    /// `2024-12-19 (c4d7bb0)`.
    pub fn short(&self) -> String {
        format!(
            "{} ({})",
            self.date,
            &self.commit[..self.commit.len().min(7)]
        )
    }
}

/// When the host looks an export up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// On every load.
    Always,
    /// Only when `_initialize` is exported.
    InitializePresent,
    /// Only when `_initialize` is not exported.
    InitializeAbsent,
    /// Only when `malloc` is not exported.
    MallocAbsent,
}

/// What an engine does with one kind of module feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reaction {
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

/// An ABI version the host recognises from its marker export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostVersion {
    /// The version, e.g. `0.2.1`.
    pub abi: &'static str,
    /// Since when.
    pub since: Cite,
}

/// A function the host registers under one module for plugins of some ABI versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostImport {
    /// The wasm module (`env`, `wasi_unstable`, `wasi_snapshot_preview1`).
    pub module: &'static str,
    /// The function name.
    pub name: &'static str,
    /// The ABI versions it is registered for.
    pub abi: &'static [&'static str],
    /// Core parameter types.
    pub params: &'static [ValType],
    /// Core result types.
    pub results: &'static [ValType],
    /// Registered since.
    pub since: Cite,
    /// Registered until (exclusive), if it was dropped.
    pub until: Option<Cite>,
    /// The host source this was read from.
    pub source: &'static str,
}

/// An export the host looks up in plugins of some ABI versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostExport {
    /// The export name.
    pub name: &'static str,
    /// The ABI versions it is looked up for.
    pub abi: &'static [&'static str],
    /// Core parameter types the host expects.
    pub params: &'static [ValType],
    /// Core result types the host expects.
    pub results: &'static [ValType],
    /// When it is looked up.
    pub when: Lookup,
    /// Whether the host ever calls it.
    pub called: bool,
    /// Looked up since.
    pub since: Cite,
    /// Looked up until (exclusive).
    pub until: Option<Cite>,
    /// The host source this was read from.
    pub source: &'static str,
}

/// Exports of which the host needs one, or it refuses the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostRequired {
    /// The names, in the host's order of preference.
    pub one_of: &'static [&'static str],
    /// Required since.
    pub since: Cite,
    /// Required until (exclusive).
    pub until: Option<Cite>,
    /// The host source this was read from.
    pub source: &'static str,
}

/// How one engine of the host treats a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostEngine {
    /// The engine (`v8`, `wamr`, `wasmtime`, `wasmedge`).
    pub engine: &'static str,
    /// Since.
    pub since: Cite,
    /// Until (exclusive).
    pub until: Option<Cite>,
    /// A looked-up callback exported with another signature.
    pub export_signature: Reaction,
    /// A wasm start function.
    pub start_function: Reaction,
    /// An imported memory.
    pub memory_import: Reaction,
    /// An imported table.
    pub table_import: Reaction,
    /// An imported global.
    pub global_import: Reaction,
    /// Exports the engine runs itself while instantiating (beside the wasm start function).
    pub runs_at_instantiation: &'static [&'static str],
    /// A host function called while instantiating: [`Reaction::Refuse`] (no context yet) or runs.
    pub host_call_at_instantiation: Reaction,
    /// A module using 128-bit SIMD: [`Reaction::Refuse`] (built without it) or runs.
    pub simd: Reaction,
    /// The host source this was read from.
    pub source: &'static str,
}

/// A product release and the host commit it pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostRelease {
    /// `envoy@1.33`.
    pub name: &'static str,
    /// The pinned commit.
    pub commit: Cite,
    /// Where the pin was read.
    pub source: &'static str,
}

/// One host's whole profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostProfile {
    /// Its short name (`cpp-host`).
    pub host: &'static str,
    /// What it is.
    pub title: &'static str,
    /// Its repository.
    pub repository: &'static str,
    /// The engine assumed when none is named.
    pub default_engine: &'static str,
    /// Where the ABI detection rule (the first marker in export order decides) was read.
    pub detection_source: &'static str,
    /// The ABI versions it recognises.
    pub versions: &'static [HostVersion],
    /// Every dated commit a fact refers to, oldest first.
    pub commits: &'static [Cite],
    /// Releases that pin a commit.
    pub releases: &'static [HostRelease],
    /// What it registers.
    pub imports: &'static [HostImport],
    /// What it looks up.
    pub exports: &'static [HostExport],
    /// What it cannot do without.
    pub required: &'static [HostRequired],
    /// Per-engine behaviour.
    pub engines: &'static [HostEngine],
}

/// The generated profiles ([`PROFILES`]).
/// Generated from `spec/hosts/` and checked in (`cargo run -p proxywasm-codegen -- regenerate`).
pub mod tables {
    use super::*;
    include!("generated/profiles.rs");
}

pub use tables::PROFILES;

fn active(since: &Cite, until: &Option<Cite>, date: &str) -> bool {
    since.date <= date && until.is_none_or(|u| u.date > date)
}

impl HostProfile {
    /// The date of its newest fact.
    pub fn newest(&self) -> &'static str {
        self.commits.last().map_or("", |c| c.date)
    }

    /// The date of its oldest fact.
    pub fn oldest(&self) -> &'static str {
        self.commits.first().map_or("", |c| c.date)
    }
}

/// One profile at one date, with one engine: the host a "loads in H" verdict is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    /// The profile.
    pub profile: &'static HostProfile,
    /// The host as it was at the end of this day (`YYYY-MM-DD`).
    pub date: String,
    /// The engine.
    pub engine: &'static str,
    /// The release named on the command line, if any (`envoy@1.33`).
    pub release: Option<&'static HostRelease>,
}

/// A `--host` or `--engine` value this tool cannot resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnknownHost(pub String);

impl FromStr for HostTarget {
    type Err = UnknownHost;

    /// `cpp-host`, `cpp-host@YYYY-MM-DD` or a release (`envoy@1.33`); the profile's default engine.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let known = || {
            let mut names: Vec<String> = PROFILES
                .iter()
                .flat_map(|p| {
                    std::iter::once(format!("{0}, {0}@YYYY-MM-DD", p.host))
                        .chain(p.releases.iter().map(|r| r.name.to_string()))
                })
                .collect();
            names.dedup();
            names.join(", ")
        };
        let (name, at) = match s.split_once('@') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        if let Some(profile) = PROFILES.iter().copied().find(|p| p.host == name) {
            let date = match at {
                None => profile.newest().to_string(),
                Some(date) if is_date(date) => {
                    if date < profile.oldest() {
                        return Err(UnknownHost(format!(
                            "the {} profile starts at {}; {date} is older",
                            profile.host,
                            profile.oldest()
                        )));
                    }
                    date.to_string()
                }
                Some(other) => {
                    return Err(UnknownHost(format!(
                        "`{other}` is not a date (YYYY-MM-DD) in `{s}`"
                    )))
                }
            };
            return Ok(HostTarget {
                profile,
                date,
                engine: profile.default_engine,
                release: None,
            });
        }
        for profile in PROFILES.iter().copied() {
            if let Some(release) = profile.releases.iter().find(|r| r.name == s) {
                return Ok(HostTarget {
                    profile,
                    date: release.commit.date.to_string(),
                    engine: profile.default_engine,
                    release: Some(release),
                });
            }
        }
        Err(UnknownHost(format!(
            "unknown host `{s}` (known: {})",
            known()
        )))
    }
}

impl fmt::Display for HostTarget {
    /// `cpp-host@2026-07-01 (v8)` or `envoy@1.33 = cpp-host@2025-01-07 (v8)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(release) = self.release {
            write!(f, "{} = ", release.name)?;
        }
        write!(f, "{}@{} ({})", self.profile.host, self.date, self.engine)
    }
}

impl HostTarget {
    /// The newest point of the first profile, with its default engine.
    pub fn newest() -> Option<HostTarget> {
        PROFILES.first().map(|p| HostTarget {
            profile: p,
            date: p.newest().to_string(),
            engine: p.default_engine,
            release: None,
        })
    }

    /// The same host with another engine.
    ///
    /// # Errors
    ///
    /// [`UnknownHost`] when the profile knows no such engine at this date.
    pub fn with_engine(mut self, engine: &str) -> Result<HostTarget, UnknownHost> {
        let facts = self
            .profile
            .engines
            .iter()
            .find(|e| e.engine == engine && active(&e.since, &e.until, &self.date));
        match facts {
            Some(e) => {
                self.engine = e.engine;
                Ok(self)
            }
            None => {
                let mut names: Vec<&str> = self
                    .profile
                    .engines
                    .iter()
                    .filter(|e| active(&e.since, &e.until, &self.date))
                    .map(|e| e.engine)
                    .collect();
                names.dedup();
                Err(UnknownHost(format!(
                    "{} has no engine `{engine}` at {} (it has: {})",
                    self.profile.host,
                    self.date,
                    names.join(", ")
                )))
            }
        }
    }

    /// The same host at another date (same engine).
    pub fn at(&self, date: &str) -> HostTarget {
        HostTarget {
            profile: self.profile,
            date: date.to_string(),
            engine: self.engine,
            release: None,
        }
    }

    /// Whether the host recognises ABI `version` at this date.
    pub fn knows_abi(&self, version: &str) -> bool {
        self.profile
            .versions
            .iter()
            .any(|v| v.abi == version && v.since.date <= self.date.as_str())
    }

    /// What the host registers as `module.name` for ABI `abi` at this date.
    pub fn registered(&self, abi: &str, module: &str, name: &str) -> Option<&'static HostImport> {
        self.profile.imports.iter().find(|i| {
            i.module == module
                && i.name == name
                && i.abi.contains(&abi)
                && active(&i.since, &i.until, &self.date)
        })
    }

    /// The first registration of `module.name` for ABI `abi` at any date (for "registered since").
    pub fn registered_ever(
        &self,
        abi: &str,
        module: &str,
        name: &str,
    ) -> Option<&'static HostImport> {
        self.profile
            .imports
            .iter()
            .find(|i| i.module == module && i.name == name && i.abi.contains(&abi))
    }

    /// The exports the host looks up for ABI `abi` at this date (conditions not yet applied).
    pub fn lookups(&self, abi: &str) -> impl Iterator<Item = &'static HostExport> + '_ {
        let abi = abi.to_string();
        self.profile.exports.iter().filter(move |e| {
            e.abi.contains(&abi.as_str()) && active(&e.since, &e.until, &self.date)
        })
    }

    /// The host's lookup of `name` for ABI `abi` at this date, whatever its condition.
    pub fn lookup(&self, abi: &str, name: &str) -> Option<&'static HostExport> {
        self.lookups(abi).find(|e| e.name == name)
    }

    /// The export groups the host needs at this date.
    pub fn required(&self) -> impl Iterator<Item = &'static HostRequired> + '_ {
        self.profile
            .required
            .iter()
            .filter(move |r| active(&r.since, &r.until, &self.date))
    }

    /// The facts of the selected engine at this date.
    pub fn engine_facts(&self) -> Option<&'static HostEngine> {
        self.engine_named(self.engine)
    }

    /// The facts of engine `name` at this date.
    pub fn engine_named(&self, name: &str) -> Option<&'static HostEngine> {
        self.profile
            .engines
            .iter()
            .find(|e| e.engine == name && active(&e.since, &e.until, &self.date))
    }

    /// Every engine the host has at this date.
    pub fn engines(&self) -> impl Iterator<Item = &'static HostEngine> + '_ {
        self.profile
            .engines
            .iter()
            .filter(move |e| active(&e.since, &e.until, &self.date))
    }

    /// The dated points of the profile up to this target's date, oldest first.
    pub fn history(&self) -> impl Iterator<Item = &'static str> + '_ {
        let mut last = "";
        self.profile.commits.iter().filter_map(move |c| {
            if c.date == last || c.date > self.date.as_str() {
                None
            } else {
                last = c.date;
                Some(c.date)
            }
        })
    }

    /// Per product (`envoy`, `istio`), the oldest release of the profile whose pinned commit is at or
    /// after `date`, sorted by name.
    pub fn releases_since(&self, date: &str) -> Vec<&'static HostRelease> {
        let mut out: Vec<&'static HostRelease> = Vec::new();
        for r in self
            .profile
            .releases
            .iter()
            .filter(|r| r.commit.date >= date)
        {
            let product = r.name.split('@').next().unwrap_or(r.name);
            match out
                .iter_mut()
                .find(|o| o.name.split('@').next() == Some(product))
            {
                Some(o) if o.commit.date > r.commit.date => *o = r,
                Some(_) => {}
                None => out.push(r),
            }
        }
        out.sort_by_key(|r| r.name);
        out
    }
}
