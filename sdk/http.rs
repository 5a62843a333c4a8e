//! HTTP streams: request and response headers, trailers and bodies, resuming a paused stream, and local
//! responses. Call these from an [`crate::HttpContext`] callback (or after switching to the stream with
//! [`crate::set_effective_context`]). Hosts refuse them elsewhere with [`Error::BadArgument`] or
//! [`Error::NotFound`]: headers outside the phase that has them, bodies outside body callbacks.

use crate::abi::{env, BufferType, MapType, StreamType};
use crate::codec::{encode_map, OwnedBytePair};
use crate::error::{check, Error};
use crate::{buffers, maps};

macro_rules! map_family {
    ($map:ident, $what:literal, $all:ident, $all_bytes:ident, $one:ident, $with_one:ident, $set_all:ident, $add:ident, $replace:ident, $remove:ident) => {
        #[doc = concat!("Every ", $what, " entry, in order, duplicates kept. Empty where the callback cannot see them (Envoy's `getHeaderMapPairs`). Errors: [`Error::Malformed`] for non-UTF-8 text (use the `_bytes` variant).")]
        pub fn $all() -> Result<Vec<(String, String)>, Error> {
            maps::pairs(MapType::$map)
        }

        #[doc = concat!("Every ", $what, " entry as raw bytes. Errors: as the text variant, without the UTF-8 check.")]
        pub fn $all_bytes() -> Result<Vec<OwnedBytePair>, Error> {
            maps::pairs_bytes(MapType::$map)
        }

        #[doc = concat!("The first value of `name` among the ", $what, ", or `None` (under ABI 0.1.0 Envoy answers an absent name with an empty value: `Some(\"\")`). Errors: [`Error::BadArgument`] where the callback cannot see them, [`Error::Malformed`] for non-UTF-8 text.")]
        pub fn $one(name: &str) -> Result<Option<String>, Error> {
            maps::value(MapType::$map, name)
        }

        #[doc = concat!("Runs `f` on the first value of `name` among the ", $what, "s as raw bytes read in place (`None` when absent), and returns what `f` returns: no copy and no UTF-8 check, for a caller that only looks at the value. Errors: as [`", stringify!($one), "`], without the UTF-8 check.")]
        pub fn $with_one<T>(name: &str, f: impl FnOnce(Option<&[u8]>) -> T) -> Result<T, Error> {
            maps::with_value(MapType::$map, name, f)
        }

        #[doc = concat!("Replaces every ", $what, " entry with `entries`. Errors: [`Error::BadArgument`] where the callback cannot change them.")]
        pub fn $set_all(entries: &[(&str, &str)]) -> Result<(), Error> {
            maps::set_pairs(MapType::$map, entries)
        }

        #[doc = concat!("Adds a ", $what, " entry, keeping existing ones with the same name. Errors: as above.")]
        pub fn $add(name: &str, value: &str) -> Result<(), Error> {
            maps::add(MapType::$map, name, value)
        }

        #[doc = concat!("Sets `name` among the ", $what, " to `value`, replacing existing entries (adding it when absent). Errors: as above.")]
        pub fn $replace(name: &str, value: &str) -> Result<(), Error> {
            maps::replace(MapType::$map, name, value)
        }

        #[doc = concat!("Removes every ", $what, " entry called `name`. Errors: as above.")]
        pub fn $remove(name: &str) -> Result<(), Error> {
            maps::remove(MapType::$map, name)
        }
    };
}

map_family!(
    HttpRequestHeaders,
    "request header",
    request_headers,
    request_headers_bytes,
    request_header,
    with_request_header,
    set_request_headers,
    add_request_header,
    replace_request_header,
    remove_request_header
);
map_family!(
    HttpResponseHeaders,
    "response header",
    response_headers,
    response_headers_bytes,
    response_header,
    with_response_header,
    set_response_headers,
    add_response_header,
    replace_response_header,
    remove_response_header
);
map_family!(
    HttpRequestTrailers,
    "request trailer",
    request_trailers,
    request_trailers_bytes,
    request_trailer,
    with_request_trailer,
    set_request_trailers,
    add_request_trailer,
    replace_request_trailer,
    remove_request_trailer
);
map_family!(
    HttpResponseTrailers,
    "response trailer",
    response_trailers,
    response_trailers_bytes,
    response_trailer,
    with_response_trailer,
    set_response_trailers,
    add_response_trailer,
    replace_response_trailer,
    remove_response_trailer
);

