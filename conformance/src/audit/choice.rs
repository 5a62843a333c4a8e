//! Which ABI version to audit against: a version name or `auto` (the module's own declaration).

use super::*;

/// Which version to audit a module against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiChoice {
    /// The version the module declares through its `proxy_abi_version_X_Y_Z` export.
    Auto,
    /// This version, whatever the module declares.
    Version(&'static AbiSymbols),
}

impl fmt::Display for AbiChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbiChoice::Auto => f.write_str("auto"),
            AbiChoice::Version(abi) => f.write_str(abi.version),
        }
    }
}

/// A version name this tool does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ABI version `{given}` (known: auto, {known})")]
pub struct UnknownAbi {
    /// What was asked for.
    pub given: String,
    /// The versions this tool knows, comma-separated.
    pub known: String,
}

impl FromStr for AbiChoice {
    type Err = UnknownAbi;

    /// `auto` or a version this tool knows (`0.2.1`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "auto" {
            return Ok(AbiChoice::Auto);
        }
        symbols::version(s)
            .map(AbiChoice::Version)
            .ok_or_else(|| UnknownAbi {
                given: s.to_string(),
                known: symbols::versions()
                    .iter()
                    .map(|a| a.version)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}
