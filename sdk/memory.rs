//! Guest memory shared with the host: the allocator the host calls, and ownership of the buffers it
//! hands back.
//!
//! The allocator remembers its most recent allocations (address and size) in a small table. A buffer the
//! host hands back is accepted only if its address is one of them and the reported length fits the
//! allocation; then it becomes a `Vec` without a copy, freed later with exactly the layout it was
//! allocated with. Anything else is an error, never an out-of-bounds read: a length beyond the
//! allocation frees the block (its layout is known); an address the allocator did not hand out is left
//! alone rather than freed with a guessed layout.

use crate::codec::DecodeError;
use std::alloc::{alloc, dealloc, Layout};
use std::cell::Cell;

/// How many unclaimed allocations are remembered: a hostcall hands back at most one buffer, so a few
/// entries absorb hosts that allocate and then fail.
const RECENT: usize = 8;

/// The remembered allocations (address, size), and where the next one goes.
struct Recent {
    entries: [Cell<(usize, usize)>; RECENT],
    next: Cell<usize>,
}

thread_local! {
    static ALLOCATIONS: Recent = const {
        Recent {
            entries: [const { Cell::new((0, 0)) }; RECENT],
            next: Cell::new(0),
        }
    };
}

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.max(1), 1).ok()
}

fn remember(ptr: *mut u8, size: usize) {
    ALLOCATIONS.with(|recent| {
        let next = recent.next.get();
        recent.entries[next].set((ptr as usize, size));
        recent.next.set((next + 1) % RECENT);
    });
}

/// The size of the remembered allocation at `ptr`, if there is one and `len` bytes fit in it; the entry
/// is removed from the table when `claim` is set and the length fits (a refused buffer stays, so `Drop`
/// still frees it). One scan of the table does the lookup, the check and the claim.
fn allocation_size(ptr: *mut u8, len: usize, claim: bool) -> Option<usize> {
    ALLOCATIONS.with(|recent| {
        let entry = recent
            .entries
            .iter()
            .find(|entry| entry.get().0 == ptr as usize)?;
        let size = entry.get().1;
        if len > size {
            return None;
        }
        if claim {
            entry.set((0, 0));
        }
        Some(size)
    })
}

#[cfg(test)]
thread_local! {
    /// How many host buffers `Drop` gave back to the allocator (for the leak tests).
    static FREED: Cell<usize> = const { Cell::new(0) };
}

/// Allocates `size` bytes for the host to fill; returns null when memory is exhausted.
pub fn allocate(size: usize) -> *mut u8 {
    let Some(layout) = layout(size) else {
        return core::ptr::null_mut();
    };
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { alloc(layout) };
    if !ptr.is_null() {
        remember(ptr, size);
    }
    ptr
}

/// A buffer the host hands back through a pair of out-pointers; freed on drop.
pub(crate) struct HostBuffer {
    ptr: *mut u8,
    len: usize,
}

impl HostBuffer {
    /// An empty buffer whose out-pointers a hostcall fills.
    pub(crate) fn empty() -> Self {
        HostBuffer {
            ptr: core::ptr::null_mut(),
            len: 0,
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

    fn checked(&self, claim: bool) -> Result<Option<usize>, DecodeError> {
        if self.ptr.is_null() {
            return if self.len == 0 {
                Ok(None)
            } else {
                Err(DecodeError::BadBuffer)
            };
        }
        match allocation_size(self.ptr, self.len, claim) {
            Some(size) => Ok(Some(size)),
            None => Err(DecodeError::BadBuffer),
        }
    }

    /// The bytes, after checking the host's address and length against the allocation.
    pub(crate) fn bytes(&self) -> Result<&[u8], DecodeError> {
        match self.checked(false)? {
            None => Ok(&[]),
            // SAFETY: `ptr` is a live allocation of at least `len` bytes made by `allocate`.
            Some(_) => Ok(unsafe { core::slice::from_raw_parts(self.ptr, self.len) }),
        }
    }

    /// The bytes as a `Vec`, taking over the allocation without copying.
    pub(crate) fn into_vec(mut self) -> Result<Vec<u8>, DecodeError> {
        let Some(size) = self.checked(true)? else {
            return Ok(Vec::new());
        };
        let ptr = core::mem::replace(&mut self.ptr, core::ptr::null_mut());
        // SAFETY: `ptr` was allocated by `allocate` with layout (size.max(1), 1), which is the layout a
        // `Vec<u8>` of that capacity frees with; `len <= size` bytes were written by the host.
        Ok(unsafe { Vec::from_raw_parts(ptr, self.len, size.max(1)) })
    }
}

impl Drop for HostBuffer {
    fn drop(&mut self) {
        if self.ptr.is_null() {
            return;
        }
        // Length 0 always fits: a remembered block is claimed here, whatever the host reported.
        if let Some(layout) = allocation_size(self.ptr, 0, true).and_then(layout) {
            // SAFETY: allocated by `allocate` with this layout and not freed since (claimed once).
            unsafe { dealloc(self.ptr, layout) };
            #[cfg(test)]
            FREED.with(|n| n.set(n.get() + 1));
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
}
