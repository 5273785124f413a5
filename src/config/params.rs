//! Every parameter Redis 7.0 knows, with its kind, default and aliases: the one table CONFIG
//! GET/SET, the command line and redis.conf all read (config.c's standardConfig table).

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
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

pub(super) struct Param {
    pub(super) name: &'static str,
    pub(super) alias: Option<&'static str>,
    pub(super) kind: Kind,
    pub(super) default: &'static str,
    /// Set only at startup (CONFIG SET refuses with "can't set immutable config").
    pub(super) immutable: bool,
    /// Redis's HIDDEN_CONFIG (debugging knobs): CONFIG GET answers them by exact name only.
    pub(super) hidden: bool,
}

pub(super) const fn p(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param { name, alias: None, kind, default, immutable: false, hidden: false }
}
pub(super) const fn fixed(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param { name, alias: None, kind, default, immutable: true, hidden: false }
}
pub(super) const fn hidden(mut p: Param) -> Param {
    p.hidden = true;
    p
}

pub(super) const fn aka(mut p: Param, alias: &'static str) -> Param {
    p.alias = Some(alias);
    p
}

pub(super) const I: Kind = Kind::Int { min: 0, max: i64::MAX };

pub(super) const PARAMS: &[Param] = &[
    // Settable at runtime where the host listens (`HostCan::listens`): it re-binds.
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

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A parameter named in the code: `param!("maxmemory")` finds it in the table while
/// compiling, so a misspelled name does not build, and reading it is an index, not a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamId(pub(super) usize);

impl ParamId {
    /// The parameter by its own name (not an alias); a compile-time error when used in a
    /// constant (as `param!` does) and there is none.
    pub const fn named(name: &str) -> ParamId {
        let mut i = 0;
        while i < PARAMS.len() {
            if same(PARAMS[i].name, name) {
                return ParamId(i);
            }
            i += 1;
        }
        panic!("no such configuration parameter")
    }

    pub fn name(self) -> &'static str {
        PARAMS[self.0].name
    }
}

/// A configuration parameter by name, checked against the table at compile time.
#[macro_export]
macro_rules! param {
    ($name:literal) => {{
        const P: $crate::config::ParamId = $crate::config::ParamId::named($name);
        P
    }};
}
