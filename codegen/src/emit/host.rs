//! Emits the host side: one trait per host wasm module with one method per host function, in lifted Rust
//! types, and (on native targets) the slot that holds the host the raw imports call.
//!
//! Only modules whose every function lowers to by-value scalars, byte strings and status outputs get a
//! trait (today: `env`). WASI functions take raw guest pointers; plugins reach WASI through the Rust
//! standard library, never through these bindings.

use super::{function_docs, unsupported, EmitError};
use crate::lowering::lifted;
use crate::model::{Abi, Function, Results};
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

/// The host modules that get a trait and native glue, with their functions.
pub(crate) fn host_modules(abi: &Abi) -> Vec<(&str, Vec<&Function>)> {
    abi.import_modules()
        .into_iter()
        .map(|m| (m, abi.imports_from(m).collect::<Vec<_>>()))
        .filter(|(_, fs)| fs.iter().all(|f| lifted::host_liftable(f)))
        .collect()
}

/// The status enumeration of a host function.
pub(crate) fn status_of<'a>(abi: &Abi, f: &'a Function) -> Result<&'a str, EmitError> {
    match &f.result {
        Results::Status { status, .. } => Ok(status),
        _ => Err(unsupported(abi, f, "a host function must return a status")),
    }
}

/// The host modules of every version, each with the union of its functions over the versions (the
/// newest description of each). A function whose core signature differs between versions is an error:
/// one trait method could not serve both.
pub(crate) fn host_modules_union(all: &[Abi]) -> Result<Vec<(String, Vec<&Function>)>, EmitError> {
    let mut modules: Vec<String> = all
        .iter()
        .flat_map(|abi| host_modules(abi).into_iter().map(|(m, _)| m.to_string()))
        .collect();
    modules.sort();
    modules.dedup();
    let mut out = Vec::new();
    for module in modules {
        let functions = super::union(all, |abi| {
            host_modules(abi)
                .into_iter()
                .filter(|(m, _)| *m == module)
                .flat_map(|(_, fs)| fs)
                .collect()
        });
        for f in &functions {
            for abi in all {
                if let Some(other) = abi.import(&f.module, &f.name) {
                    if other.core_params() != f.core_params()
                        || other.core_results() != f.core_results()
                    {
                        return Err(unsupported(
                            abi,
                            other,
                            "its core signature differs between versions; one host method cannot serve both",
                        ));
                    }
                }
            }
        }
        out.push((module, functions));
    }
    Ok(out)
}

