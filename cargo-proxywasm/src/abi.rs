//! The ABI versions a plugin can be built for, and how each is selected: a cargo feature of the plugin
//! that forwards to the SDK's feature of the same name. The list is the conformance crate's, which is
//! generated from `spec/` (one versioned document per version): nothing here names a version.

use proxywasm_conformance::symbols::VERSIONS;

/// One Proxy-Wasm ABI version the SDK supports: a position in the spec's list, oldest first (so the
/// order of values is the order of versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Abi(usize);

impl Abi {
    /// Every version, oldest first.
    pub fn all() -> impl Iterator<Item = Abi> {
        (0..VERSIONS.len()).map(Abi)
    }

    /// The version the SDK selects when no feature names one: the newest.
    pub fn newest() -> Abi {
        Abi(VERSIONS.len() - 1)
    }

    /// The version as written in the spec: `0.2.1`.
    pub fn as_str(self) -> &'static str {
        VERSIONS[self.0].version
    }

    /// The cargo feature that selects it: `abi-0-2-1`.
    pub fn feature(self) -> String {
        format!("abi-{}", self.as_str().replace('.', "-"))
    }

    /// The version written `0.2.1`, if known.
    pub fn parse(text: &str) -> Option<Abi> {
        Abi::all().find(|abi| abi.as_str() == text)
    }

    /// The version a feature name selects (`abi-0-2-1`), if it is one.
    pub fn from_feature(feature: &str) -> Option<Abi> {
        Abi::all().find(|abi| abi.feature() == feature)
    }

    /// Every known version, for messages: `0.1.0, 0.2.0, 0.2.1`.
    pub fn known() -> String {
        Abi::all().map(Abi::as_str).collect::<Vec<_>>().join(", ")
    }

    /// The argument parser of `--abi V`: a known version, or an error listing them.
    pub fn parse_arg(text: &str) -> Result<Abi, String> {
        Abi::parse(text)
            .ok_or_else(|| format!("unknown ABI version `{text}`; known: {}", Abi::known()))
    }
}

impl std::fmt::Display for Abi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The version written `text` (tests name versions the spec has).
    pub(crate) fn v(text: &str) -> Abi {
        Abi::parse(text).expect("a version of spec/")
    }

    #[test]
    fn names_and_features_round_trip() {
        assert!(Abi::all().count() >= 3);
        for abi in Abi::all() {
            assert_eq!(Abi::parse(abi.as_str()), Some(abi));
            assert_eq!(Abi::from_feature(&abi.feature()), Some(abi));
        }
        assert_eq!(v("0.2.1").feature(), "abi-0-2-1");
        assert!(v("0.1.0") < v("0.2.0"));
        assert_eq!(Abi::parse("0.3.0"), None);
        assert_eq!(Abi::from_feature("wasm-runner"), None);
        assert!(Abi::parse_arg("9.9.9")
            .unwrap_err()
            .contains("0.1.0, 0.2.0"));
    }

    #[test]
    fn the_conformance_tool_knows_every_version() {
        for abi in Abi::all() {
            assert!(
                abi.as_str()
                    .parse::<proxywasm_conformance::AbiChoice>()
                    .is_ok(),
                "{abi}"
            );
        }
    }
}
