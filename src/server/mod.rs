//! The server's state as command handlers see it (Redis's `struct redisServer`): the
//! databases, the configuration, and one named part per subsystem. The host contract that
//! drives it lives above, in `engine`.

pub mod aof;
pub mod evict;
mod host;
pub mod persistence;
pub mod propagate;
pub mod refusals;
pub mod replication;
mod stats;

pub use host::{FileStep, HostCalls, HostCan, HostInfo, HostMemory, MigrateHost, MigrateOutcome, MigrateRequest};
pub use stats::{CommandStat, Instantaneous, IoCounts, SlowEntry, Stats};

use crate::client::ClientId;
use crate::config::Config;
use crate::db::Db;
use crate::event::Event;
use crate::util::Rng;
use persistence::Persistence;

/// DEBUG's switches for Redis's own tests (debug.c): what they turn off stays off until
/// they turn it back on.
pub struct DebugSwitches {
    /// RDB files and DUMP payloads load without their CRC64 checked
    /// (SET-SKIP-CHECKSUM-VALIDATION).
    pub skip_checksum: bool,
    /// Scripts may call commands flagged NOSCRIPT (SET-DISABLE-DENY-SCRIPTS).
    pub allow_noscript_in_scripts: bool,
    /// `tick` does nothing: no active expiry, no cron saves, no timeouts from the cron
    /// (PAUSE-CRON).
    pub pause_cron: bool,
    /// The next CONFIG REWRITE writes every parameter, defaults included
    /// (CONFIG-REWRITE-FORCE-ALL).
    pub rewrite_force_all: bool,
    /// The cron's active expiry cycle runs (SET-ACTIVE-EXPIRE).
    pub active_expire: bool,
}

impl Default for DebugSwitches {
    fn default() -> Self {
        DebugSwitches { skip_checksum: false, allow_noscript_in_scripts: false, pause_cron: false, rewrite_force_all: false, active_expire: true }
    }
}

/// The server's sense of time: every reading comes from the host (the core has no clock).
#[derive(Debug, Default)]
pub struct Clock {
    /// The time of the command (or tick) being run, µs since the Unix epoch.
    pub now_us: i64,
    /// When the server started (INFO uptime).
    pub start_us: i64,
    /// The host's monotonic clock when the running command started (see `dispatch::call`).
    pub mark: i64,
    /// Time the host will spend sleeping for the running command (DEBUG SLEEP happens after
    /// the batch), counted in that command's duration as in Redis.
    pub slept_us: i64,
    /// DEBUG SLEEP's time not yet on the clock: the next command of the batch and the
    /// blocked clients served after it see it passed, as they run after the sleep in Redis
    /// (a transaction's own commands do not: Redis's time stands still inside EXEC).
    pub sleep_debt_us: i64,
}

impl Clock {
    /// Puts DEBUG SLEEP's time on the clock (updateCachedTime after the sleep).
    pub fn settle_sleep(&mut self) {
        self.now_us += std::mem::take(&mut self.sleep_debt_us);
    }
}

/// What the server keeps about its clients across the client table: who waits on what,
/// who listens to what, and the pause in force.
#[derive(Default)]
pub struct Clients {
    pub next_id: ClientId,
    /// Clients waiting on keys, and keys written since their waiters were last served.
    pub blocking: crate::blocking::Blocking,
    /// Keys under WATCH, by client.
    pub watched: crate::multi::WatchedKeys,
    /// Channel, pattern and shard-channel subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// Client-side caching: tracked keys, BCAST prefixes, pending invalidations.
    pub tracking: crate::tracking::Tracking,
    /// Clients in MONITOR mode.
    pub monitors: Vec<ClientId>,
    /// CLIENT PAUSE in force: until when (Unix ms) and whether every command (ALL) or only
    /// writes wait; and the clients whose command waits for the pause to end.
    pub pause: Option<(i64, bool)>,
    pub paused: Vec<ClientId>,
}

/// Memory given back: maxmemory eviction and values handed to the host to free.
#[derive(Default)]
pub struct Memory {
    /// maxmemory eviction: the candidate pool, a pass still running, keys to announce.
    pub evict: crate::server::evict::Evict,
    /// Values and keyspaces handed to the host to free (UNLINK, FLUSHALL ASYNC).
    pub lazyfree: crate::lazyfree::LazyFree,
}

