//! How each spec-level value crosses the boundary, written once.
//!
//! - This module: the core-wasm slots a parameter, a callback's result or a hostcall output occupies
//!   ([`Slot`], [`SlotKind`]: names, core types, raw Rust types), and how a scalar changes between its raw
//!   form and its lifted form in either direction ([`lift`], [`lower`], [`absent`]).
//! - [`lifted`]: the Rust type each value has once lifted (host traits, `PluginInstance`, `Callbacks`).
//! - [`hostcall`]: receiving a hostcall on the host side (native glue, wasm runner).
//! - [`callback`]: a callback on both sides (the plugin's export shims, the wasm runner's calls into a
//!   module).
//! - [`safe`]: the safe form of a hostcall (no raw address in its signature).
//!
//! The emitters only supply what differs between backends (memory access, error values, paths) and
//! never match on a value's kind. Adding an idiom means adding a [`crate::model::ValueType`] or
//! [`SlotKind`] and the arms the compiler then asks for here.

pub mod callback;
pub mod hostcall;
pub mod lifted;
pub mod safe;

pub use hostcall::{host_callee, HostCallParts, HostCallee};

use crate::model::{CoreType, Function, IntType, Output, Param, Results, ValueType};
use proc_macro2::TokenStream;
use quote::quote;

/// One core-wasm slot of a lowered signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Its name in raw signatures: the parameter's own name, `<name>_data` / `<name>_size` for bytes
    /// passed in, `return_<stem>` (or `return_<stem>_data` / `_size`) for an out-pointer.
    pub name: String,
    /// What it carries.
    pub kind: SlotKind,
}

/// What a slot carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// An integer passed by value; booleans and enumeration values are `U32`.
    Int(IntType),
    /// The address of bytes the caller passes in.
    BytesData,
    /// The length of bytes the caller passes in.
    BytesSize,
    /// A raw address in guest memory.
    GuestPointer,
    /// Where the callee writes one value of this integer type (enumerations: `U32`).
    OutValue(IntType),
    /// Where the host writes the address of a buffer it allocated in guest memory.
    OutBufferData,
    /// Where the host writes that buffer's length.
    OutBufferSize,
}

impl SlotKind {
    /// Its core-wasm type.
    pub fn core(self) -> CoreType {
        match self {
            SlotKind::Int(IntType::U64 | IntType::S64) => CoreType::I64,
            _ => CoreType::I32,
        }
    }

