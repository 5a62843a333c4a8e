//! Checks of the ABI model read from `spec/`: per version, spot checks of facts taken from the written
//! specification (signatures that differ between versions, enumeration values), completeness of the docs,
//! and the spec loader's errors on bad documents.

use proxywasm_codegen::model::{Abi, CoreType::I32};
use proxywasm_codegen::{parser, version::default_spec_dir, Version};

fn load(v: Version) -> Abi {
    parser::load(&default_spec_dir(), v).unwrap_or_else(|e| panic!("{e}"))
}

fn import_sig(
    abi: &Abi,
    name: &str,
) -> Option<(
    Vec<proxywasm_codegen::model::CoreType>,
    Vec<proxywasm_codegen::model::CoreType>,
)> {
    abi.import("env", name)
        .map(|f| (f.core_params(), f.core_results()))
}

fn export_sig(
    abi: &Abi,
    name: &str,
) -> Option<(
    Vec<proxywasm_codegen::model::CoreType>,
    Vec<proxywasm_codegen::model::CoreType>,
)> {
    abi.export(name)
        .map(|f| (f.core_params(), f.core_results()))
}

#[test]
fn every_version_loads_with_its_marker_memory_and_allocator() {
    for v in Version::ALL {
        let abi = load(v);
        let marker = format!("proxy_abi_version_{}", v.underscored());
        assert!(
            abi.export(&marker).is_some_and(|f| f.required),
            "{v}: {marker}"
        );
        assert!(abi.memory_required, "{v}: memory");
        let allocator = abi
            .required_exports
            .iter()
            .find(|g| g.family == "allocator")
            .expect("allocator group");
        assert_eq!(
            allocator.names.first().map(String::as_str),
            Some("proxy_on_memory_allocate"),
            "{v}"
        );
        for other in Version::ALL.into_iter().filter(|o| *o != v) {
            assert!(abi
                .export(&format!("proxy_abi_version_{}", other.underscored()))
                .is_none());
        }
    }
}

#[test]
fn request_headers_gained_end_of_stream_in_0_2_0() {
    let two = (vec![I32, I32], vec![I32]);
    let three = (vec![I32, I32, I32], vec![I32]);
    for name in ["proxy_on_request_headers", "proxy_on_response_headers"] {
        assert_eq!(
            export_sig(&load(Version::V0_1_0), name),
            Some(two.clone()),
            "{name}"
        );
        assert_eq!(
            export_sig(&load(Version::V0_2_0), name),
            Some(three.clone()),
            "{name}"
        );
        assert_eq!(
            export_sig(&load(Version::V0_2_1), name),
            Some(three.clone()),
            "{name}"
        );
    }
}

#[test]
fn stream_resumption_changed_between_0_1_0_and_0_2_0() {
    let v010 = load(Version::V0_1_0);
    let v020 = load(Version::V0_2_0);
    for name in ["proxy_continue_request", "proxy_continue_response"] {
        // The 0.1.0 text says these return nothing; the reference host returns a status, which wins.
        assert_eq!(import_sig(&v010, name), Some((vec![], vec![I32])), "{name}");
        assert_eq!(import_sig(&v020, name), None, "{name}");
    }
    for name in ["proxy_continue_stream", "proxy_close_stream"] {
        assert_eq!(import_sig(&v010, name), None, "{name}");
        assert_eq!(
            import_sig(&v020, name),
            Some((vec![I32], vec![I32])),
            "{name}"
        );
    }
}

#[test]
fn log_level_and_foreign_function_callbacks_arrive_in_their_versions() {
    assert!(load(Version::V0_2_0)
        .import("env", "proxy_get_log_level")
        .is_none());
    assert_eq!(
        import_sig(&load(Version::V0_2_1), "proxy_get_log_level"),
        Some((vec![I32], vec![I32]))
    );
    assert!(load(Version::V0_1_0)
        .export("proxy_on_foreign_function")
        .is_none());
    assert_eq!(
        export_sig(&load(Version::V0_2_0), "proxy_on_foreign_function"),
        Some((vec![I32, I32, I32], vec![]))
    );
}

#[test]
fn signatures_that_every_version_shares() {
    use proxywasm_codegen::model::CoreType::I64;
    for v in Version::ALL {
        let abi = load(v);
        assert_eq!(
            import_sig(&abi, "proxy_log"),
            Some((vec![I32; 3], vec![I32])),
            "{v}"
        );
        assert_eq!(
            import_sig(&abi, "proxy_get_header_map_value"),
            Some((vec![I32; 5], vec![I32])),
            "{v}"
        );
        assert_eq!(
            import_sig(&abi, "proxy_get_shared_data"),
            Some((vec![I32; 5], vec![I32])),
            "{v}"
        );
        assert_eq!(
            import_sig(&abi, "proxy_http_call"),
            Some((vec![I32; 10], vec![I32])),
            "{v}"
        );
        assert_eq!(
            import_sig(&abi, "proxy_increment_metric"),
            Some((vec![I32, I64], vec![I32])),
            "{v}"
        );
        assert_eq!(
            import_sig(&abi, "proxy_send_local_response"),
            Some((vec![I32; 8], vec![I32])),
            "{v}"
        );
        assert_eq!(
            export_sig(&abi, "proxy_on_context_create"),
            Some((vec![I32, I32], vec![])),
            "{v}"
        );
        assert_eq!(
            export_sig(&abi, "proxy_on_memory_allocate"),
            Some((vec![I32], vec![I32])),
            "{v}"
        );
        let clock = abi
            .import("wasi_snapshot_preview1", "clock_time_get")
            .expect("clock_time_get");
        assert_eq!(
            (clock.core_params(), clock.core_results()),
            (vec![I32, I64, I32], vec![I32]),
            "{v}"
        );
    }
}

