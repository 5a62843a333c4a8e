//! The Rust type each value has once lifted, written once for every emitter: the host traits, a host's
//! view of a plugin (`PluginInstance`) and the plugin's `Callbacks`.

use super::int_type;
use crate::model::{Function, Output, Results, ValueType};
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

/// The lifted Rust type of a value, as host code sees it: an integer its own type, a boolean `bool`, an
/// enumeration value the generated enumeration, bytes passed in `&[u8]`, a guest address `*mut u8`.
pub fn lifted_type(ty: &ValueType) -> TokenStream {
    match ty {
        ValueType::Int { repr, .. } => int_type(*repr),
        ValueType::Bool => quote!(bool),
        ValueType::Enum(e) => {
            let e = names::type_name(e);
            quote!(#e)
        }
        ValueType::Bytes(_) => quote!(&[u8]),
        ValueType::GuestPointer(_) => quote!(*mut u8),
    }
}

/// The lifted type of a hostcall output: bytes the host allocated become a `Vec<u8>`.
pub fn lifted_output(o: &Output) -> TokenStream {
    match o {
        Output::HostBuffer => quote!(Vec<u8>),
        Output::Value(v) => lifted_type(v),
    }
}

/// The `Ok` type of a host method: `()`, one output, or a tuple of outputs.
pub fn lifted_ok(outputs: &[Output]) -> TokenStream {
    match outputs {
        [] => quote!(()),
        [one] => lifted_output(one),
        many => {
            let tys = many.iter().map(lifted_output);
            quote!(( #( #tys ),* ))
        }
    }
}

/// Whether a host trait method can take and return every value of hostcall `f` lifted: a status result,
/// no raw guest address among the parameters, and outputs that are host buffers or scalars (not
/// booleans: no hostcall writes one).
pub fn host_liftable(f: &Function) -> bool {
    let scalar = |t: &ValueType| !matches!(t, ValueType::GuestPointer(_));
    let outputs_ok = match &f.result {
        Results::Status { outputs, .. } => outputs.iter().all(|o| match o {
            Output::HostBuffer => true,
            Output::Value(v) => scalar(v) && !matches!(v, ValueType::Bytes(_) | ValueType::Bool),
        }),
        _ => false,
    };
    outputs_ok && f.params.iter().all(|p| scalar(&p.ty))
}

/// The type a plugin's `Callbacks` method receives a parameter as: the lifted type, except that an
/// enumeration value arrives as `Result<E, UnknownEnumValue>` (the host may send a value the version
/// does not define). A callback cannot take bytes (an export shim has no length to check them by).
pub fn callback_param_type(ty: &ValueType) -> Result<TokenStream, &'static str> {
    match ty {
        ValueType::Enum(e) => {
            let e = names::type_name(e);
            Ok(quote!(Result<#e, UnknownEnumValue>))
        }
        ValueType::Bytes(_) => Err("a callback cannot take bytes"),
        other => Ok(lifted_type(other)),
    }
}

/// A host's lifted argument `value` as a plugin's `Callbacks` method takes it: an enumeration value a
/// host sends in lifted form is defined, so it arrives as `Ok`.
pub fn callback_arg_from_host(ty: &ValueType, value: &TokenStream) -> TokenStream {
    match ty {
        ValueType::Enum(_) => quote!(Ok(#value)),
        _ => quote!(#value),
    }
}

/// The lifted result type of a callback (`None` when it returns nothing). A callback returns a scalar,
/// an enumeration value or a guest address, never bytes or a status.
pub fn callback_result_type(result: &Results) -> Result<Option<TokenStream>, &'static str> {
    match result {
        Results::None => Ok(None),
        Results::Value {
            ty: ValueType::Bytes(_),
            ..
        } => Err("a callback cannot return bytes"),
        Results::Value { ty, .. } => Ok(Some(lifted_type(ty))),
        Results::Status { .. } => Err("a callback cannot return a status"),
    }
}
