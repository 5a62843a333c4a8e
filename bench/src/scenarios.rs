//! The four scenarios, a behaviour check that every build does the same work, and the timing loops.

use crate::fixtures::Build;
use proxywasm::abi::MetricType;
use proxywasm::{Action, LogLevel};
use proxywasm_emulator::Emulator;
use std::time::Instant;

/// One timed scenario.
pub struct Scenario {
    /// Its name in the table.
    pub name: &'static str,
    /// What one operation is.
    pub unit: &'static str,
    /// Runs one batch on a build in the emulator host, metered or not; returns nanoseconds and guest
    /// instructions (when metered) per operation.
    pub run: fn(&Build, bool) -> Sample,
    /// The same batch in the lean host.
    pub lean: fn(&Build, bool) -> Sample,
}

/// The scenarios, in table order.
pub const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "1. HTTP headers: read 2, add 1, remove 1 on the response; full stream",
        unit: "stream",
        run: headers_batch,
        lean: crate::lean_runs::headers_batch,
    },
    Scenario {
        name: "2. HTTP body: 64 KiB in 4 chunks, buffered, replaced at end of stream",
        unit: "stream",
        run: body_batch,
        lean: crate::lean_runs::body_batch,
    },
    Scenario {
        name: "3. TCP: 1 KiB downstream data counted into a metric",
        unit: "event",
        run: tcp_batch,
        lean: crate::lean_runs::tcp_batch,
    },
    Scenario {
        name: "4. Root: tick, shared-data CAS increment, queue enqueue (and dequeue)",
        unit: "tick",
        run: tick_batch,
        lean: crate::lean_runs::tick_batch,
    },
];

/// One batch: time and (metered) guest instructions per operation.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Nanoseconds per operation.
    pub ns: f64,
    /// Wasm instructions the guest executed per operation (0 when not metered).
    pub instructions: f64,
}

struct Batch<'a> {
    host: &'a Emulator,
    start: Instant,
    fuel: u64,
}

impl<'a> Batch<'a> {
    fn start(host: &'a Emulator) -> Self {
        Batch {
            host,
            fuel: host.guest_instructions().unwrap_or(0),
            start: Instant::now(),
        }
    }

    fn finish(self, ops: usize) -> Sample {
        let ns = self.start.elapsed().as_nanos() as f64 / ops as f64;
        let fuel = self.host.guest_instructions().unwrap_or(0) - self.fuel;
        Sample {
            ns,
            instructions: fuel as f64 / ops as f64,
        }
    }
}

/// The median of several rounds.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    /// Median nanoseconds (or microseconds) per operation.
    pub median: f64,
}

impl Measurement {
    /// The median of `samples`.
    pub fn from_samples(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        Measurement {
            median: samples[samples.len() / 2],
        }
    }
}

pub const REQUEST: [(&str, &str); 4] = [
    (":method", "GET"),
    (":path", "/bench"),
    (":authority", "example.com"),
    ("user-agent", "proxywasm-bench"),
];
pub const RESPONSE: [(&str, &str); 3] = [
    (":status", "200"),
    ("x-powered-by", "php"),
    ("content-type", "text/plain"),
];
pub const CHUNK: usize = 16 * 1024;

fn host(build: &Build, configuration: &str) -> Emulator {
    metered_host(build, configuration, false)
}

fn metered_host(build: &Build, configuration: &str, metered: bool) -> Emulator {
    let host = Emulator::builder()
        .plugin_configuration(configuration)
        .metered(metered)
        .log_level(LogLevel::Warn)
        .build_wasm(&build.all)
        .unwrap_or_else(|e| panic!("{}: {e}", build.all.display()));
    assert!(
        host.start_plugin(),
        "{}: the plugin refused to start",
        build.name
    );
    host
}

fn headers_stream(host: &Emulator) -> u32 {
    let stream = host.new_http_stream();
    host.request_headers(stream, &REQUEST, true);
    host.response_headers(stream, &RESPONSE, true);
    host.complete_stream(stream);
    stream
}

fn body_stream(host: &Emulator, chunk: &[u8]) -> u32 {
    let stream = host.new_http_stream();
    host.request_headers(stream, &REQUEST, false);
    for i in 0..4 {
        host.request_body(stream, chunk, i == 3);
    }
    host.complete_stream(stream);
    stream
}

