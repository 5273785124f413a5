//! Server parameters: one table drives CONFIG GET/SET, the host's command-line flags and
//! redis.conf parsing, so a directive works the same in all three. Values are kept as Redis
//! prints them in CONFIG GET, and typed accessors read them back.
//! Redis: config.c (standardConfig table, loadServerConfigFromString).

use crate::error::{Error, Result};
use crate::util::glob_match;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// Byte sizes accepting `k kb m mb g gb` suffixes; printed as plain bytes.
    Memory,
    /// A Memory parameter read exactly as Redis's MEMORY_CONFIG numerics are (`memtoull`,
    /// then the bounds): an empty value is 0, a sign is refused, and a number too big for
    /// the range is a bounds error rather than a parse error.
    MemoryIn {
        min: i64,
        max: i64,
    },
    Str,
    Enum(&'static [&'static str]),
    /// Space-separated list (`save`, `bind`).
    List,
    /// File permissions (`unixsocketperm`): read and printed in octal.
    Octal,
}

struct Param {
    name: &'static str,
    alias: Option<&'static str>,
    kind: Kind,
    default: &'static str,
    /// Set only at startup (CONFIG SET refuses with "can't set immutable config").
    immutable: bool,
    /// Redis's HIDDEN_CONFIG (debugging knobs): CONFIG GET answers them by exact name only.
    hidden: bool,
}

const fn p(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param { name, alias: None, kind, default, immutable: false, hidden: false }
}
const fn fixed(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param { name, alias: None, kind, default, immutable: true, hidden: false }
}
const fn hidden(mut p: Param) -> Param {
    p.hidden = true;
    p
}

const fn aka(mut p: Param, alias: &'static str) -> Param {
    p.alias = Some(alias);
    p
}

const I: Kind = Kind::Int { min: 0, max: i64::MAX };

