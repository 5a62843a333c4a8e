//! Emits the raw guest imports: one module per host wasm module, with the same `unsafe` functions on
//! every target. On wasm32 they are `extern "C"` imports; elsewhere each one lifts its arguments, calls
//! the host installed in `native_host` and lowers the results, exactly as a host would.

use super::host::{host_modules_union, status_of};
use super::{doc_attrs, function_docs, raw_out_params, raw_params, EmitError};
use crate::lowering;
use crate::model::{Abi, Function, Output, Results};
use crate::names;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The status cases the native glue reports by itself.
const GLUE_STATUSES: [&str; 4] = [
    "bad_argument",
    "invalid_memory_access",
    "internal_failure",
    "unimplemented",
];

/// The `imports.rs` file. Functions other versions define but `abi` lacks become local stubs that
/// return `unimplemented` (the status a host gives for a hostcall it does not implement), so code calling
/// them compiles for every version and learns at run time that the operation is missing.
pub fn emit(abi: &Abi, all: &[Abi]) -> Result<TokenStream, EmitError> {
    let mut modules = Vec::new();
    for (module, functions) in host_modules_union(all)? {
        let module = module.as_str();
        let mod_name = names::import_module(module);
        let mut decls = Vec::new();
        let mut glue = Vec::new();
        let mut stubs = Vec::new();
        let mut safe = Vec::new();
        for f in functions {
            let present = abi.import(module, &f.name).is_some();
            let docs = function_docs(f);
            let name = names::value_name(&f.name);
            let Results::Status { outputs, .. } = &f.result else {
                return Err(super::unsupported(
                    abi,
                    f,
                    "a host function must return a status",
                ));
            };
            let params: Vec<_> = f
                .params
                .iter()
                .flat_map(raw_params)
                .chain(raw_out_params(outputs))
                .map(|p| {
                    let (n, t) = (p.name, p.ty);
                    quote!(#n: #t)
                })
                .collect();
            let status = names::type_name(status_of(abi, f)?);
            check_glue_statuses(abi, f)?;
            safe.extend(safe_wrapper(f, outputs));
            if !present {
                let note = doc_attrs(&format!(
                    "\nABI {} does not define this function (ABI {} does): this local stub always returns \
                     `unimplemented` and imports nothing.",
                    abi.version,
                    super::versions_having(all, f)
                ));
                stubs.push(quote! {
                    #docs
                    #note
                    ///
                    /// # Safety
                    /// Always safe: the stub reads and writes nothing.
                    #[allow(unused_variables)]
                    #[inline(always)]
                    pub unsafe fn #name(#( #params ),*) -> u32 {
                        super::#status::Unimplemented as u32
                    }
                });
                continue;
            }
            decls.push(quote! {
                #docs
                pub fn #name(#( #params ),*) -> u32;
            });
            let body = glue_body(abi, module, f, outputs)?;
            glue.push(quote! {
                #docs
                ///
                /// # Safety
                /// Every pointer must be null or valid for the access its name says (reads of the
                /// given size, or a write of one value).
                pub unsafe fn #name(#( #params ),*) -> u32 {
                    #body
                }
            });
        }
        let mod_doc = doc_attrs(&format!(
            "Raw imports from wasm module `{module}`: core-wasm-shaped signatures, status codes as `u32`."
        ));
        modules.push(quote! {
            #mod_doc
            pub mod #mod_name {
                #[cfg(target_arch = "wasm32")]
                #[link(wasm_import_module = #module)]
                extern "C" {
                    #( #decls )*
                }

                #[cfg(not(target_arch = "wasm32"))]
                pub use self::native::*;

                #[cfg(not(target_arch = "wasm32"))]
                mod native {
                    #( #glue )*
                }

                #( #stubs )*

                /// The hostcalls of this module that are memory-safe to call: every argument is a
                /// value, a slice the caller owns, or a reference to a slot the host fills. Each one
                /// calls the raw function of the same name; bytes the host hands back stay raw
                /// addresses for the caller to check.
                pub mod safe {
                    #( #safe )*
                }
            }
        });
    }
    Ok(quote! { #( #modules )* })
}

/// The safe form of a hostcall ([`lowering::safe::safe_call`]), calling the raw function of the same
/// name; `None` when the hostcall has none.
fn safe_wrapper(f: &Function, outputs: &[Output]) -> Option<TokenStream> {
    let lowering::safe::SafeCall { params, args } = lowering::safe::safe_call(&f.params, outputs)?;
    let name = names::value_name(&f.name);
    let docs = doc_attrs(&format!(
        "{}\n\nThe safe form of [`{}`](super::{}).",
        f.docs.lines().next().unwrap_or_default(),
        f.name,
        f.name
    ));
    Some(quote! {
        #docs
        #[inline]
        pub fn #name(#( #params ),*) -> u32 {
            // SAFETY: every pointer comes from a slice or a reference the caller holds for the call.
            unsafe { super::#name(#( #args ),*) }
        }
    })
}

/// The native glue reports some statuses by itself: check the status enumeration has them, and that
/// success is 0.
fn check_glue_statuses(abi: &Abi, f: &Function) -> Result<(), EmitError> {
    let status_name = status_of(abi, f)?;
    let status_enum = abi
        .enumeration(status_name)
        .ok_or_else(|| super::unsupported(abi, f, "its status enumeration is not defined"))?;
    if !status_enum.cases.iter().any(|c| c.value == 0) {
        return Err(super::unsupported(
            abi,
            f,
            "its status enumeration has no success value 0",
        ));
    }
    for needed in GLUE_STATUSES {
        if status_enum.value_of(needed).is_none() {
            return Err(super::unsupported(
                abi,
                f,
                &format!("its status enumeration lacks `{needed}`, which the native glue reports"),
            ));
        }
    }
    Ok(())
}

fn glue_body(
    abi: &Abi,
    module: &str,
    f: &Function,
    outputs: &[Output],
) -> Result<TokenStream, EmitError> {
    let status = names::type_name(status_of(abi, f)?);
    let bad_argument = names::variant_name("bad_argument");
    let invalid_memory = names::variant_name("invalid_memory_access");

    let mut glue = NativeGlue {
        status: &status,
        bad_argument: &bad_argument,
        invalid_memory: &invalid_memory,
    };
    let lowering::HostCallParts {
        lifts,
        args,
        bind,
        stores: writes,
    } = lowering::host_callee(&f.params, outputs, &mut glue).map_err(|never| match never {})?;
    let call = names::value_name(&format!("call_{module}"));
    let method = names::value_name(&f.name);
    Ok(quote! {
        super::super::native_host::#call(|host| {
            #( #lifts )*
            let #bind = host.#method(#( #args ),*).map_err(u32::from)?;
            #( #writes )*
            Ok(())
        })
    })
}

