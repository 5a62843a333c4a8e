//! Reads one version's spec document into the model. The only module that touches the `witx` crate.

use crate::expand::{self, Expanded};
use crate::model::{
    Abi, CoreType, Enum, EnumCase, Function, IntType, Output, Param, RequiredGroup, Results,
    ValueType,
};
use crate::version::Version;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use witx::{BuiltinType, Document, InterfaceFunc, RecordKind, Type, TypeRef, WasmType};

/// Why a spec document could not be turned into a model.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The document could not be read.
    #[error("{path}: cannot read the spec document: {source}")]
    Unreadable {
        /// The document.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// witx rejected the document; `report` names the file and line.
    #[error("{report}")]
    Invalid {
        /// witx's report, with the file, the line and the offending text.
        report: String,
    },
    /// The document is valid witx but breaks one of the conventions of `spec/README.md`.
    #[error("{path}:{line}: {message}")]
    Convention {
        /// The document.
        path: PathBuf,
        /// The line of the offending item (1-based; 0 when it cannot be located).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Loads the document of `version` from `spec_dir` into the model: the version document expanded with
/// the items of its included files that belong to `version` (see [`crate::expand`]), then read by witx.
pub fn load(spec_dir: &Path, version: Version) -> Result<Abi, SpecError> {
    let whole = expand::inline_uses(expand::version_document(spec_dir, version)?, spec_dir)?;
    let text = whole.text();
    let doc = witx::parse(&text).map_err(|e| witx_error(&e, &whole, &text))?;
    Reader {
        path: &version.document(spec_dir),
        whole: &whole,
        doc: &doc,
        enums: collect_enums(&doc, &text),
    }
    .abi(version)
}

/// witx's error, with the places it names mapped back to the files and lines they were written in.
fn witx_error(error: &witx::WitxError, whole: &Expanded, text: &str) -> SpecError {
    use witx::ValidationError as V;
    let at = |location: &witx::Location, message: &str| {
        place(whole, location.line, location.column, message)
    };
    let report = match error {
        witx::WitxError::Parse(e) => {
            let (line, column) = e.span().linecol_in(text);
            place(whole, line + 1, column + 1, &e.message())
        }
        witx::WitxError::Validation(v) => match v {
            V::NameAlreadyExists {
                at_location,
                previous_location,
                ..
            } => format!(
                "{}\n{}",
                at(at_location, &v.to_string()),
                at(previous_location, "defined first here")
            ),
            V::UnknownName { location, .. }
            | V::WrongKindName { location, .. }
            | V::Recursive { location, .. }
            | V::InvalidRepr { location, .. }
            | V::Abi { location, .. }
            | V::AnonymousRecord { location }
            | V::UnionSizeMismatch { location, .. }
            | V::InvalidUnionTag { location, .. }
            | V::InvalidUnionField { location, .. } => at(location, &v.to_string()),
        },
        witx::WitxError::Io(path, e) => format!("{}: {e}", path.display()),
    };
    SpecError::Invalid { report }
}

/// `file:line:column: message`, then the line itself with a caret under the column.
fn place(whole: &Expanded, line: usize, column: usize, message: &str) -> String {
    // An error at the very end (an unclosed form) points past the last line.
    let line = line.min(whole.len());
    let source = whole.line(line).unwrap_or("");
    match whole.origin(line) {
        Some(origin) => format!(
            "{}:{}:{column}: {message}\n{:>5} | {source}\n{:>5}   {:>column$}",
            origin.path.display(),
            origin.line,
            origin.line,
            "",
            "^"
        ),
        None => format!("line {line} of the expanded document: {message}"),
    }
}

/// The `;;;` lines right above `(@witx const $ty $name …)` in the document. witx 0.9.1 drops the
/// doc comments of constants, so they are read from the text.
fn const_docs(text: &str, ty: &str, name: &str) -> String {
    let needle = format!("(@witx const ${ty} ${name} ");
    let lines: Vec<&str> = text.lines().collect();
    let Some(at) = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&needle))
    else {
        return String::new();
    };
    let mut docs: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .map(|l| l.trim_start())
        .take_while(|l| l.starts_with(";;;"))
        .map(|l| l.trim_start_matches(";;;").trim())
        .collect();
    docs.reverse();
    docs.join("\n")
}

fn collect_enums(doc: &Document, text: &str) -> BTreeMap<String, Enum> {
    let mut enums = BTreeMap::new();
    for c in doc.constants() {
        let Some(ty) = doc.typename(&c.ty) else {
            continue;
        };
        let entry = enums
            .entry(c.ty.as_str().to_string())
            .or_insert_with(|| Enum {
                name: c.ty.as_str().to_string(),
                docs: ty.docs.trim().to_string(),
                cases: Vec::new(),
            });
        entry.cases.push(EnumCase {
            name: c.name.as_str().to_string(),
            value: c.value as u32,
            docs: match c.docs.trim() {
                "" => const_docs(text, c.ty.as_str(), c.name.as_str()),
                docs => docs.to_string(),
            },
        });
    }
    for e in enums.values_mut() {
        e.cases.sort_by_key(|c| c.value);
    }
    enums
}

