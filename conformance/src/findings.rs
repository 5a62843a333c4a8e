//! What the audit reports: findings with stable ids and severities, and the report of one module.

use serde::Serialize;
use std::fmt;

/// How serious a finding is. Findings of severity [`Severity::Error`] fail the module: under a host
/// profile, the host would refuse it; under `--spec-only`, it breaks the written spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The module does not conform: it would fail to load, or the host would not call what it expects.
    Error,
    /// The module conforms, but relies on something outside the written spec or looks like a mistake.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! finding_ids {
    ($( $(#[doc = $doc:literal])* $variant:ident = $id:literal, $severity:ident; )*) => {
        /// The kind of a finding. Its id (e.g. `import-unknown`) is stable across releases.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum FindingId {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl FindingId {
            /// Every finding kind, in report order.
            pub const ALL: &'static [FindingId] = &[ $( FindingId::$variant, )* ];

            /// The stable id, e.g. `import-unknown`.
            pub fn as_str(self) -> &'static str {
                match self { $( FindingId::$variant => $id, )* }
            }

            /// The severity of this kind under `--spec-only` (the strict reading of the written spec).
            /// Under a host profile, a finding is an error only where the host would refuse the module.
            pub fn severity(self) -> Severity {
                match self { $( FindingId::$variant => Severity::$severity, )* }
            }

            /// What a finding of this kind means (the text of the README's table).
            pub fn description(self) -> &'static str {
                match self { $( FindingId::$variant => concat!($($doc),*).trim_ascii(), )* }
            }

            /// The kind whose id is `id`.
            pub fn from_id(id: &str) -> Option<FindingId> {
                FindingId::ALL.iter().copied().find(|f| f.as_str() == id)
            }
        }
    };
}

finding_ids! {
    /// The module exports no version declaration (`proxy_abi_version_X_Y_Z`) of a known version; the
    /// host refuses it. Nothing else is checked; the message says what the module looks like when it is
    /// recognisable (another proxy ABI, an http-wasm module, a pre-0.1.0 Proxy-Wasm build).
    AbiVersionMissing = "abi-version-missing", Error;
    /// The module exports the declarations of more than one version (cpp-host takes the first in export
    /// order and audits nothing else).
    AbiVersionMultiple = "abi-version-multiple", Error;
    /// The module declares a version other than the one `--abi` asked to audit against.
    AbiVersionMismatch = "abi-version-mismatch", Error;
    /// The module declares a version the selected host (at its date) does not recognise.
    AbiVersionUnsupported = "abi-version-unsupported", Error;
    /// A host function imported with another core signature than the version (or the host) defines.
    ImportSignatureMismatch = "import-signature-mismatch", Error;
    /// A host function outside the version's written spec that the reference host provides.
    ImportUnwritten = "import-unwritten", Warning;
    /// A host function another version defines but this one does not.
    ImportOtherVersion = "import-other-version", Error;
    /// An import from a host module that no version defines (or not a function).
    ImportUnknown = "import-unknown", Error;
    /// An import from a module the written spec does not name (only `env` and `wasi_snapshot_preview1`).
    ImportForeignModule = "import-foreign-module", Error;
    /// A callback exported with another core signature than the version (or the host) expects, or not
    /// as a function.
    ExportSignatureMismatch = "export-signature-mismatch", Error;
    /// A callback another version defines but this one does not.
    ExportOtherVersion = "export-other-version", Error;
    /// A `proxy_*` export no version of the written spec defines (a misspelt callback, or one only a
    /// host knows).
    ExportUnknown = "export-unknown", Warning;
    /// The version requires the linear memory to be exported as `memory`, and it is not.
    MemoryMissing = "memory-missing", Error;
    /// None of a required group of exports is exported (the allocator, `_initialize`/`_start`, …).
    RequiredExportMissing = "required-export-missing", Error;
    /// Code that runs while the module is instantiated (its wasm start function, or an export the
    /// engine runs then) fails under one of the host's engines: a trap, or a host function called
    /// before the host has any context.
    StartFunction = "start-function", Warning;
    /// The module uses a wasm feature one of the host's engines is built without (128-bit SIMD under
    /// cpp-host's WAMR interpreter).
    EngineFeature = "engine-feature", Warning;
    /// `malloc` and `proxy_on_memory_allocate` are two different functions: the host calls `malloc`.
    AllocatorAmbiguous = "allocator-ambiguous", Warning;
    /// `--expect` lists a host function the module does not import.
    ExpectedImportMissing = "expected-import-missing", Error;
    /// The module imports a function `--expect` does not list.
    UnexpectedImport = "unexpected-import", Error;
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FindingId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Which verdict a finding belongs to: never confuse "the host refuses it" with "outside the spec".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// About the selected host: what it would refuse or never call.
    Host,
    /// About the written spec only: the host tolerates it, the text does not.
    Spec,
    /// About the `--expect` list.
    Expect,
}

impl Scope {
    /// `host`, `spec` or `expect`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Host => "host",
            Scope::Spec => "spec",
            Scope::Expect => "expect",
        }
    }
}

