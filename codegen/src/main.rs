//! The `proxywasm-codegen` command line: emit bindings, list symbols, compare versions.

use clap::{Parser, Subcommand};
use proxywasm_codegen::{
    emit, expand, listing, parser, regenerate, version::default_spec_dir, Version,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Generates Rust from the Proxy-Wasm ABI spec and lists what each ABI version defines.
#[derive(Parser)]
#[command(name = "proxywasm-codegen", version)]
struct Cli {
    /// The folder holding the spec documents (default: this source tree's `spec/`).
    #[arg(long, global = true)]
    spec_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the generated Rust files of one ABI version into a folder.
    Emit {
        /// The ABI version, e.g. 0.2.1 (`versions` lists them).
        #[arg(long)]
        abi: String,
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Prints the symbols a plugin of one ABI version may import and export.
    Symbols {
        /// The ABI version, e.g. 0.2.1 (`versions` lists them).
        #[arg(long)]
        abi: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Prints the symbols and enumeration values added, removed and changed between two versions.
    Diff {
        /// The older version.
        #[arg(long)]
        from: String,
        /// The newer version.
        #[arg(long)]
        to: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Prints the whole spec document of one ABI version: its version document with the shared items
    /// that belong to it (`;; @include`, `;; @versions`), a witx document that loads next to `types.witx`.
    Document {
        /// The ABI version, e.g. 0.2.1 (`versions` lists them).
        #[arg(long)]
        abi: String,
    },
    /// Prints every ABI version described in the spec folder, oldest first, one per line.
    Versions,
    /// Rewrites every generated file of this repository from the spec (the SDK's bindings of every
    /// version under `sdk/generated/`, the host crate's glue under `emulator/generated/`, the
    /// conformance tables under `conformance/src/generated/`, the symbol listings under
    /// `tests/golden/`) and removes generated files no spec document produces.
    Regenerate {
        /// The repository root (default: this source tree's root).
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let spec_dir = cli.spec_dir.clone().unwrap_or_else(default_spec_dir);
    match run(cli.command, &spec_dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("proxywasm-codegen: {message}");
            ExitCode::from(2)
        }
    }
}

fn load(spec_dir: &Path, version: &str) -> Result<proxywasm_codegen::Abi, String> {
    let version: Version = version.parse().map_err(|e| format!("{e}"))?;
    parser::load(spec_dir, version).map_err(|e| e.to_string())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string_pretty(value).map_err(|e| e.to_string())
}

fn load_all(spec_dir: &Path) -> Result<Vec<proxywasm_codegen::Abi>, String> {
    Version::ALL
        .into_iter()
        .map(|v| parser::load(spec_dir, v).map_err(|e| e.to_string()))
        .collect()
}

fn write_generated(
    abi: &proxywasm_codegen::Abi,
    all: &[proxywasm_codegen::Abi],
    out: &Path,
) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for file in emit::generate(abi, all, &emit::Options::default()).map_err(|e| e.to_string())? {
        let path = out.join(file.name);
        std::fs::write(&path, file.contents).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn run(command: Command, spec_dir: &Path) -> Result<(), String> {
    match command {
        Command::Emit { abi, out } => {
            write_generated(&load(spec_dir, &abi)?, &load_all(spec_dir)?, &out)
        }
        Command::Symbols { abi, json } => {
            let abi = load(spec_dir, &abi)?;
            if json {
                println!("{}", to_json(&listing::symbols(&abi))?);
            } else {
                print!("{}", listing::symbols_text(&abi));
            }
            Ok(())
        }
        Command::Diff { from, to, json } => {
            let d = listing::diff(&load(spec_dir, &from)?, &load(spec_dir, &to)?);
            if json {
                println!("{}", to_json(&d)?);
            } else {
                print!("{}", listing::diff_text(&d));
            }
            Ok(())
        }
        Command::Document { abi } => {
            let version: Version = abi.parse().map_err(|e| format!("{e}"))?;
            let document =
                expand::version_document(spec_dir, version).map_err(|e| e.to_string())?;
            print!("{}", document.text());
            Ok(())
        }
        Command::Versions => {
            let versions = proxywasm_codegen::version::in_spec(spec_dir)
                .map_err(|e| format!("{}: {e}", spec_dir.display()))?;
            for v in versions {
                println!("{v}");
            }
            Ok(())
        }
        Command::Regenerate { root } => {
            let root = root.unwrap_or_else(|| {
                let codegen = Path::new(env!("CARGO_MANIFEST_DIR"));
                codegen.parent().unwrap_or(codegen).to_path_buf()
            });
            for path in regenerate::write(&root, spec_dir)? {
                println!("wrote {}", path.display());
            }
            Ok(())
        }
    }
}