struct Reader<'a> {
    /// The version document, named when an error cannot be placed.
    path: &'a Path,
    whole: &'a Expanded,
    doc: &'a Document,
    enums: BTreeMap<String, Enum>,
}

/// Where a module's functions live, read from its name `provider.family[.qualifier]`.
struct ModuleName {
    provider: String,
    family: String,
    required: bool,
    unwritten: bool,
}

impl<'a> Reader<'a> {
    fn abi(self, version: Version) -> Result<Abi, SpecError> {
        let mut imports = Vec::new();
        let mut exports = Vec::new();
        let mut required_exports = Vec::new();
        let mut memory_required = false;

        for module in self.doc.modules() {
            let name = self.module_name(module.name.as_str())?;
            let is_export = name.provider == "plugin";
            if module.imports().next().is_some() {
                if !(is_export && name.required) {
                    return Err(self.convention(
                        &format!("(module ${}", module.name.as_str()),
                        "only a `plugin.<family>.required` module may declare the memory".into(),
                    ));
                }
                memory_required = true;
            }
            let mut group = Vec::new();
            for func in module.funcs() {
                let f = self.function(&func, &name)?;
                if is_export {
                    group.push(f.name.clone());
                    exports.push(f);
                } else {
                    imports.push(f);
                }
            }
            if is_export && name.required && !group.is_empty() {
                required_exports.push(RequiredGroup {
                    family: name.family.clone(),
                    names: group,
                });
            }
        }

        imports.sort_by(|a: &Function, b| (&a.module, &a.name).cmp(&(&b.module, &b.name)));
        exports.sort_by(|a: &Function, b| a.name.cmp(&b.name));
        for pair in imports.windows(2).chain(exports.windows(2)) {
            if pair[0].module == pair[1].module && pair[0].name == pair[1].name {
                return Err(self.convention(
                    &format!("\"{}\"", pair[1].name),
                    format!("`{}` is declared twice", pair[1].name),
                ));
            }
        }
        Ok(Abi {
            version,
            imports,
            exports,
            enums: self.enums.into_values().collect(),
            required_exports,
            memory_required,
        })
    }

    fn module_name(&self, id: &str) -> Result<ModuleName, SpecError> {
        let bad = |why: &str| {
            self.convention(&format!("(module ${id}"), format!("module `${id}`: {why}"))
        };
        let parts: Vec<&str> = id.split('.').collect();
        let (provider, family, qualifier) = match parts.as_slice() {
            [p, f] => (*p, *f, None),
            [p, f, q] => (*p, *f, Some(*q)),
            _ => return Err(bad("expected `$<provider>.<family>[.<qualifier>]`")),
        };
        if provider.is_empty() || family.is_empty() {
            return Err(bad("empty provider or family"));
        }
        let is_export = provider == "plugin";
        let (required, unwritten) = match qualifier {
            None => (false, false),
            Some("required") if is_export => (true, false),
            Some("unwritten") if !is_export => (false, true),
            Some(q) => return Err(bad(&format!("qualifier `{q}` is not allowed here"))),
        };
        Ok(ModuleName {
            provider: provider.to_string(),
            family: family.to_string(),
            required,
            unwritten,
        })
    }

    fn function(&self, func: &InterfaceFunc, module: &ModuleName) -> Result<Function, SpecError> {
        let name = func.name.as_str();
        let here = format!("(export \"{name}\")");
        let err = |message: String| self.convention(&here, format!("`{name}`: {message}"));

        let mut params = Vec::new();
        for p in &func.params {
            let ty = self
                .value_type(&p.tref)
                .map_err(|why| err(format!("parameter `{}`: {why}", p.name.as_str())))?;
            params.push(Param {
                name: p.name.as_str().to_string(),
                ty,
                docs: p.docs.trim().to_string(),
            });
        }
        let result = match func.results.as_slice() {
            [] => Results::None,
            [r] => self
                .result(&r.tref, r.name.as_str(), r.docs.trim())
                .map_err(&err)?,
            _ => return Err(err("more than one result".into())),
        };
        let function = Function {
            name: name.to_string(),
            module: module.provider.clone(),
            family: module.family.clone(),
            written: !module.unwritten,
            required: module.required,
            docs: func.docs.trim().to_string(),
            params,
            result,
        };

        let (witx_params, witx_results) = func.wasm_signature();
        let ours = (function.core_params(), function.core_results());
        let theirs = (core_types(&witx_params), core_types(&witx_results));
        if ours != theirs {
            return Err(err(format!(
                "the idioms used lower to {ours:?}, but witx lowers them to {theirs:?}; \
                 see the lowering idioms in spec/README.md"
            )));
        }
        Ok(function)
    }

