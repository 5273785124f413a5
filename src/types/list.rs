//! The list type: a quicklist, i.e. a deque of listpack nodes, each bounded by
//! list-max-listpack-size (a count when positive, 4/8/16/32/64 KB for -1..-5). Redis 7.0
//! reports every list as `quicklist`. Redis: quicklist.c, t_list.c (type half).

use std::collections::VecDeque;

use bytes::Bytes;

use crate::ds::listpack::{Listpack, LpVal, Probe};

/// A node's bound when the fill is a count: Redis's SIZE_SAFETY_LIMIT keeps a node of many
/// large elements from growing without limit.
const SAFETY_BYTES: usize = 8192;

/// Elements this large or larger live alone in their node, never merged with others (Redis's
/// plain nodes, quicklist.c's packed_threshold: 1 GB, process-wide as in Redis, changed only
/// by DEBUG QUICKLIST-PACKED-THRESHOLD).
static PACKED_THRESHOLD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(DEFAULT_PACKED_THRESHOLD);
const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;

/// quicklistisSetPackedThreshold: 0 restores the default; above 4 GB - 1 MB is refused.
pub fn set_packed_threshold(bytes: u64) -> bool {
    if bytes > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let v = if bytes == 0 { DEFAULT_PACKED_THRESHOLD } else { bytes as usize };
    PACKED_THRESHOLD.store(v, std::sync::atomic::Ordering::Relaxed);
    true
}

/// The size from which an element is large (a plain node), as set now.
pub fn packed_threshold() -> usize {
    PACKED_THRESHOLD.load(std::sync::atomic::Ordering::Relaxed)
}

fn is_large(len: usize) -> bool {
    len >= packed_threshold()
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    nodes: VecDeque<Listpack>,
    len: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    Head,
    Tail,
}

impl List {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes head to tail: RDB saves a quicklist node by node.
    pub fn nodes(&self) -> impl Iterator<Item = &Listpack> {
        self.nodes.iter()
    }

    pub fn mem_usage(&self) -> usize {
        self.nodes.iter().map(|n| n.capacity() + std::mem::size_of::<Listpack>()).sum()
    }

    fn fits(node: &Listpack, extra: usize, fill: i64) -> bool {
        // A large element gets a node of its own, and keeps it to itself.
        if is_large(extra) || (node.len() == 1 && node.first().is_some_and(|o| is_large(node.get(o).len()))) {
            return false;
        }
        let bytes = node.bytes() + extra + 6;
        if fill >= 0 {
            (node.len() as i64) < fill.max(1) && bytes <= SAFETY_BYTES
        } else {
            let limit = 4096usize << ((-fill).clamp(1, 5) - 1);
            bytes <= limit
        }
    }

    pub fn push(&mut self, end: End, v: &[u8], fill: i64) {
        let target = match end {
            End::Head => self.nodes.front_mut(),
            End::Tail => self.nodes.back_mut(),
        };
        match target {
            Some(n) if Self::fits(n, v.len(), fill) => match end {
                End::Head => n.push_front(v),
                End::Tail => n.push_back(v),
            },
            _ => {
                let mut n = Listpack::new();
                n.push_back(v);
                match end {
                    End::Head => self.nodes.push_front(n),
                    End::Tail => self.nodes.push_back(n),
                }
            }
        }
        self.len += 1;
    }

    pub fn pop(&mut self, end: End) -> Option<Bytes> {
        if self.nodes.is_empty() {
            return None;
        }
        let (i, n) = match end {
            End::Head => (0, self.nodes.front_mut()?),
            End::Tail => (self.nodes.len() - 1, self.nodes.back_mut()?),
        };
        let off = match end {
            End::Head => n.first()?,
            End::Tail => n.last()?,
        };
        let v = n.get(off).to_bytes();
        n.delete(off, 1);
        self.after_delete(i, 1);
        Some(v)
    }

    /// Drops node `i` if emptied and accounts for `removed` elements.
    fn after_delete(&mut self, i: usize, removed: usize) {
        self.len -= removed;
        if self.nodes[i].is_empty() {
            self.nodes.remove(i);
        }
    }