/// The `host.rs` file.
pub fn emit(abi: &Abi, all: &[Abi]) -> Result<TokenStream, EmitError> {
    let mut traits = Vec::new();
    let mut slots = Vec::new();
    for (module, functions) in host_modules_union(all)? {
        let module = module.as_str();
        let trait_name = names::host_trait(module);
        let mut methods = Vec::new();
        let mut status_ty = None;
        for f in &functions {
            let status = names::type_name(status_of(abi, f)?);
            let Results::Status { outputs, .. } = &f.result else {
                unreachable!("checked by status_of")
            };
            let docs = function_docs(f);
            let availability = super::doc_attrs(&format!(
                "\nAvailable in ABI {}.",
                super::versions_having(all, f)
            ));
            let name = names::value_name(&f.name);
            let params = f.params.iter().map(|p| {
                let n = names::value_name(&p.name);
                let t = lifted::lifted_type(&p.ty);
                quote!(#n: #t)
            });
            let ok = lifted::lifted_ok(outputs);
            methods.push(quote! {
                #docs
                #availability
                fn #name(&mut self, #( #params ),*) -> Result<#ok, #status>;
            });
            status_ty = Some(status);
        }
        let trait_doc = format!(
            " The functions a host provides to plugins in wasm module `{module}`, one method per function, \
             in lifted Rust types, for every ABI version (the raw imports of a version never call a method \
             that version lacks). A new function in the spec adds a method here, so every implementation \
             stops compiling until it handles it."
        );
        traits.push(quote! {
            #[doc = #trait_doc]
            pub trait #trait_name {
                #( #methods )*
            }
        });
        if let Some(status) = status_ty {
            slots.push(native_slot(module, &trait_name, &status));
        }
    }
    Ok(quote! {
        #( #traits )*

        /// On native targets, the host the raw imports call: the seam for a host that runs the plugin in
        /// its own process (the `proxywasm-emulator` crate's emulator, for tests). Such a host installs
        /// its implementation of the host trait for the current thread (`install_env_host`), gives the
        /// allocator of buffers it hands back (`set_guest_allocator`), and removes itself when done
        /// (`take_env_host`). With no host installed, every hostcall answers `internal_failure`.
        #[cfg(not(target_arch = "wasm32"))]
        pub mod native_host {
            use std::cell::{Cell, RefCell};

            thread_local! {
                static GUEST_ALLOCATOR: Cell<Option<fn(usize) -> *mut u8>> = const { Cell::new(None) };
            }

            /// Sets the function that allocates guest memory for buffers the host hands back (the
            /// plugin's allocator callback).
            pub fn set_guest_allocator(allocate: fn(usize) -> *mut u8) {
                GUEST_ALLOCATOR.with(|a| a.set(Some(allocate)));
            }

            /// Borrows `len` bytes at `ptr`; `None` when the pointer is null but the length is not 0.
            ///
            /// # Safety
            /// A non-null `ptr` must be valid for reads of `len` bytes for `'a`.
            pub unsafe fn guest_bytes<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
                if len == 0 {
                    Some(&[])
                } else if ptr.is_null() {
                    None
                } else {
                    Some(unsafe { core::slice::from_raw_parts(ptr, len) })
                }
            }

            /// Copies `bytes` into memory from the guest allocator and writes its address and length
            /// through the two out-pointers; `None` when an out-pointer is null or allocation fails.
            ///
            /// # Safety
            /// Non-null out-pointers must be valid for writes.
            pub unsafe fn write_buffer(data: *mut *mut u8, size: *mut usize, bytes: Vec<u8>) -> Option<()> {
                if data.is_null() || size.is_null() {
                    return None;
                }
                let ptr = if bytes.is_empty() {
                    core::ptr::null_mut()
                } else {
                    let allocate = GUEST_ALLOCATOR.with(|a| a.get())?;
                    let ptr = allocate(bytes.len());
                    if ptr.is_null() {
                        return None;
                    }
                    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
                    ptr
                };
                unsafe {
                    data.write_unaligned(ptr);
                    size.write_unaligned(bytes.len());
                }
                Some(())
            }

            /// Writes `value` through an out-pointer; `None` when it is null.
            ///
            /// # Safety
            /// A non-null `ptr` must be valid for writes.
            pub unsafe fn write_value<T>(ptr: *mut T, value: T) -> Option<()> {
                if ptr.is_null() {
                    return None;
                }
                unsafe { ptr.write_unaligned(value) };
                Some(())
            }

            #( #slots )*
        }
    })
}

fn native_slot(
    module: &str,
    trait_name: &proc_macro2::Ident,
    status: &proc_macro2::Ident,
) -> TokenStream {
    let slot = names::const_name(&format!("{module}_host"));
    let install = names::value_name(&format!("install_{module}_host"));
    let take = names::value_name(&format!("take_{module}_host"));
    let call = names::value_name(&format!("call_{module}"));
    let install_doc = format!(
        " Installs the host of wasm module `{module}` for this thread; returns the previous one."
    );
    let take_doc =
        format!(" Removes the host of wasm module `{module}` for this thread and returns it.");
    let call_doc = format!(
        " Runs a raw call against this thread's `{module}` host: 0 when `call` succeeds, its status code \
         when it fails, `internal_failure` when no host is installed or the host is already busy (a \
         reentrant call)."
    );
    quote! {
        thread_local! {
            static #slot: RefCell<Option<Box<dyn super::#trait_name>>> = const { RefCell::new(None) };
        }

        #[doc = #install_doc]
        pub fn #install(host: Box<dyn super::#trait_name>) -> Option<Box<dyn super::#trait_name>> {
            #slot.with(|slot| slot.borrow_mut().replace(host))
        }

        #[doc = #take_doc]
        pub fn #take() -> Option<Box<dyn super::#trait_name>> {
            #slot.with(|slot| slot.borrow_mut().take())
        }

        #[doc = #call_doc]
        pub fn #call(call: impl FnOnce(&mut dyn super::#trait_name) -> Result<(), u32>) -> u32 {
            #slot.with(|slot| match slot.try_borrow_mut() {
                Ok(mut slot) => match slot.as_deref_mut() {
                    Some(host) => match call(host) {
                        Ok(()) => 0,
                        Err(code) => code,
                    },
                    None => super::#status::InternalFailure as u32,
                },
                Err(_) => super::#status::InternalFailure as u32,
            })
        }
    }
}
