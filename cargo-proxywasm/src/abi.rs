//! The ABI versions a plugin can be built for, and how each is selected: a cargo feature of the plugin
//! that forwards to the SDK's feature of the same name.

use clap::ValueEnum;

/// One Proxy-Wasm ABI version the SDK supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum Abi {
    /// 0.1.0.
    #[value(name = "0.1.0")]
    V0_1_0,
    /// 0.2.0.
    #[value(name = "0.2.0")]
    V0_2_0,
    /// 0.2.1.
    #[value(name = "0.2.1")]
    V0_2_1,
}

impl Abi {
    /// Every version, oldest first.
    pub const ALL: [Abi; 3] = [Abi::V0_1_0, Abi::V0_2_0, Abi::V0_2_1];

    /// The version the SDK selects when no feature names one.
    pub const DEFAULT: Abi = Abi::V0_2_1;

    /// `0.2.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Abi::V0_1_0 => "0.1.0",
            Abi::V0_2_0 => "0.2.0",
            Abi::V0_2_1 => "0.2.1",
        }
    }

    /// The cargo feature that selects it: `abi-0-2-1`.
    pub fn feature(self) -> &'static str {
        match self {
            Abi::V0_1_0 => "abi-0-1-0",
            Abi::V0_2_0 => "abi-0-2-0",
            Abi::V0_2_1 => "abi-0-2-1",
        }
    }

    /// The version written `0.2.1`, if known.
    pub fn parse(text: &str) -> Option<Abi> {
        Abi::ALL.into_iter().find(|abi| abi.as_str() == text)
    }

    /// The version a feature name selects (`abi-0-2-1`), if it is one.
    pub fn from_feature(feature: &str) -> Option<Abi> {
        Abi::ALL.into_iter().find(|abi| abi.feature() == feature)
    }
}

impl std::fmt::Display for Abi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_features_round_trip() {
        for abi in Abi::ALL {
            assert_eq!(Abi::parse(abi.as_str()), Some(abi));
            assert_eq!(Abi::from_feature(abi.feature()), Some(abi));
        }
        assert_eq!(Abi::parse("0.3.0"), None);
        assert_eq!(Abi::from_feature("wasm-runner"), None);
    }

    #[test]
    fn the_conformance_tool_knows_every_version() {
        for abi in Abi::ALL {
            assert!(
                abi.as_str()
                    .parse::<proxywasm_conformance::AbiChoice>()
                    .is_ok(),
                "{abi}"
            );
        }
    }
}
