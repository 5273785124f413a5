//! maxmemory: what the engine holds, and the eviction that keeps it under the limit. Redis:
//! evict.c (performEvictions, evictionPoolPopulate, getMaxmemoryState).
//!
//! Memory is what the host's allocator says is live (a counting allocator natively and in
//! wasm), because only the allocator sees every byte the engine holds; a host without one
//! gets a per-key estimate. Eviction runs before each command that may add memory and from
//! the host's tick, deleting keys the policy picks until used memory is under `maxmemory`
//! or a time budget (`maxmemory-eviction-tenacity`) runs out; then it goes on from the next
//! command or tick, as Redis's eviction timer does.

use bytes::Bytes;

use crate::config::Policy;
use crate::server::Server;

/// Candidates kept between calls, best (most idle) last (EVPOOL_SIZE).
pub const POOL_SIZE: usize = 16;

/// The outcome of one eviction pass (EVICT_OK / EVICT_RUNNING / EVICT_FAIL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or no limit).
    Ok,
    /// Over the limit, but the pass ran out of time and will go on: commands still run.
    Running,
    /// Over the limit with nothing left that the policy may evict: denyoom commands fail.
    Fail,
}

#[derive(Debug, Clone)]
struct Candidate {
    idle: u64,
    db: usize,
    key: Bytes,
}

/// Eviction's state across commands.
#[derive(Debug, Default)]
pub struct Evict {
    pool: Vec<Candidate>,
    /// The database random eviction takes from next (evict.c's static next_db).
    next_db: usize,
    /// A pass stopped on its time budget while still over the limit.
    pub running: bool,
    /// Keys evicted and not yet announced (WATCH, tracking, the `evicted` event), by db.
    pub log: Vec<(usize, Bytes)>,
    /// When the server went over the limit without getting back under (µs on the host's
    /// clock), and the total time spent so (INFO stats *_eviction_exceeded_time).
    pub exceeded_since: Option<i64>,
    pub exceeded_total_us: i64,
    /// The highest used memory seen (INFO used_memory_peak).
    pub peak: u64,
    /// The last pass before a command failed (pre_command_oom_state).
    pub oom: bool,
    /// Used memory when the host finished starting (INFO used_memory_startup).
    pub startup: u64,
}

/// Bytes the engine holds: the host's allocator, else the host's last report, else an
/// estimate from the keyspace (a host without either pays a full walk each time).
pub fn used_memory(srv: &Server) -> u64 {
    if let Some(probe) = srv.host.calls.memory_probe {
        return probe();
    }
    if srv.host.memory.used_memory > 0 {
        return srv.host.memory.used_memory;
    }
    let mut total = 0usize;
    for db in &srv.dbs {
        total += db.mem_usage();
        for (k, e) in db.iter() {
            total += k.len() + e.value.mem_usage();
        }
    }
    total as u64
}

/// Memory eviction does not count: buffers that would shrink by themselves, so evicting
/// keys for them would empty the dataset for nothing (freeMemoryGetNotCountedMemory).
pub fn not_counted(srv: &Server) -> u64 {
    // Slots the keyspace keeps after deletes are free for the next keys, as freed memory
    // is for jemalloc: counting them would make eviction delete far more than it must.
    let spare: usize = srv.dbs.iter().map(|d| d.spare_bytes()).sum();
    (srv.prop.buffered() + spare) as u64
}

/// Used memory as the limit sees it (used_memory less what is not counted).
pub fn counted_memory(srv: &Server) -> u64 {
    used_memory(srv).saturating_sub(not_counted(srv))
}

/// Used memory as the limit sees it, and how far over the limit that is (0: under).
pub fn maxmemory_state(srv: &Server) -> (u64, u64) {
    let max = srv.config.hot.maxmemory;
    if max == 0 {
        return (0, 0);
    }
    let used = counted_memory(srv);
    (used, used.saturating_sub(max))
}

