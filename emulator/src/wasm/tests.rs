//! The runner against hand-written modules: traps, undefined results, hostile pointers, refused modules.

use crate::wasm::LoadError;
use crate::{Emulator, FailureKind, MemoryGrowth, Mode};
use proxywasm::abi::Status;
use proxywasm::{Action, LogLevel};

/// A minimal ABI 0.2.1 plugin: request headers trap on 3 headers and log "hello" otherwise; response
/// headers log from an address outside memory and return the status they got as the action.
const PLUGIN: &str = r#"
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "_initialize"))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $at))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (if (i32.eq (local.get $n) (i32.const 3)) (then unreachable))
    (drop (call $log (i32.const 2) (i32.const 16) (i32.const 5)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (call $log (i32.const 2) (i32.const 65530) (i32.const 100)))
  (data (i32.const 16) "hello"))
"#;

fn load(wat: &str) -> Result<Emulator, LoadError> {
    let bytes = wat::parse_str(wat).expect("valid text");
    Emulator::builder().build_wasm_bytes(&bytes)
}

#[test]
fn a_trap_is_a_failure_naming_the_callback_and_the_emulator_stays_usable() {
    let host = load(PLUGIN).expect("loads");
    assert_eq!(host.mode(), Mode::Wasm);
    let stream = host.new_http_stream();
    let failure = host
        .checked(|h| h.request_headers(stream, &[("a", "1"), ("b", "2"), ("c", "3")], false))
        .expect_err("the guest traps");
    assert_eq!(failure.callback, "proxy_on_request_headers");
    assert!(
        matches!(&failure.kind, FailureKind::Trapped(m) if m.contains("unreachable")),
        "{failure}"
    );
    let next = host.new_http_stream();
    assert_eq!(
        host.checked(|h| h.request_headers(next, &[(":path", "/")], true)),
        Ok(Action::Continue)
    );
    assert_eq!(host.logs(LogLevel::Info), ["hello"]);
}

#[test]
#[should_panic(expected = "plugin callback `proxy_on_request_headers` trapped")]
fn outside_checked_a_trap_fails_the_test_with_the_callback_name() {
    let host = load(PLUGIN).expect("loads");
    let stream = host.new_http_stream();
    host.request_headers(stream, &[("a", "1"), ("b", "2"), ("c", "3")], false);
}

#[test]
fn an_address_outside_guest_memory_is_a_status_not_a_crash() {
    let host = load(PLUGIN).expect("loads");
    let stream = host.new_http_stream();
    host.request_headers(stream, &[], false);
    let failure = host
        .checked(|h| h.response_headers(stream, &[(":status", "200")], true))
        .expect_err("the status is not an action");
    assert_eq!(failure.callback, "proxy_on_response_headers");
    assert_eq!(
        failure.kind,
        FailureKind::BadResult(u64::from(u32::from(Status::InvalidMemoryAccess)))
    );
}

#[test]
fn a_module_failing_the_audit_is_refused_with_the_findings() {
    let without_version = PLUGIN.replace(r#"(func (export "proxy_abi_version_0_2_1"))"#, "");
    match load(&without_version) {
        Err(LoadError::Nonconforming(findings)) => {
            assert!(!findings.is_empty());
            assert!(
                findings.iter().any(|f| f.contains("proxy_abi_version")),
                "{findings:?}"
            );
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a module without a version marker was accepted"),
    }
}

#[test]
fn a_module_of_another_abi_version_is_refused() {
    let older = PLUGIN
        .replace("proxy_abi_version_0_2_1", "proxy_abi_version_0_1_0")
        .replace(" (param $eos i32)", "");
    match load(&older) {
        Err(LoadError::WrongAbi { emulator, .. }) => {
            assert_eq!(emulator, proxywasm::abi::ABI_VERSION)
        }
        Err(LoadError::Nonconforming(findings)) => panic!("audit findings: {findings:?}"),
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a module of another version was accepted"),
    }
}

#[test]
fn garbage_is_refused_as_invalid() {
    let error = Emulator::builder()
        .build_wasm_bytes(b"\0asm\x01\0\0\0\x01\xff")
        .err()
        .expect("refused");
    assert!(matches!(error, LoadError::Invalid(_)), "{error}");
}

/// A plugin that leaks a page of linear memory on every request headers callback.
const LEAKY: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "_initialize"))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (memory.grow (i32.const 1)))
    (i32.const 0)))