/// Server-wide state that command handlers see (everything but the client table), one
/// named part per subsystem.
pub struct Server {
    pub(crate) dbs: Vec<Db>,
    pub(crate) config: Config,
    pub(crate) rng: Rng,
    pub(crate) clock: Clock,
    /// What the host must act on, drained by `Engine::drain_events`.
    pub(crate) events: Vec<Event>,
    /// INFO's counters, SLOWLOG and the latency monitor.
    pub(crate) stats: Stats,
    pub(crate) debug: DebugSwitches,
    /// Host-reported facts for INFO (process id, TCP port, executable, ...) and the calls
    /// the host offers (files, clocks, probes).
    pub(crate) host: HostInfo,
    pub(crate) clients: Clients,
    /// The primary's replication state: ids, offset, backlog, attached replicas; and the
    /// link to our own primary on a replica.
    pub(crate) repl: replication::Replication,
    /// Commands as they must be replayed, for the AOF and replicas (see `propagate`).
    pub(crate) prop: crate::server::propagate::Propagation,
    /// Snapshots: save points, the background child, loading.
    pub(crate) persistence: Persistence,
    /// The append-only file's state (the host owns the file).
    pub(crate) aof: aof::Status,
    /// EVAL scripts, FUNCTION libraries, their Lua VMs and the script running now.
    pub(crate) scripting: crate::script::Scripting,
    /// ACL users and the ACL LOG.
    pub(crate) acl: crate::acl::Acl,
    pub(crate) memory: Memory,
    /// The host's side of MIGRATE (connections to other servers); None: MIGRATE refuses.
    pub(crate) migrate_host: Option<Box<dyn MigrateHost>>,
    /// redis.conf's `rename-command` directives.
    pub(crate) renames: crate::command::rename::Renames,
    /// A dataset is being loaded (AOF replay, a replica's sync): commands are not counted,
    /// keys do not expire.
    pub(crate) loading: bool,
}

impl Server {
    /// A line for the host's log (`Event::Log`) at `level` (0 debug .. 3 warning), if
    /// `loglevel` lets it through (serverLog).
    /// What runs after each key a save (`rdb-key-save-delay`) or a load (`key-load-delay`)
    /// handles: the host's delay, when both it and the setting are there.
    pub(crate) fn key_pacer(&self, param: crate::config::ParamId) -> Option<impl Fn() + use<>> {
        let usec = self.config.get_i64(param);
        self.host.calls.delay.filter(|_| usec != 0).map(|delay| move || delay(usec))
    }

    pub fn log(&mut self, level: u8, message: impl FnOnce() -> String) {
        let threshold = match self.config.get(crate::param!("loglevel")) {
            "debug" => 0,
            "verbose" => 1,
            "notice" => 2,
            "warning" => 3,
            _ => 4,
        };
        if level >= threshold {
            self.events.push(Event::Log { level, message: message() });
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_us / 1000
    }

    /// Whether the last eviction pass before the running command left memory over the
    /// limit with nothing to evict (server.pre_command_oom_state): scripts judge their
    /// writes by it, not by memory their own run allocated.
    pub fn over_maxmemory(&self) -> bool {
        self.config.hot.maxmemory > 0 && self.memory.evict.oom
    }

    /// Starts, extends or (None) ends CLIENT PAUSE. The databases learn until when, since
    /// expired keys stay in place while clients are paused (see `Db::paused_until`).
    pub fn set_pause(&mut self, pause: Option<(i64, bool)>) {
        self.clients.pause = pause;
        // A replica keeps expired keys for its primary's DELs, as a pause keeps them.
        let until = if self.repl.master.is_some() { i64::MAX } else { pause.map_or(0, |(end, _)| end) };
        for db in &mut self.dbs {
            db.paused_until = until;
        }
    }

    /// Redis's 24-bit LRU clock (getLRUClock); INFO shows it as `lru_clock`.
    pub fn lru_clock(&self) -> u32 {
        self.access_clock().lru_clock()
    }

    /// The clock and policy keys' access stamps are kept in (OBJECT IDLETIME/FREQ, eviction).
    pub fn access_clock(&self) -> crate::db::access::AccessClock {
        let hot = &self.config.hot;
        crate::db::access::AccessClock { now_ms: self.now_ms(), lfu: hot.lfu_policy, lfu_decay_time: hot.lfu_decay_time, lfu_log_factor: hot.lfu_log_factor }
    }
}