    /// Its Rust type in the raw guest signature (`extern "C"` imports, export shims).
    pub fn guest_type(self) -> TokenStream {
        match self {
            SlotKind::Int(repr) => int_type(repr),
            SlotKind::BytesData => quote!(*const u8),
            SlotKind::BytesSize => quote!(usize),
            SlotKind::GuestPointer => quote!(*mut u8),
            out => {
                let target = out.out_target().unwrap_or_else(|| quote!(u8));
                quote!(*mut #target)
            }
        }
    }

    /// For an out-pointer slot, the Rust type it points to (a safe wrapper takes `&mut` of it: the
    /// callee writes into a slot the caller owns); `None` for the other slots.
    pub fn out_target(self) -> Option<TokenStream> {
        match self {
            SlotKind::OutValue(repr) => Some(int_type(repr)),
            SlotKind::OutBufferData => Some(quote!(*mut u8)),
            SlotKind::OutBufferSize => Some(quote!(usize)),
            _ => None,
        }
    }

    /// Its Rust type as wasmtime passes it to a host function (addresses and lengths as `u32`).
    pub fn wasmtime_type(self) -> TokenStream {
        match self {
            SlotKind::Int(IntType::S32) => quote!(i32),
            SlotKind::Int(IntType::S64) => quote!(i64),
            SlotKind::Int(IntType::U64) => quote!(u64),
            _ => quote!(u32),
        }
    }
}

/// The integer a by-value scalar is passed as: its own type, or `U32` for a boolean or an enumeration
/// value. `None` for bytes and guest addresses, which are not scalars.
pub fn scalar_repr(ty: &ValueType) -> Option<IntType> {
    match ty {
        ValueType::Int { repr, .. } => Some(*repr),
        ValueType::Bool | ValueType::Enum(_) => Some(IntType::U32),
        ValueType::Bytes(_) | ValueType::GuestPointer(_) => None,
    }
}

/// The slots of a value passed by value under the name `name` (a parameter, or a callback's result).
pub fn value_slots(name: &str, ty: &ValueType) -> Vec<Slot> {
    let slot = |name: String, kind| Slot { name, kind };
    match ty {
        ValueType::Bytes(_) => vec![
            slot(format!("{name}_data"), SlotKind::BytesData),
            slot(format!("{name}_size"), SlotKind::BytesSize),
        ],
        ValueType::GuestPointer(_) => vec![slot(name.to_string(), SlotKind::GuestPointer)],
        scalar => vec![slot(
            name.to_string(),
            SlotKind::Int(scalar_repr(scalar).unwrap_or(IntType::U32)),
        )],
    }
}

/// The slots of a parameter.
pub fn param_slots(p: &Param) -> Vec<Slot> {
    value_slots(&p.name, &p.ty)
}

/// Every parameter slot of a function, in order: its parameters' slots, then, for a hostcall, the
/// out-pointer slots of its outputs.
pub fn function_slots(f: &Function) -> Vec<Slot> {
    let mut slots: Vec<_> = f.params.iter().flat_map(param_slots).collect();
    if let Results::Status { outputs, .. } = &f.result {
        slots.extend(output_slots(outputs));
    }
    slots
}

/// The out-pointer slots of a hostcall's outputs, in order, named `return_<stem>`.
pub fn output_slots(outputs: &[Output]) -> Vec<Slot> {
    let mut slots = Vec::new();
    for (i, o) in outputs.iter().enumerate() {
        let stem = output_stem(outputs, i);
        match o {
            Output::HostBuffer => {
                slots.push(Slot {
                    name: format!("return_{stem}_data"),
                    kind: SlotKind::OutBufferData,
                });
                slots.push(Slot {
                    name: format!("return_{stem}_size"),
                    kind: SlotKind::OutBufferSize,
                });
            }
            Output::Value(v) => slots.push(Slot {
                name: format!("return_{stem}"),
                kind: SlotKind::OutValue(match v {
                    ValueType::Int { repr, .. } => *repr,
                    _ => IntType::U32,
                }),
            }),
        }
    }
    slots
}

/// A name for the `i`-th output, unique within the function: the output's typename (`buffer` for a
/// host buffer), with its position appended when two outputs share it.
pub fn output_stem(outputs: &[Output], i: usize) -> String {
    let base = |o: &Output| match o {
        Output::HostBuffer => "buffer".to_string(),
        Output::Value(ValueType::Int { alias, .. }) => alias.clone(),
        Output::Value(ValueType::Enum(name)) => name.clone(),
        Output::Value(_) => "value".to_string(),
    };
    let mine = base(&outputs[i]);
    let same = outputs.iter().filter(|o| base(o) == mine).count();
    if same > 1 {
        format!("{mine}_{i}")
    } else {
        mine
    }
}

/// The Rust type of an integer in the guest's raw signatures, and once lifted.
pub fn int_type(repr: IntType) -> TokenStream {
    match repr {
        IntType::U8 => quote!(u8),
        IntType::U16 => quote!(u16),
        IntType::U32 => quote!(u32),
        IntType::U64 => quote!(u64),
        IntType::S32 => quote!(i32),
        IntType::S64 => quote!(i64),
        IntType::Usize => quote!(usize),
    }
}

/// The raw form a backend holds a scalar in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw {
    /// The guest's own signatures ([`SlotKind::guest_type`]), and the guest's memory: integers keep their
    /// Rust type; booleans and enumeration values are `u32`.
    Guest,
    /// As wasmtime passes values between host code and a module ([`SlotKind::wasmtime_type`]): unsigned
    /// integers of up to 32 bits, sizes included, are `u32`.
    Wasmtime,
}

