//! Reads a wasm binary: validates it with `wasmparser` and collects its imports and exports with their
//! core signatures. Never panics, whatever the bytes.

use std::fmt;
use wasmparser::{
    CompositeInnerType, Encoding, ExternalKind, FuncToValidate, FuncValidatorAllocations,
    FunctionBody, Parser, Payload, TypeRef, ValidPayload, Validator, ValidatorResources,
    WasmFeatures,
};

/// Why a file is not a wasm module this tool can audit: not wasm, truncated, invalid, or a component.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at offset {offset} (0x{offset:x}): {message}")]
pub struct ParseError {
    /// The byte offset where reading failed.
    pub offset: usize,
    /// What is wrong, on one line.
    pub message: String,
}

impl From<wasmparser::BinaryReaderError> for ParseError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        ParseError {
            offset: e.offset(),
            message: one_line(e.message()),
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A core-wasm function signature, with each type spelled as in the text format (`i32`, `v128`,
/// `funcref`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Parameter types.
    pub params: Vec<String>,
    /// Result types.
    pub results: Vec<String>,
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::symbols::signature_text(
            self.params.iter().map(String::as_str),
            self.results.iter().map(String::as_str),
        ))
    }
}

impl Signature {
    /// Whether this is exactly the signature of `symbol`.
    pub fn matches(&self, symbol: &crate::Symbol) -> bool {
        self.params.len() == symbol.params.len()
            && self.results.len() == symbol.results.len()
            && self
                .params
                .iter()
                .zip(symbol.params)
                .all(|(a, b)| a == b.as_str())
            && self
                .results
                .iter()
                .zip(symbol.results)
                .all(|(a, b)| a == b.as_str())
    }
}

/// What an import or export is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A function, with its signature.
    Function(Signature),
    /// A linear memory.
    Memory,
    /// A table.
    Table,
    /// A global.
    Global,
    /// An exception tag.
    Tag,
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemKind::Function(sig) => write!(f, "function {sig}"),
            ItemKind::Memory => f.write_str("memory"),
            ItemKind::Table => f.write_str("table"),
            ItemKind::Global => f.write_str("global"),
            ItemKind::Tag => f.write_str("tag"),
        }
    }
}

/// One import of the module.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Import {
    /// The module it is imported from.
    pub module: String,
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: ItemKind,
}

/// One export of the module.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Export {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: ItemKind,
    /// The index of the exported item in its index space (two function exports with the same index
    /// are the same function).
    pub index: u32,
}

/// The `producers` custom section: who built the module. Each field lists `(name, version)` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Producers {
    /// Source languages (`Rust`, `C11`, `Go`, …).
    pub language: Vec<(String, String)>,
    /// Tools that processed the module (`rustc`, `clang`, `TinyGo`, …).
    pub processed_by: Vec<(String, String)>,
    /// SDKs (`Emscripten`, …).
    pub sdk: Vec<(String, String)>,
}

impl Producers {
    /// Whether the section was absent or empty.
    pub fn is_empty(&self) -> bool {
        self.language.is_empty() && self.processed_by.is_empty() && self.sdk.is_empty()
    }
}

/// The imports and exports of a valid core wasm module, and what else the audit reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Imports, in module order.
    pub imports: Vec<Import>,
    /// Exports, in module order.
    pub exports: Vec<Export>,
    /// Whether the module has a wasm start function (the `start` section).
    pub start: bool,
    /// The start function's index, if any.
    pub start_function: Option<u32>,
    /// The number of imported functions (defined functions are numbered after them).
    pub imported_functions: u32,
    /// For each defined function (in index order, after the imported ones), the functions it calls
    /// directly (`call`, `return_call`); indirect calls are not followed.
    pub direct_calls: Vec<Vec<u32>>,
    /// For each defined function, the functions it calls directly on every run (see
    /// [`ModuleInfo::always_reaches_import`]).
    pub unconditional_calls: Vec<Vec<u32>>,
    /// Whether a function uses 128-bit SIMD (an instruction of the `0xFD` prefix, or a `v128` local).
    pub uses_simd: bool,
    /// Its `producers` section (empty when absent or unreadable).
    pub producers: Producers,
}

