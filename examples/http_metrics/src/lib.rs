//! Metrics: a counter per request method (`http_metrics.requests.method.<METHOD>`), a gauge of requests in
//! flight, and a histogram of response times in milliseconds. Labels are encoded in the metric name, the way
//! Envoy's tag extraction expects (`.method.GET`).
//!
//! Every metric is defined once, when the plugin starts, and the stream contexts share the handles: Envoy
//! allocates a new metric id for every definition and never frees it, so defining per request would grow
//! the proxy's memory without bound. Methods outside the standard list count as `OTHER`, so a client cannot
//! create metrics by inventing methods.

use proxywasm::metrics::{Counter, Gauge, Histogram};
use proxywasm::{http, time, Action, Context, Error, HttpContext, RootContext};
use std::rc::Rc;
use std::time::SystemTime;

/// The gauge of requests in flight.
pub const IN_FLIGHT: &str = "http_metrics.in_flight";
/// The histogram of response times.
pub const LATENCY: &str = "http_metrics.latency_ms";
/// The methods counted by name; any other counts as `OTHER`.
pub const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];
/// The label of methods outside [`METHODS`].
pub const OTHER: &str = "OTHER";

/// The counter name for one request method.
pub fn requests_by_method(method: &str) -> String {
    format!("http_metrics.requests.method.{method}")
}

/// The metric handles, defined once at plugin start.
#[derive(Debug)]
pub struct Metrics {
    by_method: Vec<(&'static str, Counter)>,
    other: Counter,
    in_flight: Gauge,
    latency: Histogram,
}

impl Metrics {
    /// Defines every metric. Errors: the host's, from the first definition it refuses.
    pub fn define() -> Result<Self, Error> {
        let by_method = METHODS
            .iter()
            .map(|m| Ok((*m, Counter::new(&requests_by_method(m))?)))
            .collect::<Result<_, Error>>()?;
        Ok(Metrics {
            by_method,
            other: Counter::new(&requests_by_method(OTHER))?,
            in_flight: Gauge::new(IN_FLIGHT)?,
            latency: Histogram::new(LATENCY)?,
        })
    }

    fn requests(&self, method: &str) -> Counter {
        self.by_method
            .iter()
            .find(|(m, _)| *m == method)
            .map_or(self.other, |(_, c)| *c)
    }
}

fn warn_on_error(what: &str, result: Result<(), Error>) {
    if let Err(e) = result {
        proxywasm::logging::warn(&format!("http_metrics: cannot {what}: {e}"));
    }
}

/// The root context.
#[derive(Default)]
pub struct Root {
    metrics: Option<Rc<Metrics>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        match Metrics::define() {
            Ok(metrics) => {
                self.metrics = Some(Rc::new(metrics));
                true
            }
            Err(e) => {
                proxywasm::logging::error(&format!("http_metrics: cannot define metrics: {e}"));
                false
            }
        }
    }

    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let metrics = self.metrics.clone()?;
        Some(Box::new(Measure {
            metrics,
            started: None,
            counted: false,
        }))
    }
}

/// One HTTP stream.
pub struct Measure {
    metrics: Rc<Metrics>,
    started: Option<SystemTime>,
    counted: bool,
}

impl Context for Measure {}

impl HttpContext for Measure {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let method = match http::request_header(":method") {
            Ok(Some(method)) => method,
            Ok(None) => OTHER.to_string(),
            Err(e) => {
                proxywasm::logging::warn(&format!("http_metrics: cannot read :method: {e}"));
                OTHER.to_string()
            }
        };
        warn_on_error(
            "count the request",
            self.metrics.requests(&method).increment(),
        );
        warn_on_error("count in-flight", self.metrics.in_flight.add(1));
        self.counted = true;
        match time::current_time() {
            Ok(now) => self.started = Some(now),
            Err(e) => proxywasm::logging::warn(&format!("http_metrics: cannot read the time: {e}")),
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(started) = self.started.take() else {
            return Action::Continue;
        };
        match time::current_time() {
            Ok(now) => {
                let millis = now
                    .duration_since(started)
                    .map_or(0, |d| d.as_millis() as u64);
                warn_on_error("record the latency", self.metrics.latency.record(millis));
            }
            Err(e) => proxywasm::logging::warn(&format!("http_metrics: cannot read the time: {e}")),
        }
        Action::Continue
    }

    fn on_http_stream_done(&mut self) {
        if self.counted {
            warn_on_error("count in-flight", self.metrics.in_flight.add(-1));
        }
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root::default())
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::abi::MetricType;
    use proxywasm_emulator::Emulator;
    use std::time::Duration;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn counts_by_method_tracks_in_flight_and_records_latency(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
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

        fn defines_each_metric_once_however_many_requests(plugin) {
            let host = Emulator::builder().load(plugin);
            assert!(host.start_plugin());
            for method in ["GET", "POST", "GET", "BREW", "GET"] {
                let stream = host.new_http_stream();
                host.request_headers(stream, &[(":method", method)], true);
                host.response_headers(stream, &[(":status", "200")], true);
                host.complete_stream(stream);
            }
            for name in [requests_by_method("GET"), requests_by_method(OTHER), IN_FLIGHT.into(), LATENCY.into()] {
                assert_eq!(host.metric_definitions(&name), 1, "{name}");
            }
            // An invented method is counted, without creating a metric of its own.
            assert_eq!(host.metric(&requests_by_method(OTHER)), Some((MetricType::Counter, 1)));
            assert_eq!(host.metric_definitions(&requests_by_method("BREW")), 0);
            assert_eq!(host.metric(IN_FLIGHT), Some((MetricType::Gauge, 0)));
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
