//! Emits the wasm runner's glue (`runner.rs`, part of the host crate `proxywasm-emulator`): the
//! host side of one ABI version for `wasmtime`, derived from the same model as the guest bindings.
//!
//! - `add_to_linker` registers every import of the version. Functions of a module with a host trait
//!   (`env`) lift their arguments out of guest memory, call the trait, and lower the outputs back (host
//!   buffers through the guest's allocator). Functions of other modules (WASI) call a generated trait in
//!   raw core-wasm types, which the hand-written support module implements.
//! - `GuestExports` holds the version's exports as typed functions, and `WasmInstance` implements the
//!   `PluginInstance` trait on them, so the host emulator drives a `.wasm` module exactly as it drives a
//!   plugin compiled into the test.

use super::exports::{callbacks_of_every_version, instance_params, instance_return};
use super::host::{host_modules, host_modules_union, status_of};
use super::{function_docs, output_stem, raw_out_params, raw_params, unsupported, EmitError};
use crate::model::{Abi, CoreType, Function, IntType, Output, Results, ValueType};
use crate::names;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The Rust type wasmtime passes for one core value of a parameter.
fn core_rust(ty: &ValueType) -> TokenStream {
    match ty {
        ValueType::Int {
            repr: IntType::S32, ..
        } => quote!(i32),
        ValueType::Int {
            repr: IntType::S64, ..
        } => quote!(i64),
        ValueType::Int {
            repr: IntType::U64, ..
        } => quote!(u64),
        _ => quote!(u32),
    }
}

fn core_result_rust(ty: CoreType) -> TokenStream {
    match ty {
        CoreType::I32 => quote!(u32),
        CoreType::I64 => quote!(u64),
        CoreType::F32 => quote!(f32),
        CoreType::F64 => quote!(f64),
    }
}

/// The raw parameters of an import as wasmtime passes them: names and Rust types.
fn wasm_params(f: &Function) -> Vec<(Ident, TokenStream)> {
    let mut out = Vec::new();
    for p in &f.params {
        let ty = core_rust(&p.ty);
        for raw in raw_params(p) {
            out.push((raw.name, ty.clone()));
        }
    }
    if let Results::Status { outputs, .. } = &f.result {
        for raw in raw_out_params(outputs) {
            out.push((raw.name, quote!(u32)));
        }
    }
    out
}

