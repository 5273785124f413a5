//! The stream type: entries in nodes of up to `stream-node-max-entries` entries /
//! `stream-node-max-bytes` bytes, each node a listpack laid out exactly as Redis lays out its
//! stream listpacks (a master entry of field names, then delta-encoded entries that reuse those
//! names when they can), keyed in an ordered map by the node's master ID: Redis keys a radix
//! tree by the same 128-bit big-endian ID; a B-tree gives the same O(log n) seek. The layout
//! being Redis's makes the RDB form a per-element translation and keeps a small entry at a
//! few bytes. Consumer groups keep their pending entries lists in ordered maps, as Redis keeps
//! them in radix trees. Redis: t_stream.c (type half), stream.h.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use bytes::Bytes;

use crate::ds::listpack::{Listpack, Probe};
use crate::ds::redis_listpack as redis_lp;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, or None past the last possible one (streamIncrID).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            return Some(StreamId::new(self.ms + 1, 0));
        }
        Some(StreamId::new(self.ms, self.seq + 1))
    }

    /// The previous ID, or None before 0-0 (streamDecrID).
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            return Some(StreamId::new(self.ms - 1, u64::MAX));
        }
        Some(StreamId::new(self.ms, self.seq - 1))
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    pub fn to_bytes(self) -> Bytes {
        Bytes::from(self.to_string())
    }

    /// The 16-byte big-endian form Redis uses as radix-tree key and in RDB PELs.
    pub fn encode(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<StreamId> {
        if b.len() != 16 {
            return None;
        }
        Some(StreamId::new(u64::from_be_bytes(b[..8].try_into().ok()?), u64::from_be_bytes(b[8..].try_into().ok()?)))
    }

    /// Parses `<ms>-<seq>`, `<ms>` (sequence `missing_seq`), `-` and `+` (unless `strict`),
    /// and with `allow_seq_star` the XADD form `<ms>-*`. Returns the ID and whether the
    /// sequence was given (streamGenericParseIDOrReply).
    pub fn parse(s: &[u8], missing_seq: u64, strict: bool, allow_seq_star: bool) -> Option<(StreamId, bool)> {
        if s.len() > 127 {
            return None;
        }
        match s {
            b"-" | b"+" if strict => return None,
            b"-" => return Some((StreamId::MIN, true)),
            b"+" => return Some((StreamId::MAX, true)),
            _ => {}
        }
        let (ms, seq) = match s.iter().position(|&c| c == b'-') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let ms = string2ull(ms)?;
        match seq {
            Some(b"*") if allow_seq_star => Some((StreamId::new(ms, 0), false)),
            Some(q) => Some((StreamId::new(ms, string2ull(q)?), true)),
            None => Some((StreamId::new(ms, missing_seq), true)),
        }
    }
}

/// Redis's string2ull: a strict integer when it fits a signed 64-bit one (no sign, no
/// padding), otherwise strtoull's looser reading (leading blanks and a sign allowed).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(n) = crate::util::parse_i64(s) {
        return (n >= 0).then_some(n as u64);
    }
    let t = std::str::from_utf8(s).ok()?.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(if neg { n.wrapping_neg() } else { n })
}

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
/// Largest listpack a node may grow to, and the largest entry (STREAM_LISTPACK_MAX_SIZE).
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// One node: the listpack plus its size as Redis would count it (for stream-node-max-bytes).
#[derive(Clone, Debug, PartialEq)]
struct Node {
    lp: Listpack,
    redis_bytes: usize,
}

impl Node {
    fn push(&mut self, v: &[u8]) {
        self.redis_bytes += redis_lp::entry_size(v);
        self.lp.push_back(v);
    }

    fn push_int(&mut self, n: i64) {
        self.redis_bytes += redis_lp::int_size(n);
        self.lp.push_int(n);
    }

    fn replace_int(&mut self, off: usize, n: i64) {
        let old = self.lp.get_int(off);
        self.redis_bytes = self.redis_bytes + redis_lp::int_size(n) - redis_lp::int_size(old);
        self.lp.replace_int(off, n);
    }

    /// (live count, deleted count, offset of the master field count).
    fn counts(&self) -> (i64, i64) {
        let first = self.lp.first().expect("nodes have a master entry");
        let del = self.lp.next(first).expect("master entry");
        (self.lp.get_int(first), self.lp.get_int(del))
    }

    fn set_counts(&mut self, live: i64, deleted: i64) {
        let first = self.lp.first().expect("master entry");
        self.replace_int(first, live);
        let del = self.lp.next(first).expect("master entry");
        self.replace_int(del, deleted);
    }

