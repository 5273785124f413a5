//! An intset: a sorted array of integers at the narrowest width (2, 4 or 8 bytes) that holds
//! them all. Sets of integers (ids) are common, and this stores them in a few bytes each with
//! O(log n) membership. Redis: intset.c.

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct IntSet {
    /// Empty, or the width (bytes per element: 2, 4 or 8) followed by the elements. The
    /// width lives in the buffer so an intset is one Vec, which keeps `Value` (and so every
    /// keyspace slot) at 32 bytes.
    data: Vec<u8>,
}

/// Where the elements start (after the width byte).
const HEAD: usize = 1;

fn width_for(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

impl IntSet {
    pub fn new() -> IntSet {
        IntSet { data: Vec::new() }
    }

    /// Bytes per element (2 until something wider arrives).
    #[inline]
    fn width(&self) -> u8 {
        self.data.first().copied().unwrap_or(2)
    }

    pub fn len(&self) -> usize {
        self.data.len().saturating_sub(HEAD) / self.width() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.data.len() <= HEAD
    }

    pub fn bytes(&self) -> usize {
        self.data.capacity()
    }

    pub fn get(&self, i: usize) -> i64 {
        let w = self.width() as usize;
        let b = &self.data[HEAD + i * w..HEAD + (i + 1) * w];
        match w {
            2 => i16::from_le_bytes(b.try_into().unwrap()) as i64,
            4 => i32::from_le_bytes(b.try_into().unwrap()) as i64,
            _ => i64::from_le_bytes(b.try_into().unwrap()),
        }
    }

    fn put(&mut self, i: usize, v: i64) {
        let w = self.width() as usize;
        let b = &mut self.data[HEAD + i * w..HEAD + (i + 1) * w];
        match w {
            2 => b.copy_from_slice(&(v as i16).to_le_bytes()),
            4 => b.copy_from_slice(&(v as i32).to_le_bytes()),
            _ => b.copy_from_slice(&v.to_le_bytes()),
        }
    }

    /// Ok(position) if present, Err(insertion point) if not.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    fn upgrade(&mut self, width: u8) {
        let vals: Vec<i64> = self.iter().collect();
        self.data = vec![0; HEAD + vals.len() * width as usize];
        self.data[0] = width;
        for (i, v) in vals.into_iter().enumerate() {
            self.put(i, v);
        }
    }

    /// Adds `v`; false if it was already there.
    pub fn insert(&mut self, v: i64) -> bool {
        let w = width_for(v);
        if self.data.is_empty() {
            self.data.push(w.max(2));
        } else if w > self.width() {
            self.upgrade(w);
        }
        match self.search(v) {
            Ok(_) => false,
            Err(at) => {
                let wb = self.width() as usize;
                let tail = self.data.len();
                // Exact growth, as Redis's intsetResize: sets of ids are mostly small.
                self.data.reserve_exact(wb);
                self.data.resize(tail + wb, 0);
                self.data.copy_within(HEAD + at * wb..tail, HEAD + (at + 1) * wb);
                self.put(at, v);
                true
            }
        }
    }

    pub fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(at) => {
                let w = self.width() as usize;
                self.data.drain(HEAD + at * w..HEAD + (at + 1) * w);
                true
            }
            Err(_) => false,
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
}

// Property tests need proptest, which the wasm build does not carry.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in proptest::collection::vec((any::<bool>(), prop_oneof![-300i64..300, any::<i32>().prop_map(|v| v as i64), any::<i64>()]), 0..200)) {
            let mut s = IntSet::new();
            let mut m = std::collections::BTreeSet::new();
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(s.insert(v), m.insert(v));
                } else {
                    prop_assert_eq!(s.remove(v), m.remove(&v));
                }
                prop_assert_eq!(s.iter().collect::<Vec<_>>(), m.iter().copied().collect::<Vec<_>>());
            }
        }
    }
}
