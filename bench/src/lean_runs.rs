//! The four scenarios in the lean host ([`crate::lean`]): the same plugins, inputs and behaviour check
//! as in the emulator host, timed where the host does little, so the plugin's own cost shows.

use crate::fixtures::Build;
use crate::lean::LeanHost;
use crate::scenarios::{Sample, CHUNK, REQUEST, RESPONSE};
use std::time::Instant;

const CONTINUE: u32 = 0;
const PAUSE: u32 = 1;

fn host(build: &Build, configuration: &str, metered: bool) -> LeanHost {
    LeanHost::start(&build.all, configuration, metered)
        .unwrap_or_else(|e| panic!("{}: {e}", build.name))
}

fn ok<T>(build: &Build, result: Result<T, String>) -> T {
    result.unwrap_or_else(|e| panic!("{}: {e}", build.name))
}

fn headers_stream(host: &mut LeanHost) -> Result<(), String> {
    let id = host.new_stream()?;
    host.request_headers(id, &REQUEST, true)?;
    host.response_headers(id, &RESPONSE, true)?;
    host.complete(id)
}

fn body_stream(host: &mut LeanHost, chunk: &[u8]) -> Result<(), String> {
    let id = host.new_stream()?;
    host.request_headers(id, &REQUEST, false)?;
    for i in 0..4 {
        host.request_body(id, chunk, i == 3)?;
    }
    host.complete(id)
}

fn timed(host: &mut LeanHost, ops: usize, mut op: impl FnMut(&mut LeanHost)) -> Sample {
    let fuel = host.guest_instructions();
    let start = Instant::now();
    for _ in 0..ops {
        op(host);
    }
    let ns = start.elapsed().as_nanos() as f64 / ops as f64;
    Sample {
        ns,
        instructions: (host.guest_instructions() - fuel) as f64 / ops as f64,
    }
}

/// Scenario 1 in the lean host.
pub fn headers_batch(build: &Build, metered: bool) -> Sample {
    let mut host = host(build, "", metered);
    for _ in 0..200 {
        ok(build, headers_stream(&mut host));
    }
    timed(&mut host, 20_000, |h| ok(build, headers_stream(h)))
}

/// Scenario 2 in the lean host.
pub fn body_batch(build: &Build, metered: bool) -> Sample {
    let mut host = host(build, "body", metered);
    let chunk = vec![b'a'; CHUNK];
    for _ in 0..20 {
        ok(build, body_stream(&mut host, &chunk));
    }
    timed(&mut host, 500, |h| ok(build, body_stream(h, &chunk)))
}

/// Scenario 3 in the lean host.
pub fn tcp_batch(build: &Build, metered: bool) -> Sample {
    let mut host = host(build, "tcp", metered);
    let data = vec![b'x'; 1024];
    let id = ok(build, host.new_stream());
    ok(build, host.new_connection(id));
    for _ in 0..100 {
        ok(build, host.downstream_data(id, &data, false));
    }
    timed(&mut host, 50_000, |h| {
        ok(build, h.downstream_data(id, &data, false));
    })
}

/// Scenario 4 in the lean host.
pub fn tick_batch(build: &Build, metered: bool) -> Sample {
    let mut host = host(build, "", metered);
    for _ in 0..100 {
        ok(build, host.tick());
    }
    timed(&mut host, 20_000, |h| ok(build, h.tick()))
}

/// Checks every build does the scenarios' work in the lean host too (the same checks as in the emulator
/// host), and logs nothing at warn level or above.
pub fn check_behaviour(build: &Build) -> Result<(), String> {
    let mut host = LeanHost::start(&build.all, "", false)?;
    let id = host.new_stream()?;
    if host.request_headers(id, &REQUEST, true)? != CONTINUE {
        return Err("lean host, scenario 1: request headers paused".into());
    }
    if host.state().request_headers.get(b"x-bench") != Some(b"1".as_slice()) {
        return Err("lean host, scenario 1: no x-bench request header".into());
    }
    host.response_headers(id, &RESPONSE, true)?;
    if host.state().response_headers.get(b"x-powered-by").is_some()
        || host.state().response_headers.get(b"content-type").is_none()
    {
        return Err("lean host, scenario 1: x-powered-by not removed (or more removed)".into());
    }
    host.complete(id)?;

    let mut body = LeanHost::start(&build.all, "body", false)?;
    let chunk = vec![b'a'; CHUNK];
    let id = body.new_stream()?;
    body.request_headers(id, &REQUEST, false)?;
    for i in 0..3 {
        if body.request_body(id, &chunk, false)? != PAUSE {
            return Err(format!("lean host, scenario 2: chunk {i} was not buffered"));
        }
    }
    body.request_body(id, &chunk, true)?;
    let forwarded = &body.request_body_forwarded;
    if forwarded.len() != 4 * CHUNK || forwarded.iter().any(|b| *b != b'A') {
        return Err("lean host, scenario 2: the body was not replaced".into());
    }

    let mut tcp = LeanHost::start(&build.all, "tcp", false)?;
    let id = tcp.new_stream()?;
    tcp.new_connection(id)?;
    for _ in 0..10 {
        tcp.downstream_data(id, &chunk[..1024], false)?;
    }
    let counted = tcp
        .state()
        .metrics
        .iter()
        .filter(|m| m.name == b"bench_downstream_bytes")
        .map(|m| m.value)
        .sum::<u64>();
    if counted != 10 * 1024 {
        return Err(format!(
            "lean host, scenario 3: the metric counts {counted}, not 10240"
        ));
    }

    for _ in 0..3 {
        host.tick()?;
    }
    let counter = host.state().shared.get(b"bench_counter".as_slice());
    if counter.map(|(v, _)| v.as_slice()) != Some(3u64.to_le_bytes().as_slice()) {
        return Err(format!(
            "lean host, scenario 4: shared counter is {counter:?}"
        ));
    }
    if host.state().queues.iter().any(|q| !q.items.is_empty()) {
        return Err("lean host, scenario 4: the queue was not drained".into());
    }
    for h in [&host, &body, &tcp] {
        if let Some((level, line)) = h.state().log.first() {
            return Err(format!(
                "lean host: the plugin logged at level {level}: {line}"
            ));
        }
    }
    Ok(())
}

