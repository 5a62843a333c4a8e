use super::*;
use std::cell::Cell;
use std::rc::Rc;

thread_local! {
    static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn event(e: impl Into<String>) {
    EVENTS.with(|v| v.borrow_mut().push(e.into()));
}

fn events() -> Vec<String> {
    EVENTS.with(|v| std::mem::take(&mut *v.borrow_mut()))
}

struct Root;
impl Context for Root {}
impl RootContext for Root {
    fn on_vm_start(&mut self, size: usize) -> bool {
        event(format!("vm_start {size}"));
        true
    }
    fn new_http_context(&mut self, id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream(id)))
    }
}

struct Stream(u32);
impl Context for Stream {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body: usize, trailers: usize) {
        event(format!(
            "{} call {token}: {headers} {body} {trailers}",
            self.0
        ));
    }
}
impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, n: usize, eos: bool) -> Action {
        if n == 99 {
            panic!("user code failed");
        }
        event(format!("{} headers {n} {eos}", self.0));
        Action::Pause
    }
}

/// Runs `f` as context `id`'s callback would (the current context set).
fn as_context(id: u32, f: impl FnOnce()) {
    let previous = replace_current(id);
    f();
    replace_current(previous);
}

fn fresh() {
    reset();
    set_root_context_factory(|_| Box::new(Root));
    events();
}

#[test]
fn decimals_are_written_without_core_fmt() {
    for n in [0, 7, 10, 99, 1_000, 4_294_967_295] {
        let mut out = String::from("#");
        push_decimal(&mut out, n);
        assert_eq!(out, format!("#{n}"));
    }
}

#[test]
fn routes_callbacks_to_the_right_context_kind() {
    fresh();
    Dispatcher::proxy_on_context_create(1, 0);
    assert_eq!(Dispatcher::proxy_on_vm_start(1, 7), BoolResult::True);
    Dispatcher::proxy_on_context_create(2, 1);
    assert_eq!(
        Dispatcher::proxy_on_request_headers(2, 3, true),
        Action::Pause
    );
    // A TCP callback on an HTTP context, and any callback on an unknown context, do nothing.
    assert_eq!(
        Dispatcher::proxy_on_downstream_data(2, 10, false),
        Action::Continue
    );
    assert_eq!(
        Dispatcher::proxy_on_request_headers(42, 1, false),
        Action::Continue
    );
    assert_eq!(Dispatcher::proxy_on_vm_start(2, 0), BoolResult::False);
    assert_eq!(events(), ["vm_start 7", "2 headers 3 true"]);
    assert_eq!(Dispatcher::proxy_on_done(2), BoolResult::True);
    Dispatcher::proxy_on_delete(2);
    assert_eq!(registry_size(), (1, 0));
}

struct DeletesItself(Rc<Cell<bool>>);
impl Drop for DeletesItself {
    fn drop(&mut self) {
        // A context's Drop may use the SDK: the registry is not borrowed while it runs.
        let _ = registry_size();
        self.0.set(true);
    }
}
impl Context for DeletesItself {}
impl HttpContext for DeletesItself {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        // The host deletes the context, then calls it again, while this callback runs.
        Dispatcher::proxy_on_delete(current_context_id());
        assert!(!self.0.get(), "dropped while its callback still runs");
        assert_eq!(
            Dispatcher::proxy_on_request_headers(current_context_id(), 1, false),
            Action::Continue
        );
        Action::Pause
    }
}

#[test]
fn a_context_deleted_during_its_own_callback_lives_until_the_callback_returns() {
    fresh();
    let dropped = Rc::new(Cell::new(false));
    Dispatcher::proxy_on_context_create(1, 0);
    let context = DeletesItself(dropped.clone());
    SLOTS.with(|s| s.insert(2, Kind::Http(Box::new(context))));
    assert_eq!(
        Dispatcher::proxy_on_request_headers(2, 1, false),
        Action::Pause
    );
    assert!(dropped.get());
    assert_eq!(current_context_id(), 0);
    assert_eq!(registry_size(), (1, 0));
}

struct Configured(u32);
impl Context for Configured {}
impl RootContext for Configured {
    fn on_plugin_start(&mut self, size: usize) -> bool {
        self.0 = size as u32;
        true
    }
    fn on_tick(&mut self) {
        event(format!("configured with {}", self.0));
    }
    fn new_http_context(&mut self, id: u32) -> Option<Box<dyn HttpContext>> {
        event(format!("stream {id} created"));
        Some(Box::new(Stream(id)))
    }
}

