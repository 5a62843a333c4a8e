//! What each ABI version allows, as generated from `spec/`: the tables every check reads.
//!
//! Nothing in this crate names a hostcall or a callback; every symbol, signature, family and requirement
//! comes from these tables, which `proxywasm-codegen regenerate` writes from the spec documents into
//! `src/generated/` (checked in).

use serde::Serialize;
use std::fmt;

/// A core-wasm value type, as the symbol tables spell signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
}

impl ValType {
    /// The wasm text name: `i32`, `i64`, `f32`, `f64`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One function crossing the boundary: a host function a plugin imports, or a callback it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Symbol {
    /// The wasm module a plugin imports it from (`env`, `wasi_snapshot_preview1`), or `plugin` for an
    /// export.
    pub module: &'static str,
    /// Its name, e.g. `proxy_log`.
    pub name: &'static str,
    /// The family (spec section) it belongs to, e.g. `http_headers`; the capability summary lists these.
    pub family: &'static str,
    /// For a host function: whether the version's written specification lists it (false: the
    /// reference host provides it although the text omits it).
    pub written: bool,
    /// For an export: whether it belongs to a group of which a plugin must export at least one.
    pub required: bool,
    /// Core-wasm parameter types, in order.
    pub params: &'static [ValType],
    /// Core-wasm result types.
    pub results: &'static [ValType],
}

impl Symbol {
    /// The core signature in text: `(i32, i32) -> (i32)`.
    pub fn signature(&self) -> String {
        signature_text(
            self.params.iter().map(|t| t.as_str()),
            self.results.iter().map(|t| t.as_str()),
        )
    }

    /// `module.name` for an import, `name` for an export.
    pub fn qualified_name(&self) -> String {
        if self.module == PLUGIN_MODULE {
            self.name.to_string()
        } else {
            format!("{}.{}", self.module, self.name)
        }
    }

    /// Whether this export is a version declaration (`proxy_abi_version_X_Y_Z`): a required export of
    /// the [`DECLARATION_FAMILY`] that takes and returns nothing.
    pub fn is_declaration(&self) -> bool {
        self.module == PLUGIN_MODULE
            && self.required
            && self.family == DECLARATION_FAMILY
            && self.params.is_empty()
            && self.results.is_empty()
    }
}

/// A group of exports of which a plugin must provide at least one (e.g. the allocator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequiredGroup {
    /// The family the group is named after (e.g. `allocator`).
    pub family: &'static str,
    /// The export names, in spec order (the first is the preferred one).
    pub names: &'static [&'static str],
}

/// Every symbol one ABI version defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbiSymbols {
    /// The version, e.g. `0.2.1`.
    pub version: &'static str,
    /// Host functions a plugin may import, sorted by module then name.
    pub imports: &'static [Symbol],
    /// Callbacks a plugin may export, sorted by name.
    pub exports: &'static [Symbol],
    /// Groups of exports of which a plugin must provide at least one.
    pub required_groups: &'static [RequiredGroup],
    /// Whether a plugin must export its linear memory as [`MEMORY_EXPORT`].
    pub memory_required: bool,
}

impl AbiSymbols {
    /// The host function `module.name`, if this version defines it.
    pub fn import(&self, module: &str, name: &str) -> Option<&'static Symbol> {
        self.imports
            .iter()
            .find(|s| s.module == module && s.name == name)
    }

    /// The callback `name`, if this version defines it.
    pub fn export(&self, name: &str) -> Option<&'static Symbol> {
        self.exports.iter().find(|s| s.name == name)
    }

    /// The export that declares this version (`proxy_abi_version_X_Y_Z`), if the spec defines one.
    pub fn declaration(&self) -> Option<&'static Symbol> {
        self.exports.iter().find(|s| s.is_declaration())
    }

    /// The wasm modules this version's host functions come from, sorted.
    pub fn import_modules(&self) -> Vec<&'static str> {
        let mut modules: Vec<&'static str> = self.imports.iter().map(|s| s.module).collect();
        modules.sort_unstable();
        modules.dedup();
        modules
    }
}

/// The `module` of exports in the tables: the plugin provides them.
pub const PLUGIN_MODULE: &str = "plugin";

/// The family of the version-declaration exports (`spec/README.md`: `plugin.abi_version.required`).
pub const DECLARATION_FAMILY: &str = "abi_version";

/// The name a plugin must export its linear memory under when [`AbiSymbols::memory_required`] is set
/// (`spec/README.md`: the `(import "memory" (memory))` of a `plugin.<family>.required` module).
pub const MEMORY_EXPORT: &str = "memory";

