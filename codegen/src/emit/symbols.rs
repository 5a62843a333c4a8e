//! Emits the table of symbols one ABI version defines, for tools that check plugin binaries (the
//! conformance crate). The including module provides the types `AbiSymbols`, `Symbol`,
//! `RequiredGroup` and `ValType` (with variants `I32`, `I64`, `F32`, `F64`).

use crate::model::{Abi, CoreType, Function};
use proc_macro2::TokenStream;
use quote::quote;

/// A core-type list as a `&[ValType]` literal (shared with the host-profile emitter).
pub(crate) fn val_types(types: &[CoreType]) -> TokenStream {
    let tys = types.iter().map(|t| match t {
        CoreType::I32 => quote!(ValType::I32),
        CoreType::I64 => quote!(ValType::I64),
        CoreType::F32 => quote!(ValType::F32),
        CoreType::F64 => quote!(ValType::F64),
    });
    quote!(&[ #( #tys ),* ])
}

fn symbol(f: &Function) -> TokenStream {
    let (module, name, family, written, required) =
        (&f.module, &f.name, &f.family, f.written, f.required);
    let params = val_types(&f.core_params());
    let results = val_types(&f.core_results());
    quote! {
        Symbol {
            module: #module,
            name: #name,
            family: #family,
            written: #written,
            required: #required,
            params: #params,
            results: #results,
        }
    }
}

/// The `symbols.rs` file.
pub fn emit(abi: &Abi) -> TokenStream {
    let version = abi.version.to_string();
    let doc = format!(" Every symbol ABI {version} defines: what a plugin may import and export.");
    let imports = abi.imports.iter().map(symbol);
    let exports = abi.exports.iter().map(symbol);
    let groups = abi.required_exports.iter().map(|g| {
        let family = &g.family;
        let names = &g.names;
        quote!(RequiredGroup { family: #family, names: &[ #( #names ),* ] })
    });
    let memory_required = abi.memory_required;
    quote! {
        #[doc = #doc]
        pub const SYMBOLS: AbiSymbols = AbiSymbols {
            version: #version,
            imports: &[ #( #imports ),* ],
            exports: &[ #( #exports ),* ],
            required_groups: &[ #( #groups ),* ],
            memory_required: #memory_required,
        };
    }
}
