//! Every checked-in generated file (the SDK's bindings under `sdk/generated/`, the host crate's glue under
//! `emulator/generated/`, the conformance tables under `conformance/src/generated/`, the symbol listings under `tests/golden/`) must be exactly what
//! the generator writes from `spec/` today, and no file the generator would not write may linger in
//! the generated folders. After an intended change to `spec/` or `codegen/`, run
//! `cargo run -p proxywasm-codegen -- regenerate` and review `git diff`.

use proxywasm_codegen::regenerate::{outputs, stale_files, COMMAND};
use proxywasm_codegen::version::default_spec_dir;
use std::path::Path;

#[test]
fn every_generated_file_is_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let outputs = outputs(&default_spec_dir()).unwrap_or_else(|e| panic!("{e}"));
    let mut stale = Vec::new();
    for output in &outputs {
        match std::fs::read_to_string(root.join(&output.path)) {
            Ok(text) if text == output.contents => {}
            Ok(_) => stale.push(format!("{} (differs)", output.path)),
            Err(e) => stale.push(format!("{} ({e})", output.path)),
        }
    }
    for extra in stale_files(root, &outputs) {
        stale.push(format!(
            "{} (no spec document produces it)",
            extra.display()
        ));
    }
    assert!(
        stale.is_empty(),
        "generated files are stale: {stale:#?}; if the change to spec/ or codegen/ is intended, run \
         `{COMMAND}` and review `git diff`"
    );
}

#[test]
fn the_generated_files_cover_every_version_and_the_conformance_tables() {
    let outputs = outputs(&default_spec_dir()).unwrap_or_else(|e| panic!("{e}"));
    for dir in ["v0_1_0", "v0_2_0", "v0_2_1"] {
        let guest = ["types", "imports", "host", "exports"].map(|f| ("sdk", f));
        let host = ["instance", "runner"].map(|f| ("emulator", f));
        for (krate, file) in guest.into_iter().chain(host) {
            let path = format!("{krate}/generated/{dir}/{file}.rs");
            assert!(
                outputs.iter().any(|o| o.path == path),
                "{path} is not generated"
            );
        }
    }
    // The guest SDK's generated code names nothing of the host crate.
    for output in outputs.iter().filter(|o| o.path.starts_with("sdk/")) {
        for host_only in [
            "PluginInstance",
            "InProcess",
            "CallbackFailure",
            "wasmtime",
            "emulator::",
        ] {
            assert!(
                !output.contents.contains(host_only),
                "{} names `{host_only}`",
                output.path
            );
        }
    }
    for path in [
        "conformance/src/generated/symbols.rs",
        "conformance/src/generated/profiles.rs",
    ] {
        assert!(
            outputs.iter().any(|o| o.path == path),
            "{path} is not generated"
        );
    }
}
