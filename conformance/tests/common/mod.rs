//! Builds WAT test modules from the generated symbol tables, so the tests follow the spec.
#![allow(dead_code)]

use proxywasm_conformance::{symbols, AbiSymbols, Symbol, ValType};

/// A function signature in the tables' types.
pub type Sig = (Vec<ValType>, Vec<ValType>);

/// A module to render as WAT: function imports, function exports, and maybe a memory export.
#[derive(Debug, Clone, Default)]
pub struct Plugin {
    pub imports: Vec<(String, String, Sig)>,
    pub exports: Vec<(String, Sig)>,
    pub memory: Option<String>,
    /// WAT fields placed before everything else (imports must precede definitions).
    pub head: Vec<String>,
    /// WAT fields placed after everything else.
    pub extra: Vec<String>,
}

pub fn sig(s: &Symbol) -> Sig {
    (s.params.to_vec(), s.results.to_vec())
}

impl Plugin {
    /// A module that conforms to `abi`: every written host function imported, every callback
    /// exported (the declaration included), the memory exported when required.
    pub fn conforming(abi: &AbiSymbols) -> Plugin {
        Plugin {
            imports: abi
                .imports
                .iter()
                .filter(|s| s.written)
                .map(|s| (s.module.to_string(), s.name.to_string(), sig(s)))
                .collect(),
            exports: abi
                .exports
                .iter()
                .map(|s| (s.name.to_string(), sig(s)))
                .collect(),
            memory: Some(symbols::MEMORY_EXPORT.to_string()),
            head: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// A module that conforms and imports nothing.
    pub fn minimal(abi: &AbiSymbols) -> Plugin {
        Plugin {
            imports: Vec::new(),
            ..Plugin::conforming(abi)
        }
    }

    pub fn without_export(mut self, name: &str) -> Plugin {
        self.exports.retain(|(n, _)| n != name);
        self
    }

    pub fn with_export(mut self, name: &str, sig: Sig) -> Plugin {
        self.exports.retain(|(n, _)| n != name);
        self.exports.push((name.to_string(), sig));
        self
    }

    pub fn with_import(mut self, module: &str, name: &str, sig: Sig) -> Plugin {
        self.imports.retain(|(m, n, _)| !(m == module && n == name));
        self.imports
            .push((module.to_string(), name.to_string(), sig));
        self
    }

    pub fn wat(&self) -> String {
        let mut out = String::from("(module\n");
        for head in &self.head {
            out.push_str(head);
            out.push('\n');
        }
        for (i, (module, name, sig)) in self.imports.iter().enumerate() {
            out.push_str(&format!(
                "  (import {} {} (func $i{i}{}))\n",
                quoted(module),
                quoted(name),
                sig_text(sig)
            ));
        }
        if let Some(memory) = &self.memory {
            out.push_str(&format!("  (memory (export {}) 1)\n", quoted(memory)));
        }
        for (i, (name, sig)) in self.exports.iter().enumerate() {
            let body: Vec<String> = sig
                .1
                .iter()
                .map(|t| format!("({}.const 0)", t.as_str()))
                .collect();
            out.push_str(&format!(
                "  (func $e{i} (export {}){} {})\n",
                quoted(name),
                sig_text(sig),
                body.join(" ")
            ));
        }
        for extra in &self.extra {
            out.push_str(extra);
            out.push('\n');
        }
        out.push(')');
        out
    }

    pub fn bytes(&self) -> Vec<u8> {
        match wat::parse_str(self.wat()) {
            Ok(bytes) => bytes,
            Err(e) => panic!("test module does not assemble: {e}\n{}", self.wat()),
        }
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.escape_default())
}

pub fn sig_text((params, results): &Sig) -> String {
    let mut out = String::new();
    if !params.is_empty() {
        let p: Vec<&str> = params.iter().map(|t| t.as_str()).collect();
        out.push_str(&format!(" (param {})", p.join(" ")));
    }
    if !results.is_empty() {
        let r: Vec<&str> = results.iter().map(|t| t.as_str()).collect();
        out.push_str(&format!(" (result {})", r.join(" ")));
    }
    out
}

/// The newest version this build knows.
pub fn newest() -> &'static AbiSymbols {
    match symbols::versions().last() {
        Some(v) => v,
        None => panic!("the build knows no ABI version"),
    }
}

/// A small valid module for mutation tests: the newest version's conforming plugin.
pub fn small_valid_module() -> Vec<u8> {
    Plugin::conforming(newest()).bytes()
}

/// Notes a skipped part of a test (a spec document that does not exist yet).
pub fn skip(why: &str) {
    eprintln!("SKIPPED (spec not complete yet): {why}");
}