#[test]
fn a_duplicate_context_id_does_not_replace_the_live_context() {
    fresh();
    set_root_context_factory(|_| Box::new(Configured(0)));
    Dispatcher::proxy_on_context_create(1, 0);
    Dispatcher::proxy_on_configure(1, 7);
    Dispatcher::proxy_on_context_create(2, 1);
    // The host creates root 1 again, and stream 2 again under it.
    Dispatcher::proxy_on_context_create(1, 0);
    Dispatcher::proxy_on_context_create(2, 1);
    Dispatcher::proxy_on_tick(1);
    assert_eq!(events(), ["stream 2 created", "configured with 7"]);
    assert_eq!(registry_size(), (2, 0));
}

struct Counted(Rc<Cell<u32>>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}
impl Context for Counted {}
impl HttpContext for Counted {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        Action::Pause
    }
}

#[test]
fn a_deleted_context_is_dropped_and_forgotten_though_it_was_the_most_recent() {
    fresh();
    let drops = Rc::new(Cell::new(0));
    Dispatcher::proxy_on_context_create(1, 0);
    for id in [2, 3] {
        let context = Counted(drops.clone());
        SLOTS.with(|s| s.insert(id, Kind::Http(Box::new(context))));
        assert_eq!(
            Dispatcher::proxy_on_request_headers(id, 1, false),
            Action::Pause
        );
        Dispatcher::proxy_on_delete(id);
        assert_eq!(drops.get(), id - 1, "dropped at its deletion");
        // Gone, though its slot is reused by the next one.
        assert_eq!(
            Dispatcher::proxy_on_request_headers(id, 1, false),
            Action::Continue
        );
    }
    // The reused slot serves a new stream, and the root is still found.
    Dispatcher::proxy_on_context_create(4, 1);
    assert_eq!(
        Dispatcher::proxy_on_request_headers(4, 3, true),
        Action::Pause
    );
    assert_eq!(events(), ["4 headers 3 true"]);
    assert_eq!(
        Dispatcher::proxy_on_request_headers(2, 1, false),
        Action::Continue
    );
    assert_eq!(registry_size(), (2, 0));
}

#[test]
fn a_stream_context_needs_a_known_root() {
    fresh();
    Dispatcher::proxy_on_context_create(5, 4);
    assert_eq!(registry_size(), (0, 0));
}

#[test]
fn http_call_responses_reach_the_closure_or_the_dispatching_context() {
    fresh();
    Dispatcher::proxy_on_context_create(1, 0);
    Dispatcher::proxy_on_context_create(2, 1);
    let seen = Rc::new(Cell::new(None));
    let inner = seen.clone();
    as_context(2, || {
        register_http_call(
            10,
            Some(Box::new(move |h, b, t| inner.set(Some((h, b, t))))),
        );
        register_http_call(11, None);
    });
    assert_eq!(registry_size(), (2, 2));
    Dispatcher::proxy_on_http_call_response(1, 10, 1, 2, 3);
    assert_eq!(seen.get(), Some((1, 2, 3)));
    Dispatcher::proxy_on_http_call_response(1, 11, 4, 5, 6);
    assert_eq!(events(), ["2 call 11: 4 5 6"]);
    // Delivered once: a repeated or unknown token is ignored.
    Dispatcher::proxy_on_http_call_response(1, 11, 0, 0, 0);
    assert!(events().is_empty());
    assert_eq!(registry_size(), (2, 0));
}

#[test]
fn deleting_a_context_forgets_its_pending_calls() {
    fresh();
    Dispatcher::proxy_on_context_create(1, 0);
    Dispatcher::proxy_on_context_create(2, 1);
    as_context(2, || register_http_call(7, None));
    Dispatcher::proxy_on_delete(2);
    assert_eq!(registry_size(), (1, 0));
}

#[test]
fn a_panic_in_user_code_drops_that_context_and_leaves_the_registry_usable() {
    fresh();
    Dispatcher::proxy_on_context_create(1, 0);
    Dispatcher::proxy_on_context_create(2, 1);
    Dispatcher::proxy_on_context_create(3, 1);
    let panicked = std::panic::catch_unwind(|| Dispatcher::proxy_on_request_headers(2, 99, false));
    assert!(panicked.is_err());
    assert_eq!(
        current_context_id(),
        0,
        "the current context is not left pointing at the failed one"
    );
    assert_eq!(
        Dispatcher::proxy_on_request_headers(2, 1, false),
        Action::Continue,
        "context 2 is gone"
    );
    assert_eq!(
        Dispatcher::proxy_on_request_headers(3, 1, false),
        Action::Pause,
        "others still work"
    );
    assert_eq!(registry_size(), (2, 0));
}