macro_rules! body_family {
    ($buffer:ident, $what:literal, $get:ident, $all:ident, $append:ident, $prepend:ident, $replace:ident) => {
        #[doc = concat!("`size` bytes of the ", $what, " buffered so far, from `start` (nothing from a start beyond it). Available in its body callback, and after a body callback that paused while the proxy buffers; elsewhere it reads as empty (Envoy's `getBuffer`).")]
        pub fn $get(start: usize, size: usize) -> Result<Vec<u8>, Error> {
            buffers::get(BufferType::$buffer, start, size)
        }

        #[doc = concat!("All of the ", $what, " buffered so far; empty where it is not available.")]
        pub fn $all() -> Result<Vec<u8>, Error> {
            buffers::all(BufferType::$buffer)
        }

        #[doc = concat!("Appends bytes to the ", $what, ". Errors: [`Error::BadArgument`] where it is not available.")]
        pub fn $append(bytes: &[u8]) -> Result<(), Error> {
            buffers::append(BufferType::$buffer, bytes)
        }

        #[doc = concat!("Prepends bytes to the ", $what, ". Errors: as above.")]
        pub fn $prepend(bytes: &[u8]) -> Result<(), Error> {
            buffers::prepend(BufferType::$buffer, bytes)
        }

        #[doc = concat!("Replaces the ", $what, " buffered so far with `bytes`. Errors: as above.")]
        pub fn $replace(bytes: &[u8]) -> Result<(), Error> {
            buffers::replace_all(BufferType::$buffer, bytes)
        }
    };
}

body_family!(
    HttpRequestBody,
    "request body",
    request_body,
    request_body_all,
    append_request_body,
    prepend_request_body,
    replace_request_body
);
body_family!(
    HttpResponseBody,
    "response body",
    response_body,
    response_body_all,
    append_response_body,
    prepend_response_body,
    replace_response_body
);

/// The size of the request body buffered so far: 0 outside request-body callbacks, unless a body
/// callback paused and the proxy still buffers (Envoy's `getBuffer`).
pub fn request_body_size() -> Result<usize, Error> {
    buffers::size(BufferType::HttpRequestBody)
}

/// The size of the response body buffered so far: 0 outside response-body callbacks, unless a body
/// callback paused and the proxy still buffers.
pub fn response_body_size() -> Result<usize, Error> {
    buffers::size(BufferType::HttpResponseBody)
}

fn continue_stream(stream: StreamType, fallback: impl FnOnce() -> u32) -> Result<(), Error> {
    match check(env::safe::proxy_continue_stream(stream.into())) {
        // ABI 0.1.0 has no proxy_continue_stream: its own hostcall does the same.
        Err(Error::Unimplemented) => check(fallback()),
        other => other,
    }
}

/// Resumes the request after a callback returned [`crate::Action::Pause`] (typically from an HTTP-call
/// response). Uses `proxy_continue_stream` (ABI 0.2.x) or `proxy_continue_request` (ABI 0.1.0).
/// From a context that is not an HTTP stream, Envoy does nothing and reports success.
pub fn resume_http_request() -> Result<(), Error> {
    continue_stream(StreamType::HttpRequest, || {
        env::safe::proxy_continue_request()
    })
}

/// Resumes the response after a callback paused it; see [`resume_http_request`].
pub fn resume_http_response() -> Result<(), Error> {
    continue_stream(StreamType::HttpResponse, || {
        env::safe::proxy_continue_response()
    })
}

/// The size of the request headers as Envoy counts it (`proxy_get_header_map_size`: the bytes of every
/// name and value, without the serialization's counts and terminators), e.g. to enforce a header
/// budget. Errors: [`Error::BadArgument`] when the callback cannot change the request headers.
pub fn request_headers_size() -> Result<usize, Error> {
    maps::size(MapType::HttpRequestHeaders)
}

/// Makes the proxy recompute the route after the plugin changed headers it routes on
/// (`proxy_clear_route_cache`). Errors: [`Error::Unimplemented`] under ABI 0.2.x, which dropped it (there,
/// Envoy clears the route cache by itself when `:path` or `:authority` change).
pub fn clear_route_cache() -> Result<(), Error> {
    check(env::safe::proxy_clear_route_cache())
}

/// Resets the HTTP stream (`proxy_close_stream`). Errors: [`Error::Unimplemented`] under ABI 0.1.0.
pub fn reset_http_stream() -> Result<(), Error> {
    check(env::safe::proxy_close_stream(
        StreamType::HttpRequest.into(),
    ))
}

/// Answers the request from the plugin with `status`, `headers` and `body`, instead of forwarding it;
/// the proxy then treats the current callback as paused whatever it returns (cpp-host's
/// `send_local_response`), so return [`crate::Action::Pause`] to say so. Acts in request and response
/// callbacks and in HTTP-call responses of an HTTP context; from a root or TCP context Envoy does nothing
/// and reports success. Header names are sent lower-cased.
pub fn send_http_response(status: u32, headers: &[(&str, &str)], body: &[u8]) -> Result<(), Error> {
    let headers = encode_map(headers);
    let details = "";
    // A gRPC status above 16 means "none".
    let no_grpc_status = u32::MAX;
    check(env::safe::proxy_send_local_response(
        status,
        details.as_bytes(),
        body,
        &headers,
        no_grpc_status,
    ))
}