static PARAMS: &[Param] = &[
    // Settable at runtime where the host listens (`HostInfo::listens`): it re-binds.
    p("port", Kind::Int { min: 0, max: 65535 }, "6379"),
    p("bind", Kind::List, "127.0.0.1 -::1"),
    fixed("databases", Kind::Int { min: 1, max: i32::MAX as i64 }, "16"),
    fixed("daemonize", Kind::Bool, "no"),
    fixed("unixsocket", Kind::Str, ""),
    fixed("pidfile", Kind::Str, ""),
    fixed("logfile", Kind::Str, ""),
    fixed("enable-debug-command", Kind::Enum(&["no", "yes", "local"]), "no"),
    fixed("io-threads", Kind::Int { min: 1, max: 128 }, "1"),
    p("protected-mode", Kind::Bool, "yes"),
    p("tcp-backlog", I, "511"),
    p("timeout", I, "0"),
    p("tcp-keepalive", I, "300"),
    p("loglevel", Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]), "notice"),
    p("requirepass", Kind::Str, ""),
    p("maxclients", Kind::Int { min: 1, max: i64::MAX }, "10000"),
    p("maxmemory", Kind::Memory, "0"),
    p(
        "maxmemory-policy",
        Kind::Enum(&["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]),
        "noeviction",
    ),
    p("maxmemory-samples", Kind::Int { min: 1, max: 64 }, "5"),
    p("maxmemory-eviction-tenacity", Kind::Int { min: 0, max: 100 }, "10"),
    p("maxmemory-clients", Kind::Str, "0"),
    p("lfu-log-factor", I, "10"),
    p("lfu-decay-time", I, "1"),
    // Kept as set; the host's timer runs at 1..=500 (Redis's CONFIG_MIN_HZ..CONFIG_MAX_HZ).
    p("hz", Kind::Int { min: 0, max: i32::MAX as i64 }, "10"),
    p("active-expire-effort", Kind::Int { min: 1, max: 10 }, "1"),
    p("proto-max-bulk-len", Kind::MemoryIn { min: 1024 * 1024, max: i64::MAX }, "536870912"),
    p("client-query-buffer-limit", Kind::Memory, "1073741824"),
    p("save", Kind::List, "3600 1 300 100 60 10000"),
    // After a failed background save, refuse writes (MISCONF) until a save succeeds.
    p("stop-writes-on-bgsave-error", Kind::Bool, "yes"),
    p("dir", Kind::Str, ""),
    p("dbfilename", Kind::Str, "dump.rdb"),
    // A CRC64 ends every RDB file (0 when off) and is verified on load; fixed at startup.
    fixed("rdbchecksum", Kind::Bool, "yes"),
    // Strings over 20 bytes in RDB files and DUMP payloads are LZF-compressed when it pays.
    p("rdbcompression", Kind::Bool, "yes"),
    p("appendonly", Kind::Bool, "no"),
    fixed("appendfilename", Kind::Str, "appendonly.aof"),
    p("appendfsync", Kind::Enum(&["always", "everysec", "no"]), "everysec"),
    fixed("appenddirname", Kind::Str, "appendonlydir"),
    p("aof-use-rdb-preamble", Kind::Bool, "yes"),
    p("aof-load-truncated", Kind::Bool, "yes"),
    p("aof-timestamp-enabled", Kind::Bool, "no"),
    p("aof-rewrite-incremental-fsync", Kind::Bool, "yes"),
    p("no-appendfsync-on-rewrite", Kind::Bool, "no"),
    p("auto-aof-rewrite-percentage", I, "100"),
    p("auto-aof-rewrite-min-size", Kind::Memory, "67108864"),
    p("notify-keyspace-events", Kind::Str, ""),
    p("slowlog-log-slower-than", Kind::Int { min: -1, max: i64::MAX }, "10000"),
    p("slowlog-max-len", I, "128"),
    p("lazyfree-lazy-user-flush", Kind::Bool, "no"),
    p("lazyfree-lazy-user-del", Kind::Bool, "no"),
    p("lazyfree-lazy-expire", Kind::Bool, "no"),
    p("lazyfree-lazy-eviction", Kind::Bool, "no"),
    p("lazyfree-lazy-server-del", Kind::Bool, "no"),
    p("latency-tracking", Kind::Bool, "yes"),
    p("latency-monitor-threshold", I, "0"),
    p("tracking-table-max-keys", I, "1000000"),
    p("close-on-oom", Kind::Bool, "no"),
    // How long a script runs before other clients get BUSY and SCRIPT KILL may stop it.
    aka(p("busy-reply-threshold", I, "5000"), "lua-time-limit"),
    p("client-output-buffer-limit", Kind::Str, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    // Collection encodings: past these, a listpack or intset converts to the big structure.
    aka(p("hash-max-listpack-entries", I, "512"), "hash-max-ziplist-entries"),
    aka(p("hash-max-listpack-value", Kind::Memory, "64"), "hash-max-ziplist-value"),
    aka(p("list-max-listpack-size", Kind::Int { min: i32::MIN as i64, max: i32::MAX as i64 }, "-2"), "list-max-ziplist-size"),
    p("list-compress-depth", Kind::Int { min: 0, max: i32::MAX as i64 }, "0"),
    p("set-max-intset-entries", I, "512"),
    aka(p("zset-max-listpack-entries", I, "128"), "zset-max-ziplist-entries"),
    aka(p("zset-max-listpack-value", Kind::Memory, "64"), "zset-max-ziplist-value"),
    p("stream-node-max-bytes", Kind::Memory, "4096"),
    p("stream-node-max-entries", I, "100"),
    // Past this many bytes a HyperLogLog's sparse representation converts to dense.
    p("hll-sparse-max-bytes", Kind::MemoryIn { min: 0, max: i64::MAX }, "3000"),
    // Directives of Redis 7.0's redis.conf that tune machinery Cinnabar does not have
    // (replication, cluster bus, TLS, jemalloc and defragmentation, process title, syslog,
    // CPU affinity, fsync pacing). They are read, validated and answered as Redis does, so
    // an existing redis.conf (Debian's included) starts Cinnabar and CONFIG GET/SET/REWRITE
    // treat them alike; a value that would need the missing machinery is refused (see
    // `unsupported`). docs/COMPATIBILITY.md lists them.
    p("activerehashing", Kind::Bool, "yes"),
    p("dynamic-hz", Kind::Bool, "yes"),
    fixed("always-show-logo", Kind::Bool, "no"),
    fixed("set-proc-title", Kind::Bool, "yes"),
    p("proc-title-template", Kind::Str, "{title} {listen-addr} {server-mode}"),
    fixed("io-threads-do-reads", Kind::Bool, "no"),
    fixed("disable-thp", Kind::Bool, "yes"),
    p("jemalloc-bg-thread", Kind::Bool, "yes"),
    p("activedefrag", Kind::Bool, "no"),
    p("active-defrag-cycle-min", Kind::Int { min: 1, max: 99 }, "1"),
    p("active-defrag-cycle-max", Kind::Int { min: 1, max: 99 }, "25"),
    p("active-defrag-threshold-lower", Kind::Int { min: 0, max: 1000 }, "10"),
    p("active-defrag-threshold-upper", Kind::Int { min: 0, max: 1000 }, "100"),
    p("active-defrag-ignore-bytes", Kind::Memory, "104857600"),
    p("active-defrag-max-scan-fields", Kind::Int { min: 1, max: i64::MAX }, "1000"),
    p("rdb-del-sync-files", Kind::Bool, "no"),
    p("rdb-save-incremental-fsync", Kind::Bool, "yes"),
    p("aof-disable-auto-gc", Kind::Bool, "no"),
    p("sanitize-dump-payload", Kind::Enum(&["no", "yes", "clients"]), "no"),
    p("propagation-error-behavior", Kind::Enum(&["ignore", "panic", "panic-on-replicas"]), "ignore"),
    fixed("syslog-enabled", Kind::Bool, "no"),
    fixed("syslog-ident", Kind::Str, "redis"),
    fixed("syslog-facility", Kind::Enum(&["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]), "local0"),
    fixed("supervised", Kind::Enum(&["upstart", "systemd", "auto", "no"]), "no"),
    p("crash-log-enabled", Kind::Bool, "yes"),
    p("crash-memcheck-enabled", Kind::Bool, "yes"),
    hidden(p("use-exit-on-panic", Kind::Bool, "no")),
    p("oom-score-adj", Kind::Enum(&["no", "yes", "relative", "absolute"]), "no"),
    p("oom-score-adj-values", Kind::List, "0 200 800"),
    fixed("server_cpulist", Kind::Str, ""),
    fixed("bio_cpulist", Kind::Str, ""),
    fixed("aof_rewrite_cpulist", Kind::Str, ""),
    fixed("bgsave_cpulist", Kind::Str, ""),
    p("ignore-warnings", Kind::Str, ""),
    fixed("unixsocketperm", Kind::Octal, "0"),
    fixed("socket-mark-id", Kind::Int { min: 0, max: u32::MAX as i64 }, "0"),
    fixed("enable-protected-configs", Kind::Enum(&["no", "yes", "local"]), "no"),
    fixed("enable-module-command", Kind::Enum(&["no", "yes", "local"]), "no"),
    p("shutdown-on-sigint", Kind::List, "default"),
    p("shutdown-on-sigterm", Kind::List, "default"),
    p("shutdown-timeout", I, "10"),
    hidden(p("watchdog-period", Kind::Int { min: 0, max: i32::MAX as i64 }, "0")),
    hidden(p("rdb-key-save-delay", Kind::Int { min: i32::MIN as i64, max: i32::MAX as i64 }, "0")),
    hidden(p("key-load-delay", Kind::Int { min: i32::MIN as i64, max: i32::MAX as i64 }, "0")),
    hidden(p("loading-process-events-interval-bytes", Kind::Int { min: 1024, max: i32::MAX as i64 }, "2097152")),
    p("latency-tracking-info-percentiles", Kind::List, "50 99 99.9"),
    // ACL: the log's length, the channels a new user starts with, and the file the users
    // live in (ACL LOAD / SAVE) when they are not in this configuration.
    p("acllog-max-len", I, "128"),
    p("acl-pubsub-default", Kind::Enum(&["allchannels", "resetchannels"]), "resetchannels"),
    fixed("aclfile", Kind::Str, ""),
    // Replication: `replicaof` is set at startup or by REPLICAOF (not CONFIG SET).
    aka(p("min-replicas-to-write", I, "0"), "min-slaves-to-write"),
    aka(p("min-replicas-max-lag", I, "10"), "min-slaves-max-lag"),
    aka(fixed("replicaof", Kind::List, ""), "slaveof"),
    p("masterauth", Kind::Str, ""),
    p("masteruser", Kind::Str, ""),
    aka(p("replica-serve-stale-data", Kind::Bool, "yes"), "slave-serve-stale-data"),
    aka(p("replica-read-only", Kind::Bool, "yes"), "slave-read-only"),
    aka(p("replica-lazy-flush", Kind::Bool, "no"), "slave-lazy-flush"),
    aka(p("replica-ignore-maxmemory", Kind::Bool, "yes"), "slave-ignore-maxmemory"),
    p("replica-announced", Kind::Bool, "yes"),
    p("replica-ignore-disk-write-errors", Kind::Bool, "no"),
    aka(p("replica-priority", Kind::Int { min: 0, max: i32::MAX as i64 }, "100"), "slave-priority"),
    aka(p("replica-announce-ip", Kind::Str, ""), "slave-announce-ip"),
    aka(p("replica-announce-port", Kind::Int { min: 0, max: 65535 }, "0"), "slave-announce-port"),
    p("repl-diskless-sync", Kind::Bool, "yes"),
    p("repl-diskless-sync-delay", Kind::Int { min: 0, max: i32::MAX as i64 }, "5"),
    p("repl-diskless-sync-max-replicas", Kind::Int { min: 0, max: i32::MAX as i64 }, "0"),
    p("repl-diskless-load", Kind::Enum(&["disabled", "on-empty-db", "swapdb"]), "disabled"),
    p("repl-disable-tcp-nodelay", Kind::Bool, "no"),
    p("repl-timeout", Kind::Int { min: 1, max: i32::MAX as i64 }, "60"),
    aka(p("repl-ping-replica-period", Kind::Int { min: 1, max: i32::MAX as i64 }, "10"), "repl-ping-slave-period"),
    p("repl-backlog-size", Kind::Memory, "1048576"),
    p("repl-backlog-ttl", I, "3600"),
    p("bind-source-addr", Kind::Str, ""),
    // Cluster: Cinnabar answers as a server with cluster support disabled; `cluster-enabled`
    // must stay `no`.
    fixed("cluster-enabled", Kind::Bool, "no"),
    fixed("cluster-config-file", Kind::Str, "nodes.conf"),
    fixed("cluster-port", Kind::Int { min: 0, max: 65535 }, "0"),
    p("cluster-node-timeout", I, "15000"),
    p("cluster-require-full-coverage", Kind::Bool, "yes"),
    aka(p("cluster-replica-no-failover", Kind::Bool, "no"), "cluster-slave-no-failover"),
    aka(p("cluster-replica-validity-factor", Kind::Int { min: 0, max: i32::MAX as i64 }, "10"), "cluster-slave-validity-factor"),
    p("cluster-migration-barrier", Kind::Int { min: 0, max: i32::MAX as i64 }, "1"),
    p("cluster-allow-replica-migration", Kind::Bool, "yes"),
    p("cluster-allow-reads-when-down", Kind::Bool, "no"),
    p("cluster-allow-pubsubshard-when-down", Kind::Bool, "yes"),
    p("cluster-announce-ip", Kind::Str, ""),
    p("cluster-announce-hostname", Kind::Str, ""),
    p("cluster-announce-port", Kind::Int { min: 0, max: 65535 }, "0"),
    p("cluster-announce-bus-port", Kind::Int { min: 0, max: 65535 }, "0"),
    p("cluster-announce-tls-port", Kind::Int { min: 0, max: 65535 }, "0"),
    p("cluster-preferred-endpoint-type", Kind::Enum(&["ip", "hostname", "unknown-endpoint"]), "ip"),
    p("cluster-link-sendbuf-limit", Kind::Memory, "0"),
    // TLS: connections are plain TCP; `tls-port` must stay 0.
    p("tls-port", Kind::Int { min: 0, max: 65535 }, "0"),
    p("tls-cluster", Kind::Bool, "no"),
    p("tls-replication", Kind::Bool, "no"),
    p("tls-auth-clients", Kind::Enum(&["no", "yes", "optional"]), "yes"),
    p("tls-prefer-server-ciphers", Kind::Bool, "no"),
    p("tls-session-caching", Kind::Bool, "yes"),
    p("tls-session-cache-size", Kind::Int { min: 0, max: i32::MAX as i64 }, "20480"),
    p("tls-session-cache-timeout", Kind::Int { min: 0, max: i32::MAX as i64 }, "300"),
    p("tls-cert-file", Kind::Str, ""),
    p("tls-key-file", Kind::Str, ""),
    p("tls-key-file-pass", Kind::Str, ""),
    p("tls-client-cert-file", Kind::Str, ""),
    p("tls-client-key-file", Kind::Str, ""),
    p("tls-client-key-file-pass", Kind::Str, ""),
    p("tls-dh-params-file", Kind::Str, ""),
    p("tls-ca-cert-file", Kind::Str, ""),
    p("tls-ca-cert-dir", Kind::Str, ""),
    p("tls-protocols", Kind::Str, ""),
    p("tls-ciphers", Kind::Str, ""),
    p("tls-ciphersuites", Kind::Str, ""),
];

#[derive(Debug, Clone)]
pub struct Config {
    values: Vec<String>,
    /// `notify-keyspace-events` as set: its shown form (keyspaceEventsFlagsToString) drops
    /// `n` when `A` is there, as Redis's does, but the flag stays in force.
    notify_flags: u32,
    /// Values read on every command, kept typed so hot paths do no name lookup.
    pub hot: Hot,
    /// How many times a parameter was set (at startup or by CONFIG SET): a host that keeps
    /// a copy of the configuration (the wasm package, to re-create its engine) takes a new
    /// one when this moves.
    changes: u64,
}

/// Parameters the per-command path reads; refreshed whenever any parameter is set.
#[derive(Debug, Clone, Default)]
pub struct Hot {
    pub lfu_policy: bool,
    /// `maxmemory` in bytes (0: no limit) and the policy, read before every command.
    pub maxmemory: u64,
    pub evict_policy: crate::evict::Policy,
    /// `maxmemory-clients` in bytes (a percentage resolved against maxmemory); 0: off.
    pub client_limit: u64,
    pub proto_max_bulk_len: i64,
    pub lfu_log_factor: i64,
    pub lfu_decay_time: i64,
    /// `lazyfree-lazy-expire` and `aof-timestamp-enabled`, read after every command while
    /// the AOF stream is on.
    pub lazyfree_lazy_expire: bool,
    pub aof_timestamp_enabled: bool,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub list_max_listpack_size: i64,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub notify_flags: u32,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: usize,
    pub latency_tracking: bool,
    pub latency_monitor_threshold: i64,
    /// `min-replicas-to-write` and `min-replicas-max-lag` both set: writes get NOREPLICAS.
    pub min_replicas: bool,
    /// The rate the host runs `Engine::tick` at: `hz` within 1..=500.
    pub hz: u32,
    /// `hll-sparse-max-bytes`: a sparse HLL growing past it turns dense.
    pub hll_sparse_max_bytes: usize,
    /// `client-output-buffer-limit` by class: normal, replica, pubsub.
    pub output_limits: [OutputLimit; 3],
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

impl Default for Config {
    fn default() -> Self {
        let mut c = Config { values: PARAMS.iter().map(|p| p.default.to_string()).collect(), notify_flags: 0, hot: Hot::default(), changes: 0 };
        c.refresh_hot();
        c
    }
}

fn index(name: &str) -> Option<usize> {
    PARAMS.iter().position(|p| p.name.eq_ignore_ascii_case(name) || p.alias.is_some_and(|a| a.eq_ignore_ascii_case(name)))
}

/// Parses `1gb`, `100mb`, `512k`, `1024` as Redis's memtoull does.
pub fn parse_memory(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    let (num, mul): (&str, i64) = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000), ("b", 1)]
        .iter()
        .find_map(|(suf, m)| l.strip_suffix(suf).map(|n| (n, *m)))
        .unwrap_or((l.as_str(), 1));
    let n: i64 = num.parse().ok()?;
    if n < 0 {
        return None;
    }
    n.checked_mul(mul)
}

/// Redis's memtoull (util.c): digits, then an optional unit (`b k kb m mb g gb`, any
/// case), nothing else; no digits at all reads as 0, too many saturate (strtoull), and the
/// product wraps as unsigned 64-bit arithmetic does.
pub fn memtoull(s: &str) -> Option<u64> {
    let digits = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if num.len() >= 128 {
        return None;
    }
    let val = if num.is_empty() { 0 } else { num.parse::<u64>().unwrap_or(u64::MAX) };
    Some(val.wrapping_mul(mul))
}

impl Config {
    /// Names and values matching a glob, for CONFIG GET (each name once).
    pub fn get_matching(&self, pattern: &[u8]) -> Vec<(&'static str, String)> {
        // Aliases (the old ziplist names) answer under their own name, as in Redis 7.0.
        let mut out = vec![];
        let glob = pattern.iter().any(|c| b"*?[".contains(c));
        for (i, p) in PARAMS.iter().enumerate() {
            if p.hidden && glob {
                continue;
            }
            for name in std::iter::once(p.name).chain(p.alias) {
                if glob_match(pattern, name.as_bytes(), true) {
                    out.push((name, self.values[i].clone()));
                }
            }
        }
        out
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        index(name).map(|i| self.values[i].as_str())
    }

    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == Some("yes")
    }

    pub fn is_known(name: &str) -> bool {
        index(name).is_some()
    }

    /// The parameter's own name for a name or alias.
    pub fn canonical(name: &str) -> Option<&'static str> {
        index(name).map(|i| PARAMS[i].name)
    }

    /// Validates and stores one parameter. `startup` allows immutable ones (flags, redis.conf).
    pub fn set(&mut self, name: &str, value: &str, startup: bool) -> Result<()> {
        let i = index(name).ok_or_else(|| Error::Dyn(format!("ERR Unknown option or number of arguments for CONFIG SET - '{}'", name)))?;
        self.set_at(i, value, startup).map_err(|why| Error::Dyn(format!("ERR CONFIG SET failed (possibly related to argument '{}') - {}", PARAMS[i].name, why)))
    }

    /// `set` with the bare reason for a refusal, as the config file reports it.
    fn set_at(&mut self, i: usize, value: &str, startup: bool) -> std::result::Result<(), String> {
        let p = &PARAMS[i];
        if p.immutable && !startup {
            return Err("can't set immutable config".into());
        }
        if let Some(why) = unsupported(p.name, value) {
            return Err(why.into());
        }
        let v = match p.kind {
            _ if MULTI_ARG_SPECIAL.contains(&p.name) => multi_arg_special(p.name, value)?,
            Kind::Octal => {
                let n = i64::from_str_radix(value, 8).map_err(|_| "argument couldn't be parsed into an integer")?;
                if !(0..=0o777).contains(&n) {
                    return Err("argument must be between 0 and 511 inclusive".into());
                }
                format!("{:o}", n)
            }
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => "yes".to_string(),
                "no" => "no".to_string(),
                _ => return Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Int { min, max } => {
                let n = parse_memory(value).or_else(|| value.parse::<i64>().ok()).ok_or("argument couldn't be parsed into an integer")?;
                if n < min || n > max {
                    return Err(format!("argument must be between {} and {} inclusive", min, max));
                }
                n.to_string()
            }
            Kind::Memory => parse_memory(value).ok_or("argument must be a memory value")?.to_string(),
            Kind::MemoryIn { min, max } => {
                // The unsigned result is range-checked as a long long, as Redis does.
                let n = memtoull(value).ok_or("argument must be a memory value")? as i64;
                if n < min || n > max {
                    return Err(format!("argument must be between {} and {} inclusive", min, max));
                }
                n.to_string()
            }
            Kind::Enum(opts) => {
                let l = value.to_ascii_lowercase();
                if !opts.contains(&l.as_str()) {
                    return Err(format!("argument(s) must be one of the following: {}", opts.join(", ")));
                }
                l
            }
            Kind::Str if p.name == "notify-keyspace-events" => {
                let flags = crate::notify::parse(value).ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
                self.notify_flags = flags;
                crate::notify::to_string(flags)
            }
            Kind::Str if p.name == "client-output-buffer-limit" => merge_output_limits(&self.values[i], value)?,
            // isValidDBfilename, isValidAOFfilename, isValidAOFdirname: names, not paths.
            Kind::Str if matches!(p.name, "dbfilename" | "appendfilename" | "appenddirname") => {
                if value.is_empty() && p.name != "dbfilename" {
                    return Err(format!("{} can't be empty", p.name));
                }
                if value.contains('/') || value.contains('\\') {
                    return Err(format!("{} can't be a path, just a {}", p.name, if p.name == "appenddirname" { "dirname" } else { "filename" }));
                }
                value.to_string()
            }
            // Bytes, or a percentage of maxmemory (Redis's PERCENT_CONFIG).
            Kind::Str if p.name == "maxmemory-clients" => match value.strip_suffix('%') {
                Some(pct) => match pct.parse::<u32>() {
                    Ok(n) if n <= 100 => format!("{}%", n),
                    Ok(_) => return Err("percentage argument must be less or equal to 100".into()),
                    _ => return Err("argument must be a memory or percent value".into()),
                },
                None => parse_memory(value).ok_or("argument must be a memory or percent value")?.to_string(),
            },
            Kind::Str => value.to_string(),
            Kind::List => {
                if p.name == "save" {
                    validate_save(value).map_err(|_| "Invalid save parameters")?;
                }
                value.split_whitespace().collect::<Vec<_>>().join(" ")
            }
        };
        self.values[i] = v;
        self.changes += 1;
        self.refresh_hot();
        Ok(())
    }

    /// How many times a parameter was set so far (see the field).
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Directives that take several arguments on one line (MULTI_ARG_CONFIG); the others
    /// take exactly one.
    pub(crate) fn is_multi_arg(i: usize) -> bool {
        PARAMS[i].kind == Kind::List || PARAMS[i].name == "client-output-buffer-limit"
    }

    fn refresh_hot(&mut self) {
        self.hot = Hot {
            lfu_policy: self.get("maxmemory-policy").is_some_and(|p| p.ends_with("-lfu")),
            maxmemory: self.get_i64("maxmemory").max(0) as u64,
            evict_policy: crate::evict::Policy::parse(self.get("maxmemory-policy").unwrap_or("")),
            client_limit: {
                let v = self.get("maxmemory-clients").unwrap_or("0");
                match v.strip_suffix('%') {
                    Some(pct) => (self.get_i64("maxmemory").max(0) as u64) * pct.parse::<u64>().unwrap_or(0) / 100,
                    None => v.parse().unwrap_or(0),
                }
            },
            proto_max_bulk_len: self.get_i64("proto-max-bulk-len"),
            lfu_log_factor: self.get_i64("lfu-log-factor"),
            lfu_decay_time: self.get_i64("lfu-decay-time"),
            lazyfree_lazy_expire: self.get("lazyfree-lazy-expire") == Some("yes"),
            aof_timestamp_enabled: self.get("aof-timestamp-enabled") == Some("yes"),
            hash_max_listpack_entries: self.get_i64("hash-max-listpack-entries") as usize,
            hash_max_listpack_value: self.get_i64("hash-max-listpack-value") as usize,
            list_max_listpack_size: self.get_i64("list-max-listpack-size"),
            set_max_intset_entries: self.get_i64("set-max-intset-entries") as usize,
            zset_max_listpack_entries: self.get_i64("zset-max-listpack-entries") as usize,
            zset_max_listpack_value: self.get_i64("zset-max-listpack-value") as usize,
            slowlog_log_slower_than: self.get_i64("slowlog-log-slower-than"),
            slowlog_max_len: self.get_i64("slowlog-max-len") as usize,
            latency_tracking: self.get_bool("latency-tracking"),
            latency_monitor_threshold: self.get_i64("latency-monitor-threshold"),
            min_replicas: self.get_i64("min-replicas-to-write") > 0 && self.get_i64("min-replicas-max-lag") > 0,
            hz: self.get_i64("hz").clamp(1, 500) as u32,
            hll_sparse_max_bytes: self.get_i64("hll-sparse-max-bytes").max(0) as usize,
            output_limits: {
                let mut limits = [OutputLimit::default(); 3];
                for (class, hard, soft, secs) in output_limits(self.get("client-output-buffer-limit").unwrap_or("")) {
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

/// Values that would need machinery Cinnabar does not have: refused (at startup too) with
/// the reason, rather than accepted and silently ignored.
fn unsupported(name: &str, value: &str) -> Option<&'static str> {
    let yes = value.eq_ignore_ascii_case("yes");
    match name {
        "cluster-enabled" if yes => Some("cluster mode is not supported by Cinnabar"),
        "tls-port" if value.trim() != "0" => Some("TLS is not supported by Cinnabar"),
        "syslog-enabled" if yes => Some("logging to syslog is not supported by Cinnabar; use logfile"),
        // Redis's own answer when it is built without jemalloc (isValidActiveDefrag).
        "activedefrag" if yes => Some("-DISABLED Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"),
        _ => None,
    }
}

/// C's `%f` without trailing zeros (trimDoubleString): `99.9`, `50`.
pub fn trim_double(d: f64) -> String {
    let s = format!("{:.6}", d);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Multi-argument directives with their own syntax (Redis's special and bit-flag enum
/// configs), kept in the form CONFIG GET prints.
const MULTI_ARG_SPECIAL: &[&str] = &["oom-score-adj-values", "shutdown-on-sigint", "shutdown-on-sigterm", "latency-tracking-info-percentiles", "replicaof"];

fn multi_arg_special(name: &str, value: &str) -> std::result::Result<String, String> {
    let args: Vec<&str> = value.split_whitespace().collect();
    match name {
        "oom-score-adj-values" => {
            let bad = "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
            if args.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let n: Vec<i64> =
                args.iter().map(|a| a.parse::<i64>().ok().filter(|v| (-2000..=2000).contains(v)).ok_or(bad)).collect::<std::result::Result<_, _>>()?;
            Ok(format!("{} {} {}", n[0], n[1], n[2]))
        }
        "shutdown-on-sigint" | "shutdown-on-sigterm" => {
            const FLAGS: [&str; 4] = ["save", "nosave", "now", "force"];
            if args.is_empty() {
                return Err("argument(s) must be one of the following: default, save, nosave, now, force".into());
            }
            let mut set = [false; 4];
            for a in &args {
                let l = a.to_ascii_lowercase();
                match FLAGS.iter().position(|f| *f == l) {
                    Some(i) => set[i] = true,
                    None if l == "default" => {}
                    None => return Err("argument(s) must be one of the following: default, save, nosave, now, force".into()),
                }
            }
            if set[0] && set[1] {
                return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
            }
            let names: Vec<&str> = FLAGS.iter().zip(set).filter(|(_, on)| *on).map(|(f, _)| *f).collect();
            Ok(if names.is_empty() { "default".into() } else { names.join(" ") })
        }
        "latency-tracking-info-percentiles" => {
            let mut out = vec![];
            for a in &args {
                let p = crate::util::parse_f64(a.as_bytes()).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                out.push(trim_double(p));
            }
            Ok(out.join(" "))
        }
        // `replicaof no one` (or nothing): a primary; `replicaof host port`: the primary the
        // server follows from startup (`Engine::replica_start`).
        "replicaof" => match args.as_slice() {
            [] => Ok(String::new()),
            [no, one] if no.eq_ignore_ascii_case("no") && one.eq_ignore_ascii_case("one") => Ok(String::new()),
            [_, port] if port.parse::<u16>().is_err() => Err("Invalid master port".into()),
            [host, port] => Ok(format!("{} {}", host, port)),
            _ => Err("wrong number of arguments".into()),
        },
        _ => unreachable!("only the names in MULTI_ARG_SPECIAL"),
    }
}

/// The three classes of `client-output-buffer-limit` as (class, hard, soft, seconds).
fn output_limits(v: &str) -> Vec<(String, i64, i64, i64)> {
    let w: Vec<&str> = v.split_whitespace().collect();
    w.chunks(4).filter(|c| c.len() == 4).map(|c| (c[0].to_string(), c[1].parse().unwrap_or(0), c[2].parse().unwrap_or(0), c[3].parse().unwrap_or(0))).collect()
}

/// CONFIG SET client-output-buffer-limit "<class> <hard> <soft> <seconds> ...": only the
/// classes given change; the value reads back with all three, in bytes, as in Redis.
fn merge_output_limits(current: &str, value: &str) -> std::result::Result<String, &'static str> {
    let w: Vec<&str> = value.split_whitespace().collect();
    if !w.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.");
    }
    let mut classes = output_limits(current);
    for c in w.chunks(4) {
        let class = match c[0].to_ascii_lowercase().as_str() {
            "normal" => "normal",
            "slave" | "replica" => "slave",
            "pubsub" => "pubsub",
            _ => return Err("Invalid client class specified in buffer limit configuration."),
        };
        let bad = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let (hard, soft) = (parse_memory(c[1]).ok_or(bad)?, parse_memory(c[2]).ok_or(bad)?);
        let secs: i64 = c[3].parse().ok().filter(|s| *s >= 0).ok_or(bad)?;
        if let Some(slot) = classes.iter_mut().find(|(n, ..)| n == class) {
            *slot = (class.to_string(), hard, soft, secs);
        }
    }
    Ok(classes.iter().map(|(n, h, s, t)| format!("{} {} {} {}", n, h, s, t)).collect::<Vec<_>>().join(" "))
}

fn validate_save(v: &str) -> std::result::Result<(), ()> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    if !parts.len().is_multiple_of(2) {
        return Err(());
    }
    for x in parts {
        x.parse::<u64>().map_err(|_| ())?;
    }
    Ok(())
}

/// The line CONFIG REWRITE puts before the directives it appends.
pub const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// Directives Redis treats as holding no value when empty (NULL): never written then.
const NULL_WHEN_EMPTY: &[&str] = &["unixsocket", "pidfile", "requirepass"];

/// A value quoted as redis.conf reads it back.
fn repr(v: &str) -> String {
    let mut out = String::new();
    crate::util::repr(&mut out, v.as_bytes());
    out
}

/// rewriteConfigFormatMemory: `1gb`, `512mb`, `64kb` when exact, else plain bytes.
fn format_memory(n: i64) -> String {
    for (unit, size) in [("gb", 1i64 << 30), ("mb", 1 << 20), ("kb", 1 << 10)] {
        if n != 0 && n % size == 0 {
            return format!("{}{}", n / size, unit);
        }
    }
    n.to_string()
}

/// The state of one rewrite (rewriteConfigState): the file's lines, where each directive
/// appears, which directives were written.
struct Rewrite {
    lines: Vec<String>,
    at: std::collections::HashMap<String, std::collections::VecDeque<usize>>,
    done: std::collections::HashSet<String>,
    needs_signature: bool,
}

impl Rewrite {
    /// rewriteConfigReadOldFile: lines trimmed; directives this server does not know (or
    /// cannot parse) are kept as `# ??? ` comments; aliases count as their directive.
    fn read(old: &str) -> Rewrite {
        let mut r = Rewrite { lines: vec![], at: Default::default(), done: Default::default(), needs_signature: true };
        if old.is_empty() {
            return r;
        }
        for raw in old.split('\n') {
            let line = raw.trim_matches(|c| c == '\r' || c == '\n' || c == '\t' || c == ' ');
            if line.is_empty() || line.starts_with('#') {
                if line == REWRITE_SIGNATURE {
                    r.needs_signature = false;
                }
                r.lines.push(line.to_string());
                continue;
            }
            let name = crate::resp::inline::split_inline(line.as_bytes()).and_then(|a| a.first().map(|n| String::from_utf8_lossy(n).to_ascii_lowercase()));
            // Directives that are not parameters (only a config file has them) stay as written.
            const FILE_ONLY: &[&str] = &["include", "rename-command", "loadmodule", "sentinel"];
            match name.as_deref().and_then(index) {
                Some(i) => {
                    r.at.entry(PARAMS[i].name.to_string()).or_default().push_back(r.lines.len());
                    r.lines.push(line.to_string());
                }
                // Users are written from the server's users (`rewrite_with_users`).
                None if name.as_deref() == Some("user") => {
                    r.at.entry("user".to_string()).or_default().push_back(r.lines.len());
                    r.lines.push(line.to_string());
                }
                None if name.as_deref().is_some_and(|n| FILE_ONLY.contains(&n)) => r.lines.push(line.to_string()),
                None => r.lines.push(format!("# ??? {}", line)),
            }
        }
        r
    }

    /// rewriteConfigRewriteLine: reuse the directive's next old line, or append when `force`.
    fn line(&mut self, option: &str, line: String, force: bool) {
        self.done.insert(option.to_string());
        if let Some(slot) = self.at.get_mut(option).and_then(|l| l.pop_front()) {
            self.lines[slot] = line;
        } else if force {
            if self.needs_signature {
                self.lines.push(REWRITE_SIGNATURE.to_string());
                self.needs_signature = false;
            }
            self.lines.push(line);
        }
    }

    /// Blanks the old lines of written directives that were not reused (extra `save`
    /// lines, duplicates), then joins the lines, one blank line for any run of them.
    fn finish(mut self) -> String {
        for (option, slots) in &self.at {
            if self.done.contains(option) {
                for &i in slots {
                    self.lines[i].clear();
                }
            }
        }
        let mut out = String::new();
        let mut was_empty = false;
        for l in &self.lines {
            if l.is_empty() {
                if was_empty {
                    continue;
                }
                was_empty = true;
            } else {
                was_empty = false;
            }
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

impl Config {
    /// CONFIG REWRITE as a pure function (Redis: rewriteConfig): the new text of the config
    /// file whose current text is `old`. Comments and unknown lines stay; each directive's
    /// existing line is updated in place; directives that differ from their default and had
    /// no line are appended after `# Generated by CONFIG REWRITE`; old lines no longer used
    /// become blank. `dir` is the absolute working directory, which Redis always writes.
    /// The host reads and writes the file.
    pub fn rewrite(&self, old: &str, dir: &str) -> String {
        self.rewrite_with_users(old, dir, &[])
    }

    /// `rewrite` that also writes the ACL users, one `user` line each (ACL LIST's form), in
    /// place of the file's old `user` lines (rewriteConfigUserOption).
    pub fn rewrite_with_users(&self, old: &str, dir: &str, users: &[String]) -> String {
        self.rewrite_forcing(old, dir, users, false)
    }

    /// `rewrite_with_users`; `force_all` writes every parameter, defaults included (the
    /// file then starts a server with exactly this configuration).
    pub fn rewrite_forcing(&self, old: &str, dir: &str, users: &[String], force_all: bool) -> String {
        let mut r = Rewrite::read(old);
        for (i, p) in PARAMS.iter().enumerate() {
            let v = self.values[i].as_str();
            let differs = v != p.default || force_all;
            match p.name {
                "save" => {
                    let nums: Vec<&str> = v.split_whitespace().collect();
                    if nums.is_empty() {
                        r.line("save", "save \"\"".into(), true);
                    }
                    for pair in nums.chunks(2) {
                        r.line("save", format!("save {}", pair.join(" ")), true);
                    }
                    r.done.insert("save".into());
                }
                "dir" => r.line("dir", format!("dir {}", repr(dir)), true),
                // Written only while following a primary (rewriteConfigReplicaOfOption).
                "replicaof" if v.is_empty() => {
                    r.done.insert("replicaof".into());
                }
                "bind" => {
                    if differs {
                        r.line("bind", format!("bind {}", if v.is_empty() { "\"\"" } else { v }), true);
                    } else {
                        r.done.insert("bind".into());
                    }
                }
                "notify-keyspace-events" => r.line(p.name, format!("{} {}", p.name, repr(v)), !v.is_empty()),
                "client-output-buffer-limit" => {
                    let defaults = output_limits(p.default);
                    for (class, hard, soft, secs) in output_limits(v) {
                        let force = !defaults.contains(&(class.clone(), hard, soft, secs));
                        let name = if class == "slave" { "replica" } else { class.as_str() };
                        r.line(p.name, format!("{} {} {} {} {}", p.name, name, format_memory(hard), format_memory(soft), secs), force);
                    }
                }
                _ => match p.kind {
                    Kind::Str if v.is_empty() && NULL_WHEN_EMPTY.contains(&p.name) => {
                        r.done.insert(p.name.to_string());
                    }
                    Kind::Str => r.line(p.name, format!("{} {}", p.name, repr(v)), differs),
                    Kind::Memory | Kind::MemoryIn { .. } => r.line(p.name, format!("{} {}", p.name, format_memory(v.parse().unwrap_or(0))), differs),
                    _ => r.line(p.name, format!("{} {}", p.name, v), differs),
                },
            }
        }
        for u in users {
            r.line("user", u.clone(), true);
        }
        r.done.insert("user".into());
        r.finish()
    }
}

/// Parses redis.conf text into (directive, arguments) pairs, with Redis's quoting rules
/// (sdssplitargs) and `#` comments, without judging the directives (CONFIG REWRITE reads
/// old files this way).
pub fn parse_conf(text: &str) -> std::result::Result<Vec<(String, Vec<String>)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let args = crate::resp::inline::split_inline(t.as_bytes()).ok_or_else(|| format!("line {}: Unbalanced quotes in configuration line", n + 1))?;
        if args.is_empty() {
            continue;
        }
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let rest = args[1..].iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        out.push((name, rest));
    }
    Ok(out)
}

/// Why a config text was refused, as loadServerConfigFromString reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfError {
    /// A line Redis refuses: its number within its own file, its text (trimmed), and why.
    Line { line: usize, text: String, reason: String },
    /// An included file could not be read: the host's message, printed as it is.
    Include(String),
}

/// How deep `include` may nest; a file that includes itself stops here instead of
/// recursing until the stack runs out.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Reads a whole config text as loadServerConfigFromString does, line by line in order:
/// each directive is checked as it comes (unknown name, argument count, value) against a
/// scratch configuration, `include <path>` reads another text through `include` (the host
/// reads files; the path is as given, so relative to the working directory) and is read
/// in place, and the first refusal stops everything with its line. The result is the
/// directives in order, each with its value as `Config::set` takes it.
pub fn load_conf(text: &str, include: &mut dyn FnMut(&str) -> std::result::Result<String, String>) -> std::result::Result<Vec<(String, String)>, ConfError> {
    load_conf_with_dir(text, include, None)
}

/// `load_conf` for a host that works in `dir`: each `dir` line moves there as it is read,
/// as Redis's does (later includes are then relative to it), and one that cannot is the
/// line's error.
pub fn load_conf_with_dir(
    text: &str,
    include: &mut dyn FnMut(&str) -> std::result::Result<String, String>,
    change_dir: Option<fn(&str) -> std::result::Result<String, String>>,
) -> std::result::Result<Vec<(String, String)>, ConfError> {
    let mut scratch = Config::default();
    let mut renames = crate::command::rename::Renames::default();
    let mut out = Vec::new();
    let mut host = ConfHost { include, change_dir };
    load_conf_into(text, &mut host, &mut scratch, &mut renames, &mut out, 0)?;
    fold_save_lines(&mut out);
    Ok(out)
}

/// Several `save` lines add up, as Redis reads them (setConfigSaveOption while reading the
/// file: the first line replaces the defaults, later ones append, `save ""` empties): one
/// `save` directive with every point, where the first was.
fn fold_save_lines(out: &mut Vec<(String, String)>) {
    let mut points: Option<String> = None;
    let mut first = None;
    for (i, (name, value)) in out.iter().enumerate() {
        if name != "save" {
            continue;
        }
        first.get_or_insert(i);
        let v = value.trim();
        points = Some(match points {
            Some(p) if !v.is_empty() && !p.is_empty() => format!("{} {}", p, v),
            _ => v.to_string(),
        });
    }
    let (Some(first), Some(points)) = (first, points) else { return };
    let mut i = 0;
    out.retain(|(name, _)| {
        i += 1;
        name != "save" || i - 1 == first
    });
    if let Some(slot) = out.iter_mut().find(|(n, _)| n == "save") {
        slot.1 = points;
    }
}

/// What reading a config text needs of the host.
struct ConfHost<'a> {
    include: &'a mut dyn FnMut(&str) -> std::result::Result<String, String>,
    change_dir: Option<fn(&str) -> std::result::Result<String, String>>,
}

fn load_conf_into(
    text: &str,
    host: &mut ConfHost,
    scratch: &mut Config,
    renames: &mut crate::command::rename::Renames,
    out: &mut Vec<(String, String)>,
    depth: usize,
) -> std::result::Result<(), ConfError> {
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |reason: &str| ConfError::Line { line: i + 1, text: line.to_string(), reason: reason.to_string() };
        let args = crate::resp::inline::split_inline(line.as_bytes()).ok_or_else(|| fail("Unbalanced quotes in configuration line"))?;
        if args.is_empty() {
            continue;
        }
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let values: Vec<String> = args[1..].iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if let Some(p) = index(&name) {
            if !Config::is_multi_arg(p) && values.len() != 1 {
                return Err(fail("wrong number of arguments"));
            }
            let mut value = values.join(" ");
            scratch.set_at(p, &value, true).map_err(|why| fail(&why))?;
            if let (Some(change_dir), "dir") = (host.change_dir, PARAMS[p].name) {
                // Kept as the absolute path: a relative one meant where the server was.
                value = change_dir(&value).map_err(|why| fail(&why))?;
            }
            out.push((name, value));
        } else if name == "include" && values.len() == 1 {
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(fail("Too many nested include directives"));
            }
            let text = (host.include)(&values[0]).map_err(ConfError::Include)?;
            load_conf_into(&text, host, scratch, renames, out, depth + 1)?;
        } else if name == "user" && args.len() >= 2 {
            // ACLAppendUserForLoading: the rules are tried on a scratch user now (an unknown
            // command may still come from a module, so only that is let through); the user
            // is created when the server starts. The refusal names argv[j] for the j-th
            // rule, as Redis's does.
            let fail_at =
                |j: usize, why: &str| fail(&format!("Error in user declaration '{}': {}", String::from_utf8_lossy(&args[j.min(args.len() - 1)]), why));
            let quoted = |a: &[bytes::Bytes]| a.iter().map(|x| repr(&String::from_utf8_lossy(x))).collect::<Vec<_>>().join(" ");
            if out.iter().any(|(n, v)| n == "user" && crate::resp::inline::split_inline(v.as_bytes()).is_some_and(|a| a.first() == Some(&args[1]))) {
                return Err(fail_at(1, crate::acl::RuleError::Duplicate.message()));
            }
            let rules = crate::acl::merge_selector_args(&args[2..]).map_err(|j| fail_at(j, "Syntax error"))?;
            let mut u = crate::acl::User::new(args[1].clone(), false);
            for (j, op) in rules.iter().enumerate() {
                match u.apply(op, false) {
                    Ok(()) | Err(crate::acl::RuleError::UnknownCommand) => {}
                    Err(e) => return Err(fail_at(j, e.message())),
                }
            }
            out.push((name, quoted(&args[1..])));
        } else if name == "rename-command" && args.len() == 3 {
            renames.add(&args[1], &args[2]).map_err(fail)?;
            out.push((name, format!("{} {}", repr(&String::from_utf8_lossy(&args[1])), repr(&String::from_utf8_lossy(&args[2])))));
        } else {
            return Err(fail("Bad directive or wrong number of arguments"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    #[test]
    fn memory_values_accept_redis_suffixes() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("100mb"), Some(100 << 20));
        assert_eq!(parse_memory("5k"), Some(5000));
        assert_eq!(parse_memory("x"), None);
    }

    #[test]
    fn config_set_validates_and_normalises() {
        let mut c = Config::default();
        c.set("maxmemory", "1mb", false).unwrap();
        assert_eq!(c.get("maxmemory"), Some("1048576"));
        assert!(c.set("databases", "1", false).is_err());
        assert!(c.set("maxmemory-policy", "bogus", false).is_err());
        c.set("MAXMEMORY-POLICY", "allkeys-lru", false).unwrap();
        assert_eq!(c.get("maxmemory-policy"), Some("allkeys-lru"));
    }

    #[test]
    fn rewrite_of_an_empty_file_writes_only_what_differs_plus_save_and_dir() {
        let mut c = Config::default();
        assert_eq!(c.rewrite("", "/data"), "# Generated by CONFIG REWRITE\nsave 3600 1\nsave 300 100\nsave 60 10000\ndir \"/data\"\n");
        c.set("maxmemory", "3221225472", false).unwrap();
        c.set("hash-max-listpack-value", "1536", false).unwrap();
        c.set("save", "", false).unwrap();
        c.set("requirepass", "a\"b\\c\n\u{1}", false).unwrap();
        c.set("maxmemory-policy", "allkeys-lfu", false).unwrap();
        c.set("appendonly", "yes", false).unwrap();
        let text = c.rewrite("", "/d i r");
        assert_eq!(
            text,
            "# Generated by CONFIG REWRITE\nrequirepass \"a\\\"b\\\\c\\n\\x01\"\nmaxmemory 3gb\nmaxmemory-policy allkeys-lfu\nsave \"\"\ndir \"/d i r\"\nappendonly yes\nhash-max-listpack-value 1536\n"
        );
        // What it writes reads back as the same settings.
        let mut back = Config::default();
        for (name, args) in parse_conf(&text).unwrap() {
            back.set(&name, &args.join(" "), true).unwrap();
        }
        for name in ["requirepass", "maxmemory", "save", "appendonly", "hash-max-listpack-value", "maxmemory-policy"] {
            assert_eq!(back.get(name), c.get(name), "{}", name);
        }
    }

    #[test]
    fn rewrite_keeps_comments_updates_in_place_and_blanks_unused_lines() {
        let mut c = Config::default();
        c.set("save", "60 5", false).unwrap();
        c.set("hash-max-ziplist-entries", "64", false).unwrap();
        c.set("dir", "/x", false).unwrap();
        let old = "  # keep me  \r\nsave 1 1\nsave 2 2\n\n\n\nhash-max-ziplist-entries 7\nMAXMEMORY 5mb\nrename-command FLUSHALL \"\"\nport \"unbalanced\n# Generated by CONFIG REWRITE\ndir /old\n";
        assert_eq!(
            c.rewrite(old, "/x"),
            "# keep me\nsave 60 5\n\nhash-max-listpack-entries 64\nmaxmemory 0\nrename-command FLUSHALL \"\"\n# ??? port \"unbalanced\n# Generated by CONFIG REWRITE\ndir \"/x\"\n\n"
        );
    }

    #[test]
    fn client_output_buffer_limits_merge_by_class() {
        let mut c = Config::default();
        c.set("client-output-buffer-limit", "pubsub 1mb 512kb 30 replica 1 2 3", false).unwrap();
        assert_eq!(c.get("client-output-buffer-limit"), Some("normal 0 0 0 slave 1 2 3 pubsub 1048576 524288 30"));
        assert!(c.set("client-output-buffer-limit", "master 1 1 1", false).is_err());
        assert_eq!(
            c.rewrite("", "/"),
            "# Generated by CONFIG REWRITE\nsave 3600 1\nsave 300 100\nsave 60 10000\ndir \"/\"\nclient-output-buffer-limit replica 1 2 3\nclient-output-buffer-limit pubsub 1mb 512kb 30\n"
        );
    }

    #[test]
    fn conf_lines_split_like_redis() {
        let c = parse_conf("# comment\nport 7000\nsave \"\"\nrequirepass 'a b'\n").unwrap();
        assert_eq!(c[0], ("port".into(), vec!["7000".into()]));
        assert_eq!(c[1], ("save".into(), vec!["".into()]));
        assert_eq!(c[2].1, vec!["a b".to_string()]);
    }

    fn no_includes(path: &str) -> std::result::Result<String, String> {
        Err(format!("no file {}", path))
    }

    fn line_err(line: usize, text: &str, reason: &str) -> ConfError {
        ConfError::Line { line, text: text.into(), reason: reason.into() }
    }

    #[test]
    fn a_config_text_is_checked_line_by_line_as_redis_reports_it() {
        let ok = load_conf("port 7000\n  save 1 2 3 4  \r\nsave \"\"\nbind a b\n", &mut no_includes).unwrap();
        assert_eq!(ok, vec![("port".into(), "7000".into()), ("save".into(), "".into()), ("bind".into(), "a b".into())]);
        // Save lines add up (a rewritten file has one per point).
        let saves = load_conf("save 3600 1\nsave 300 100\nport 1\nsave 60 10000\n", &mut no_includes).unwrap();
        assert_eq!(saves, vec![("save".into(), "3600 1 300 100 60 10000".into()), ("port".into(), "1".into())]);
        let reset = load_conf("save 3600 1\nsave \"\"\nsave 60 5\n", &mut no_includes).unwrap();
        assert_eq!(reset, vec![("save".into(), "60 5".into())]);
        // Texts checked against redis-server 7.0.15's fatal config errors.
        assert_eq!(load_conf("port 1\n# c\nnosuch 1\n", &mut no_includes), Err(line_err(3, "nosuch 1", "Bad directive or wrong number of arguments")));
        assert_eq!(load_conf("\nport \"1\" \"2\"", &mut no_includes), Err(line_err(2, "port \"1\" \"2\"", "wrong number of arguments")));
        assert_eq!(load_conf("port abc", &mut no_includes), Err(line_err(1, "port abc", "argument couldn't be parsed into an integer")));
        assert_eq!(load_conf("save 1 2 3", &mut no_includes), Err(line_err(1, "save 1 2 3", "Invalid save parameters")));
        assert_eq!(
            load_conf("maxmemory-policy foo", &mut no_includes),
            Err(line_err(1, "maxmemory-policy foo", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"))
        );
        assert_eq!(load_conf("port 'x", &mut no_includes), Err(line_err(1, "port 'x", "Unbalanced quotes in configuration line")));
        // Multi-argument options (tests/unit/introspection.tcl, command line error cases).
        let must = "argument(s) must be one of the following: default, save, nosave, now, force";
        assert_eq!(load_conf("shutdown-on-sigterm", &mut no_includes), Err(line_err(1, "shutdown-on-sigterm", must)));
        assert_eq!(load_conf("replicaof 127.0.0.1 abc", &mut no_includes), Err(line_err(1, "replicaof 127.0.0.1 abc", "Invalid master port")));
        // The first refusal in line order wins, whatever its kind.
        assert_eq!(load_conf("port x\nnosuch 1", &mut no_includes), Err(line_err(1, "port x", "argument couldn't be parsed into an integer")));
    }

    #[test]
    fn include_reads_another_text_in_place_with_its_own_line_numbers() {
        let mut files = |path: &str| -> std::result::Result<String, String> {
            match path {
                "a.conf" => Ok("maxmemory 1mb\ninclude b.conf\nhz 20\n".into()),
                "b.conf" => Ok("\n\nmaxclients 7".into()),
                "bad.conf" => Ok("\n\nport zz\n".into()),
                "self.conf" => Ok("include self.conf\n".into()),
                p => Err(format!("Fatal error, can't open config file '{}': No such file or directory", p)),
            }
        };
        let got = load_conf("port 1\ninclude a.conf\nport 2", &mut files).unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["port", "maxmemory", "maxclients", "hz", "port"]);
        assert_eq!(load_conf("include bad.conf", &mut files), Err(line_err(3, "port zz", "argument couldn't be parsed into an integer")));
        assert_eq!(
            load_conf("include nofile", &mut files),
            Err(ConfError::Include("Fatal error, can't open config file 'nofile': No such file or directory".into()))
        );
        assert_eq!(load_conf("include a b", &mut files), Err(line_err(1, "include a b", "Bad directive or wrong number of arguments")));
        assert!(matches!(load_conf("include self.conf", &mut files), Err(ConfError::Line { reason, .. }) if reason == "Too many nested include directives"));
    }
}
