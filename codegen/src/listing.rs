//! Listings of the model for people and pipelines: the symbol table of a version, and the differences
//! between two versions.

use crate::model::{Abi, CoreType, Function};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A host function a plugin may import, as `symbols --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSymbol {
    /// The wasm module it is imported from.
    pub module: String,
    /// Its name.
    pub name: String,
    /// Core-wasm parameter types.
    pub params: Vec<CoreType>,
    /// Core-wasm result types.
    pub results: Vec<CoreType>,
}

/// A callback a plugin may export, as `symbols --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSymbol {
    /// Its name.
    pub name: String,
    /// Core-wasm parameter types.
    pub params: Vec<CoreType>,
    /// Core-wasm result types.
    pub results: Vec<CoreType>,
    /// Whether it belongs to a group of which a plugin must export at least one.
    pub required: bool,
}

/// The symbols of one version, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolListing {
    /// The version, e.g. `0.2.1`.
    pub abi: String,
    /// What a plugin may import.
    pub imports: Vec<ImportSymbol>,
    /// What a plugin may export.
    pub exports: Vec<ExportSymbol>,
}

/// The symbol listing of `abi`.
pub fn symbols(abi: &Abi) -> SymbolListing {
    let mut imports: Vec<ImportSymbol> = abi
        .imports
        .iter()
        .map(|f| ImportSymbol {
            module: f.module.clone(),
            name: f.name.clone(),
            params: f.core_params(),
            results: f.core_results(),
        })
        .collect();
    imports.sort_by(|a, b| (&a.name, &a.module).cmp(&(&b.name, &b.module)));
    let mut exports: Vec<ExportSymbol> = abi
        .exports
        .iter()
        .map(|f| ExportSymbol {
            name: f.name.clone(),
            params: f.core_params(),
            results: f.core_results(),
            required: f.required,
        })
        .collect();
    exports.sort_by(|a, b| a.name.cmp(&b.name));
    SymbolListing {
        abi: abi.version.to_string(),
        imports,
        exports,
    }
}

/// A one-line core signature: `(i32, i32) -> i32`.
pub fn signature(f: &Function) -> String {
    let list = |t: Vec<CoreType>| t.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
    format!(
        "({}) -> ({})",
        list(f.core_params()),
        list(f.core_results())
    )
}

/// The symbol listing as text, one symbol a line.
pub fn symbols_text(abi: &Abi) -> String {
    let mut out = format!("ABI {}\n", abi.version);
    for f in &abi.imports {
        let unwritten = if f.written {
            ""
        } else {
            "  [host-only: not in the written spec]"
        };
        let _ = writeln!(
            out,
            "import {}.{} {}{}",
            f.module,
            f.name,
            signature(f),
            unwritten
        );
    }
    for f in &abi.exports {
        let required = if f.required { "  [required]" } else { "" };
        let _ = writeln!(out, "export {} {}{}", f.name, signature(f), required);
    }
    let _ = writeln!(
        out,
        "{} imports, {} exports, {} enumerations",
        abi.imports.len(),
        abi.exports.len(),
        abi.enums.len()
    );
    out
}

/// What changed between two versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AbiDiff {
    /// The older version.
    pub from: String,
    /// The newer version.
    pub to: String,
    /// Symbols only in `to`, as `import env.name (sig)` / `export name (sig)`.
    pub added: Vec<String>,
    /// Symbols only in `from`.
    pub removed: Vec<String>,
    /// Symbols in both with a different core signature: `name: (old) -> (new)`.
    pub changed: Vec<String>,
    /// Enumeration values only in `to`: `enum.case = N`.
    pub values_added: Vec<String>,
    /// Enumeration values only in `from`.
    pub values_removed: Vec<String>,
}

fn keyed(abi: &Abi) -> BTreeMap<String, (&Function, String)> {
    let imports = abi
        .imports
        .iter()
        .map(|f| (format!("import {}.{}", f.module, f.name), (f, signature(f))));
    let exports = abi
        .exports
        .iter()
        .map(|f| (format!("export {}", f.name), (f, signature(f))));
    imports.chain(exports).collect()
}

fn values(abi: &Abi) -> BTreeMap<String, u32> {
    abi.enums
        .iter()
        .flat_map(|e| {
            e.cases
                .iter()
                .map(move |c| (format!("{}.{}", e.name, c.name), c.value))
        })
        .collect()
}

/// The differences between `from` and `to`.
pub fn diff(from: &Abi, to: &Abi) -> AbiDiff {
    let (old, new) = (keyed(from), keyed(to));
    let mut d = AbiDiff {
        from: from.version.to_string(),
        to: to.version.to_string(),
        ..AbiDiff::default()
    };
    for (key, (_, sig)) in &new {
        match old.get(key) {
            None => d.added.push(format!("{key} {sig}")),
            Some((_, old_sig)) if old_sig != sig => {
                d.changed.push(format!("{key}: {old_sig} => {sig}"))
            }
            Some(_) => {}
        }
    }
    for (key, (_, sig)) in &old {
        if !new.contains_key(key) {
            d.removed.push(format!("{key} {sig}"));
        }
    }
    let (old_values, new_values) = (values(from), values(to));
    for (k, v) in &new_values {
        if old_values.get(k) != Some(v) {
            d.values_added.push(format!("{k} = {v}"));
        }
    }
    for (k, v) in &old_values {
        if new_values.get(k) != Some(v) {
            d.values_removed.push(format!("{k} = {v}"));
        }
    }
    d
}

/// The differences as text, one change a line.
pub fn diff_text(d: &AbiDiff) -> String {
    let mut out = format!("ABI {} -> {}\n", d.from, d.to);
    for (sign, lines) in [
        ("+", &d.added),
        ("-", &d.removed),
        ("~", &d.changed),
        ("+", &d.values_added),
        ("-", &d.values_removed),
    ] {
        for l in lines {
            let _ = writeln!(out, "{sign} {l}");
        }
    }
    let _ = writeln!(
        out,
        "{} added, {} removed, {} changed, {} enumeration values added, {} removed",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.values_added.len(),
        d.values_removed.len()
    );
    out
}
