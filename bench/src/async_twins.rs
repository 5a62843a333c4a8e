//! `--twins`: each async example (`examples/async_*`) against its callback twin, built as
//! `scripts/plugins` leaves them: guest instructions per stream in the emulator (metered wasm runner;
//! deterministic) and module size. Modules missing from the directory are skipped, so the same command
//! measures another build of the callback examples (say, of a branch without the async layer).

use proxywasm::{Action, LogLevel};
use proxywasm_emulator::Emulator;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    /// Guest instructions per step of the streams measured (label, sum), and the count at the last mark.
    static STEPS: RefCell<(Vec<(&'static str, u64)>, u64)> = const { RefCell::new((Vec::new(), 0)) };
}

/// Charges the guest instructions since the previous mark to step `label`.
fn mark(host: &Emulator, label: &'static str) {
    let now = host.guest_instructions().unwrap_or(0);
    STEPS.with(|s| {
        let (steps, last) = &mut *s.borrow_mut();
        let spent = now - *last;
        *last = now;
        match steps.iter_mut().find(|(l, _)| *l == label) {
            Some((_, sum)) => *sum += spent,
            None => steps.push((label, spent)),
        }
    });
}

/// One scenario both twins of a pair run alike.
struct Pair {
    callback: &'static str,
    asynchronous: &'static str,
    stream: fn(&Emulator),
}

const PAIRS: [Pair; 3] = [
    Pair {
        callback: "http_auth",
        asynchronous: "async_http_auth",
        stream: auth_stream,
    },
    Pair {
        callback: "parallel_http_calls",
        asynchronous: "async_parallel_calls",
        stream: parallel_stream,
    },
    Pair {
        callback: "grpc_auth",
        asynchronous: "async_grpc_auth",
        stream: grpc_stream,
    },
];

fn paused(host: &Emulator, headers: &[(&str, &str)]) -> u32 {
    let stream = host.new_http_stream();
    mark(host, "create");
    assert_eq!(host.request_headers(stream, headers, true), Action::Pause);
    mark(host, "headers");
    stream
}

fn finish(host: &Emulator, stream: u32) {
    mark(host, "answers");
    assert_eq!(host.http_stream(stream).request_resumed, 1, "resumed once");
    host.complete_stream(stream);
    mark(host, "done");
    host.forget_stream(stream);
}

/// Request paused, the auth call answered 200, request resumed, stream ended.
fn auth_stream(host: &Emulator) {
    let stream = paused(
        host,
        &[(":path", "/private"), ("authorization", "Bearer t")],
    );
    let token = host.http_calls().last().expect("an auth call").token;
    host.answer_http_call(token, &[(":status", "200")], b"", &[]);
    finish(host, stream);
}

/// Request paused, three calls answered 200 out of order, request resumed, stream ended.
fn parallel_stream(host: &Emulator) {
    let stream = paused(host, &[(":path", "/product/7")]);
    let calls = host.http_calls();
    let tokens: Vec<u32> = calls[calls.len() - 3..].iter().map(|c| c.token).collect();
    for token in [tokens[1], tokens[0], tokens[2]] {
        host.answer_http_call(token, &[(":status", "200")], b"", &[]);
    }
    finish(host, stream);
}

/// Request paused, the gRPC reply `allow` and close 0, request resumed, stream ended.
fn grpc_stream(host: &Emulator) {
    let stream = paused(host, &[(":path", "/admin")]);
    let token = host.grpc_calls().last().expect("a gRPC call").token;
    host.grpc_message(token, b"allow");
    host.grpc_close(token, 0);
    finish(host, stream);
}

/// Guest instructions per stream over `streams` streams, after `warm_up` streams.
fn per_stream(module: &Path, stream: fn(&Emulator), warm_up: usize, streams: usize) -> f64 {
    let host = Emulator::builder()
        .metered(true)
        .log_level(LogLevel::Warn)
        .build_wasm(module)
        .unwrap_or_else(|e| panic!("{}: {e}", module.display()));
    assert!(
        host.start_plugin(),
        "{}: refused to start",
        module.display()
    );
    let started = host.guest_instructions().expect("metered");
    STEPS.with(|s| *s.borrow_mut() = (Vec::new(), started));
    for _ in 0..warm_up {
        stream(&host);
    }
    let before = host.guest_instructions().expect("metered");
    STEPS.with(|s| *s.borrow_mut() = (Vec::new(), before));
    for _ in 0..streams {
        stream(&host);
    }
    let after = host.guest_instructions().expect("metered");
    (after - before) as f64 / streams as f64
}

/// The steps of the last measurement, per stream.
fn steps(streams: usize) -> String {
    STEPS.with(|s| {
        s.borrow()
            .0
            .iter()
            .map(|(label, sum)| format!("{label} {}", sum / streams as u64))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

const STREAMS: usize = 500;

/// Where `scripts/plugins` puts the ABI 0.2.1 builds.
pub fn default_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("plugins").join("0.2.1")
}

/// Prints one row per module found in `dir`.
pub fn run(dir: &Path) {
    println!("Async twins (ABI 0.2.1 modules in {}):\n", dir.display());
    println!(
        "| example | size (bytes) | guest instructions per stream | vs callback twin | per step |\n| --- | ---: | ---: | ---: | --- |"
    );
    for pair in &PAIRS {
        let mut baseline = None;
        for name in [pair.callback, pair.asynchronous] {
            let module = dir.join(format!("{name}.wasm"));
            let Ok(size) = std::fs::metadata(&module).map(|m| m.len()) else {
                println!("| {name} | (not built) | | | |");
                continue;
            };
            let instructions = per_stream(&module, pair.stream, 20, STREAMS);
            let ratio = match baseline {
                None => {
                    baseline = Some(instructions);
                    String::from("")
                }
                Some(base) => format!("{:+.1}%", (instructions / base - 1.0) * 100.0),
            };
            println!(
                "| {name} | {size} | {instructions:.0} | {ratio} | {} |",
                steps(STREAMS)
            );
        }
    }
    println!(
        "\nEach stream: request headers (paused), the call(s) answered with 200, the request resumed, \
         the stream completed. Guest instructions: wasmtime fuel burnt inside the plugin (host work \
         excluded), averaged over 500 streams after 20 warm-up streams."
    );
}