    /// Offsets of the master fields and of the first entry's flags.
    fn layout(&self) -> (Vec<usize>, Option<usize>) {
        let lp = &self.lp;
        let mut off = lp.next(lp.next(lp.first().expect("master")).expect("master")).expect("master");
        let n = lp.get_int(off).max(0) as usize;
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            off = lp.next(off).expect("master field");
            fields.push(off);
        }
        let terminator = lp.next(off).expect("master terminator");
        (fields, lp.next(terminator))
    }
}

/// One entry as read from a node.
struct Raw {
    flags: i64,
    id: StreamId,
    /// Offset of the first value (SAMEFIELDS) or of the first field.
    body: usize,
    /// Field count (the master's when SAMEFIELDS).
    nfields: usize,
    /// Offset of the entry after this one.
    next: Option<usize>,
}

fn read_entry(lp: &Listpack, master: StreamId, nmaster: usize, off: usize) -> Raw {
    let flags = lp.get_int(off);
    let p = lp.next(off).expect("ms delta");
    let ms = master.ms.wrapping_add(lp.get_int(p) as u64);
    let p = lp.next(p).expect("seq delta");
    let seq = master.seq.wrapping_add(lp.get_int(p) as u64);
    let mut p = lp.next(p).expect("entry body");
    let (nfields, skip) = if flags & FLAG_SAMEFIELDS != 0 {
        (nmaster, nmaster)
    } else {
        let n = lp.get_int(p).max(0) as usize;
        p = lp.next(p).expect("fields");
        (n, 2 * n)
    };
    let body = p;
    let mut q = p;
    for _ in 0..skip {
        q = lp.next(q).expect("entry element");
    }
    // `q` is now the lp-count element.
    Raw { flags, id: StreamId::new(ms, seq), body, nfields, next: lp.next(q) }
}

/// The field/value pairs of an entry, flattened.
fn entry_fields(lp: &Listpack, fields: &[usize], e: &Raw) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(e.nfields * 2);
    let mut p = e.body;
    for i in 0..e.nfields {
        if e.flags & FLAG_SAMEFIELDS != 0 {
            out.push(lp.get(fields[i]).to_bytes());
            out.push(lp.get(p).to_bytes());
        } else {
            out.push(lp.get(p).to_bytes());
            p = lp.next(p).expect("value");
            out.push(lp.get(p).to_bytes());
        }
        if i + 1 < e.nfields {
            p = lp.next(p).expect("next element");
        }
    }
    out
}

/// Entry start offsets of a node, in order (deleted ones included).
fn entry_offsets(lp: &Listpack, master: StreamId, nmaster: usize, first: Option<usize>) -> Vec<(usize, Raw)> {
    let mut out = vec![];
    let mut off = first;
    while let Some(o) = off {
        let e = read_entry(lp, master, nmaster, o);
        off = e.next;
        out.push((o, e));
    }
    out
}

/// A pending entry: delivered to `consumer`, not yet acknowledged (streamNACK).
#[derive(Clone, Debug, PartialEq)]
pub struct Nack {
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Bytes,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Consumer {
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

/// Sentinel of `Group::entries_read` when the counter is unknown (SCG_INVALID_ENTRIES_READ).
pub const INVALID_ENTRIES_READ: i64 = -1;

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, ..Default::default() }
    }

    /// Removes a pending entry from the group and its owner (XACK, XCLAIM of a deleted entry).
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Creates the consumer if new (seen now); returns whether it did.
    pub fn ensure_consumer(&mut self, name: &[u8], now: i64) -> bool {
        match self.consumers.get_mut(name) {
            Some(c) => {
                c.seen_time = now;
                false
            }
            None => {
                self.consumers.insert(Bytes::copy_from_slice(name), Consumer { seen_time: now, pel: BTreeSet::new() });
                true
            }
        }
    }

    /// The consumer's name as the group keeps it: pending entries share that copy rather than
    /// hold a slice of the command's input buffer, which would keep the whole buffer alive.
    pub fn consumer_name(&self, name: &[u8]) -> Bytes {
        self.consumers.get_key_value(name).map_or_else(|| Bytes::copy_from_slice(name), |(k, _)| k.clone())
    }

    /// Gives a pending entry to `consumer` (which must exist), moving it from its old owner.
    pub fn assign(&mut self, id: StreamId, consumer: &Bytes, delivery_time: i64, delivery_count: u64) {
        let consumer = &self.consumer_name(consumer);
        let old = self.pel.insert(id, Nack { delivery_time, delivery_count, consumer: consumer.clone() });
        if let Some(old) = old {
            if old.consumer != consumer {
                if let Some(c) = self.consumers.get_mut(&old.consumer) {
                    c.pel.remove(&id);
                }
            }
        }
        self.consumers.get_mut(consumer).expect("consumer exists").pel.insert(id);
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    pub fn remove_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    pub length: u64,
    pub last_id: StreamId,
    /// The first live entry (0-0 when empty).
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Bytes, Group>,
}

