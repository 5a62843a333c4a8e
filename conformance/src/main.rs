//! `proxywasm-conformance`: audits Proxy-Wasm plugin binaries; the command line lives in the library
//! ([`proxywasm_conformance::cli`]) so `cargo proxywasm audit` runs the same one.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(proxywasm_conformance::cli::run(std::env::args_os()))
}
