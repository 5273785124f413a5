//! A port of Redis's zset skiplist (zsl* in t_zset.c): (score, member) in order, each level's
//! links carrying spans so rank lookups are O(log n). Nodes live in an arena (indexes, not
//! pointers). Cinnabar served big sorted sets with this until bench/zset_index.rs measured
//! the counted B+tree (src/ds/ostree.rs) faster at every operation; it stays here as the
//! baseline that measurement is made against.

use std::cmp::Ordering;
use std::sync::Arc;

use cinnabar::types::zset::{LexRange, ScoreRange};

const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;
pub const MAX_LEVEL: usize = 32;

#[derive(Clone, Copy, Debug)]
struct Level {
    forward: u32,
    span: u32,
}

#[derive(Clone, Debug)]
struct Node {
    member: Arc<[u8]>,
    score: f64,
    backward: u32,
    levels: Box<[Level]>,
}

#[derive(Clone, Debug)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    len: usize,
    level: usize,
    /// xorshift state for node levels (the core has no OS randomness).
    seed: u64,
}

/// (score, member) order, members compared as bytes (sdscmp).
fn before(score: f64, member: &[u8], other_score: f64, other: &[u8]) -> bool {
    score < other_score || (score == other_score && member < other)
}

impl SkipList {
    pub fn new(seed: u64) -> SkipList {
        let head = Node { member: Arc::from(&b""[..]), score: 0.0, backward: NIL, levels: vec![Level { forward: NIL, span: 0 }; MAX_LEVEL].into_boxed_slice() };
        SkipList { nodes: vec![head], free: vec![], tail: NIL, len: 0, level: 1, seed: seed | 1 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held by nodes (members excluded: they are shared with the dict).
    pub fn overhead(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.nodes.iter().map(|n| n.levels.len() * 8).sum::<usize>()
    }

    fn random_level(&mut self) -> usize {
        // P(level > n) = 1/4^n, as ZSKIPLIST_P = 0.25.
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed = x;
        let mut level = 1;
        let mut bits = x;
        while level < MAX_LEVEL && bits & 3 == 0 {
            level += 1;
            bits >>= 2;
        }
        level
    }

    fn n(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    fn fwd(&self, i: u32, l: usize) -> u32 {
        self.nodes[i as usize].levels[l].forward
    }

    pub fn score(&self, i: u32) -> f64 {
        self.n(i).score
    }

    pub fn member(&self, i: u32) -> &Arc<[u8]> {
        &self.n(i).member
    }

    pub fn first(&self) -> Option<u32> {
        Some(self.fwd(HEAD, 0)).filter(|&i| i != NIL)
    }

    pub fn last(&self) -> Option<u32> {
        Some(self.tail).filter(|&i| i != NIL)
    }

    pub fn next(&self, i: u32) -> Option<u32> {
        Some(self.fwd(i, 0)).filter(|&i| i != NIL)
    }

    pub fn prev(&self, i: u32) -> Option<u32> {
        Some(self.n(i).backward).filter(|&i| i != NIL && i != HEAD)
    }

    /// zslInsert: the member must not be present.
    pub fn insert(&mut self, score: f64, member: Arc<[u8]>) -> u32 {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let f = self.fwd(x, i);
                if f != NIL && before(self.n(f).score, &self.n(f).member, score, &member) {
                    rank[i] += self.n(x).levels[i].span;
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.nodes[HEAD as usize].levels[i].span = self.len as u32;
            }
            self.level = level;
        }
        let node = Node { member, score, backward: NIL, levels: vec![Level { forward: NIL, span: 0 }; level].into_boxed_slice() };
        let x = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..level {
            let u = update[i] as usize;
            let uf = self.nodes[u].levels[i];
            self.nodes[x as usize].levels[i].forward = uf.forward;
            self.nodes[u].levels[i].forward = x;
            self.nodes[x as usize].levels[i].span = uf.span - (rank[0] - rank[i]);
            self.nodes[u].levels[i].span = (rank[0] - rank[i]) + 1;
        }
        for i in level..self.level {
            self.nodes[update[i] as usize].levels[i].span += 1;
        }
        self.nodes[x as usize].backward = if update[0] == HEAD { NIL } else { update[0] };
        let f0 = self.fwd(x, 0);
        if f0 != NIL {
            self.nodes[f0 as usize].backward = x;
        } else {
            self.tail = x;
        }
        self.len += 1;
        x
    }

    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for i in 0..self.level {
            let u = update[i] as usize;
            if self.nodes[u].levels[i].forward == x {
                let xl = self.nodes[x as usize].levels[i];
                self.nodes[u].levels[i].span += xl.span;
                self.nodes[u].levels[i].span -= 1;
                self.nodes[u].levels[i].forward = xl.forward;
            } else {
                self.nodes[u].levels[i].span -= 1;
            }
        }
        let f0 = self.fwd(x, 0);
        let back = self.n(x).backward;
        if f0 != NIL {
            self.nodes[f0 as usize].backward = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.fwd(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.nodes[x as usize].member = Arc::from(&b""[..]);
        self.free.push(x);
    }

    /// The update vector for (score, member): the last node before it on each level.
    fn path(&self, score: f64, member: &[u8]) -> [u32; MAX_LEVEL] {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL && before(self.n(f).score, &self.n(f).member, score, member) {
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        update
    }

    /// zslDelete: true if (score, member) was there.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let update = self.path(score, member);
        let x = self.fwd(update[0], 0);
        if x != NIL && self.n(x).score == score && &self.n(x).member[..] == member {
            self.unlink(x, &update);
            true
        } else {
            false
        }
    }

    /// zslUpdateScore: moves a member to a new score, in place when its position holds.
    pub fn update_score(&mut self, cur: f64, member: &[u8], new: f64) -> u32 {
        let update = self.path(cur, member);
        let x = self.fwd(update[0], 0);
        debug_assert!(x != NIL && self.n(x).score == cur && &self.n(x).member[..] == member);
        let back = self.n(x).backward;
        let f0 = self.fwd(x, 0);
        let back_ok = back == NIL || self.n(back).score < new;
        let fwd_ok = f0 == NIL || self.n(f0).score > new;
        if back_ok && fwd_ok {
            self.nodes[x as usize].score = new;
            return x;
        }
        let m = self.n(x).member.clone();
        self.unlink(x, &update);
        self.insert(new, m)
    }

    /// 1-based rank of (score, member), or 0 when absent (zslGetRank).
    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        let mut rank = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL && (self.n(f).score < score || (self.n(f).score == score && &self.n(f).member[..] <= member)) {
                    rank += self.n(x).levels[i].span as usize;
                    x = f;
                } else {
                    break;
                }
            }
            if x != HEAD && &self.n(x).member[..] == member {
                return rank;
            }
        }
        0
    }

