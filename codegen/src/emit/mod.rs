//! Emitters: each turns the model into one generated Rust file.
//!
//! | file | emitter | side | what it holds |
//! | --- | --- | --- | --- |
//! | `types.rs` | [`types`] | guest | every enumeration, checked with `TryFrom<u32>` |
//! | `imports.rs` | [`imports`] | guest | raw guest imports: `extern "C"` on wasm32, the native glue into the host trait elsewhere |
//! | `host.rs` | [`host`] | guest | the host-side trait of each wasm module, in lifted types, and the native host slot (the seam an in-process host plugs into) |
//! | `exports.rs` | [`exports`] | guest | the `Callbacks` dispatcher trait and the `#[no_mangle]` export shims |
//! | `symbols.rs` | [`symbols`] | (conformance) | the table of symbols a plugin may import and export |
//! | `instance.rs` | [`instance`] | host | the `PluginInstance` trait (a plugin as a host calls it) and `InProcess`, its implementation over `Callbacks` |
//! | `runner.rs` | [`runner`] | host | the wasm runner's host glue: every import of the version for wasmtime, and the guest's exports as a `PluginInstance` |
//! | `error.rs` (one for every version) | [`error`] | guest | the SDK's `Error`: a variant, mapping and message per failure status |
//! | `versions.rs`, `versions.txt`, `select.rs` (one for every version) | [`versions`] | guest | the version table of the SDK's build script and scripts; the per-version includes of `sdk/abi.rs` |
//! | `profile_<host>.rs` | [`profile`] | (conformance) | one host profile ([`crate::hosts`]) as flat, dated tables for the conformance audit |
//!
//! Guest files belong to the SDK crate `proxywasm`, host files to the host crate `proxywasm-emulator`
//! ([`Side`]).

pub mod error;
pub mod exports;
pub mod host;
pub mod imports;
pub mod instance;
pub mod profile;
pub mod runner;
pub mod symbols;
pub mod types;
pub mod versions;

use crate::lowering;
use crate::model::{Abi, Function, Output, Param, Results};
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

/// Choices the SDK (or another user of the generated code) makes about the emitted code.
#[derive(Debug, Clone)]
pub struct Options {
    /// Path of the type that implements the generated `Callbacks` trait; the export shims call it.
    pub dispatcher: String,
    /// Export families the user implements by hand (e.g. `entry`: `_initialize`, `_start`, `main`); no
    /// shim and no trait method is emitted for them.
    pub hand_written_export_families: Vec<String>,
    /// Path (in the host crate) of the error type a host's call into a plugin returns
    /// (`PluginInstance` methods); it must have `panicked(callback, payload)`, `trapped(callback, error)`
    /// and `bad_result(callback, value)`.
    pub callback_failure: String,
    /// Path (in the host crate) of the hand-written module the wasm runner glue (`runner.rs`) builds on:
    /// guest memory access, the store's data type and the WASI functions.
    pub runner_support: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dispatcher: "crate::dispatcher::Dispatcher".to_string(),
            hand_written_export_families: vec!["entry".to_string()],
            callback_failure: "crate::CallbackFailure".to_string(),
            runner_support: "crate::wasm::support".to_string(),
        }
    }
}

/// Which crate a generated file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The guest SDK (`proxywasm`): what a plugin compiles.
    Guest,
    /// The host crate (`proxywasm-emulator`): what drives a plugin in tests.
    Host,
    /// Neither crate includes it (the symbol table, which the conformance crate gets in its own form).
    Tables,
}

/// One generated file: its name, its side and its formatted text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name, e.g. `types.rs`.
    pub name: &'static str,
    /// The crate it belongs to.
    pub side: Side,
    /// The formatted Rust source, with its "generated" header.
    pub contents: String,
}

/// Emits every generated file for one ABI version, `abi`, one of `all` (every version, for the parts
/// that span versions: the host trait and the `Callbacks` trait cover every version's functions, so
/// code written against them compiles for any version).
pub fn generate(
    abi: &Abi,
    all: &[Abi],
    options: &Options,
) -> Result<Vec<GeneratedFile>, EmitError> {
    let files: [(&'static str, Side, TokenStream); 7] = [
        ("types.rs", Side::Guest, types::emit(abi, all)),
        ("imports.rs", Side::Guest, imports::emit(abi, all)?),
        ("host.rs", Side::Guest, host::emit(abi, all)?),
        ("exports.rs", Side::Guest, exports::emit(abi, all, options)?),
        ("symbols.rs", Side::Tables, symbols::emit(abi)),
        (
            "instance.rs",
            Side::Host,
            instance::emit(abi, all, options)?,
        ),
        ("runner.rs", Side::Host, runner::emit(abi, all, options)?),
    ];
    files
        .into_iter()
        .map(|(name, side, tokens)| {
            Ok(GeneratedFile {
                name,
                side,
                contents: format_file(abi, name, tokens)?,
            })
        })
        .collect()
}

/// Why the model could not be emitted.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// The model uses something the emitters cannot express.
    #[error("ABI {version}: `{function}`: {message}")]
    Unsupported {
        /// The version.
        version: String,
        /// The function.
        function: String,
        /// What is missing.
        message: String,
    },
    /// The emitted tokens are not valid Rust (a bug in an emitter).
    #[error("{file}: the generated code does not parse: {message}")]
    Unparsable {
        /// The generated file.
        file: &'static str,
        /// What syn said.
        message: String,
    },
}

