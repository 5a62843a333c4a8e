//! Emits every enumeration as a Rust enum with explicit values, converted from `u32` with `TryFrom` so
//! an unknown value is a typed error, never undefined behaviour.
//!
//! Each enum has the variants of every version (so code naming a value compiles for all versions), but
//! `ALL`, `TryFrom<u32>` and `is_defined` only accept the values the selected version defines.

use super::doc_attrs;
use crate::model::{Abi, Enum, EnumCase};
use crate::names;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// Every enumeration of every version, each with the union of its cases (the newest description of
/// each), sorted by name and value.
pub(crate) fn union_enums(all: &[Abi]) -> Vec<Enum> {
    let mut by_name: std::collections::BTreeMap<&str, Enum> = std::collections::BTreeMap::new();
    let mut versions: Vec<&Abi> = all.iter().collect();
    versions.sort_by_key(|a| a.version);
    for abi in versions {
        for e in &abi.enums {
            let entry = by_name.entry(&e.name).or_insert_with(|| Enum {
                cases: Vec::new(),
                ..e.clone()
            });
            entry.docs = e.docs.clone();
            for c in &e.cases {
                entry.cases.retain(|old: &EnumCase| old.name != c.name);
                entry.cases.push(c.clone());
            }
            entry.cases.sort_by_key(|c| c.value);
        }
    }
    by_name.into_values().collect()
}

fn versions_with(all: &[Abi], e: &str, case: &str) -> String {
    let mut v: Vec<_> = all
        .iter()
        .filter(|a| a.enumeration(e).and_then(|e| e.value_of(case)).is_some())
        .map(|a| a.version)
        .collect();
    v.sort();
    v.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `types.rs` file.
pub fn emit(abi: &Abi, all: &[Abi]) -> TokenStream {
    let version = abi.version.to_string();
    let union = union_enums(all);
    let enums = union.iter().map(|e| {
        let ty = names::type_name(&e.name);
        let docs = doc_attrs(&e.docs);
        let spec_name = &e.name;
        let variants: Vec<_> = e.cases.iter().map(|c| names::variant_name(&c.name)).collect();
        let values: Vec<_> = e.cases.iter().map(|c| Literal::u32_unsuffixed(c.value)).collect();
        let defined: Vec<&EnumCase> = e
            .cases
            .iter()
            .filter(|c| abi.enumeration(&e.name).and_then(|mine| mine.value_of(&c.name)) == Some(c.value))
            .collect();
        let defined_variants: Vec<_> = defined.iter().map(|c| names::variant_name(&c.name)).collect();
        let defined_values: Vec<_> = defined.iter().map(|c| Literal::u32_unsuffixed(c.value)).collect();
        let case_docs = e.cases.iter().map(|c| {
            if defined.iter().any(|d| d.name == c.name) {
                doc_attrs(&c.docs)
            } else {
                doc_attrs(&format!(
                    "{}\n\nNot defined in ABI {}: defined in ABI {}. A host of this version rejects it.",
                    c.docs,
                    abi.version,
                    versions_with(all, &e.name, &c.name)
                ))
            }
        });
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
                pub const ALL: &'static [#ty] = &[ #( #ty::#defined_variants ),* ];

                /// Whether this ABI version defines this value.
                pub const fn is_defined(self) -> bool {
                    #[allow(unreachable_patterns)]
                    match self {
                        #( #ty::#defined_variants => true, )*
                        _ => false,
                    }
                }

                /// The name of this value in the specification.
                pub const fn name(self) -> &'static str {
                    match self { #( #ty::#variants => #case_names, )* }
                }
            }

            impl TryFrom<u32> for #ty {
                type Error = UnknownEnumValue;

                fn try_from(value: u32) -> Result<Self, UnknownEnumValue> {
                    match value {
                        #( #defined_values => Ok(#ty::#defined_variants), )*
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
