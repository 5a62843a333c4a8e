//! Turns a version document into the one witx text of that version, before witx reads it.
//!
//! A version document (`spec/proxy_wasm_<version>.witx`) may hold a line `;; @include "FILE"`: it stands for
//! the items of FILE that belong to the version. In FILE, a line `;; @versions …` in the comment block right
//! above an item (a top-level form, or a function inside a module) names the versions the item belongs to:
//! `0.1.0` one version, `0.2.0+` that version and every later one, several separated by spaces. An item
//! without such a line belongs to every version; a function inherits its module's list. The conventions are
//! in `spec/README.md` ("One file, every version").
//!
//! Every line of the result remembers the file and line it came from, so the parser can name the real
//! place of an error.

use crate::parser::SpecError;
use crate::version::Version;
use std::path::{Path, PathBuf};

/// Where a line of an expanded document was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub path: PathBuf,
    /// The line in that file (1-based).
    pub line: usize,
}

/// A document after expansion: its lines, each with its origin.
#[derive(Debug, Clone)]
pub struct Expanded {
    lines: Vec<(String, Origin)>,
}

impl Expanded {
    /// The whole text, one `\n` after every line.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for (line, _) in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// How many lines the document has.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the document has no line at all.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The text of line `line` (1-based) of the expanded document.
    pub fn line(&self, line: usize) -> Option<&str> {
        self.lines
            .get(line.checked_sub(1)?)
            .map(|(text, _)| text.as_str())
    }

    /// Where line `line` (1-based) of the expanded document was written.
    pub fn origin(&self, line: usize) -> Option<&Origin> {
        self.lines.get(line.checked_sub(1)?).map(|(_, o)| o)
    }

    /// The first line (1-based) whose text contains `needle`.
    pub fn find(&self, needle: &str) -> Option<usize> {
        self.lines
            .iter()
            .position(|(text, _)| text.contains(needle))
            .map(|i| i + 1)
    }
}

const INCLUDE: &str = ";; @include ";
const VERSIONS: &str = ";; @versions";

/// The document of `version`: its version document with every `;; @include` replaced by the items of the
/// included file that belong to `version`. `(use …)` lines are kept, so the text is a witx document that
/// loads next to `types.witx`.
pub fn version_document(spec_dir: &Path, version: Version) -> Result<Expanded, SpecError> {
    let path = version.document(spec_dir);
    let mut lines = Vec::new();
    for (origin, text) in read(&path)? {
        let trimmed = text.trim();
        if let Some(target) = trimmed.strip_prefix(INCLUDE) {
            let name = quoted(target)
                .ok_or_else(|| convention(&origin, format!("write `{INCLUDE}\"FILE\"`")))?;
            lines.extend(included(&spec_dir.join(name), version)?);
        } else if trimmed.starts_with(VERSIONS) {
            return Err(convention(
                &origin,
                "`@versions` belongs in an included file; a version document holds its own version only"
                    .into(),
            ));
        } else {
            lines.push((text, origin));
        }
    }
    Ok(Expanded {
        lines: without_extra_blank_lines(lines),
    })
}

/// `document` with every `(use "FILE")` line replaced by FILE's lines (each file once), for
/// `witx::parse`, which reads one text and resolves no `use`.
pub fn inline_uses(document: Expanded, spec_dir: &Path) -> Result<Expanded, SpecError> {
    let mut seen = Vec::new();
    Ok(Expanded {
        lines: inline(document.lines, spec_dir, &mut seen)?,
    })
}

fn inline(
    lines: Vec<(String, Origin)>,
    spec_dir: &Path,
    seen: &mut Vec<PathBuf>,
) -> Result<Vec<(String, Origin)>, SpecError> {
    let mut out = Vec::new();
    for (text, origin) in lines {
        let trimmed = text.trim();
        if !trimmed.starts_with("(use") {
            out.push((text, origin));
            continue;
        }
        let name = trimmed
            .strip_prefix("(use")
            .and_then(|rest| rest.trim().strip_suffix(')'))
            .and_then(|rest| quoted(rest.trim()))
            .ok_or_else(|| {
                convention(
                    &origin,
                    "write `(use \"FILE\")` on a line of its own".into(),
                )
            })?;
        let path = spec_dir.join(name);
        if seen.contains(&path) {
            continue;
        }
        seen.push(path.clone());
        let used = read(&path)?.into_iter().map(|(o, t)| (t, o)).collect();
        out.extend(inline(used, spec_dir, seen)?);
    }
    Ok(out)
}

/// The lines of `path` with their origins.
fn read(path: &Path) -> Result<Vec<(Origin, String)>, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            (
                Origin {
                    path: path.to_path_buf(),
                    line: i + 1,
                },
                line.to_string(),
            )
        })
        .collect())
}