fn format_file(abi: &Abi, name: &'static str, tokens: TokenStream) -> Result<String, EmitError> {
    let file = syn::parse2::<syn::File>(tokens).map_err(|e| EmitError::Unparsable {
        file: name,
        message: e.to_string(),
    })?;
    Ok(format!(
        "// @generated by proxywasm-codegen from spec/proxy_wasm_{}.witx (ABI {}). Do not edit.\n\
         // To change it, edit spec/ and run `{}`.\n\n{}",
        abi.version.underscored(),
        abi.version,
        crate::regenerate::COMMAND,
        prettyplease::unparse(&file)
    ))
}

fn unsupported(abi: &Abi, f: &Function, message: &str) -> EmitError {
    EmitError::Unsupported {
        version: abi.version.to_string(),
        function: f.name.clone(),
        message: message.to_string(),
    }
}

/// `#[doc = …]` attributes for a doc string, one per line.
pub(crate) fn doc_attrs(docs: &str) -> TokenStream {
    let lines = docs.lines().map(|l| format!(" {}", l.trim_end()));
    quote! { #( #[doc = #lines] )* }
}

/// Docs of a function with `# Parameters` and `# Returns` sections built from the spec.
pub(crate) fn function_docs(f: &Function) -> TokenStream {
    let mut text = f.docs.clone();
    if !f.params.is_empty() {
        text.push_str("\n\n# Parameters\n");
        for p in &f.params {
            text.push_str(&format!("\n- `{}`: {}", p.name, p.docs));
        }
    }
    let returns = match &f.result {
        Results::None => String::new(),
        Results::Value { docs, .. } => docs.clone(),
        Results::Status { docs, status, .. } if docs.is_empty() => {
            format!("The `{status}` of the call.")
        }
        Results::Status { docs, .. } => docs.clone(),
    };
    if !returns.is_empty() {
        text.push_str("\n\n# Returns\n\n");
        text.push_str(&returns);
    }
    doc_attrs(&text)
}

/// One raw parameter of a lowered signature.
pub(crate) struct RawParam {
    pub name: proc_macro2::Ident,
    pub ty: TokenStream,
}

/// The raw guest parameters a by-value parameter lowers to ([`crate::lowering::param_slots`]).
pub(crate) fn raw_params(p: &Param) -> Vec<RawParam> {
    raw(lowering::param_slots(p))
}

/// The out-pointer parameters of a hostcall's outputs ([`crate::lowering::output_slots`]).
pub(crate) fn raw_out_params(outputs: &[Output]) -> Vec<RawParam> {
    raw(lowering::output_slots(outputs))
}

fn raw(slots: Vec<lowering::Slot>) -> Vec<RawParam> {
    slots
        .into_iter()
        .map(|s| RawParam {
            name: names::value_name(&s.name),
            ty: s.kind.guest_type(),
        })
        .collect()
}

/// Parses a Rust path given in [`Options`] (`what` names it in the error) for the generated `file`.
pub(crate) fn option_path(
    file: &'static str,
    what: &str,
    path: &str,
) -> Result<syn::Path, EmitError> {
    syn::parse_str(path).map_err(|e| EmitError::Unparsable {
        file,
        message: format!("{what} path `{path}`: {e}"),
    })
}

/// Every function of every version in `all` that `pick` selects, by (module, name), described as the
/// newest version that has it describes it.
pub(crate) fn union<'a>(
    all: &'a [Abi],
    pick: impl Fn(&'a Abi) -> Vec<&'a Function>,
) -> Vec<&'a Function> {
    let mut by_key: std::collections::BTreeMap<(&str, &str), &Function> =
        std::collections::BTreeMap::new();
    let mut versions: Vec<&Abi> = all.iter().collect();
    versions.sort_by_key(|a| a.version);
    for abi in versions {
        for f in pick(abi) {
            by_key.insert((&f.module, &f.name), f);
        }
    }
    by_key.into_values().collect()
}

/// The versions in `all` that define `f` (same module and name), e.g. `0.2.0, 0.2.1`.
pub(crate) fn versions_having(all: &[Abi], f: &Function) -> String {
    let mut versions: Vec<_> = all
        .iter()
        .filter(|abi| {
            if f.module == "plugin" {
                abi.export(&f.name).is_some()
            } else {
                abi.import(&f.module, &f.name).is_some()
            }
        })
        .map(|abi| abi.version)
        .collect();
    versions.sort();
    versions
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
