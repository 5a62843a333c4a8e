//! `proxywasm-conformance`: audits Proxy-Wasm plugin binaries against the ABI version they declare.
//! See `conformance/README.md` for the commands, the findings, the JSON schema and the exit codes.

use clap::{Parser, Subcommand, ValueEnum};
use proxywasm_conformance::{
    audit, symbols, AbiChoice, ExpectList, FileReport, JsonOutput, Report, Severity,
};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Audits Proxy-Wasm plugin binaries against the ABI version they declare.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Audits wasm files: exit 0 if all conform, 1 if any has a violation, 2 if any cannot be read.
    Audit {
        /// The ABI version to audit against: `auto` (the one each module declares) or a version.
        #[arg(long, default_value = "auto", value_parser = parse_abi)]
        abi: AbiChoice,
        /// A file listing the host functions the modules must import, one a line (`module.name` or
        /// `name`; `#` starts a comment). Any difference in either direction is a violation.
        #[arg(long, value_name = "FILE")]
        expect: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The wasm files.
        #[arg(required = true, value_name = "FILE.wasm")]
        files: Vec<PathBuf>,
    },
    /// Prints the symbols a plugin of one ABI version may import and export.
    Symbols {
        /// The ABI version.
        #[arg(long, value_parser = parse_version)]
        abi: &'static proxywasm_conformance::AbiSymbols,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people: one line per finding and a summary line.
    Text,
    /// For pipelines: the schema documented in the README.
    Json,
}

fn parse_abi(s: &str) -> Result<AbiChoice, String> {
    s.parse::<AbiChoice>().map_err(|e| e.to_string())
}

fn parse_version(s: &str) -> Result<&'static proxywasm_conformance::AbiSymbols, String> {
    match s.parse::<AbiChoice>() {
        Ok(AbiChoice::Version(v)) => Ok(v),
        Ok(AbiChoice::Auto) => Err("name a version, not `auto`".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Audit {
            abi,
            expect,
            format,
            files,
        } => run_audit(abi, expect, format, &files),
        Command::Symbols { abi, format } => {
            let text = match format {
                Format::Text => symbols::listing_text(abi),
                Format::Json => match serde_json::to_string_pretty(&symbols::listing(abi)) {
                    Ok(json) => json + "\n",
                    Err(e) => return fatal(&format!("cannot write JSON: {e}")),
                },
            };
            print(&text)
        }
    }
}

fn run_audit(
    abi: AbiChoice,
    expect: Option<PathBuf>,
    format: Format,
    files: &[PathBuf],
) -> ExitCode {
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
    let mut unreadable = false;
    let mut violation = false;
    let mut reports = Vec::with_capacity(files.len());
    for path in files {
        let shown = path.display().to_string();
        let result = std::fs::read(path)
            .map_err(|e| format!("cannot read the file: {e}"))
            .and_then(|bytes| {
                audit(&bytes, abi, expect.as_ref())
                    .map_err(|e| format!("not a valid wasm module: {e}"))
            });
        match result {
            Ok(report) => {
                violation |= !report.ok;
                reports.push(FileReport {
                    path: shown,
                    report,
                    error: None,
                });
            }
            Err(error) => {
                unreadable = true;
                eprintln!("error: {shown}: {error}");
                reports.push(FileReport {
                    path: shown,
                    report: Report {
                        abi: None,
                        ok: false,
                        findings: Vec::new(),
                        capabilities: Vec::new(),
                    },
                    error: Some(error),
                });
            }
        }
    }

    let out = match format {
        Format::Text => text_output(&reports),
        Format::Json => match serde_json::to_string_pretty(&JsonOutput { files: reports }) {
            Ok(json) => json + "\n",
            Err(e) => return fatal(&format!("cannot write JSON: {e}")),
        },
    };
    let printed = print(&out);
    if printed != ExitCode::SUCCESS {
        return printed;
    }
    if unreadable {
        ExitCode::from(2)
    } else if violation {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn text_output(reports: &[FileReport]) -> String {
    let mut out = String::new();
    let (mut errors, mut warnings, mut failed) = (0, 0, 0);
    for file in reports {
        let path = file.path.escape_debug().to_string();
        if file.error.is_some() {
            failed += 1;
            out.push_str(&format!(
                "{path}: could not be audited (see the error above)\n"
            ));
            continue;
        }
        let r = &file.report;
        for finding in &r.findings {
            out.push_str(&format!("{path}: {finding}\n"));
        }
        let (e, w) = (r.count(Severity::Error), r.count(Severity::Warning));
        errors += e;
        warnings += w;
        if !r.ok {
            failed += 1;
        }
        let capabilities = if r.capabilities.is_empty() {
            "none".to_string()
        } else {
            r.capabilities.join(", ")
        };
        out.push_str(&format!(
            "{path}: ABI {}: {} ({e} errors, {w} warnings); capabilities: {capabilities}\n",
            r.abi.as_deref().unwrap_or("unknown"),
            if r.ok { "conforms" } else { "DOES NOT CONFORM" },
        ));
    }
    if reports.len() > 1 {
        out.push_str(&format!(
            "{} files: {} conform, {failed} do not ({errors} errors, {warnings} warnings)\n",
            reports.len(),
            reports.len() - failed,
        ));
    }
    out
}

fn print(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (e.g. `| head`) is not worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fatal(&format!("cannot write the output: {e}")),
    }
}

fn fatal(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}
