//! The hostcalls of HTTP and TCP streams: buffers (bodies, data, configurations, call responses),
//! header and trailer maps, and the stream operations (resume, close, route cache, local response).

use super::*;

pub(super) fn proxy_get_buffer_bytes(
    s: &mut State,
    buffer_id: BufferType,
    start: usize,
    max_size: usize,
) -> Result<Vec<u8>, Status> {
    let BufferAccess::Data(data, _) = s.buffer(buffer_id)? else {
        return Ok(Vec::new());
    };
    // cpp-host's `get_buffer_bytes` (src/exports.cc) clamps the range: a start beyond the
    // data reads nothing; only a range whose end overflows is `bad_argument`.
    if start.checked_add(max_size).is_none() {
        return Err(Status::BadArgument);
    }
    let start = start.min(data.len());
    let end = start.saturating_add(max_size).min(data.len());
    Ok(data[start..end].to_vec())
}

pub(super) fn proxy_get_buffer_status(
    s: &mut State,
    buffer_id: BufferType,
) -> Result<(usize, u32), Status> {
    match s.buffer(buffer_id)? {
        BufferAccess::Data(data, _) => Ok((data.len(), 0)),
        BufferAccess::Nothing => Ok((0, 0)),
    }
}

pub(super) fn proxy_set_buffer_bytes(
    s: &mut State,
    buffer_id: BufferType,
    start: usize,
    size: usize,
    value: &[u8],
) -> Result<(), Status> {
    let BufferAccess::Data(data, true) = s.buffer(buffer_id)? else {
        return Err(Status::BadArgument);
    };
    // Envoy's `Buffer::copyFrom` (source/extensions/common/wasm/context.cc): at start 0 it
    // drains `size` bytes (all there are, at most) and prepends the value; at or beyond the end
    // it appends; a start inside the data is `bad_argument`.
    if start == 0 {
        data.splice(..size.min(data.len()), value.iter().copied());
    } else if start >= data.len() {
        data.extend_from_slice(value);
    } else {
        return Err(Status::BadArgument);
    }
    Ok(())
}

/// Envoy's `Context::getHeaderMapPairs`: a map the callback cannot see reads as empty, never as an
/// error.
pub(super) fn proxy_get_header_map_pairs(
    s: &mut State,
    map_id: MapType,
) -> Result<Vec<u8>, Status> {
    // A failure a test injected (`Emulator::make_map_unreadable`) still reaches the plugin.
    if let Some((_, status)) = s.unreadable_maps.iter().find(|(m, _)| *m == map_id) {
        return Err(*status);
    }
    Ok(s.map(map_id).map(|m| encode_map(m)).unwrap_or_default())
}

/// Envoy's `Context::getHeaderMapSize`: the map's `byteSize()`, the bytes of every name and value
/// (not the serialized size the specification describes); only the maps the plugin may change
/// have a size, so an HTTP call's response and gRPC metadata are `bad_argument`.
pub(super) fn proxy_get_header_map_size(s: &mut State, map_id: MapType) -> Result<usize, Status> {
    let map = s.mutable_map(map_id)?;
    Ok(map.iter().map(|(k, v)| k.len() + v.len()).sum())
}

pub(super) fn proxy_set_header_map_pairs(
    s: &mut State,
    map_id: MapType,
    serialized_pairs: &[u8],
) -> Result<(), Status> {
    let pairs = parse_map(serialized_pairs)?;
    *s.mutable_map(map_id)? = pairs;
    Ok(())
}

pub(super) fn proxy_get_header_map_value(
    s: &mut State,
    map_id: MapType,
    key: &[u8],
) -> Result<Vec<u8>, Status> {
    let key = lower(key);
    // Envoy's `getHeaderMapValue`: under ABI 0.1.0 a missing value is an empty one, and so is
    // a stream map `proxy_on_log` cannot read (0.2.x: `not_found` for both).
    let missing = if proxywasm::abi::ABI_VERSION == "0.1.0" {
        Ok(Vec::new())
    } else {
        Err(Status::NotFound)
    };
    let logging = s.phase == Phase::Http(HttpPhase::Log);
    let map = match s.map(map_id) {
        Ok(map) => map,
        Err(Status::BadArgument) if logging && is_stream_map(map_id) => return missing,
        Err(status) => return Err(status),
    };
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        .map_or(missing, |(_, v)| Ok(v.clone().into_bytes()))
}

