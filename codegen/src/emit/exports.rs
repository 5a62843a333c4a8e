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

use super::{function_docs, int_type, raw_params, unsupported, EmitError, Options};
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
        .map(|f| {
            let marker = f.required && f.params.is_empty() && matches!(f.result, Results::None);
            (f, marker)
        })
        .collect()
}

/// The lifted result of a callback as `PluginInstance` returns it; `None` for callbacks a host does not
/// call through an instance (the allocator, which returns a guest address).
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
            let t = super::host::lifted_param(&p.ty);
            quote!(#n: #t)
        })
        .collect()
}

pub(crate) fn instance_return(f: &Function) -> Option<TokenStream> {
    match &f.result {
        Results::None => Some(quote!(())),
        Results::Value { ty, .. } => match ty {
            ValueType::Enum(e) => {
                let e = names::type_name(e);
                Some(quote!(#e))
            }
            ValueType::Int { repr, .. } => Some(int_type(*repr)),
            ValueType::Bool => Some(quote!(bool)),
            _ => None,
        },
        Results::Status { .. } => None,
    }
}

fn lifted_callback_param(ty: &ValueType) -> TokenStream {
    match ty {
        ValueType::Enum(e) => {
            let e = names::type_name(e);
            quote!(Result<#e, UnknownEnumValue>)
        }
        other => super::host::lifted_param(other),
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
        if f.params.iter().any(|p| matches!(p.ty, ValueType::Bytes(_))) {
            return Err(unsupported(abi, f, "a callback cannot take bytes"));
        }
        let name = names::value_name(&f.name);
        let docs = function_docs(f);
        let availability = super::doc_attrs(&format!(
            "\nExported in ABI {}.",
            super::versions_having(all, f)
        ));
        let lifted_params = f.params.iter().map(|p| {
            let n = names::value_name(&p.name);
            let t = lifted_callback_param(&p.ty);
            quote!(#n: #t)
        });
        let lifted_ret = match &f.result {
            Results::None => quote!(),
            Results::Value { ty, .. } => match ty {
                ValueType::Enum(e) => {
                    let e = names::type_name(e);
                    quote!(-> #e)
                }
                ValueType::Int { repr, .. } => {
                    let t = int_type(*repr);
                    quote!(-> #t)
                }
                ValueType::GuestPointer(_) => quote!(-> *mut u8),
                _ => return Err(unsupported(abi, f, "unsupported callback result")),
            },
            Results::Status { .. } => {
                return Err(unsupported(abi, f, "a callback cannot return a status"))
            }
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
        let raw_decl = f.params.iter().flat_map(raw_params).map(|p| {
            let (n, t) = (p.name, p.ty);
            quote!(#n: #t)
        });
        let args = described.params.iter().map(|p| {
            let n = names::value_name(&p.name);
            let here = f.params.iter().any(|q| q.name == p.name);
            match (&p.ty, here) {
                (ValueType::Bool, true) => quote!(#n != 0),
                (ValueType::Bool, false) => quote!(false),
                (ValueType::Enum(e), here) => {
                    let e = names::type_name(e);
                    let raw = if here { quote!(#n) } else { quote!(0) };
                    quote!(super::#e::try_from(#raw))
                }
                (_, true) => quote!(#n),
                (_, false) => quote!(0),
            }
        });
        let (raw_ret, lower) = match &f.result {
            Results::Value {
                ty: ValueType::Enum(_),
                ..
            } => (quote!(-> u32), quote!(u32::from(call))),
            Results::Value {
                ty: ValueType::Int { repr, .. },
                ..
            } => {
                let t = int_type(*repr);
                (quote!(-> #t), quote!(call))
            }
            Results::Value {
                ty: ValueType::GuestPointer(_),
                ..
            } => (quote!(-> *mut u8), quote!(call)),
            _ => (quote!(), quote!(call)),
        };
        shims.push(quote! {
            #docs
            #[no_mangle]
            pub extern "C" fn #name(#( #raw_decl ),*) #raw_ret {
                let call = <#dispatcher as super::Callbacks>::#name(#( #args ),*);
                #lower
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
