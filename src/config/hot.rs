//! Parameters kept typed for the per-command path, refreshed whenever any parameter is set,
//! so hot paths do no name lookup.

use super::{output_limits, Config};

/// Parameters the per-command path reads; refreshed whenever any parameter is set.
#[derive(Debug, Clone, Default)]
pub struct Hot {
    pub(crate) lfu_policy: bool,
    /// `maxmemory` in bytes (0: no limit) and the policy, read before every command.
    pub(crate) maxmemory: u64,
    pub(crate) evict_policy: Policy,
    /// `maxmemory-clients` in bytes (a percentage resolved against maxmemory); 0: off.
    pub(crate) client_limit: u64,
    pub(crate) proto_max_bulk_len: i64,
    pub(crate) lfu_log_factor: i64,
    pub(crate) lfu_decay_time: i64,
    /// `lazyfree-lazy-expire` and `aof-timestamp-enabled`, read after every command while
    /// the AOF stream is on.
    pub(crate) lazyfree_lazy_expire: bool,
    pub(crate) aof_timestamp_enabled: bool,
    pub(crate) hash_max_listpack_entries: usize,
    pub(crate) hash_max_listpack_value: usize,
    pub(crate) list_max_listpack_size: i64,
    pub(crate) set_max_intset_entries: usize,
    pub(crate) zset_max_listpack_entries: usize,
    pub(crate) zset_max_listpack_value: usize,
    pub(crate) notify_flags: u32,
    pub(crate) slowlog_log_slower_than: i64,
    pub(crate) slowlog_max_len: usize,
    pub(crate) latency_tracking: bool,
    pub(crate) latency_monitor_threshold: i64,
    /// `min-replicas-to-write` and `min-replicas-max-lag` both set: writes get NOREPLICAS.
    pub(crate) min_replicas: bool,
    /// The rate the host runs `Engine::tick` at: `hz` within 1..=500.
    pub(crate) hz: u32,
    /// `hll-sparse-max-bytes`: a sparse HLL growing past it turns dense.
    pub(crate) hll_sparse_max_bytes: usize,
    /// `client-output-buffer-limit` by class: normal, replica, pubsub.
    pub(crate) output_limits: [OutputLimit; 3],
}

/// One class of `client-output-buffer-limit`: bytes (0: none) and the soft limit's seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// Client classes as `client-output-buffer-limit` names them (getClientType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientClass {
    Normal = 0,
    Replica = 1,
    PubSub = 2,
}

/// Which keys eviction may take and in what order (`maxmemory-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    #[default]
    NoEviction,
    AllkeysLru,
    VolatileLru,
    AllkeysLfu,
    VolatileLfu,
    AllkeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub fn parse(s: &str) -> Policy {
        match s {
            "allkeys-lru" => Policy::AllkeysLru,
            "volatile-lru" => Policy::VolatileLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "volatile-lfu" => Policy::VolatileLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    /// Only keys with a TTL are candidates.
    pub fn volatile(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl)
    }

    pub fn random(self) -> bool {
        matches!(self, Policy::AllkeysRandom | Policy::VolatileRandom)
    }
}

impl Config {
    pub(super) fn refresh_hot(&mut self) {
        self.hot = Hot {
            lfu_policy: self.get(crate::param!("maxmemory-policy")).ends_with("-lfu"),
            maxmemory: self.get_i64(crate::param!("maxmemory")).max(0) as u64,
            evict_policy: Policy::parse(self.get(crate::param!("maxmemory-policy"))),
            client_limit: {
                let v = self.get(crate::param!("maxmemory-clients"));
                match v.strip_suffix('%') {
                    Some(pct) => (self.get_i64(crate::param!("maxmemory")).max(0) as u64) * pct.parse::<u64>().unwrap_or(0) / 100,
                    None => v.parse().unwrap_or(0),
                }
            },
            proto_max_bulk_len: self.get_i64(crate::param!("proto-max-bulk-len")),
            lfu_log_factor: self.get_i64(crate::param!("lfu-log-factor")),
            lfu_decay_time: self.get_i64(crate::param!("lfu-decay-time")),
            lazyfree_lazy_expire: self.get(crate::param!("lazyfree-lazy-expire")) == "yes",
            aof_timestamp_enabled: self.get(crate::param!("aof-timestamp-enabled")) == "yes",
            hash_max_listpack_entries: self.get_i64(crate::param!("hash-max-listpack-entries")) as usize,
            hash_max_listpack_value: self.get_i64(crate::param!("hash-max-listpack-value")) as usize,
            list_max_listpack_size: self.get_i64(crate::param!("list-max-listpack-size")),
            set_max_intset_entries: self.get_i64(crate::param!("set-max-intset-entries")) as usize,
            zset_max_listpack_entries: self.get_i64(crate::param!("zset-max-listpack-entries")) as usize,
            zset_max_listpack_value: self.get_i64(crate::param!("zset-max-listpack-value")) as usize,
            slowlog_log_slower_than: self.get_i64(crate::param!("slowlog-log-slower-than")),
            slowlog_max_len: self.get_i64(crate::param!("slowlog-max-len")) as usize,
            latency_tracking: self.get_bool(crate::param!("latency-tracking")),
            latency_monitor_threshold: self.get_i64(crate::param!("latency-monitor-threshold")),
            min_replicas: self.get_i64(crate::param!("min-replicas-to-write")) > 0 && self.get_i64(crate::param!("min-replicas-max-lag")) > 0,
            hz: self.get_i64(crate::param!("hz")).clamp(1, 500) as u32,
            hll_sparse_max_bytes: self.get_i64(crate::param!("hll-sparse-max-bytes")).max(0) as usize,
            output_limits: {
                let mut limits = [OutputLimit::default(); 3];
                for (class, hard, soft, secs) in output_limits(self.get(crate::param!("client-output-buffer-limit"))) {
                    let i = match class.as_str() {
                        "normal" => ClientClass::Normal,
                        "slave" => ClientClass::Replica,
                        _ => ClientClass::PubSub,
                    } as usize;
                    limits[i] = OutputLimit { hard: hard.max(0) as u64, soft: soft.max(0) as u64, soft_seconds: secs.max(0) as u64 };
                }
                limits
            },
            notify_flags: self.notify_flags,
        };
    }
}
