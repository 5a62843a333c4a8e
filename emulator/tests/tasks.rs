//! The async layer (`proxywasm::task`) driven natively by the emulator: pausing and resuming streams,
//! cancellation on deletion, ticks, and the misuse errors.

use proxywasm::http_call::HttpRequest;
use proxywasm::task::*;
use proxywasm::{http, Action, Context, Error, HttpContext, RootContext};
use proxywasm_emulator::Emulator;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

thread_local! {
    static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn seen(what: impl Into<String>) {
    SEEN.with(|s| s.borrow_mut().push(what.into()));
}

fn take_seen() -> Vec<String> {
    SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()))
}

fn request(cluster: &str) -> HttpRequest<'_> {
    HttpRequest {
        cluster,
        headers: &[(":method", "GET"), (":path", "/"), (":authority", "x")],
        body: None,
        trailers: &[],
        timeout: Duration::from_secs(1),
    }
}

struct Root;
impl Context for Root {}
impl RootContext for Root {
    fn on_plugin_start(&mut self, _size: usize) -> bool {
        proxywasm::timers::set_tick_period(Duration::from_secs(1)).is_ok()
    }
    fn new_http_context(&mut self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream))
    }
}

struct Stream;
impl Context for Stream {}
impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        let path = http::request_header(":path")
            .ok()
            .flatten()
            .unwrap_or_default();
        match path.as_str() {
            "/call" => spawn_request(async {
                let a = http_call(&request("a"));
                let b = http_call(&request("b"));
                let (a, b) = join(a, b).await;
                seen(format!(
                    "{:?} {:?}",
                    a.map(|r| r.status()),
                    b.map(|r| r.body().map(<[u8]>::to_vec))
                ));
                Action::Continue
            }),
            "/now" => spawn_request(async { Action::Continue }),
            // The answer arrives while the task waits for something else: it is kept for the await.
            "/late" => spawn_request(async {
                let call = http_call(&request("a"));
                let slept = sleep(Duration::from_secs(1)).await;
                let response = call.await.unwrap();
                seen(format!(
                    "{slept:?} {:?} {:?} {:?}",
                    response.status(),
                    response.header("x-a"),
                    response.body()
                ));
                Action::Continue
            }),
            // A response read right after the await, then held across a later await and read again.
            "/held" => spawn_request(async {
                let response = http_call(&request("a")).await.unwrap();
                seen(format!("{:?}", response.status()));
                let slept = sleep(Duration::from_secs(1)).await;
                seen(format!(
                    "{slept:?} {:?} {:?} {:?} {:?}",
                    response.status(),
                    response.header("x-a"),
                    response.body(),
                    response.trailer("t")
                ));
                Action::Continue
            }),
            "/sleep" => spawn_request(async {
                let slept = sleep(Duration::from_secs(2)).await;
                seen(format!("slept {slept:?}"));
                Action::Continue
            }),
            // A gRPC stream: one message sent, every message received until the close.
            "/grpc-stream" => spawn_request(async {
                let target = proxywasm::grpc::GrpcTarget {
                    cluster: "grpc",
                    service: "test.Echo",
                    method: "Chat",
                    initial_metadata: &[],
                };
                let mut stream = match grpc_stream(&target) {
                    Ok(stream) => stream,
                    Err(e) => {
                        seen(format!("open {e:?}"));
                        return Action::Continue;
                    }
                };
                seen(format!("sent {:?}", stream.send(b"hello", false)));
                loop {
                    match stream.receive().await {
                        Ok(Some(message)) => seen(format!(
                            "message {} {:?}",
                            String::from_utf8_lossy(&message),
                            stream.initial_metadata()
                        )),
                        Ok(None) => {
                            seen(format!("end {:?}", stream.trailing_metadata()));
                            break;
                        }
                        Err(e) => {
                            seen(format!("error {e:?}"));
                            break;
                        }
                    }
                }
                Action::Continue
            }),
            "/nested" => spawn_request(async {
                let nested = spawn_request(async { Action::Continue });
                let plain = spawn(async { seen("plain ran") });
                seen(format!("{nested:?} {plain:?}"));
                Action::Pause
            }),
            _ => Ok(Action::Continue),
        }
        .unwrap()
    }
}

fn host() -> Emulator {
    let host = Emulator::builder().build(|_| Box::new(Root));
    assert!(host.start_plugin());
    take_seen();
    host
}

