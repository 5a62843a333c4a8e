//! Shared queues: one plugin registers a queue and is told when it has items; any plugin of the VM (or of
//! another VM, by VM id) can find it and enqueue items.

use crate::abi::env;
use crate::error::{check, Error};
use crate::hostcall::call_for_bytes;
use crate::memory::HostBuffer;

/// Registers (or finds) the queue `name` owned by the current root context, which then receives
/// [`crate::RootContext::on_queue_ready`]. Call it from a root context. Errors: [`Error::BadArgument`]
/// from a stream context on hosts that refuse it there.
pub fn register(name: &str) -> Result<u32, Error> {
    let mut id = 0u32;
    check(env::safe::proxy_register_shared_queue(
        name.as_bytes(),
        &mut id,
    ))?;
    Ok(id)
}

/// Finds the queue `name` registered in VM `vm_id` (empty: this VM). Errors: [`Error::NotFound`] when
/// no such queue exists.
pub fn resolve(vm_id: &str, name: &str) -> Result<u32, Error> {
    let mut id = 0u32;
    check(env::safe::proxy_resolve_shared_queue(
        vm_id.as_bytes(),
        name.as_bytes(),
        &mut id,
    ))?;
    Ok(id)
}

/// Appends `item` to queue `queue_id`. Errors: [`Error::NotFound`] for an unknown queue.
pub fn enqueue(queue_id: u32, item: &[u8]) -> Result<(), Error> {
    check(env::safe::proxy_enqueue_shared_queue(queue_id, item))
}

/// Removes and returns the oldest item of queue `queue_id`. Errors: [`Error::Empty`] when the queue has
/// no item (its own variant, so callers can stop draining), [`Error::NotFound`] for an unknown queue.
pub fn dequeue(queue_id: u32) -> Result<Vec<u8>, Error> {
    call_for_bytes(|data, size| env::safe::proxy_dequeue_shared_queue(queue_id, data, size))
}

/// Removes the oldest item of queue `queue_id` and runs `f` on it read in place, returning what `f`
/// returns: no copy, for a caller that only looks at the item. Errors: as [`dequeue`].
pub fn dequeue_with<T>(queue_id: u32, f: impl FnOnce(&[u8]) -> T) -> Result<T, Error> {
    // The buffer stays where the host writes it (not moved out of a `Result`).
    let mut item = HostBuffer::empty();
    let (data, size) = item.slots();
    check(env::safe::proxy_dequeue_shared_queue(queue_id, data, size))?;
    Ok(f(item.bytes()?))
}
