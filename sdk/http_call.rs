//! Outgoing HTTP calls to a cluster, with the response delivered to a closure or to
//! [`crate::Context::on_http_call_response`].

use crate::abi::{env, BufferType, MapType};
use crate::codec::encode_map;
use crate::dispatcher::{register_http_call, HttpCallback};
use crate::error::{check, Error};
use crate::{buffers, maps};
use std::time::Duration;

/// What to send in an HTTP call.
pub struct HttpRequest<'a> {
    /// The cluster (upstream) to call.
    pub cluster: &'a str,
    /// The request headers, including the pseudo-headers `:method`, `:path` and `:authority`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, if any.
    pub body: Option<&'a [u8]>,
    /// The trailers.
    pub trailers: &'a [(&'a str, &'a str)],
    /// How long the host waits for the response.
    pub timeout: Duration,
}

fn dispatch(request: &HttpRequest<'_>, callback: Option<HttpCallback>) -> Result<u32, Error> {
    let token = send(request)?;
    register_http_call(token, callback);
    Ok(token)
}

/// Sends an HTTP call without telling the dispatcher: its response reaches the async layer
/// ([`crate::task`]), which keeps its own record of the call. Errors: as [`dispatch_http_call`].
pub(crate) fn send(request: &HttpRequest<'_>) -> Result<u32, Error> {
    let headers = encode_map(request.headers);
    let trailers = encode_map(request.trailers);
    let body = request.body.unwrap_or(&[]);
    let timeout = u32::try_from(request.timeout.as_millis()).map_err(|_| Error::BadArgument)?;
    let mut token = 0u32;
    check(env::safe::proxy_http_call(
        request.cluster.as_bytes(),
        &headers,
        body,
        &trailers,
        timeout,
        &mut token,
    ))?;
    Ok(token)
}

/// Sends an HTTP call; when the response arrives (or the call fails or times out: then all counts are 0),
/// `callback(num_headers, body_size, num_trailers)` runs with the dispatching context as the effective
/// context, so it may resume a paused stream. Returns the call's token. Available in any callback of a
/// root or HTTP context. Errors: [`Error::NotFound`] for an unknown cluster, [`Error::BadArgument`] for
/// malformed headers (e.g. missing `:method`, `:path` or `:authority`) or a timeout above `u32::MAX` ms.
pub fn dispatch_http_call(
    request: &HttpRequest<'_>,
    callback: impl FnOnce(usize, usize, usize) + 'static,
) -> Result<u32, Error> {
    dispatch(request, Some(Box::new(callback)))
}

/// Sends an HTTP call whose response is delivered to [`crate::Context::on_http_call_response`] of the
/// calling context instead of a closure. Errors: as [`dispatch_http_call`].
pub fn dispatch_http_call_to_context(request: &HttpRequest<'_>) -> Result<u32, Error> {
    dispatch(request, None)
}

/// The response headers of the call whose response is being delivered. Available only in the response
/// callback; elsewhere, and for a failed call, they read as empty (Envoy's `getHeaderMapPairs`).
pub fn response_headers() -> Result<Vec<(String, String)>, Error> {
    maps::pairs(MapType::HttpCallResponseHeaders)
}

/// One response header (the first with that name) of the call being delivered, or `None`.
/// Errors: [`Error::BadArgument`] outside the response callback and for a failed call (no response).
pub fn response_header(name: &str) -> Result<Option<String>, Error> {
    maps::value(MapType::HttpCallResponseHeaders, name)
}

/// `size` bytes of the response body from `start` (clamped by the host to what arrived). Errors:
/// [`Error::NotFound`] outside the response callback and for a failed call.
pub fn response_body(start: usize, size: usize) -> Result<Vec<u8>, Error> {
    buffers::get(BufferType::HttpCallResponseBody, start, size)
}

/// The response trailers of the call being delivered; empty where [`response_headers`] are.
pub fn response_trailers() -> Result<Vec<(String, String)>, Error> {
    maps::pairs(MapType::HttpCallResponseTrailers)
}
