//! The safe form of a hostcall: a wrapper whose signature holds no raw address, so the hand-written SDK
//! calls it without `unsafe`.

use super::{output_slots, param_slots, SlotKind};
use crate::model::{Output, Param};
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

/// The safe wrapper's parameters (`name: type`) and the raw call's arguments built from them.
pub struct SafeCall {
    /// The wrapper's parameters.
    pub params: Vec<TokenStream>,
    /// The arguments of the raw function, in its slot order.
    pub args: Vec<TokenStream>,
}

/// The safe form of a hostcall taking `params` and writing `outputs`, or `None` when a parameter is a
/// raw guest address (only the caller can vouch for one). Bytes in become one `&[u8]` (its pointer and
/// length are the two slots); a scalar passes as is; each out-slot becomes `&mut` of the type the callee
/// writes (a host buffer: `&mut *mut u8` and `&mut usize`; nothing reads through them here).
pub fn safe_call(params: &[Param], outputs: &[Output]) -> Option<SafeCall> {
    let mut call = SafeCall {
        params: Vec::new(),
        args: Vec::new(),
    };
    for p in params {
        let whole = names::value_name(&p.name);
        for slot in param_slots(p) {
            let n = names::value_name(&slot.name);
            match slot.kind {
                SlotKind::GuestPointer => return None,
                SlotKind::BytesData => {
                    call.params.push(quote!(#whole: &[u8]));
                    call.args.push(quote!(#whole.as_ptr()));
                }
                SlotKind::BytesSize => call.args.push(quote!(#whole.len())),
                kind => {
                    let ty = kind.guest_type();
                    call.params.push(quote!(#n: #ty));
                    call.args.push(quote!(#n));
                }
            }
        }
    }
    for slot in output_slots(outputs) {
        let n = names::value_name(&slot.name);
        let target = slot.kind.out_target()?;
        call.params.push(quote!(#n: &mut #target));
        call.args.push(quote!(#n));
    }
    Some(call)
}
