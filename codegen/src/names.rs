//! Every naming rule of the generated Rust code, in one place.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Rust keywords that a spec name could collide with.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

fn ident(name: &str) -> Ident {
    if KEYWORDS.contains(&name) {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// A Rust type name for a spec type: `map_type` becomes `MapType`.
pub fn type_name(spec: &str) -> Ident {
    ident(&spec.to_upper_camel_case())
}

/// A Rust enum variant for an enumeration case: `http_request_headers` becomes `HttpRequestHeaders`.
pub fn variant_name(spec: &str) -> Ident {
    ident(&spec.to_upper_camel_case())
}

/// A Rust function, method or parameter name for a spec name, escaped if it is a keyword.
pub fn value_name(spec: &str) -> Ident {
    ident(&spec.to_snake_case())
}

/// A Rust constant name: `http_request_headers` becomes `HTTP_REQUEST_HEADERS`.
pub fn const_name(spec: &str) -> Ident {
    ident(&spec.to_shouty_snake_case())
}

/// The host-side trait for the functions of wasm module `module`: `env` becomes `EnvHost`.
pub fn host_trait(module: &str) -> Ident {
    ident(&format!("{}Host", module.to_upper_camel_case()))
}

/// The module that holds the raw imports of wasm module `module`.
pub fn import_module(module: &str) -> Ident {
    value_name(module)
}

/// The name of the `n`-th piece of a parameter lowered to several core values: `key` and `data`
/// become `key_data`.
pub fn lowered(param: &str, piece: &str) -> Ident {
    value_name(&format!("{param}_{piece}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_keywords() {
        assert_eq!(value_name("type").to_string(), "type_");
        assert_eq!(value_name("continue").to_string(), "continue_");
        assert_eq!(variant_name("continue").to_string(), "Continue");
        assert_eq!(type_name("self").to_string(), "Self_");
    }

    #[test]
    fn converts_cases() {
        assert_eq!(type_name("map_type").to_string(), "MapType");
        assert_eq!(const_name("cas_mismatch").to_string(), "CAS_MISMATCH");
        assert_eq!(host_trait("env").to_string(), "EnvHost");
        assert_eq!(
            host_trait("wasi_snapshot_preview1").to_string(),
            "WasiSnapshotPreview1Host"
        );
    }
}