/// The expression that turns the raw scalar `raw` of type `ty` into its lifted value
/// ([`lifted::lifted_type`]), or `None` when the raw value already is the lifted one (bytes and guest
/// addresses are not scalars: `None`).
///
/// - A boolean: any value but 0 is true.
/// - An enumeration value: checked with `TryFrom<u32>` against the generated enumeration, found under the
///   path prefix `types` (`super::`).
/// - From wasmtime: a size widens with `as usize`; an 8- or 16-bit integer narrows with `try_from`.
///
/// A check that can fail ends in `.map_err(|_| undefined)?` (the value the version does not define, or
/// that does not fit, is the backend's error `undefined`); with `undefined` `None` the expression is the
/// `Result` itself (a plugin's `Callbacks` receive enumerations that way).
pub fn lift(
    ty: &ValueType,
    raw: &TokenStream,
    from: Raw,
    types: &TokenStream,
    undefined: Option<&TokenStream>,
) -> Option<TokenStream> {
    let checked = |conversion: TokenStream| match undefined {
        Some(undefined) => quote!(#conversion.map_err(|_| #undefined)?),
        None => conversion,
    };
    match (ty, from) {
        (ValueType::Bool, _) => Some(quote!(#raw != 0)),
        (ValueType::Enum(e), _) => {
            let e = crate::names::type_name(e);
            Some(checked(quote!(#types #e::try_from(#raw))))
        }
        (
            ValueType::Int {
                repr: IntType::Usize,
                ..
            },
            Raw::Wasmtime,
        ) => Some(quote!(#raw as usize)),
        (
            ValueType::Int {
                repr: repr @ (IntType::U8 | IntType::U16),
                ..
            },
            Raw::Wasmtime,
        ) => {
            let t = int_type(*repr);
            Some(checked(quote!(#t::try_from(#raw))))
        }
        (ValueType::Int { .. } | ValueType::Bytes(_) | ValueType::GuestPointer(_), _) => None,
    }
}

/// The expression that turns the lifted scalar `value` of type `ty` into its raw form `to`: booleans and
/// enumeration values become `u32`; for wasmtime, a size narrows to `u32` (wasm32 sizes fit) and an 8- or
/// 16-bit integer widens to `u32`. Other values pass unchanged.
pub fn lower(ty: &ValueType, value: &TokenStream, to: Raw) -> TokenStream {
    match (ty, to) {
        (ValueType::Bool | ValueType::Enum(_), _) => quote!(u32::from(#value)),
        (
            ValueType::Int {
                repr: IntType::Usize,
                ..
            },
            Raw::Wasmtime,
        ) => quote!(#value as u32),
        (
            ValueType::Int {
                repr: IntType::U8 | IntType::U16,
                ..
            },
            Raw::Wasmtime,
        ) => quote!(u32::from(#value)),
        _ => quote!(#value),
    }
}

/// The lifted value of a parameter a version does not pass (a callback parameter added later): the
/// lift of a raw 0 (`false`, `0`, an enumeration's value 0 as the `Result` a plugin receives).
pub fn absent(ty: &ValueType, types: &TokenStream) -> TokenStream {
    match ty {
        ValueType::Bool => quote!(false),
        _ => lift(ty, &quote!(0), Raw::Guest, types, None).unwrap_or_else(|| quote!(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(repr: IntType) -> ValueType {
        ValueType::Int {
            alias: "x".into(),
            repr,
        }
    }

    fn text(tokens: Option<TokenStream>) -> Option<String> {
        tokens.map(|t| t.to_string())
    }

    #[test]
    fn lifting_depends_on_the_raw_form_and_checks_what_can_fail() {
        let (raw, types, bad) = (quote!(v), quote!(super::), quote!(E));
        let enumeration = ValueType::Enum("map_type".into());
        assert_eq!(
            text(lift(&enumeration, &raw, Raw::Guest, &types, None)),
            Some("super :: MapType :: try_from (v)".into())
        );
        assert_eq!(
            text(lift(&enumeration, &raw, Raw::Wasmtime, &types, Some(&bad))),
            Some("super :: MapType :: try_from (v) . map_err (| _ | E) ?".into())
        );
        assert_eq!(
            text(lift(&ValueType::Bool, &raw, Raw::Guest, &types, None)),
            Some("v != 0".into())
        );
        let size = int(IntType::Usize);
        assert_eq!(text(lift(&size, &raw, Raw::Guest, &types, None)), None);
        assert_eq!(
            text(lift(&size, &raw, Raw::Wasmtime, &types, None)),
            Some("v as usize".into())
        );
        assert_eq!(
            text(lift(
                &int(IntType::U8),
                &raw,
                Raw::Wasmtime,
                &types,
                Some(&bad)
            )),
            Some("u8 :: try_from (v) . map_err (| _ | E) ?".into())
        );
        assert_eq!(
            text(lift(&int(IntType::S64), &raw, Raw::Wasmtime, &types, None)),
            None
        );
    }

    #[test]
    fn lowering_mirrors_lifting() {
        let value = quote!(v);
        for (ty, guest, wasmtime) in [
            (ValueType::Bool, "u32 :: from (v)", "u32 :: from (v)"),
            (
                ValueType::Enum("status".into()),
                "u32 :: from (v)",
                "u32 :: from (v)",
            ),
            (int(IntType::Usize), "v", "v as u32"),
            (int(IntType::U16), "v", "u32 :: from (v)"),
            (int(IntType::U64), "v", "v"),
        ] {
            assert_eq!(lower(&ty, &value, Raw::Guest).to_string(), guest);
            assert_eq!(lower(&ty, &value, Raw::Wasmtime).to_string(), wasmtime);
        }
    }

    #[test]
    fn an_absent_parameter_is_the_lift_of_zero() {
        let types = quote!(super::);
        assert_eq!(absent(&ValueType::Bool, &types).to_string(), "false");
        assert_eq!(absent(&int(IntType::U32), &types).to_string(), "0");
        assert_eq!(
            absent(&ValueType::Enum("peer_type".into()), &types).to_string(),
            "super :: PeerType :: try_from (0)"
        );
    }
}