/// Node limits in force (CONFIG stream-node-max-bytes / -entries).
#[derive(Clone, Copy)]
pub struct NodeLimits {
    pub bytes: usize,
    pub entries: i64,
}

/// How XADD/XTRIM trim (streamAddTrimArgs).
#[derive(Clone, Copy, Debug)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

impl Stream {
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Appends an entry with `id` (already checked to be above `last_id`); `fv` is the flat
    /// field/value list (streamAppendItem).
    pub fn append(&mut self, id: StreamId, fv: &[Bytes], lim: NodeLimits) {
        let numfields = fv.len() / 2;
        let totelelen: usize = fv.iter().map(|v| v.len()).sum();
        let max_bytes = if lim.bytes == 0 || lim.bytes > LISTPACK_MAX_SIZE { LISTPACK_MAX_SIZE } else { lim.bytes };
        let need_new = match self.nodes.last_key_value() {
            None => true,
            Some((_, n)) => {
                let (live, deleted) = n.counts();
                n.redis_bytes + totelelen >= max_bytes || (lim.entries > 0 && live + deleted >= lim.entries)
            }
        };
        let mut flags = 0;
        if need_new {
            if let Some(mut t) = self.nodes.last_entry() {
                t.get_mut().lp.shrink_to_fit();
            }
            let mut node = Node { lp: Listpack::new(), redis_bytes: redis_lp::OVERHEAD };
            node.push_int(1);
            node.push_int(0);
            node.push_int(numfields as i64);
            for f in fv.iter().step_by(2) {
                node.push(f);
            }
            node.push_int(0);
            flags |= FLAG_SAMEFIELDS;
            self.nodes.insert(id, node);
        }
        let mut tail = self.nodes.last_entry().expect("a tail node");
        let master = *tail.key();
        let node = tail.get_mut();
        if !need_new {
            let (live, deleted) = node.counts();
            node.set_counts(live + 1, deleted);
            let (fields, _) = node.layout();
            if fields.len() == numfields && fields.iter().zip(fv.iter().step_by(2)).all(|(&o, f)| node.lp.get(o).matches(&Probe::new(f))) {
                flags |= FLAG_SAMEFIELDS;
            }
        }
        node.push_int(flags);
        node.push_int(id.ms.wrapping_sub(master.ms) as i64);
        node.push_int(id.seq.wrapping_sub(master.seq) as i64);
        if flags & FLAG_SAMEFIELDS == 0 {
            node.push_int(numfields as i64);
        }
        for pair in fv.chunks(2) {
            if flags & FLAG_SAMEFIELDS == 0 {
                node.push(&pair[0]);
            }
            node.push(&pair[1]);
        }
        let lp_count = numfields as i64 + 3 + if flags & FLAG_SAMEFIELDS == 0 { numfields as i64 + 1 } else { 0 };
        node.push_int(lp_count);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Live entries with `start <= id <= end`, ascending (or descending with `rev`), at most
    /// `count` (0: all), each as (id, flat field/value list).
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool, count: usize) -> Vec<(StreamId, Vec<Bytes>)> {
        let mut out = vec![];
        self.walk(start, end, rev, |id, lp, fields, e| {
            out.push((id, entry_fields(lp, fields, e)));
            count == 0 || out.len() < count
        });
        out
    }

    /// Only the IDs of `range` (cheaper: no field copies).
    pub fn range_ids(&self, start: StreamId, end: StreamId, rev: bool, count: usize) -> Vec<StreamId> {
        let mut out = vec![];
        self.walk(start, end, rev, |id, _, _, _| {
            out.push(id);
            count == 0 || out.len() < count
        });
        out
    }

