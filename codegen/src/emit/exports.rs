//! Emits the guest exports: the `Callbacks` trait (one associated function per callback, in lifted
//! types) and, on wasm32, one `#[no_mangle]` shim per callback that lifts the raw arguments, calls the
//! dispatcher and lowers its result.
//!
//! Which exports get a shim:
//! - families listed in [`Options::hand_written_export_families`] get none (the SDK writes them);
//! - of a required group with several alternatives (e.g. `proxy_on_memory_allocate` or `malloc`), only
//!   the first one in spec order;
//! - a required export without parameters and results is a marker (`proxy_abi_version_X_Y_Z`): its shim
//!   is empty and it has no trait method.

use super::{function_docs, unsupported, EmitError, Options};
use crate::lowering::{self, lifted};
use crate::model::{Abi, Function, Results, ValueType};
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

/// The exports the generated code implements, with whether each one is a marker.
pub fn emitted_exports<'a>(abi: &'a Abi, options: &Options) -> Vec<(&'a Function, bool)> {
    abi.exports
        .iter()
        .filter(|f| !options.hand_written_export_families.contains(&f.family))
        .filter(|f| {
            abi.required_exports
                .iter()
                .find(|g| g.names.contains(&f.name))
                .is_none_or(|g| g.names.first() == Some(&f.name))
        })
        .map(|f| (f, f.is_marker()))
        .collect()
}

/// Every callback (not version marker) of every version in `all`, as the newest version describes it.
pub(crate) fn callbacks_of_every_version<'a>(
    all: &'a [Abi],
    options: &Options,
) -> Vec<&'a Function> {
    super::union(all, |a| {
        emitted_exports(a, options)
            .into_iter()
            .filter(|(_, marker)| !marker)
            .map(|(f, _)| f)
            .collect()
    })
}

/// The parameters of a `PluginInstance` method: the callback's, lifted as the host sees them.
pub(crate) fn instance_params(f: &Function) -> Vec<TokenStream> {
    f.params
        .iter()
        .map(|p| {
            let n = names::value_name(&p.name);
            let t = lifted::lifted_type(&p.ty);
            quote!(#n: #t)
        })
        .collect()
}

/// The lifted result of a callback as `PluginInstance` returns it; `None` for callbacks a host does not
/// call through an instance (the allocator, which returns a guest address).
pub(crate) fn instance_return(f: &Function) -> Option<TokenStream> {
    match &f.result {
        Results::Value {
            ty: ValueType::GuestPointer(_),
            ..
        } => None,
        result => Some(
            lifted::callback_result_type(result)
                .ok()?
                .unwrap_or(quote!(())),
        ),
    }
}

/// The `exports.rs` file. The `Callbacks` trait covers the callbacks of every version (each as the
/// newest version describes it), so one dispatcher compiles for all; the shims export this version's
/// callbacks only, and pass a parameter this version lacks as zero (`false`, `0`).
pub fn emit(abi: &Abi, all: &[Abi], options: &Options) -> Result<TokenStream, EmitError> {
    let dispatcher = super::option_path("exports.rs", "dispatcher", &options.dispatcher)?;
    let newest = callbacks_of_every_version(all, options);
    let mut methods = Vec::new();
    for f in &newest {
        let name = names::value_name(&f.name);
        let docs = function_docs(f);
        let availability = super::doc_attrs(&format!(
            "\nExported in ABI {}.",
            super::versions_having(all, f)
        ));
        let lifted_params = f
            .params
            .iter()
            .map(|p| {
                let n = names::value_name(&p.name);
                let t = lifted::callback_param_type(&p.ty)?;
                Ok(quote!(#n: #t))
            })
            .collect::<Result<Vec<_>, &str>>()
            .map_err(|message| unsupported(abi, f, message))?;
        let lifted_ret = match lifted::callback_result_type(&f.result)
            .map_err(|message| unsupported(abi, f, message))?
        {
            Some(t) => quote!(-> #t),
            None => quote!(),
        };
        methods.push(quote! {
            #docs
            #availability
            fn #name(#( #lifted_params ),*) #lifted_ret;
        });
    }

    let mut shims = Vec::new();
    for (f, marker) in emitted_exports(abi, options) {
        let name = names::value_name(&f.name);
        let docs = function_docs(f);
        if marker {
            shims.push(quote! {
                #docs
                #[no_mangle]
                pub extern "C" fn #name() {}
            });
            continue;
        }
        let described = newest
            .iter()
            .find(|n| n.name == f.name)
            .ok_or_else(|| unsupported(abi, f, "missing from the union of callbacks"))?;
        if let Some(extra) = f
            .params
            .iter()
            .find(|p| !described.params.iter().any(|q| q.name == p.name))
        {
            return Err(unsupported(
                abi,
                f,
                &format!(
                    "parameter `{}` is missing from the newest version's description",
                    extra.name
                ),
            ));
        }
        let lowering::callback::ExportShim {
            raw_params,
            args,
            raw_result,
            lower_result,
        } = lowering::callback::export_shim(f, described, &quote!(super::))
            .map_err(|message| unsupported(abi, f, message))?;
        shims.push(quote! {
            #docs
            #[no_mangle]
            pub extern "C" fn #name(#( #raw_params ),*) #raw_result {
                let call = <#dispatcher as super::Callbacks>::#name(#( #args ),*);
                #lower_result
            }
        });
    }
    Ok(quote! {
        /// The callbacks a plugin exports, in lifted types, for every ABI version. The export shims call
        /// the dispatcher's implementation; on native targets an in-process host calls it directly.
        /// Enumeration arguments arrive as `Result`, because the host may send a value the version does
        /// not define.
        pub trait Callbacks {
            #( #methods )*
        }

        /// The `#[no_mangle]` exports the host calls (wasm32 only).
        #[cfg(target_arch = "wasm32")]
        pub mod export_shims {
            #( #shims )*
        }
    })
}
