//! Guest memory shared with the host: the allocator the host calls, and ownership of the buffers it
//! hands back.
//!
//! The allocator remembers its most recent allocations (address, size asked for, block size) in a small
//! table. A buffer the host hands back is accepted only if its address is one of them and the reported
//! length fits the size the host asked for; then it is read in place or becomes a `Vec` without a copy,
//! freed later with exactly the layout it was allocated with. Small requests get a block of one fixed
//! size, and the last such block the plugin is done with is kept for the next small request, so reading
//! a header value costs no trip through the general allocator. Anything else is an error, never an out-of-bounds read: a length beyond the
//! allocation frees the block (its layout is known); an address the allocator did not hand out is left
//! alone rather than freed with a guessed layout.

use crate::codec::DecodeError;
use std::alloc::{alloc, dealloc, Layout};
use std::cell::Cell;

/// How many unclaimed allocations are remembered: a hostcall hands back at most one buffer, so a few
/// entries absorb hosts that allocate and then fail. A power of two.
const RECENT: usize = 8;

/// Requests up to this many bytes get a block of exactly this size, so that a block the plugin is done
/// with can serve the next small request (most header values, property values and shared-data
/// entries) without a trip through the general allocator.
const SMALL: usize = 64;

/// One remembered allocation: address, size the host asked for, size of the block.
type Entry = (usize, usize, usize);

/// The remembered allocations, where the next one goes, and the spare small block.
struct Recent {
    entries: [Cell<Entry>; RECENT],
    next: Cell<usize>,
    /// A small block whose buffer was dropped, kept for the next small request (0: none).
    spare: Cell<usize>,
}

thread_local! {
    static ALLOCATIONS: Recent = const {
        Recent {
            entries: [const { Cell::new((0, 0, 0)) }; RECENT],
            next: Cell::new(0),
            spare: Cell::new(0),
        }
    };
}

fn layout(capacity: usize) -> Option<Layout> {
    Layout::from_size_align(capacity.max(1), 1).ok()
}

/// The block size used for a request of `size` bytes.
fn capacity_for(size: usize) -> usize {
    if size <= SMALL {
        SMALL
    } else {
        size
    }
}

fn remember(ptr: *mut u8, size: usize, capacity: usize) {
    ALLOCATIONS.with(|recent| {
        // Always below `RECENT`; said again so the index needs no bounds check.
        let next = recent.next.get() % RECENT;
        recent.entries[next].set((ptr as usize, size, capacity));
        recent.next.set((next + 1) % RECENT);
    });
}

/// Claims the remembered allocation at `ptr` if there is one and `len` bytes fit in what the host
/// asked for: removes it from the table and answers its block size (never 0); 0 when refused. A
/// refused buffer stays in the table (so dropping it still frees it). The scan starts at the most
/// recent allocation.
fn claim(ptr: *mut u8, len: usize) -> usize {
    ALLOCATIONS.with(|recent| {
        let newest = recent.next.get() + RECENT - 1;
        // The host hands back the block it allocated last: found on the first probe.
        let first = &recent.entries[newest % RECENT];
        let entry = if first.get().0 == ptr as usize {
            first
        } else {
            let Some(entry) = (1..RECENT)
                .map(|age| &recent.entries[(newest - age) % RECENT])
                .find(|entry| entry.get().0 == ptr as usize)
            else {
                return 0;
            };
            entry
        };
        let (_, size, capacity) = entry.get();
        if len > size {
            return 0;
        }
        entry.set((0, 0, 0));
        capacity
    })
}

/// Gives a claimed block back: kept as the spare when it is a small one and there is none, else freed.
fn release(ptr: *mut u8, capacity: usize) {
    #[cfg(test)]
    FREED.with(|n| n.set(n.get() + 1));
    let kept = capacity == SMALL
        && ALLOCATIONS.with(|recent| {
            if recent.spare.get() != 0 {
                return false;
            }
            recent.spare.set(ptr as usize);
            true
        });
    if !kept {
        if let Some(layout) = layout(capacity) {
            // SAFETY: allocated by `allocate` with this layout and not freed since (claimed once).
            unsafe { dealloc(ptr, layout) };
        }
    }
}

#[cfg(test)]
thread_local! {
    /// How many host buffers were given back (freed or kept as the spare), for the leak tests.
    static FREED: Cell<usize> = const { Cell::new(0) };
}

