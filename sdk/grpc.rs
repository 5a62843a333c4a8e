//! Outgoing gRPC calls and streams. Their events arrive at the calling context's
//! [`crate::Context`] methods `on_grpc_receive_initial_metadata`, `on_grpc_receive`,
//! `on_grpc_receive_trailing_metadata` and `on_grpc_close`.

use crate::abi::{env, BufferType, MapType};
use crate::codec::encode_map;
use crate::dispatcher::register_grpc_call;
use crate::error::{check, Error};
use crate::{buffers, maps};
use std::time::Duration;

/// Where a gRPC call or stream goes.
pub struct GrpcTarget<'a> {
    /// The cluster (upstream) to call.
    pub cluster: &'a str,
    /// The fully qualified service name, e.g. `envoy.service.auth.v3.Authorization`.
    pub service: &'a str,
    /// The method name, e.g. `Check`.
    pub method: &'a str,
    /// Initial metadata to send.
    pub initial_metadata: &'a [(&'a str, &'a [u8])],
}

/// Starts a unary gRPC call with a serialized request `message`; returns its token. Available in root and
/// HTTP contexts. Errors: [`Error::NotFound`] for an unknown cluster, [`Error::BadArgument`] for bad
/// arguments or a timeout above `u32::MAX` ms.
pub fn call(target: &GrpcTarget<'_>, message: &[u8], timeout: Duration) -> Result<u32, Error> {
    let metadata = encode_map(target.initial_metadata);
    let timeout = u32::try_from(timeout.as_millis()).map_err(|_| Error::BadArgument)?;
    let mut token = 0u32;
    check(env::safe::proxy_grpc_call(
        target.cluster.as_bytes(),
        target.service.as_bytes(),
        target.method.as_bytes(),
        &metadata,
        message,
        timeout,
        &mut token,
    ))?;
    register_grpc_call(token);
    Ok(token)
}

/// Opens a gRPC stream; returns its token. Errors: as [`call`].
pub fn open_stream(target: &GrpcTarget<'_>) -> Result<u32, Error> {
    let metadata = encode_map(target.initial_metadata);
    let mut token = 0u32;
    check(env::safe::proxy_grpc_stream(
        target.cluster.as_bytes(),
        target.service.as_bytes(),
        target.method.as_bytes(),
        &metadata,
        &mut token,
    ))?;
    register_grpc_call(token);
    Ok(token)
}

/// Sends a serialized message on stream `token`; `end_of_stream` half-closes it. Errors:
/// [`Error::NotFound`] for an unknown stream.
pub fn send(token: u32, message: &[u8], end_of_stream: bool) -> Result<(), Error> {
    check(env::safe::proxy_grpc_send(
        token,
        message,
        u32::from(end_of_stream),
    ))
}

/// Cancels call or stream `token`; no close event follows. Errors: [`Error::NotFound`] for an unknown
/// token.
pub fn cancel(token: u32) -> Result<(), Error> {
    check(env::safe::proxy_grpc_cancel(token))
}

/// Closes call or stream `token`. Errors: [`Error::NotFound`] for an unknown token.
pub fn close(token: u32) -> Result<(), Error> {
    check(env::safe::proxy_grpc_close(token))
}

/// The initial metadata received; available in `on_grpc_receive_initial_metadata`, empty elsewhere.
pub fn received_initial_metadata() -> Result<Vec<(String, String)>, Error> {
    maps::pairs(MapType::GrpcReceiveInitialMetadata)
}

/// The trailing metadata received; available in `on_grpc_receive_trailing_metadata`, empty elsewhere.
pub fn received_trailing_metadata() -> Result<Vec<(String, String)>, Error> {
    maps::pairs(MapType::GrpcReceiveTrailingMetadata)
}

/// The message received; available in `on_grpc_receive`, empty elsewhere.
pub fn received_message() -> Result<Vec<u8>, Error> {
    buffers::all(BufferType::GrpcReceiveBuffer)
}

/// The status code and message of the call whose event is being delivered (`proxy_get_status`). The
/// host keeps the root context's last status (set when a gRPC call closes or an HTTP call fails), so
/// outside such a callback this reads whatever was set last, `(0, "")` at first.
pub fn call_status() -> Result<(u32, String), Error> {
    let mut code = 0u32;
    let mut message = crate::memory::HostBuffer::empty();
    let (data, size) = message.slots();
    check(env::safe::proxy_get_status(&mut code, data, size))?;
    Ok((code, crate::codec::utf8(message.bytes()?)?))
}