/// `"NAME"` -> `NAME`.
fn quoted(text: &str) -> Option<&str> {
    text.strip_prefix('"')?
        .strip_suffix('"')
        .filter(|n| !n.is_empty() && !n.contains('"'))
}

fn convention(origin: &Origin, message: String) -> SpecError {
    SpecError::Convention {
        path: origin.path.clone(),
        line: origin.line,
        message,
    }
}

/// Which versions an item belongs to: a list of single versions and open ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Versions(Vec<Selector>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selector {
    /// Exactly this version.
    Only(Version),
    /// This version and every later one.
    From(Version),
}

impl Versions {
    fn parse(text: &str, origin: &Origin) -> Result<Versions, SpecError> {
        let selectors = text
            .split_whitespace()
            .map(|word| {
                let (number, selector): (&str, fn(Version) -> Selector) =
                    match word.strip_suffix('+') {
                        Some(number) => (number, Selector::From),
                        None => (word, Selector::Only),
                    };
                number.parse().map(selector).map_err(|e| {
                    convention(origin, format!("`@versions`: {e} (`0.2.0` or `0.2.0+`)"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if selectors.is_empty() {
            return Err(convention(origin, "`@versions` names no version".into()));
        }
        Ok(Versions(selectors))
    }

    fn contains(&self, version: Version) -> bool {
        self.0.iter().any(|s| match *s {
            Selector::Only(v) => v == version,
            Selector::From(v) => version >= v,
        })
    }
}

/// One item of an included file: a top-level form or a function inside a module, with the comment block
/// right above it.
#[derive(Debug)]
struct Item {
    /// First line of the comment block (or the form itself), 0-based.
    first: usize,
    /// The line the form starts on.
    head: usize,
    /// The line the form ends on.
    last: usize,
    versions: Option<Versions>,
    /// The items inside a module.
    children: Vec<Item>,
}

/// The items of the included file `path` that belong to `version`, without the file's header (its
/// opening comment lines, up to the first blank line) and without `@versions` lines.
fn included(path: &Path, version: Version) -> Result<Vec<(String, Origin)>, SpecError> {
    let lines = read(path)?;
    let header = lines
        .iter()
        .take_while(|(_, t)| t.trim_start().starts_with(";;"))
        .count();
    let body = match lines.get(header) {
        Some((_, t)) if header > 0 && t.trim().is_empty() => header + 1,
        _ => 0,
    };
    let texts: Vec<&str> = lines.iter().map(|(_, t)| t.as_str()).collect();
    let items = items(&texts, &lines, body, texts.len(), 0)?;

    let mut keep = vec![true; texts.len()];
    keep[..body].fill(false);
    for (i, text) in texts.iter().enumerate() {
        if text.trim_start().starts_with(INCLUDE) {
            return Err(convention(
                &lines[i].0,
                "an included file cannot include another".into(),
            ));
        }
        if text.trim_start().starts_with(VERSIONS) {
            keep[i] = false;
        }
    }
    for item in &items {
        select(item, None, version, &lines, &mut keep)?;
    }
    Ok(lines
        .into_iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .map(|((origin, text), _)| (text, origin))
        .collect())
}

/// Marks the lines of `item` (and of its children) that `version` does not keep.
fn select(
    item: &Item,
    parent: Option<&Versions>,
    version: Version,
    lines: &[(Origin, String)],
    keep: &mut [bool],
) -> Result<(), SpecError> {
    if let (Some(own), Some(parent)) = (&item.versions, parent) {
        if let Some(outside) = Version::ALL
            .into_iter()
            .find(|v| own.contains(*v) && !parent.contains(*v))
        {
            return Err(convention(
                &lines[item.head].0,
                format!("this item names {outside}, which its module's `@versions` does not"),
            ));
        }
    }
    if !item.versions.as_ref().is_none_or(|v| v.contains(version)) {
        keep[item.first..=item.last].fill(false);
        return Ok(());
    }
    if item.children.is_empty() {
        return Ok(());
    }
    let versions = item.versions.as_ref().or(parent);
    for child in &item.children {
        select(child, versions, version, lines, keep)?;
    }
    if item.children.iter().all(|c| !keep[c.head]) {
        return Err(convention(
            &lines[item.head].0,
            format!(
                "nothing of this module belongs to {version}; give the module a `@versions` line"
            ),
        ));
    }
    Ok(())
}

/// The items between lines `from` and `to` (0-based, `to` excluded) whose forms start at paren depth
/// `depth`; the children of a `(module` form are read the same way one level deeper.
fn items(
    texts: &[&str],
    lines: &[(Origin, String)],
    from: usize,
    to: usize,
    depth: usize,
) -> Result<Vec<Item>, SpecError> {
    let mut found = Vec::new();
    let mut level = depth as i64;
    let mut comments: Option<usize> = None;
    // The `@versions` list of the comment block being read, and its line.
    let mut versions: Option<(Versions, usize)> = None;
    let mut i = from;
    while i < to {
        let trimmed = texts[i].trim();
        if trimmed.is_empty() {
            if let Some((_, at)) = versions {
                return Err(loose(&lines[at].0));
            }
            comments = None;
            i += 1;
            continue;
        }
        if trimmed.starts_with(";;") {
            comments.get_or_insert(i);
            if let Some(list) = trimmed.strip_prefix(VERSIONS) {
                if versions.is_some() {
                    return Err(convention(&lines[i].0, "a second `@versions` line".into()));
                }
                versions = Some((Versions::parse(list, &lines[i].0)?, i));
            }
            i += 1;
            continue;
        }
        if !trimmed.starts_with('(') || level != depth as i64 {
            return Err(convention(
                &lines[i].0,
                "expected a form starting on its own line here".into(),
            ));
        }
        let head = i;
        level += paren_balance(texts[i]);
        while level > depth as i64 {
            i += 1;
            let Some(text) = texts.get(i).filter(|_| i < to) else {
                return Err(convention(&lines[head].0, "this form is not closed".into()));
            };
            level += paren_balance(text);
        }
        if level < depth as i64 {
            return Err(convention(
                &lines[i].0,
                "close the enclosing form on a line of its own".into(),
            ));
        }
        let children = if trimmed.starts_with("(module") && i > head {
            if texts[i].trim() != ")" {
                return Err(convention(
                    &lines[i].0,
                    "close the module with a `)` on a line of its own".into(),
                ));
            }
            items(texts, lines, head + 1, i, depth + 1)?
        } else {
            Vec::new()
        };
        found.push(Item {
            first: comments.take().unwrap_or(head),
            head,
            last: i,
            versions: versions.take().map(|(v, _)| v),
            children,
        });
        i += 1;
    }
    if let Some((_, at)) = versions {
        return Err(loose(&lines[at].0));
    }
    Ok(found)
}

fn loose(origin: &Origin) -> SpecError {
    convention(
        origin,
        "`@versions` must sit in the comment block right above its item".into(),
    )
}

/// Opening minus closing parentheses of a line, outside strings and `;;` comments.
fn paren_balance(line: &str) -> i64 {
    let mut balance = 0;
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_string = !in_string,
            '\\' if in_string => {
                chars.next();
            }
            ';' if !in_string && chars.peek() == Some(&';') => break,
            '(' if !in_string => balance += 1,
            ')' if !in_string => balance -= 1,
            _ => {}
        }
    }
    balance
}

/// Leaving items out leaves blank lines behind: keep at most one in a row, none right after a line
/// that opens a form, none right before a line that only closes one and none at the end.
fn without_extra_blank_lines(lines: Vec<(String, Origin)>) -> Vec<(String, Origin)> {
    let blank = |l: &(String, Origin)| l.0.trim().is_empty();
    let mut out: Vec<(String, Origin)> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if blank(line) {
            let after_blank_or_opener = out
                .last()
                .is_some_and(|prev| blank(prev) || paren_balance(&prev.0) > 0);
            let before_closer_or_end = lines[i + 1..]
                .iter()
                .find(|l| !blank(l))
                .is_none_or(|next| next.0.trim() == ")");
            if after_blank_or_opener || before_closer_or_end {
                continue;
            }
        }
        out.push(line.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            path: PathBuf::from("x"),
            line: 1,
        }
    }

    #[test]
    fn selectors_cover_single_versions_and_open_ranges() {
        let v = Versions::parse(" 0.1.0 0.2.1+", &origin()).unwrap();
        assert!(v.contains(Version::V0_1_0));
        assert!(!v.contains(Version::V0_2_0));
        assert!(v.contains(Version::V0_2_1));
        assert!(Versions::parse("", &origin()).is_err());
        assert!(Versions::parse("0.3.0", &origin())
            .unwrap_err()
            .to_string()
            .contains("unknown ABI version `0.3.0`"));
    }

    #[test]
    fn parens_in_strings_and_comments_do_not_count() {
        assert_eq!(paren_balance("(module $x"), 1);
        assert_eq!(paren_balance("  (@interface func (export \"a)\"))"), 0);
        assert_eq!(paren_balance("    (result $r $t)) ;; (note"), -1);
    }
}
