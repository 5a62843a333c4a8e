//! Shared counter: counts requests across every plugin instance of the VM in one shared-data entry,
//! incrementing it with compare-and-swap and retrying when another writer got there first. Each response
//! carries the count in `x-request-count`.
//!
//! A write with CAS 0 is unconditional in the host (cpp-host's `SharedData::set`, src/shared_data.cc), and
//! the host has no "create if absent": two workers that both find the entry missing and write 1 would lose
//! a count. So the entry is created at plugin start, when every worker writes the same 0 and nothing can be
//! lost, and requests only ever write with the version they read. A request that finds no entry, or one that
//! is not an 8-byte count, is not counted and logs why.

use proxywasm::error::Error;
use proxywasm::{http, shared_data, Action, Context, HttpContext, RootContext};

/// The shared-data key.
pub const KEY: &str = "shared_counter.requests";
/// How often an increment is retried after a CAS conflict.
pub const MAX_ATTEMPTS: usize = 8;

/// Creates the counter with 0 unless it exists. Errors: the host's.
pub fn create() -> Result<(), Error> {
    match shared_data::get(KEY)? {
        (Some(_), _) => Ok(()),
        (None, _) => shared_data::set(KEY, &0u64.to_le_bytes(), 0),
    }
}

/// Adds one to the shared counter; returns the new value. Errors: the host's; [`Error::NotFound`] when
/// the counter was never created; [`Error::Malformed`] when the entry is not an 8-byte count;
/// [`Error::CasMismatch`] when every attempt lost a race.
pub fn increment() -> Result<u64, Error> {
    for _ in 0..MAX_ATTEMPTS {
        let (value, cas) = shared_data::get(KEY)?;
        let bytes = value.ok_or(Error::NotFound)?;
        let current = proxywasm::properties::decode_u64(&bytes)?;
        let next = current.checked_add(1).ok_or(Error::BadArgument)?;
        match shared_data::set(KEY, &next.to_le_bytes(), cas) {
            Ok(()) => return Ok(next),
            Err(Error::CasMismatch) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::CasMismatch)
}

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        match create() {
            Ok(()) => true,
            Err(e) => {
                proxywasm::logging::error(&format!("shared_counter: cannot create {KEY}: {e}"));
                false
            }
        }
    }

    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Count { value: None }))
    }
}

/// One HTTP stream.
pub struct Count {
    value: Option<u64>,
}

impl Context for Count {}

impl HttpContext for Count {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        match increment() {
            Ok(value) => self.value = Some(value),
            Err(e) => proxywasm::logging::warn(&format!("shared_counter: cannot count: {e}")),
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if let Some(value) = self.value {
            if let Err(e) = http::replace_response_header("x-request-count", &value.to_string()) {
                proxywasm::logging::warn(&format!("shared_counter: cannot report the count: {e}"));
            }
        }
        Action::Continue
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root)
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn counts_requests_in_shared_data_and_reports_the_count(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            for expected in 1..=3u64 {
                let stream = host.new_http_stream();
                host.request_headers(stream, &[(":path", "/")], true);
                host.response_headers(stream, &[(":status", "200")], true);
                let headers = host.http_stream(stream).response_headers;
                assert_eq!(
                    headers[1],
                    ("x-request-count".to_string(), expected.to_string())
                );
            }
            let (value, version) = host.shared_data(KEY).expect("the counter exists");
            assert_eq!(value, 3u64.to_le_bytes());
            // Created at start (version 1), then three writes.
            assert_eq!(version, 4);
        }

        fn a_second_plugin_of_the_same_vm_shares_the_counter(plugin) {
            let host = Emulator::builder()
                .shared_data(KEY, 41u64.to_le_bytes())
                .load(plugin);
            assert!(host.start_plugin());
            let (other_root, _) = host.add_plugin("");
            let stream = host.new_http_stream_in(other_root);
            host.request_headers(stream, &[(":path", "/")], true);
            assert_eq!(
                host.shared_data(KEY).map(|(v, _)| v),
                Some(42u64.to_le_bytes().to_vec())
            );
        }

        fn a_worker_that_counts_between_read_and_write_loses_no_count(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            // Another worker counts its first request right after this worker reads the counter.
            host.race_shared_data_write(KEY, 1u64.to_le_bytes());
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/")], true);
            assert_eq!(
                host.shared_data(KEY).map(|(v, _)| v),
                Some(2u64.to_le_bytes().to_vec())
            );
        }

        fn a_malformed_counter_is_reported_not_reset(plugin) {
            let host = Emulator::builder()
                .shared_data(KEY, b"junk".to_vec())
                .load(plugin);
            assert!(host.start_plugin());
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/")], true);
            assert_eq!(host.shared_data(KEY).map(|(v, _)| v), Some(b"junk".to_vec()));
            assert_eq!(host.logs(LogLevel::Warn).len(), 1);
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