/// The native glue's primitives: raw values arrive as the guest passed them (typed integers, real
/// pointers into this process), and bytes are read in place.
struct NativeGlue<'a> {
    status: &'a Ident,
    bad_argument: &'a Ident,
    invalid_memory: &'a Ident,
}

impl lowering::HostCallee for NativeGlue<'_> {
    type Error = std::convert::Infallible;

    fn raw(&self) -> lowering::Raw {
        lowering::Raw::Guest
    }

    fn types(&self) -> TokenStream {
        quote!(super::super::)
    }

    fn bad_argument(&self) -> TokenStream {
        let (status, bad) = (self.status, self.bad_argument);
        quote!(super::super::#status::#bad as u32)
    }

    fn lift_bytes(&mut self, n: &Ident, data: &Ident, size: &Ident) -> TokenStream {
        let (status, invalid) = (self.status, self.invalid_memory);
        quote! {
            let #n = unsafe { super::super::native_host::guest_bytes(#data, #size) }
                .ok_or(super::super::#status::#invalid as u32)?;
        }
    }

    fn bytes_arg(&mut self, n: &Ident) -> TokenStream {
        quote!(#n)
    }

    fn pass_guest_pointer(&mut self, _: &Ident) -> Result<(), Self::Error> {
        Ok(())
    }

    fn store_buffer(&mut self, value: &Ident, data: &Ident, size: &Ident) -> TokenStream {
        let (status, invalid) = (self.status, self.invalid_memory);
        quote! {
            unsafe { super::super::native_host::write_buffer(#data, #size, #value) }
                .ok_or(super::super::#status::#invalid as u32)?;
        }
    }

    fn store_value(&mut self, lowered: TokenStream, ptr: &Ident) -> TokenStream {
        let (status, invalid) = (self.status, self.invalid_memory);
        quote! {
            unsafe { super::super::native_host::write_value(#ptr, #lowered) }
                .ok_or(super::super::#status::#invalid as u32)?;
        }
    }
}
