//! TCP streams: the data buffered from each side, closing a side, and resuming a paused stream. Call these
//! from a [`crate::TcpContext`] callback; hosts refuse them elsewhere with [`Error::BadArgument`].

use crate::abi::{env, BufferType, StreamType};
use crate::buffers;
use crate::error::{check, Error};

macro_rules! data_family {
    ($buffer:ident, $what:literal, $get:ident, $all:ident, $append:ident, $prepend:ident, $replace:ident) => {
        #[doc = concat!("`size` bytes of the ", $what, " data buffered so far, from `start` (nothing from a start beyond it). Available in its data callback; elsewhere it reads as empty (Envoy's `getBuffer`).")]
        pub fn $get(start: usize, size: usize) -> Result<Vec<u8>, Error> {
            buffers::get(BufferType::$buffer, start, size)
        }

        #[doc = concat!("All of the ", $what, " data buffered so far; empty outside its data callback.")]
        pub fn $all() -> Result<Vec<u8>, Error> {
            buffers::all(BufferType::$buffer)
        }

        #[doc = concat!("Appends bytes to the ", $what, " data. Errors: [`Error::BadArgument`] outside its data callback.")]
        pub fn $append(bytes: &[u8]) -> Result<(), Error> {
            buffers::append(BufferType::$buffer, bytes)
        }

        #[doc = concat!("Prepends bytes to the ", $what, " data. Errors: as above.")]
        pub fn $prepend(bytes: &[u8]) -> Result<(), Error> {
            buffers::prepend(BufferType::$buffer, bytes)
        }

        #[doc = concat!("Replaces the ", $what, " data buffered so far. Errors: as above.")]
        pub fn $replace(bytes: &[u8]) -> Result<(), Error> {
            buffers::replace_all(BufferType::$buffer, bytes)
        }
    };
}

data_family!(
    DownstreamData,
    "downstream",
    downstream_data,
    downstream_data_all,
    append_downstream_data,
    prepend_downstream_data,
    replace_downstream_data
);
data_family!(
    UpstreamData,
    "upstream",
    upstream_data,
    upstream_data_all,
    append_upstream_data,
    prepend_upstream_data,
    replace_upstream_data
);

fn close(stream: StreamType) -> Result<(), Error> {
    check(env::safe::proxy_close_stream(stream.into()))
}

fn resume(stream: StreamType) -> Result<(), Error> {
    check(env::safe::proxy_continue_stream(stream.into()))
}

/// Closes the downstream connection. Errors: [`Error::Unimplemented`] under ABI 0.1.0.
pub fn close_downstream() -> Result<(), Error> {
    close(StreamType::Downstream)
}

/// Closes the upstream connection. Errors: [`Error::Unimplemented`] under ABI 0.1.0.
pub fn close_upstream() -> Result<(), Error> {
    close(StreamType::Upstream)
}

/// Resumes the downstream side after a callback paused it. Errors: [`Error::Unimplemented`] under
/// ABI 0.1.0, which cannot resume TCP streams.
pub fn resume_downstream() -> Result<(), Error> {
    resume(StreamType::Downstream)
}

/// Resumes the upstream side after a callback paused it. Errors: [`Error::Unimplemented`] in every
/// version under Envoy, whose `Context::continueStream` cannot resume the upstream side.
pub fn resume_upstream() -> Result<(), Error> {
    resume(StreamType::Upstream)
}