    /// Calls `f` on each live entry in the range until it returns false.
    fn walk(&self, start: StreamId, end: StreamId, rev: bool, mut f: impl FnMut(StreamId, &Listpack, &[usize], &Raw) -> bool) {
        if start > end {
            return;
        }
        if !rev {
            let from = self.nodes.range(..=start).next_back().map_or(start, |(k, _)| *k);
            for (&master, node) in self.nodes.range(from..) {
                if master > end {
                    return;
                }
                let (fields, first) = node.layout();
                let mut off = first;
                while let Some(o) = off {
                    let e = read_entry(&node.lp, master, fields.len(), o);
                    off = e.next;
                    if e.flags & FLAG_DELETED != 0 || e.id < start {
                        continue;
                    }
                    if e.id > end || !f(e.id, &node.lp, &fields, &e) {
                        return;
                    }
                }
            }
        } else {
            for (&master, node) in self.nodes.range(..=end).rev() {
                let (fields, first) = node.layout();
                let entries = entry_offsets(&node.lp, master, fields.len(), first);
                for (_, e) in entries.iter().rev() {
                    if e.flags & FLAG_DELETED != 0 || e.id > end {
                        continue;
                    }
                    if e.id < start || !f(e.id, &node.lp, &fields, e) {
                        return;
                    }
                }
                if master < start {
                    return;
                }
            }
        }
    }

    /// The entry with exactly this ID, if live.
    pub fn get(&self, id: StreamId) -> Option<Vec<Bytes>> {
        self.range(id, id, false, 1).pop().map(|(_, fv)| fv)
    }

    pub fn contains(&self, id: StreamId) -> bool {
        !self.range_ids(id, id, false, 1).is_empty()
    }

    /// The first or last live entry's ID (streamGetEdgeID with tombstones skipped): MAX for
    /// the first of an empty stream, 0-0 for its last, as Redis answers.
    pub fn edge_id(&self, first: bool) -> StreamId {
        let r = if first { self.range_ids(StreamId::MIN, StreamId::MAX, false, 1) } else { self.range_ids(StreamId::MIN, StreamId::MAX, true, 1) };
        r.first().copied().unwrap_or(if first { StreamId::MAX } else { StreamId::MIN })
    }

    /// The last live entry's ID (streamLastValidID); 0-0 when empty.
    pub fn last_valid_id(&self) -> StreamId {
        self.edge_id(false)
    }