/// Deletes itself, lets the host create a new context under the same id, and checks that both the
/// re-entrant call to itself and the calls to the new context behave.
struct ReusesItsId(Rc<Cell<bool>>);
impl Drop for ReusesItsId {
    fn drop(&mut self) {
        self.0.set(true);
    }
}
impl Context for ReusesItsId {}
impl HttpContext for ReusesItsId {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        let id = current_context_id();
        Dispatcher::proxy_on_delete(id);
        // The id is free at once: the host may give it to a new stream.
        Dispatcher::proxy_on_context_create(id, 1);
        assert_eq!(
            Dispatcher::proxy_on_request_headers(id, 5, true),
            Action::Pause,
            "the new context under the reused id runs"
        );
        assert_eq!(current_context_id(), id, "the current context is restored");
        assert!(!self.0.get());
        Action::Continue
    }
}

#[test]
fn an_id_deleted_during_its_callback_can_be_reused_at_once() {
    fresh();
    let dropped = Rc::new(Cell::new(false));
    Dispatcher::proxy_on_context_create(1, 0);
    let context = ReusesItsId(dropped.clone());
    SLOTS.with(|s| s.insert(2, Kind::Http(Box::new(context))));
    assert_eq!(
        Dispatcher::proxy_on_request_headers(2, 1, false),
        Action::Continue
    );
    assert!(
        dropped.get(),
        "the deleted context is dropped when its callback returns"
    );
    // The new context under id 2 is the one left.
    assert_eq!(
        Dispatcher::proxy_on_request_headers(2, 3, false),
        Action::Pause
    );
    assert_eq!(events(), ["2 headers 5 true", "2 headers 3 false"]);
    assert_eq!(registry_size(), (2, 0));
    Dispatcher::proxy_on_delete(2);
    Dispatcher::proxy_on_delete(2);
    assert_eq!(registry_size(), (1, 0));
}

/// A root whose tick calls back into itself (ignored) and into one of its streams (delivered).
struct Reenters;
impl Context for Reenters {}
impl RootContext for Reenters {
    fn on_tick(&mut self) {
        let id = current_context_id();
        Dispatcher::proxy_on_tick(id);
        assert_eq!(Dispatcher::proxy_on_vm_start(id, 1), BoolResult::False);
        assert_eq!(
            Dispatcher::proxy_on_request_headers(2, 4, false),
            Action::Pause
        );
        assert_eq!(current_context_id(), id);
        event("tick");
    }
    fn new_http_context(&mut self, id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream(id)))
    }
}

#[test]
fn a_reentrant_callback_reaches_other_contexts_but_not_the_running_one() {
    fresh();
    set_root_context_factory(|_| Box::new(Reenters));
    Dispatcher::proxy_on_context_create(1, 0);
    Dispatcher::proxy_on_context_create(2, 1);
    Dispatcher::proxy_on_tick(1);
    assert_eq!(events(), ["2 headers 4 false", "tick"]);
    assert_eq!(current_context_id(), 0);
    // The root was put back: it runs again.
    Dispatcher::proxy_on_tick(1);
    assert_eq!(events(), ["2 headers 4 false", "tick"]);
}

#[test]
fn unknown_ids_get_the_default_answers() {
    fresh();
    for id in [0, 7, u32::MAX] {
        assert_eq!(
            Dispatcher::proxy_on_request_headers(id, 1, false),
            Action::Continue
        );
        assert_eq!(
            Dispatcher::proxy_on_downstream_data(id, 1, false),
            Action::Continue
        );
        assert_eq!(Dispatcher::proxy_on_done(id), BoolResult::True);
        assert_eq!(Dispatcher::proxy_on_configure(id, 1), BoolResult::False);
        Dispatcher::proxy_on_log(id);
        Dispatcher::proxy_on_tick(id);
        Dispatcher::proxy_on_delete(id);
    }
    assert!(events().is_empty());
    assert_eq!(registry_size(), (0, 0));
}

