//! Shared data (versions, CAS, races), queues, metrics, properties and filter state, foreign functions.
use super::*;

#[test]
fn shared_data_has_versions_and_cas() {
    struct Cas;
    impl Context for Cas {}
    impl RootContext for Cas {
        fn on_tick(&mut self) {
            let (value, cas) = shared_data::get("k").unwrap();
            seen(format!("{value:?} {cas}"));
            shared_data::set("k", b"2", cas).unwrap();
            seen(format!("stale: {:?}", shared_data::set("k", b"3", cas)));
            seen(format!("missing: {:?}", shared_data::get("nope")));
            let in_place =
                |key| shared_data::with_entry(key, |v, cas| (v.map(<[u8]>::to_vec), cas));
            seen(format!(
                "in place: {:?} {:?}",
                in_place("k"),
                in_place("nope")
            ));
        }
    }
    take_seen();
    let host = Emulator::builder()
        .shared_data("k", "1")
        .build(|_| Box::new(Cas));
    host.tick();
    assert_eq!(
        take_seen(),
        [
            "Some([49]) 1",
            "stale: Err(CasMismatch)",
            "missing: Ok((None, 0))",
            "in place: Ok((Some([50]), 2)) Ok((None, 0))"
        ]
    );
    assert_eq!(host.shared_data("k"), Some((b"2".to_vec(), 2)));
}

#[test]
fn queues_deliver_items_between_two_plugins_of_one_vm() {
    struct Producer;
    impl Context for Producer {}
    impl RootContext for Producer {
        fn on_tick(&mut self) {
            let id = queue::resolve("", "jobs").unwrap();
            queue::enqueue(id, b"a").unwrap();
            queue::enqueue(id, b"b").unwrap();
            seen(format!("unknown: {:?}", queue::resolve("other-vm", "jobs")));
        }
    }
    fn factory(id: u32) -> Box<dyn RootContext> {
        if id == 1 {
            Box::new(Root)
        } else {
            Box::new(Producer)
        }
    }
    take_seen();
    let host = Emulator::builder().build(factory);
    assert!(host.start_plugin());
    let (producer, _) = host.add_plugin("");
    host.tick_root(producer);
    let seen = take_seen();
    assert!(
        seen.contains(&"unknown: Err(NotFound)".to_string()),
        "{seen:?}"
    );
    let order: Vec<_> = seen
        .iter()
        .filter(|s| s.starts_with("dequeued") || s.starts_with("then"))
        .cloned()
        .collect();
    assert_eq!(order, ["dequeued a", "dequeued b", "then Err(Empty)"]);
    assert!(host.queue_items("jobs").is_empty());
}

#[test]
fn metrics_properties_and_foreign_functions() {
    struct Everything;
    impl Context for Everything {}
    impl RootContext for Everything {
        fn on_tick(&mut self) {
            let c = metrics::Counter::new("requests").unwrap();
            c.increment().unwrap();
            c.add(2).unwrap();
            seen(format!("counter value {:?}", c.value()));
            seen(format!(
                "counter down: {:?}",
                metrics::increment(
                    metrics::define(MetricType::Counter, "requests").unwrap(),
                    -1
                )
            ));
            let g = metrics::Gauge::new("active").unwrap();
            g.set(5).unwrap();
            g.add(-2).unwrap();
            metrics::Histogram::new("latency")
                .unwrap()
                .record(42)
                .unwrap();
            let addr = properties::get_string(&["source", "address"]).unwrap();
            // Envoy's setProperty needs a stream: a root context has no filter state.
            seen(format!(
                "root set: {:?}",
                properties::set(&["custom"], b"v")
            ));
            seen(format!(
                "{addr:?} {:?}",
                properties::get(&["missing"]).unwrap()
            ));
            let out = proxywasm::foreign::call_foreign_function("double", b"ab").unwrap();
            seen(format!("foreign {}", String::from_utf8_lossy(&out)));
            seen(format!(
                "unknown foreign: {:?}",
                proxywasm::foreign::call_foreign_function("nope", b"")
            ));
        }
        fn on_foreign_function(&mut self, id: u32, size: usize) {
            seen(format!(
                "called {id} {size} {:?}",
                proxywasm::foreign::call_arguments()
            ));
        }
    }
    take_seen();
    let host = Emulator::builder()
        .property(&["source", "address"], "10.0.0.1:80")
        .build(|_| Box::new(Everything));
    host.register_foreign_function("double", |args| Ok([args, args].concat()));
    host.tick();
    assert_eq!(host.metric("requests"), Some((MetricType::Counter, 3)));
    assert_eq!(host.metric("active"), Some((MetricType::Gauge, 3)));
    assert_eq!(host.histogram("latency"), [42]);
    assert_eq!(
        host.foreign_calls(),
        [
            ("double".to_string(), b"ab".to_vec()),
            ("nope".to_string(), vec![])
        ]
    );
    let seen = take_seen();
    assert_eq!(
        seen,
        [
            "counter value Ok(3)",
            "counter down: Err(BadArgument)",
            "root set: Err(NotFound)",
            "Some(\"10.0.0.1:80\") None",
            "foreign abab",
            "unknown foreign: Err(NotFound)"
        ]
    );
    host.call_plugin_foreign_function(7, b"xyz");
    let expected = if proxywasm::abi::BufferType::CallData.is_defined() {
        "called 7 3 Ok([120, 121, 122])".to_string()
    } else {
        "called 7 3 Err(BadArgument)".to_string()
    };
    assert_eq!(take_seen(), [expected]);
}

