//! The `proxywasm-conformance` command line: audits Proxy-Wasm plugin binaries: whether a real host loads
//! them (a host profile, default the newest cpp-host) and whether they stay within the written spec.
//! See `conformance/README.md` for the commands, the findings, the JSON schema and the exit codes. The
//! binary calls [`run`]; `cargo proxywasm audit` calls it too.

use crate::fleet::{self, Summary};
use crate::{
    profile, sarif, symbols, AbiChoice, ExpectList, FileReport, HostTarget, JsonOutput, Level,
    Severity,
};
use clap::{Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;

/// Audits Proxy-Wasm plugin binaries: whether a real host loads them, and whether they stay within the
/// written spec.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Audits wasm files and directories (searched recursively for `*.wasm`): exit 0 if all pass, 1 if
    /// any fails, 2 if any cannot be read.
    Audit {
        /// The ABI version to audit against: `auto` (the one each module declares) or a version.
        #[arg(long, default_value = "auto", value_parser = parse_abi)]
        abi: AbiChoice,
        /// The host whose loader decides the verdict: `cpp-host` (its newest profile, the default),
        /// `cpp-host@YYYY-MM-DD` (as it was that day), or a release such as `envoy@1.33`.
        #[arg(long, value_name = "HOST", conflicts_with = "spec_only")]
        host: Option<String>,
        /// The host's engine (default: the profile's default, `v8` for cpp-host).
        #[arg(long, value_name = "ENGINE", conflicts_with = "spec_only")]
        engine: Option<String>,
        /// The strict reading of the written spec instead of a host: what only a host tolerates is an
        /// error.
        #[arg(long)]
        spec_only: bool,
        /// A file listing the host functions the modules must import, one a line (`module.name` or
        /// `name`; `#` starts a comment). Any difference in either direction is a violation.
        #[arg(long, value_name = "FILE")]
        expect: Option<PathBuf>,
        /// Print only findings of severity error (and the files that fail) in text output; JSON and
        /// SARIF keep warnings out too.
        #[arg(long)]
        errors_only: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The wasm files, and directories to search for them.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Prints the symbols a plugin of one ABI version may import and export.
    Symbols {
        /// The ABI version.
        #[arg(long, value_parser = parse_version)]
        abi: &'static crate::AbiSymbols,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Lists the host profiles this tool knows: their history, engines and releases.
    Hosts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people: one line per finding, a line per file, and a summary for several files.
    Text,
    /// For pipelines: the schema documented in the README.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

fn parse_abi(s: &str) -> Result<AbiChoice, String> {
    s.parse::<AbiChoice>().map_err(|e| e.to_string())
}

fn parse_version(s: &str) -> Result<&'static crate::AbiSymbols, String> {
    match s.parse::<AbiChoice>() {
        Ok(AbiChoice::Version(v)) => Ok(v),
        Ok(AbiChoice::Auto) => Err("name a version, not `auto`".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs the command line with these arguments (the first is the program name, as in `std::env::args_os`)
/// and answers the process exit code: 0 when every audited file passes, 1 when one fails, 2 when a file cannot be
/// read or the arguments are wrong (clap prints the usage; `--help` and `--version` answer 0).
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Printing the usage or the help can only fail on a closed stream; the code says enough.
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Audit {
            abi,
            host,
            engine,
            spec_only,
            expect,
            errors_only,
            format,
            paths,
        } => {
            let level = if spec_only {
                Level::SpecOnly
            } else {
                let target = match host.as_deref() {
                    Some(name) => name.parse::<HostTarget>().map_err(|e| e.to_string()),
                    None => HostTarget::newest()
                        .ok_or_else(|| "this tool was built without host profiles".to_string()),
                };
                let target = target.and_then(|t| match engine.as_deref() {
                    Some(e) => t.with_engine(e).map_err(|e| e.to_string()),
                    None => Ok(t),
                });
                match target {
                    Ok(t) => Level::Host(t),
                    Err(e) => return fatal(&e),
                }
            };
            run_audit(abi, &level, expect, errors_only, format, &paths)
        }
        Command::Symbols { abi, format } => {
            let text = match format {
                Format::Text => symbols::listing_text(abi),
                Format::Json | Format::Sarif => {
                    match serde_json::to_string_pretty(&symbols::listing(abi)) {
                        Ok(json) => json + "\n",
                        Err(e) => return fatal(&format!("cannot write JSON: {e}")),
                    }
                }
            };
            print(&text)
        }
        Command::Hosts => print(&hosts_text()),
    }
}

fn hosts_text() -> String {
    let mut out = String::new();
    for p in profile::PROFILES {
        out.push_str(&format!(
            "{}: {} ({})\n  history: {} .. {} ({} dated facts); default engine {}\n",
            p.host,
            p.title,
            p.repository,
            p.oldest(),
            p.newest(),
            p.commits.len(),
            p.default_engine
        ));
        for e in p.engines {
            out.push_str(&format!(
                "  engine {} since {}{}\n",
                e.engine,
                e.since.short(),
                e.until
                    .map_or(String::new(), |u| format!(" until {}", u.short()))
            ));
        }
        for r in p.releases {
            out.push_str(&format!(
                "  release {} = {}@{} ({})\n",
                r.name,
                p.host,
                r.commit.date,
                &r.commit.commit[..7]
            ));
        }
    }
    out
}

fn run_audit(
    abi: AbiChoice,
    level: &Level,
    expect: Option<PathBuf>,
    errors_only: bool,
    format: Format,
    paths: &[PathBuf],
) -> u8 {
    let expect = match expect {
        None => None,
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(text) => Some(ExpectList::parse(&text)),
            Err(e) => {
                return fatal(&format!(
                    "{}: cannot read the expect list: {e}",
                    path.display()
                ))
            }
        },
    };
    let files = match fleet::inputs(paths) {
        Ok(files) => files,
        Err(e) => return fatal(&e),
    };
    let mut reports = fleet::audit_files(&files, abi, level, expect.as_ref());
    let unreadable = reports.iter().any(|r| r.error.is_some());
    let failing = reports.iter().any(|r| r.error.is_none() && !r.report.ok);
    for r in &reports {
        if let Some(error) = &r.error {
            eprintln!("error: {}: {error}", r.path);
        }
    }
    let summary = fleet::summarise(&reports);
    if errors_only {
        for r in &mut reports {
            r.report.findings.retain(|f| f.severity == Severity::Error);
        }
    }
    let out = match format {
        Format::Text => text_output(&reports, &summary, errors_only),
        Format::Json => match serde_json::to_string_pretty(&JsonOutput {
            files: reports,
            summary,
        }) {
            Ok(json) => json + "\n",
            Err(e) => return fatal(&format!("cannot write JSON: {e}")),
        },
        Format::Sarif => match serde_json::to_string_pretty(&sarif::log(&reports)) {
            Ok(json) => json + "\n",
            Err(e) => return fatal(&format!("cannot write SARIF: {e}")),
        },
    };
    let printed = print(&out);
    if printed != 0 {
        return printed;
    }
    if unreadable {
        2
    } else if failing {
        1
    } else {
        0
    }
}

fn verdict_line(file: &FileReport) -> String {
    let r = &file.report;
    let (e, w) = (r.count(Severity::Error), r.count(Severity::Warning));
    let abi = r.abi.as_deref().unwrap_or("none");
    let verdict = match (&r.host, r.loads) {
        (Some(host), Some(true)) => {
            let since = r
                .loads_since
                .as_deref()
                .map_or(String::new(), |s| format!(" (since {s})"));
            format!("loads in {host}{since}")
        }
        (Some(host), _) => format!("REFUSED by {host}"),
        (None, _) if r.ok => "conforms to the written spec".to_string(),
        (None, _) => "DOES NOT CONFORM to the written spec".to_string(),
    };
    let spec = if r.host.is_some() {
        if r.within_spec {
            "; within the written spec"
        } else {
            "; outside the written spec"
        }
    } else {
        ""
    };
    let capabilities = if r.capabilities.is_empty() {
        "none".to_string()
    } else {
        r.capabilities.join(", ")
    };
    format!(
        "ABI {abi}: {verdict}{spec} ({e} errors, {w} warnings); kind: {}; toolchain: {}; capabilities: {capabilities}",
        r.kind.as_deref().unwrap_or("unknown"),
        r.toolchain.as_deref().unwrap_or("unknown"),
    )
}

fn text_output(reports: &[FileReport], summary: &Summary, errors_only: bool) -> String {
    let mut out = String::new();
    for file in reports {
        let path = file.path.escape_debug().to_string();
        if file.error.is_some() {
            out.push_str(&format!(
                "{path}: could not be audited (see the error above)\n"
            ));
            continue;
        }
        if errors_only && file.report.ok {
            continue;
        }
        if let Some(first) = &file.duplicate_of {
            out.push_str(&format!(
                "{path}: same module as {} (sha256 {}): {}\n",
                first.escape_debug(),
                file.sha256.as_deref().unwrap_or(""),
                if file.report.ok { "passes" } else { "fails" }
            ));
            continue;
        }
        for finding in &file.report.findings {
            out.push_str(&format!("{path}: {finding}\n"));
        }
        out.push_str(&format!("{path}: {}\n", verdict_line(file)));
    }
    if reports.len() > 1 {
        out.push_str(&format!(
            "{} files, {} distinct modules: {} pass, {} fail, {} unreadable\n",
            summary.files, summary.modules, summary.pass, summary.fail, summary.unreadable
        ));
        if !summary.by_finding.is_empty() {
            out.push_str("by finding (distinct modules with errors / with warnings; findings):\n");
            for (id, c) in &summary.by_finding {
                if errors_only && c.error_modules == 0 {
                    continue;
                }
                out.push_str(&format!(
                    "  {id}: {} / {}; {}\n",
                    c.error_modules, c.warning_modules, c.findings
                ));
            }
        }
        out.push_str("by toolchain (modules: pass / fail):\n");
        for (name, c) in &summary.by_toolchain {
            out.push_str(&format!(
                "  {name}: {}: {} / {}\n",
                c.modules, c.pass, c.fail
            ));
        }
    }
    out
}

fn print(text: &str) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => 0,
        // A closed pipe (e.g. `| head`) is not worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => fatal(&format!("cannot write the output: {e}")),
    }
}

fn fatal(message: &str) -> u8 {
    eprintln!("error: {message}");
    2
}
