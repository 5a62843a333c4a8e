//! Properties: reads well-known request and connection properties (`request.path`, `source.address`,
//! `request.protocol`), logs them, and records the request path in the filter state `wasm.seen_path`, which
//! later filters and the access log can read. Envoy adds the `wasm.` prefix itself: the plugin sets the
//! property `seen_path`.

use proxywasm::{properties, Action, Context, HttpContext, RootContext};

/// The custom property this plugin sets (Envoy stores it as the filter state `wasm.seen_path`).
pub const CUSTOM: [&str; 1] = ["seen_path"];
/// The filter state key other filters read.
pub const FILTER_STATE_KEY: &str = "wasm.seen_path";

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Inspect))
    }
}

/// One HTTP stream.
pub struct Inspect;

impl Context for Inspect {}

fn show(value: &Result<Option<String>, proxywasm::Error>) -> String {
    match value {
        Ok(Some(value)) => value.clone(),
        Ok(None) => "-".to_string(),
        Err(e) => format!("<{e}>"),
    }
}

impl HttpContext for Inspect {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let path = properties::get_string(&["request", "path"]);
        proxywasm::infof!(
            "properties: path={} source={} protocol={}",
            show(&path),
            show(&properties::get_string(&["source", "address"])),
            show(&properties::get_string(&["request", "protocol"]))
        );
        // Only a path actually read is recorded; an error or an absent path leaves the state unset.
        match path {
            Ok(Some(path)) => {
                if let Err(e) = properties::set(&CUSTOM, path.as_bytes()) {
                    proxywasm::logging::warn(&format!(
                        "properties: cannot set {FILTER_STATE_KEY}: {e}"
                    ));
                }
            }
            Ok(None) => {}
            Err(e) => proxywasm::logging::warn(&format!(
                "properties: {FILTER_STATE_KEY} not set: cannot read request.path: {e}"
            )),
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

        fn logs_well_known_properties_and_sets_a_custom_one(plugin) {
            let host = Emulator::builder()
                .property(&["request", "path"], "/orders")
                .property(&["source", "address"], "10.1.2.3:5555")
                .load(plugin);
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/orders")], true);
            assert_eq!(
                host.logs(LogLevel::Info),
                ["properties: path=/orders source=10.1.2.3:5555 protocol=-"]
            );
            assert_eq!(
                host.filter_state(stream, FILTER_STATE_KEY),
                Some(b"/orders".to_vec())
            );
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