#[test]
fn a_task_waits_for_both_calls_then_resumes_the_request() {
    let host = host();
    let stream = host.new_http_stream();
    assert_eq!(
        host.request_headers(stream, &[(":path", "/call")], true),
        Action::Pause
    );
    let calls = host.http_calls();
    assert_eq!(calls.len(), 2, "both dispatched before the first await");
    host.answer_http_call(calls[1].token, &[(":status", "200")], b"hi", &[]);
    assert_eq!(host.http_stream(stream).request_resumed, 0);
    host.fail_http_call(calls[0].token);
    assert_eq!(
        take_seen(),
        [format!(
            "Err({:?}) Ok(Ok({:?}))",
            Error::Task(TaskError::CallFailed),
            b"hi".to_vec()
        )]
    );
    assert_eq!(host.http_stream(stream).request_resumed, 1);
    assert_eq!(live_tasks(), 0);
}

#[test]
fn a_task_that_finishes_at_once_answers_through_the_callback() {
    let host = host();
    let stream = host.new_http_stream();
    assert_eq!(
        host.request_headers(stream, &[(":path", "/now")], true),
        Action::Continue
    );
    assert_eq!(host.http_stream(stream).request_resumed, 0);
    assert_eq!(live_tasks(), 0);
}

#[test]
fn deleting_the_stream_drops_its_pending_task() {
    let host = host();
    let stream = host.new_http_stream();
    host.request_headers(stream, &[(":path", "/call")], true);
    assert_eq!(live_tasks(), 1);
    host.complete_stream(stream);
    assert_eq!(live_tasks(), 0);
    // A late answer reaches nobody.
    let token = host.http_calls()[0].token;
    host.answer_http_call(token, &[(":status", "200")], b"", &[]);
    assert!(take_seen().is_empty());
    assert_eq!(host.registry_size(), (1, 0));
}

#[test]
fn a_stream_task_sleeps_on_the_roots_ticks() {
    let host = host();
    let stream = host.new_http_stream();
    assert_eq!(
        host.request_headers(stream, &[(":path", "/sleep")], true),
        Action::Pause
    );
    host.advance_time(Duration::from_secs(1));
    host.tick();
    assert!(take_seen().is_empty(), "one second is not two");
    host.advance_time(Duration::from_secs(1));
    host.tick();
    assert_eq!(take_seen(), ["slept Ok(())"]);
    assert_eq!(host.http_stream(stream).request_resumed, 1);
}

#[test]
fn an_answer_that_arrives_while_its_task_waits_elsewhere_is_kept_for_the_await() {
    let host = host();
    let stream = host.new_http_stream();
    host.request_headers(stream, &[(":path", "/late")], true);
    let token = host.http_calls()[0].token;
    host.answer_http_call(token, &[(":status", "202"), ("x-a", "1")], b"late", &[]);
    assert!(take_seen().is_empty());
    host.advance_time(Duration::from_secs(1));
    host.tick();
    assert_eq!(
        take_seen(),
        [format!(
            "Ok(()) Ok(Some(202)) Ok(Some(\"1\")) Ok({:?})",
            b"late"
        )]
    );
    assert_eq!(host.http_stream(stream).request_resumed, 1);
    host.complete_stream(stream);
    assert_eq!(host.registry_size(), (1, 0));
}

#[test]
fn a_response_held_across_an_await_reads_what_arrived() {
    let host = host();
    let stream = host.new_http_stream();
    host.request_headers(stream, &[(":path", "/held")], true);
    let token = host.http_calls()[0].token;
    host.answer_http_call(
        token,
        &[(":status", "200"), ("x-a", "2")],
        b"kept",
        &[("t", "3")],
    );
    assert_eq!(take_seen(), ["Ok(Some(200))"]);
    // Another call's answer is in the host's buffers now; the held response must not read it.
    let other = host.new_http_stream();
    host.request_headers(other, &[(":path", "/held")], true);
    let other_token = host.http_calls()[1].token;
    host.answer_http_call(
        other_token,
        &[(":status", "500"), ("x-a", "9")],
        b"other",
        &[],
    );
    assert_eq!(take_seen(), ["Ok(Some(500))"]);
    host.advance_time(Duration::from_secs(1));
    host.tick();
    assert_eq!(
        take_seen(),
        [
            format!(
                "Ok(()) Ok(Some(200)) Ok(Some(\"2\")) Ok({:?}) Ok(Some(\"3\"))",
                b"kept"
            ),
            format!(
                "Ok(()) Ok(Some(500)) Ok(Some(\"9\")) Ok({:?}) Ok(None)",
                b"other"
            ),
        ]
    );
    assert_eq!(host.http_stream(stream).request_resumed, 1);
    assert_eq!(live_tasks(), 0);
}

