//! The expect list: the exact host functions a module should import, and the check against it.

use super::*;

/// The host functions a module is expected to import: one per line, `module.name` or just `name` (any
/// module); blank lines and `#` comments are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectList {
    /// The entries, in file order: the module (if given) and the name.
    pub entries: Vec<(Option<String>, String)>,
}

impl ExpectList {
    /// Reads an expect list from its text. Never fails: every non-blank, non-comment line is an entry.
    pub fn parse(text: &str) -> ExpectList {
        let entries = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim())
            .filter(|line| !line.is_empty())
            .map(|line| match line.split_once('.') {
                Some((module, name)) => (Some(module.to_string()), name.to_string()),
                None => (None, line.to_string()),
            })
            .collect();
        ExpectList { entries }
    }

    /// An expect list of exactly these `(module, name)` pairs.
    pub fn from_symbols<'a>(symbols: impl IntoIterator<Item = (&'a str, &'a str)>) -> ExpectList {
        ExpectList {
            entries: symbols
                .into_iter()
                .map(|(m, n)| (Some(m.to_string()), n.to_string()))
                .collect(),
        }
    }

    fn matches(entry: &(Option<String>, String), module: &str, name: &str) -> bool {
        entry.1 == name && entry.0.as_deref().is_none_or(|m| m == module)
    }

    fn show(entry: &(Option<String>, String)) -> String {
        match &entry.0 {
            Some(m) => format!("{m}.{}", entry.1),
            None => entry.1.clone(),
        }
    }
}

pub(super) fn check_expect(module: &ModuleInfo, expect: &ExpectList, findings: &mut Vec<Finding>) {
    let functions = || {
        module
            .imports
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::Function(_)))
    };
    for entry in &expect.entries {
        if !functions().any(|i| ExpectList::matches(entry, &i.module, &i.name)) {
            findings.push(
                Finding::new(
                    FindingId::ExpectedImportMissing,
                    "the expect list names this host function, but the module does not import it",
                )
                .scope(Scope::Expect)
                .symbol(ExpectList::show(entry))
                .expected("imported")
                .actual("not imported"),
            );
        }
    }
    for import in functions() {
        if !expect
            .entries
            .iter()
            .any(|e| ExpectList::matches(e, &import.module, &import.name))
        {
            findings.push(
                Finding::new(
                    FindingId::UnexpectedImport,
                    "the module imports this function, but the expect list does not name it",
                )
                .scope(Scope::Expect)
                .symbol(format!("{}.{}", import.module, import.name))
                .expected("not imported")
                .actual(import.kind.to_string()),
            );
        }
    }
}
