//! Which buffer, map, metric, call or queue a hostcall may reach from the current context and callback,
//! as Envoy and cpp-host decide it.

use super::*;

impl State {
    /// The header map `map` as the current callback may read it.
    pub(super) fn map(&mut self, map: MapType) -> Result<&mut Vec<(String, String)>, Status> {
        self.map_access(map, false)
    }

    /// The header map `map` as the current callback may read it, or change it (`write`).
    pub(super) fn map_access(
        &mut self,
        map: MapType,
        write: bool,
    ) -> Result<&mut Vec<(String, String)>, Status> {
        if let Some((_, status)) = self.unreadable_maps.iter().find(|(m, _)| *m == map) {
            return Err(*status);
        }
        let current = self.current;
        let phase = self.phase;
        match map {
            MapType::HttpRequestHeaders
            | MapType::HttpRequestTrailers
            | MapType::HttpResponseHeaders
            | MapType::HttpResponseTrailers => {
                let stream = self.http.get_mut(&current).ok_or(Status::BadArgument)?;
                let held = stream.held.clone();
                let reached = stream.phase.ok_or(Status::BadArgument)?;
                let (needed, data) = match map {
                    MapType::HttpRequestHeaders => {
                        (HttpPhase::RequestHeaders, &mut stream.request_headers)
                    }
                    MapType::HttpRequestTrailers => {
                        (HttpPhase::RequestTrailers, &mut stream.request_trailers)
                    }
                    MapType::HttpResponseHeaders => {
                        (HttpPhase::ResponseHeaders, &mut stream.response_headers)
                    }
                    _ => (HttpPhase::ResponseTrailers, &mut stream.response_trailers),
                };
                // Envoy's `getMap` / `getConstMap`: a map is there during its own callback, and after
                // it while that callback has not let the stream continue; `proxy_on_log` reads every
                // map but the request trailers.
                let own = phase == Phase::Http(needed);
                let logged = !write
                    && phase == Phase::Http(HttpPhase::Log)
                    && needed != HttpPhase::RequestTrailers
                    && reached >= needed;
                if !(own || held.contains(&needed) || logged) {
                    return Err(Status::BadArgument);
                }
                Ok(data)
            }
            MapType::HttpCallResponseHeaders | MapType::HttpCallResponseTrailers => {
                if !matches!(self.phase, Phase::HttpCallResponse(_)) {
                    return Err(Status::BadArgument);
                }
                // A failed call has no response: Envoy's `getConstMap` finds no map.
                let response = self.call_response.as_mut().ok_or(Status::BadArgument)?;
                Ok(if map == MapType::HttpCallResponseHeaders {
                    &mut response.headers
                } else {
                    &mut response.trailers
                })
            }
            // Envoy's `getConstMap` reads metadata the root holds only during its own callback.
            MapType::GrpcReceiveInitialMetadata => match phase {
                Phase::Grpc(_, GrpcEvent::InitialMetadata) => Ok(&mut self.grpc_data.headers),
                _ => Err(Status::BadArgument),
            },
            MapType::GrpcReceiveTrailingMetadata => match phase {
                Phase::Grpc(_, GrpcEvent::TrailingMetadata) => Ok(&mut self.grpc_data.trailers),
                _ => Err(Status::BadArgument),
            },
        }
    }

    /// The header map `map` if the plugin may change it: Envoy's `Context::getMap` has no HTTP call
    /// response or gRPC metadata map, so changing those is `bad_argument`.
    pub(super) fn mutable_map(
        &mut self,
        map: MapType,
    ) -> Result<&mut Vec<(String, String)>, Status> {
        match map {
            MapType::HttpCallResponseHeaders
            | MapType::HttpCallResponseTrailers
            | MapType::GrpcReceiveInitialMetadata
            | MapType::GrpcReceiveTrailingMetadata => Err(Status::BadArgument),
            MapType::HttpRequestHeaders => {
                // Envoy's Wasm context clears the route cache itself after every change a plugin makes
                // to the request headers (add/replace/remove/set pairs in
                // source/extensions/common/wasm/context.cc), so the router sees the new headers.
                self.map_access(map, true)?;
                let current = self.current;
                if let Some(stream) = self.http.get_mut(&current) {
                    stream.route_cache_cleared += 1;
                }
                self.map_access(map, true)
            }
            _ => self.map_access(map, true),
        }
    }

