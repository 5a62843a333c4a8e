//! What the generated runner glue (`emulator/generated/v<version>/runner.rs`) builds on: the store's data, guest-memory
//! access with bounds checks, host buffers handed out through the guest's allocator, and the WASI
//! functions a plugin may import.
//!
//! Every guest address is checked: an out-of-bounds pointer is `invalid_memory_access` (or WASI's
//! `fault`), never a host crash. Only a trap inside the guest's allocator ends the hostcall with a trap.

use crate::glue::runner::WasiSnapshotPreview1Host;
use crate::host::HostHandle;
use proxywasm::abi::{EnvHost, LogLevel, WasiClockId, WasiErrno};
use std::time::UNIX_EPOCH;
use wasmtime::{Caller, Memory, TypedFunc};

/// The data of a runner's store: the emulator's host and the guest's memory and allocator.
pub struct StoreData {
    host: HostHandle,
    memory: Option<Memory>,
    allocator: Option<TypedFunc<(u32,), u32>>,
    random: u64,
}

impl StoreData {
    pub(crate) fn new(host: HostHandle) -> Self {
        StoreData {
            host,
            memory: None,
            allocator: None,
            random: 0x9e37_79b9_7f4a_7c15,
        }
    }

    pub(crate) fn attach(&mut self, memory: Memory, allocator: Option<TypedFunc<(u32,), u32>>) {
        self.memory = Some(memory);
        self.allocator = allocator;
    }

    /// The guest's linear memory, once attached.
    pub fn memory(&self) -> Option<Memory> {
        self.memory
    }

    /// The emulator's implementation of the `env` host functions.
    pub fn env_host(&mut self) -> &mut dyn EnvHost {
        &mut self.host
    }
}

/// How a hostcall ends early: with a status code for the guest, or with a trap.
pub enum GlueError {
    /// Return this status code to the guest.
    Status(u32),
    /// Stop the guest: its allocator trapped.
    Trap(wasmtime::Error),
}

impl From<wasmtime::Error> for GlueError {
    fn from(error: wasmtime::Error) -> Self {
        GlueError::Trap(error)
    }
}

/// The core result of a hostcall: status 0 on success.
///
/// # Errors
///
/// The trap that stopped the hostcall.
pub fn finish(result: Result<(), GlueError>) -> wasmtime::Result<u32> {
    match result {
        Ok(()) => Ok(0),
        Err(GlueError::Status(code)) => Ok(code),
        Err(GlueError::Trap(error)) => Err(error),
    }
}

/// Copies `len` bytes at guest address `ptr`; `None` when they are not all inside the guest's memory.
pub fn read_bytes(caller: &mut Caller<'_, StoreData>, ptr: u32, len: u32) -> Option<Vec<u8>> {
    let memory = caller.data().memory?;
    let start = ptr as usize;
    let end = start.checked_add(len as usize)?;
    memory.data(&*caller).get(start..end).map(<[u8]>::to_vec)
}

fn write_bytes(caller: &mut Caller<'_, StoreData>, ptr: u32, bytes: &[u8]) -> Option<()> {
    let memory = caller.data().memory?;
    memory.write(&mut *caller, ptr as usize, bytes).ok()
}

/// A value the host writes into guest memory, little-endian, at the guest's width (a `usize` is 32 bits).
pub trait GuestValue {
    /// The bytes, or `None` when the value does not fit the guest's width.
    fn guest_bytes(self) -> Option<Vec<u8>>;
}

macro_rules! guest_value {
    ($($t:ty),*) => {$(
        impl GuestValue for $t {
            fn guest_bytes(self) -> Option<Vec<u8>> {
                Some(self.to_le_bytes().to_vec())
            }
        }
    )*};
}
guest_value!(u32, u64, i32, i64);

impl GuestValue for usize {
    fn guest_bytes(self) -> Option<Vec<u8>> {
        u32::try_from(self).ok().map(|v| v.to_le_bytes().to_vec())
    }
}

/// Writes `value` at guest address `ptr`; `None` when it is out of bounds or does not fit.
pub fn write_value(
    caller: &mut Caller<'_, StoreData>,
    ptr: u32,
    value: impl GuestValue,
) -> Option<()> {
    write_bytes(caller, ptr, &value.guest_bytes()?)
}