impl ModuleInfo {
    /// The function import `module.name`, if any.
    pub fn function_import(&self, module: &str, name: &str) -> Option<&Import> {
        self.imports.iter().find(|i| {
            i.module == module && i.name == name && matches!(i.kind, ItemKind::Function(_))
        })
    }

    /// The export called `name`, if any.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }

    /// The imported function `function` reaches through direct calls, if any: the first one found in
    /// breadth-first order, as `module.name`.
    pub fn reaches_import(&self, function: u32) -> Option<String> {
        self.first_import(function, &self.direct_calls)
    }

    /// The imported function `function` calls on every run, through calls it makes on every run
    /// (outside `if` arms, before any branch that could skip them), if any, as `module.name`. A
    /// conservative reading: a call it may skip does not count.
    pub fn always_reaches_import(&self, function: u32) -> Option<String> {
        self.first_import(function, &self.unconditional_calls)
    }

    fn first_import(&self, function: u32, edges: &[Vec<u32>]) -> Option<String> {
        let mut seen = vec![false; edges.len()];
        let mut queue = std::collections::VecDeque::from([function]);
        while let Some(f) = queue.pop_front() {
            if f < self.imported_functions {
                let import = self
                    .imports
                    .iter()
                    .filter(|i| matches!(i.kind, ItemKind::Function(_)))
                    .nth(f as usize)?;
                return Some(format!("{}.{}", import.module, import.name));
            }
            let Some(defined) = (f - self.imported_functions).try_into().ok() else {
                continue;
            };
            let defined: usize = defined;
            if defined >= seen.len() || seen[defined] {
                continue;
            }
            seen[defined] = true;
            queue.extend(edges[defined].iter().copied());
        }
        None
    }

    /// The index of the exported function `name`, if any.
    pub fn exported_function(&self, name: &str) -> Option<u32> {
        self.export(name)
            .filter(|e| matches!(e.kind, ItemKind::Function(_)))
            .map(|e| e.index)
    }

    /// Whether a function called `name` is exported.
    pub fn exports_function(&self, name: &str) -> bool {
        self.export(name)
            .is_some_and(|e| matches!(e.kind, ItemKind::Function(_)))
    }
}

type Body<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// Below this much code, function bodies are validated on the calling thread.
const PARALLEL_THRESHOLD: usize = 256 * 1024;

