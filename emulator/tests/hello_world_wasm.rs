//! hello_world built for each ABI version: every import and every `proxy_*` export it has is one that
//! version's symbol table defines, with the identical core signature, and it declares exactly its own
//! version. The binaries come from `scripts/plugins` (target/plugins/<version>/hello_world.wasm); one that is
//! missing or older than hello_world's or the SDK's sources fails the test with the command that builds it.

use proxywasm_codegen::listing::{symbols, SymbolListing};
use proxywasm_codegen::model::CoreType;
use proxywasm_codegen::{parser, version::default_spec_dir, Version};
use std::path::Path;
use wasmparser::{Payload, TypeRef, ValType};

/// Core parameter and result types.
type Signature = (Vec<CoreType>, Vec<CoreType>);

struct Module {
    imports: Vec<(String, String, Vec<CoreType>, Vec<CoreType>)>,
    exports: Vec<(String, Option<Signature>)>,
}

fn core(t: &ValType) -> CoreType {
    match t {
        ValType::I32 => CoreType::I32,
        ValType::I64 => CoreType::I64,
        ValType::F32 => CoreType::F32,
        ValType::F64 => CoreType::F64,
        other => panic!("unexpected value type {other:?}"),
    }
}

fn read(bytes: &[u8]) -> Module {
    let mut types = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    let mut imports = Vec::new();
    let mut raw_exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.expect("valid wasm") {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    let f = ty.expect("type");
                    types.push((
                        f.params().iter().map(core).collect::<Vec<_>>(),
                        f.results().iter().map(core).collect::<Vec<_>>(),
                    ));
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.expect("import");
                    if let TypeRef::Func(idx) = import.ty {
                        let (p, r) = types[idx as usize].clone();
                        imports.push((import.module.to_string(), import.name.to_string(), p, r));
                        func_types.push(idx);
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for f in reader {
                    func_types.push(f.expect("function"));
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e.expect("export");
                    raw_exports.push((e.name.to_string(), e.kind, e.index));
                }
            }
            _ => {}
        }
    }
    let exports = raw_exports
        .into_iter()
        .map(|(name, kind, index)| {
            let sig = (kind == wasmparser::ExternalKind::Func)
                .then(|| types[func_types[index as usize] as usize].clone());
            (name, sig)
        })
        .collect();
    Module { imports, exports }
}

fn binary(version: Version) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the emulator crate is in the repository");
    let hello = root.join("examples").join("hello_world");
    // Where scripts/plugins puts the binaries; a missing or stale one fails with the command that builds it.
    let path =
        proxywasm_emulator::module::built_module(&hello, "hello_world", &version.to_string())
            .unwrap_or_else(|problem| panic!("ABI {version}: {problem}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn check(version: Version, listing: &SymbolListing, module: &Module) {
    for (m, name, params, results) in &module.imports {
        let allowed = listing
            .imports
            .iter()
            .find(|s| &s.module == m && &s.name == name)
            .unwrap_or_else(|| panic!("ABI {version}: hello_world imports {m}.{name}, which the version does not define"));
        assert_eq!(
            (&allowed.params, &allowed.results),
            (params, results),
            "ABI {version}: {m}.{name}"
        );
    }
    for (name, sig) in &module.exports {
        if !name.starts_with("proxy_") {
            continue;
        }
        let allowed = listing
            .exports
            .iter()
            .find(|s| &s.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "ABI {version}: hello_world exports {name}, which the version does not define"
                )
            });
        let (params, results) = sig.as_ref().expect("a function");
        assert_eq!(
            (&allowed.params, &allowed.results),
            (params, results),
            "ABI {version}: {name}"
        );
    }
    let markers: Vec<&str> = module
        .exports
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| n.starts_with("proxy_abi_version_"))
        .collect();
    assert_eq!(
        markers,
        [format!("proxy_abi_version_{}", version.underscored())],
        "ABI {version}"
    );
    for required in [
        "memory",
        "proxy_on_memory_allocate",
        "_initialize",
        "proxy_on_context_create",
    ] {
        assert!(
            module.exports.iter().any(|(n, _)| n == required),
            "ABI {version}: {required} not exported"
        );
    }
}

#[test]
fn hello_world_imports_and_exports_only_its_versions_symbols() {
    for version in Version::ALL {
        let bytes = binary(version);
        let listing = symbols(&parser::load(&default_spec_dir(), version).expect("spec loads"));
        check(version, &listing, &read(&bytes));
    }
}
