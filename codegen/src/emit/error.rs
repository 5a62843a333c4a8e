//! Emits the SDK's error type from the spec's status enumeration: one variant per failure status of any
//! version (named, documented and described by the spec's case and its doc comment), the mapping from
//! [`Status`](crate::model::Enum) to the error and back, and its `Display` messages. Three variants have no
//! status: `UnknownStatus` (a code the ABI does not define), `Malformed` (bytes the SDK could not
//! decode, holding the path given in [`ErrorOptions::decode_error`]) and `Task` (the error of the SDK's
//! async layer, [`ErrorOptions::task_error`]).

use super::doc_attrs;
use super::types::union_enums;
use crate::model::{Abi, Enum, EnumCase};
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

/// The spec enumeration whose cases become error variants.
pub const STATUS_ENUM: &str = "status";

/// The status a hostcall's local stub returns when the selected version lacks the hostcall
/// (see [`super::imports`]); its variant's docs say so.
pub const STUB_STATUS: &str = "unimplemented";

/// The status the SDK reports for bytes it could not decode (`Error::status_code` of `Malformed`).
const MALFORMED_STATUS: &str = "internal_failure";

/// What the emitted error refers to outside the generated code.
#[derive(Debug, Clone)]
pub struct ErrorOptions {
    /// Path of the decoding error held by `Malformed`.
    pub decode_error: String,
    /// Path of the generated status enumeration.
    pub status: String,
    /// Path of the error of the SDK's async layer, held by `Task`.
    pub task_error: String,
}

impl Default for ErrorOptions {
    fn default() -> Self {
        ErrorOptions {
            decode_error: "crate::codec::DecodeError".to_string(),
            status: "crate::abi::Status".to_string(),
            task_error: "crate::task::TaskError".to_string(),
        }
    }
}

/// The `error.rs` file: `Error`, its conversions from and to status codes, and its messages.
pub fn emit(all: &[Abi], options: &ErrorOptions) -> Result<TokenStream, super::EmitError> {
    let unparsable = |message: String| super::EmitError::Unparsable {
        file: "error.rs",
        message,
    };
    let status_enum: Enum = union_enums(all)
        .into_iter()
        .find(|e| e.name == STATUS_ENUM)
        .ok_or_else(|| {
            unparsable(format!(
                "no version defines the `{STATUS_ENUM}` enumeration"
            ))
        })?;
    let success = status_enum
        .cases
        .iter()
        .find(|c| c.value == 0)
        .ok_or_else(|| unparsable(format!("`{STATUS_ENUM}` has no success value 0")))?;
    for needed in [STUB_STATUS, MALFORMED_STATUS] {
        if status_enum.value_of(needed).is_none() {
            return Err(unparsable(format!("`{STATUS_ENUM}` lacks `{needed}`")));
        }
    }
    let failures: Vec<&EnumCase> = status_enum.cases.iter().filter(|c| c.value != 0).collect();
    let status: syn::Path = super::option_path("error.rs", "status", &options.status)?;
    let decode_error: syn::Path =
        super::option_path("error.rs", "decode error", &options.decode_error)?;
    let task_error: syn::Path = super::option_path("error.rs", "task error", &options.task_error)?;

    let ok = names::variant_name(&success.name);
    let variants: Vec<_> = failures
        .iter()
        .map(|c| names::variant_name(&c.name))
        .collect();
    let variant_docs = failures.iter().map(|c| {
        let mut docs = format!("{}\n\nStatus `{}` ({}).", c.docs, c.name, c.value);
        if c.name == STUB_STATUS {
            docs.push_str(
                " Also what a hostcall returns when the selected ABI version does not define it.",
            );
        }
        doc_attrs(&docs)
    });
    let messages: Vec<String> = failures
        .iter()
        .map(|c| {
            let text = message(&c.docs);
            if c.name == STUB_STATUS {
                format!("{text} or the selected ABI version")
            } else {
                text
            }
        })
        .collect();
    let malformed_status = names::variant_name(MALFORMED_STATUS);
    let enum_doc = doc_attrs(&format!(
        "Why an SDK call failed: one variant per failure value of the spec's `{STATUS_ENUM}` \
         enumeration, a status code the ABI does not define, or bytes from the host the SDK could not \
         decode."
    ));

    Ok(quote! {
        #enum_doc
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Error {
            #( #variant_docs #variants, )*
            /// The host returned a status code the ABI does not define.
            UnknownStatus(u32),
            /// The host handed back bytes the SDK could not decode.
            Malformed(#decode_error),
            /// An asynchronous operation (the SDK's `task` module) failed or was misused.
            Task(#task_error),
        }

        impl Error {
            /// The error for a status; `None` for success.
            pub fn from_status(status: #status) -> Option<Error> {
                Some(match status {
                    #status::#ok => return None,
                    #( #status::#variants => Error::#variants, )*
                })
            }

            /// The status code a host would use for this error (the code itself for
            /// [`Error::UnknownStatus`], `internal_failure` for [`Error::Malformed`] and [`Error::Task`]).
            pub fn status_code(&self) -> u32 {
                match self {
                    #( Error::#variants => #status::#variants.into(), )*
                    Error::UnknownStatus(code) => *code,
                    Error::Malformed(_) | Error::Task(_) => #status::#malformed_status.into(),
                }
            }
        }

        impl core::fmt::Display for Error {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self {
                    #( Error::#variants => f.write_str(#messages), )*
                    Error::UnknownStatus(code) => write!(f, "unknown status code {code}"),
                    Error::Malformed(e) => write!(f, "malformed data from the host: {e}"),
                    Error::Task(e) => write!(f, "{e}"),
                }
            }
        }
    })
}

/// The `Display` message of a status: the first sentence of its doc comment (by convention a short
/// label, `spec/README.md`), without the final period, starting in lower case (it follows a colon in
/// most messages that embed it).
pub fn message(docs: &str) -> String {
    let first = docs.split(". ").next().unwrap_or(docs).trim();
    let first = first.strip_suffix('.').unwrap_or(first);
    let mut chars = first.chars();
    match chars.next() {
        Some(c) if !chars.clone().next().is_some_and(char::is_uppercase) => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn a_message_is_the_first_sentence_in_lower_case() {
        assert_eq!(
            message("The host failed for a reason of its own."),
            "the host failed for a reason of its own"
        );
        assert_eq!(message("One. Two."), "one");
        assert_eq!(message("ABI text"), "ABI text");
        assert_eq!(message(""), "");
    }
}
