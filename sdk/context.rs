//! Operations on contexts themselves: switching the effective context, finishing a deferred shutdown.

use crate::abi::env;
use crate::error::{check, Error};

/// Makes `context_id` the context later hostcalls act on (for example, to resume a stream from a root
/// context's tick). The SDK does this by itself before delivering an HTTP or gRPC call response.
/// Errors: [`Error::BadArgument`] when the host knows no such context.
pub fn set_effective_context(context_id: u32) -> Result<(), Error> {
    check(env::safe::proxy_set_effective_context(context_id))
}

/// Tells the host that a context which returned `false` from `on_done` has finished its work and may be
/// deleted. Errors: [`Error::NotFound`] when no shutdown is pending.
pub fn done() -> Result<(), Error> {
    check(env::safe::proxy_done())
}
