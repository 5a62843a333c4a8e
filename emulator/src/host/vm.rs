//! The VM-wide hostcalls: logging, the clock, ticks, shutdown, the effective context and the
//! configurations.

use super::*;

pub(super) fn proxy_log(s: &mut State, log_level: LogLevel, message: &[u8]) -> Result<(), Status> {
    if log_level >= s.log_level {
        s.logs.push((log_level, text(message)));
    }
    Ok(())
}

pub(super) fn proxy_get_log_level(s: &mut State) -> Result<LogLevel, Status> {
    Ok(s.log_level)
}

pub(super) fn proxy_get_current_time_nanoseconds(s: &mut State) -> Result<u64, Status> {
    let since = s
        .now
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Status::InternalFailure)?;
    u64::try_from(since.as_nanos()).map_err(|_| Status::InternalFailure)
}

/// cpp-host's `ContextBase::setTimerPeriod` (src/context.cc): the period is set on the current
/// context's root context, so a stream context sets its root's timer.
pub(super) fn proxy_set_tick_period_milliseconds(
    s: &mut State,
    tick_period: u32,
) -> Result<(), Status> {
    let root = s.current_root().ok_or(Status::BadArgument)?;
    s.roots.entry(root).or_default().tick_period_ms = tick_period;
    Ok(())
}

/// cpp-host's `WasmBase::done` (src/wasm.cc): finishes a shutdown the plugin deferred (its
/// `proxy_on_done` answered false); with no deferred shutdown the answer is `not_found`. Any
/// context of the plugin may call it.
pub(super) fn proxy_done(s: &mut State) -> Result<(), Status> {
    let root = s.current_root().ok_or(Status::NotFound)?;
    let info = s.roots.entry(root).or_default();
    if !info.shutdown_deferred {
        return Err(Status::NotFound);
    }
    info.shutdown_deferred = false;
    info.done_called = true;
    Ok(())
}

pub(super) fn proxy_set_effective_context(s: &mut State, context_id: u32) -> Result<(), Status> {
    let known = s.roots.contains_key(&context_id)
        || s.http.contains_key(&context_id)
        || s.tcp.contains_key(&context_id);
    if !known {
        return Err(Status::BadArgument);
    }
    s.current = context_id;
    Ok(())
}
