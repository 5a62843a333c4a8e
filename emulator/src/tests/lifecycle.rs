//! The root context's life (start, configuration, ticks, logs, shutdown), the registry, and hostcalls with no host.
use super::*;

#[test]
fn starts_the_vm_and_the_plugin_with_their_configurations() {
    let host = emulator();
    assert!(host.start_vm());
    assert!(host.start_plugin());
    // Every version reads the VM configuration in on_vm_start: ABI 0.1.0 through
    // proxy_get_configuration, which Envoy answers with it outside proxy_on_configure.
    assert_eq!(
        take_seen(),
        [
            "vm 6 Ok(Some([118, 109, 99, 111, 110, 102]))",
            "plugin 5 pconf"
        ]
    );
    let (_, accepted) = host.add_plugin("reject");
    assert!(!accepted);
}

#[test]
fn streams_are_deleted_and_the_registry_empties() {
    let host = emulator();
    host.start_plugin();
    let s = host.new_http_stream();
    host.request_headers(s, &[(":path", "/")], true);
    assert!(host.complete_stream(s));
    assert_eq!(
        host.registry_size(),
        (1, 0),
        "only the root context remains"
    );
}

#[test]
fn natively_there_is_no_guest_memory_to_watch() {
    let host = emulator();
    host.start_plugin();
    assert_eq!(host.guest_memory_size(), None);
    assert_eq!(host.guest_memory_over(1, 3, |_| {}), None);
}

#[test]
fn ticks_logs_and_the_tick_period() {
    struct Ticker;
    impl Context for Ticker {}
    impl RootContext for Ticker {
        fn on_plugin_start(&mut self, _: usize) -> bool {
            proxywasm::timers::set_tick_period(Duration::from_millis(1500)).is_ok()
        }
        fn on_tick(&mut self) {
            proxywasm::logging::debug("dropped below the level");
            proxywasm::logging::warn(&format!(
                "now {:?}",
                proxywasm::time::current_time().unwrap()
            ));
        }
    }
    let host = Emulator::builder()
        .log_level(LogLevel::Info)
        .build(|_| Box::new(Ticker));
    assert!(host.start_plugin());
    assert_eq!(host.tick_period(), Some(Duration::from_millis(1500)));
    host.advance_time(Duration::from_secs(10));
    host.tick();
    assert!(host.logs(LogLevel::Debug).is_empty());
    let expected = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_010);
    assert_eq!(host.logs(LogLevel::Warn), [format!("now {expected:?}")]);
}

#[test]
fn deferred_shutdown_finishes_with_done() {
    struct Slow;
    impl Context for Slow {
        fn on_done(&mut self) -> bool {
            false
        }
    }
    impl RootContext for Slow {
        fn on_tick(&mut self) {
            proxywasm::done().unwrap();
        }
    }
    let host = Emulator::builder().build(|_| Box::new(Slow));
    assert!(!host.plugin_done());
    assert!(!host.done_called());
    host.tick();
    assert!(host.done_called());
}

#[test]
fn no_host_means_internal_failure_not_a_crash() {
    let host = emulator();
    drop(host);
    assert_eq!(
        proxywasm::http::request_header("x"),
        Err(Error::InternalFailure)
    );
}

#[test]
fn a_repeated_context_creation_keeps_the_live_context() {
    let host = emulator();
    host.start_plugin();
    take_seen();
    host.repeat_context_create(host.root_id(), 0);
    assert!(host
        .logs(LogLevel::Error)
        .iter()
        .any(|l| l.contains("already exists")));
    // The live root, with its queue registration, still answers.
    let (_, accepted) = host.add_plugin("pconf");
    assert!(accepted);
}

#[test]
fn under_abi_0_1_0_each_configuration_is_read_only_where_the_host_answers_with_it() {
    struct Misplaced;
    impl Context for Misplaced {}
    impl RootContext for Misplaced {
        fn on_vm_start(&mut self, _size: usize) -> bool {
            seen(format!(
                "vm start: plugin {:?}",
                config::plugin_configuration()
            ));
            true
        }
        fn on_plugin_start(&mut self, _size: usize) -> bool {
            seen(format!("plugin start: vm {:?}", config::vm_configuration()));
            true
        }
    }
    take_seen();
    let host = Emulator::builder()
        .vm_configuration("vmconf")
        .plugin_configuration("pconf")
        .build(|_| Box::new(Misplaced));
    assert!(host.start_vm());
    assert!(host.start_plugin());
    // 0.2.x: the emulator refuses each buffer outside its callback. 0.1.0: the host would answer with
    // the other configuration, so the SDK does not ask.
    assert_eq!(
        take_seen(),
        [
            "vm start: plugin Err(BadArgument)",
            "plugin start: vm Err(BadArgument)"
        ]
    );
}
