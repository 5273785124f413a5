//! Lazy freeing (Redis's lazyfree.c). Freeing a value made of many allocations (a big set,
//! hash or sorted set, a list of many nodes, a stream) takes time proportional to its size;
//! UNLINK, FLUSHALL/FLUSHDB ASYNC and `lazyfree-lazy-user-del`/`-user-flush` hand such a value
//! to the host instead, which drops it off the command path (the native server on its own
//! thread). The core never runs threads: it only counts what is pending and what was freed
//! (INFO `lazyfree_pending_objects`, `lazyfreed_objects`), with atomics the host's freeing
//! side updates. A host that takes nothing gets its garbage freed at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::object::Value;

/// Below this many allocations freeing at once is cheaper than handing off.
pub const THRESHOLD: usize = 64;

#[derive(Default, Debug)]
pub struct Counters {
    pending: AtomicU64,
    freed: AtomicU64,
}

/// Something to drop, and how many objects INFO counts for it.
pub struct Job {
    garbage: Box<dyn std::any::Any + Send>,
    objects: u64,
    counters: Arc<Counters>,
}

impl Job {
    /// Frees the garbage (on whatever thread the host likes) and counts it as freed.
    pub fn free(self) {
        let Job { garbage, objects, counters } = self;
        drop(garbage);
        counters.pending.fetch_sub(objects, Ordering::Relaxed);
        counters.freed.fetch_add(objects, Ordering::Relaxed);
    }
}

#[derive(Default)]
pub struct LazyFree {
    counters: Arc<Counters>,
    queue: Vec<Job>,
    /// The host takes the jobs (`Engine::take_lazyfree`) after each batch.
    pub host_frees: bool,
}

impl LazyFree {
    pub fn pending(&self) -> u64 {
        self.counters.pending.load(Ordering::Relaxed)
    }

    pub fn freed(&self) -> u64 {
        self.counters.freed.load(Ordering::Relaxed)
    }

    /// CONFIG RESETSTAT (lazyfreeResetStats).
    pub fn reset_stats(&self) {
        self.counters.freed.store(0, Ordering::Relaxed);
    }

    fn hand_off(&mut self, garbage: Box<dyn std::any::Any + Send>, objects: u64) {
        self.counters.pending.fetch_add(objects, Ordering::Relaxed);
        let job = Job { garbage, objects, counters: self.counters.clone() };
        if self.host_frees {
            self.queue.push(job);
        } else {
            job.free();
        }
    }

    /// freeObjAsync: a value past the threshold goes to the host, a small one is dropped.
    pub fn free_value(&mut self, v: Value) {
        if effort(&v) > THRESHOLD {
            self.hand_off(Box::new(v), 1);
        } else {
            drop(v);
        }
    }

    /// emptyDbAsync: a whole keyspace, counted as its number of keys.
    pub fn free_keyspace(&mut self, garbage: Box<dyn std::any::Any + Send>, keys: usize) {
        self.hand_off(garbage, keys as u64);
    }

    pub fn take(&mut self) -> Vec<Job> {
        std::mem::take(&mut self.queue)
    }
}

/// lazyfreeGetFreeEffort: about how many allocations freeing the value takes. Compact
/// encodings (listpack, intset, strings) are one.
pub fn effort(v: &Value) -> usize {
    match v {
        Value::List(l) => l.node_count(),
        Value::Set(s) if s.encoding() == "hashtable" => s.len(),
        Value::ZSet(z) if z.encoding() == "skiplist" => z.len(),
        Value::Hash(h) if h.encoding() == "hashtable" => h.len(),
        // Every node is an allocation; every group too, with its PEL's entries (the first
        // group's PEL stands for all, as in Redis).
        Value::Stream(s) => s.node_count() + s.groups.len() * (1 + s.groups.values().next().map_or(0, |g| g.pel.len())),
        _ => 1,
    }
}
