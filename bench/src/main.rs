//! `cargo run -p proxywasm-bench`: builds the same plugins three ways (this SDK, the official
//! `proxy-wasm` crate, the raw bindings generated from spec/), checks they behave alike, then times four
//! scenarios side by side in the wasm runner and prints one table. Numbers only: nothing here asserts on
//! time.

mod fixtures;
mod scenarios;

use clap::Parser;
use fixtures::Build;
use scenarios::{Measurement, SCENARIOS};

/// Times this SDK against the official Rust SDK and the raw-bindings floor.
#[derive(Parser)]
struct Args {
    /// Measurement rounds per scenario and build (the median is reported).
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// Use the fixtures already built instead of running cargo.
    #[arg(long)]
    no_build: bool,
    /// Print the guest instructions of each callback of one scenario-1 stream per build, and stop.
    #[arg(long)]
    breakdown: bool,
}

fn main() {
    let args = Args::parse();
    let builds: Vec<Build> = match fixtures::prepare(!args.no_build) {
        Ok(builds) => builds,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if args.breakdown {
        for build in &builds {
            println!("{}: {:?}", build.name, scenarios::breakdown(build));
        }
        return;
    }
    for build in &builds {
        if let Err(e) = scenarios::check_behaviour(build) {
            eprintln!("error: {}: {e}", build.name);
            std::process::exit(1);
        }
    }
    let instantiate: Vec<f64> = builds
        .iter()
        .map(|b| scenarios::instantiate_us(b, 50))
        .collect();
    let mut results: Vec<Vec<Measurement>> = vec![Vec::new(); SCENARIOS.len()];
    let mut instructions: Vec<Vec<f64>> = vec![Vec::new(); SCENARIOS.len()];
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); builds.len()];
        for _ in 0..args.rounds.max(1) {
            // Interleaved: every build runs once per round, so machine noise hits all alike.
            for (b, build) in builds.iter().enumerate() {
                samples[b].push((scenario.run)(build, false).ns);
            }
        }
        results[i] = samples.into_iter().map(Measurement::from_samples).collect();
        instructions[i] = builds
            .iter()
            .map(|build| (scenario.run)(build, true).instructions)
            .collect();
    }
    print_table(&builds, &instantiate, &results, &instructions);
}

fn print_table(
    builds: &[Build],
    instantiate: &[f64],
    results: &[Vec<Measurement>],
    instructions: &[Vec<f64>],
) {
    let index = |name: &str| {
        builds
            .iter()
            .position(|b| b.name == name)
            .expect("every build ran")
    };
    let (ours, official, floor) = (index("proxywasm"), index("official"), index("floor"));
    println!("| scenario | unit | floor (raw bindings) | proxywasm | official proxy-wasm 0.2.5 | proxywasm / official | proxywasm / floor |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (scenario, row) in SCENARIOS.iter().zip(results) {
        println!(
            "| {} | ns per {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
            scenario.name,
            scenario.unit,
            row[floor].median,
            row[ours].median,
            row[official].median,
            row[ours].median / row[official].median,
            row[ours].median / row[floor].median,
        );
    }
    for (scenario, row) in SCENARIOS.iter().zip(instructions) {
        println!(
            "| {} | guest wasm instructions per {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
            scenario.name.split(':').next().unwrap_or(scenario.name),
            scenario.unit,
            row[floor],
            row[ours],
            row[official],
            row[ours] / row[official],
            row[ours] / row[floor],
        );
    }
    println!(
        "| instantiate (compiled module) | µs per instance | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
        instantiate[floor],
        instantiate[ours],
        instantiate[official],
        instantiate[ours] / instantiate[official],
        instantiate[ours] / instantiate[floor],
    );
    for (label, pick) in [
        ("hello world", 0usize),
        ("HTTP headers (scenario 1)", 1),
        ("all four scenarios", 2),
    ] {
        let size = |b: usize| builds[b].sizes[pick] as f64;
        println!(
            "| .wasm size: {label} | bytes | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
            size(floor),
            size(ours),
            size(official),
            size(ours) / size(official),
            size(ours) / size(floor),
        );
    }
    println!();
    println!(
        "Times: medians of the rounds; each round runs every build once. The host is this repository's \
         emulator in the wasm runner (wasmtime 48.0.8), the same for all three builds, so its cost is in \
         every time. Guest instructions: wasmtime fuel burnt inside the plugin per operation (one metered \
         batch; deterministic, host work excluded)."
    );
}
