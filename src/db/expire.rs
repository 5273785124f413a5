//! Active expiry: Redis's activeExpireCycle. Each call samples volatile keys at random and
//! deletes the expired ones, repeating while more than a quarter of a sample was expired, up
//! to a work budget. The core has no clock to measure itself by, so the bound is a number of
//! keys sampled per call; the host calls `Engine::tick` `hz` times a second.

use bytes::Bytes;

use super::Db;
use crate::util::Rng;

/// Keys sampled per loop (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
pub const KEYS_PER_LOOP: usize = 20;

/// Runs one cycle over `db`; returns the keys it deleted so the caller can notify `expired`.
pub fn active_expire_cycle(db: &mut Db, now_ms: i64, rng: &mut Rng, budget: &mut usize) -> Vec<Bytes> {
    let mut deleted = Vec::new();
    loop {
        let n = db.expires.len();
        if n == 0 || *budget == 0 {
            break;
        }
        let sample = n.min(KEYS_PER_LOOP);
        let mut expired = 0;
        let mut ttl_sum = 0i64;
        let mut ttl_samples = 0i64;
        for _ in 0..sample {
            if db.expires.is_empty() {
                break;
            }
            *budget = budget.saturating_sub(1);
            let i = rng.below(db.expires.len() as u64) as usize;
            let (k, &when) = db.expires.entry_at(i);
            if when <= now_ms {
                let k = Bytes::copy_from_slice(k);
                db.remove(&k);
                deleted.push(k);
                expired += 1;
            } else {
                ttl_sum += when - now_ms;
                ttl_samples += 1;
            }
        }
        if ttl_samples > 0 {
            let avg = ttl_sum / ttl_samples;
            // Redis smooths avg_ttl: new estimate weighs 2% against the running value.
            db.avg_ttl = if db.avg_ttl == 0 { avg } else { (db.avg_ttl / 50) * 49 + avg / 50 };
        }
        if expired * 4 <= sample {
            break;
        }
    }
    if db.expires.is_empty() {
        db.avg_ttl = 0;
    }
    deleted
}