    /// (node, offset) of element `i` (0-based from the head), walking from the nearer end.
    fn locate(&self, i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        if i < self.len / 2 {
            let mut skip = i;
            for (ni, n) in self.nodes.iter().enumerate() {
                if skip < n.len() {
                    return Some((ni, n.seek(skip as i64)?));
                }
                skip -= n.len();
            }
        } else {
            let mut skip = self.len - 1 - i;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if skip < n.len() {
                    return Some((ni, n.seek(-(skip as i64) - 1)?));
                }
                skip -= n.len();
            }
        }
        None
    }

    /// Redis's index convention: negative counts from the tail.
    pub fn normalize(&self, i: i64) -> Option<usize> {
        let i = if i < 0 { self.len as i64 + i } else { i };
        (0..self.len as i64).contains(&i).then_some(i as usize)
    }

    pub fn get(&self, i: usize) -> Option<Bytes> {
        let (n, off) = self.locate(i)?;
        Some(self.nodes[n].get(off).to_bytes())
    }

    pub fn set(&mut self, i: usize, v: &[u8]) -> bool {
        match self.locate(i) {
            // A large value, or one replacing a large value, moves into a node of its own
            // (quicklistReplaceAtIndex with plain nodes).
            Some((n, off)) if self.nodes[n].len() > 1 && (is_large(v.len()) || is_large(self.nodes[n].get(off).len())) => {
                self.delete_range(i, 1);
                self.insert(i, v, 1);
                true
            }
            Some((n, off)) => {
                self.nodes[n].replace(off, v);
                true
            }
            None => false,
        }
    }

    /// Calls `f` for elements `start..=end` (already clamped) from the head.
    pub fn range(&self, start: usize, end: usize, mut f: impl FnMut(LpVal)) {
        let Some((mut ni, mut off)) = self.locate(start) else { return };
        for _ in start..=end {
            let n = &self.nodes[ni];
            f(n.get(off));
            match n.next(off) {
                Some(o) => off = o,
                None => {
                    ni += 1;
                    match self.nodes.get(ni).and_then(|n| n.first()) {
                        Some(o) => off = o,
                        None => return,
                    }
                }
            }
        }
    }

    /// Every element from the head, or from the tail when `rev`.
    pub fn for_each(&self, rev: bool, mut f: impl FnMut(LpVal) -> bool) {
        if rev {
            for n in self.nodes.iter().rev() {
                let mut off = n.last();
                while let Some(o) = off {
                    if !f(n.get(o)) {
                        return;
                    }
                    off = n.prev(o);
                }
            }
        } else {
            for n in &self.nodes {
                for v in n.iter() {
                    if !f(v) {
                        return;
                    }
                }
            }
        }
    }

    /// Inserts `v` at position `i` (0..=len), splitting a full node.
    pub fn insert(&mut self, i: usize, v: &[u8], fill: i64) {
        if i == 0 {
            return self.push(End::Head, v, fill);
        }
        if i == self.len {
            return self.push(End::Tail, v, fill);
        }
        let (ni, off) = self.locate(i).expect("in range");
        if Self::fits(&self.nodes[ni], v.len(), fill) {
            self.nodes[ni].insert(off, v);
        } else {
            // Split the node at the insertion point; the element joins the head half's tail
            // if it fits there, else starts the tail half.
            let node = &mut self.nodes[ni];
            let mut tail = Listpack::new();
            let mut o = Some(off);
            while let Some(x) = o {
                tail.push_back(&node.get(x).to_vec());
                o = node.next(x);
            }
            let n = tail.len();
            node.delete(off, n);
            if Self::fits(&self.nodes[ni], v.len(), fill) {
                self.nodes[ni].push_back(v);
            } else {
                tail.push_front(v);
            }
            if self.nodes[ni].is_empty() {
                self.nodes[ni] = tail;
            } else {
                self.nodes.insert(ni + 1, tail);
            }
        }
        self.len += 1;
    }

    /// Deletes `count` elements from position `start`.
    pub fn delete_range(&mut self, start: usize, mut count: usize) {
        let Some((mut ni, off)) = self.locate(start) else { return };
        let mut off = Some(off);
        while count > 0 && ni < self.nodes.len() {
            let n = &mut self.nodes[ni];
            let o = match off.take() {
                Some(o) => o,
                None => n.first().expect("nodes are never empty"),
            };
            let before = n.len();
            n.delete(o, count);
            let removed = before - n.len();
            count -= removed;
            self.len -= removed;
            if self.nodes[ni].is_empty() {
                self.nodes.remove(ni);
            } else {
                ni += 1;
            }
        }
    }

    /// Position of the first element equal to `v`.
    pub fn find(&self, v: &[u8]) -> Option<usize> {
        let p = Probe::new(v);
        let mut i = 0;
        let mut found = None;
        self.for_each(false, |e| {
            if e.matches(&p) {
                found = Some(i);
                return false;
            }
            i += 1;
            true
        });
        found
    }

    /// LREM: removes up to |count| elements equal to `v` (all when 0), from the tail when
    /// count < 0. Returns how many went.
    pub fn remove(&mut self, v: &[u8], count: i64) -> usize {
        let p = Probe::new(v);
        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
        let mut removed = 0;
        let order: Vec<usize> = if count < 0 { (0..self.nodes.len()).rev().collect() } else { (0..self.nodes.len()).collect() };
        for ni in order {
            if removed == limit {
                break;
            }
            let n = &mut self.nodes[ni];
            if count < 0 {
                let mut off = n.last();
                while let Some(o) = off {
                    if removed == limit {
                        break;
                    }
                    let prev = n.prev(o);
                    if n.get(o).matches(&p) {
                        n.delete(o, 1);
                        removed += 1;
                    }
                    off = prev;
                }
            } else {
                let mut off = n.first();
                while let Some(o) = off {
                    if removed == limit {
                        break;
                    }
                    if n.get(o).matches(&p) {
                        n.delete(o, 1);
                        off = (o < n.end()).then_some(o);
                        removed += 1;
                    } else {
                        off = n.next(o);
                    }
                }
            }
        }
        self.len -= removed;
        self.nodes.retain(|n| !n.is_empty());
        removed
    }

    pub fn to_vec(&self) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.len);
        self.for_each(false, |v| {
            out.push(v.to_bytes());
            true
        });
        out
    }
}

