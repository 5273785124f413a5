//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ... and later XREAD): the core never
//! waits. A blocking command that finds nothing records the client here and answers
//! `Reply::Blocked`; writes to a waited key mark it ready; after each command dispatch re-runs
//! the waiters of ready keys in arrival order, and a client whose command now completes gets
//! its reply queued and an `Event::Unblocked` for its host. Timeouts are deadlines the host
//! enforces (`Engine::expire_blocked`) and `tick` sweeps. Redis: blocked.c.

use std::collections::VecDeque;

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};

use crate::client::ClientId;
use crate::reply::Reply;

/// What a blocked client waits for (Redis's BLOCKED_* types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockType {
    /// A list at one of its keys (BLPOP, BLMOVE, BLMPOP).
    List,
    /// A sorted set (BZPOPMIN, BZMPOP).
    ZSet,
    /// New entries in a stream (XREAD, XREADGROUP).
    Stream,
    /// Replicas' acknowledgements (WAIT): served by the replication code, in no key queue.
    Wait,
    /// The end of CLIENT PAUSE (the command has no keys).
    Pause,
    /// The host's report (CONFIG REWRITE writes a file, DEBUG RELOAD reads one): in no
    /// queue, never timed out; the host's report ends it.
    Host,
}

impl BlockType {
    /// The value type that can serve it: a key that becomes another type leaves the client
    /// blocked, as in Redis 7.0.
    pub fn value_type(self) -> Option<&'static str> {
        match self {
            BlockType::List => Some("list"),
            BlockType::ZSet => Some("zset"),
            BlockType::Stream => Some("stream"),
            _ => None,
        }
    }
}

/// What a blocked client waits for and how to answer if it waits too long.
#[derive(Debug, Clone)]
pub struct Blocked {
    pub db: usize,
    pub keys: Vec<Bytes>,
    pub btype: BlockType,
    /// Unix milliseconds; 0 waits forever.
    pub deadline_ms: i64,
    /// The command, re-run when one of its keys is ready.
    pub argv: Vec<Bytes>,
    /// The reply on timeout (or CLIENT UNBLOCK ... TIMEOUT).
    pub timeout_reply: Reply,
}

#[derive(Debug, Default)]
pub struct Blocking {
    waiters: HashMap<(usize, Bytes), VecDeque<ClientId>>,
    ready: VecDeque<(usize, Bytes)>,
    ready_set: HashSet<(usize, Bytes)>,
    /// Clients blocked right now (INFO blocked_clients).
    pub count: usize,
}

impl Blocking {
    /// Queues `id` behind earlier waiters on each of its keys.
    pub fn add(&mut self, id: ClientId, b: &Blocked) {
        for k in &b.keys {
            let q = self.waiters.entry((b.db, k.clone())).or_default();
            if !q.contains(&id) {
                q.push_back(id);
            }
        }
        self.count += 1;
    }

    pub fn remove(&mut self, id: ClientId, b: &Blocked) {
        for k in &b.keys {
            let slot = (b.db, k.clone());
            if let Some(q) = self.waiters.get_mut(&slot) {
                q.retain(|&c| c != id);
                if q.is_empty() {
                    self.waiters.remove(&slot);
                }
            }
        }
        self.count = self.count.saturating_sub(1);
    }

    #[inline]
    pub fn has_waiters(&self) -> bool {
        !self.waiters.is_empty()
    }

    /// Marks a written key ready if anyone waits on it (signalKeyAsReady).
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiters.is_empty() {
            return;
        }
        let slot = (db, Bytes::copy_from_slice(key));
        if self.waiters.contains_key(&slot) && self.ready_set.insert(slot.clone()) {
            self.ready.push_back(slot);
        }
    }

    /// Every waited key of a database is ready (SWAPDB brought in other data).
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<Bytes> = self.waiters.keys().filter(|(d, _)| *d == db).map(|(_, k)| k.clone()).collect();
        for k in keys {
            self.signal(db, &k);
        }
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The next ready key and a snapshot of its waiters, in arrival order.
    pub fn next_ready(&mut self) -> Option<((usize, Bytes), Vec<ClientId>)> {
        let slot = self.ready.pop_front()?;
        self.ready_set.remove(&slot);
        let ids = self.waiters.get(&slot).map(|q| q.iter().copied().collect()).unwrap_or_default();
        Some((slot, ids))
    }
}