/// The prefix of Proxy-Wasm callback names; an export with this prefix that no version defines is
/// reported (a misspelt callback is never called).
pub const CALLBACK_PREFIX: &str = "proxy_";

/// The generated tables: one module per version (`v0_2_1`, …) and [`VERSIONS`]. Generated from `spec/`
/// and checked in (`cargo run -p proxywasm-codegen -- regenerate`).
pub mod tables {
    use super::*;
    include!("generated/symbols.rs");
}

pub use tables::VERSIONS;

/// Every ABI version this tool knows, oldest first.
pub fn versions() -> &'static [&'static AbiSymbols] {
    VERSIONS
}

/// The table of `version` (e.g. `"0.2.1"`), if this tool knows it.
pub fn version(version: &str) -> Option<&'static AbiSymbols> {
    VERSIONS.iter().copied().find(|abi| abi.version == version)
}

/// The wasm modules a host provides functions from in any known version (`env`,
/// `wasi_snapshot_preview1`), sorted. An import from any other module cannot link.
pub fn host_modules() -> Vec<&'static str> {
    let mut modules: Vec<&'static str> = VERSIONS
        .iter()
        .flat_map(|abi| abi.import_modules())
        .collect();
    modules.sort_unstable();
    modules.dedup();
    modules
}

/// `(a, b) -> (c)` from the names of the parameter and result types.
pub(crate) fn signature_text<'a>(
    params: impl Iterator<Item = &'a str>,
    results: impl Iterator<Item = &'a str>,
) -> String {
    let params: Vec<&str> = params.collect();
    let results: Vec<&str> = results.collect();
    format!("({}) -> ({})", params.join(", "), results.join(", "))
}

/// The symbol listing of one version in text, one symbol a line (the format of `proxywasm-codegen
/// symbols`).
pub fn listing_text(abi: &AbiSymbols) -> String {
    use fmt::Write as _;
    let mut out = format!("ABI {}\n", abi.version);
    for s in abi.imports {
        let unwritten = if s.written {
            ""
        } else {
            "  [host-only: not in the written spec]"
        };
        let _ = writeln!(
            out,
            "import {}.{} {}{}",
            s.module,
            s.name,
            s.signature(),
            unwritten
        );
    }
    for s in abi.exports {
        let required = if s.required { "  [required]" } else { "" };
        let _ = writeln!(out, "export {} {}{}", s.name, s.signature(), required);
    }
    if abi.memory_required {
        let _ = writeln!(out, "export {MEMORY_EXPORT} (memory)  [required]");
    }
    for g in abi.required_groups {
        let _ = writeln!(
            out,
            "requires one of ({}): {}",
            g.family,
            g.names.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "{} imports, {} exports",
        abi.imports.len(),
        abi.exports.len()
    );
    out
}

/// The symbol listing of one version for pipelines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The version.
    pub abi: &'static str,
    /// What a plugin may import.
    pub imports: Vec<ListedSymbol>,
    /// What a plugin may export.
    pub exports: Vec<ListedSymbol>,
    /// Groups of exports of which a plugin must export at least one.
    pub required_groups: Vec<ListedGroup>,
    /// Whether a plugin must export its memory as `memory`.
    pub memory_required: bool,
}

/// One symbol of a [`Listing`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedSymbol {
    /// The wasm module (`plugin` for exports).
    pub module: &'static str,
    /// The name.
    pub name: &'static str,
    /// The family.
    pub family: &'static str,
    /// Whether the written spec lists it.
    pub written: bool,
    /// Whether it belongs to a required group.
    pub required: bool,
    /// Core parameter types.
    pub params: &'static [ValType],
    /// Core result types.
    pub results: &'static [ValType],
}

/// One required group of a [`Listing`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedGroup {
    /// The family.
    pub family: &'static str,
    /// The names, one of which must be exported.
    pub names: &'static [&'static str],
}

/// The listing of one version, for `symbols --format json`.
pub fn listing(abi: &AbiSymbols) -> Listing {
    let listed = |s: &Symbol| ListedSymbol {
        module: s.module,
        name: s.name,
        family: s.family,
        written: s.written,
        required: s.required,
        params: s.params,
        results: s.results,
    };
    Listing {
        abi: abi.version,
        imports: abi.imports.iter().map(listed).collect(),
        exports: abi.exports.iter().map(listed).collect(),
        required_groups: abi
            .required_groups
            .iter()
            .map(|g| ListedGroup {
                family: g.family,
                names: g.names,
            })
            .collect(),
        memory_required: abi.memory_required,
    }
}