/// Validates the function bodies, in parallel on large modules. The error reported is always the one
/// of the first invalid body, as a sequential validation would report.
fn validate_bodies(bodies: Vec<Body<'_>>, body_bytes: usize) -> Result<(), ParseError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    if threads < 2 || body_bytes < PARALLEL_THRESHOLD || bodies.len() < threads {
        return validate_sequentially(bodies);
    }
    // Contiguous chunks of about equal code size, so the first failing chunk holds the first error.
    let share = body_bytes / threads + 1;
    let mut chunks: Vec<Vec<Body<'_>>> = Vec::with_capacity(threads);
    let mut current = Vec::new();
    let mut size = 0usize;
    for body in bodies {
        size = size.saturating_add(body.1.range().len());
        current.push(body);
        if size >= share {
            chunks.push(std::mem::take(&mut current));
            size = 0;
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    let mut results: Vec<Result<(), ParseError>> = Vec::with_capacity(chunks.len());
    std::thread::scope(|scope| {
        let mut chunks = chunks.into_iter();
        let first = chunks.next();
        let handles: Vec<_> = chunks
            .map(|chunk| scope.spawn(move || validate_sequentially(chunk)))
            .collect();
        results.push(first.map_or(Ok(()), validate_sequentially));
        for handle in handles {
            results.push(handle.join().unwrap_or_else(|_| {
                Err(ParseError {
                    offset: 0,
                    message: "internal error: the function validator failed".into(),
                })
            }));
        }
    });
    results.into_iter().collect()
}

fn validate_sequentially(bodies: Vec<Body<'_>>) -> Result<(), ParseError> {
    let mut allocations = FuncValidatorAllocations::default();
    for (to_validate, body) in bodies {
        let mut func = to_validate.into_validator(allocations);
        func.validate(&body)?;
        allocations = func.into_allocations();
    }
    Ok(())
}

enum Pending {
    Func(u32),
    Ready(ItemKind),
}

/// Validates `bytes` as a core wasm module (wasmparser's default features) and reads its imports and
/// exports.
///
/// # Errors
///
/// A [`ParseError`] with the offset when the bytes are not a valid core module.
pub fn parse(bytes: &[u8]) -> Result<ModuleInfo, ParseError> {
    let mut validator = Validator::new_with_features(WasmFeatures::default());
    let mut bodies = Vec::new();
    let mut body_bytes = 0usize;
    let mut imports: Vec<(String, String, Pending)> = Vec::new();
    let mut exports: Vec<(String, Pending, u32)> = Vec::new();
    let mut start = None;
    let mut direct_calls: Vec<Vec<u32>> = Vec::new();
    let mut unconditional_calls: Vec<Vec<u32>> = Vec::new();
    let mut uses_simd = false;
    let mut producers = Producers::default();
    let mut functions: u32 = 0;
    let mut types = None;

    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        if let Payload::Version {
            encoding: Encoding::Component,
            range,
            ..
        } = &payload
        {
            return Err(ParseError {
                offset: range.start,
                message: "this is a wasm component; a Proxy-Wasm plugin is a core module".into(),
            });
        }
        match validator.payload(&payload)? {
            ValidPayload::Func(to_validate, body) => {
                body_bytes = body_bytes.saturating_add(body.range().len());
                let (all, always, simd) = calls_of(&body, bytes);
                uses_simd |= simd;
                direct_calls.push(all);
                unconditional_calls.push(always);
                bodies.push((to_validate, body));
            }
            ValidPayload::End(t) => types = Some(t),
            _ => {}
        }
        match payload {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let kind = match import.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => {
                            let index = functions;
                            functions = functions.saturating_add(1);
                            Pending::Func(index)
                        }
                        TypeRef::Memory(_) => Pending::Ready(ItemKind::Memory),
                        TypeRef::Table(_) => Pending::Ready(ItemKind::Table),
                        TypeRef::Global(_) => Pending::Ready(ItemKind::Global),
                        TypeRef::Tag(_) => Pending::Ready(ItemKind::Tag),
                    };
                    imports.push((import.module.to_string(), import.name.to_string(), kind));
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => Pending::Func(export.index),
                        ExternalKind::Memory => Pending::Ready(ItemKind::Memory),
                        ExternalKind::Table => Pending::Ready(ItemKind::Table),
                        ExternalKind::Global => Pending::Ready(ItemKind::Global),
                        ExternalKind::Tag => Pending::Ready(ItemKind::Tag),
                    };
                    exports.push((export.name.to_string(), kind, export.index));
                }
            }
            Payload::StartSection { func, .. } => start = Some(func),
            Payload::CustomSection(reader) if reader.name() == "producers" => {
                // A malformed producers section is not the audit's business: it is left out.
                if let Ok(read) = read_producers(reader.data(), reader.data_offset()) {
                    producers = read;
                }
            }
            _ => {}
        }
    }

    let Some(types) = types else {
        return Err(ParseError {
            offset: bytes.len(),
            message: "unexpected end of the module".into(),
        });
    };
    validate_bodies(bodies, body_bytes)?;
    let types = types.as_ref();
    let resolve = |pending: Pending| -> Result<ItemKind, ParseError> {
        match pending {
            Pending::Ready(kind) => Ok(kind),
            Pending::Func(index) => {
                let bad = || ParseError {
                    offset: 0,
                    message: format!("function {index} has no function type"),
                };
                if index >= types.function_count() {
                    return Err(bad());
                }
                match &types[types.core_function_at(index)].composite_type.inner {
                    CompositeInnerType::Func(f) => Ok(ItemKind::Function(Signature {
                        params: f.params().iter().map(ToString::to_string).collect(),
                        results: f.results().iter().map(ToString::to_string).collect(),
                    })),
                    _ => Err(bad()),
                }
            }
        }
    };
    let mut info = ModuleInfo {
        imports: Vec::with_capacity(imports.len()),
        exports: Vec::with_capacity(exports.len()),
        start: start.is_some(),
        start_function: start,
        imported_functions: functions,
        direct_calls,
        unconditional_calls,
        uses_simd,
        producers,
    };
    for (module, name, pending) in imports {
        info.imports.push(Import {
            module,
            name,
            kind: resolve(pending)?,
        });
    }
    for (name, pending, index) in exports {
        info.exports.push(Export {
            name,
            kind: resolve(pending)?,
            index,
        });
    }
    Ok(info)
}

