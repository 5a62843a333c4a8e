//! HTTP headers: logs every request and response header, and edits headers as the plugin configuration
//! says. The configuration is one rule per line:
//!
//! ```text
//! request add x-request-id generated
//! response replace server proxywasm
//! response remove x-powered-by
//! ```

use proxywasm::{http, Action, Context, HttpContext, RootContext};
use std::rc::Rc;

/// Which side a rule edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The request headers.
    Request,
    /// The response headers.
    Response,
}

/// One header edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Add a value, keeping existing ones.
    Add(String, String),
    /// Set a value, replacing existing ones.
    Replace(String, String),
    /// Remove every value.
    Remove(String),
}

/// Parses the configuration: `<request|response> <add|replace|remove> <name> [value]` per line.
pub fn parse_rules(text: &str) -> Result<Vec<(Side, Edit)>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let side = match words.first() {
                Some(&"request") => Side::Request,
                Some(&"response") => Side::Response,
                _ => return Err(format!("`{line}`: expected `request` or `response` first")),
            };
            let edit = match words.as_slice()[1..] {
                ["add", name, value] => Edit::Add(name.to_string(), value.to_string()),
                ["replace", name, value] => Edit::Replace(name.to_string(), value.to_string()),
                ["remove", name] => Edit::Remove(name.to_string()),
                _ => {
                    return Err(format!(
                    "`{line}`: expected `add NAME VALUE`, `replace NAME VALUE` or `remove NAME`"
                ))
                }
            };
            Ok((side, edit))
        })
        .collect()
}

/// The root context: reads the rules at plugin start.
#[derive(Default)]
pub struct Headers {
    rules: Rc<Vec<(Side, Edit)>>,
}

impl Context for Headers {}

impl RootContext for Headers {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        let config = match proxywasm::config::plugin_configuration() {
            Ok(config) => config.unwrap_or_default(),
            Err(e) => {
                proxywasm::logging::error(&format!(
                    "http_headers: cannot read the configuration: {e}"
                ));
                return false;
            }
        };
        let Ok(text) = String::from_utf8(config) else {
            proxywasm::logging::error("http_headers: bad configuration: not UTF-8 text");
            return false;
        };
        match parse_rules(&text) {
            Ok(rules) => {
                self.rules = Rc::new(rules);
                true
            }
            Err(e) => {
                proxywasm::logging::error(&format!("http_headers: bad configuration: {e}"));
                false
            }
        }
    }

    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream {
            rules: self.rules.clone(),
        }))
    }
}

/// One HTTP stream.
pub struct Stream {
    rules: Rc<Vec<(Side, Edit)>>,
}

impl Stream {
    fn apply(&self, side: Side) {
        for (_, edit) in self.rules.iter().filter(|(s, _)| *s == side) {
            let result = match (side, edit) {
                (Side::Request, Edit::Add(n, v)) => http::add_request_header(n, v),
                (Side::Request, Edit::Replace(n, v)) => http::replace_request_header(n, v),
                (Side::Request, Edit::Remove(n)) => http::remove_request_header(n),
                (Side::Response, Edit::Add(n, v)) => http::add_response_header(n, v),
                (Side::Response, Edit::Replace(n, v)) => http::replace_response_header(n, v),
                (Side::Response, Edit::Remove(n)) => http::remove_response_header(n),
            };
            if let Err(e) = result {
                proxywasm::logging::warn(&format!("http_headers: {edit:?}: {e}"));
            }
        }
    }
}

fn warn_unreadable(what: &str, error: proxywasm::error::Error) {
    proxywasm::logging::warn(&format!("http_headers: cannot read {what}: {error}"));
}

impl Context for Stream {}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        match http::request_headers() {
            Ok(headers) => headers
                .iter()
                .for_each(|(k, v)| proxywasm::infof!("request header {k}: {v}")),
            Err(e) => warn_unreadable("request headers", e),
        }
        self.apply(Side::Request);
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _n: usize, _eos: bool) -> Action {
        match http::response_headers() {
            Ok(headers) => headers
                .iter()
                .for_each(|(k, v)| proxywasm::infof!("response header {k}: {v}")),
            Err(e) => warn_unreadable("response headers", e),
        }
        self.apply(Side::Response);
        Action::Continue
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Headers::default())
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm::abi::{BufferType, Status};
    use proxywasm::LogLevel;
    use proxywasm_emulator::Emulator;

    const RULES: &str = "request add x-request-id abc\nresponse replace server proxywasm\nresponse remove x-powered-by\n";

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn edits_headers_as_configured_and_logs_them(plugin) {
            let host = Emulator::builder()
                .plugin_configuration(RULES)
                .load(plugin);
            assert!(host.start_plugin());
            let stream = host.new_http_stream();
            let action = host.request_headers(stream, &[(":path", "/"), ("user-agent", "curl")], true);
            assert_eq!(action, Action::Continue);
            assert_eq!(
                host.http_stream(stream).request_headers,
                [
                    (":path".to_string(), "/".to_string()),
                    ("user-agent".into(), "curl".into()),
                    ("x-request-id".into(), "abc".into())
                ]
            );
            host.response_headers(
                stream,
                &[
                    (":status", "200"),
                    ("server", "envoy"),
                    ("x-powered-by", "php"),
                    ("x-powered-by", "asp"),
                ],
                false,
            );
            assert_eq!(
                host.http_stream(stream).response_headers,
                [
                    (":status".to_string(), "200".to_string()),
                    ("server".into(), "proxywasm".into())
                ]
            );
            let logs = host.logs(LogLevel::Info);
            assert!(
                logs.contains(&"request header user-agent: curl".to_string()),
                "{logs:?}"
            );
            assert!(
                logs.contains(&"response header x-powered-by: asp".to_string()),
                "{logs:?}"
            );
        }

        fn an_unreadable_configuration_fails_the_start(plugin) {
            let host = Emulator::builder()
                .plugin_configuration(RULES)
                .load(plugin);
            host.make_buffer_unreadable(BufferType::PluginConfiguration, Status::InternalFailure);
            assert!(!host.start_plugin());
            assert_eq!(
                host.logs(LogLevel::Error),
                ["http_headers: cannot read the configuration: internal failure in the host"]
            );
        }

        fn a_bad_configuration_is_rejected_with_a_clear_error(plugin) {
            let host = Emulator::builder()
                .plugin_configuration("request explode x")
                .load(plugin);
            assert!(!host.start_plugin());
            assert_eq!(
                host.logs(LogLevel::Error),
                ["http_headers: bad configuration: `request explode x`: expected `add NAME VALUE`, `replace NAME VALUE` or `remove NAME`"]
            );
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);

    #[test]
    fn parses_every_rule_kind() {
        assert_eq!(
            parse_rules("# comment\nrequest remove a\n\nresponse add b c"),
            Ok(vec![
                (Side::Request, Edit::Remove("a".into())),
                (Side::Response, Edit::Add("b".into(), "c".into()))
            ])
        );
        assert!(parse_rules("sideways add a b").is_err());
    }
}