    /// The byte buffer `buffer` as the current callback may see it (Envoy's `Context::getBuffer`,
    /// source/extensions/common/wasm/context.cc; `Err` is what cpp-host's exports answer).
    pub(super) fn buffer(&mut self, buffer: BufferType) -> Result<BufferAccess<'_>, Status> {
        if let Some(status) = self.unreadable(buffer) {
            return Err(status);
        }
        let current = self.current;
        let phase = self.phase;
        match buffer {
            BufferType::HttpRequestBody | BufferType::HttpResponseBody => {
                let response = buffer == BufferType::HttpResponseBody;
                let Some(stream) = self.http.get_mut(&current) else {
                    return Ok(BufferAccess::Nothing);
                };
                let needed = if response {
                    HttpPhase::ResponseBody
                } else {
                    HttpPhase::RequestBody
                };
                // Envoy keeps the body after a callback that paused (it buffers), drops it after one
                // that continued (`decodeData` / `encodeData`).
                let (held, buffering, _) = stream.body_mut(response);
                if phase == Phase::Http(needed) || *buffering {
                    Ok(BufferAccess::Data(held, true))
                } else {
                    Ok(BufferAccess::Nothing)
                }
            }
            BufferType::DownstreamData | BufferType::UpstreamData => {
                let Some(stream) = self.tcp.get_mut(&current) else {
                    return Ok(BufferAccess::Nothing);
                };
                // Envoy keeps the chunk of a data callback that did not continue.
                match (buffer, phase) {
                    (BufferType::DownstreamData, Phase::Tcp(TcpPhase::Downstream)) => {
                        Ok(BufferAccess::Data(&mut stream.downstream, true))
                    }
                    (BufferType::UpstreamData, Phase::Tcp(TcpPhase::Upstream)) => {
                        Ok(BufferAccess::Data(&mut stream.upstream, true))
                    }
                    (BufferType::DownstreamData, _) if stream.downstream_held => {
                        Ok(BufferAccess::Data(&mut stream.downstream, true))
                    }
                    (BufferType::UpstreamData, _) if stream.upstream_held => {
                        Ok(BufferAccess::Data(&mut stream.upstream, true))
                    }
                    _ => Ok(BufferAccess::Nothing),
                }
            }
            // Envoy hands the response body out as a read-only string, and nothing (`not_found`)
            // without a response (outside the callback, or for a failed call).
            BufferType::HttpCallResponseBody => match (phase, self.call_response.as_mut()) {
                (Phase::HttpCallResponse(_), Some(response)) => {
                    Ok(BufferAccess::Data(&mut response.body, false))
                }
                _ => Err(Status::NotFound),
            },
            BufferType::GrpcReceiveBuffer => match phase {
                Phase::Grpc(_, GrpcEvent::Message) => {
                    Ok(BufferAccess::Data(&mut self.grpc_data.body, true))
                }
                _ => Ok(BufferAccess::Nothing),
            },
            BufferType::VmConfiguration => match phase {
                Phase::VmStart => Ok(BufferAccess::Data(&mut self.vm_configuration, false)),
                _ => Err(Status::BadArgument),
            },
            BufferType::PluginConfiguration => match phase {
                Phase::Configure => {
                    let root = self.roots.get_mut(&current).ok_or(Status::BadArgument)?;
                    Ok(BufferAccess::Data(&mut root.plugin_configuration, false))
                }
                _ => Err(Status::BadArgument),
            },
            BufferType::CallData => match phase {
                Phase::ForeignFunction => {
                    Ok(BufferAccess::Data(&mut self.foreign_arguments, false))
                }
                _ => Err(Status::BadArgument),
            },
        }
    }

    /// The status the host answers for `buffer` when a test made it unreadable.
    pub(super) fn unreadable(&self, buffer: BufferType) -> Option<Status> {
        self.unreadable_buffers
            .iter()
            .find(|(b, _)| *b == buffer)
            .map(|(_, status)| *status)
    }

    /// Whether the proxy has the cluster `name` (every name, unless the test listed its clusters).
    pub(super) fn knows_cluster(&self, name: &[u8]) -> bool {
        self.clusters
            .as_ref()
            .is_none_or(|known| known.contains(text(name).as_str()))
    }

    pub(super) fn metric(&mut self, id: u32) -> Result<&mut Metric, Status> {
        let index = id.checked_sub(1).ok_or(Status::NotFound)? as usize;
        let metric = *self.metric_ids.get(index).ok_or(Status::NotFound)?;
        self.metrics.get_mut(metric).ok_or(Status::NotFound)
    }

    /// A gRPC call or stream Envoy still holds (`grpc_call_request_` / `grpc_stream_`): a cancelled one,
    /// a unary call that was answered or closed, or a stream closed by both sides is `not_found`.
    pub(super) fn grpc_call(&mut self, token: u32) -> Result<&mut GrpcCall, Status> {
        let settled = self.settled_calls.contains(&token);
        self.grpc_calls
            .iter_mut()
            .find(|c| c.token == token)
            .filter(|c| !c.cancelled && !(settled && (!c.is_stream || c.closed_by_plugin)))
            .ok_or(Status::NotFound)
    }

    pub(super) fn queue(&mut self, id: u32) -> Result<&mut Queue, Status> {
        let index = id.checked_sub(1).ok_or(Status::NotFound)? as usize;
        self.queues.get_mut(index).ok_or(Status::NotFound)
    }

    /// Envoy's `Context::continueStream`: resuming the upstream side of a TCP stream is
    /// `unimplemented`; a stream the current context does not have is resumed by nobody, and the
    /// answer is still `ok`.
    pub(super) fn resume(&mut self, stream: StreamType) -> Result<(), Status> {
        let current = self.current;
        match stream {
            StreamType::HttpRequest | StreamType::HttpResponse => {
                if let Some(s) = self.http.get_mut(&current) {
                    // Envoy lets go of the request's maps on either resume, never the response's.
                    s.held.remove(&HttpPhase::RequestHeaders);
                    s.held.remove(&HttpPhase::RequestTrailers);
                    if stream == StreamType::HttpRequest {
                        s.request_resumed += 1;
                    } else {
                        s.response_resumed += 1;
                    }
                }
                Ok(())
            }
            StreamType::Downstream => {
                if let Some(s) = self.tcp.get_mut(&current) {
                    s.downstream_resumed += 1;
                }
                Ok(())
            }
            StreamType::Upstream => Err(Status::Unimplemented),
        }
    }
}
