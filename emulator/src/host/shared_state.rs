//! The hostcalls of state shared beyond one context: shared data, queues, metrics and properties.

use super::*;

pub(super) fn proxy_get_shared_data(s: &mut State, key: &[u8]) -> Result<(Vec<u8>, u32), Status> {
    let key = text(key);
    let found = s.shared_data.get(&key).cloned().ok_or(Status::NotFound);
    // Another worker thread writes between this read and the plugin's next write (a race Envoy's
    // workers allow: cpp-host's SharedData is one map shared by every thread, src/shared_data.cc).
    if let Some(i) = s.racing_writes.iter().position(|(k, _)| *k == key) {
        let (key, value) = s.racing_writes.remove(i);
        let version = s.shared_data.get(&key).map_or(0, |e| e.1);
        s.shared_data.insert(key, (value, version + 1));
    }
    found
}

pub(super) fn proxy_set_shared_data(
    s: &mut State,
    key: &[u8],
    value: &[u8],
    cas: u32,
) -> Result<(), Status> {
    let entry = s
        .shared_data
        .entry(text(key))
        .or_insert_with(|| (Vec::new(), 0));
    if cas != 0 && entry.1 != 0 && cas != entry.1 {
        return Err(Status::CasMismatch);
    }
    *entry = (value.to_vec(), entry.1 + 1);
    Ok(())
}

pub(super) fn proxy_register_shared_queue(s: &mut State, name: &[u8]) -> Result<u32, Status> {
    let owner = s.current_root().ok_or(Status::BadArgument)?;
    let (vm_id, name) = (s.vm_id.clone(), text(name));
    if let Some(i) = s
        .queues
        .iter()
        .position(|q| q.vm_id == vm_id && q.name == name)
    {
        s.queues[i].owner = owner;
        return Ok(i as u32 + 1);
    }
    s.queues.push(Queue {
        vm_id,
        name,
        owner,
        items: Default::default(),
    });
    Ok(s.queues.len() as u32)
}

pub(super) fn proxy_resolve_shared_queue(
    s: &mut State,
    vm_id: &[u8],
    name: &[u8],
) -> Result<u32, Status> {
    let vm_id = if vm_id.is_empty() {
        s.vm_id.clone()
    } else {
        text(vm_id)
    };
    let name = text(name);
    s.queues
        .iter()
        .position(|q| q.vm_id == vm_id && q.name == name)
        .map(|i| i as u32 + 1)
        .ok_or(Status::NotFound)
}

pub(super) fn proxy_enqueue_shared_queue(
    s: &mut State,
    queue_id: u32,
    value: &[u8],
) -> Result<(), Status> {
    s.queue(queue_id)?.items.push_back(value.to_vec());
    Ok(())
}

pub(super) fn proxy_dequeue_shared_queue(s: &mut State, queue_id: u32) -> Result<Vec<u8>, Status> {
    s.queue(queue_id)?.items.pop_front().ok_or(Status::Empty)
}

/// Envoy's `Context::defineMetric` (source/extensions/common/wasm/context.cc): every call allocates
/// a new id and a new entry in the VM's id map, even for a name already defined; the id points at
/// the stat the scope finds by name, so values are shared. The emulator does the same and counts the
/// definitions per metric (`Emulator::metric_definitions`).
pub(super) fn proxy_define_metric(
    s: &mut State,
    metric_type: MetricType,
    name: &[u8],
) -> Result<u32, Status> {
    let name = text(name);
    if name.is_empty() {
        return Err(Status::BadArgument);
    }
    let index = match s
        .metrics
        .iter()
        .position(|m| m.name == name && m.kind == metric_type)
    {
        Some(i) => i,
        None => {
            s.metrics.push(Metric {
                name,
                kind: metric_type,
                value: 0,
                recorded: Vec::new(),
                definitions: 0,
            });
            s.metrics.len() - 1
        }
    };
    s.metrics[index].definitions += 1;
    s.metric_ids.push(index);
    u32::try_from(s.metric_ids.len()).map_err(|_| Status::InternalFailure)
}

pub(super) fn proxy_increment_metric(
    s: &mut State,
    metric_id: u32,
    delta: i64,
) -> Result<(), Status> {
    let m = s.metric(metric_id)?;
    // Envoy's `Context::incrementMetric`: a counter takes only a positive delta (0 included
    // in the refusal); a gauge adds or subtracts; a histogram is `bad_argument`.
    match m.kind {
        MetricType::Counter if delta <= 0 => Err(Status::BadArgument),
        MetricType::Counter | MetricType::Gauge => {
            m.value = m.value.saturating_add(delta);
            Ok(())
        }
        MetricType::Histogram => Err(Status::BadArgument),
    }
}

pub(super) fn proxy_record_metric(s: &mut State, metric_id: u32, value: u64) -> Result<(), Status> {
    let m = s.metric(metric_id)?;
    // Envoy's `Context::recordMetric`: a counter adds the value, a gauge is set to it, a
    // histogram records it.
    match m.kind {
        MetricType::Counter => {
            let value = i64::try_from(value).map_err(|_| Status::BadArgument)?;
            m.value = m.value.saturating_add(value);
            Ok(())
        }
        MetricType::Gauge => {
            m.value = i64::try_from(value).map_err(|_| Status::BadArgument)?;
            Ok(())
        }
        MetricType::Histogram => {
            m.recorded.push(value);
            Ok(())
        }
    }
}

pub(super) fn proxy_get_metric(s: &mut State, metric_id: u32) -> Result<u64, Status> {
    let m = s.metric(metric_id)?;
    match m.kind {
        MetricType::Histogram => Err(Status::BadArgument),
        _ => u64::try_from(m.value).map_err(|_| Status::InternalFailure),
    }
}

/// Envoy's `Context::getProperty` (source/extensions/common/wasm/context.cc): the path is split at
/// NUL bytes (a trailing NUL tolerated). A path the test provided answers with its value; otherwise a
/// one-segment path whose name is not one of Envoy's property roots reads the filter state the plugin
/// set on the current stream (`wasm.<name>`, Envoy's `findValue`).
pub(super) fn proxy_get_property(s: &mut State, path: &[u8]) -> Result<Vec<u8>, Status> {
    let segments: Vec<String> = decode_path(path).into_iter().map(text).collect();
    if let Some(value) = s.properties.get(&segments) {
        return Ok(value.clone());
    }
    match segments.as_slice() {
        [name] if !ENVOY_PROPERTY_ROOTS.contains(&name.as_str()) => {
            let key = [FILTER_STATE_PREFIX, name.as_bytes()].concat();
            s.filter_state
                .get(&(s.current, key))
                .cloned()
                .ok_or(Status::NotFound)
        }
        _ => Err(Status::NotFound),
    }
}

/// Envoy's `Context::setProperty` (source/extensions/common/wasm/context.cc): writes the stream's
/// filter state under `wasm.` followed by the raw path bytes (NULs included); without a stream (a
/// root context) there is no stream info and the answer is `not_found`.
pub(super) fn proxy_set_property(s: &mut State, path: &[u8], value: &[u8]) -> Result<(), Status> {
    let current = s.current;
    if !s.http.contains_key(&current) && !s.tcp.contains_key(&current) {
        return Err(Status::NotFound);
    }
    let key = [FILTER_STATE_PREFIX, path].concat();
    s.filter_state.insert((current, key), value.to_vec());
    Ok(())
}