/// How long one pass may run before handing over to the next (evictionTimeLimitUs):
/// 50 µs per step up to tenacity 10, then 15% more per step, unbounded at 100.
fn time_limit_us(tenacity: i64) -> u64 {
    match tenacity {
        t if t <= 10 => 50 * t.max(0) as u64,
        t if t < 100 => (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
        _ => u64::MAX,
    }
}

/// Whether eviction may run now (isSafeToPerformEvictions): not while a dataset loads or
/// clients are paused (the dataset must stay as it is). A running script's own commands
/// never evict (they are not clients' commands), nor does anything answered for a busy one.
fn safe(srv: &Server) -> bool {
    !srv.loading && srv.clients.pause.is_none()
}

/// Evicts keys until used memory is under `maxmemory` (performEvictions).
pub fn perform_evictions(srv: &mut Server) -> Outcome {
    if srv.config.hot.maxmemory == 0 || !safe(srv) {
        return Outcome::Ok;
    }
    let (_, to_free) = maxmemory_state(srv);
    srv.memory.evict.peak = srv.memory.evict.peak.max(used_memory(srv));
    let clock = srv.host.calls.clock;
    let now = || clock.map_or(0, |c| c());
    if to_free == 0 {
        srv.memory.evict.running = false;
        if let Some(since) = srv.memory.evict.exceeded_since.take() {
            srv.memory.evict.exceeded_total_us += (now() - since).max(0);
        }
        return Outcome::Ok;
    }
    let start = now();
    if srv.memory.evict.exceeded_since.is_none() {
        srv.memory.evict.exceeded_since = Some(start);
    }
    let policy = srv.config.hot.evict_policy;
    if policy == Policy::NoEviction {
        return Outcome::Fail;
    }
    let limit_us = time_limit_us(srv.config.get_i64(crate::param!("maxmemory-eviction-tenacity")));
    let probe = srv.host.calls.memory_probe.is_some();
    let mut freed = 0u64;
    let mut keys_freed = 0u64;
    let mut outcome = Outcome::Ok;
    srv.memory.evict.running = false;
    while freed < to_free {
        let Some((db, key)) = (if policy.random() { pick_random(srv, policy) } else { pick_best(srv, policy) }) else {
            outcome = Outcome::Fail;
            break;
        };
        let before = if probe { maxmemory_state(srv).0 } else { 0 };
        let estimate = srv.dbs[db].peek(&key).map_or(0, |e| key.len() + e.value.mem_usage()) as u64;
        srv.dbs[db].remove(&key);
        freed += if probe { before.saturating_sub(maxmemory_state(srv).0) } else { estimate };
        srv.stats.evicted_keys += 1;
        if let Some(dels) = srv.dbs[db].expired_dels.as_mut() {
            dels.push(key.clone());
        }
        srv.memory.evict.log.push((db, key));
        keys_freed += 1;
        // Without a host clock, count each key as one microsecond of work.
        if keys_freed.is_multiple_of(16) {
            let elapsed = if clock.is_some() { (now() - start).max(0) as u64 } else { keys_freed };
            if elapsed > limit_us {
                srv.memory.evict.running = true;
                break;
            }
        }
    }
    if outcome == Outcome::Ok && srv.memory.evict.running {
        outcome = Outcome::Running;
    }
    if outcome == Outcome::Ok {
        // Reached the target: the span over the limit ends.
        if let Some(since) = srv.memory.evict.exceeded_since.take() {
            srv.memory.evict.exceeded_total_us += (now() - since).max(0);
        }
    }
    if clock.is_some() && keys_freed > 0 {
        let ms = ((now() - start).max(0) / 1000) as u64;
        let threshold = srv.config.hot.latency_monitor_threshold;
        if threshold > 0 && ms as i64 >= threshold {
            let t = srv.now_ms() / 1000;
            srv.stats.latency.add_sample("eviction-cycle", ms, t);
        }
    }
    outcome
}

/// A random key of the next database that has one (the random policies).
fn pick_random(srv: &mut Server, policy: Policy) -> Option<(usize, Bytes)> {
    let n = srv.dbs.len();
    for _ in 0..n {
        srv.memory.evict.next_db = (srv.memory.evict.next_db + 1) % n;
        let db = &srv.dbs[srv.memory.evict.next_db];
        let len = if policy.volatile() { db.expires.len() } else { db.keys.len() };
        if len == 0 {
            continue;
        }
        let i = srv.rng.below(len as u64) as usize;
        let key = Bytes::copy_from_slice(if policy.volatile() { db.expires.entry_at(i).0 } else { db.keys.entry_at(i).0 });
        return Some((srv.memory.evict.next_db, key));
    }
    None
}

/// The best candidate by the pool (the LRU, LFU and TTL policies): sample every database
/// into the pool, then take the most idle entry that still exists.
fn pick_best(srv: &mut Server, policy: Policy) -> Option<(usize, Bytes)> {
    loop {
        let mut sampled = 0;
        for db in 0..srv.dbs.len() {
            sampled += populate(srv, db, policy);
        }
        if sampled == 0 {
            return None;
        }
        while let Some(c) = srv.memory.evict.pool.pop() {
            let d = &srv.dbs[c.db];
            let alive = if policy.volatile() { d.expires.contains_key(&c.key[..]) } else { d.keys.contains_key(&c.key[..]) };
            if alive {
                return Some((c.db, c.key));
            }
        }
    }
}

/// Samples `maxmemory-samples` keys of one database into the pool (evictionPoolPopulate);
/// how many it looked at.
fn populate(srv: &mut Server, db: usize, policy: Policy) -> usize {
    let samples = srv.config.get_i64(crate::param!("maxmemory-samples")).max(1) as usize;
    let len = if policy.volatile() { srv.dbs[db].expires.len() } else { srv.dbs[db].keys.len() };
    if len == 0 {
        return 0;
    }
    let n = samples.min(len);
    for _ in 0..n {
        let i = srv.rng.below(len as u64) as usize;
        let d = &srv.dbs[db];
        let (key, ttl) = if policy.volatile() {
            let (k, &w) = d.expires.entry_at(i);
            (Bytes::copy_from_slice(k), Some(w))
        } else {
            (Bytes::copy_from_slice(d.keys.entry_at(i).0), None)
        };
        let idle = match policy {
            Policy::VolatileTtl => u64::MAX - ttl.unwrap_or(0).max(0) as u64,
            Policy::AllkeysLfu | Policy::VolatileLfu => {
                let Some(e) = d.keys.get(&key[..]) else { continue };
                255 - srv.access_clock().lfu_decayed(e.lru) as u64
            }
            _ => {
                let Some(e) = d.keys.get(&key[..]) else { continue };
                srv.access_clock().idle_seconds(e) as u64
            }
        };
        insert(&mut srv.memory.evict.pool, Candidate { idle, db, key });
    }
    n
}

/// Keeps the pool sorted by idle, best last, at most POOL_SIZE long; a candidate worse
/// than every entry of a full pool is dropped.
fn insert(pool: &mut Vec<Candidate>, c: Candidate) {
    if pool.iter().any(|p| p.db == c.db && p.key == c.key) {
        return;
    }
    let k = pool.partition_point(|p| p.idle < c.idle);
    if pool.len() < POOL_SIZE {
        pool.insert(k, c);
    } else if k > 0 {
        pool.remove(0);
        pool.insert(k - 1, c);
    }
}

/// Client eviction (Redis 7's evictClients): while the clients together hold more than
/// `maxmemory-clients`, the biggest one that is not `CLIENT NO-EVICT` is closed, so many
/// clients' buffers cannot take the memory the dataset needs. Returns the clients to close;
/// the caller marks them and tells the host.
pub fn clients_to_evict<'a>(srv: &mut Server, clients: impl Iterator<Item = &'a crate::client::Client>) -> Vec<crate::client::ClientId> {
    let limit = srv.config.hot.client_limit;
    if limit == 0 {
        return Vec::new();
    }
    let mut sizes: Vec<(u64, crate::client::ClientId)> =
        clients.filter(|c| !c.conn.no_evict && !c.conn.close_asap && c.id != 0 && !c.role.master && !c.role.replica).map(|c| (c.memory(), c.id)).collect();
    let mut total: u64 = sizes.iter().map(|(m, _)| m).sum();
    if total <= limit {
        return Vec::new();
    }
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let mut out = Vec::new();
    for (m, id) in sizes {
        if total <= limit {
            break;
        }
        total -= m;
        out.push(id);
    }
    srv.stats.evicted_clients += out.len() as u64;
    out
}

/// Forgets pooled candidates (FLUSHALL, a policy change), as Redis empties its pool.
pub fn clear_pool(srv: &mut Server) {
    srv.memory.evict.pool.clear();
}

#[cfg(test)]
mod tests;