"#;

#[test]
fn guest_memory_over_measures_after_the_warm_up_and_after_the_last_run() {
    let host = load(LEAKY).expect("loads");
    let mut runs = 0;
    let growth = host
        .guest_memory_over(2, 5, |h| {
            let stream = h.new_http_stream();
            h.request_headers(stream, &[], true);
            runs += 1;
        })
        .expect("wasm mode");
    const PAGE: usize = 65_536;
    assert_eq!(runs, 5);
    assert_eq!(
        growth,
        MemoryGrowth {
            after_warm_up: 3 * PAGE,
            after: 6 * PAGE
        }
    );
}

/// A plugin whose request-headers callback makes one WASI call, chosen by the number of headers, and
/// returns 100 + the errno (plus 1000 when the call wrote what cpp-host writes) as its "action".
const WASI_PROBE: &str = r#"
(module
  (import "wasi_snapshot_preview1" "clock_res_get" (func $clock_res_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_initialize"))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 4096))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (local $errno i32)
    (local $wrote i32)
    (i64.store (i32.const 520) (i64.const 7))
    (i32.store (i32.const 512) (i32.const 7))
    (block $done
      (if (i32.eq (local.get $n) (i32.const 0)) (then
        (local.set $errno (call $clock_res_get (i32.const 2) (i32.const 512))) (br $done)))
      (if (i32.eq (local.get $n) (i32.const 1)) (then
        (local.set $errno (call $fd_close (i32.const 5))) (br $done)))
      (if (i32.eq (local.get $n) (i32.const 2)) (then
        (local.set $errno (call $fd_fdstat_get (i32.const 1) (i32.const 512)))
        (local.set $wrote (i64.eq (i64.load (i32.const 520)) (i64.const 64))) (br $done)))
      (if (i32.eq (local.get $n) (i32.const 3)) (then
        (local.set $errno (call $fd_read (i32.const 0) (i32.const 512) (i32.const 0) (i32.const 600))) (br $done)))
      (if (i32.eq (local.get $n) (i32.const 4)) (then
        (local.set $errno (call $fd_seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 600))) (br $done)))
      (if (i32.eq (local.get $n) (i32.const 5)) (then
        (local.set $errno (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 1)
          (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 600))) (br $done)))
      (if (i32.eq (local.get $n) (i32.const 6)) (then
        (local.set $errno (call $poll_oneoff (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 512)))
        (local.set $wrote (i32.eqz (i32.load (i32.const 512)))) (br $done)))
      (if (i32.eq (local.get $n) (i32.const 7)) (then
        (local.set $errno (call $random_get (i32.const 512) (i32.const 65537))) (br $done)))
      (if (i32.eq (local.get $n) (i32.const 8)) (then
        (local.set $errno (call $clock_time_get (i32.const 2) (i64.const 0) (i32.const 512))) (br $done)))
      (local.set $errno (call $fd_prestat_dir_name (i32.const 3) (i32.const 512) (i32.const 8))))
    (i32.add (i32.add (i32.const 100) (local.get $errno)) (i32.mul (local.get $wrote) (i32.const 1000)))))
"#;

/// The WASI functions answer as cpp-host's `wasi_unstable_*` functions in src/exports.cc do.
#[test]
fn wasi_functions_answer_as_cpp_host_does() {
    let host = load(WASI_PROBE).expect("loads");
    let header = ("h", "v");
    let expected: [(&str, u64); 10] = [
        ("clock_res_get of a CPU-time clock: notsup", 158),
        ("fd_close: success", 100),
        ("fd_fdstat_get of stdout: success, write rights", 1100),
        ("fd_read: nosys", 152),
        ("fd_seek: success", 100),
        ("path_open: noent", 144),
        ("poll_oneoff: success, no events", 1100),
        ("random_get over 64 KiB: inval", 128),
        ("clock_time_get of a CPU-time clock: notsup", 158),
        ("fd_prestat_dir_name: nosys", 152),
    ];
    for (n, (what, answer)) in expected.into_iter().enumerate() {
        let stream = host.new_http_stream();
        let headers = vec![header; n];
        let failure = host
            .checked(|h| h.request_headers(stream, &headers, true))
            .expect_err("the answer is not an action");
        assert_eq!(failure.kind, FailureKind::BadResult(answer), "{what}");
    }
}
