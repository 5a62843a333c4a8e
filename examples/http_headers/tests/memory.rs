//! The built `.wasm` over a million HTTP streams: its linear memory stops growing after warm-up and the
//! host sees no context left behind. Runs only in wasm mode (natively the plugin shares the test's heap).

use proxywasm::{Action, LogLevel};
use proxywasm_emulator::{Emulator, MemoryGrowth, Plugin};

const STREAMS: usize = 1_000_000;
const WARM_UP: usize = 1_000;
const PAGE: usize = 65_536;

#[test]
fn a_million_streams_leave_linear_memory_flat_and_the_registry_empty() {
    let path = Plugin::wasm_module_for_test(env!("CARGO_MANIFEST_DIR"), env!("CARGO_PKG_NAME"));
    let host = Emulator::builder()
        .plugin_configuration("request add x-request-id abc\nresponse remove x-powered-by\n")
        .log_level(LogLevel::Warn)
        .build_wasm(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(host.start_plugin());
    let MemoryGrowth {
        after_warm_up,
        after,
    } = host
        .guest_memory_over(WARM_UP, STREAMS, |host| {
            let stream = host.new_http_stream();
            let request = [(":path", "/"), (":method", "GET"), ("user-agent", "bench")];
            assert_eq!(
                host.request_headers(stream, &request, true),
                Action::Continue
            );
            let response = [(":status", "200"), ("x-powered-by", "php")];
            assert_eq!(
                host.response_headers(stream, &response, true),
                Action::Continue
            );
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
