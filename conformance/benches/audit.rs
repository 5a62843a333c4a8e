//! Audit throughput: `cargo bench -p proxywasm-conformance --bench audit [-- FILE.wasm...]`.
//! Without files, audits a synthesized ~1 MB plugin of the newest known ABI version. Prints MB/s and
//! modules/s; asserts nothing about time.

use proxywasm_conformance::{audit, symbols, AbiChoice};
use std::time::{Duration, Instant};

/// A valid plugin of the newest version, about `target` bytes: the version's imports and callbacks,
/// plus filler functions with long bodies.
fn synthesize(target: usize) -> Result<Vec<u8>, String> {
    let abi = symbols::versions().last().ok_or("no ABI version known")?;
    let types = |params: &[symbols::ValType], results: &[symbols::ValType]| {
        let p: Vec<&str> = params.iter().map(|t| t.as_str()).collect();
        let r: Vec<&str> = results.iter().map(|t| t.as_str()).collect();
        format!("(param {}) (result {})", p.join(" "), r.join(" "))
    };
    let mut wat = String::from("(module\n");
    for s in abi.imports {
        wat.push_str(&format!(
            "(import \"{}\" \"{}\" (func {}))\n",
            s.module,
            s.name,
            types(s.params, s.results)
        ));
    }
    wat.push_str("(memory (export \"memory\") 1)\n");
    for s in abi.exports {
        let body: Vec<String> = s
            .results
            .iter()
            .map(|t| format!("({}.const 0)", t.as_str()))
            .collect();
        wat.push_str(&format!(
            "(func (export \"{}\") {} {})\n",
            s.name,
            types(s.params, s.results),
            body.join(" ")
        ));
    }
    // Each step is about 9 bytes of code; 100 steps a function.
    let step = "local.get 0 i32.const 123456 i32.add local.set 0\n";
    let body = step.repeat(100);
    for i in 0..target / 900 {
        wat.push_str(&format!(
            "(func $f{i} (export \"helper_{i}\") (param i32) (result i32)\n{body} local.get 0)\n"
        ));
    }
    wat.push(')');
    wat::parse_str(&wat).map_err(|e| e.to_string())
}

/// Runs `f` for at least 2 s (and 10 runs) and prints the throughput.
fn measure(name: &str, what: &str, bytes: &[u8], mut f: impl FnMut()) {
    let mut runs = 0u32;
    let start = Instant::now();
    let mut fastest = Duration::MAX;
    while runs < 10 || start.elapsed() < Duration::from_secs(2) {
        let t = Instant::now();
        f();
        fastest = fastest.min(t.elapsed());
        runs += 1;
    }
    let per = start.elapsed().as_secs_f64() / f64::from(runs);
    let mb = bytes.len() as f64 / 1_000_000.0;
    println!(
        "{name} ({} bytes), {what}: {runs} runs, {:.3} ms/module (fastest {:.3} ms), {:.1} MB/s, {:.1} modules/s",
        bytes.len(),
        per * 1000.0,
        fastest.as_secs_f64() * 1000.0,
        mb / per,
        1.0 / per,
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut modules: Vec<(String, Vec<u8>)> = Vec::new();
    for path in &args {
        match std::fs::read(path) {
            Ok(bytes) => modules.push((path.clone(), bytes)),
            Err(e) => {
                eprintln!("error: {path}: {e}");
                std::process::exit(2);
            }
        }
    }
    if modules.is_empty() {
        match synthesize(1 << 20) {
            Ok(bytes) => modules.push(("synthesized plugin".to_string(), bytes)),
            Err(e) => {
                eprintln!("error: cannot synthesize a module: {e}");
                std::process::exit(2);
            }
        }
    }
    for (name, bytes) in &modules {
        // Warm up, and check the module audits at all.
        if let Err(e) = audit(bytes, AbiChoice::Auto, None) {
            eprintln!("error: {name}: {e}");
            std::process::exit(2);
        }
        measure(name, "audit", bytes, || {
            let _ = std::hint::black_box(audit(std::hint::black_box(bytes), AbiChoice::Auto, None));
        });
        // The baseline: wasmparser's own sequential validation of the same bytes.
        measure(name, "wasmparser validate_all (baseline)", bytes, || {
            let mut validator = wasmparser::Validator::new();
            let _ = std::hint::black_box(validator.validate_all(std::hint::black_box(bytes)));
        });
    }
}