    /// The node at a 1-based rank (zslGetElementByRank).
    pub fn by_rank(&self, rank: usize) -> Option<u32> {
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL && traversed + self.n(x).levels[i].span as usize <= rank {
                    traversed += self.n(x).levels[i].span as usize;
                    x = f;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return (x != HEAD).then_some(x);
            }
        }
        None
    }

    /// The first node whose key satisfies `gte`, assuming `gte` is monotone along the list.
    fn first_where(&self, gte: impl Fn(f64, &[u8]) -> bool) -> Option<u32> {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL && !gte(self.n(f).score, &self.n(f).member) {
                    x = f;
                } else {
                    break;
                }
            }
        }
        self.next_of_head_or(x)
    }

    fn next_of_head_or(&self, x: u32) -> Option<u32> {
        let f = self.fwd(x, 0);
        (f != NIL).then_some(f)
    }

    /// The last node whose key satisfies `lte`, assuming `lte` is true then false along it.
    fn last_where(&self, lte: impl Fn(f64, &[u8]) -> bool) -> Option<u32> {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL && lte(self.n(f).score, &self.n(f).member) {
                    x = f;
                } else {
                    break;
                }
            }
        }
        (x != HEAD).then_some(x)
    }

    /// zslFirstInRange / zslLastInRange for scores.
    pub fn first_in_score(&self, r: &ScoreRange) -> Option<u32> {
        let x = self.first_where(|s, _| r.gte_min(s))?;
        r.lte_max(self.n(x).score).then_some(x)
    }

    pub fn last_in_score(&self, r: &ScoreRange) -> Option<u32> {
        let x = self.last_where(|s, _| r.lte_max(s))?;
        r.gte_min(self.n(x).score).then_some(x)
    }

    pub fn first_in_lex(&self, r: &LexRange) -> Option<u32> {
        let x = self.first_where(|_, m| r.gte_min(m))?;
        r.lte_max(&self.n(x).member).then_some(x)
    }

    pub fn last_in_lex(&self, r: &LexRange) -> Option<u32> {
        let x = self.last_where(|_, m| r.lte_max(m))?;
        r.gte_min(&self.n(x).member).then_some(x)
    }

    /// Removes the node at `x` (found by a range walk); returns its member.
    pub fn remove_node(&mut self, x: u32) -> Arc<[u8]> {
        let (score, member) = (self.n(x).score, self.n(x).member.clone());
        let update = self.path(score, &member);
        self.unlink(x, &update);
        member
    }

    /// Ordering helper for callers comparing (score, member) keys.
    pub fn cmp(a: (f64, &[u8]), b: (f64, &[u8])) -> Ordering {
        a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal).then_with(|| a.1.cmp(b.1))
    }
}

