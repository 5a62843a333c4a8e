//! The wasm runner: loads a compiled plugin into wasmtime and lets the [`Emulator`](super::Emulator)
//! drive it through the ABI, with the same state and the same test API as a plugin compiled into the
//! test.
//!
//! The host glue (every import of the version, lifted out of guest memory into the emulator's
//! [`EnvHost`](proxywasm::abi::EnvHost) implementation, and every export as a typed function) is generated
//! from `spec/` into `emulator/generated/v<version>/runner.rs` (see [`crate::glue`]); [`support`] holds
//! the hand-written memory access and WASI.
//!
//! A module is audited before it runs: one that fails the conformance audit, or that targets another ABI
//! version than the SDK it is tested with, is refused with the findings. Compiled modules are cached per
//! path and modification time, so a test suite compiles each plugin once.

pub mod support;

use super::host::HostHandle;
use crate::glue::runner::{add_to_linker, GuestExports, WasmInstance};
use proxywasm_conformance::{audit, AbiChoice, Severity};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;
use support::{ProcExit, StoreData};
use wasmtime::{Engine, Linker, Module, Store};

/// Why a `.wasm` plugin could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Read(std::io::Error),
    /// The bytes are not a valid wasm module.
    Invalid(String),
    /// The module fails the conformance audit: every finding of severity error, one per line.
    Nonconforming(Vec<String>),
    /// The module targets another ABI version than this SDK was built for.
    WrongAbi {
        /// The version the module declares (`None`: it declares none the audit knows).
        module: Option<String>,
        /// The version this SDK (and so the emulator) implements.
        emulator: &'static str,
    },
    /// wasmtime could not compile or instantiate it (an import the runner does not provide, a start
    /// function that traps, …).
    Instantiate(String),
    /// The entry point (`_initialize` or `_start`) trapped.
    Entry(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Read(e) => write!(f, "cannot read the plugin: {e}"),
            LoadError::Invalid(e) => write!(f, "not a valid wasm module: {e}"),
            LoadError::Nonconforming(findings) => {
                write!(f, "the module fails the conformance audit:")?;
                for finding in findings {
                    write!(f, "\n  {finding}")?;
                }
                Ok(())
            }
            LoadError::WrongAbi { module, emulator } => write!(
                f,
                "the module targets ABI {}, but this SDK and its emulator implement ABI {emulator}; build \
                 the test with the matching `abi-*` feature",
                module.as_deref().unwrap_or("(none)")
            ),
            LoadError::Instantiate(e) => write!(f, "cannot instantiate the module: {e}"),
            LoadError::Entry(e) => write!(f, "the module's entry point trapped: {e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// The engine runners share: one for plain runs and one that meters the guest's work with fuel (about one
/// unit per wasm instruction executed).
fn engine(metered: bool) -> &'static Engine {
    static PLAIN: OnceLock<Engine> = OnceLock::new();
    static METERED: OnceLock<Engine> = OnceLock::new();
    if metered {
        METERED.get_or_init(|| {
            let mut config = wasmtime::Config::new();
            config.consume_fuel(true);
            Engine::new(&config).unwrap_or_else(|_| Engine::default())
        })
    } else {
        PLAIN.get_or_init(Engine::default)
    }
}

type ModuleCache = Mutex<HashMap<(PathBuf, bool), (Option<SystemTime>, Module)>>;

/// Reads, audits and compiles the module at `path`, or returns the compiled module cached for the same
/// file and modification time.
fn compile(path: &Path, metered: bool) -> Result<Module, LoadError> {
    static CACHE: OnceLock<ModuleCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let modified = std::fs::metadata(path)
        .map_err(LoadError::Read)?
        .modified()
        .ok();
    let key = (path.to_path_buf(), metered);
    if let Some((when, module)) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        if *when == modified && modified.is_some() {
            return Ok(module.clone());
        }
    }
    let bytes = std::fs::read(path).map_err(LoadError::Read)?;
    let module = compile_for(&bytes, metered)?;
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, (modified, module.clone()));
    Ok(module)
}

