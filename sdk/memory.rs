//! Guest memory shared with the host: the allocator the host calls, and ownership of the buffers it
//! hands back.
//!
//! Every allocation carries an 8-byte header holding its size, so a buffer the host returns is freed with
//! exactly the layout it was allocated with, whatever length the host reports, and a reported length
//! larger than the allocation is caught instead of read out of bounds.

use crate::codec::DecodeError;
use std::alloc::{alloc, dealloc, Layout};

const HEADER: usize = 8;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, HEADER).ok()
}

/// Allocates `size` bytes for the host to fill; returns null when memory is exhausted.
pub fn allocate(size: usize) -> *mut u8 {
    let Some(layout) = layout(size) else {
        return core::ptr::null_mut();
    };
    // SAFETY: the layout has a non-zero size (it includes the header).
    unsafe {
        let base = alloc(layout);
        if base.is_null() {
            return base;
        }
        (base as *mut u64).write(size as u64);
        base.add(HEADER)
    }
}

/// A buffer the host allocated through [`allocate`] and handed back; freed when dropped.
pub(crate) struct HostBuffer {
    ptr: *mut u8,
    len: usize,
}

impl HostBuffer {
    /// An empty buffer, for out-pointers to start from.
    pub(crate) fn empty() -> Self {
        HostBuffer {
            ptr: core::ptr::null_mut(),
            len: 0,
        }
    }

    /// Out-pointers for a hostcall to fill.
    pub(crate) fn out_pointers(&mut self) -> (*mut *mut u8, *mut usize) {
        (&mut self.ptr, &mut self.len)
    }

    /// The bytes, or an error when the reported length exceeds what was allocated.
    pub(crate) fn bytes(&self) -> Result<&[u8], DecodeError> {
        if self.ptr.is_null() {
            return if self.len == 0 {
                Ok(&[])
            } else {
                Err(DecodeError::BadBuffer)
            };
        }
        // SAFETY: non-null pointers in a HostBuffer come from `allocate`, whose header holds the size.
        let allocated = unsafe { (self.ptr.sub(HEADER) as *const u64).read() } as usize;
        if self.len > allocated {
            return Err(DecodeError::BadBuffer);
        }
        // SAFETY: `len` bytes lie within the allocation.
        Ok(unsafe { core::slice::from_raw_parts(self.ptr, self.len) })
    }

    /// The bytes as an owned vector.
    pub(crate) fn to_vec(&self) -> Result<Vec<u8>, DecodeError> {
        self.bytes().map(<[u8]>::to_vec)
    }
}

impl Drop for HostBuffer {
    fn drop(&mut self) {
        if self.ptr.is_null() {
            return;
        }
        // SAFETY: the pointer came from `allocate`, and the header holds the size it was allocated with.
        unsafe {
            let base = self.ptr.sub(HEADER);
            let size = (base as *const u64).read() as usize;
            if let Some(layout) = layout(size) {
                dealloc(base, layout);
            }
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
