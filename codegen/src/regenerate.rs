//! Every file of this repository that is generated from `spec/`, with the text it must hold. The files are
//! checked in (a plugin's build never runs the generator); `proxywasm-codegen regenerate` rewrites them and
//! a test of the SDK fails when one differs from [`outputs`].
//!
//! | path (from the repository root) | what it holds |
//! | --- | --- |
//! | `sdk/generated/v<version>/{types,imports,host,exports}.rs` | the guest SDK's bindings of one ABI version ([`emit::generate`], [`emit::Side::Guest`]) |
//! | `emulator/generated/v<version>/{instance,runner}.rs` | the host crate's glue for one ABI version ([`emit::Side::Host`]) |
//! | `conformance/src/generated/symbols.rs` | one symbol table per version and `VERSIONS` ([`emit::symbols`]) |
//! | `conformance/src/generated/profiles.rs` | one table per host profile of `spec/hosts/` and `PROFILES` ([`emit::profile`]) |
//! | `tests/golden/<version>/symbols.json` | the symbol listing of one version (`proxywasm-codegen symbols --json`), for review |

use crate::emit::{self, profile, symbols};
use crate::{hosts, listing, parser, Abi, Version};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::path::{Path, PathBuf};

/// The command that rewrites every generated file.
pub const COMMAND: &str = "cargo run -p proxywasm-codegen -- regenerate";

/// The folders that hold nothing but generated files: a file in them that [`outputs`] does not name is
/// stale (left behind by a version or a host that no longer exists).
pub const GENERATED_DIRS: [&str; 3] = [
    "sdk/generated",
    "emulator/generated",
    "conformance/src/generated",
];

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Its path, relative to the repository root, with `/` separators.
    pub path: String,
    /// The text it must hold.
    pub contents: String,
}

/// Why the generated files cannot be produced.
#[derive(Debug, thiserror::Error)]
pub enum RegenerateError {
    /// A spec document does not load.
    #[error(transparent)]
    Spec(#[from] parser::SpecError),
    /// A host profile does not load.
    #[error(transparent)]
    Profile(#[from] hosts::ProfileError),
    /// The model cannot be emitted.
    #[error(transparent)]
    Emit(#[from] emit::EmitError),
    /// A listing does not serialize.
    #[error("symbols.json: {0}")]
    Json(#[from] serde_json::Error),
}

/// The folder of one version's files under `sdk/generated/` and `emulator/generated/`: `v0_2_1`.
pub fn version_module(version: Version) -> String {
    format!("v{}", version.underscored())
}

/// Every generated file, from the spec documents in `spec_dir` (every version and every host profile).
pub fn outputs(spec_dir: &Path) -> Result<Vec<Output>, RegenerateError> {
    let all: Vec<Abi> = Version::ALL
        .into_iter()
        .map(|v| parser::load(spec_dir, v))
        .collect::<Result<_, _>>()?;
    let mut outputs = Vec::new();
    for abi in &all {
        let module = version_module(abi.version);
        for file in emit::generate(abi, &all, &emit::Options::default())? {
            let dir = match file.side {
                emit::Side::Guest => "sdk",
                emit::Side::Host => "emulator",
                // The symbol tables are the conformance crate's (below), in one file for every version.
                emit::Side::Tables => continue,
            };
            outputs.push(Output {
                path: format!("{dir}/generated/{module}/{}", file.name),
                contents: file.contents,
            });
        }
        outputs.push(Output {
            path: format!("tests/golden/{}/symbols.json", abi.version),
            contents: serde_json::to_string_pretty(&listing::symbols(abi))? + "\n",
        });
    }
    outputs.push(Output {
        path: "conformance/src/generated/symbols.rs".to_string(),
        contents: symbol_tables(&all)?,
    });
    outputs.push(Output {
        path: "conformance/src/generated/profiles.rs".to_string(),
        contents: profile_tables(spec_dir, &all)?,
    });
    Ok(outputs)
}

/// Writes every file of [`outputs`] under `root` (the repository root) and removes the files of
/// [`GENERATED_DIRS`] it does not name. Returns the paths written.
pub fn write(root: &Path, spec_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let outputs = outputs(spec_dir).map_err(|e| e.to_string())?;
    for stale in stale_files(root, &outputs) {
        std::fs::remove_file(&stale).map_err(|e| format!("{}: {e}", stale.display()))?;
    }
    let mut written = Vec::new();
    for output in outputs {
        let path = root.join(&output.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, output.contents).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The files under `root`'s [`GENERATED_DIRS`] that `outputs` does not name.
pub fn stale_files(root: &Path, outputs: &[Output]) -> Vec<PathBuf> {
    let mut stale = Vec::new();
    for dir in GENERATED_DIRS {
        collect_files(&root.join(dir), &mut stale);
    }
    stale.retain(|path| {
        !outputs
            .iter()
            .any(|output| root.join(&output.path) == *path)
    });
    stale.sort();
    stale
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn header(sources: &str) -> String {
    format!(
        "// @generated by proxywasm-codegen from {sources}. Do not edit.\n\
         // To change it, edit spec/ and run `{COMMAND}`.\n\n"
    )
}

fn format(name: &'static str, tokens: TokenStream) -> Result<String, emit::EmitError> {
    let file = syn::parse2::<syn::File>(tokens).map_err(|e| emit::EmitError::Unparsable {
        file: name,
        message: e.to_string(),
    })?;
    Ok(prettyplease::unparse(&file))
}

fn symbol_tables(all: &[Abi]) -> Result<String, emit::EmitError> {
    let modules = all.iter().map(|abi| {
        let module = format_ident!("{}", version_module(abi.version));
        let doc = format!(
            " The symbols of ABI {}, generated from `spec/proxy_wasm_{}.witx`.",
            abi.version,
            abi.version.underscored()
        );
        let table = symbols::emit(abi);
        quote! {
            #[doc = #doc]
            pub mod #module {
                use super::*;
                #table
            }
        }
    });
    let names = all
        .iter()
        .map(|abi| format_ident!("{}", version_module(abi.version)));
    let tokens = quote! {
        #( #modules )*
        /// Every ABI version this tool was built to know, oldest first.
        pub static VERSIONS: &[&AbiSymbols] = &[ #( &#names::SYMBOLS ),* ];
    };
    Ok(header("spec/proxy_wasm_*.witx") + &format("symbols.rs", tokens)?)
}

fn profile_tables(spec_dir: &Path, all: &[Abi]) -> Result<String, RegenerateError> {
    let mut modules = Vec::new();
    let mut names = Vec::new();
    for document in hosts::documents(spec_dir) {
        let loaded = hosts::load(&document, all)?;
        let module = format_ident!("h_{}", loaded.host.replace(['-', '.'], "_"));
        let doc = format!(
            " The profile of `{host}`, generated from `spec/hosts/{host}.json`.",
            host = loaded.host
        );
        let table = profile::emit(&loaded);
        modules.push(quote! {
            #[doc = #doc]
            pub mod #module {
                use super::*;
                #table
            }
        });
        names.push(module);
    }
    let tokens = quote! {
        #( #modules )*
        /// Every host profile this tool was built with, in file-name order.
        pub static PROFILES: &[&HostProfile] = &[ #( &#names::PROFILE ),* ];
    };
    Ok(header("spec/hosts/*.json") + &format("profiles.rs", tokens)?)
}
