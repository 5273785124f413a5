//! The per-key access clock behind OBJECT IDLETIME / OBJECT FREQ and (later) eviction. Like
//! Redis's 24-bit `lru` field it holds one of two things, chosen by `maxmemory-policy`:
//! LRU: seconds on the engine's clock at last access; LFU: minutes (16 bits) << 8 | a
//! logarithmic access counter (8 bits). Redis: evict.c (LFU*), db.c (updateLFU).

use crate::object::Entry;
use crate::util::Rng;

/// The LRU clock wraps at 24 bits, as the `lru` field of Redis's objects does.
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// Initial counter of a new key, so it is not evicted before it had a chance (LFU_INIT_VAL).
pub const LFU_INIT_VAL: u32 = 5;

/// What a stamp is measured against: the time of the running command and the policy's knobs,
/// taken from the server for each use (`Server::access_clock`), so this layer needs nothing
/// above the keyspace.
#[derive(Debug, Clone, Copy)]
pub struct AccessClock {
    pub now_ms: i64,
    /// `maxmemory-policy` is an LFU one: stamps hold minutes and a counter.
    pub lfu: bool,
    pub lfu_decay_time: i64,
    pub lfu_log_factor: i64,
}

impl AccessClock {
    /// Redis's 24-bit LRU clock (getLRUClock): Unix seconds modulo 2^24, the clock
    /// `Entry::lru` counts in under an LRU policy; INFO shows it as `lru_clock`.
    pub fn lru_clock(&self) -> u32 {
        ((self.now_ms.max(0) / 1000) as u64 & LRU_CLOCK_MAX as u64) as u32
    }

    fn minutes(&self) -> u32 {
        ((self.now_ms / 60_000) & 0xffff) as u32
    }

    /// The stamp a freshly written key gets.
    pub fn initial(&self) -> u32 {
        if self.lfu {
            (self.minutes() << 8) | LFU_INIT_VAL
        } else {
            self.lru_clock()
        }
    }

    /// The stamp after an access (lookupKey's updateLFU / LRU_CLOCK()).
    pub fn touched(&self, rng: &mut Rng, stamp: u32) -> u32 {
        if self.lfu {
            let counter = self.lfu_incr(rng, self.lfu_decayed(stamp));
            (self.minutes() << 8) | counter
        } else {
            self.lru_clock()
        }
    }

    /// The counter after decay: one point per `lfu-decay-time` minutes since the last access.
    pub fn lfu_decayed(&self, stamp: u32) -> u32 {
        let ldt = stamp >> 8;
        let counter = stamp & 255;
        let decay = self.lfu_decay_time.max(0) as u32;
        let now = self.minutes();
        let elapsed = if now >= ldt { now - ldt } else { 65535 - ldt + now };
        let periods = elapsed.checked_div(decay).unwrap_or(0);
        counter.saturating_sub(periods)
    }

    /// Logarithmic increment: the higher the counter, the less likely it grows (LFULogIncr).
    fn lfu_incr(&self, rng: &mut Rng, counter: u32) -> u32 {
        if counter >= 255 {
            return 255;
        }
        let r = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
        let p = 1.0 / (base * self.lfu_log_factor as f64 + 1.0);
        if r < p {
            counter + 1
        } else {
            counter
        }
    }

    /// Seconds since last access under LRU (estimateObjectIdleTime), across the clock's wrap.
    pub fn idle_seconds(&self, e: &Entry) -> i64 {
        let (now, then) = (self.lru_clock() as i64, e.lru as i64);
        if now >= then {
            now - then
        } else {
            now + (LRU_CLOCK_MAX as i64 - then)
        }
    }

    /// objectSetLRUOrLFU: the stamp of a key restored with IDLETIME or FREQ (RESTORE, RDB),
    /// each kept only under the policy that tracks it.
    pub fn restored(&self, freq: Option<u32>, idle_secs: Option<u64>) -> u32 {
        match (self.lfu, freq, idle_secs) {
            (true, Some(f), _) => (self.minutes() << 8) | f.min(255),
            (false, _, Some(idle)) => {
                let abs = self.lru_clock() as i64 - idle.min(i64::MAX as u64) as i64;
                // A wrapping clock: an access before the wrap lands near the top again.
                (if abs < 0 { abs.rem_euclid(LRU_CLOCK_MAX as i64) } else { abs }) as u32
            }
            _ => self.initial(),
        }
    }
}