#[test]
fn a_stream_task_spawned_inside_a_task_is_refused() {
    let host = host();
    let stream = host.new_http_stream();
    assert_eq!(
        host.request_headers(stream, &[(":path", "/nested")], true),
        Action::Pause
    );
    assert_eq!(
        take_seen(),
        [
            format!("Err({:?}) Ok(())", Error::Task(TaskError::Reentrant)),
            "plain ran".to_string()
        ]
    );
}

#[test]
fn spawning_outside_a_callback_is_refused() {
    let _host = host();
    assert_eq!(spawn(async {}), Err(Error::Task(TaskError::NoContext)));
}

#[test]
fn an_sdk_future_polled_outside_a_task_is_an_error() {
    let _host = host();
    let mut tick = std::pin::pin!(next_tick());
    let waker = std::task::Waker::noop();
    let polled = tick
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker));
    assert_eq!(
        polled,
        std::task::Poll::Ready(Err(Error::Task(TaskError::NotInTask)))
    );
}

#[test]
fn join_all_keeps_the_order_of_its_futures() {
    let outputs = Rc::new(RefCell::new(None));
    let inner = outputs.clone();
    let mut all = std::pin::pin!(async move {
        *inner.borrow_mut() = Some(join_all([1, 2, 3].map(|n| async move { n })).await);
    });
    let waker = std::task::Waker::noop();
    assert!(all
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker))
        .is_ready());
    assert_eq!(*outputs.borrow(), Some(vec![1, 2, 3]));
}

fn open_grpc_stream(host: &Emulator) -> (u32, u32) {
    let stream = host.new_http_stream();
    assert_eq!(
        host.request_headers(stream, &[(":path", "/grpc-stream")], true),
        Action::Pause
    );
    let calls = host.grpc_calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].is_stream);
    assert_eq!(calls[0].messages, [b"hello".to_vec()]);
    assert_eq!(take_seen(), ["sent Ok(())"]);
    (stream, calls[0].token)
}

#[test]
fn a_task_receives_a_grpc_streams_messages_until_it_closes() {
    let host = host();
    let (stream, token) = open_grpc_stream(&host);
    host.grpc_initial_metadata(token, &[("m", "1")]);
    assert!(take_seen().is_empty(), "metadata alone wakes no receive");
    host.grpc_message(token, b"one");
    host.grpc_message(token, b"two");
    assert_eq!(
        take_seen(),
        [r#"message one [("m", "1")]"#, r#"message two [("m", "1")]"#]
    );
    assert_eq!(host.http_stream(stream).request_resumed, 0);
    host.grpc_trailing_metadata(token, &[("t", "2")]);
    host.grpc_close(token, 0);
    assert_eq!(take_seen(), [r#"end [("t", "2")]"#]);
    assert_eq!(host.http_stream(stream).request_resumed, 1);
    assert_eq!(live_tasks(), 0);
    assert!(
        !host.grpc_calls()[0].cancelled,
        "closed by the host, not cancelled"
    );
}

#[test]
fn a_grpc_stream_closed_with_an_error_status_ends_the_receive_with_it() {
    let host = host();
    let (stream, token) = open_grpc_stream(&host);
    host.grpc_close(token, 14);
    assert_eq!(
        take_seen(),
        [format!(
            "error {:?}",
            Error::Task(TaskError::GrpcStatus { code: 14 })
        )]
    );
    assert_eq!(host.http_stream(stream).request_resumed, 1);
    assert_eq!(live_tasks(), 0);
}

#[test]
fn deleting_the_stream_cancels_its_open_grpc_stream() {
    let host = host();
    let (stream, token) = open_grpc_stream(&host);
    host.complete_stream(stream);
    assert_eq!(live_tasks(), 0);
    assert!(
        host.grpc_calls()[0].cancelled,
        "the dropped GrpcStream cancels"
    );
    // A late message reaches nobody.
    host.grpc_message(token, b"late");
    assert!(take_seen().is_empty());
}
