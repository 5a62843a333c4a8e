//! The hostcalls that call out of the plugin: HTTP calls, gRPC calls and streams, their status, and
//! foreign functions.

use super::*;

/// cpp-host's `get_status` (src/exports.cc) reads the root context's last status, in any
/// callback: Envoy sets it when a gRPC call closes (its status) and when an HTTP call fails
/// (`broken_connection`, 11, with message `reset`); a successful HTTP call leaves it unchanged.
pub(super) fn proxy_get_status(s: &mut State) -> Result<(u32, Vec<u8>), Status> {
    let root = s.current_root().ok_or(Status::NotFound)?;
    Ok(s.roots
        .get(&root)
        .map(|r| (r.status.0, r.status.1.clone().into_bytes()))
        .unwrap_or_default())
}

pub(super) fn proxy_http_call(
    s: &mut State,
    upstream_name: &[u8],
    serialized_headers: &[u8],
    body: &[u8],
    serialized_trailers: &[u8],
    timeout: u32,
) -> Result<u32, Status> {
    // Envoy's `Context::httpCall`: a timeout that is negative as a signed int is
    // `bad_argument`; the request map lower-cases names, and must hold `:path`, `:method` and
    // `:authority` (`Host`).
    if i32::try_from(timeout).is_err() || !s.knows_cluster(upstream_name) {
        return Err(Status::BadArgument);
    }
    let mut headers: Vec<(String, String)> = parse_map(serialized_headers)?
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let trailers = parse_map(serialized_trailers)?;
    for required in [":method", ":path", ":authority"] {
        if !headers.iter().any(|(k, _)| k == required) {
            return Err(Status::BadArgument);
        }
    }
    // Envoy sets the request's content-length to the body it sends (`setContentLength`).
    if !body.is_empty() {
        headers.retain(|(k, _)| k != "content-length");
        headers.push(("content-length".into(), body.len().to_string()));
    }
    if s.current_root().is_none() {
        return Err(Status::BadArgument);
    }
    let token = s.token();
    s.http_calls.push(HttpCall {
        token,
        context_id: s.current,
        cluster: text(upstream_name),
        headers,
        body: body.to_vec(),
        trailers,
        timeout_ms: timeout,
    });
    Ok(token)
}

pub(super) fn proxy_grpc_call(
    s: &mut State,
    upstream_name: &[u8],
    service_name: &[u8],
    method_name: &[u8],
    serialized_initial_metadata: &[u8],
    message: &[u8],
    timeout: u32,
) -> Result<u32, Status> {
    let target = GrpcTarget {
        upstream_name,
        service_name,
        method_name,
        serialized_initial_metadata,
    };
    open_grpc(s, target, vec![message.to_vec()], false, timeout)
}

pub(super) fn proxy_grpc_stream(
    s: &mut State,
    upstream_name: &[u8],
    service_name: &[u8],
    method_name: &[u8],
    serialized_initial_metadata: &[u8],
) -> Result<u32, Status> {
    let target = GrpcTarget {
        upstream_name,
        service_name,
        method_name,
        serialized_initial_metadata,
    };
    open_grpc(s, target, Vec::new(), true, 0)
}

/// Where a gRPC call or stream goes, as the plugin passed it.
struct GrpcTarget<'a> {
    upstream_name: &'a [u8],
    service_name: &'a [u8],
    method_name: &'a [u8],
    serialized_initial_metadata: &'a [u8],
}

/// Records a new gRPC call (one message, a timeout) or stream (no message yet, no timeout).
fn open_grpc(
    s: &mut State,
    target: GrpcTarget<'_>,
    messages: Vec<Vec<u8>>,
    is_stream: bool,
    timeout_ms: u32,
) -> Result<u32, Status> {
    // Envoy's `grpcCall` / `grpcStream`: a name that is neither a serialized service nor a
    // known cluster is `parse_failure`.
    if !s.knows_cluster(target.upstream_name) {
        return Err(Status::ParseFailure);
    }
    let initial_metadata = parse_map(target.serialized_initial_metadata)?;
    let token = s.token();
    s.grpc_calls.push(GrpcCall {
        token,
        context_id: s.current,
        cluster: text(target.upstream_name),
        service: text(target.service_name),
        method: text(target.method_name),
        initial_metadata,
        messages,
        is_stream,
        timeout_ms,
        closed_by_plugin: false,
        cancelled: false,
    });
    Ok(token)
}

pub(super) fn proxy_grpc_send(
    s: &mut State,
    stream_id: u32,
    message: &[u8],
    end_stream: bool,
) -> Result<(), Status> {
    // Envoy's `Context::grpcSend`: a unary call's token is `bad_argument`, a stream that is
    // gone `not_found`.
    let call = s.grpc_call(stream_id)?;
    if !call.is_stream {
        return Err(Status::BadArgument);
    }
    call.messages.push(message.to_vec());
    call.closed_by_plugin |= end_stream;
    Ok(())
}

pub(super) fn proxy_grpc_cancel(s: &mut State, call_or_stream_id: u32) -> Result<(), Status> {
    let call = s.grpc_call(call_or_stream_id)?;
    call.cancelled = true;
    call.closed_by_plugin = true;
    s.settled_calls.insert(call_or_stream_id);
    Ok(())
}

/// Envoy's `Context::grpcClose`: closing a unary call cancels it (no callback follows); closing a
/// stream half-closes it.
pub(super) fn proxy_grpc_close(s: &mut State, call_or_stream_id: u32) -> Result<(), Status> {
    let call = s.grpc_call(call_or_stream_id)?;
    call.closed_by_plugin = true;
    if !call.is_stream {
        call.cancelled = true;
        s.settled_calls.insert(call_or_stream_id);
    }
    Ok(())
}
