//! The built `.wasm` over 100,000 HTTP streams with a buffered, rewritten body: its linear memory stops
//! growing after warm-up and the host sees no context left behind. Runs only in wasm mode.

use proxywasm::{Action, LogLevel};
use proxywasm_emulator::{Emulator, MemoryGrowth, Plugin};

const STREAMS: usize = 100_000;
const WARM_UP: usize = 1_000;
const PAGE: usize = 65_536;

#[test]
fn a_hundred_thousand_bodies_leave_linear_memory_flat_and_the_registry_empty() {
    let path = Plugin::wasm_module_for_test(env!("CARGO_MANIFEST_DIR"), env!("CARGO_PKG_NAME"));
    let host = Emulator::builder()
        .log_level(LogLevel::Warn)
        .build_wasm(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(host.start_plugin());
    let chunk = b"the secret is out; ".repeat(54);
    let MemoryGrowth {
        after_warm_up,
        after,
    } = host
        .guest_memory_over(WARM_UP, STREAMS, |host| {
            let stream = host.new_http_stream();
            let headers = [(":path", "/upload"), ("content-length", "4104")];
            assert_eq!(
                host.request_headers(stream, &headers, false),
                Action::Continue
            );
            for _ in 0..3 {
                assert_eq!(host.request_body(stream, &chunk, false), Action::Pause);
            }
            assert_eq!(host.request_body(stream, &chunk, true), Action::Continue);
            assert!(host.complete_stream(stream));
            host.forget_stream(stream);
        })
        .expect("wasm mode");
    eprintln!(
        "linear memory: {after_warm_up} bytes after {WARM_UP} streams, {after} after {STREAMS}"
    );
    assert!(
        after <= after_warm_up + PAGE,
        "linear memory grew from {after_warm_up} bytes after {WARM_UP} streams to {after} after {STREAMS}"
    );
    assert_eq!(
        host.registry_size(),
        (1, 0),
        "only the root context is left"
    );
}
