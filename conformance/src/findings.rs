//! What the audit reports: findings with stable ids and severities, and the report of one module.

use serde::Serialize;
use std::fmt;

/// How serious a finding is. Findings of severity [`Severity::Error`] make a module non-conforming.
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

            /// The severity every finding of this kind has.
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
    /// The module exports no version declaration (`proxy_abi_version_X_Y_Z`) of a known version.
    AbiVersionMissing = "abi-version-missing", Error;
    /// The module exports the declarations of more than one version.
    AbiVersionMultiple = "abi-version-multiple", Error;
    /// The module declares a version other than the one `--abi` asked to audit against.
    AbiVersionMismatch = "abi-version-mismatch", Error;
    /// A host function the version defines, imported with a different core signature.
    ImportSignatureMismatch = "import-signature-mismatch", Error;
    /// A host function outside the version's written spec that the reference host provides: the module
    /// loads in the reference host, but other hosts may not provide it.
    ImportUnwritten = "import-unwritten", Warning;
    /// A host function another version defines but this one does not: it would fail to link.
    ImportOtherVersion = "import-other-version", Error;
    /// An import from a host module that no version defines (or not a function): it would fail to link.
    ImportUnknown = "import-unknown", Error;
    /// An import from a module the host does not provide (only `env` and `wasi_snapshot_preview1`
    /// exist, as read from the spec): it would fail to link.
    ImportForeignModule = "import-foreign-module", Error;
    /// A callback the version defines, exported with a different core signature (or not as a function).
    ExportSignatureMismatch = "export-signature-mismatch", Error;
    /// A callback another version defines but this one does not: the host never calls it.
    ExportOtherVersion = "export-other-version", Error;
    /// A `proxy_*` export no version defines (a misspelt callback?): the host never calls it.
    ExportUnknown = "export-unknown", Warning;
    /// The version requires the linear memory to be exported as `memory`, and it is not.
    MemoryMissing = "memory-missing", Error;
    /// None of a required group of exports is exported (the allocator, `_initialize`/`_start`, …).
    RequiredExportMissing = "required-export-missing", Error;
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

/// One thing the audit found, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The kind, with a stable id.
    pub id: FindingId,
    /// How serious it is (always `id.severity()`).
    pub severity: Severity,
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
    /// A finding of kind `id`, with its kind's severity.
    pub fn new(id: FindingId, message: impl Into<String>) -> Self {
        Finding {
            id,
            severity: id.severity(),
            message: message.into(),
            symbol: None,
            expected: None,
            actual: None,
        }
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The ABI version the module was audited against (`None` only when this tool knows no version).
    pub abi: Option<String>,
    /// Whether the module conforms: no finding of severity error.
    pub ok: bool,
    /// What the audit found, in check order.
    pub findings: Vec<Finding>,
    /// The families of the host functions the module imports (e.g. `http_headers`, `wasi`), sorted.
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

/// One file of the JSON output: `{"path", "abi", "ok", "findings", "capabilities", "error"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The file, as given on the command line.
    pub path: String,
    /// Its audit (empty, with `ok: false`, when the file could not be read or parsed).
    #[serde(flatten)]
    pub report: Report,
    /// Why the file could not be read or parsed (`null` when it was audited).
    pub error: Option<String>,
}

/// The JSON output of `audit --format json`: `{"files": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonOutput {
    /// One entry per file, in command-line order.
    pub files: Vec<FileReport>,
}
