//! A chained hash table with power-of-two bucket arrays: Redis's dict, minus incremental
//! rehashing. We keep our own table for the keyspace (rather than hashbrown) because SCAN's
//! guarantee needs it: with chaining, an entry's bucket is `hash & mask`, so a reverse-binary
//! cursor over bucket indexes visits every entry present for the whole scan even when the table
//! grows or shrinks between calls. Open addressing (hashbrown's SwissTable) moves entries by
//! probing and cannot promise that.
//!
//! Entries live densely in one Vec (the slab); buckets hold the head index of a chain threaded
//! through `next`. Removal swaps the last entry into the hole. Dense storage also gives O(1)
//! uniform random sampling, which RANDOMKEY, active expiry and eviction rely on.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;

const NIL: u32 = u32::MAX;

/// Slabs at least this long grow by a quarter and are shrunk by `shrink_if_sparse`.
const BIG: usize = 4096;

/// The seed of collection dicts (hash fields, set members, ...): one per process, drawn by
/// the engine from its seed, so bucket order is not predictable from outside.
static ELEMENT_SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0x243f_6a88_85a3_08d3);

pub fn set_element_seed(seed: u64) {
    ELEMENT_SEED.store(seed, std::sync::atomic::Ordering::Relaxed);
}

#[derive(Clone)]
struct Slot<K, V> {
    key: K,
    value: V,
    /// The low 32 bits of the key's hash: enough for the bucket (tables stay under 2^32
    /// slots) and a cheap filter before comparing keys, and 8 bytes less per slot than the
    /// full hash (a million keys save 8 MB).
    hash: u32,
    next: u32,
}

#[derive(Clone)]
pub struct Dict<K, V> {
    slots: Vec<Slot<K, V>>,
    buckets: Vec<u32>,
    hasher: FixedState,
}

impl<K: Hash + Eq, V> Dict<K, V> {
    pub fn with_seed(seed: u64) -> Self {
        Dict { slots: Vec::new(), buckets: Vec::new(), hasher: FixedState::with_seed(seed) }
    }

    /// A dict for a collection's elements (seeded by `set_element_seed`).
    pub fn new() -> Self {
        Dict::with_seed(ELEMENT_SEED.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn with_capacity(n: usize) -> Self {
        let mut d = Dict::new();
        d.slots.reserve_exact(n);
        d
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    #[inline]
    fn hash<Q: Hash + ?Sized>(&self, k: &Q) -> u32 {
        self.hasher.hash_one(k) as u32
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    fn find<Q>(&self, k: &Q) -> Option<usize>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.slots.is_empty() {
            return None;
        }
        let h = self.hash(k);
        let mut i = self.buckets[h as usize & self.mask()];
        while i != NIL {
            let s = &self.slots[i as usize];
            if s.hash == h && s.key.borrow() == k {
                return Some(i as usize);
            }
            i = s.next;
        }
        None
    }

    pub fn get<Q>(&self, k: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(k).map(|i| &self.slots[i].value)
    }

    pub fn get_mut<Q>(&mut self, k: &Q) -> Option<&mut V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(k).map(move |i| &mut self.slots[i].value)
    }

    pub fn get_key_value<Q>(&self, k: &Q) -> Option<(&K, &V)>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(k).map(|i| (&self.slots[i].key, &self.slots[i].value))
    }

    pub fn contains_key<Q>(&self, k: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(k).is_some()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        if let Some(i) = self.find(&k) {
            return Some(std::mem::replace(&mut self.slots[i].value, v));
        }
        self.insert_new(k, v);
        None
    }

    /// Inserts a key the caller knows is absent.
    pub fn insert_new(&mut self, k: K, v: V) {
        if self.slots.len() >= self.buckets.len() {
            self.resize((self.buckets.len() * 2).max(4));
        }
        // A big slab grows by a quarter, not by doubling: a keyspace just past a power of two
        // would otherwise hold almost twice the slots it needs.
        if self.slots.len() == self.slots.capacity() && self.slots.len() >= BIG {
            self.slots.reserve_exact(self.slots.len() / 4);
        }
        let h = self.hash(&k);
        let b = h as usize & self.mask();
        let idx = self.slots.len() as u32;
        self.slots.push(Slot { key: k, value: v, hash: h, next: self.buckets[b] });
        self.buckets[b] = idx;
    }

    pub fn remove<Q>(&mut self, k: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry(k).map(|(_, v)| v)
    }

    pub fn remove_entry<Q>(&mut self, k: &Q) -> Option<(K, V)>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let i = self.find(k)?;
        let r = self.remove_at(i);
        // Shrink when under 1/8 full, as Redis resizes below 10% fill (htNeedsResize).
        if self.buckets.len() > 4 && self.slots.len() * 8 < self.buckets.len() {
            self.resize((self.slots.len().next_power_of_two() * 2).max(4));
        }
        Some(r)
    }

    fn unlink(&mut self, i: usize) {
        let b = self.slots[i].hash as usize & self.mask();
        let next = self.slots[i].next;
        if self.buckets[b] == i as u32 {
            self.buckets[b] = next;
            return;
        }
        let mut j = self.buckets[b];
        while self.slots[j as usize].next != i as u32 {
            j = self.slots[j as usize].next;
        }
        self.slots[j as usize].next = next;
    }

    fn remove_at(&mut self, i: usize) -> (K, V) {
        self.unlink(i);
        let last = self.slots.len() - 1;
        if i != last {
            // The last slot moves into the hole: repoint whoever links to it.
            let b = self.slots[last].hash as usize & self.mask();
            if self.buckets[b] == last as u32 {
                self.buckets[b] = i as u32;
            } else {
                let mut j = self.buckets[b];
                while self.slots[j as usize].next != last as u32 {
                    j = self.slots[j as usize].next;
                }
                self.slots[j as usize].next = i as u32;
            }
        }
        let s = self.slots.swap_remove(i);
        (s.key, s.value)
    }

