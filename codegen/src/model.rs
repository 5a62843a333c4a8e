//! The generator's own model of one ABI version. Everything after the parser works on these types only.

use crate::lowering;
use crate::version::Version;
use serde::Serialize;

/// Everything one ABI version defines.
#[derive(Debug, Clone, PartialEq)]
pub struct Abi {
    /// Which version this is.
    pub version: Version,
    /// Functions the host provides to plugins (guest imports), sorted by module then name.
    pub imports: Vec<Function>,
    /// Callbacks a plugin exports and the host calls (guest exports), sorted by name.
    pub exports: Vec<Function>,
    /// Enumerations, with the values this version defines, sorted by name.
    pub enums: Vec<Enum>,
    /// Groups of exports of which a plugin must provide at least one.
    pub required_exports: Vec<RequiredGroup>,
    /// Whether a plugin must export its linear memory as `memory`.
    pub memory_required: bool,
}

impl Abi {
    /// The import called `name` from wasm module `module`, if this version defines it.
    pub fn import(&self, module: &str, name: &str) -> Option<&Function> {
        self.imports
            .iter()
            .find(|f| f.module == module && f.name == name)
    }

    /// The export called `name`, if this version defines it.
    pub fn export(&self, name: &str) -> Option<&Function> {
        self.exports.iter().find(|f| f.name == name)
    }

    /// The enumeration called `name` (spec name, e.g. `map_type`).
    pub fn enumeration(&self, name: &str) -> Option<&Enum> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// The imports from one wasm module.
    pub fn imports_from<'a>(&'a self, module: &'a str) -> impl Iterator<Item = &'a Function> + 'a {
        self.imports.iter().filter(move |f| f.module == module)
    }

    /// The wasm modules this version's imports come from, sorted.
    pub fn import_modules(&self) -> Vec<&str> {
        let mut modules: Vec<&str> = self.imports.iter().map(|f| f.module.as_str()).collect();
        modules.dedup();
        modules.sort_unstable();
        modules.dedup();
        modules
    }
}

/// The exports of one `plugin.<family>.required` module: a plugin must provide at least one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequiredGroup {
    /// The family the group is named after (e.g. `allocator`).
    pub family: String,
    /// The export names, in spec order (the first is the preferred one).
    pub names: Vec<String>,
}

/// A function crossing the boundary, in either direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Its ABI name, e.g. `proxy_get_header_map_value`.
    pub name: String,
    /// The wasm module it is imported from (`env`, `wasi_snapshot_preview1`), or `plugin` for an export.
    pub module: String,
    /// The family (the spec section) it belongs to, e.g. `http_fields`.
    pub family: String,
    /// For a host function: whether the version's written specification lists it (false means the
    /// reference host provides it although the text omits it).
    pub written: bool,
    /// For an export: whether it belongs to a group of which a plugin must export at least one.
    pub required: bool,
    /// What it does.
    pub docs: String,
    /// Its parameters, in order.
    pub params: Vec<Param>,
    /// What it returns.
    pub result: Results,
}

impl Function {
    /// The core-wasm parameter types, in order.
    pub fn core_params(&self) -> Vec<CoreType> {
        lowering::function_slots(self)
            .iter()
            .map(|s| s.kind.core())
            .collect()
    }

    /// Whether this is a version marker: a required export without parameters and results
    /// (`proxy_abi_version_X_Y_Z`), which the host looks for and never calls.
    pub fn is_marker(&self) -> bool {
        self.required && self.params.is_empty() && matches!(self.result, Results::None)
    }

    /// The core-wasm result types.
    pub fn core_results(&self) -> Vec<CoreType> {
        match &self.result {
            Results::None => vec![],
            Results::Value { name, ty, .. } => lowering::value_slots(name, ty)
                .iter()
                .map(|s| s.kind.core())
                .collect(),
            Results::Status { .. } => vec![CoreType::I32],
        }
    }
}

/// A named parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name in the spec.
    pub name: String,
    /// Its type.
    pub ty: ValueType,
    /// What it means.
    pub docs: String,
}

/// How a value crosses the boundary, derived from its type in the spec (see `spec/README.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueType {
    /// An integer; `alias` is the spec typename that says what it is (e.g. `context_id`).
    Int {
        /// The spec typename.
        alias: String,
        /// Its width and signedness.
        repr: IntType,
    },
    /// A boolean passed as `i32` 0 or 1.
    Bool,
    /// An enumeration value (a `u32` typename with constants); holds the spec name.
    Enum(String),
    /// Bytes passed in as pointer and length; holds the spec typename (`bytes`, `serialized_map`, …).
    Bytes(String),
    /// A raw address in guest memory; holds the spec typename.
    GuestPointer(String),
}

/// Width and signedness of an integer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntType {
    /// Unsigned 8-bit.
    U8,
    /// Unsigned 16-bit.
    U16,
    /// Unsigned 32-bit.
    U32,
    /// Unsigned 64-bit.
    U64,
    /// Signed 32-bit.
    S32,
    /// Signed 64-bit.
    S64,
    /// Guest `size_t` (32 bits in wasm32).
    Usize,
}

/// A core-wasm value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CoreType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
}

impl CoreType {
    /// The wasm text name: `i32`, `i64`, `f32`, `f64`.
    pub fn as_str(self) -> &'static str {
        match self {
            CoreType::I32 => "i32",
            CoreType::I64 => "i64",
            CoreType::F32 => "f32",
            CoreType::F64 => "f64",
        }
    }
}

/// What a function returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Results {
    /// Nothing.
    None,
    /// One value, returned directly (callbacks).
    Value {
        /// The result's name in the spec.
        name: String,
        /// Its type.
        ty: ValueType,
        /// What it means.
        docs: String,
    },
    /// A status code, plus outputs written through out-pointers (hostcalls).
    Status {
        /// The enumeration holding the status codes (`status`, `wasi_errno`).
        status: String,
        /// Values written through out-pointers, in order.
        outputs: Vec<Output>,
        /// What the outputs mean.
        docs: String,
    },
}

/// One value a hostcall writes back through out-pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Bytes the host allocated in guest memory: a pointer and a length, through two out-pointers.
    HostBuffer,
    /// One value, through one out-pointer.
    Value(ValueType),
}

/// An enumeration and the values one version defines for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enum {
    /// The spec name, e.g. `map_type`.
    pub name: String,
    /// What it is.
    pub docs: String,
    /// Its values, sorted by value.
    pub cases: Vec<EnumCase>,
}

impl Enum {
    /// The value of the case called `name`.
    pub fn value_of(&self, name: &str) -> Option<u32> {
        self.cases.iter().find(|c| c.name == name).map(|c| c.value)
    }
}

/// One named value of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumCase {
    /// The spec name, e.g. `http_request_headers`.
    pub name: String,
    /// The value on the wire.
    pub value: u32,
    /// What it means.
    pub docs: String,
}
