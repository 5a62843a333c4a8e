//! SARIF 2.1.0 output (`audit --format sarif`), so the audit drops into code-scanning pipelines: one
//! run, one rule per finding id, one result per finding (and one per file that could not be parsed),
//! located at the file.

use crate::findings::{FileReport, FindingId, Severity};
use serde_json::{json, Value};

/// The SARIF schema this output follows.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The rule id of files that could not be read or parsed.
pub const UNREADABLE_RULE: &str = "module-unreadable";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The SARIF log of `reports` (duplicates are reported once, at their first path).
pub fn log(reports: &[FileReport]) -> Value {
    let mut rules: Vec<Value> = FindingId::ALL
        .iter()
        .map(|id| {
            json!({
                "id": id.as_str(),
                "shortDescription": { "text": id.description() },
                "defaultConfiguration": { "level": level(id.severity()) },
            })
        })
        .collect();
    rules.push(json!({
        "id": UNREADABLE_RULE,
        "shortDescription": { "text": "The file could not be read, or is not a valid core wasm module." },
        "defaultConfiguration": { "level": "error" },
    }));
    let rule_index = |id: &str| rules.iter().position(|r| r["id"] == id).unwrap_or(0);
    let mut results = Vec::new();
    for file in reports {
        if file.duplicate_of.is_some() {
            continue;
        }
        let location =
            json!([{ "physicalLocation": { "artifactLocation": { "uri": file.path } } }]);
        if let Some(error) = &file.error {
            results.push(json!({
                "ruleId": UNREADABLE_RULE,
                "ruleIndex": rule_index(UNREADABLE_RULE),
                "level": "error",
                "message": { "text": error },
                "locations": location,
            }));
            continue;
        }
        for f in &file.report.findings {
            let mut text = f.message.clone();
            if let Some(symbol) = &f.symbol {
                text = format!("{symbol}: {text}");
            }
            if let Some(e) = &f.expected {
                text.push_str(&format!(" (expected: {e}"));
                text.push_str(
                    &f.actual
                        .as_ref()
                        .map_or(")".to_string(), |a| format!("; actual: {a})")),
                );
            }
            results.push(json!({
                "ruleId": f.id.as_str(),
                "ruleIndex": rule_index(f.id.as_str()),
                "level": level(f.severity),
                "message": { "text": text },
                "locations": location,
                "properties": {
                    "scope": f.scope.as_str(),
                    "symbol": f.symbol,
                    "abi": file.report.abi,
                    "host": file.report.host,
                    "sha256": file.sha256,
                },
            }));
        }
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "proxywasm-conformance",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
