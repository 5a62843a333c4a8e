//! `--build-time`: the clean-build time of the same hello-world plugin (bench/fixtures/*/examples/hello.rs)
//! with this SDK and with the official `proxy-wasm` crate, side by side: release, wasm32-wasip1, the size
//! profile of the fixtures, each build in a fresh target folder, the dependencies downloaded beforehand
//! (`cargo fetch`, then `--offline`), the two builds interleaved every round and the median reported.
//! Numbers only: nothing asserts on time.

use crate::scenarios::Measurement;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The two builds compared: name, fixture folder, example.
const BUILDS: [(&str, &str, &str); 2] = [
    ("proxywasm", "ours", "ours_hello"),
    ("official proxy-wasm 0.2.5", "official", "official_hello"),
];

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn fixture(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir)
}

/// Runs `cargo` with `args` in `dir`; fails with the command when it fails.
fn run(dir: &Path, args: &[&str], target: Option<&Path>) -> Result<(), String> {
    let mut command = Command::new(cargo());
    command.current_dir(dir).args(args);
    if let Some(target) = target {
        command.env("CARGO_TARGET_DIR", target);
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo {}` in {} failed ({status})",
            args.join(" "),
            dir.display()
        ))
    }
}

/// One clean build of `example` in `fixture` into the empty folder `target`, in seconds.
fn clean_build(fixture: &Path, example: &str, target: &Path) -> Result<f64, String> {
    let _ = std::fs::remove_dir_all(target);
    std::fs::create_dir_all(target).map_err(|e| format!("{}: {e}", target.display()))?;
    let start = Instant::now();
    run(
        fixture,
        &[
            "build",
            "--quiet",
            "--offline",
            "--release",
            "--target",
            "wasm32-wasip1",
            "--example",
            example,
        ],
        Some(target),
    )?;
    Ok(start.elapsed().as_secs_f64())
}

/// Times `rounds` clean builds of each and prints both medians and their ratio.
pub fn measure(rounds: usize, scratch: &Path) -> Result<(), String> {
    for (_, dir, _) in BUILDS {
        run(&fixture(dir), &["fetch", "--quiet"], None)?;
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); BUILDS.len()];
    for round in 0..rounds.max(1) {
        // Interleaved, and the order flips every round so neither build always runs on a warmer machine.
        let mut order: Vec<usize> = (0..BUILDS.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for b in order {
            let (name, dir, example) = BUILDS[b];
            let target = scratch.join(format!("build-time-{dir}"));
            let seconds = clean_build(&fixture(dir), example, &target)?;
            eprintln!("round {}: {name}: {seconds:.2} s", round + 1);
            samples[b].push(seconds);
            let _ = std::fs::remove_dir_all(&target);
        }
    }
    let medians: Vec<f64> = samples
        .into_iter()
        .map(|s| Measurement::from_samples(s).median)
        .collect();
    println!(
        "Clean release build of the hello-world plugin (wasm32-wasip1, fresh target folder, dependencies \
         downloaded; median of {} interleaved rounds):\n",
        rounds.max(1)
    );
    println!("| SDK | seconds |\n| --- | ---: |");
    for ((name, _, _), median) in BUILDS.iter().zip(&medians) {
        println!("| {name} | {median:.2} |");
    }
    println!("\nproxywasm / official: {:.2}", medians[0] / medians[1]);
    Ok(())
}
