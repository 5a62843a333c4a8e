//! The WASI functions a Rust `wasm32-wasip1` plugin imports, as a proxy provides them (proxy-wasm-cpp-host
//! src/exports.cc, `wasi_unstable_*`): standard output and error become log lines, there are no
//! arguments, environment variables or files, clocks read the system clock, and `proc_exit` ends the
//! guest with a trap.

use super::state::HostState;
use wasmtime::{Caller, Linker};

type Call<'a> = Caller<'a, HostState>;

const MODULE: &str = "wasi_snapshot_preview1";
const SUCCESS: u32 = 0;
const BADF: u32 = 8;
const FAULT: u32 = 21;
const INVAL: u32 = 28;
const NOENT: u32 = 44;
const NOSYS: u32 = 52;

/// The guest called `proc_exit`.
#[derive(Debug)]
pub struct ProcExit(pub u32);

impl std::fmt::Display for ProcExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the plugin called proc_exit({})", self.0)
    }
}

impl std::error::Error for ProcExit {}

fn write(caller: &mut Call<'_>, ptr: u32, bytes: &[u8]) -> u32 {
    let Some(memory) = caller.data().memory else {
        return FAULT;
    };
    match memory.write(caller, ptr as usize, bytes) {
        Ok(()) => SUCCESS,
        Err(_) => FAULT,
    }
}

fn read(caller: &mut Call<'_>, ptr: u32, len: u32) -> Option<Vec<u8>> {
    let memory = caller.data().memory?;
    let start = ptr as usize;
    memory
        .data(&*caller)
        .get(start..start.checked_add(len as usize)?)
        .map(<[u8]>::to_vec)
}

/// Registers the WASI functions.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // No arguments and no environment: zero entries of zero bytes.
    for (name, _) in [("args_sizes_get", ()), ("environ_sizes_get", ())] {
        linker.func_wrap(
            MODULE,
            name,
            |mut caller: Call<'_>, count: u32, size: u32| -> u32 {
                match write(&mut caller, count, &0u32.to_le_bytes()) {
                    SUCCESS => write(&mut caller, size, &0u32.to_le_bytes()),
                    other => other,
                }
            },
        )?;
    }
    for name in ["args_get", "environ_get"] {
        linker.func_wrap(MODULE, name, |_: Call<'_>, _: u32, _: u32| -> u32 {
            SUCCESS
        })?;
    }
    // cpp-host `wasi_unstable_fd_write`: descriptor 1 logs at info, 2 at error; others are `badf`.
    linker.func_wrap(
        MODULE,
        "fd_write",
        |mut caller: Call<'_>, fd: u32, iovs: u32, count: u32, written: u32| -> u32 {
            let level = match fd {
                1 => 2,
                2 => 4,
                _ => return BADF,
            };
            let Some(table) = count
                .checked_mul(8)
                .and_then(|n| read(&mut caller, iovs, n))
            else {
                return FAULT;
            };
            let mut text = Vec::new();
            for iov in table.chunks_exact(8) {
                let ptr = u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
                let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
                match read(&mut caller, ptr, len) {
                    Some(bytes) => text.extend_from_slice(&bytes),
                    None => return FAULT,
                }
            }
            let total = text.len() as u32;
            if level >= caller.data().log_level {
                let line = String::from_utf8_lossy(&text).trim_end().to_string();
                caller.data_mut().log.push((level, line));
            }
            write(&mut caller, written, &total.to_le_bytes())
        },
    )?;
    linker.func_wrap(MODULE, "fd_close", |_: Call<'_>, _: u32| -> u32 { SUCCESS })?;
    linker.func_wrap(
        MODULE,
        "fd_seek",
        |_: Call<'_>, _: u32, _: i64, _: u32, _: u32| -> u32 { SUCCESS },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_fdstat_get",
        |_: Call<'_>, _: u32, _: u32| -> u32 { BADF },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_prestat_get",
        |_: Call<'_>, _: u32, _: u32| -> u32 { BADF },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_prestat_dir_name",
        |_: Call<'_>, _: u32, _: u32, _: u32| -> u32 { NOSYS },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_read",
        |_: Call<'_>, _: u32, _: u32, _: u32, _: u32| -> u32 { NOSYS },
    )?;
    linker.func_wrap(
        MODULE,
        "path_open",
        |_: Call<'_>,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u32,
         _: u64,
         _: u64,
         _: u32,
         _: u32|
         -> u32 { NOENT },
    )?;
    linker.func_wrap(
        MODULE,
        "clock_time_get",
        |mut caller: Call<'_>, clock: u32, _precision: u64, ptr: u32| -> u32 {
            if clock > 1 {
                return INVAL;
            }
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            write(&mut caller, ptr, &nanos.to_le_bytes())
        },
    )?;
    // Deterministic bytes (xorshift64*): enough to seed a hash map; the bench needs no secrecy.
    linker.func_wrap(
        MODULE,
        "random_get",
        |mut caller: Call<'_>, ptr: u32, len: u32| -> u32 {
            if len > 64 * 1024 {
                return INVAL;
            }
            let mut state = 0x9e37_79b9_7f4a_7c15u64;
            let mut bytes = Vec::with_capacity(len as usize + 8);
            while bytes.len() < len as usize {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                bytes.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
            }
            bytes.truncate(len as usize);
            write(&mut caller, ptr, &bytes)
        },
    )?;
    linker.func_wrap(MODULE, "sched_yield", |_: Call<'_>| -> u32 { SUCCESS })?;
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_: Call<'_>, code: u32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(ProcExit(code)))
        },
    )?;
    Ok(())
}