/// Checks every build does the work the scenarios describe, so the timings compare like with like.
pub fn check_behaviour(build: &Build) -> Result<(), String> {
    let host = host(build, "");
    let stream = host.new_http_stream();
    host.request_headers(stream, &REQUEST, true);
    host.response_headers(stream, &RESPONSE, true);
    let view = host.http_stream(stream);
    if !view
        .request_headers
        .iter()
        .any(|(k, v)| k == "x-bench" && v == "1")
    {
        return Err("scenario 1: no x-bench request header".into());
    }
    if view
        .response_headers
        .iter()
        .any(|(k, _)| k == "x-powered-by")
    {
        return Err("scenario 1: x-powered-by was not removed".into());
    }
    host.complete_stream(stream);

    let host2 = self::host(build, "body");
    let chunk = vec![b'a'; CHUNK];
    let stream = host2.new_http_stream();
    host2.request_headers(stream, &REQUEST, false);
    for i in 0..3 {
        if host2.request_body(stream, &chunk, false) != Action::Pause {
            return Err(format!("scenario 2: chunk {i} was not buffered"));
        }
    }
    host2.request_body(stream, &chunk, true);
    let forwarded = host2.http_stream(stream).request_body_forwarded;
    if forwarded.len() != 4 * CHUNK || forwarded.iter().any(|b| *b != b'A') {
        return Err("scenario 2: the body was not replaced".into());
    }

    let host3 = self::host(build, "tcp");
    let (connection, _) = host3.new_tcp_stream();
    for _ in 0..10 {
        host3.downstream_data(connection, &chunk[..1024], false);
    }
    if host3.metric("bench_downstream_bytes") != Some((MetricType::Counter, 10 * 1024)) {
        return Err("scenario 3: the metric does not count the bytes".into());
    }

    for _ in 0..3 {
        host.tick();
    }
    let counter = host.shared_data("bench_counter").map(|(v, _)| v);
    if counter != Some(3u64.to_le_bytes().to_vec()) {
        return Err(format!("scenario 4: shared counter is {counter:?}"));
    }
    if !host.queue_items("bench").is_empty() {
        return Err("scenario 4: the queue was not drained".into());
    }
    Ok(())
}

fn headers_batch(build: &Build, metered: bool) -> Sample {
    let host = metered_host(build, "", metered);
    for _ in 0..200 {
        host.forget_stream(headers_stream(&host));
    }
    const N: usize = 5_000;
    let batch = Batch::start(&host);
    for _ in 0..N {
        host.forget_stream(headers_stream(&host));
    }
    batch.finish(N)
}

fn body_batch(build: &Build, metered: bool) -> Sample {
    let host = metered_host(build, "body", metered);
    let chunk = vec![b'a'; CHUNK];
    for _ in 0..20 {
        host.forget_stream(body_stream(&host, &chunk));
    }
    const N: usize = 500;
    let batch = Batch::start(&host);
    for _ in 0..N {
        host.forget_stream(body_stream(&host, &chunk));
    }
    batch.finish(N)
}

fn tcp_batch(build: &Build, metered: bool) -> Sample {
    let host = metered_host(build, "tcp", metered);
    let data = vec![b'x'; 1024];
    let (connection, _) = host.new_tcp_stream();
    for _ in 0..100 {
        host.downstream_data(connection, &data, false);
    }
    const N: usize = 10_000;
    let batch = Batch::start(&host);
    for _ in 0..N {
        host.downstream_data(connection, &data, false);
    }
    batch.finish(N)
}

fn tick_batch(build: &Build, metered: bool) -> Sample {
    let host = metered_host(build, "", metered);
    for _ in 0..100 {
        host.tick();
    }
    const N: usize = 5_000;
    let batch = Batch::start(&host);
    for _ in 0..N {
        host.tick();
    }
    batch.finish(N)
}

/// Microseconds to instantiate the (already compiled) all-scenarios module and create its root context.
pub fn instantiate_us(build: &Build, count: usize) -> f64 {
    let _warm = host(build, "");
    let mut samples = Vec::new();
    for _ in 0..count {
        let start = Instant::now();
        let host = Emulator::builder()
            .build_wasm(&build.all)
            .unwrap_or_else(|e| panic!("{}: {e}", build.all.display()));
        samples.push(start.elapsed().as_nanos() as f64 / 1000.0);
        drop(host);
    }
    Measurement::from_samples(samples).median
}
