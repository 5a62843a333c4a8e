//! Emits one host profile ([`crate::hosts::Profile`]) as a flat table for tools that check plugin
//! binaries (the conformance crate). The including module provides the types `HostProfile`,
//! `HostImport`, `HostExport`, `HostRequired`, `HostEngine`, `HostRelease`, `HostVersion`, `Cite`,
//! `Lookup`, `Reaction` and `ValType`. Every fact keeps its dated commits and its source.

use super::symbols::val_types;
use crate::hosts::{EngineReaction, LookupCondition, Profile};
use proc_macro2::TokenStream;
use quote::quote;

fn signature(text: &str) -> (TokenStream, TokenStream) {
    // `hosts::load` has checked every signature.
    let (params, results) = crate::hosts::parse_signature(text).unwrap_or_default();
    (val_types(&params), val_types(&results))
}

fn cite(profile: &Profile, short: &str) -> TokenStream {
    let (id, date) = profile
        .commits
        .get(short)
        .map_or((short, ""), |c| (c.id.as_str(), c.date.as_str()));
    quote!(Cite { commit: #id, date: #date })
}

fn until(profile: &Profile, short: &Option<String>) -> TokenStream {
    match short {
        Some(s) => {
            let c = cite(profile, s);
            quote!(Some(#c))
        }
        None => quote!(None),
    }
}

fn reaction(r: EngineReaction) -> TokenStream {
    match r {
        EngineReaction::Refuse => quote!(Reaction::Refuse),
        EngineReaction::Ignore => quote!(Reaction::Ignore),
        EngineReaction::Provided => quote!(Reaction::Provided),
        EngineReaction::Runs => quote!(Reaction::Runs),
        EngineReaction::Traps => quote!(Reaction::Traps),
    }
}

/// The `profile_<host>.rs` file: `pub static PROFILE: HostProfile`.
pub fn emit(profile: &Profile) -> TokenStream {
    let (host, title, repository, default_engine) = (
        &profile.host,
        &profile.title,
        &profile.repository,
        &profile.default_engine,
    );
    let detection_source = &profile.abi_detection.source;
    let versions = profile.abi_detection.versions.iter().map(|(abi, since)| {
        let since = cite(profile, since);
        quote!(HostVersion { abi: #abi, since: #since })
    });
    let mut imports = Vec::new();
    for g in &profile.imports {
        let since = cite(profile, &g.since);
        let until = until(profile, &g.until);
        let source = &g.source;
        let abi = &g.abi;
        for module in &g.modules {
            for (name, sig) in &g.functions {
                let (params, results) = signature(sig);
                imports.push(quote! {
                    HostImport {
                        module: #module, name: #name, abi: &[ #( #abi ),* ],
                        params: #params, results: #results,
                        since: #since, until: #until, source: #source,
                    }
                });
            }
        }
    }
    let mut exports = Vec::new();
    for g in &profile.exports {
        let since = cite(profile, &g.since);
        let until = until(profile, &g.until);
        let (source, abi, called) = (&g.source, &g.abi, g.called);
        let when = match g.when {
            LookupCondition::Always => quote!(Lookup::Always),
            LookupCondition::InitializePresent => quote!(Lookup::InitializePresent),
            LookupCondition::InitializeAbsent => quote!(Lookup::InitializeAbsent),
            LookupCondition::MallocAbsent => quote!(Lookup::MallocAbsent),
        };
        for (name, sig) in &g.names {
            let (params, results) = signature(sig);
            exports.push(quote! {
                HostExport {
                    name: #name, abi: &[ #( #abi ),* ], params: #params, results: #results,
                    when: #when, called: #called, since: #since, until: #until, source: #source,
                }
            });
        }
    }
    let required = profile.required.iter().map(|r| {
        let (one_of, source) = (&r.one_of, &r.source);
        let since = cite(profile, &r.since);
        let until = until(profile, &r.until);
        quote!(HostRequired { one_of: &[ #( #one_of ),* ], since: #since, until: #until, source: #source })
    });
    let engines = profile.engines.iter().map(|e| {
        let (engine, source) = (&e.engine, &e.source);
        let since = cite(profile, &e.since);
        let until = until(profile, &e.until);
        let runs = &e.runs_at_instantiation;
        let host_call = reaction(e.host_call_at_instantiation);
        let simd = reaction(e.simd);
        let (a, b, c, d, f) = (
            reaction(e.export_signature),
            reaction(e.start_function),
            reaction(e.memory_import),
            reaction(e.table_import),
            reaction(e.global_import),
        );
        quote! {
            HostEngine {
                engine: #engine, since: #since, until: #until,
                export_signature: #a, start_function: #b, memory_import: #c, table_import: #d,
                global_import: #f, runs_at_instantiation: &[ #( #runs ),* ],
                host_call_at_instantiation: #host_call, simd: #simd, source: #source,
            }
        }
    });
    let releases = profile.releases.iter().map(|r| {
        let (name, source) = (&r.name, &r.source);
        let commit = cite(profile, &r.commit);
        quote!(HostRelease { name: #name, commit: #commit, source: #source })
    });
    let mut commits: Vec<_> = profile.commits.values().collect();
    commits.sort_by(|a, b| (&a.date, &a.id).cmp(&(&b.date, &b.id)));
    let commits = commits.iter().map(|c| {
        let (id, date) = (&c.id, &c.date);
        quote!(Cite { commit: #id, date: #date })
    });
    let doc = format!(" The profile of host `{host}`, generated from `spec/hosts/{host}.json`.");
    quote! {
        #[doc = #doc]
        pub static PROFILE: HostProfile = HostProfile {
            host: #host,
            title: #title,
            repository: #repository,
            default_engine: #default_engine,
            detection_source: #detection_source,
            versions: &[ #( #versions ),* ],
            commits: &[ #( #commits ),* ],
            releases: &[ #( #releases ),* ],
            imports: &[ #( #imports ),* ],
            exports: &[ #( #exports ),* ],
            required: &[ #( #required ),* ],
            engines: &[ #( #engines ),* ],
        };
    }
}