#[test]
fn a_property_set_by_a_stream_is_its_filter_state_under_the_wasm_prefix() {
    struct Props;
    impl Context for Props {}
    impl RootContext for Props {
        fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Props))
        }
    }
    impl HttpContext for Props {
        fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
            seen(format!("before: {:?}", properties::get(&["seen_path"])));
            if let Err(e) = properties::set(&["seen_path"], b"/a") {
                seen(format!("set: {e}"));
            }
            seen(format!("after: {:?}", properties::get(&["seen_path"])));
            Action::Continue
        }
    }
    take_seen();
    let host = Emulator::builder().build(|_| Box::new(Props));
    let first = host.new_http_stream();
    host.request_headers(first, &[(":path", "/a")], true);
    // Envoy's key is `wasm.` plus the raw path bytes: no trailing NUL, or no other filter finds it.
    assert_eq!(
        host.filter_state(first, "wasm.seen_path"),
        Some(b"/a".to_vec())
    );
    let second = host.new_http_stream();
    host.request_headers(second, &[(":path", "/b")], true);
    assert_eq!(
        take_seen(),
        [
            "before: Ok(None)",
            "after: Ok(Some([47, 97]))",
            // Filter state belongs to its stream.
            "before: Ok(None)",
            "after: Ok(Some([47, 97]))"
        ]
    );
}

#[test]
fn every_metric_definition_gets_a_new_id_like_envoy_and_the_sdk_defines_once() {
    struct Defines;
    impl Context for Defines {}
    impl RootContext for Defines {
        fn on_tick(&mut self) {
            let raw = |name: &str| {
                let mut id = 0u32;
                let status = proxywasm::abi::env::safe::proxy_define_metric(
                    MetricType::Counter.into(),
                    name.as_bytes(),
                    &mut id,
                );
                assert_eq!(status, 0);
                id
            };
            let (a, b) = (raw("raw"), raw("raw"));
            seen(format!("new id each time: {}", a != b));
            metrics::increment(a, 1).unwrap();
            metrics::increment(b, 2).unwrap();
            seen(format!("shared value: {:?}", metrics::value(a)));
            for _ in 0..3 {
                metrics::Counter::new("cached")
                    .unwrap()
                    .increment()
                    .unwrap();
            }
        }
    }
    take_seen();
    let host = Emulator::builder().build(|_| Box::new(Defines));
    host.tick();
    assert_eq!(
        take_seen(),
        ["new id each time: true", "shared value: Ok(3)"]
    );
    assert_eq!(host.metric_definitions("raw"), 2);
    assert_eq!(host.metric_definitions("cached"), 1);
    assert_eq!(host.metric("cached"), Some((MetricType::Counter, 3)));
    assert_eq!(host.metric_definitions("never"), 0);
}

#[test]
fn a_write_with_cas_0_is_unconditional_as_in_cpp_host() {
    // cpp-host's SharedData::set (src/shared_data.cc) checks the version only for a non-zero cas.
    struct Overwrite;
    impl Context for Overwrite {}
    impl RootContext for Overwrite {
        fn on_tick(&mut self) {
            seen(format!("cas 0: {:?}", shared_data::set("k", b"mine", 0)));
        }
    }
    take_seen();
    let host = Emulator::builder()
        .shared_data("k", "theirs")
        .build(|_| Box::new(Overwrite));
    host.race_shared_data_write("k", "raced");
    host.tick();
    assert_eq!(take_seen(), ["cas 0: Ok(())"]);
    assert_eq!(host.shared_data("k"), Some((b"mine".to_vec(), 2)));
}

#[test]
fn a_racing_write_between_read_and_write_makes_the_cas_write_fail() {
    struct Racer;
    impl Context for Racer {}
    impl RootContext for Racer {
        fn on_tick(&mut self) {
            let (_, cas) = shared_data::get("k").unwrap();
            seen(format!("write: {:?}", shared_data::set("k", b"mine", cas)));
        }
    }
    take_seen();
    let host = Emulator::builder()
        .shared_data("k", "1")
        .build(|_| Box::new(Racer));
    host.race_shared_data_write("k", "raced");
    host.tick();
    assert_eq!(take_seen(), ["write: Err(CasMismatch)"]);
    assert_eq!(host.shared_data("k"), Some((b"raced".to_vec(), 2)));
}
