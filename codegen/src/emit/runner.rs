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
use super::{function_docs, unsupported, EmitError};
use crate::lowering;
use crate::model::{Abi, CoreType, Function, Results};
use crate::names;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

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
    lowering::function_slots(f)
        .into_iter()
        .map(|s| (names::value_name(&s.name), s.kind.wasmtime_type()))
        .collect()
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

    let mut runner = RunnerGlue {
        support,
        bad: &bad,
        invalid: &invalid,
    };
    let lowering::HostCallParts {
        lifts,
        args,
        bind,
        stores: writes,
    } = lowering::host_callee(&f.params, outputs, &mut runner)
        .map_err(|message| unsupported(abi, f, message))?;
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
        .flat_map(lowering::param_slots)
        .map(|s| s.kind.wasmtime_type())
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
        if f.is_marker() && !entries.contains(&f.name) {
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
        let undefined = quote!(#failure::bad_result(#callback, u64::from(raw)));
        let lowering::callback::WasmCall { args, unused, lift } =
            lowering::callback::wasm_call(here, described, &quote!(super::), &undefined)
                .map_err(|message| unsupported(abi, here, message))?;
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

/// The wasm runner's primitives: raw values arrive as wasmtime passes them (`u32` addresses and sizes
/// into the guest's memory), and bytes are copied out of guest memory.
struct RunnerGlue<'a> {
    support: &'a syn::Path,
    bad: &'a TokenStream,
    invalid: &'a TokenStream,
}

impl lowering::HostCallee for RunnerGlue<'_> {
    type Error = &'static str;

    fn raw(&self) -> lowering::Raw {
        lowering::Raw::Wasmtime
    }

    fn types(&self) -> TokenStream {
        quote!(super::)
    }

    fn bad_argument(&self) -> TokenStream {
        self.bad.clone()
    }

    fn lift_bytes(&mut self, n: &Ident, data: &Ident, size: &Ident) -> TokenStream {
        let (support, invalid) = (self.support, self.invalid);
        quote! {
            let #n = #support::read_bytes(caller, #data, #size).ok_or(#invalid)?;
        }
    }

    fn bytes_arg(&mut self, n: &Ident) -> TokenStream {
        quote!(&#n)
    }

    fn pass_guest_pointer(&mut self, _: &Ident) -> Result<(), Self::Error> {
        Err("a host-trait function takes a guest pointer")
    }

    fn store_buffer(&mut self, value: &Ident, data: &Ident, size: &Ident) -> TokenStream {
        let (support, invalid) = (self.support, self.invalid);
        quote! {
            #support::write_buffer(caller, #data, #size, #value)?.ok_or(#invalid)?;
        }
    }

    fn store_value(&mut self, lowered: TokenStream, ptr: &Ident) -> TokenStream {
        let (support, invalid) = (self.support, self.invalid);
        quote! {
            #support::write_value(caller, #ptr, #lowered).ok_or(#invalid)?;
        }
    }
}