/// Allocates `size` bytes for the host to fill; returns null when memory is exhausted.
pub fn allocate(size: usize) -> *mut u8 {
    let capacity = capacity_for(size);
    let spare = if capacity == SMALL {
        ALLOCATIONS.with(|recent| recent.spare.replace(0))
    } else {
        0
    };
    let ptr = if spare != 0 {
        spare as *mut u8
    } else {
        let Some(layout) = layout(capacity) else {
            return core::ptr::null_mut();
        };
        // SAFETY: the layout has a non-zero size.
        unsafe { alloc(layout) }
    };
    if !ptr.is_null() {
        remember(ptr, size, capacity);
    }
    ptr
}

/// What [`HostBuffer::claimed`] answers for a refused buffer (no block is this large: a layout's size
/// is at most `isize::MAX`).
const REFUSED: usize = usize::MAX;

/// A buffer the host hands back through a pair of out-pointers; freed on drop.
pub(crate) struct HostBuffer {
    ptr: *mut u8,
    len: usize,
    /// The block size once the buffer is checked and claimed from the allocation table (0 before).
    capacity: Cell<usize>,
}

impl HostBuffer {
    /// An empty buffer whose out-pointers a hostcall fills.
    pub(crate) fn empty() -> Self {
        HostBuffer {
            ptr: core::ptr::null_mut(),
            len: 0,
            capacity: Cell::new(0),
        }
    }

    /// The slots as raw out-pointers, as the host writes them (tests write through them).
    #[cfg(test)]
    pub(crate) fn out_pointers(&mut self) -> (*mut *mut u8, *mut usize) {
        (&mut self.ptr, &mut self.len)
    }

    /// The slots a hostcall writes the buffer's address and length into (its safe wrapper takes them).
    pub(crate) fn slots(&mut self) -> (&mut *mut u8, &mut usize) {
        (&mut self.ptr, &mut self.len)
    }

    /// Checks the host's address and length against the allocation table and claims the block: its
    /// size, or 0 for no buffer at all (a claimed block's size is never 0).
    #[inline(always)]
    fn checked(&self) -> Result<usize, DecodeError> {
        match self.claimed() {
            REFUSED => Err(DecodeError::BadBuffer),
            capacity => Ok(capacity),
        }
    }

    /// [`HostBuffer::checked`] answered in one word (no result through memory): [`REFUSED`] for a
    /// buffer the allocation table does not vouch for.
    #[inline(never)]
    fn claimed(&self) -> usize {
        if self.ptr.is_null() {
            return if self.len == 0 { 0 } else { REFUSED };
        }
        if self.capacity.get() != 0 {
            return self.capacity.get();
        }
        match claim(self.ptr, self.len) {
            0 => REFUSED,
            capacity => {
                self.capacity.set(capacity);
                capacity
            }
        }
    }

    /// The bytes, after checking the host's address and length against the allocation.
    #[inline(always)]
    pub(crate) fn bytes(&self) -> Result<&[u8], DecodeError> {
        match self.checked()? {
            0 => Ok(&[]),
            // SAFETY: `ptr` is a live allocation of at least `len` bytes made by `allocate`, which
            // the host filled.
            _ => Ok(unsafe { core::slice::from_raw_parts(self.ptr, self.len) }),
        }
    }

    /// The bytes as a `Vec`, taking over the allocation without copying.
    pub(crate) fn into_vec(mut self) -> Result<Vec<u8>, DecodeError> {
        let capacity = self.checked()?;
        if capacity == 0 {
            return Ok(Vec::new());
        }
        let ptr = core::mem::replace(&mut self.ptr, core::ptr::null_mut());
        // SAFETY: `ptr` was allocated by `allocate` with layout (capacity.max(1), 1), which is the
        // layout a `Vec<u8>` of that capacity frees with; `len` bytes (no more than the host asked
        // for) were written by the host.
        Ok(unsafe { Vec::from_raw_parts(ptr, self.len, capacity.max(1)) })
    }
}

