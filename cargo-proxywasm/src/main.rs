//! `cargo proxywasm`: creates, builds, tests and audits Proxy-Wasm plugins written with the proxywasm
//! SDK. Install it with `cargo install cargo-proxywasm` (or `--path cargo-proxywasm` in the repository);
//! `cargo proxywasm --help` lists the subcommands.

mod abi;
mod audit;
mod cli;
mod commands;
mod error;
mod project;
mod scaffold;
mod toolchain;
mod wasm_build;

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::strip_subcommand_name(std::env::args_os().collect());
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Printing the usage can only fail on a closed stream; the exit code says enough.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