    /// Marks one entry deleted (streamDeleteItem); a node left with no live entry goes.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else { return false };
        let (fields, first) = node.layout();
        let mut off = first;
        while let Some(o) = off {
            let e = read_entry(&node.lp, master, fields.len(), o);
            off = e.next;
            if e.id == id && e.flags & FLAG_DELETED == 0 {
                let (live, deleted) = node.counts();
                if live == 1 {
                    self.nodes.remove(&master);
                } else {
                    node.replace_int(o, e.flags | FLAG_DELETED);
                    node.set_counts(live - 1, deleted + 1);
                }
                self.length -= 1;
                return true;
            }
            if e.id >= id {
                break;
            }
        }
        false
    }

    /// Trims from the head (streamTrim): whole nodes first; with `approx` only whole nodes;
    /// `limit` (0: none) caps the entries removed. Returns how many were removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: i64) -> i64 {
        let mut deleted: i64 = 0;
        while let Some(mut t) = self.nodes.first_entry() {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let master = *t.key();
            let (entries, marked) = t.get().counts();
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let node = t.get_mut();
            let (fields, first) = node.layout();
            let remove_node = match how {
                Trim::MaxLen(max) => self.length - entries as u64 >= max,
                Trim::MinId(min) => {
                    let last = entry_offsets(&node.lp, master, fields.len(), first).last().map_or(master, |(_, e)| e.id);
                    last < min
                }
            };
            if remove_node {
                t.remove();
                self.length -= entries as u64;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut from_node = 0;
            for (o, e) in entry_offsets(&node.lp, master, fields.len(), first) {
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if e.flags & FLAG_DELETED == 0 {
                    // Same-size replacement (flags 0..3 are one byte), so later offsets hold.
                    node.replace_int(o, e.flags | FLAG_DELETED);
                    from_node += 1;
                    self.length -= 1;
                }
            }
            deleted += from_node;
            node.set_counts(entries - from_node, marked + from_node);
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(true);
        }
        deleted
    }

    /// Whether `start..=end` may hold a deleted entry (streamRangeHasTombstones).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() || self.first_id > self.max_deleted_entry_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::MIN);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// An ID's logical read counter, or INVALID_ENTRIES_READ when it can't be known
    /// (streamEstimateDistanceFromFirstEverEntry).
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (streamReplyWithCGLag): None when it can't be computed.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(Some(g.last_id), None) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        (read != INVALID_ENTRIES_READ).then(|| self.entries_added as i64 - read)
    }

    /// Moves a group past `id` as a delivery does, keeping its read counter when it can.
    pub fn advance_group(&mut self, group: &[u8], id: StreamId) {
        let tomb = self.range_has_tombstones(Some(id), None);
        let est = if self.entries_added > 0 { Some(self.estimate_distance(id)) } else { None };
        let g = self.groups.get_mut(group).expect("group exists");
        if id > g.last_id {
            if g.entries_read != INVALID_ENTRIES_READ && !tomb {
                g.entries_read = g.entries_read.saturating_add(1);
            } else if let Some(e) = est {
                g.entries_read = e;
            }
            g.last_id = id;
        }
    }

    pub fn mem_usage(&self) -> usize {
        let nodes: usize = self.nodes.values().map(|n| n.lp.capacity() + 48).sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| name.len() + 96 + g.pel.len() * 80 + g.consumers.iter().map(|(n, c)| n.len() + 64 + c.pel.len() * 40).sum::<usize>())
            .sum();
        std::mem::size_of::<Stream>() + nodes + groups
    }

    /// The nodes as RDB carries them: (16-byte master ID, Redis listpack bytes).
    pub fn rdb_nodes(&self) -> Vec<([u8; 16], Vec<u8>)> {
        self.nodes
            .iter()
            .map(|(m, n)| {
                let items: Vec<Vec<u8>> = n.lp.iter().map(|v| v.to_vec()).collect();
                (m.encode(), redis_lp::encode(items.iter().map(|v| v.as_slice())))
            })
            .collect()
    }

    /// Adds a node read from RDB after checking that it is a well-formed stream node whose
    /// entries lie above `master` (streamValidateListpackIntegrity, deep). Returns the
    /// node's live entry count, or None if it is corrupt or a duplicate.
    pub fn load_node(&mut self, master: StreamId, items: Vec<Vec<u8>>) -> Option<i64> {
        let live = validate_node(master, &items)?;
        if self.nodes.contains_key(&master) {
            return None;
        }
        let mut node = Node { lp: Listpack::new(), redis_bytes: redis_lp::OVERHEAD };
        for v in &items {
            node.push(v);
        }
        self.nodes.insert(master, node);
        Some(live)
    }

    /// Checks a loaded stream's bookkeeping against its nodes (no panics later).
    pub fn consistent(&self) -> bool {
        let live: u64 = self.nodes.values().map(|n| n.counts().0 as u64).sum();
        let mut prev: Option<StreamId> = None;
        let ordered = self.nodes.iter().all(|(&m, n)| {
            let (fields, first) = n.layout();
            let es = entry_offsets(&n.lp, m, fields.len(), first);
            let ok = es.first().is_none_or(|(_, e)| prev.is_none_or(|p| e.id > p));
            if let Some((_, e)) = es.last() {
                prev = Some(e.id);
            }
            ok
        });
        live == self.length && ordered && prev.is_none_or(|p| p <= self.last_id)
    }
}

/// Walks a node's elements as Redis's deep validation does: a master entry, then entries
/// whose lp-count matches, IDs increasing and not below the master, counts that add up.
fn validate_node(master: StreamId, items: &[Vec<u8>]) -> Option<i64> {
    let int = |i: usize| -> Option<i64> { crate::util::parse_i64(items.get(i)?) };
    let live = int(0)?;
    let deleted = int(1)?;
    let nmaster = usize::try_from(int(2)?).ok()?;
    if live < 0 || deleted < 0 || nmaster == 0 || nmaster > items.len() {
        return None;
    }
    let mut p = 3 + nmaster;
    if int(p)? != 0 {
        return None;
    }
    p += 1;
    let (mut seen_live, mut seen_deleted) = (0i64, 0i64);
    let mut prev: Option<StreamId> = None;
    while p < items.len() {
        let start = p;
        let flags = int(p)?;
        let id = StreamId::new(master.ms.wrapping_add(int(p + 1)? as u64), master.seq.wrapping_add(int(p + 2)? as u64));
        if id < master || prev.is_some_and(|q| id <= q) || !(0..=3).contains(&flags) {
            return None;
        }
        prev = Some(id);
        p += 3;
        let n = if flags & FLAG_SAMEFIELDS != 0 {
            p += nmaster;
            nmaster
        } else {
            let n = usize::try_from(int(p)?).ok()?;
            p = p.checked_add(1 + n.checked_mul(2)?)?;
            n
        };
        let _ = n;
        if p >= items.len() || int(p)? != (p - start) as i64 {
            return None;
        }
        p += 1;
        if flags & FLAG_DELETED != 0 {
            seen_deleted += 1;
        } else {
            seen_live += 1;
        }
    }
    (seen_live == live && seen_deleted == deleted).then_some(live)
}

#[cfg(test)]
mod tests;