impl Drop for HostBuffer {
    fn drop(&mut self) {
        if self.ptr.is_null() {
            return;
        }
        let capacity = match self.capacity.get() {
            // Length 0 always fits: a remembered block is claimed here, whatever the host reported.
            0 => claim(self.ptr, 0),
            claimed => claimed,
        };
        if capacity != 0 {
            release(self.ptr, capacity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_frees() {
        let p = allocate(5);
        assert!(!p.is_null());
        unsafe { core::ptr::copy_nonoverlapping(b"hello".as_ptr(), p, 5) };
        let mut b = HostBuffer::empty();
        let (data, len) = b.out_pointers();
        unsafe {
            *data = p;
            *len = 5;
        }
        assert_eq!(b.bytes().unwrap(), b"hello");
    }

    #[test]
    fn into_vec_takes_the_allocation_and_a_foreign_address_is_refused() {
        let p = allocate(5);
        unsafe { core::ptr::copy_nonoverlapping(b"hello".as_ptr(), p, 5) };
        let mut b = HostBuffer::empty();
        let (data, len) = b.out_pointers();
        unsafe {
            *data = p;
            *len = 4;
        }
        assert_eq!(b.into_vec().unwrap(), b"hell");
        let mut local = [0u8; 4];
        let mut foreign = HostBuffer::empty();
        let (data, len) = foreign.out_pointers();
        unsafe {
            *data = local.as_mut_ptr();
            *len = 4;
        }
        assert_eq!(foreign.bytes(), Err(DecodeError::BadBuffer));
        assert_eq!(foreign.into_vec(), Err(DecodeError::BadBuffer));
    }

    #[test]
    fn a_buffer_refused_for_its_length_is_still_freed() {
        for into_vec in [true, false] {
            let freed = FREED.with(Cell::get);
            let mut b = HostBuffer::empty();
            let (data, len) = b.out_pointers();
            unsafe {
                *data = allocate(3);
                *len = 4096;
            }
            if into_vec {
                assert_eq!(b.into_vec(), Err(DecodeError::BadBuffer));
            } else {
                assert_eq!(b.bytes(), Err(DecodeError::BadBuffer));
                drop(b);
            }
            assert_eq!(FREED.with(Cell::get), freed + 1, "into_vec: {into_vec}");
        }
    }

    #[test]
    fn zero_sized_allocations_are_not_null() {
        assert!(!allocate(0).is_null());
        let mut b = HostBuffer::empty();
        let (data, _) = b.out_pointers();
        unsafe { *data = allocate(0) };
        assert_eq!(b.bytes().unwrap(), b"");
    }

    #[test]
    fn an_overlong_length_is_an_error_not_a_read() {
        let mut b = HostBuffer::empty();
        let (data, len) = b.out_pointers();
        unsafe {
            *data = allocate(3);
            *len = 4096;
        }
        assert_eq!(b.bytes(), Err(DecodeError::BadBuffer));
        let mut null = HostBuffer::empty();
        let (_, len) = null.out_pointers();
        unsafe { *len = 3 };
        assert_eq!(null.bytes(), Err(DecodeError::BadBuffer));
    }

    #[test]
    fn a_small_block_read_in_place_serves_the_next_small_request_with_its_own_bounds() {
        let fill = |p: *mut u8, bytes: &[u8]| {
            let mut b = HostBuffer::empty();
            let (data, len) = b.out_pointers();
            unsafe {
                core::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
                *data = p;
                *len = bytes.len();
            }
            b
        };
        let first = allocate(10);
        let b = fill(first, b"0123456789");
        assert_eq!(b.bytes().unwrap(), b"0123456789");
        drop(b);
        let second = allocate(3);
        assert_eq!(second, first, "the dropped block is reused");
        // The host asked for 3 bytes: a longer length is refused though the block is larger.
        let mut b = HostBuffer::empty();
        let (data, len) = b.out_pointers();
        unsafe {
            *data = second;
            *len = 10;
        }
        assert_eq!(b.bytes(), Err(DecodeError::BadBuffer));
        drop(b);
        // Freed (kept as the spare again) though refused; and a block taken as a Vec is not reused.
        let third = allocate(2);
        assert_eq!(third, first);
        let v = fill(third, b"ab").into_vec().unwrap();
        assert_eq!(v, b"ab");
        assert_ne!(allocate(1), third);
        drop(v);
        // A large request gets a block of its own size.
        let large = allocate(1000);
        let b = fill(large, &[7; 1000]);
        assert_eq!(b.into_vec().unwrap().len(), 1000);
    }
}
