//! A key as the keyspace stores it. Most keys are short (`user:1234`, `session:ab12...`), so
//! keys of up to 22 bytes live inside the dict slot and longer ones in one exact-size box:
//! 24 bytes in the slot and no allocation for a short key, where a `Bytes` handle took 32
//! bytes plus a heap buffer. A million small keys hold about 22 MB less. The expires dict
//! keeps its own copy (free for inline keys).

/// Longest key kept inline.
pub const INLINE: usize = 22;

#[derive(Clone)]
pub enum Key {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

const _: () = assert!(std::mem::size_of::<Key>() == 24);

impl Key {
    pub fn new(b: &[u8]) -> Key {
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            Key::Inline { len: b.len() as u8, buf }
        } else {
            Key::Heap(b.into())
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Key::Inline { len, buf } => &buf[..*len as usize],
            Key::Heap(b) => b,
        }
    }

    /// Heap bytes beyond the slot (MEMORY USAGE, the estimate without an allocator).
    pub fn heap_size(&self) -> usize {
        match self {
            Key::Inline { .. } => 0,
            Key::Heap(b) => b.len(),
        }
    }
}

crate::ds::bytes_traits!(Key);

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    #[test]
    fn short_keys_are_inline_and_long_ones_boxed_with_one_hash() {
        for len in [0, 1, INLINE, INLINE + 1, 300] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let k = Key::new(&bytes);
            assert_eq!(&*k, &bytes[..]);
            assert_eq!(matches!(k, Key::Inline { .. }), len <= INLINE);
            let s = foldhash::fast::FixedState::with_seed(7);
            use std::hash::BuildHasher;
            assert_eq!(s.hash_one(&k), s.hash_one(&bytes[..]));
        }
    }
}
