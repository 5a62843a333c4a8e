//! Metrics, ticks, shutdown, and stream operations from outside their stream.
use super::*;

/// Envoy's `incrementMetric` refuses a counter delta of 0 or less; `recordMetric` adds to a counter.
#[test]
fn counters_take_positive_increments_and_records_add() {
    let emulator = emulator();
    let mut host = host_at(&emulator, emulator.root_id(), Phase::Root);
    let counter = host
        .proxy_define_metric(MetricType::Counter, b"hits")
        .unwrap();
    assert_eq!(
        host.proxy_increment_metric(counter, 0),
        Err(Status::BadArgument)
    );
    assert_eq!(
        host.proxy_increment_metric(counter, -1),
        Err(Status::BadArgument)
    );
    assert_eq!(host.proxy_increment_metric(counter, 2), Ok(()));
    assert_eq!(host.proxy_record_metric(counter, 5), Ok(()));
    assert_eq!(host.proxy_get_metric(counter), Ok(7));
    let gauge = host
        .proxy_define_metric(MetricType::Gauge, b"level")
        .unwrap();
    assert_eq!(host.proxy_record_metric(gauge, 10), Ok(()));
    assert_eq!(host.proxy_increment_metric(gauge, -4), Ok(()));
    assert_eq!(host.proxy_get_metric(gauge), Ok(6));
}

/// Envoy's `continueStream` has no upstream resume (`unimplemented`); `continueStream`,
/// `closeStream` and `clearRouteCache` from a context without the stream do nothing and answer `ok`.
#[test]
fn stream_operations_outside_their_stream_do_nothing_and_upstream_resume_is_unimplemented() {
    let emulator = emulator();
    let root = emulator.root_id();
    let stream = emulator.new_http_stream();
    let mut host = host_at(&emulator, root, Phase::Root);
    if StreamType::Upstream.is_defined() {
        assert_eq!(
            host.proxy_continue_stream(StreamType::Upstream),
            Err(Status::Unimplemented)
        );
    }
    assert_eq!(host.proxy_continue_stream(StreamType::HttpRequest), Ok(()));
    assert_eq!(host.proxy_close_stream(StreamType::HttpRequest), Ok(()));
    assert_eq!(host.proxy_close_stream(StreamType::Downstream), Ok(()));
    assert_eq!(host.proxy_clear_route_cache(), Ok(()));
    assert_eq!(
        host.proxy_send_local_response(403, b"", b"", &no_pairs(), 0),
        Ok(())
    );
    let view = emulator.http_stream(stream);
    assert_eq!((view.request_resumed, view.reset), (0, false));
    assert_eq!(view.local_response, None);
    let cleared = emulator.state.borrow().http[&stream].route_cache_cleared;
    assert_eq!(cleared, 0);
}

/// cpp-host's `ContextBase::setTimerPeriod` sets the root's timer, from a stream context too.
#[test]
fn a_stream_sets_its_roots_tick_period() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    let mut host = host_at(&emulator, stream, Phase::Http(HttpPhase::RequestHeaders));
    assert_eq!(host.proxy_set_tick_period_milliseconds(250), Ok(()));
    assert_eq!(emulator.tick_period(), Some(Duration::from_millis(250)));
}

/// cpp-host's `WasmBase::done`: `not_found` unless the plugin deferred its shutdown; any context of
/// the plugin may finish it, once.
#[test]
fn done_finishes_only_a_deferred_shutdown() {
    let emulator = emulator();
    let stream = emulator.new_http_stream();
    let mut host = host_at(&emulator, stream, Phase::Root);
    assert_eq!(host.proxy_done(), Err(Status::NotFound));
    assert!(!emulator.plugin_done(), "the plugin defers its shutdown");
    let mut host = host_at(&emulator, stream, Phase::Root);
    assert_eq!(host.proxy_done(), Ok(()));
    assert!(emulator.done_called());
    assert_eq!(host.proxy_done(), Err(Status::NotFound));
}
