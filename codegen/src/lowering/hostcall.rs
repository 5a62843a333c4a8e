//! Receiving a hostcall on the host side, walked once for every host-side backend: lift each parameter,
//! call the host, store each output through its out-slots.

use super::{lift, lower, output_slots, Raw};
use crate::model::{Output, Param, ValueType};
use proc_macro2::TokenStream;
use quote::quote;

/// What a host-side backend supplies to receive a hostcall: its raw form, its error values, and access
/// to guest memory. [`host_callee`] walks a function and asks for them in order, so the sequence (lift
/// every parameter, call the host, store every output), the lifting and lowering of every scalar
/// ([`super::lift`], [`super::lower`]), the binding of results and the out-pointer names are written once
/// for every backend (the native glue of the guest crate, the wasm runner of the host crate).
pub trait HostCallee {
    /// Why a parameter kind cannot be received by this backend.
    type Error;
    /// The raw form the backend receives scalars in.
    fn raw(&self) -> Raw;
    /// The path prefix under which the generated enumerations are found (`super::`).
    fn types(&self) -> TokenStream;
    /// The error a lift returns for an argument the version does not define (an undefined enumeration
    /// value, an integer out of range): the backend's `bad_argument` status.
    fn bad_argument(&self) -> TokenStream;
    /// A statement reading bytes `name` from slots `data` and `size`, refusing a range outside memory.
    fn lift_bytes(
        &mut self,
        name: &proc_macro2::Ident,
        data: &proc_macro2::Ident,
        size: &proc_macro2::Ident,
    ) -> TokenStream;
    /// The argument passing lifted bytes `name` to the host method.
    fn bytes_arg(&mut self, name: &proc_macro2::Ident) -> TokenStream;
    /// Whether raw guest address `name` may be passed on unchanged; `Err` when this backend's host
    /// methods cannot take one.
    fn pass_guest_pointer(&mut self, name: &proc_macro2::Ident) -> Result<(), Self::Error>;
    /// A statement writing host-allocated bytes `value` through out-slots `data` and `size`.
    fn store_buffer(
        &mut self,
        value: &proc_macro2::Ident,
        data: &proc_macro2::Ident,
        size: &proc_macro2::Ident,
    ) -> TokenStream;
    /// A statement writing `lowered` (a value in the guest's raw form) through out-slot `ptr`.
    fn store_value(&mut self, lowered: TokenStream, ptr: &proc_macro2::Ident) -> TokenStream;
}

/// What [`host_callee`] produced: the statements lifting the parameters, the host method's arguments,
/// the pattern binding its outputs, and the statements storing them.
pub struct HostCallParts {
    /// Lifting statements, in parameter order.
    pub lifts: Vec<TokenStream>,
    /// Arguments of the host method, in parameter order.
    pub args: Vec<TokenStream>,
    /// The pattern the method's `Ok` value is bound to (`()`, `out_0` or `(out_0, out_1, …)`).
    pub bind: TokenStream,
    /// Storing statements, in output order.
    pub stores: Vec<TokenStream>,
}

/// Walks a hostcall's parameters and outputs for a host-side `backend`.
pub fn host_callee<B: HostCallee>(
    params: &[Param],
    outputs: &[Output],
    backend: &mut B,
) -> Result<HostCallParts, B::Error> {
    use crate::names;
    let mut lifts = Vec::new();
    let mut args = Vec::new();
    let (raw, types, bad_argument) = (backend.raw(), backend.types(), backend.bad_argument());
    for p in params {
        let n = names::value_name(&p.name);
        let arg = match &p.ty {
            ValueType::Bytes(_) => {
                let data = names::lowered(&p.name, "data");
                let size = names::lowered(&p.name, "size");
                lifts.push(backend.lift_bytes(&n, &data, &size));
                backend.bytes_arg(&n)
            }
            ValueType::GuestPointer(_) => {
                backend.pass_guest_pointer(&n)?;
                quote!(#n)
            }
            scalar => {
                let lifted = lift(scalar, &quote!(#n), raw, &types, Some(&bad_argument));
                lifts.extend(lifted.map(|value| quote! { let #n = #value; }));
                quote!(#n)
            }
        };
        args.push(arg);
    }
    let results: Vec<_> = (0..outputs.len())
        .map(|i| quote::format_ident!("out_{}", i))
        .collect();
    let bind = match results.as_slice() {
        [] => quote!(()),
        [one] => quote!(#one),
        many => quote!(( #( #many ),* )),
    };
    let mut stores = Vec::new();
    let mut slots = output_slots(outputs).into_iter();
    for (o, value) in outputs.iter().zip(&results) {
        match o {
            Output::HostBuffer => {
                let (Some(data), Some(size)) = (slots.next(), slots.next()) else {
                    break;
                };
                let (data, size) = (names::value_name(&data.name), names::value_name(&size.name));
                stores.push(backend.store_buffer(value, &data, &size));
            }
            Output::Value(v) => {
                let Some(ptr) = slots.next() else { break };
                let ptr = names::value_name(&ptr.name);
                stores.push(backend.store_value(lower(v, &quote!(#value), Raw::Guest), &ptr));
            }
        }
    }
    Ok(HostCallParts {
        lifts,
        args,
        bind,
        stores,
    })
}
