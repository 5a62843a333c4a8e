//! A callback crossing the boundary, walked once for each side: the plugin's export shim receives raw
//! values and calls the lifted `Callbacks` method; the wasm runner lowers a host's lifted arguments,
//! calls the module's export and lifts its result. Both apply the scalar rules of [`super::lift`] and
//! [`super::lower`].

use super::{absent, lift, lower, param_slots, value_slots, Raw};
use crate::model::{Function, Results};
use crate::names;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The parts of an export shim: `fn name(raw_params) raw_result { let call = method(args); lower_result }`.
pub struct ExportShim {
    /// `name: type` of every raw slot, in order.
    pub raw_params: Vec<TokenStream>,
    /// The arguments of the `Callbacks` method, lifted, in its parameter order.
    pub args: Vec<TokenStream>,
    /// `-> type` of the raw result, or nothing.
    pub raw_result: TokenStream,
    /// The expression lowering the method's answer, bound to `call`.
    pub lower_result: TokenStream,
}

/// The export shim of callback `here` (as this version exports it) calling the `Callbacks` method
/// declared as `described` (the newest version's description): a parameter `here` lacks is passed as
/// its lifted zero ([`absent`]). `types` is the path prefix of the generated enumerations.
pub fn export_shim(
    here: &Function,
    described: &Function,
    types: &TokenStream,
) -> Result<ExportShim, &'static str> {
    let raw_params = here
        .params
        .iter()
        .flat_map(param_slots)
        .map(|slot| {
            let (n, t) = (names::value_name(&slot.name), slot.kind.guest_type());
            quote!(#n: #t)
        })
        .collect();
    let args = described
        .params
        .iter()
        .map(|p| {
            let n = names::value_name(&p.name);
            if here.params.iter().any(|q| q.name == p.name) {
                lift(&p.ty, &quote!(#n), Raw::Guest, types, None).unwrap_or_else(|| quote!(#n))
            } else {
                absent(&p.ty, types)
            }
        })
        .collect();
    let (raw_result, lower_result) = match &here.result {
        Results::None => (quote!(), quote!(call)),
        Results::Value { name, ty, .. } => match value_slots(name, ty).as_slice() {
            [slot] => {
                let t = slot.kind.guest_type();
                (quote!(-> #t), lower(ty, &quote!(call), Raw::Guest))
            }
            _ => return Err("a callback's result must fit one core value"),
        },
        Results::Status { .. } => return Err("a callback cannot return a status"),
    };
    Ok(ExportShim {
        raw_params,
        args,
        raw_result,
        lower_result,
    })
}

/// The parts of a host's call into a module's export through wasmtime.
pub struct WasmCall {
    /// The raw arguments, in the export's parameter order, lowered from the host's lifted ones.
    pub args: Vec<TokenStream>,
    /// Parameters of the host's method (the newest description) that this version does not pass.
    pub unused: Vec<Ident>,
    /// A statement binding `value`, the lifted result, from `raw`, the export's raw result.
    pub lift: TokenStream,
}

/// The call into callback `here` (as this version exports it) for a host method declared as
/// `described`. `undefined_result` is the error returned when the result has no lifted value (an
/// enumeration value the version does not define); it may name `raw`.
pub fn wasm_call(
    here: &Function,
    described: &Function,
    types: &TokenStream,
    undefined_result: &TokenStream,
) -> Result<WasmCall, &'static str> {
    let args = here
        .params
        .iter()
        .map(|p| {
            let n = names::value_name(&p.name);
            lower(&p.ty, &quote!(#n), Raw::Wasmtime)
        })
        .collect();
    let unused = described
        .params
        .iter()
        .filter(|p| !here.params.iter().any(|q| q.name == p.name))
        .map(|p| names::value_name(&p.name))
        .collect();
    let lift = match &here.result {
        Results::None => quote!(let value = raw;),
        Results::Value { ty, .. } => {
            let value = lift(
                ty,
                &quote!(raw),
                Raw::Wasmtime,
                types,
                Some(undefined_result),
            )
            .unwrap_or_else(|| quote!(raw));
            quote!(let value = #value;)
        }
        Results::Status { .. } => return Err("a callback cannot return a status"),
    };
    Ok(WasmCall { args, unused, lift })
}
