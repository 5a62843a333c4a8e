//! Properties: reads well-known request and connection properties (`request.path`, `source.address`,
//! `request.protocol`), logs them, and records a custom property (`wasm.seen_path`) other filters can read.

use proxywasm::{properties, Action, Context, HttpContext, RootContext};

/// The custom property this plugin sets.
pub const CUSTOM: [&str; 2] = ["wasm", "seen_path"];

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

fn show(path: &[&str]) -> String {
    match properties::get_string(path) {
        Ok(Some(value)) => value,
        Ok(None) => "-".to_string(),
        Err(e) => format!("<{e}>"),
    }
}

impl HttpContext for Inspect {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let path = show(&["request", "path"]);
        proxywasm::infof!(
            "properties: path={path} source={} protocol={}",
            show(&["source", "address"]),
            show(&["request", "protocol"])
        );
        if let Err(e) = properties::set(&CUSTOM, path.as_bytes()) {
            proxywasm::logging::warn(&format!("properties: cannot set {}: {e}", CUSTOM.join(".")));
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
    use proxywasm::LogLevel;

    proxywasm::emulator_tests! {
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
            assert_eq!(host.property(&CUSTOM), Some(b"/orders".to_vec()));
        }
    }
}