/// Hands `bytes` to the guest: allocates them with the guest's allocator, copies them in, and writes
/// the address and length at `data_ptr` and `size_ptr`. Empty bytes are address 0. `Ok(None)` when the
/// module exports no allocator, the allocator returns 0, or an address is out of bounds.
///
/// # Errors
///
/// A trap inside the guest's allocator.
pub fn write_buffer(
    caller: &mut Caller<'_, StoreData>,
    data_ptr: u32,
    size_ptr: u32,
    bytes: Vec<u8>,
) -> wasmtime::Result<Option<()>> {
    let Ok(len) = u32::try_from(bytes.len()) else {
        return Ok(None);
    };
    let ptr = if bytes.is_empty() {
        0
    } else {
        let Some(allocator) = caller.data().allocator.clone() else {
            return Ok(None);
        };
        let ptr = allocator.call(&mut *caller, (len,))?;
        if ptr == 0 || write_bytes(caller, ptr, &bytes).is_none() {
            return Ok(None);
        }
        ptr
    };
    let reported = len.saturating_add(caller.data().host.overstated_lengths());
    Ok(write_value(caller, data_ptr, ptr).and_then(|()| write_value(caller, size_ptr, reported)))
}

/// The guest called WASI `proc_exit`: the trap that ends it, carrying the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcExit(pub u32);

impl std::fmt::Display for ProcExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the plugin called proc_exit({})", self.0)
    }
}

impl std::error::Error for ProcExit {}

/// The most bytes one `random_get` may ask for (cpp-host's `PROXY_WASM_HOST_WASI_RANDOM_GET_MAX_SIZE_BYTES`).
const RANDOM_GET_MAX_BYTES: u32 = 64 * 1024;

fn errno(e: WasiErrno) -> wasmtime::Result<u32> {
    Ok(u32::from(e))
}

/// Reports an empty list (no arguments, no environment variables): zero entries, zero bytes.
fn no_entries(caller: &mut Caller<'_, StoreData>, count: u32, size: u32) -> wasmtime::Result<u32> {
    outcome(write_value(caller, count, 0u32).and_then(|()| write_value(caller, size, 0u32)))
}

fn outcome(written: Option<()>) -> wasmtime::Result<u32> {
    errno(match written {
        Some(()) => WasiErrno::Success,
        None => WasiErrno::Fault,
    })
}

/// WASI as a proxy provides it: standard output and error become log lines (info and error), clocks
/// read the emulator's clock, randomness is a deterministic generator (tests repeat), the environment and
/// arguments are empty, and there is no file system.
impl WasiSnapshotPreview1Host for StoreData {
    fn args_get(_: &mut Caller<'_, StoreData>, _: u32, _: u32) -> wasmtime::Result<u32> {
        errno(WasiErrno::Success)
    }

    fn args_sizes_get(
        caller: &mut Caller<'_, StoreData>,
        count: u32,
        size: u32,
    ) -> wasmtime::Result<u32> {
        no_entries(caller, count, size)
    }

    /// cpp-host `wasi_unstable_clock_res_get` (src/exports.cc): 1 ns for the realtime and monotonic
    /// clocks, `notsup` for any other clock.
    fn clock_res_get(
        caller: &mut Caller<'_, StoreData>,
        clock_id: u32,
        resolution: u32,
    ) -> wasmtime::Result<u32> {
        if WasiClockId::try_from(clock_id).is_err() {
            return errno(WasiErrno::Notsup);
        }
        outcome(write_value(caller, resolution, 1u64))
    }

