//! The sorted-set type: a listpack of member/score pairs in (score, member) order while
//! small, a dict (member → score) plus an order-statistic tree (`ds/ostree.rs`) past
//! zset-max-listpack-entries / -value; OBJECT ENCODING calls the big one `skiplist`, as Redis
//! does. Range queries return owned results in (score, member) order, Redis's order.
//! Redis: t_zset.c (type half).

use crate::ds::ele::Ele;

use bytes::Bytes;

use crate::ds::dict::Dict;
use crate::ds::listpack::{Listpack, LpVal, Probe};
use crate::ds::ostree::OsTree;
use crate::util::{fmt_double, parse_f64};

/// A score interval (zrangespec).
#[derive(Clone, Copy, Debug)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    pub fn contains(&self, v: f64) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }

    /// Whether no value can be in the range (zslIsInRange's first test).
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// A lexicographic bound (zlexrangespec): `-`, `+`, `[x` or `(x`.
#[derive(Clone, Debug, PartialEq)]
pub enum Lex {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: Lex,
    pub max: Lex,
}

impl LexRange {
    pub fn gte_min(&self, v: &[u8]) -> bool {
        match &self.min {
            Lex::Min => true,
            Lex::Max => false,
            Lex::Incl(m) => v >= &m[..],
            Lex::Excl(m) => v > &m[..],
        }
    }

    pub fn lte_max(&self, v: &[u8]) -> bool {
        match &self.max {
            Lex::Min => false,
            Lex::Max => true,
            Lex::Incl(m) => v <= &m[..],
            Lex::Excl(m) => v < &m[..],
        }
    }