/// The `runner.rs` file.
pub fn emit(abi: &Abi, all: &[Abi], options: &super::Options) -> Result<TokenStream, EmitError> {
    let support_path = super::option_path("runner.rs", "support", &options.runner_support)?;
    let support: syn::Path = syn::parse_quote!(runner_support);
    let failure = super::option_path("runner.rs", "failure", &options.callback_failure)?;
    let traited: Vec<String> = host_modules(abi)
        .into_iter()
        .map(|(m, _)| m.to_string())
        .collect();

    let mut registrations = Vec::new();
    for f in &abi.imports {
        let module = f.module.as_str();
        let name = f.name.as_str();
        let params: Vec<_> = wasm_params(f)
            .into_iter()
            .map(|(n, t)| quote!(#n: #t))
            .collect();
        let body = if traited.iter().any(|m| m == module) {
            host_trait_body(abi, f, &support)?
        } else {
            raw_trait_body(f, &support)
        };
        let ret = match f.core_results().as_slice() {
            [] => quote!(()),
            [one] => core_result_rust(*one),
            _ => return Err(unsupported(abi, f, "an import with several core results")),
        };
        registrations.push(quote! {
            linker.func_wrap(
                #module,
                #name,
                |mut caller: wasmtime::Caller<'_, #support::StoreData>, #( #params ),*| -> wasmtime::Result<#ret> {
                    #body
                },
            )?;
        });
    }

    let raw_traits = raw_module_traits(abi, all, &support)?;
    let (exports_struct, instance) = guest_exports(abi, all, options, &support, &failure)?;
    let doc = format!(
        " Registers every function ABI {} lets a plugin import, for the emulator behind the store's data.",
        abi.version
    );
    Ok(quote! {
        use #support_path as runner_support;

        #[doc = #doc]
        pub fn add_to_linker(linker: &mut wasmtime::Linker<#support::StoreData>) -> wasmtime::Result<()> {
            #( #registrations )*
            Ok(())
        }

        #raw_traits
        #exports_struct
        #instance
    })
}

/// The body of an import whose module has a host trait: lift, call, lower.
fn host_trait_body(abi: &Abi, f: &Function, support: &syn::Path) -> Result<TokenStream, EmitError> {
    let status = names::type_name(status_of(abi, f)?);
    let Results::Status { outputs, .. } = &f.result else {
        return Err(unsupported(abi, f, "a host function must return a status"));
    };
    let bad_argument = names::variant_name("bad_argument");
    let invalid_memory = names::variant_name("invalid_memory_access");
    let fail =
        |variant: &Ident| quote!(#support::GlueError::Status(super::#status::#variant as u32));
    let bad = fail(&bad_argument);
    let invalid = fail(&invalid_memory);

    let mut lifts = Vec::new();
    let mut args = Vec::new();
    for p in &f.params {
        let n = names::value_name(&p.name);
        match &p.ty {
            ValueType::Int { repr, .. } => match repr {
                IntType::Usize => lifts.push(quote! { let #n = #n as usize; }),
                IntType::U8 => lifts.push(quote! { let #n = u8::try_from(#n).map_err(|_| #bad)?; }),
                IntType::U16 => {
                    lifts.push(quote! { let #n = u16::try_from(#n).map_err(|_| #bad)?; })
                }
                _ => {}
            },
            ValueType::Bool => lifts.push(quote! { let #n = #n != 0; }),
            ValueType::Enum(e) => {
                let e = names::type_name(e);
                lifts.push(quote! { let #n = super::#e::try_from(#n).map_err(|_| #bad)?; });
            }
            ValueType::Bytes(_) => {
                let data = names::lowered(&p.name, "data");
                let size = names::lowered(&p.name, "size");
                lifts.push(quote! {
                    let #n = #support::read_bytes(caller, #data, #size).ok_or(#invalid)?;
                });
            }
            ValueType::GuestPointer(_) => {
                return Err(unsupported(
                    abi,
                    f,
                    "a host-trait function takes a guest pointer",
                ))
            }
        }
        args.push(match &p.ty {
            ValueType::Bytes(_) => quote!(&#n),
            _ => quote!(#n),
        });
    }
    let results: Vec<_> = (0..outputs.len())
        .map(|i| format_ident!("out_{}", i))
        .collect();
    let bind = match results.as_slice() {
        [] => quote!(()),
        [one] => quote!(#one),
        many => quote!(( #( #many ),* )),
    };
    let writes = outputs.iter().enumerate().map(|(i, o)| {
        let value = &results[i];
        let stem = output_stem(outputs, i);
        match o {
            Output::HostBuffer => {
                let data = format_ident!("return_{}_data", stem);
                let size = format_ident!("return_{}_size", stem);
                quote! {
                    #support::write_buffer(caller, #data, #size, #value)?.ok_or(#invalid)?;
                }
            }
            Output::Value(v) => {
                let ptr = format_ident!("return_{}", stem);
                let lowered = match v {
                    ValueType::Enum(_) => quote!(u32::from(#value)),
                    _ => quote!(#value),
                };
                quote! {
                    #support::write_value(caller, #ptr, #lowered).ok_or(#invalid)?;
                }
            }
        }
    });
    let method = names::value_name(&f.name);
    Ok(quote! {
        #support::finish((|| -> Result<(), #support::GlueError> {
            let caller = &mut caller;
            #( #lifts )*
            let #bind = caller
                .data_mut()
                .env_host()
                .#method(#( #args ),*)
                .map_err(|status| #support::GlueError::Status(u32::from(status)))?;
            #( #writes )*
            Ok(())
        })())
    })
}

/// The body of an import of a module without a host trait: hand the raw values to the support module.
fn raw_trait_body(f: &Function, support: &syn::Path) -> TokenStream {
    let trait_name = names::host_trait(&f.module);
    let method = names::value_name(&f.name);
    let args = wasm_params(f).into_iter().map(|(n, _)| n);
    quote! {
        <#support::StoreData as #trait_name>::#method(&mut caller, #( #args ),*)
    }
}

/// One trait per import module without a host trait, over every version's functions of that module,
/// in raw core-wasm types; the support module implements them for its store data.
fn raw_module_traits(
    abi: &Abi,
    all: &[Abi],
    support: &syn::Path,
) -> Result<TokenStream, EmitError> {
    let traited: Vec<String> = host_modules_union(all)?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    let mut modules: Vec<String> = all
        .iter()
        .flat_map(|a| a.import_modules().into_iter().map(str::to_string))
        .filter(|m| !traited.contains(m))
        .collect();
    modules.sort();
    modules.dedup();
    let mut traits = Vec::new();
    for module in modules {
        let functions = super::union(all, |a| a.imports_from(&module).collect());
        let trait_name = names::host_trait(&module);
        let mut methods = Vec::new();
        for f in functions {
            let name = names::value_name(&f.name);
            let docs = function_docs(f);
            let params = wasm_params(f).into_iter().map(|(n, t)| quote!(#n: #t));
            let ret = match f.core_results().as_slice() {
                [] => quote!(()),
                [one] => core_result_rust(*one),
                _ => return Err(unsupported(abi, f, "an import with several core results")),
            };
            methods.push(quote! {
                #docs
                fn #name(caller: &mut wasmtime::Caller<'_, #support::StoreData>, #( #params ),*) -> wasmtime::Result<#ret>;
            });
        }
        let doc = format!(
            " The functions of wasm module `{module}` for every ABI version, in raw core-wasm values \
             (addresses are offsets into the guest's memory); the runner's support module implements \
             them."
        );
        traits.push(quote! {
            #[doc = #doc]
            pub trait #trait_name {
                #( #methods )*
            }
        });
    }
    Ok(quote! { #( #traits )* })
}

/// The Rust types of a function's core parameters, as a wasmtime parameter tuple.
fn params_tuple(f: &Function) -> TokenStream {
    let tys: Vec<_> = f
        .params
        .iter()
        .flat_map(|p| {
            let t = core_rust(&p.ty);
            p.ty.core_types().into_iter().map(move |_| t.clone())
        })
        .collect();
    quote!(( #( #tys, )* ))
}

fn results_type(abi: &Abi, f: &Function) -> Result<TokenStream, EmitError> {
    Ok(match f.core_results().as_slice() {
        [] => quote!(()),
        [one] => core_result_rust(*one),
        _ => return Err(unsupported(abi, f, "an export with several core results")),
    })
}

/// `GuestExports` (the version's exports as typed functions) and `WasmInstance` (the
/// `PluginInstance` implementation over them).
fn guest_exports(
    abi: &Abi,
    all: &[Abi],
    options: &super::Options,
    support: &syn::Path,
    failure: &syn::Path,
) -> Result<(TokenStream, TokenStream), EmitError> {
    let group = |family: &str| {
        abi.required_exports
            .iter()
            .find(|g| g.family == family)
            .map(|g| g.names.clone())
            .unwrap_or_default()
    };
    let allocators = group("allocator");
    let entries = group("entry");
    if allocators.is_empty() || entries.is_empty() {
        return Err(EmitError::Unsupported {
            version: abi.version.to_string(),
            function: "plugin".into(),
            message: "the runner needs the required `allocator` and `entry` export groups".into(),
        });
    }

    let mut fields = Vec::new();
    let mut lookups = Vec::new();
    for f in &abi.exports {
        let marker = f.required && f.params.is_empty() && matches!(f.result, Results::None);
        if marker && !entries.contains(&f.name) {
            continue;
        }
        let field = format_ident!("{}", f.name);
        let params = params_tuple(f);
        let results = results_type(abi, f)?;
        let name = f.name.as_str();
        let doc = format!(" `{name}`, when the module exports it.");
        fields.push(quote! {
            #[doc = #doc]
            pub #field: Option<wasmtime::TypedFunc<#params, #results>>
        });
        lookups.push(quote! {
            #field: instance.get_typed_func::<#params, #results>(&mut *store, #name).ok()
        });
    }
    let allocator_fields = allocators.iter().map(|n| format_ident!("{}", n));
    let entry_fields = entries.iter().map(|n| format_ident!("{}", n));
    let allocator_doc = format!(
        " The allocator the host calls to hand buffers to the guest: the first of {} that the module \
         exports.",
        allocators.join(", ")
    );
    let entry_doc = format!(
        " The entry point the host calls once after instantiation: the first of {} that the module \
         exports.",
        entries.join(", ")
    );
    let exports_struct = quote! {
        /// The exports of a plugin module that the host calls, as typed functions (`None` when the module
        /// does not export one; the conformance audit has already checked the signatures of those it does).
        #[derive(Clone)]
        pub struct GuestExports {
            #( #fields, )*
        }

        impl GuestExports {
            /// Looks up every export of the version in `instance`.
            pub fn new(store: &mut wasmtime::Store<#support::StoreData>, instance: &wasmtime::Instance) -> Self {
                GuestExports {
                    #( #lookups, )*
                }
            }

            #[doc = #allocator_doc]
            pub fn allocator(&self) -> Option<wasmtime::TypedFunc<(u32,), u32>> {
                None #( .or(self.#allocator_fields.clone()) )*
            }

            #[doc = #entry_doc]
            pub fn entry(&self) -> Option<wasmtime::TypedFunc<(), ()>> {
                None #( .or(self.#entry_fields.clone()) )*
            }
        }
    };

    let newest = callbacks_of_every_version(all, options);
    let mut methods = Vec::new();
    for described in newest {
        let Some(ret) = instance_return(described) else {
            continue;
        };
        let name = names::value_name(&described.name);
        let callback = described.name.as_str();
        let params = instance_params(described);
        let Some(here) = abi.export(&described.name) else {
            methods.push(quote! {
                #[allow(unused_variables)]
                fn #name(&mut self, #( #params ),*) -> Result<Option<#ret>, #failure> {
                    Ok(None)
                }
            });
            continue;
        };
        let field = format_ident!("{}", here.name);
        let args = here.params.iter().map(|p| {
            let n = names::value_name(&p.name);
            match &p.ty {
                ValueType::Int {
                    repr: IntType::Usize,
                    ..
                } => quote!(#n as u32),
                ValueType::Int {
                    repr: IntType::U8 | IntType::U16,
                    ..
                } => quote!(u32::from(#n)),
                ValueType::Bool | ValueType::Enum(_) => quote!(u32::from(#n)),
                _ => quote!(#n),
            }
        });
        let lift = match &here.result {
            Results::None => quote!(let value = raw;),
            Results::Value { ty, .. } => match ty {
                ValueType::Enum(e) => {
                    let e = names::type_name(e);
                    quote! {
                        let value = super::#e::try_from(raw)
                            .map_err(|_| #failure::bad_result(#callback, u64::from(raw)))?;
                    }
                }
                ValueType::Bool => quote!(let value = raw != 0;),
                ValueType::Int {
                    repr: IntType::Usize,
                    ..
                } => quote!(let value = raw as usize;),
                _ => quote!(let value = raw;),
            },
            Results::Status { .. } => {
                return Err(unsupported(abi, here, "a callback cannot return a status"))
            }
        };
        let unused = described
            .params
            .iter()
            .filter(|p| !here.params.iter().any(|q| q.name == p.name))
            .map(|p| names::value_name(&p.name));
        methods.push(quote! {
            #[allow(clippy::cast_possible_truncation, clippy::unnecessary_cast)]
            fn #name(&mut self, #( #params ),*) -> Result<Option<#ret>, #failure> {
                #( let _ = #unused; )*
                let Some(function) = &self.exports.#field else {
                    return Ok(None);
                };
                let raw = function
                    .call(&mut self.store, ( #( #args, )* ))
                    .map_err(|error| #failure::trapped(#callback, error))?;
                #lift
                Ok(Some(value))
            }
        });
    }
    let instance = quote! {
        /// An instantiated plugin module with its store: what the host emulator drives in wasm mode.
        pub struct WasmInstance {
            /// The store: the emulator's host state and the guest's memory.
            pub store: wasmtime::Store<#support::StoreData>,
            /// The module's exports.
            pub exports: GuestExports,
        }

        impl super::PluginInstance for WasmInstance {
            #( #methods )*
        }
    };
    Ok((exports_struct, instance))
}
