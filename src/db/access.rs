//! The per-key access clock behind OBJECT IDLETIME / OBJECT FREQ and (later) eviction. Like
//! Redis's 24-bit `lru` field it holds one of two things, chosen by `maxmemory-policy`:
//! LRU: seconds on the engine's clock at last access; LFU: minutes (16 bits) << 8 | a
//! logarithmic access counter (8 bits). Redis: evict.c (LFU*), db.c (updateLFU).

use crate::object::Entry;
use crate::server::Server;

/// The LRU clock wraps at 24 bits, as the `lru` field of Redis's objects does.
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// Initial counter of a new key, so it is not evicted before it had a chance (LFU_INIT_VAL).
pub const LFU_INIT_VAL: u32 = 5;

pub fn lfu_policy(srv: &Server) -> bool {
    srv.config.hot.lfu_policy
}

fn minutes(srv: &Server) -> u32 {
    ((srv.now_ms() / 60_000) & 0xffff) as u32
}

/// The stamp a freshly written key gets.
pub fn initial(srv: &Server) -> u32 {
    if lfu_policy(srv) {
        (minutes(srv) << 8) | LFU_INIT_VAL
    } else {
        srv.lru_clock()
    }
}

/// The stamp after an access (lookupKey's updateLFU / LRU_CLOCK()).
pub fn touched(srv: &mut Server, stamp: u32) -> u32 {
    if lfu_policy(srv) {
        let counter = lfu_incr(srv, lfu_decayed(srv, stamp));
        (minutes(srv) << 8) | counter
    } else {
        srv.lru_clock()
    }
}

/// The counter after decay: one point per `lfu-decay-time` minutes since the last access.
pub fn lfu_decayed(srv: &Server, stamp: u32) -> u32 {
    let ldt = stamp >> 8;
    let counter = stamp & 255;
    let decay = srv.config.hot.lfu_decay_time.max(0) as u32;
    let now = minutes(srv);
    let elapsed = if now >= ldt { now - ldt } else { 65535 - ldt + now };
    let periods = elapsed.checked_div(decay).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Logarithmic increment: the higher the counter, the less likely it grows (LFULogIncr).
fn lfu_incr(srv: &mut Server, counter: u32) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let r = (srv.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * srv.config.hot.lfu_log_factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// Seconds since last access under LRU (estimateObjectIdleTime), across the clock's wrap.
pub fn idle_seconds(srv: &Server, e: &Entry) -> i64 {
    let (now, then) = (srv.lru_clock() as i64, e.lru as i64);
    if now >= then {
        now - then
    } else {
        now + (LRU_CLOCK_MAX as i64 - then)
    }
}

/// objectSetLRUOrLFU: the stamp of a key restored with IDLETIME or FREQ (RESTORE, RDB), each
/// kept only under the policy that tracks it.
pub fn restored(srv: &Server, freq: Option<u32>, idle_secs: Option<u64>) -> u32 {
    match (lfu_policy(srv), freq, idle_secs) {
        (true, Some(f), _) => (minutes(srv) << 8) | f.min(255),
        (false, _, Some(idle)) => {
            let abs = srv.lru_clock() as i64 - idle.min(i64::MAX as u64) as i64;
            // A wrapping clock: an access before the wrap lands near the top again.
            (if abs < 0 { abs.rem_euclid(LRU_CLOCK_MAX as i64) } else { abs }) as u32
        }
        _ => initial(srv),
    }
}