    pub fn contains(&self, v: &[u8]) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }

    /// zslLexValueGteMin/LteMax on the bounds themselves: the range can hold nothing.
    pub fn is_empty(&self) -> bool {
        match (&self.min, &self.max) {
            (Lex::Max, _) | (_, Lex::Min) => true,
            (Lex::Min, _) | (_, Lex::Max) => false,
            (a, b) => {
                let (av, ae) = match a {
                    Lex::Incl(v) => (v, false),
                    Lex::Excl(v) => (v, true),
                    _ => unreachable!(),
                };
                let (bv, be) = match b {
                    Lex::Incl(v) => (v, false),
                    Lex::Excl(v) => (v, true),
                    _ => unreachable!(),
                };
                av > bv || (av == bv && (ae || be))
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Big {
    pub dict: Dict<Ele, f64>,
    pub tree: OsTree,
}

#[derive(Clone, Debug)]
pub enum ZSet {
    Listpack(Listpack),
    Skiplist(Box<Big>),
}

/// The thresholds in force (CONFIG zset-max-listpack-*).
#[derive(Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl PartialEq for ZSet {
    fn eq(&self, other: &ZSet) -> bool {
        self.all() == other.all()
    }
}

fn lp_score(v: LpVal) -> f64 {
    match v {
        LpVal::Int(n) => n as f64,
        LpVal::Str(s) => parse_f64(s).unwrap_or(0.0),
    }
}

/// (offset of member, member, score) of every pair, in order.
fn lp_pairs(lp: &Listpack) -> Vec<(usize, LpVal<'_>, f64)> {
    let mut out = Vec::with_capacity(lp.len() / 2);
    let mut off = lp.first();
    while let Some(o) = off {
        let so = lp.next(o).expect("pairs");
        out.push((o, lp.get(o), lp_score(lp.get(so))));
        off = lp.next(so);
    }
    out
}

fn lp_member_cmp(m: LpVal, other: &[u8]) -> std::cmp::Ordering {
    match m {
        LpVal::Str(s) => s.cmp(other),
        LpVal::Int(_) => m.to_vec()[..].cmp(other),
    }
}

impl ZSet {
    /// An empty set in the encoding Redis would pick for it (zsetTypeCreate): a listpack
    /// unless listpacks are disabled or the first member is already too long.
    pub fn new(first_member_len: usize, lim: Limits) -> ZSet {
        if lim.entries == 0 || first_member_len > lim.value {
            ZSet::Skiplist(Box::default())
        } else {
            ZSet::Listpack(Listpack::new())
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len() / 2,
            ZSet::Skiplist(b) => b.tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    /// Moves a listpack to the big encoding (also SORT's side effect, as Redis's
    /// zsetConvert in sortCommandGeneric).
    pub fn convert(&mut self) {
        if let ZSet::Listpack(lp) = self {
            let mut big = Big { dict: Dict::with_capacity(lp.len() / 2), tree: OsTree::new() };
            for (_, m, s) in lp_pairs(lp) {
                let m: Ele = Ele::new(&m.to_vec());
                big.tree.insert(s, m.clone());
                big.dict.insert_new(m, s);
            }
            *self = ZSet::Skiplist(Box::new(big));
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => {
                let o = lp.find(&Probe::new(member), 2)?;
                Some(lp_score(lp.get(lp.next(o)?)))
            }
            ZSet::Skiplist(b) => b.dict.get(member).copied(),
        }
    }

    /// Inserts a member known to be absent, converting first if it would not fit.
    pub fn insert(&mut self, member: &[u8], score: f64, lim: Limits) {
        if let ZSet::Listpack(lp) = self {
            if lp.len() / 2 + 1 > lim.entries || member.len() > lim.value {
                self.convert();
            }
        }
        match self {
            ZSet::Listpack(lp) => {
                // Before the first pair that sorts after (score, member).
                let at =
                    lp_pairs(lp).into_iter().find(|(_, m, s)| *s > score || (*s == score && lp_member_cmp(*m, member).is_gt())).map_or(lp.end(), |(o, _, _)| o);
                let o = lp.insert(at, member);
                let so = lp.next(o).unwrap_or(lp.end());
                lp.insert(so, fmt_double(score).as_bytes());
            }
            ZSet::Skiplist(b) => {
                let m: Ele = Ele::new(member);
                b.tree.insert(score, m.clone());
                b.dict.insert_new(m, score);
            }
        }
    }

    /// Changes a present member's score.
    pub fn update(&mut self, member: &[u8], old: f64, new: f64, lim: Limits) {
        match self {
            ZSet::Listpack(_) => {
                self.remove(member);
                self.insert(member, new, lim);
            }
            ZSet::Skiplist(b) => {
                let m = b.dict.get_key_value(member).expect("present").0.clone();
                b.tree.remove(old, member);
                b.tree.insert(new, m);
                *b.dict.get_mut(member).expect("present") = new;
            }
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Listpack(lp) => match lp.find(&Probe::new(member), 2) {
                Some(o) => {
                    lp.delete(o, 2);
                    true
                }
                None => false,
            },
            ZSet::Skiplist(b) => match b.dict.remove(member) {
                Some(s) => {
                    b.tree.remove(s, member);
                    true
                }
                None => false,
            },
        }
    }

    /// 0-based rank, from the highest score when `rev`.
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<usize> {
        let len = self.len();
        let r = match self {
            ZSet::Listpack(lp) => {
                let p = Probe::new(member);
                lp_pairs(lp).iter().position(|(_, m, _)| m.matches(&p))?
            }
            ZSet::Skiplist(b) => {
                let s = *b.dict.get(member)?;
                b.tree.rank(s, member)
            }
        };
        Some(if rev { len - 1 - r } else { r })
    }

    /// Every (member, score) in ascending order.
    pub fn all(&self) -> Vec<(Bytes, f64)> {
        if self.is_empty() {
            return vec![];
        }
        self.by_rank(0, self.len() - 1, false)
    }

    /// Ranks `start..=end` (0-based, already clamped), descending when `rev`.
    pub fn by_rank(&self, start: usize, end: usize, rev: bool) -> Vec<(Bytes, f64)> {
        let n = end + 1 - start;
        let mut out = Vec::with_capacity(n);
        match self {
            ZSet::Listpack(lp) => {
                let pairs = lp_pairs(lp);
                let len = pairs.len();
                for i in start..=end {
                    let (_, m, s) = pairs[if rev { len - 1 - i } else { i }];
                    out.push((m.to_bytes(), s));
                }
            }
            ZSet::Skiplist(b) => {
                let len = b.tree.len();
                let from = if rev { len - 1 - start } else { start };
                out.extend(b.tree.iter_from(from, rev).take(n).map(|(s, m)| (Bytes::copy_from_slice(m), s)));
            }
        }
        out
    }

    /// Members with scores in `r`, skipping `offset` and returning at most `limit` (< 0: all).
    pub fn by_score(&self, r: &ScoreRange, rev: bool, offset: usize, limit: i64) -> Vec<(Bytes, f64)> {
        self.range_walk(rev, offset, limit, |s, _| r.gte_min(s), |s, _| r.lte_max(s))
    }

    pub fn by_lex(&self, r: &LexRange, rev: bool, offset: usize, limit: i64) -> Vec<(Bytes, f64)> {
        self.range_walk(rev, offset, limit, |_, m| r.gte_min(m), |_, m| r.lte_max(m))
    }

    /// The shared walk of ZRANGEBYSCORE/BYLEX: start at the first in-range element from the
    /// chosen end, skip `offset`, stop at `limit` or at the first element past the far bound.
    fn range_walk(
        &self,
        rev: bool,
        offset: usize,
        limit: i64,
        gte_min: impl Fn(f64, &[u8]) -> bool,
        lte_max: impl Fn(f64, &[u8]) -> bool,
    ) -> Vec<(Bytes, f64)> {
        let mut out = vec![];
        let want = |out: &Vec<(Bytes, f64)>| limit < 0 || (out.len() as i64) < limit;
        match self {
            ZSet::Listpack(lp) => {
                let pairs = lp_pairs(lp);
                let mut skipped = 0;
                let iter: Box<dyn Iterator<Item = &(usize, LpVal, f64)>> = if rev { Box::new(pairs.iter().rev()) } else { Box::new(pairs.iter()) };
                for (_, m, s) in iter {
                    if !want(&out) {
                        break;
                    }
                    let mb = m.to_vec();
                    let (inside_near, inside_far) = if rev { (lte_max(*s, &mb), gte_min(*s, &mb)) } else { (gte_min(*s, &mb), lte_max(*s, &mb)) };
                    if !inside_near {
                        continue;
                    }
                    if !inside_far {
                        break;
                    }
                    if skipped < offset {
                        skipped += 1;
                        continue;
                    }
                    out.push((Bytes::from(mb), *s));
                }
            }
            ZSet::Skiplist(b) => {
                // The first in-range position from the chosen end; then skip, then take while
                // the far bound holds.
                let first = if rev {
                    match b.tree.count_before(|s, m| !lte_max(s, m)) {
                        0 => return out,
                        n => n - 1,
                    }
                } else {
                    b.tree.count_before(|s, m| gte_min(s, m))
                };
                if first >= b.tree.len() || (rev && !gte_min(b.tree.get(first).0, b.tree.get(first).1)) {
                    return out;
                }
                for (s, m) in b.tree.iter_from(first, rev).skip(offset) {
                    if !want(&out) {
                        break;
                    }
                    let inside = if rev { gte_min(s, m) } else { lte_max(s, m) };
                    if !inside {
                        break;
                    }
                    out.push((Bytes::copy_from_slice(m), s));
                }
            }
        }
        out
    }

    /// Visits the members with scores in `r`, in order, while `f` returns true: a lazy walk
    /// for callers that filter and stop early (the geo commands' cell scans with ANY).
    pub fn walk_score(&self, r: &ScoreRange, mut f: impl FnMut(&[u8], f64) -> bool) {
        if r.is_empty() {
            return;
        }
        match self {
            ZSet::Listpack(lp) => {
                for (_, m, s) in lp_pairs(lp) {
                    if !r.gte_min(s) {
                        continue;
                    }
                    if !r.lte_max(s) || !f(&m.to_vec(), s) {
                        break;
                    }
                }
            }
            ZSet::Skiplist(b) => {
                let first = b.tree.count_before(|s, _| r.gte_min(s));
                if first >= b.tree.len() {
                    return;
                }
                for (s, m) in b.tree.iter_from(first, false) {
                    if !r.lte_max(s) || !f(m, s) {
                        break;
                    }
                }
            }
        }
    }

    pub fn count_score(&self, r: &ScoreRange) -> usize {
        match self {
            ZSet::Listpack(lp) => lp_pairs(lp).iter().filter(|(_, _, s)| r.contains(*s)).count(),
            ZSet::Skiplist(b) => b.tree.count_before(|s, _| !r.lte_max(s)).saturating_sub(b.tree.count_before(|s, _| r.gte_min(s))),
        }
    }

    pub fn count_lex(&self, r: &LexRange) -> usize {
        match self {
            ZSet::Listpack(lp) => lp_pairs(lp).iter().filter(|(_, m, _)| r.contains(&m.to_vec())).count(),
            ZSet::Skiplist(b) => b.tree.count_before(|_, m| !r.lte_max(m)).saturating_sub(b.tree.count_before(|_, m| r.gte_min(m))),
        }
    }

    /// Removes the given members (a computed range); returns how many went.
    pub fn remove_all(&mut self, members: &[(Bytes, f64)]) -> usize {
        members.iter().filter(|(m, _)| self.remove(m)).count()
    }

    /// The pair at dense position `i` (uniform sampling for ZRANDMEMBER).
    pub fn pair_at(&self, i: usize) -> (Bytes, f64) {
        match self {
            ZSet::Listpack(lp) => {
                let o = lp.seek(2 * i as i64).expect("in range");
                (lp.get(o).to_bytes(), lp_score(lp.get(lp.next(o).expect("pairs"))))
            }
            ZSet::Skiplist(b) => {
                let (m, s) = b.dict.entry_at(i);
                (Bytes::copy_from_slice(m), *s)
            }
        }
    }

    /// One ZSCAN step; a listpack returns everything with cursor 0.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(Bytes, f64)) -> u64 {
        match self {
            ZSet::Listpack(lp) => {
                for (_, m, s) in lp_pairs(lp) {
                    f(m.to_bytes(), s);
                }
                0
            }
            ZSet::Skiplist(b) => b.dict.scan(cursor, |m, s| f(Bytes::copy_from_slice(m), *s)),
        }
    }

    pub fn mem_usage(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.capacity(),
            ZSet::Skiplist(b) => b.dict.overhead() + b.tree.overhead() + b.dict.keys().map(|k| k.heap_size()).sum::<usize>(),
        }
    }
}
