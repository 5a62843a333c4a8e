//! What an example's `envoy.yaml` gives its Wasm filter: the root id, the VM id, and the plugin and VM
//! configurations, so a test can start the plugin exactly as shipped.
//!
//! This is a purpose-built reader, not a YAML parser (the SDK takes no YAML dependency): it finds the
//! Wasm filter's `config:` block (`envoy.filters.http.wasm` or `envoy.filters.network.wasm`), reads
//! `name`, `root_id`, `vm_config.vm_id`, and each `configuration:` given as Envoy expects it, a
//! `google.protobuf.StringValue` whose `value` is a literal block (`|`, `|-`), a quoted string or a plain
//! scalar. Anything else it cannot read is an [`EnvoyYamlError`], never a silent empty configuration.

use super::{Emulator, EmulatorBuilder, Plugin};
use proxywasm::abi::{Action, LogLevel};
use std::fmt;

/// The Wasm filter an `envoy.yaml` configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvoyFilter {
    /// Whether it is a network (TCP) filter rather than an HTTP filter.
    pub network: bool,
    /// The plugin's `name`.
    pub name: String,
    /// The plugin's `root_id`.
    pub root_id: String,
    /// `vm_config.vm_id`.
    pub vm_id: String,
    /// The plugin `configuration` (empty when the file has none).
    pub plugin_configuration: Vec<u8>,
    /// `vm_config.configuration` (empty when the file has none).
    pub vm_configuration: Vec<u8>,
}

/// Why an `envoy.yaml` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvoyYamlError {
    /// The file could not be read.
    Io(String),
    /// The file configures no Wasm filter.
    NoWasmFilter,
    /// A `configuration:` is not a `StringValue` with a `value` this reader understands (line number).
    UnreadableConfiguration(usize),
    /// A `name`, `root_id` or `vm_id` is a quoted string with an escape this reader does not know (line
    /// number).
    UnreadableScalar(usize),
}

impl fmt::Display for EnvoyYamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvoyYamlError::Io(e) => write!(f, "cannot read the file: {e}"),
            EnvoyYamlError::NoWasmFilter => f.write_str("no envoy.filters.*.wasm filter"),
            EnvoyYamlError::UnreadableScalar(line) => {
                write!(f, "line {line}: a quoted string with an unknown escape")
            }
            EnvoyYamlError::UnreadableConfiguration(line) => write!(
                f,
                "line {line}: `configuration` is not a google.protobuf.StringValue with a readable `value`"
            ),
        }
    }
}

impl std::error::Error for EnvoyYamlError {}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The value after `key:` on `line`, if the line is that key.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.trim_start().strip_prefix(key)?.strip_prefix(':')?;
    Some(rest.trim())
}

fn unquote(scalar: &str) -> Option<String> {
    if let Some(inner) = scalar.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            out.push(match chars.next()? {
                'n' => '\n',
                't' => '\t',
                '"' => '"',
                '\\' => '\\',
                _ => return None,
            });
        }
        return Some(out);
    }
    if let Some(inner) = scalar.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Some(inner.replace("''", "'"));
    }
    Some(scalar.to_string())
}

/// Reads the `StringValue` that starts at `lines[at]` (the `configuration:` line).
fn string_value(lines: &[&str], at: usize) -> Result<Vec<u8>, EnvoyYamlError> {
    let bad = || EnvoyYamlError::UnreadableConfiguration(at + 1);
    let base = indent(lines[at]);
    let mut value = None;
    let mut string_type = false;
    let mut i = at + 1;
    while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) > base) {
        let line = lines[i];
        if let Some(t) = field(line, "\"@type\"").or_else(|| field(line, "'@type'")) {
            string_type =
                unquote(t).as_deref() == Some("type.googleapis.com/google.protobuf.StringValue");
        } else if let Some(v) = field(line, "value") {
            let own = indent(line);
            if v == "|" || v == "|-" {
                let mut block = Vec::new();
                let mut j = i + 1;
                let mut block_indent = None;
                while j < lines.len() {
                    let l = lines[j];
                    if !l.trim().is_empty() {
                        let n = indent(l);
                        if n <= own {
                            break;
                        }
                        let start = *block_indent.get_or_insert(n);
                        if n < start {
                            break;
                        }
                        block.push(&l[start..]);
                    } else {
                        block.push("");
                    }
                    j += 1;
                }
                while block.last() == Some(&"") {
                    block.pop();
                }
                let mut text = block.join("\n");
                if v == "|" && !text.is_empty() {
                    text.push('\n');
                }
                value = Some(text);
                i = j;
                continue;
            }
            value = Some(unquote(v).ok_or_else(bad)?);
        }
        i += 1;
    }
    match value {
        Some(v) if string_type => Ok(v.into_bytes()),
        _ => Err(bad()),
    }
}