/// The functions a body calls directly (`call`, `return_call`): all of them, and those it calls on
/// every run. A call runs on every run when no instruction before it can skip it: it is not inside an
/// `if` arm, and no branch, `return`, `unreachable` or throw before it jumps over it (a branch skips the
/// rest of the block it leaves; `br_table` and leaving the function skip the rest of the body). A body
/// that does not decode is left to the validator, which reports it; its calls are then irrelevant.
/// Also says whether the body uses 128-bit SIMD (`module` is the whole module's bytes).
fn calls_of(body: &FunctionBody<'_>, module: &[u8]) -> (Vec<u32>, Vec<u32>, bool) {
    use wasmparser::Operator as Op;
    let mut all = Vec::new();
    let mut always = Vec::new();
    let mut simd = body.get_locals_reader().is_ok_and(|locals| {
        locals
            .into_iter()
            .any(|l| l.is_ok_and(|(_, ty)| ty == wasmparser::ValType::V128))
    });
    let Ok(mut reader) = body.get_operators_reader() else {
        return (all, always, simd);
    };
    // One entry per open block, loop, `if` or `try_table`: whether code after its `end` runs on every
    // run (as far as this block is concerned).
    let mut after_end: Vec<bool> = Vec::new();
    let mut straight = true;
    while !reader.eof() {
        // The SIMD instructions are the ones of the 0xFD prefix byte.
        simd |= module.get(reader.original_position()) == Some(&SIMD_PREFIX);
        let Ok(op) = reader.read() else { break };
        match op {
            Op::Call { function_index } | Op::ReturnCall { function_index } => {
                all.push(function_index);
                if straight {
                    always.push(function_index);
                }
                if matches!(op, Op::ReturnCall { .. }) {
                    straight = false;
                    after_end.iter_mut().for_each(|r| *r = false);
                }
            }
            Op::Block { .. } | Op::Loop { .. } | Op::TryTable { .. } => after_end.push(straight),
            Op::If { .. } => {
                after_end.push(straight);
                straight = false;
            }
            Op::End => {
                if let Some(restore) = after_end.pop() {
                    straight = restore;
                }
            }
            Op::Br { relative_depth } | Op::BrIf { relative_depth } => {
                straight = false;
                let depth = relative_depth as usize;
                if depth >= after_end.len() {
                    after_end.iter_mut().for_each(|r| *r = false);
                } else {
                    // Blocks nested inside the target end inside the skipped region.
                    let target = after_end.len() - 1 - depth;
                    after_end[target + 1..].iter_mut().for_each(|r| *r = false);
                }
            }
            Op::BrTable { .. }
            | Op::BrOnNull { .. }
            | Op::BrOnNonNull { .. }
            | Op::Return
            | Op::Unreachable
            | Op::Throw { .. }
            | Op::ThrowRef => {
                straight = false;
                after_end.iter_mut().for_each(|r| *r = false);
            }
            _ => {}
        }
    }
    for list in [&mut all, &mut always] {
        list.sort_unstable();
        list.dedup();
    }
    (all, always, simd)
}

/// The prefix byte of the 128-bit SIMD instructions (WebAssembly 2.0, section 5.4.8).
const SIMD_PREFIX: u8 = 0xFD;

fn read_producers(data: &[u8], offset: usize) -> Result<Producers, wasmparser::BinaryReaderError> {
    let mut producers = Producers::default();
    let reader =
        wasmparser::ProducersSectionReader::new(wasmparser::BinaryReader::new(data, offset))?;
    for field in reader {
        let field = field?;
        let mut values = Vec::new();
        for value in field.values {
            let value = value?;
            values.push((value.name.to_string(), value.version.to_string()));
        }
        match field.name {
            "language" => producers.language.extend(values),
            "processed-by" => producers.processed_by.extend(values),
            "sdk" => producers.sdk.extend(values),
            _ => {}
        }
    }
    Ok(producers)
}
