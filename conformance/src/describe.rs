//! What a module is, beside whether it passes: the plugin kind (from its callbacks), the toolchain that
//! built it (from its `producers` section), its capabilities (the spec families of what it imports), and
//! what a module without a Proxy-Wasm version marker looks like.

use crate::module::{ItemKind, ModuleInfo};
use crate::symbols::{self, AbiSymbols, CALLBACK_PREFIX};

/// The spec family of the HTTP stream callbacks (`spec/`: `plugin.http_streams`).
pub const HTTP_CALLBACK_FAMILY: &str = "http_streams";

/// The spec family of the TCP stream callbacks (`spec/`: `plugin.tcp_streams`).
pub const TCP_CALLBACK_FAMILY: &str = "tcp_streams";

/// Spec families that are not capabilities a plugin uses but buckets of the spec text: `lifecycle`
/// (`proxy_done`, switching the effective context) and the WASI functions the host only stubs out
/// (`unimplemented`, `unsupported`). They are left out of the capability summary.
pub const NON_CAPABILITY_FAMILIES: &[&str] = &["lifecycle", "unimplemented", "unsupported"];

/// The plugin kind from the callbacks it exports: `http`, `network`, `http+network` or `root-only`
/// (only root/background callbacks: timers, queues, configuration).
pub fn kind(module: &ModuleInfo, abi: Option<&'static AbiSymbols>) -> String {
    let family = |name: &str| {
        abi.and_then(|a| a.export(name))
            .or_else(|| {
                symbols::versions()
                    .iter()
                    .rev()
                    .find_map(|v| v.export(name))
            })
            .map(|s| s.family)
    };
    let mut http = false;
    let mut network = false;
    for export in &module.exports {
        if !matches!(export.kind, ItemKind::Function(_)) {
            continue;
        }
        match family(&export.name) {
            Some(HTTP_CALLBACK_FAMILY) => http = true,
            Some(TCP_CALLBACK_FAMILY) => network = true,
            _ => {}
        }
    }
    match (http, network) {
        (true, true) => "http+network",
        (true, false) => "http",
        (false, true) => "network",
        (false, false) => "root-only",
    }
    .to_string()
}

/// The toolchain that built the module: the `producers` section's SDK, else its first processing
/// tool, else its language; without a section, a guess from telltale imports (said so), else `None`.
pub fn toolchain(module: &ModuleInfo) -> Option<String> {
    let p = &module.producers;
    let show = |(name, version): &(String, String)| {
        if version.is_empty() {
            name.clone()
        } else {
            format!("{name} {version}")
        }
    };
    if let Some(sdk) = p.sdk.first() {
        return Some(show(sdk));
    }
    // Language first when the tool is generic (clang builds C, C++ and more).
    if let Some(tool) = p.processed_by.first() {
        return Some(match p.language.first() {
            Some((language, _)) => format!("{language} ({})", show(tool)),
            None => show(tool),
        });
    }
    if let Some(language) = p.language.first() {
        return Some(show(language));
    }
    let imports = |module_name: &str, name: &str| {
        module
            .imports
            .iter()
            .any(|i| i.module == module_name && i.name == name)
    };
    // Emscripten's runtime imports this helper (cpp-host registers it for that reason: src/wasm.cc).
    if imports("env", "emscripten_notify_memory_growth") {
        return Some("Emscripten (guessed from its imports)".to_string());
    }
    // AssemblyScript's runtime reports aborts through this import (its compiler's `--use abort`).
    if imports("env", "abort") {
        return Some("AssemblyScript (guessed from its imports)".to_string());
    }
    None
}

/// The families of the host functions the module imports, as the audited version (or else any
/// version) files them, without [`NON_CAPABILITY_FAMILIES`].
pub fn capabilities(module: &ModuleInfo, target: Option<&'static AbiSymbols>) -> Vec<String> {
    let mut families: Vec<&'static str> = Vec::new();
    for import in &module.imports {
        if !matches!(import.kind, ItemKind::Function(_)) {
            continue;
        }
        // The spec writes WASI under its current module name; `wasi_unstable` is the same set.
        let spec_module = if import.module == "wasi_unstable" {
            "wasi_snapshot_preview1"
        } else {
            import.module.as_str()
        };
        let symbol = target
            .and_then(|t| t.import(spec_module, &import.name))
            .or_else(|| {
                symbols::versions()
                    .iter()
                    .rev()
                    .find_map(|v| v.import(spec_module, &import.name))
            });
        if let Some(symbol) = symbol {
            if !NON_CAPABILITY_FAMILIES.contains(&symbol.family) {
                families.push(symbol.family);
            }
        }
    }
    families.sort_unstable();
    families.dedup();
    families.into_iter().map(String::from).collect()
}

/// The module and export names of the http-wasm ABI (`http-wasm/http-wasm-abi`: guests import from
/// `http_handler` and export `handle_request`).
const HTTP_WASM_MODULE: &str = "http_handler";
const HTTP_WASM_EXPORT: &str = "handle_request";

/// The prefix of Proxy-Wasm version markers (`proxy_abi_version_X_Y_Z`).
const MARKER_PREFIX: &str = "proxy_abi_version_";

/// What a module that declares no known Proxy-Wasm version looks like, in one sentence.
pub fn unmarked(module: &ModuleInfo) -> String {
    if let Some(marker) = module
        .exports
        .iter()
        .find(|e| e.name.starts_with(MARKER_PREFIX))
    {
        return format!(
            "it declares `{}`, a version marker of an ABI this tool does not know (another proxy's \
             own ABI, or a newer Proxy-Wasm version)",
            marker.name
        );
    }
    if module.imports.iter().any(|i| i.module == HTTP_WASM_MODULE)
        || module.exports_function(HTTP_WASM_EXPORT)
    {
        return "it is an http-wasm module (imports from `http_handler`), not a Proxy-Wasm plugin"
            .to_string();
    }
    let callbacks = module
        .exports
        .iter()
        .filter(|e| e.name.starts_with(CALLBACK_PREFIX))
        .count();
    let hostcalls = module
        .imports
        .iter()
        .filter(|i| i.name.starts_with(CALLBACK_PREFIX))
        .count();
    if callbacks + hostcalls > 0 {
        return format!(
            "it uses Proxy-Wasm names ({callbacks} `proxy_*` exports, {hostcalls} `proxy_*` imports) \
             without a version marker: a build from before ABI 0.1.0 (early Istio/envoy-wasm SDKs)"
        );
    }
    "it has neither Proxy-Wasm callbacks nor hostcalls: not a Proxy-Wasm plugin".to_string()
}
