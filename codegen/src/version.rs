//! The ABI versions this project describes, and where their spec documents live.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One Proxy-Wasm ABI version described in `spec/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// Patch number.
    pub patch: u32,
}

impl Version {
    /// ABI 0.1.0.
    pub const V0_1_0: Version = Version::new(0, 1, 0);
    /// ABI 0.2.0.
    pub const V0_2_0: Version = Version::new(0, 2, 0);
    /// ABI 0.2.1.
    pub const V0_2_1: Version = Version::new(0, 2, 1);
    /// Every version with a document in `spec/`, oldest first. Checked against the documents
    /// themselves ([`in_spec`]) by a test, so it cannot drift from `spec/`.
    pub const ALL: [Version; 3] = [Version::V0_1_0, Version::V0_2_0, Version::V0_2_1];

    /// Builds a version from its three numbers.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// The version with underscores, as in file names and `proxy_abi_version_0_2_1`: `0_2_1`.
    pub fn underscored(&self) -> String {
        format!("{}_{}_{}", self.major, self.minor, self.patch)
    }

    /// The cargo feature of the SDK that selects this version: `abi-0-2-1`.
    pub fn feature(&self) -> String {
        format!("abi-{}-{}-{}", self.major, self.minor, self.patch)
    }

    /// The spec document of this version inside `spec_dir`.
    pub fn document(&self, spec_dir: &Path) -> PathBuf {
        spec_dir.join(format!("proxy_wasm_{}.witx", self.underscored()))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A version string that names no version described in `spec/`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ABI version `{0}` (known: {known})", known = known_list())]
pub struct UnknownVersion(pub String);

impl FromStr for Version {
    type Err = UnknownVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::ALL
            .into_iter()
            .find(|v| v.to_string() == s)
            .ok_or_else(|| UnknownVersion(s.to_string()))
    }
}

fn known_list() -> String {
    Version::ALL
        .iter()
        .map(Version::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The versions `spec_dir` holds a document for (`proxy_wasm_<major>_<minor>_<patch>.witx`), oldest
/// first: the one list of ABI versions, which everything else reads or is checked against.
///
/// # Errors
///
/// The folder cannot be read.
pub fn in_spec(spec_dir: &Path) -> std::io::Result<Vec<Version>> {
    let mut versions = Vec::new();
    for entry in std::fs::read_dir(spec_dir)? {
        let name = entry?.file_name();
        let Some(numbers) = name
            .to_str()
            .and_then(|n| n.strip_prefix("proxy_wasm_"))
            .and_then(|n| n.strip_suffix(".witx"))
        else {
            continue;
        };
        let parts: Vec<Option<u32>> = numbers.split('_').map(|p| p.parse().ok()).collect();
        if let [Some(major), Some(minor), Some(patch)] = parts[..] {
            versions.push(Version::new(major, minor, patch));
        }
    }
    versions.sort();
    Ok(versions)
}

/// The `spec/` folder of this source tree.
pub fn default_spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("spec")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_exactly_the_versions_with_a_spec_document() {
        assert_eq!(
            in_spec(&default_spec_dir()).unwrap(),
            Version::ALL,
            "Version::ALL must list exactly the versions with a document in spec/"
        );
    }

    #[test]
    fn parses_and_prints_every_version() {
        for v in Version::ALL {
            assert_eq!(v.to_string().parse::<Version>(), Ok(v));
        }
        assert_eq!(Version::V0_2_1.underscored(), "0_2_1");
        assert_eq!(Version::V0_1_0.feature(), "abi-0-1-0");
    }

    #[test]
    fn rejects_unknown_versions() {
        assert!("0.3.0".parse::<Version>().is_err());
        assert!("".parse::<Version>().is_err());
        assert!("0.2".parse::<Version>().is_err());
    }
}