/// Audits and compiles a module from its bytes: [`LoadError::Invalid`], [`LoadError::Nonconforming`],
/// [`LoadError::WrongAbi`] or [`LoadError::Instantiate`] (compilation) when it cannot run here.
fn compile_for(bytes: &[u8], metered: bool) -> Result<Module, LoadError> {
    let report =
        audit(bytes, AbiChoice::Auto, None).map_err(|e| LoadError::Invalid(e.to_string()))?;
    if !report.ok {
        let errors: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(ToString::to_string)
            .collect();
        return Err(LoadError::Nonconforming(errors));
    }
    if report.abi.as_deref() != Some(proxywasm::abi::ABI_VERSION) {
        return Err(LoadError::WrongAbi {
            module: report.abi,
            emulator: proxywasm::abi::ABI_VERSION,
        });
    }
    Module::new(engine(metered), bytes).map_err(|e| LoadError::Instantiate(format!("{e:#}")))
}

/// Where a module to instantiate comes from.
pub(crate) enum Source<'a> {
    /// A file, compiled once per path and modification time.
    Path(&'a Path),
    /// Bytes, compiled anew.
    Bytes(&'a [u8]),
}

/// Every import of the version registered once per engine (plain or metered), shared by all instances.
fn linker(metered: bool) -> Result<&'static Linker<StoreData>, LoadError> {
    static PLAIN: OnceLock<Linker<StoreData>> = OnceLock::new();
    static METERED: OnceLock<Linker<StoreData>> = OnceLock::new();
    let cell = if metered { &METERED } else { &PLAIN };
    if let Some(linker) = cell.get() {
        return Ok(linker);
    }
    let mut linker = Linker::new(engine(metered));
    add_to_linker(&mut linker).map_err(|e| LoadError::Instantiate(format!("{e:#}")))?;
    Ok(cell.get_or_init(|| linker))
}

/// Audits, compiles (or finds compiled) and instantiates a module against the emulator's host, and runs
/// its entry point.
pub(crate) fn instantiate(
    source: Source<'_>,
    host: HostHandle,
    metered: bool,
) -> Result<WasmInstance, LoadError> {
    let module = match source {
        Source::Path(path) => compile(path, metered)?,
        Source::Bytes(bytes) => compile_for(bytes, metered)?,
    };
    let linker = linker(metered)?;
    let mut store = Store::new(engine(metered), StoreData::new(host));
    // Fails only when the engine does not meter; then there is nothing to set.
    let _ = store.set_fuel(u64::MAX);
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| LoadError::Instantiate(format!("{e:#}")))?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or_else(|| LoadError::Instantiate("the module exports no memory".into()))?;
    let exports = GuestExports::new(&mut store, &instance);
    store.data_mut().attach(memory, exports.allocator());
    if let Some(entry) = exports.entry() {
        match entry.call(&mut store, ()) {
            Ok(()) => {}
            Err(e) if e.downcast_ref::<ProcExit>() == Some(&ProcExit(0)) => {}
            Err(e) => return Err(LoadError::Entry(format!("{e:?}"))),
        }
    }
    Ok(WasmInstance { store, exports })
}

/// The fuel the guest has burnt so far (about one unit per wasm instruction), when metered.
pub(crate) fn fuel_used(instance: &WasmInstance) -> Option<u64> {
    instance.store.get_fuel().ok().map(|left| u64::MAX - left)
}

/// The linear memory of the instance, in bytes (for memory-growth checks).
pub(crate) fn memory_size(instance: &mut WasmInstance) -> usize {
    match instance.store.data().memory() {
        Some(memory) => memory.data_size(&instance.store),
        None => 0,
    }
}

// The hand-written test modules declare ABI 0.2.1.
#[cfg(all(test, proxywasm_abi = "0_2_1"))]
mod tests;
