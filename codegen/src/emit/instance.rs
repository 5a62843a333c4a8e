//! Emits the host's view of a plugin instance (`instance.rs`, part of the host crate
//! `proxywasm-emulator`): the `PluginInstance` trait, one method per callback of every version in lifted
//! types, and `InProcess`, which implements it over the guest SDK's `Callbacks` for a plugin compiled into
//! the host's process. The wasm runner (`runner.rs`) implements the same trait over a `.wasm` module.

use super::exports::{callbacks_of_every_version, instance_params, instance_return};
use super::{function_docs, EmitError, Options};
use crate::lowering::lifted;
use crate::model::Abi;
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

/// The `instance.rs` file. It names `Callbacks` and the enumerations unqualified: the host crate includes
/// it in a module that glob-imports the guest SDK's raw ABI.
pub fn emit(_abi: &Abi, all: &[Abi], options: &Options) -> Result<TokenStream, EmitError> {
    let failure = super::option_path("instance.rs", "failure", &options.callback_failure)?;
    let mut instance_methods = Vec::new();
    let mut in_process = Vec::new();
    for f in callbacks_of_every_version(all, options) {
        let Some(ret) = instance_return(f) else {
            continue;
        };
        let name = names::value_name(&f.name);
        let docs = function_docs(f);
        let availability = super::doc_attrs(&format!(
            "\nExported in ABI {}.",
            super::versions_having(all, f)
        ));
        let params = instance_params(f);
        let args = f.params.iter().map(|p| {
            let n = names::value_name(&p.name);
            lifted::callback_arg_from_host(&p.ty, &quote!(#n))
        });
        let callback = f.name.as_str();
        instance_methods.push(quote! {
            #docs
            #availability
            ///
            /// `Ok(None)` when the plugin does not export this callback.
            fn #name(&mut self, #( #params ),*) -> Result<Option<#ret>, #failure>;
        });
        in_process.push(quote! {
            fn #name(&mut self, #( #params ),*) -> Result<Option<#ret>, #failure> {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    <C as Callbacks>::#name(#( #args ),*)
                }))
                .map(Some)
                .map_err(|payload| #failure::panicked(#callback, payload))
            }
        });
    }
    Ok(quote! {
        /// One instance of a plugin as a host sees it: its callbacks, called with lifted arguments, each
        /// returning what the plugin answered, `Ok(None)` when the plugin does not export the callback,
        /// or why the call failed (a panic, a trap, a result the version does not define). The host
        /// emulator drives a plugin through this trait, whether the plugin runs in this process
        /// ([`InProcess`]) or as a `.wasm` module (the wasm runner).
        pub trait PluginInstance {
            #( #instance_methods )*
        }

        /// The plugin compiled into this process: calls the `Callbacks` implementation `C` directly and
        /// turns a panic into a failure naming the callback.
        pub struct InProcess<C>(core::marker::PhantomData<fn() -> C>);

        impl<C> InProcess<C> {
            /// The in-process instance of the plugin whose callbacks `C` implements.
            pub fn new() -> Self {
                InProcess(core::marker::PhantomData)
            }
        }

        impl<C> Default for InProcess<C> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<C: Callbacks> PluginInstance for InProcess<C> {
            #( #in_process )*
        }
    })
}
