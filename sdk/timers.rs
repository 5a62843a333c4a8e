//! Ticks: a periodic callback on the root context.

use crate::abi::env;
use crate::error::{check, Error};
use std::time::Duration;

/// Asks the host to call [`crate::RootContext::on_tick`] every `period` (rounded down to milliseconds;
/// zero stops the ticks). From a stream context it sets the period of the stream's root context
/// (cpp-host's `setTimerPeriod`). Errors: [`Error::BadArgument`] when the period does not fit in
/// milliseconds as a `u32`.
pub fn set_tick_period(period: Duration) -> Result<(), Error> {
    let millis = u32::try_from(period.as_millis()).map_err(|_| Error::BadArgument)?;
    check(env::safe::proxy_set_tick_period_milliseconds(millis))
}
