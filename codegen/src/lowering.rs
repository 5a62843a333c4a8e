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

/// The primitives a host-side backend supplies to receive a hostcall: turning raw slots into lifted
/// values and writing outputs back through out-pointers. [`host_callee`] walks a function and asks for
/// them in order, so the sequence (lift every parameter, call the host, store every output), the
/// binding of results and the out-pointer names are written once for every backend (the native glue
/// of the guest crate, the wasm runner of the host crate).
pub trait HostCallee {
    /// Why a parameter kind cannot be lifted by this backend.
    type Error;
    /// A statement lifting integer `name` from its raw slot, if its raw type differs from the lifted one.
    fn lift_int(&mut self, name: &proc_macro2::Ident, repr: IntType) -> Option<TokenStream>;
    /// A statement lifting boolean `name` (`0` is false).
    fn lift_bool(&mut self, name: &proc_macro2::Ident) -> TokenStream;
    /// A statement lifting enumeration value `name` of enumeration `enumeration` (spec name), refusing
    /// an undefined value.
    fn lift_enum(&mut self, name: &proc_macro2::Ident, enumeration: &str) -> TokenStream;
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
    /// A statement writing `lowered` (an integer expression) through out-slot `ptr`.
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
    for p in params {
        let n = names::value_name(&p.name);
        let arg = match &p.ty {
            ValueType::Int { repr, .. } => {
                lifts.extend(backend.lift_int(&n, *repr));
                quote!(#n)
            }
            ValueType::Bool => {
                lifts.push(backend.lift_bool(&n));
                quote!(#n)
            }
            ValueType::Enum(e) => {
                lifts.push(backend.lift_enum(&n, e));
                quote!(#n)
            }
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
                let lowered = match v {
                    ValueType::Enum(_) => quote!(u32::from(#value)),
                    _ => quote!(#value),
                };
                stores.push(backend.store_value(lowered, &ptr));
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
