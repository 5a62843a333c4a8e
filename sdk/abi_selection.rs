//! Which ABI version the SDK is compiled for, decided from the `abi-*` features cargo enabled on the
//! `proxywasm` package. Cargo unifies features over the whole dependency graph, so these are the features
//! every crate of the build asked for together. `build.rs` includes this module (`#[path]`); the crate
//! includes it too, for its unit tests.
//!
//! The rule:
//! - no `abi-*` feature anywhere: the newest version, [`DEFAULT`] (0.2.1). This is what a library that
//!   depends on `proxywasm` without choosing a version gets, and it never overrides a plugin's choice;
//! - exactly one `abi-*` feature (the plugin's): that version;
//! - two or more: a conflict that `sdk/abi.rs` reports as a compile error naming them all
//!   ([`Selection::Conflict`]).

/// Every version, oldest first: its cargo feature and its cfg value (`proxywasm_abi = "0_2_1"`).
pub const VERSIONS: [(&str, &str); 3] = [
    ("abi-0-1-0", "0_1_0"),
    ("abi-0-2-0", "0_2_0"),
    ("abi-0-2-1", "0_2_1"),
];

/// The cfg value of the version compiled when no `abi-*` feature is enabled: the newest.
pub const DEFAULT: &str = "0_2_1";

/// The outcome of [`select`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Compile this version (a cfg value of [`VERSIONS`]).
    Version(&'static str),
    /// Several `abi-*` features are enabled (their names, oldest first): a compile error whose text is
    /// [`conflict_message`]. The newest of them is still compiled, so that error is the only one.
    Conflict(Vec<&'static str>),
}

impl Selection {
    /// The cfg value of the version to compile, also for a conflict (the newest of the conflicting
    /// versions).
    pub fn version(&self) -> &'static str {
        match self {
            Selection::Version(version) => version,
            Selection::Conflict(features) => VERSIONS
                .iter()
                .rfind(|(feature, _)| features.contains(feature))
                .map_or(DEFAULT, |(_, value)| value),
        }
    }
}

/// Applies the rule of this module to the enabled features (`enabled("abi-0-1-0")` says whether that
/// feature is on).
pub fn select(enabled: impl Fn(&str) -> bool) -> Selection {
    let explicit: Vec<&'static str> = VERSIONS
        .iter()
        .filter(|(feature, _)| enabled(feature))
        .map(|(feature, _)| *feature)
        .collect();
    match explicit.as_slice() {
        [] => Selection::Version(DEFAULT),
        [feature] => Selection::Version(
            VERSIONS
                .iter()
                .find(|(f, _)| f == feature)
                .map_or(DEFAULT, |(_, value)| value),
        ),
        _ => Selection::Conflict(explicit),
    }
}

/// The compile error for conflicting features: which ones, and what to change.
pub fn conflict_message(features: &[&str]) -> String {
    let names: Vec<String> = features.iter().map(|f| format!("`{f}`")).collect();
    format!(
        "proxywasm: the features {} are enabled together, but each selects another ABI version and a \
         build compiles exactly one. Only the plugin (the cdylib crate) should enable an `abi-*` feature: a \
         library that depends on proxywasm must not enable any (it then follows the plugin's choice, or \
         0.2.1 when there is none). `cargo tree -e features -i proxywasm` shows which crate enables \
         each feature.",
        names.join(" and ")
    )
}

/// The cargo environment variable that says whether `feature` is enabled, as cargo sets it for a build
/// script: `CARGO_FEATURE_ABI_0_2_1`.
pub fn feature_variable(feature: &str) -> String {
    format!("CARGO_FEATURE_{}", feature.to_uppercase().replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(features: &[&str]) -> Selection {
        select(|f| features.contains(&f))
    }

    #[test]
    fn no_feature_selects_the_newest_version() {
        assert_eq!(with(&[]), Selection::Version("0_2_1"));
        assert_eq!(with(&["default", "std"]), Selection::Version("0_2_1"));
    }

    #[test]
    fn one_feature_selects_its_version_whatever_the_default() {
        assert_eq!(with(&["abi-0-1-0"]), Selection::Version("0_1_0"));
        assert_eq!(with(&["abi-0-2-0"]), Selection::Version("0_2_0"));
        assert_eq!(with(&["abi-0-2-1"]), Selection::Version("0_2_1"));
        assert_eq!(with(&["default", "abi-0-1-0"]), Selection::Version("0_1_0"));
    }

    #[test]
    fn two_features_conflict_and_the_message_names_both() {
        let selection = with(&["abi-0-2-1", "abi-0-1-0"]);
        assert_eq!(
            selection,
            Selection::Conflict(vec!["abi-0-1-0", "abi-0-2-1"])
        );
        assert_eq!(selection.version(), "0_2_1");
        let Selection::Conflict(features) = selection else {
            unreachable!()
        };
        let message = conflict_message(&features);
        assert!(message.contains("`abi-0-1-0` and `abi-0-2-1`"), "{message}");
        assert!(message.contains("library"), "{message}");
        assert_eq!(
            with(&["abi-0-1-0", "abi-0-2-0", "abi-0-2-1"]).version(),
            "0_2_1"
        );
    }

    #[test]
    fn every_version_has_its_feature_variable() {
        assert_eq!(feature_variable("abi-0-2-1"), "CARGO_FEATURE_ABI_0_2_1");
        for (feature, value) in VERSIONS {
            assert_eq!(feature.replace('-', "_"), format!("abi_{value}"));
        }
    }
}