    fn value_type(&self, tref: &TypeRef) -> Result<ValueType, String> {
        let named = match tref {
            TypeRef::Name(named) => named,
            TypeRef::Value(ty) => {
                return match &**ty {
                    Type::Variant(v) if v.is_bool() => Ok(ValueType::Bool),
                    other => Err(format!(
                        "use a named type, not an inline `{}`",
                        other.kind()
                    )),
                }
            }
        };
        let alias = named.name.as_str().to_string();
        match &**named.type_() {
            Type::Builtin(b) => {
                if self.enums.contains_key(&alias) {
                    if !matches!(b, BuiltinType::U32 { .. }) {
                        return Err(format!("enumeration `{alias}` must be a u32 typename"));
                    }
                    return Ok(ValueType::Enum(alias));
                }
                let repr =
                    int_type(*b).ok_or_else(|| format!("`{alias}` is not an integer type"))?;
                Ok(ValueType::Int { alias, repr })
            }
            Type::List(item) if is_u8(item) => Ok(ValueType::Bytes(alias)),
            Type::Pointer(_) | Type::ConstPointer(_) => Ok(ValueType::GuestPointer(alias)),
            Type::Variant(v) if v.is_bool() => Ok(ValueType::Bool),
            other => Err(format!(
                "type `{alias}` ({}) is not one of the lowering idioms",
                other.kind()
            )),
        }
    }

    fn result(&self, tref: &TypeRef, name: &str, docs: &str) -> Result<Results, String> {
        if let Type::Variant(v) = &**tref.type_() {
            if let Some((ok, err)) = v.as_expected() {
                let status = match err {
                    Some(TypeRef::Name(n)) if self.enums.contains_key(n.name.as_str()) => {
                        n.name.as_str().to_string()
                    }
                    _ => {
                        return Err("the error of an `expected` must be a status enumeration".into())
                    }
                };
                let outputs = match ok {
                    None => Vec::new(),
                    Some(ok) => self.outputs(ok)?,
                };
                return Ok(Results::Status {
                    status,
                    outputs,
                    docs: docs.to_string(),
                });
            }
        }
        let ty = self.value_type(tref)?;
        if matches!(ty, ValueType::Bytes(_) | ValueType::Bool) {
            return Err("a plain result must be a scalar, an enumeration or a pointer".into());
        }
        Ok(Results::Value {
            name: name.to_string(),
            ty,
            docs: docs.to_string(),
        })
    }

    fn outputs(&self, ok: &TypeRef) -> Result<Vec<Output>, String> {
        let Type::Record(record) = &**ok.type_() else {
            return Err(
                "the value of an `expected` must be a tuple (see spec/README.md, rule 1)".into(),
            );
        };
        if !matches!(record.kind, RecordKind::Tuple) {
            return Err(
                "the value of an `expected` must be a tuple (see spec/README.md, rule 1)".into(),
            );
        }
        let members: Vec<ValueType> = record
            .members
            .iter()
            .map(|m| self.value_type(&m.tref))
            .collect::<Result<_, _>>()?;
        let mut outputs = Vec::new();
        let mut i = 0;
        while i < members.len() {
            match (&members[i], members.get(i + 1)) {
                (
                    ValueType::GuestPointer(_),
                    Some(ValueType::Int {
                        repr: IntType::Usize,
                        ..
                    }),
                ) => {
                    outputs.push(Output::HostBuffer);
                    i += 2;
                }
                (ValueType::GuestPointer(p), _) => {
                    return Err(format!(
                        "output pointer `{p}` must be followed by its `$size`"
                    ));
                }
                (ValueType::Bytes(b), _) => {
                    return Err(format!(
                        "`{b}` is passed in; outputs use `$host_buffer $size`"
                    ));
                }
                (other, _) => {
                    outputs.push(Output::Value(other.clone()));
                    i += 1;
                }
            }
        }
        Ok(outputs)
    }

    fn convention(&self, needle: &str, message: String) -> SpecError {
        match self
            .whole
            .find(needle)
            .and_then(|line| self.whole.origin(line))
        {
            Some(origin) => SpecError::Convention {
                path: origin.path.clone(),
                line: origin.line,
                message,
            },
            None => SpecError::Convention {
                path: self.path.to_path_buf(),
                line: 0,
                message,
            },
        }
    }
}

fn is_u8(item: &TypeRef) -> bool {
    matches!(&**item.type_(), Type::Builtin(BuiltinType::U8 { .. }))
}

fn int_type(b: BuiltinType) -> Option<IntType> {
    Some(match b {
        BuiltinType::U8 { .. } => IntType::U8,
        BuiltinType::U16 => IntType::U16,
        BuiltinType::U32 {
            lang_ptr_size: true,
        } => IntType::Usize,
        BuiltinType::U32 {
            lang_ptr_size: false,
        } => IntType::U32,
        BuiltinType::U64 => IntType::U64,
        BuiltinType::S32 => IntType::S32,
        BuiltinType::S64 => IntType::S64,
        _ => return None,
    })
}

fn core_types(types: &[WasmType]) -> Vec<CoreType> {
    types
        .iter()
        .map(|t| match t {
            WasmType::I32 => CoreType::I32,
            WasmType::I64 => CoreType::I64,
            WasmType::F32 => CoreType::F32,
            WasmType::F64 => CoreType::F64,
        })
        .collect()
}