impl EnvoyFilter {
    /// Reads the Wasm filter of the `envoy.yaml` at `path`. Errors: see [`EnvoyYamlError`].
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, EnvoyYamlError> {
        let text = std::fs::read_to_string(path).map_err(|e| EnvoyYamlError::Io(e.to_string()))?;
        Self::parse(&text)
    }

    /// Reads the Wasm filter of an `envoy.yaml` text. Errors: see [`EnvoyYamlError`].
    pub fn parse(text: &str) -> Result<Self, EnvoyYamlError> {
        Self::parse_named(
            text,
            &["envoy.filters.http.wasm", "envoy.filters.network.wasm"],
        )
    }

    /// Reads the Wasm service (`envoy.bootstrap.wasm` bootstrap extension) of an `envoy.yaml` text: a
    /// plugin Envoy runs outside any stream, e.g. a queue receiver. Errors: see [`EnvoyYamlError`]
    /// ([`EnvoyYamlError::NoWasmFilter`] when there is none).
    pub fn parse_service(text: &str) -> Result<Self, EnvoyYamlError> {
        Self::parse_named(text, &["envoy.bootstrap.wasm"])
    }

    fn parse_named(text: &str, names: &[&str]) -> Result<Self, EnvoyYamlError> {
        let lines: Vec<&str> = text.lines().collect();
        let filter = lines
            .iter()
            .position(|l| {
                field(l, "- name")
                    .or_else(|| field(l, "name"))
                    .is_some_and(|name| names.contains(&name))
            })
            .ok_or(EnvoyYamlError::NoWasmFilter)?;
        let network = lines[filter].contains("envoy.filters.network.wasm");
        let config = (filter + 1..lines.len())
            .find(|&i| field(lines[i], "config") == Some(""))
            .ok_or(EnvoyYamlError::NoWasmFilter)?;
        let base = indent(lines[config]);
        let end = (config + 1..lines.len())
            .find(|&i| !lines[i].trim().is_empty() && indent(lines[i]) <= base)
            .unwrap_or(lines.len());
        let mut found = EnvoyFilter {
            network,
            name: String::new(),
            root_id: String::new(),
            vm_id: String::new(),
            plugin_configuration: Vec::new(),
            vm_configuration: Vec::new(),
        };
        let mut vm_config_indent = None;
        for i in config + 1..end {
            let line = lines[i];
            if line.trim().is_empty() {
                continue;
            }
            let n = indent(line);
            if vm_config_indent.is_some_and(|v| n <= v) {
                vm_config_indent = None;
            }
            if field(line, "vm_config") == Some("") {
                vm_config_indent = Some(n);
            } else if let Some(v) = field(line, "configuration") {
                if !v.is_empty() {
                    return Err(EnvoyYamlError::UnreadableConfiguration(i + 1));
                }
                let bytes = string_value(&lines, i)?;
                if vm_config_indent.is_some() {
                    found.vm_configuration = bytes;
                } else {
                    found.plugin_configuration = bytes;
                }
            } else if let Some(v) = field(line, "vm_id").filter(|_| vm_config_indent.is_some()) {
                found.vm_id = unquote(v).ok_or(EnvoyYamlError::UnreadableScalar(i + 1))?;
            } else if let Some(v) = field(line, "root_id").filter(|_| vm_config_indent.is_none()) {
                found.root_id = unquote(v).ok_or(EnvoyYamlError::UnreadableScalar(i + 1))?;
            } else if let Some(v) = field(line, "name").filter(|_| vm_config_indent.is_none()) {
                found.name = unquote(v).ok_or(EnvoyYamlError::UnreadableScalar(i + 1))?;
            }
        }
        Ok(found)
    }

    /// An emulator builder set up as this filter: its configurations, VM id, the `plugin_name`,
    /// `plugin_root_id` and `plugin_vm_id` properties Envoy provides, and the connection's
    /// `source.address` and `destination.address` (a local client).
    pub fn builder(&self) -> EmulatorBuilder {
        let mut builder = Emulator::builder()
            .property(&["source", "address"], "127.0.0.1:40000")
            .property(&["destination", "address"], "127.0.0.1:10000")
            .vm_configuration(self.vm_configuration.clone())
            .plugin_configuration(self.plugin_configuration.clone())
            .property(&["plugin_name"], self.name.clone())
            .property(&["plugin_root_id"], self.root_id.clone());
        if !self.vm_id.is_empty() {
            builder = builder
                .vm_id(self.vm_id.clone())
                .property(&["plugin_vm_id"], self.vm_id.clone());
        }
        builder
    }

