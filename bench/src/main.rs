//! `cargo run -p proxywasm-bench`: builds the same plugins three ways (this SDK, the official
//! `proxy-wasm` crate, the raw bindings generated from spec/), checks they behave alike, then times four
//! scenarios side by side in two hosts and prints one table per host: the lean host ([`lean`]: only what
//! the ABI needs, so the plugins' own cost shows) and this repository's emulator in the wasm runner (what
//! the tests run on). Numbers only: nothing here asserts on time.

mod async_twins;
mod build_time;
mod fixtures;
mod lean;
mod lean_runs;
mod scenarios;

use clap::{Parser, ValueEnum};
use fixtures::Build;
use scenarios::{Measurement, Sample, SCENARIOS};

/// Which host the scenarios run in.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Hosts {
    /// The lean wasmtime host only.
    Lean,
    /// The repository's emulator (wasm runner) only.
    Emulator,
    /// Both, lean first.
    Both,
}

/// Times this SDK against the official Rust SDK and the raw-bindings floor.
#[derive(Parser)]
struct Args {
    /// Measurement rounds per scenario and build (the median is reported).
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// Use the fixtures already built instead of running cargo.
    #[arg(long)]
    no_build: bool,
    /// Print the guest instructions of each callback of one scenario-1 stream, one TCP event and one
    /// tick with its queue-ready callback per build (lean host), and stop.
    #[arg(long)]
    breakdown: bool,
    /// Compare each async example with its callback twin (guest instructions per stream, size), using
    /// the ABI 0.2.1 modules `scripts/plugins` built (see --twins-dir), and stop.
    #[arg(long)]
    twins: bool,
    /// Where --twins finds the modules (default: `plugins/0.2.1` in the target directory).
    #[arg(long, value_name = "DIR")]
    twins_dir: Option<std::path::PathBuf>,
    /// The host(s) to time in.
    #[arg(long, value_enum, default_value_t = Hosts::Both)]
    host: Hosts,
    /// Only time clean builds of the hello-world plugin with this SDK and with the official crate
    /// (fresh target folders, dependencies downloaded first), `--build-rounds` times each, and stop.
    #[arg(long)]
    build_time: bool,
    /// Rounds of `--build-time` (the median is reported).
    #[arg(long, default_value_t = 3)]
    build_rounds: usize,
    /// Build the floor with no-op done, log and delete callbacks, which every SDK exports and a host
    /// then calls for every stream (the plain floor exports none, so a host skips those three guest
    /// calls): shows what the three calls cost, apart from the SDKs' own work.
    #[arg(long)]
    floor_callbacks: bool,
}

fn main() {
    let args = Args::parse();
    if args.build_time {
        if let Err(e) = build_time::measure(args.build_rounds, &fixtures::target_dir()) {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
        return;
    }
    if args.twins {
        let dir = args.twins_dir.unwrap_or_else(async_twins::default_dir);
        async_twins::run(&dir);
        return;
    }
    let builds: Vec<Build> = match fixtures::prepare(!args.no_build, args.floor_callbacks) {
        Ok(builds) => builds,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if args.breakdown {
        for build in &builds {
            match lean_runs::breakdown(build) {
                Ok(steps) => {
                    let line: Vec<String> = steps
                        .iter()
                        .map(|s| format!("{} {}", s.name, s.instructions))
                        .collect();
                    println!("{}: {}", build.name, line.join(", "));
                    for step in steps.iter().filter(|s| !s.split.is_empty()) {
                        println!("    {}: {}", step.name, step.split);
                    }
                }
                Err(e) => {
                    eprintln!("error: {}: {e}", build.name);
                    std::process::exit(1);
                }
            }
        }
        return;
    }
    for build in &builds {
        let checked =
            scenarios::check_behaviour(build).and_then(|()| lean_runs::check_behaviour(build));
        if let Err(e) = checked {
            eprintln!("error: {}: {e}", build.name);
            std::process::exit(1);
        }
    }
    let instantiate: Vec<f64> = builds
        .iter()
        .map(|b| scenarios::instantiate_us(b, 50))
        .collect();
    let table = Table {
        builds: &builds,
        instantiate: &instantiate,
    };
    if args.host != Hosts::Emulator {
        let (times, instructions) = measure(&builds, args.rounds, |s| s.lean);
        println!("Lean host (only what the ABI needs; see bench/src/lean):\n");
        table.print(&times, &instructions, true);
        println!();
    }
    if args.host != Hosts::Lean {
        let (times, instructions) = measure(&builds, args.rounds, |s| s.run);
        println!("Emulator host (this repository's emulator in the wasm runner):\n");
        table.print(&times, &instructions, args.host == Hosts::Emulator);
        println!();
    }
    println!(
        "Times: medians of the rounds; each round runs every build once (interleaved). Both hosts run on \
         wasmtime 48.0.8. Guest instructions: wasmtime fuel burnt inside the plugin per operation (one \
         metered batch; deterministic, host work excluded)."
    );
}

type RunFn = fn(&Build, bool) -> Sample;

/// Median times and guest instructions of every scenario and build, in one host.
fn measure(
    builds: &[Build],
    rounds: usize,
    pick: impl Fn(&scenarios::Scenario) -> RunFn,
) -> (Vec<Vec<Measurement>>, Vec<Vec<f64>>) {
    let mut times = Vec::new();
    let mut instructions = Vec::new();
    for scenario in &SCENARIOS {
        let run = pick(scenario);
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); builds.len()];
        for _ in 0..rounds.max(1) {
            // Interleaved: every build runs once per round, so machine noise hits all alike.
            for (b, build) in builds.iter().enumerate() {
                samples[b].push(run(build, false).ns);
            }
        }
        times.push(samples.into_iter().map(Measurement::from_samples).collect());
        instructions.push(builds.iter().map(|b| run(b, true).instructions).collect());
    }
    (times, instructions)
}

struct Table<'a> {
    builds: &'a [Build],
    instantiate: &'a [f64],
}

impl Table<'_> {
    fn print(&self, times: &[Vec<Measurement>], instructions: &[Vec<f64>], sizes: bool) {
        let index = |name: &str| {
            self.builds
                .iter()
                .position(|b| b.name == name)
                .expect("every build ran")
        };
        let (ours, official, floor) = (index("proxywasm"), index("official"), index("floor"));
        let row = |label: &str, unit: &str, v: &dyn Fn(usize) -> f64| {
            println!(
                "| {label} | {unit} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
                v(floor),
                v(ours),
                v(official),
                v(ours) / v(official),
                v(ours) / v(floor),
            );
        };
        println!("| scenario | unit | floor (raw bindings) | proxywasm | official proxy-wasm 0.2.5 | proxywasm / official | proxywasm / floor |");
        println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        for (scenario, r) in SCENARIOS.iter().zip(times) {
            row(scenario.name, &format!("ns per {}", scenario.unit), &|b| {
                r[b].median
            });
        }
        for (scenario, r) in SCENARIOS.iter().zip(instructions) {
            row(
                scenario.name.split(':').next().unwrap_or(scenario.name),
                &format!("guest wasm instructions per {}", scenario.unit),
                &|b| r[b],
            );
        }
        if !sizes {
            return;
        }
        row(
            "instantiate (compiled module, emulator host)",
            "µs per instance",
            &|b| self.instantiate[b],
        );
        for (label, pick) in [
            ("hello world", 0usize),
            ("HTTP headers (scenario 1)", 1),
            ("all four scenarios", 2),
        ] {
            row(&format!(".wasm size: {label}"), "bytes", &|b| {
                self.builds[b].sizes[pick] as f64
            });
        }
    }
}