#[test]
fn enumeration_values() {
    for v in Version::ALL {
        let abi = load(v);
        let status = abi.enumeration("status").expect("status");
        let values: Vec<u32> = status.cases.iter().map(|c| c.value).collect();
        assert_eq!(
            values,
            [0, 1, 2, 3, 4, 6, 7, 8, 10, 12],
            "{v}: the spec leaves 5, 9 and 11 unassigned"
        );
        assert_eq!(status.value_of("cas_mismatch"), Some(8));
        assert_eq!(
            abi.enumeration("log_level")
                .expect("log_level")
                .value_of("critical"),
            Some(5)
        );
        assert_eq!(
            abi.enumeration("map_type")
                .expect("map_type")
                .value_of("http_call_response_trailers"),
            Some(7)
        );
        assert_eq!(
            abi.enumeration("peer_type")
                .expect("peer_type")
                .value_of("remote"),
            Some(2)
        );
        assert_eq!(
            abi.enumeration("metric_type")
                .expect("metric_type")
                .value_of("histogram"),
            Some(2)
        );
        assert_eq!(
            abi.enumeration("action").expect("action").value_of("pause"),
            Some(1)
        );
        let buffers = abi.enumeration("buffer_type").expect("buffer_type");
        assert_eq!(buffers.value_of("http_call_response_body"), Some(4));
        if v == Version::V0_1_0 {
            assert_eq!(buffers.value_of("plugin_configuration"), None);
            assert!(abi.enumeration("stream_type").is_none());
        } else {
            assert_eq!(buffers.value_of("plugin_configuration"), Some(7));
            assert_eq!(
                abi.enumeration("stream_type")
                    .expect("stream_type")
                    .value_of("upstream"),
                Some(3)
            );
        }
    }
}

#[test]
fn every_item_is_documented() {
    for v in Version::ALL {
        let abi = load(v);
        for f in abi.imports.iter().chain(&abi.exports) {
            assert!(!f.docs.is_empty(), "{v}: {} has no doc", f.name);
            for p in &f.params {
                assert!(!p.docs.is_empty(), "{v}: {}({}) has no doc", f.name, p.name);
            }
        }
        for e in &abi.enums {
            assert!(!e.docs.is_empty(), "{v}: enum {}", e.name);
            for c in &e.cases {
                assert!(!c.docs.is_empty(), "{v}: {}.{}", e.name, c.name);
            }
        }
    }
}

fn scratch_spec(name: &str, version_doc: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("proxywasm-spec-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        default_spec_dir().join("types.witx"),
        dir.join("types.witx"),
    )
    .unwrap();
    std::fs::write(Version::V0_2_1.document(&dir), version_doc).unwrap();
    dir
}

#[test]
fn an_enum_result_stays_rejected_by_witx() {
    let dir = scratch_spec(
        "enum-result",
        "(use \"types.witx\")\n(typename $e (enum (@witx tag u32) $a $b))\n(module $plugin.x\n  (@interface func (export \"f\")\n    (result $r $e)))\n",
    );
    let err = parser::load(&dir, Version::V0_2_1).unwrap_err().to_string();
    assert!(err.contains("proxy_wasm_0_2_1.witx"), "{err}");
    assert!(err.contains("invalid return type"), "{err}");
}

#[test]
fn a_non_tuple_expected_is_refused_with_file_and_line() {
    let dir = scratch_spec(
        "non-tuple",
        "(use \"types.witx\")\n\n(module $env.x\n  (@interface func (export \"proxy_x\")\n    (result $error (expected $size (error $status)))))\n",
    );
    let err = parser::load(&dir, Version::V0_2_1).unwrap_err().to_string();
    assert!(err.contains("proxy_wasm_0_2_1.witx:4:"), "{err}");
    assert!(err.contains("tuple"), "{err}");
}

#[test]
fn a_missing_document_is_a_clear_error() {
    let dir = std::env::temp_dir().join("proxywasm-no-such-spec");
    let err = parser::load(&dir, Version::V0_1_0).unwrap_err().to_string();
    assert!(
        err.contains("proxy_wasm_0_1_0.witx") && err.contains("cannot read"),
        "{err}"
    );
}