pub(super) fn proxy_add_header_map_value(
    s: &mut State,
    map_id: MapType,
    key: &[u8],
    value: &[u8],
) -> Result<(), Status> {
    s.mutable_map(map_id)?.push((lower(key), text(value)));
    Ok(())
}

pub(super) fn proxy_replace_header_map_value(
    s: &mut State,
    map_id: MapType,
    key: &[u8],
    value: &[u8],
) -> Result<(), Status> {
    let key = lower(key);
    let map = s.mutable_map(map_id)?;
    match map.iter().position(|(k, _)| k.eq_ignore_ascii_case(&key)) {
        Some(first) => {
            map[first].1 = text(value);
            let mut i = 0;
            map.retain(|(k, _)| {
                i += 1;
                i - 1 == first || !k.eq_ignore_ascii_case(&key)
            });
        }
        None => map.push((key, text(value))),
    }
    Ok(())
}

pub(super) fn proxy_remove_header_map_value(
    s: &mut State,
    map_id: MapType,
    key: &[u8],
) -> Result<(), Status> {
    let key = lower(key);
    s.mutable_map(map_id)?
        .retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
    Ok(())
}

pub(super) fn proxy_continue_stream(s: &mut State, stream_type: StreamType) -> Result<(), Status> {
    s.resume(stream_type)
}

pub(super) fn proxy_continue_request(s: &mut State) -> Result<(), Status> {
    s.resume(StreamType::HttpRequest)
}

pub(super) fn proxy_continue_response(s: &mut State) -> Result<(), Status> {
    s.resume(StreamType::HttpResponse)
}

/// Envoy's `Context::closeStream`: resets the HTTP stream or closes a side of the TCP stream;
/// from a context without such a stream nothing happens and the answer is `ok`.
pub(super) fn proxy_close_stream(s: &mut State, stream_type: StreamType) -> Result<(), Status> {
    let current = s.current;
    match stream_type {
        StreamType::HttpRequest | StreamType::HttpResponse => {
            if let Some(stream) = s.http.get_mut(&current) {
                stream.reset = true;
            }
        }
        StreamType::Downstream => {
            if let Some(stream) = s.tcp.get_mut(&current) {
                stream.downstream_closed = true;
            }
        }
        StreamType::Upstream => {
            if let Some(stream) = s.tcp.get_mut(&current) {
                stream.upstream_closed = true;
            }
        }
    }
    Ok(())
}

/// cpp-host's `clear_route_cache` (src/exports.cc) answers `ok` whatever the context; Envoy clears
/// the route of the HTTP stream when there is one.
pub(super) fn proxy_clear_route_cache(s: &mut State) -> Result<(), Status> {
    let current = s.current;
    if let Some(stream) = s.http.get_mut(&current) {
        stream.route_cache_cleared += 1;
    }
    Ok(())
}

pub(super) fn proxy_send_local_response(
    s: &mut State,
    status_code: u32,
    status_code_details: &[u8],
    body: &[u8],
    serialized_headers: &[u8],
    grpc_status: u32,
) -> Result<(), Status> {
    let headers = parse_map(serialized_headers)?
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    // cpp-host's `send_local_response` (src/exports.cc) stops the current callback's
    // iteration whatever it returns; Envoy's `Context::sendLocalResponse` sends the reply only
    // from an HTTP stream (elsewhere nothing happens, and the answer is still `ok`), with
    // header names lower-cased and every whitespace of the details replaced by `_`.
    s.stop_iteration = true;
    let current = s.current;
    if let Some(stream) = s.http.get_mut(&current) {
        let details = text(status_code_details)
            .chars()
            .map(|c| if c.is_whitespace() { '_' } else { c })
            .collect();
        stream.local_response = Some(LocalResponse {
            status: status_code,
            headers,
            body: body.to_vec(),
            details,
            grpc_status: (grpc_status <= 16).then_some(grpc_status),
        });
    }
    Ok(())
}
