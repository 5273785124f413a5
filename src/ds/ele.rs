//! An element of a big hash, set or sorted set (Redis's `ele`): immutable bytes in a 16-byte
//! handle. Most fields, members and small values are short (`field:1234`, `user:42`, `v7`),
//! so up to 15 bytes live inside the handle and cost nothing beyond the table slot; a longer
//! one is one exact-size heap block, shared by clones through a reference count so a sorted
//! set's dict and index hold one copy of each member.
//!
//! A `Box<[u8]>` took 16 bytes in the slot plus a heap block (at least 32 bytes from the
//! system allocator) for every element, and an `Arc<[u8]>` 16 more for its counts: a
//! million-field hash held about 64 MB of element blocks that now sit in its slots.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicU32, Ordering};

/// Longest element kept inside the handle.
pub const INLINE: usize = 15;

/// The first byte of a heap handle; an inline handle's first byte is its length (≤ 15).
const HEAP: u8 = 0xFF;

/// Heap blocks start with the reference count; the bytes follow.
const HEADER: usize = std::mem::size_of::<AtomicU32>();

#[derive(Clone, Copy)]
#[repr(C)]
struct Heap {
    /// Byte 0 is `HEAP`, bytes 1..8 the length (little-endian, 56 bits).
    word: [u8; 8],
    block: NonNull<u8>,
}

#[repr(C)]
union Repr {
    /// Byte 0 is the length, bytes 1..=len the element.
    inline: [u8; 16],
    heap: Heap,
}

pub struct Ele(Repr);

const _: () = assert!(std::mem::size_of::<Ele>() == 16);

// SAFETY: the heap bytes are never written after construction and the count is atomic, so
// handles may move between threads and be shared like `Arc<[u8]>`.
unsafe impl Send for Ele {}
unsafe impl Sync for Ele {}

fn layout(len: usize) -> Layout {
    Layout::from_size_align(HEADER + len, std::mem::align_of::<AtomicU32>()).expect("element length fits a layout")
}

impl Ele {
    pub fn new(b: &[u8]) -> Ele {
        if b.len() <= INLINE {
            let mut inline = [0u8; 16];
            inline[0] = b.len() as u8;
            inline[1..=b.len()].copy_from_slice(b);
            return Ele(Repr { inline });
        }
        let l = layout(b.len());
        // SAFETY: the layout is non-zero-sized (it has a header); the block is initialised
        // (count, then bytes) before the handle exists.
        let block = unsafe {
            let p = alloc(l);
            let Some(p) = NonNull::new(p) else { handle_alloc_error(l) };
            p.cast::<AtomicU32>().as_ptr().write(AtomicU32::new(1));
            std::ptr::copy_nonoverlapping(b.as_ptr(), p.as_ptr().add(HEADER), b.len());
            p
        };
        let mut word = (b.len() as u64).to_le_bytes();
        word.rotate_right(1);
        word[0] = HEAP;
        let mut r = Repr { inline: [0u8; 16] };
        r.heap = Heap { word, block };
        Ele(r)
    }

    #[inline]
    fn heap(&self) -> Option<(usize, NonNull<u8>)> {
        // SAFETY: byte 0 is initialised in both forms and tells them apart.
        unsafe {
            if self.0.inline[0] != HEAP {
                return None;
            }
            let h = self.0.heap;
            let mut w = h.word;
            w[0] = 0;
            w.rotate_left(1);
            Some((u64::from_le_bytes(w) as usize, h.block))
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self.heap() {
            // SAFETY: the block holds `len` bytes after the header and lives as long as a
            // handle to it does.
            Some((len, block)) => unsafe { std::slice::from_raw_parts(block.as_ptr().add(HEADER), len) },
            // SAFETY: an inline handle's first byte is a length of at most 15.
            None => unsafe { &self.0.inline[1..=self.0.inline[0] as usize] },
        }
    }

    /// Heap bytes beyond the handle (MEMORY USAGE). A shared block is counted by each
    /// holder; the zset counts its members once itself.
    pub fn heap_size(&self) -> usize {
        self.heap().map_or(0, |(len, _)| HEADER + len)
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.as_slice().to_vec()
    }
}

impl Clone for Ele {
    fn clone(&self) -> Ele {
        if let Some((_, block)) = self.heap() {
            // SAFETY: the block is live while `self` is.
            let refs = unsafe { block.cast::<AtomicU32>().as_ref() };
            if refs.fetch_add(1, Ordering::Relaxed) > u32::MAX / 2 {
                // Billions of handles to one block (only leaking ones could get here): a
                // copy of its own instead of a count that could wrap.
                refs.fetch_sub(1, Ordering::Relaxed);
                return Ele::new(self.as_slice());
            }
        }
        // SAFETY: both forms are plain bytes; the count now covers the copy.
        Ele(unsafe { std::ptr::read(&self.0) })
    }
}

impl Drop for Ele {
    fn drop(&mut self) {
        if let Some((len, block)) = self.heap() {
            // SAFETY: the block is live until the last handle drops; the acquire fence
            // orders every other holder's reads before the free (Arc's protocol).
            unsafe {
                if block.cast::<AtomicU32>().as_ref().fetch_sub(1, Ordering::Release) == 1 {
                    fence(Ordering::Acquire);
                    dealloc(block.as_ptr(), layout(len));
                }
            }
        }
    }
}

impl From<&[u8]> for Ele {
    fn from(b: &[u8]) -> Ele {
        Ele::new(b)
    }
}

impl From<Vec<u8>> for Ele {
    fn from(b: Vec<u8>) -> Ele {
        Ele::new(&b)
    }
}

super::bytes_traits!(Ele);

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    #[test]
    fn short_elements_are_inline_long_ones_shared_and_all_hash_as_bytes() {
        for len in [0, 1, INLINE, INLINE + 1, 300, 70_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let e = Ele::new(&bytes);
            assert_eq!(&*e, &bytes[..]);
            assert_eq!(e.heap_size() == 0, len <= INLINE);
            let s = foldhash::fast::FixedState::with_seed(7);
            use std::hash::BuildHasher;
            assert_eq!(s.hash_one(&e), s.hash_one(&bytes[..]));
            let c = e.clone();
            drop(e);
            assert_eq!(&*c, &bytes[..]);
            assert_eq!(c, Ele::from(bytes.clone()));
        }
    }

    #[test]
    fn the_last_handle_frees_the_block() {
        let mut copies: Vec<Ele> = Vec::with_capacity(10);
        let before = crate::alloc::live_bytes();
        {
            let e = Ele::new(&[b'x'; 1000]);
            assert_eq!(crate::alloc::live_bytes() - before, (HEADER + 1000) as u64);
            copies.extend((0..10).map(|_| e.clone()));
            assert_eq!(crate::alloc::live_bytes() - before, (HEADER + 1000) as u64);
            drop(e);
            assert!(copies.iter().all(|c| c.len() == 1000));
        }
        assert_eq!(crate::alloc::live_bytes() - before, (HEADER + 1000) as u64);
        copies.clear();
        assert_eq!(crate::alloc::live_bytes(), before);
    }
}