    /// Starts `plugin` as this filter configures it and drives one stream of the filter's kind (an HTTP
    /// request and response, or a TCP connection with data both ways); panics (failing the test) when the
    /// VM or the plugin refuses to start, a callback fails, or the plugin logs an error.
    pub fn check_runs(&self, plugin: &Plugin) -> Emulator {
        let host = self.builder().load(plugin);
        assert!(
            host.start_vm(),
            "the VM refused to start: {:?}",
            host.all_logs()
        );
        assert!(
            host.start_plugin(),
            "the plugin refused the configuration of its envoy.yaml: {:?}",
            host.all_logs()
        );
        if self.network {
            let (id, _) = host.new_tcp_stream();
            host.downstream_data(id, b"ping", false);
            host.upstream_data(id, b"pong", false);
            host.complete_stream(id);
        } else {
            let id = host.new_http_stream();
            let request = [(":method", "GET"), (":path", "/"), (":authority", "local")];
            if host.request_headers(id, &request, true) == Action::Continue {
                host.response_headers(id, &[(":status", "200")], true);
            }
            host.complete_stream(id);
        }
        let errors = host.logs(LogLevel::Error);
        assert!(errors.is_empty(), "errors logged: {errors:?}");
        host
    }
}

/// Writes, in an example's test module, the test (both modes) that starts the plugin with the
/// configuration of the example's own `envoy.yaml` and drives one stream
/// ([`EnvoyFilter::check_runs`]).
#[macro_export]
macro_rules! envoy_yaml_test {
    (plugin: $factory:expr) => {
        $crate::emulator_tests! {
            plugin: $factory;

            fn runs_with_the_configuration_of_its_envoy_yaml(plugin) {
                let filter = $crate::envoy_yaml::EnvoyFilter::from_file(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/envoy.yaml"
                ))
                .unwrap_or_else(|e| panic!("envoy.yaml: {e}"));
                filter.check_runs(plugin);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP: &str = r#"
static_resources:
  listeners:
    - name: main
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                http_filters:
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: demo
                        root_id: demo_root
                        configuration:
                          "@type": type.googleapis.com/google.protobuf.StringValue
                          value: |
                            {"a": 1,
                              "b": [2]}
                        vm_config:
                          vm_id: demo_vm
                          runtime: envoy.wasm.runtime.v8
                          configuration:
                            "@type": type.googleapis.com/google.protobuf.StringValue
                            value: "vm \"wide\""
                          code:
                            local: { filename: demo.wasm }
                  - name: envoy.filters.http.router
"#;

    #[test]
    fn reads_the_wasm_filter_and_both_configurations() {
        let filter = EnvoyFilter::parse(HTTP).unwrap();
        assert_eq!(
            filter,
            EnvoyFilter {
                network: false,
                name: "demo".into(),
                root_id: "demo_root".into(),
                vm_id: "demo_vm".into(),
                plugin_configuration: b"{\"a\": 1,\n  \"b\": [2]}\n".to_vec(),
                vm_configuration: b"vm \"wide\"".to_vec(),
            }
        );
    }

    #[test]
    fn a_filter_without_configuration_has_empty_ones_and_other_forms_are_errors() {
        let bare = HTTP
            .lines()
            .filter(|l| {
                !l.contains("configuration")
                    && !l.contains("StringValue")
                    && !l.contains("value")
                    && !l.contains("\"a\"")
                    && !l.contains("\"b\"")
            })
            .collect::<Vec<_>>()
            .join("\n");
        let filter = EnvoyFilter::parse(&bare).unwrap();
        assert!(filter.plugin_configuration.is_empty() && filter.vm_configuration.is_empty());
        assert_eq!(filter.vm_id, "demo_vm");
        let not_a_string = HTTP.replace("protobuf.StringValue", "protobuf.Struct");
        assert!(matches!(
            EnvoyFilter::parse(&not_a_string),
            Err(EnvoyYamlError::UnreadableConfiguration(_))
        ));
        assert_eq!(
            EnvoyFilter::parse("static_resources: {}"),
            Err(EnvoyYamlError::NoWasmFilter)
        );
        let network = HTTP.replace("envoy.filters.http.wasm", "envoy.filters.network.wasm");
        assert!(EnvoyFilter::parse(&network).unwrap().network);
        let bad_escape = HTTP.replace("root_id: demo_root", "root_id: \"demo\\q\"");
        assert!(matches!(
            EnvoyFilter::parse(&bad_escape),
            Err(EnvoyYamlError::UnreadableScalar(_))
        ));
        let strip = HTTP.replace("value: |", "value: |-");
        assert_eq!(
            EnvoyFilter::parse(&strip).unwrap().plugin_configuration,
            b"{\"a\": 1,\n  \"b\": [2]}"
        );
    }
}
