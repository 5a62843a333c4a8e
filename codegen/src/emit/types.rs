//! Emits every enumeration as a Rust enum with explicit values, converted from `u32` with `TryFrom` so
//! an unknown value is a typed error, never undefined behaviour.

use super::doc_attrs;
use crate::model::Abi;
use crate::names;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// The `types.rs` file.
pub fn emit(abi: &Abi) -> TokenStream {
    let version = abi.version.to_string();
    let enums = abi.enums.iter().map(|e| {
        let ty = names::type_name(&e.name);
        let docs = doc_attrs(&e.docs);
        let spec_name = &e.name;
        let variants: Vec<_> = e.cases.iter().map(|c| names::variant_name(&c.name)).collect();
        let values: Vec<_> = e.cases.iter().map(|c| Literal::u32_unsuffixed(c.value)).collect();
        let case_docs = e.cases.iter().map(|c| doc_attrs(&c.docs));
        let case_names = e.cases.iter().map(|c| &c.name);
        quote! {
            #docs
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[repr(u32)]
            pub enum #ty {
                #( #case_docs #variants = #values, )*
            }

            impl #ty {
                /// Every value this ABI version defines, in increasing order.
                pub const ALL: &'static [#ty] = &[ #( #ty::#variants ),* ];

                /// The name of this value in the specification.
                pub const fn name(self) -> &'static str {
                    match self { #( #ty::#variants => #case_names, )* }
                }
            }

            impl TryFrom<u32> for #ty {
                type Error = UnknownEnumValue;

                fn try_from(value: u32) -> Result<Self, UnknownEnumValue> {
                    match value {
                        #( #values => Ok(#ty::#variants), )*
                        _ => Err(UnknownEnumValue { enumeration: #spec_name, value }),
                    }
                }
            }

            impl From<#ty> for u32 {
                fn from(value: #ty) -> u32 {
                    value as u32
                }
            }

            impl core::fmt::Display for #ty {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str(self.name())
                }
            }
        }
    });
    let version_doc = format!(" The ABI version these bindings were generated for: `{version}`.");
    quote! {
        #[doc = #version_doc]
        pub const ABI_VERSION: &str = #version;

        /// A value received from the other side of the ABI that its enumeration does not define.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct UnknownEnumValue {
            /// The enumeration's name in the specification, e.g. `map_type`.
            pub enumeration: &'static str,
            /// The value received.
            pub value: u32,
        }

        impl core::fmt::Display for UnknownEnumValue {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{} is not a known `{}` value", self.value, self.enumeration)
            }
        }

        impl std::error::Error for UnknownEnumValue {}

        #( #enums )*
    }
}