#[test]
fn many_streams_come_and_go_and_their_ids_are_reused() {
    fresh();
    Dispatcher::proxy_on_context_create(1, 0);
    for round in 0..3 {
        for id in 2..200 {
            Dispatcher::proxy_on_context_create(id, 1);
        }
        assert_eq!(registry_size(), (199, 0));
        for id in (2..200).rev().step_by(3) {
            Dispatcher::proxy_on_delete(id);
        }
        for id in 2..200 {
            let live = (199 - id) % 3 != 0;
            let expected = if live {
                Action::Pause
            } else {
                Action::Continue
            };
            assert_eq!(
                Dispatcher::proxy_on_request_headers(id, round, false),
                expected,
                "stream {id}"
            );
        }
        for id in 2..200 {
            Dispatcher::proxy_on_delete(id);
        }
        assert_eq!(registry_size(), (1, 0));
        events();
    }
}

/// A root whose tick calls two of its streams (so its running mark leaves the last slot, then the
/// previous one) and then has the host delete it.
struct TicksAndLeaves(Rc<Cell<bool>>);
impl Drop for TicksAndLeaves {
    fn drop(&mut self) {
        self.0.set(true);
    }
}
impl Context for TicksAndLeaves {}
impl RootContext for TicksAndLeaves {
    fn on_tick(&mut self) {
        let id = current_context_id();
        for stream in [2, 3, 2] {
            assert_eq!(
                Dispatcher::proxy_on_request_headers(stream, 1, false),
                Action::Pause
            );
            assert_eq!(current_context_id(), id);
        }
        // Still running: a tick for it is ignored wherever its mark is.
        Dispatcher::proxy_on_tick(id);
        Dispatcher::proxy_on_delete(id);
        assert!(!self.0.get(), "dropped while its callback still runs");
        assert_eq!(registry_size(), (2, 0));
        event("ticked");
    }
    fn new_http_context(&mut self, id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream(id)))
    }
}

#[test]
fn a_running_context_moved_out_of_the_last_slot_comes_back_or_is_dropped() {
    fresh();
    let dropped = Rc::new(Cell::new(false));
    SLOTS.with(|s| s.insert(1, Kind::Root(Box::new(TicksAndLeaves(dropped.clone())))));
    Dispatcher::proxy_on_context_create(2, 1);
    Dispatcher::proxy_on_context_create(3, 1);
    Dispatcher::proxy_on_tick(1);
    assert!(dropped.get(), "dropped when its callback returned");
    assert_eq!(current_context_id(), 0);
    assert_eq!(
        events(),
        [
            "2 headers 1 false",
            "3 headers 1 false",
            "2 headers 1 false",
            "ticked"
        ]
    );
    // The streams live on, wherever they sit; the root's id is unknown now.
    Dispatcher::proxy_on_tick(1);
    for stream in [3, 2] {
        assert_eq!(
            Dispatcher::proxy_on_request_headers(stream, 2, true),
            Action::Pause
        );
    }
    assert_eq!(events(), ["3 headers 2 true", "2 headers 2 true"]);
    assert_eq!(registry_size(), (2, 0));
}

/// A root whose tick calls two streams in the id table.
struct TicksTwo;
impl Context for TicksTwo {}
impl RootContext for TicksTwo {
    fn on_tick(&mut self) {
        for stream in [2, 3] {
            assert_eq!(
                Dispatcher::proxy_on_request_headers(stream, 4, false),
                Action::Pause
            );
        }
        event("tick");
    }
    fn new_http_context(&mut self, id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream(id)))
    }
}

#[test]
fn a_running_context_comes_back_after_its_callback_moved_it_into_the_table() {
    fresh();
    set_root_context_factory(|_| Box::new(TicksTwo));
    Dispatcher::proxy_on_context_create(1, 0);
    for id in 2..10 {
        Dispatcher::proxy_on_context_create(id, 1);
    }
    // The root's running mark goes to the previous slot, then to the table; the root comes back.
    for _ in 0..2 {
        Dispatcher::proxy_on_tick(1);
        assert_eq!(events(), ["2 headers 4 false", "3 headers 4 false", "tick"]);
        assert_eq!(current_context_id(), 0);
    }
    assert_eq!(registry_size(), (9, 0));
    for id in 1..10 {
        Dispatcher::proxy_on_delete(id);
    }
    assert_eq!(registry_size(), (0, 0));
}
