//! The host's clock.

use crate::abi::env;
use crate::error::{check, Error};
use std::time::{Duration, SystemTime};

/// The host's wall-clock time (in the host emulator: its simulated clock). Available in every callback.
pub fn current_time() -> Result<SystemTime, Error> {
    let mut nanos = 0u64;
    check(env::safe::proxy_get_current_time_nanoseconds(&mut nanos))?;
    Ok(SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos))
}
