//! Shared counter: counts requests across every plugin instance of the VM in one shared-data entry,
//! incrementing it with compare-and-swap and retrying when another writer got there first. Each response
//! carries the count in `x-request-count`.

use proxywasm::error::Error;
use proxywasm::{http, shared_data, Action, Context, HttpContext, RootContext};

/// The shared-data key.
pub const KEY: &str = "shared_counter.requests";
/// How often an increment is retried after a CAS conflict.
pub const MAX_ATTEMPTS: usize = 8;

/// Adds one to the shared counter; returns the new value. Errors: the host's, or
/// [`Error::CasMismatch`] when every attempt lost a race.
pub fn increment() -> Result<u64, Error> {
    for _ in 0..MAX_ATTEMPTS {
        let (value, cas) = shared_data::get(KEY)?;
        let current = match value {
            Some(bytes) => u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8])),
            None => 0,
        };
        let next = current + 1;
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
            let _ = http::replace_response_header("x-request-count", &value.to_string());
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
    use proxywasm::emulator::Emulator;

    proxywasm::emulator_tests! {
        plugin: new_root;

        fn counts_requests_in_shared_data_and_reports_the_count(plugin) {
            let host = Emulator::builder().load(plugin);
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
            assert_eq!(version, 3);
        }

        fn a_second_plugin_of_the_same_vm_shares_the_counter(plugin) {
            let host = Emulator::builder()
                .shared_data(KEY, 41u64.to_le_bytes())
                .load(plugin);
            let (other_root, _) = host.add_plugin("");
            let stream = host.new_http_stream_in(other_root);
            host.request_headers(stream, &[(":path", "/")], true);
            assert_eq!(
                host.shared_data(KEY).map(|(v, _)| v),
                Some(42u64.to_le_bytes().to_vec())
            );
        }
    }
}
