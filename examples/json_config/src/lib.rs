//! A configuration parsed from JSON at plugin start:
//!
//! ```json
//! { "header": "x-greeting", "value": "hello", "paths": ["/api"] }
//! ```
//!
//! Requests whose path starts with one of `paths` get the header. A configuration that is not valid JSON,
//! lacks a field or has an empty header name makes `on_plugin_start` fail with the reason in the error log.

use proxywasm::{http, Action, Context, HttpContext, RootContext};
use serde::Deserialize;
use std::rc::Rc;

/// The plugin configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The header to add.
    pub header: String,
    /// Its value.
    pub value: String,
    /// Path prefixes the header applies to.
    pub paths: Vec<String>,
}

/// Parses and checks a configuration.
pub fn parse(bytes: &[u8]) -> Result<Config, String> {
    let config: Config =
        serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON configuration: {e}"))?;
    if config.header.trim().is_empty() {
        return Err("invalid configuration: `header` must not be empty".to_string());
    }
    Ok(config)
}

/// The root context.
#[derive(Default)]
pub struct Root {
    config: Option<Rc<Config>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        let bytes = match proxywasm::config::plugin_configuration() {
            Ok(bytes) => bytes.unwrap_or_default(),
            Err(e) => {
                proxywasm::logging::error(&format!(
                    "json_config: cannot read the configuration: {e}"
                ));
                return false;
            }
        };
        match parse(&bytes) {
            Ok(config) => {
                self.config = Some(Rc::new(config));
                true
            }
            Err(e) => {
                proxywasm::logging::error(&format!("json_config: {e}"));
                false
            }
        }
    }

    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let config = self.config.clone()?;
        Some(Box::new(Greet { config }))
    }
}

/// One HTTP stream.
pub struct Greet {
    config: Rc<Config>,
}

impl Context for Greet {}

impl HttpContext for Greet {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let path = match http::request_header(":path") {
            Ok(Some(path)) => path,
            Ok(None) => return Action::Continue,
            Err(e) => {
                // Fails closed: the header is only added to paths it could check.
                proxywasm::logging::warn(&format!("json_config: cannot read :path: {e}"));
                return Action::Continue;
            }
        };
        if self
            .config
            .paths
            .iter()
            .any(|p| path.starts_with(p.as_str()))
        {
            if let Err(e) = http::add_request_header(&self.config.header, &self.config.value) {
                proxywasm::logging::warn(&format!(
                    "json_config: cannot add {}: {e}",
                    self.config.header
                ));
            }
        }
        Action::Continue
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
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    const GOOD: &str = r#"{"header": "x-greeting", "value": "hello", "paths": ["/api"]}"#;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn applies_the_parsed_configuration(plugin) {
            let host = Emulator::builder()
                .plugin_configuration(GOOD)
                .load(plugin);
            assert!(host.start_plugin());
            let api = host.new_http_stream();
            host.request_headers(api, &[(":path", "/api/v1")], true);
            assert!(host
                .http_stream(api)
                .request_headers
                .contains(&("x-greeting".into(), "hello".into())));
            let other = host.new_http_stream();
            host.request_headers(other, &[(":path", "/static")], true);
            assert_eq!(host.http_stream(other).request_headers.len(), 1);
        }

        fn bad_configurations_fail_with_the_reason(plugin) {
            for (config, reason) in [
                (
                    "not json",
                    "invalid JSON configuration: expected ident at line 1 column 2",
                ),
                (
                    r#"{"header": "x", "value": "v"}"#,
                    "invalid JSON configuration: missing field `paths` at line 1 column 29",
                ),
                (
                    r#"{"header": " ", "value": "v", "paths": []}"#,
                    "invalid configuration: `header` must not be empty",
                ),
            ] {
                let host = Emulator::builder()
                    .plugin_configuration(config)
                    .load(plugin);
                assert!(!host.start_plugin(), "{config}");
                assert_eq!(
                    host.logs(LogLevel::Error),
                    [format!("json_config: {reason}")]
                );
            }
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);

    #[test]
    fn its_envoy_yaml_carries_a_configuration_it_accepts() {
        let filter = proxywasm_emulator::envoy_yaml::EnvoyFilter::from_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/envoy.yaml"
        ))
        .unwrap();
        let config = parse(&filter.plugin_configuration).unwrap();
        assert_eq!(config.header, "x-greeting");
    }
}