    fn clock_time_get(
        caller: &mut Caller<'_, StoreData>,
        clock_id: u32,
        _: u64,
        timestamp: u32,
    ) -> wasmtime::Result<u32> {
        // cpp-host `wasi_unstable_clock_time_get` (src/exports.cc): the CPU-time clocks are `notsup`.
        if WasiClockId::try_from(clock_id).is_err() {
            return errno(WasiErrno::Notsup);
        }
        let now = caller.data().host.0.borrow().now;
        let nanos = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        outcome(write_value(
            caller,
            timestamp,
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }

    fn environ_get(_: &mut Caller<'_, StoreData>, _: u32, _: u32) -> wasmtime::Result<u32> {
        errno(WasiErrno::Success)
    }

    fn environ_sizes_get(
        caller: &mut Caller<'_, StoreData>,
        count: u32,
        size: u32,
    ) -> wasmtime::Result<u32> {
        no_entries(caller, count, size)
    }

    /// cpp-host `wasi_unstable_fd_close` (src/exports.cc) logs at trace level and reports success.
    fn fd_close(_: &mut Caller<'_, StoreData>, _: u32) -> wasmtime::Result<u32> {
        errno(WasiErrno::Success)
    }

    /// cpp-host `wasi_unstable_fd_fdstat_get` (src/exports.cc): standard output and error are described
    /// as write-only character-less descriptors (24 bytes: all zero but the base rights, `fd_write`);
    /// any other descriptor is `badf`.
    fn fd_fdstat_get(
        caller: &mut Caller<'_, StoreData>,
        fd: u32,
        stat: u32,
    ) -> wasmtime::Result<u32> {
        if fd != 1 && fd != 2 {
            return errno(WasiErrno::Badf);
        }
        const RIGHT_FD_WRITE: u64 = 64;
        let mut bytes = [0u8; 24];
        bytes[8..16].copy_from_slice(&RIGHT_FD_WRITE.to_le_bytes());
        outcome(write_bytes(caller, stat, &bytes))
    }

    fn fd_filestat_get(_: &mut Caller<'_, StoreData>, _: u32, _: u32) -> wasmtime::Result<u32> {
        errno(WasiErrno::Badf)
    }

    /// cpp-host `wasi_unstable_fd_prestat_dir_name` (src/exports.cc): `nosys`.
    fn fd_prestat_dir_name(
        _: &mut Caller<'_, StoreData>,
        _: u32,
        _: u32,
        _: u32,
    ) -> wasmtime::Result<u32> {
        errno(WasiErrno::Nosys)
    }

    fn fd_prestat_get(_: &mut Caller<'_, StoreData>, _: u32, _: u32) -> wasmtime::Result<u32> {
        errno(WasiErrno::Badf)
    }

    /// cpp-host `wasi_unstable_fd_read` (src/exports.cc): nothing can be read, `nosys`.
    fn fd_read(
        _: &mut Caller<'_, StoreData>,
        _: u32,
        _: u32,
        _: u32,
        _: u32,
    ) -> wasmtime::Result<u32> {
        errno(WasiErrno::Nosys)
    }

    /// cpp-host `wasi_unstable_fd_seek` (src/exports.cc) logs at trace level and reports success
    /// without writing the new offset.
    fn fd_seek(
        _: &mut Caller<'_, StoreData>,
        _: u32,
        _: i64,
        _: u32,
        _: u32,
    ) -> wasmtime::Result<u32> {
        errno(WasiErrno::Success)
    }

    fn fd_write(
        caller: &mut Caller<'_, StoreData>,
        fd: u32,
        iovecs: u32,
        count: u32,
        written: u32,
    ) -> wasmtime::Result<u32> {
        let level = match fd {
            1 => LogLevel::Info,
            2 => LogLevel::Error,
            _ => return errno(WasiErrno::Badf),
        };
        let Some(table) = count
            .checked_mul(8)
            .and_then(|len| read_bytes(caller, iovecs, len))
        else {
            return errno(WasiErrno::Fault);
        };
        let mut text = Vec::new();
        for iovec in table.chunks_exact(8) {
            let ptr = u32::from_le_bytes([iovec[0], iovec[1], iovec[2], iovec[3]]);
            let len = u32::from_le_bytes([iovec[4], iovec[5], iovec[6], iovec[7]]);
            match read_bytes(caller, ptr, len) {
                Some(bytes) => text.extend_from_slice(&bytes),
                None => return errno(WasiErrno::Fault),
            }
        }
        let total = text.len();
        let line = text.strip_suffix(b"\n").unwrap_or(&text);
        if !line.is_empty() {
            // The host's log level applies, as for proxy_log; a dropped line is still "written".
            let _ = caller.data_mut().host.proxy_log(level, line);
        }
        outcome(write_value(caller, written, total))
    }

    #[allow(clippy::too_many_arguments)]
    fn path_open(
        _: &mut Caller<'_, StoreData>,
        _: u32,
        _: u32,
        _: u32,
        _: u32,
        _: u32,
        _: u64,
        _: u64,
        _: u32,
        _: u32,
    ) -> wasmtime::Result<u32> {
        // cpp-host `wasi_unstable_path_open` (src/exports.cc): no file exists.
        errno(WasiErrno::Noent)
    }

    /// cpp-host `wasi_unstable_poll_oneoff` (src/exports.cc): no event is ever ready; writes 0 events.
    fn poll_oneoff(
        caller: &mut Caller<'_, StoreData>,
        _: u32,
        _: u32,
        _: u32,
        events: u32,
    ) -> wasmtime::Result<u32> {
        outcome(write_value(caller, events, 0u32))
    }

    fn proc_exit(_: &mut Caller<'_, StoreData>, code: u32) -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(ProcExit(code)))
    }

    fn random_get(
        caller: &mut Caller<'_, StoreData>,
        buffer: u32,
        len: u32,
    ) -> wasmtime::Result<u32> {
        // cpp-host `wasi_unstable_random_get` (src/exports.cc, limit in include/proxy-wasm/limits.h).
        if len > RANDOM_GET_MAX_BYTES {
            return errno(WasiErrno::Inval);
        }
        let mut bytes = Vec::with_capacity(len as usize);
        let state = &mut caller.data_mut().random;
        while bytes.len() < len as usize {
            // xorshift64*: deterministic, so a test that uses randomness repeats exactly.
            *state ^= *state >> 12;
            *state ^= *state << 25;
            *state ^= *state >> 27;
            bytes.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
        bytes.truncate(len as usize);
        outcome(write_bytes(caller, buffer, &bytes))
    }

    fn sched_yield(_: &mut Caller<'_, StoreData>) -> wasmtime::Result<u32> {
        errno(WasiErrno::Success)
    }
}