/// One step of the breakdown: its name, guest instructions, and how they split at the hostcalls (the
/// guest's own segments between the traced hostcalls, and each guest allocation the host made).
pub struct Step {
    pub name: &'static str,
    pub instructions: u64,
    pub split: String,
}

/// Guest instructions of each callback of one scenario-1 stream in the lean host (after a warm-up
/// stream), of one TCP data event, and of one tick with its queue-ready callback.
pub fn breakdown(build: &Build) -> Result<Vec<Step>, String> {
    let mut host = LeanHost::start(&build.all, "", true)?;
    headers_stream(&mut host)?;
    let mut steps = Vec::new();
    let id = traced(&mut host, &mut steps, "context_create", |h| h.new_stream())?;
    traced(&mut host, &mut steps, "request_headers", |h| {
        h.request_headers(id, &REQUEST, true)
    })?;
    traced(&mut host, &mut steps, "response_headers", |h| {
        h.response_headers(id, &RESPONSE, true)
    })?;
    let mut observed = Vec::new();
    let start = host.guest_instructions();
    host.complete_observed(id, &mut |name, now| observed.push((name, now)))?;
    push_observed(&mut steps, start, observed);
    let mut tcp = LeanHost::start(&build.all, "tcp", true)?;
    let tcp_id = tcp.new_stream()?;
    tcp.new_connection(tcp_id)?;
    tcp.downstream_data(tcp_id, &[0; 1024], false)?;
    traced(&mut tcp, &mut steps, "tcp downstream_data", |h| {
        h.downstream_data(tcp_id, &[0; 1024], false)
    })?;
    host.tick()?;
    host.start_trace();
    let mut observed = Vec::new();
    let start = host.guest_instructions();
    host.tick_observed(&mut |name, now| observed.push((name, now)))?;
    let trace = host.take_trace();
    let mut from = start;
    for (name, end) in observed {
        let inside: Vec<_> = trace
            .iter()
            .copied()
            .filter(|(_, at)| *at >= from && *at <= end)
            .collect();
        steps.push(Step {
            name,
            instructions: end - from,
            split: split(from, end, &inside),
        });
        from = end;
    }
    Ok(steps)
}

/// Runs `op` with the hostcall trace on and records it as step `name`.
fn traced<T>(
    host: &mut LeanHost,
    steps: &mut Vec<Step>,
    name: &'static str,
    op: impl FnOnce(&mut LeanHost) -> Result<T, String>,
) -> Result<T, String> {
    host.start_trace();
    let start = host.guest_instructions();
    let result = op(host)?;
    let end = host.guest_instructions();
    let trace = host.take_trace();
    steps.push(Step {
        name,
        instructions: end - start,
        split: split(start, end, &trace),
    });
    Ok(result)
}

fn push_observed(steps: &mut Vec<Step>, start: u64, observed: Vec<(&'static str, u64)>) {
    let mut from = start;
    for (name, end) in observed {
        steps.push(Step {
            name,
            instructions: end - from,
            split: String::new(),
        });
        from = end;
    }
}

/// `guest | hostcall | guest | alloc N | guest ...`: the guest's segments between the marks, a guest
/// allocation shown with its own count.
fn split(start: u64, end: u64, trace: &[(&'static str, u64)]) -> String {
    if trace.is_empty() {
        return String::new();
    }
    let mut out = Vec::new();
    let mut at = start;
    let mut allocating = false;
    for &(what, when) in trace {
        match what {
            "allocated" => {
                out.push(format!("[alloc {}]", when - at));
                allocating = false;
            }
            _ => {
                if !allocating {
                    out.push(format!("{}", when - at));
                }
                allocating = what == "allocate";
                if !allocating {
                    out.push(what.to_string());
                }
            }
        }
        at = when;
    }
    out.push(format!("{}", end - at));
    out.join(" ")
}