// Property tests need proptest, which the wasm build does not carry.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every operation agrees with a VecDeque model, with node bounds small enough that
        /// splits, empty nodes and multi-node ranges all happen.
        #[test]
        fn behaves_like_a_deque(fill in prop_oneof![Just(-1i64), 1i64..5], ops in proptest::collection::vec((0u8..8, any::<u16>(), prop_oneof!["[ab0-9]{0,3}", "x{100,3000}"]), 0..80)) {
            let mut l = List::default();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for (op, pos, v) in ops {
                let v = v.into_bytes();
                let at = if m.is_empty() { 0 } else { pos as usize % m.len() };
                match op {
                    0 => { l.push(End::Head, &v, fill); m.push_front(v); }
                    1 => { l.push(End::Tail, &v, fill); m.push_back(v); }
                    2 => prop_assert_eq!(l.pop(End::Head).map(|b| b.to_vec()), m.pop_front()),
                    3 => prop_assert_eq!(l.pop(End::Tail).map(|b| b.to_vec()), m.pop_back()),
                    4 => { let i = pos as usize % (m.len() + 1); l.insert(i, &v, fill); m.insert(i, v); }
                    5 if !m.is_empty() => { l.set(at, &v); m[at] = v; }
                    6 if !m.is_empty() => {
                        let n = 1 + pos as usize % 4;
                        l.delete_range(at, n);
                        let end = (at + n).min(m.len());
                        m.drain(at..end);
                    }
                    7 => {
                        let count = (pos % 5) as i64 - 2;
                        let got = l.remove(&v[..v.len().min(1)], count);
                        let target = v[..v.len().min(1)].to_vec();
                        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
                        let mut removed = 0;
                        if count >= 0 {
                            let mut i = 0;
                            while i < m.len() { if removed < limit && m[i] == target { m.remove(i); removed += 1; } else { i += 1; } }
                        } else {
                            let mut i = m.len();
                            while i > 0 { i -= 1; if removed < limit && m[i] == target { m.remove(i); removed += 1; } }
                        }
                        prop_assert_eq!(got, removed);
                    }
                    _ => {}
                }
                prop_assert_eq!(l.len(), m.len());
                let got: Vec<Vec<u8>> = l.to_vec().into_iter().map(|b| b.to_vec()).collect();
                prop_assert_eq!(&got, &m.iter().cloned().collect::<Vec<_>>());
                if !m.is_empty() {
                    let mut r = vec![];
                    l.range(0, m.len() - 1, |v| r.push(v.to_vec()));
                    prop_assert_eq!(&r, &got);
                    prop_assert_eq!(l.get(m.len() - 1).map(|b| b.to_vec()), m.back().cloned());
                }
            }
        }
    }
}
