//! The three builds of the bench plugins: compiled at bench time from bench/fixtures/, never checked in.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One build of the bench plugins.
pub struct Build {
    /// `proxywasm`, `official` or `floor`.
    pub name: &'static str,
    /// The module with every scenario.
    pub all: PathBuf,
    /// Sizes in bytes of hello world, the headers plugin and the all-scenarios plugin.
    pub sizes: [u64; 3],
}

/// Fixture folder and example prefix of each build.
pub const BUILDS: [(&str, &str); 3] = [
    ("floor", "floor"),
    ("proxywasm", "ours"),
    ("official", "official"),
];

/// The workspace's target folder (`$CARGO_TARGET_DIR`, else `target/`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// Builds (when `build` is set) and locates every build's modules. With `floor_callbacks`, the floor
/// also exports no-op `proxy_on_done`, `proxy_on_log` and `proxy_on_delete` (its `callbacks` feature,
/// built in a target folder of its own).
pub fn prepare(build: bool, floor_callbacks: bool) -> Result<Vec<Build>, String> {
    let mut builds = Vec::new();
    for (name, dir) in BUILDS {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(dir);
        let with_callbacks = floor_callbacks && name == "floor";
        let target = target_dir().join(if with_callbacks {
            "bench-fixtures-floor-callbacks"
        } else {
            "bench-fixtures"
        });
        let features: &[&str] = if with_callbacks {
            &["--features", "callbacks"]
        } else {
            &[]
        };
        if build {
            eprintln!("building the {name} plugins ({})", fixture.display());
            let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .current_dir(&fixture)
                .env("CARGO_TARGET_DIR", &target)
                .args([
                    "build",
                    "--release",
                    "--target",
                    "wasm32-wasip1",
                    "--examples",
                ])
                .args(features)
                .status()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !status.success() {
                return Err(format!("building {} failed ({status})", fixture.display()));
            }
        }
        let module = |what: &str| {
            target
                .join("wasm32-wasip1/release/examples")
                .join(format!("{dir}_{what}.wasm"))
        };
        let size = |what: &str| {
            std::fs::metadata(module(what))
                .map(|m| m.len())
                .map_err(|e| format!("{}: {e}", module(what).display()))
        };
        builds.push(Build {
            name,
            all: module("all"),
            sizes: [size("hello")?, size("headers")?, size("all")?],
        });
    }
    Ok(builds)
}