// Property tests need proptest, which the wasm build does not carry.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn walk(s: &SkipList) -> Vec<(f64, Vec<u8>)> {
        let mut out = vec![];
        let mut x = s.first();
        while let Some(i) = x {
            out.push((s.score(i), s.member(i).to_vec()));
            x = s.next(i);
        }
        out
    }

    proptest! {
        /// Inserts, deletes and score updates agree with a sorted model, as do ranks,
        /// rank lookups, backward links and score-range starts.
        #[test]
        fn agrees_with_a_sorted_vec(ops in proptest::collection::vec((0u8..3, 0u8..40, -5i8..5), 0..300)) {
            let mut s = SkipList::new(7);
            let mut model: Vec<(f64, Vec<u8>)> = vec![];
            for (op, m, sc) in ops {
                let member = format!("m{}", m).into_bytes();
                let score = sc as f64;
                let pos = model.iter().position(|(_, x)| *x == member);
                match (op, pos) {
                    (0, None) => { s.insert(score, Arc::from(&member[..])); model.push((score, member)); }
                    (1, Some(p)) => { let (sc0, m0) = model.remove(p); prop_assert!(s.delete(sc0, &m0)); }
                    (2, Some(p)) => { s.update_score(model[p].0, &member, score); model[p].0 = score; }
                    _ => {}
                }
                model.sort_by(|a, b| SkipList::cmp((a.0, &a.1), (b.0, &b.1)));
                prop_assert_eq!(walk(&s), model.clone());
                for (i, (sc, m)) in model.iter().enumerate() {
                    prop_assert_eq!(s.rank(*sc, m), i + 1);
                    let n = s.by_rank(i + 1).unwrap();
                    prop_assert_eq!(&s.member(n)[..], &m[..]);
                }
                let mut back = vec![];
                let mut x = s.last();
                while let Some(i) = x { back.push(s.member(i).to_vec()); x = s.prev(i); }
                back.reverse();
                prop_assert_eq!(back, model.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>());
                let r = ScoreRange { min: 0.0, max: 2.0, minex: true, maxex: false };
                let want = model.iter().find(|(sc, _)| r.contains(*sc)).map(|(_, m)| m.clone());
                prop_assert_eq!(s.first_in_score(&r).map(|i| s.member(i).to_vec()), want);
                let want = model.iter().rev().find(|(sc, _)| r.contains(*sc)).map(|(_, m)| m.clone());
                prop_assert_eq!(s.last_in_score(&r).map(|i| s.member(i).to_vec()), want);
            }
        }
    }
}
