//! Metrics: a counter per request method (`http_metrics.requests.method.<METHOD>`), a gauge of requests in
//! flight, and a histogram of response times in milliseconds. Labels are encoded in the metric name, the way
//! Envoy's tag extraction expects (`.method.GET`).

use proxywasm::metrics::{Counter, Gauge, Histogram};
use proxywasm::{http, time, Action, Context, HttpContext, RootContext};
use std::time::SystemTime;

/// The gauge of requests in flight.
pub const IN_FLIGHT: &str = "http_metrics.in_flight";
/// The histogram of response times.
pub const LATENCY: &str = "http_metrics.latency_ms";

/// The counter name for one request method.
pub fn requests_by_method(method: &str) -> String {
    format!("http_metrics.requests.method.{method}")
}

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Measure { started: None }))
    }
}

/// One HTTP stream.
pub struct Measure {
    started: Option<SystemTime>,
}

impl Context for Measure {}

impl HttpContext for Measure {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let method = http::request_header(":method")
            .ok()
            .flatten()
            .unwrap_or_else(|| "UNKNOWN".to_string());
        let _ = Counter::new(&requests_by_method(&method)).and_then(|c| c.increment());
        let _ = Gauge::new(IN_FLIGHT).and_then(|g| g.add(1));
        self.started = time::current_time().ok();
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if let (Some(started), Ok(now)) = (self.started.take(), time::current_time()) {
            let millis = now
                .duration_since(started)
                .map_or(0, |d| d.as_millis() as u64);
            let _ = Histogram::new(LATENCY).and_then(|h| h.record(millis));
        }
        Action::Continue
    }

    fn on_http_stream_done(&mut self) {
        let _ = Gauge::new(IN_FLIGHT).and_then(|g| g.add(-1));
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
    use proxywasm::abi::MetricType;
    use proxywasm::emulator::Emulator;
    use std::time::Duration;

    proxywasm::emulator_tests! {
        plugin: new_root;

        fn counts_by_method_tracks_in_flight_and_records_latency(plugin) {
            let host = Emulator::builder().load(plugin);
            let get = host.new_http_stream();
            host.request_headers(get, &[(":method", "GET")], true);
            let post = host.new_http_stream();
            host.request_headers(post, &[(":method", "POST")], false);
            let again = host.new_http_stream();
            host.request_headers(again, &[(":method", "GET")], true);
            assert_eq!(
                host.metric(&requests_by_method("GET")),
                Some((MetricType::Counter, 2))
            );
            assert_eq!(
                host.metric(&requests_by_method("POST")),
                Some((MetricType::Counter, 1))
            );
            assert_eq!(host.metric(IN_FLIGHT), Some((MetricType::Gauge, 3)));
            host.advance_time(Duration::from_millis(25));
            host.response_headers(get, &[(":status", "200")], true);
            host.complete_stream(get);
            assert_eq!(host.histogram(LATENCY), [25]);
            assert_eq!(host.metric(IN_FLIGHT), Some((MetricType::Gauge, 2)));
        }
    }
}