    fn resize(&mut self, n: usize) {
        self.buckets.clear();
        self.buckets.resize(n, NIL);
        let mask = n - 1;
        for (i, s) in self.slots.iter_mut().enumerate() {
            let b = s.hash as usize & mask;
            s.next = self.buckets[b];
            self.buckets[b] = i as u32;
        }
    }

    /// Bytes of slab allocated for slots not in use: free for the next inserts, so eviction
    /// does not count them as held (see `evict::not_counted`).
    pub fn spare_bytes(&self) -> usize {
        (self.slots.capacity() - self.slots.len()) * std::mem::size_of::<Slot<K, V>>()
    }

    /// Gives back a big slab's unused half (Redis's cron resizes dicts too): deleting keys
    /// frees their slots only for reuse, so without this memory would not come down after
    /// mass deletes or a lower maxmemory. Run from the host's tick, never per command, so
    /// a delete-insert rhythm does not shrink and regrow.
    pub fn shrink_if_sparse(&mut self) {
        let cap = self.slots.capacity();
        if cap >= BIG && self.slots.len() < cap / 2 {
            let len = self.slots.len();
            self.slots.shrink_to(len + len / 8);
        }
    }

    /// Gives back nearly all unused slab (a host over maxmemory wants its memory back now).
    pub fn shrink_spare(&mut self) {
        let len = self.slots.len();
        if self.slots.capacity() > len + len / 16 + 16 {
            self.slots.shrink_to(len + len / 16);
        }
    }

    /// An empty dict hashing as this one does.
    pub fn empty_like(&self) -> Self {
        Dict { slots: Vec::new(), buckets: Vec::new(), hasher: self.hasher }
    }

    pub fn clear(&mut self) {
        self.slots = Vec::new();
        self.buckets = Vec::new();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.slots.iter().map(|s| (&s.key, &s.value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.slots.iter().map(|s| &s.key)
    }

    /// The entry at a dense position `0..len()`: uniform random sampling in O(1).
    pub fn entry_at(&self, i: usize) -> (&K, &V) {
        let s = &self.slots[i];
        (&s.key, &s.value)
    }

    /// Visits one bucket (or, if the table is tiny, all of it) and returns the next cursor;
    /// 0 means the scan is complete. Redis's dictScan reverse-binary increment.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&K, &V)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = self.mask() as u64;
        let mut i = self.buckets[(cursor & mask) as usize];
        while i != NIL {
            let s = &self.slots[i as usize];
            f(&s.key, &s.value);
            i = s.next;
        }
        // Set the unmasked bits so the increment carries into the masked ones, then
        // increment the reversed cursor.
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// Keeps the entries for which `keep` is true (FLUSHDB of a filtered set, expiry sweeps).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let mut i = 0;
        while i < self.slots.len() {
            let s = &mut self.slots[i];
            if keep(&s.key, &mut s.value) {
                i += 1;
            } else {
                self.remove_at(i);
            }
        }
    }

    /// Bytes of the table's own structure (not keys' or values' heap), for INFO memory.
    pub fn overhead(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot<K, V>>() + self.buckets.capacity() * 4
    }
}

impl<K: Hash + Eq, V> Default for Dict<K, V> {
    fn default() -> Self {
        Dict::new()
    }
}

impl<K: Hash + Eq + std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for Dict<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn big_slabs_grow_by_a_quarter_and_give_back_their_unused_half() {
        let mut d: Dict<u64, u64> = Dict::new();
        for i in 0..(1u64 << 16) + 1 {
            d.insert_new(i, i);
        }
        // Doubling would leave 2^17 slots for 2^16 + 1 keys.
        assert!(d.slots.capacity() <= (1 << 16) + (1 << 14) + 1, "{}", d.slots.capacity());
        for i in 0..60_000u64 {
            d.remove(&i);
        }
        assert!(d.spare_bytes() > 60_000 * std::mem::size_of::<Slot<u64, u64>>() - 1);
        d.shrink_if_sparse();
        assert!(d.slots.capacity() < 7_000, "{}", d.slots.capacity());
        assert_eq!(d.len(), (1 << 16) + 1 - 60_000);
        assert!((60_000u64..(1 << 16) + 1).all(|i| d.get(&i) == Some(&i)));
    }

    #[test]
    fn behaves_like_a_map_under_random_operations() {
        let mut d: Dict<u32, u32> = Dict::with_seed(7);
        let mut model = BTreeMap::new();
        let mut rng = crate::util::Rng::new(1);
        for _ in 0..20000 {
            let k = rng.below(500) as u32;
            match rng.below(3) {
                0 | 1 => assert_eq!(d.insert(k, k * 2), model.insert(k, k * 2)),
                _ => assert_eq!(d.remove(&k), model.remove(&k)),
            }
            assert_eq!(d.len(), model.len());
        }
        for (k, v) in &model {
            assert_eq!(d.get(k), Some(v));
        }
    }

    #[test]
    fn scan_returns_every_element_present_throughout_despite_resizes() {
        let mut d: Dict<u32, ()> = Dict::with_seed(3);
        for k in 0..1000 {
            d.insert(k, ());
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        let mut step = 0u32;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(*k);
            });
            step += 1;
            // Grow, then shrink the table while the scan is running.
            if step == 50 {
                for k in 1000..5000 {
                    d.insert(k, ());
                }
            }
            if step == 300 {
                for k in 1000..5000 {
                    d.remove(&k);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for k in 0..1000 {
            assert!(seen.contains(&k), "missed {}", k);
        }
    }
}
