//! How each spec-level value crosses the boundary, written once: the core-wasm slots a parameter or a
//! hostcall output occupies, with their names and what each carries. Every consumer reads it from here:
//! the core signatures ([`crate::model::Function::core_params`], so the symbol tables, listings and host
//! profiles), the raw guest signatures (imports, export shims, safe wrappers) and the wasm runner's
//! wasmtime signatures. Adding an idiom means adding a [`SlotKind`] (or a slot layout below) and, where
//! a backend lifts or lowers it, the arm the compiler then asks for.

use crate::model::{CoreType, IntType, Output, Param, ValueType};
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
            SlotKind::Int(repr) => repr.core(),
            _ => CoreType::I32,
        }
    }

    /// Its Rust type in the raw guest signature (`extern "C"` imports, export shims).
    pub fn guest_type(self) -> TokenStream {
        match self {
            SlotKind::Int(repr) => crate::emit::int_type(repr),
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
            SlotKind::OutValue(repr) => Some(crate::emit::int_type(repr)),
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