/// One thing the audit found, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The kind, with a stable id.
    pub id: FindingId,
    /// How serious it is: `id.severity()` under `--spec-only`; under a host profile, an error only
    /// where the host would refuse the module.
    pub severity: Severity,
    /// Which verdict it belongs to.
    pub scope: Scope,
    /// What is wrong, for people, on one line.
    pub message: String,
    /// The symbol concerned (`module.name` for an import, `name` for an export), if any.
    pub symbol: Option<String>,
    /// What the version (or the expect list) wants, if applicable.
    pub expected: Option<String>,
    /// What the module has, if applicable.
    pub actual: Option<String>,
}

impl Finding {
    /// A finding of kind `id`, with its kind's spec severity and [`Scope::Spec`].
    pub fn new(id: FindingId, message: impl Into<String>) -> Self {
        Finding {
            id,
            severity: id.severity(),
            scope: Scope::Spec,
            message: message.into(),
            symbol: None,
            expected: None,
            actual: None,
        }
    }

    /// Sets the severity.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Sets the scope.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Appends text to the message.
    pub fn message_suffix(mut self, text: &str) -> Self {
        self.message.push_str(text);
        self
    }

    /// Sets the symbol concerned.
    pub fn symbol(mut self, symbol: impl Into<String>) -> Self {
        self.symbol = Some(symbol.into());
        self
    }

    /// Sets what was expected.
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// Sets what was found.
    pub fn actual(mut self, actual: impl Into<String>) -> Self {
        self.actual = Some(actual.into());
        self
    }
}

impl fmt::Display for Finding {
    /// `error[import-unknown] env.proxy_x: message (expected: …; actual: …)`, on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.severity, self.id)?;
        if self.scope == Scope::Spec && self.severity == Severity::Warning {
            f.write_str(" (spec)")?;
        }
        if let Some(symbol) = &self.symbol {
            write!(f, " {}", symbol.escape_debug())?;
        }
        write!(f, ": {}", self.message.escape_debug())?;
        match (&self.expected, &self.actual) {
            (Some(e), Some(a)) => write!(
                f,
                " (expected: {}; actual: {})",
                e.escape_debug(),
                a.escape_debug()
            ),
            (Some(e), None) => write!(f, " (expected: {})", e.escape_debug()),
            (None, Some(a)) => write!(f, " (actual: {})", a.escape_debug()),
            (None, None) => Ok(()),
        }
    }
}

/// The audit of one module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Report {
    /// The ABI version the module was audited against (`None` when it declares none this tool knows).
    pub abi: Option<String>,
    /// Whether the module passes: no finding of severity error.
    pub ok: bool,
    /// The host the verdict is about (`cpp-host@2026-07-01 (v8)`), or `None` under `--spec-only`.
    pub host: Option<String>,
    /// Whether the module loads in that host (`None` under `--spec-only`).
    pub loads: Option<bool>,
    /// The oldest point of the host's history from which the module loads (`cpp-host@2024-12-19`,
    /// with the oldest release carrying it when the profile knows one: `envoy@1.33`).
    pub loads_since: Option<String>,
    /// Whether the module stays within the written spec (no finding of scope `spec` that
    /// `--spec-only` counts as an error).
    pub within_spec: bool,
    /// What kind of plugin it is, from its callbacks: `http`, `network`, `http+network`, `root-only`.
    pub kind: Option<String>,
    /// The toolchain that built it, from its `producers` section (or a guess, said so).
    pub toolchain: Option<String>,
    /// What the audit found, in check order.
    pub findings: Vec<Finding>,
    /// The families of the host functions the module imports (e.g. `http_fields`, `logging`), sorted.
    pub capabilities: Vec<String>,
}

impl Report {
    /// The findings of kind `id`.
    pub fn with_id(&self, id: FindingId) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.id == id)
    }

    /// Whether there is a finding of kind `id`.
    pub fn has(&self, id: FindingId) -> bool {
        self.with_id(id).next().is_some()
    }

    /// How many findings of `severity` there are.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// One file of the JSON output: `{"path", "sha256", "duplicate_of", "abi", "ok", …, "error"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The file, as given on the command line or found in a directory.
    pub path: String,
    /// The SHA-256 of its bytes, in hex (null when it could not be read).
    pub sha256: Option<String>,
    /// The earlier file with the same bytes; then this one is not audited again and its report repeats
    /// that file's.
    pub duplicate_of: Option<String>,
    /// Its audit (empty, with `ok: false`, when the file could not be read or parsed).
    #[serde(flatten)]
    pub report: Report,
    /// Why the file could not be read or parsed (`null` when it was audited).
    pub error: Option<String>,
}

/// The JSON output of `audit --format json`: `{"files": [...], "summary": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonOutput {
    /// One entry per file, in command-line order (directories expanded in sorted order).
    pub files: Vec<FileReport>,
    /// Counts over distinct modules, by finding id and by toolchain.
    pub summary: crate::fleet::Summary,
}
