//! CONFIG and redis.conf directives beyond the basics in tests.rs: Redis 7.0's whole
//! parameter set, what is refused, hidden and protected parameters, the special syntaxes,
//! and min-replicas-to-write. Expected texts checked against redis-server 7.0.15.

use crate::client::ClientInfo;
use crate::config::{load_conf, Config};
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn get(t: &mut TestEngine, name: &str) -> Reply {
    t.run(&["CONFIG", "GET", name])
}

fn one(name: &str, value: &str) -> Reply {
    Reply::Map(vec![(bulk(name), bulk(value))])
}

fn no_include(_: &str) -> Result<String, String> {
    Err("no includes here".into())
}

/// Every directive of Redis 7.0.15's standard config table (config.c, static_configs)
/// that Cinnabar's table must know, so a redis.conf written for Redis loads.
const REDIS_7_0_DIRECTIVES: &[&str] = &[
    "rdbchecksum",
    "daemonize",
    "io-threads-do-reads",
    "always-show-logo",
    "protected-mode",
    "rdbcompression",
    "rdb-del-sync-files",
    "activerehashing",
    "stop-writes-on-bgsave-error",
    "set-proc-title",
    "dynamic-hz",
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
    "repl-disable-tcp-nodelay",
    "repl-diskless-sync",
    "aof-rewrite-incremental-fsync",
    "no-appendfsync-on-rewrite",
    "cluster-require-full-coverage",
    "rdb-save-incremental-fsync",
    "aof-load-truncated",
    "aof-use-rdb-preamble",
    "aof-timestamp-enabled",
    "cluster-replica-no-failover",
    "replica-lazy-flush",
    "replica-serve-stale-data",
    "replica-read-only",
    "replica-ignore-maxmemory",
    "jemalloc-bg-thread",
    "activedefrag",
    "syslog-enabled",
    "cluster-enabled",
    "appendonly",
    "cluster-allow-reads-when-down",
    "cluster-allow-pubsubshard-when-down",
    "crash-log-enabled",
    "crash-memcheck-enabled",
    "use-exit-on-panic",
    "disable-thp",
    "cluster-allow-replica-migration",
    "replica-announced",
    "latency-tracking",
    "aof-disable-auto-gc",
    "replica-ignore-disk-write-errors",
    "aclfile",
    "unixsocket",
    "pidfile",
    "replica-announce-ip",
    "masteruser",
    "cluster-announce-ip",
    "cluster-config-file",
    "cluster-announce-hostname",
    "syslog-ident",
    "dbfilename",
    "appendfilename",
    "appenddirname",
    "server_cpulist",
    "bio_cpulist",
    "aof_rewrite_cpulist",
    "bgsave_cpulist",
    "ignore-warnings",
    "proc-title-template",
    "bind-source-addr",
    "logfile",
    "masterauth",
    "requirepass",
    "supervised",
    "syslog-facility",
    "repl-diskless-load",
    "loglevel",
    "maxmemory-policy",
    "appendfsync",
    "oom-score-adj",
    "acl-pubsub-default",
    "sanitize-dump-payload",
    "enable-protected-configs",
    "enable-debug-command",
    "enable-module-command",
    "cluster-preferred-endpoint-type",
    "propagation-error-behavior",
    "shutdown-on-sigint",
    "shutdown-on-sigterm",
    "databases",
    "port",
    "io-threads",
    "auto-aof-rewrite-percentage",
    "cluster-replica-validity-factor",
    "list-max-listpack-size",
    "tcp-keepalive",
    "cluster-migration-barrier",
    "active-defrag-cycle-min",
    "active-defrag-cycle-max",
    "active-defrag-threshold-lower",
    "active-defrag-threshold-upper",
    "lfu-log-factor",
    "lfu-decay-time",
    "replica-priority",
    "repl-diskless-sync-delay",
    "maxmemory-samples",
    "maxmemory-eviction-tenacity",
    "timeout",
    "replica-announce-port",
    "tcp-backlog",
    "cluster-port",
    "cluster-announce-bus-port",
    "cluster-announce-port",
    "cluster-announce-tls-port",
    "repl-timeout",
    "repl-ping-replica-period",
    "list-compress-depth",
    "rdb-key-save-delay",
    "key-load-delay",
    "active-expire-effort",
    "hz",
    "min-replicas-to-write",
    "min-replicas-max-lag",
    "watchdog-period",
    "shutdown-timeout",
    "repl-diskless-sync-max-replicas",
    "maxclients",
    "unixsocketperm",
    "socket-mark-id",
    "active-defrag-max-scan-fields",
    "slowlog-max-len",
    "acllog-max-len",
    "busy-reply-threshold",
    "cluster-node-timeout",
    "slowlog-log-slower-than",
    "latency-monitor-threshold",
    "proto-max-bulk-len",
    "stream-node-max-entries",
    "repl-backlog-size",
    "maxmemory",
    "cluster-link-sendbuf-limit",
    "hash-max-listpack-entries",
    "set-max-intset-entries",
    "zset-max-listpack-entries",
    "active-defrag-ignore-bytes",
    "hash-max-listpack-value",
    "stream-node-max-bytes",
    "zset-max-listpack-value",
    "tracking-table-max-keys",
    "client-query-buffer-limit",
    "maxmemory-clients",
    "repl-backlog-ttl",
    "auto-aof-rewrite-min-size",
    "loading-process-events-interval-bytes",
    "tls-port",
    "tls-session-cache-size",
    "tls-session-cache-timeout",
    "tls-cluster",
    "tls-replication",
    "tls-auth-clients",
    "tls-prefer-server-ciphers",
    "tls-session-caching",
    "tls-cert-file",
    "tls-key-file",
    "tls-key-file-pass",
    "tls-client-cert-file",
    "tls-client-key-file",
    "tls-client-key-file-pass",
    "tls-dh-params-file",
    "tls-ca-cert-file",
    "tls-ca-cert-dir",
    "tls-protocols",
    "tls-ciphers",
    "tls-ciphersuites",
    "dir",
    "save",
    "client-output-buffer-limit",
    "oom-score-adj-values",
    "notify-keyspace-events",
    "bind",
    "replicaof",
    "latency-tracking-info-percentiles",
    // The old names Redis still takes.
    "slaveof",
    "slave-serve-stale-data",
    "slave-read-only",
    "slave-priority",
    "min-slaves-to-write",
    "min-slaves-max-lag",
    "hash-max-ziplist-entries",
    "list-max-ziplist-size",
    "lua-time-limit",
    "repl-ping-slave-period",
    "cluster-slave-validity-factor",
];

#[test]
fn every_redis_7_0_directive_is_known_and_reads_back_what_it_was_set_to() {
    for name in REDIS_7_0_DIRECTIVES {
        assert!(Config::is_known(name), "{name} is not a known directive");
    }
    // CONFIG SET of each settable parameter to the value CONFIG GET shows is accepted and
    // changes nothing (the introspection suite's "CONFIG sanity").
    let mut t = TestEngine::new();
    let Reply::Map(all) = get(&mut t, "*") else { panic!() };
    assert!(all.len() >= REDIS_7_0_DIRECTIVES.len() - 11 - 5, "CONFIG GET * has {}", all.len());
    let immutable = |n: &str| matches!(n, "daemonize" | "databases" | "unixsocket" | "pidfile" | "logfile" | "io-threads" | "rdbchecksum" | "appenddirname");
    for (k, v) in all {
        let (Reply::Bulk(k), Reply::Bulk(v)) = (k, v) else { panic!() };
        let (k, v) = (String::from_utf8_lossy(&k).into_owned(), String::from_utf8_lossy(&v).into_owned());
        let r = t.run(&["CONFIG", "SET", &k, &v]);
        if r.is_error() {
            assert!(text_of(&r).contains("immutable") || text_of(&r).contains("protected") || immutable(&k), "CONFIG SET {k} {v:?}: {r:?}");
            continue;
        }
        assert_eq!(get(&mut t, &k), one(&k, &v), "{k}");
    }
}

fn text_of(r: &Reply) -> String {
    match r {
        Reply::Error(e) => e.clone(),
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

#[test]
fn redis_conf_lines_for_machinery_cinnabar_lacks_load_as_in_redis() {
    // A selection of the stock redis.conf's lines (Debian's and Redis's own).
    let conf = "always-show-logo no\nset-proc-title yes\nproc-title-template \"{title} {listen-addr} {server-mode}\"\n\
        replica-serve-stale-data yes\nslave-read-only yes\nrepl-diskless-sync yes\nrepl-diskless-load disabled\n\
        oom-score-adj no\noom-score-adj-values 0 200 800\ndisable-thp yes\nactiverehashing yes\njemalloc-bg-thread yes\n\
        acllog-max-len 128\ndynamic-hz yes\nsupervised auto\nreplicaof no one\nshutdown-on-sigterm save now\n\
        latency-tracking-info-percentiles 50 99 99.9\nunixsocketperm 700\ncluster-enabled no\ntls-port 0\n";
    let d = load_conf(conf, &mut no_include).unwrap();
    assert_eq!(d.len(), 21);
    let mut c = Config::default();
    for (k, v) in &d {
        c.set(k, v, true).unwrap();
    }
    assert_eq!(c.get(crate::param!("unixsocketperm")), "700");
    assert_eq!(c.get(crate::param!("shutdown-on-sigterm")), "save now");
    assert_eq!(c.get(crate::param!("replicaof")), "");
    assert_eq!(c.get(crate::param!("supervised")), "auto");
}

#[test]
fn values_that_need_missing_machinery_are_refused_with_the_reason() {
    let line = |l: &str| match load_conf(l, &mut no_include) {
        Err(crate::config::ConfError::Line { reason, .. }) => reason,
        other => panic!("{l}: {other:?}"),
    };
    assert_eq!(line("cluster-enabled yes"), "cluster mode is not supported by Cinnabar");
    // A primary to follow from startup is taken (tests/replication.rs starts a replica so).
    assert_eq!(load_conf("replicaof 10.0.0.1 6379", &mut no_include).unwrap(), vec![("replicaof".to_string(), "10.0.0.1 6379".to_string())]);
    assert_eq!(load_conf("slaveof 10.0.0.1 6379", &mut no_include).unwrap(), vec![("slaveof".to_string(), "10.0.0.1 6379".to_string())]);
    assert_eq!(line("tls-port 6380"), "TLS is not supported by Cinnabar");
    assert_eq!(line("syslog-enabled yes"), "logging to syslog is not supported by Cinnabar; use logfile");
    assert_eq!(line("replicaof onlyhost"), "wrong number of arguments");
    let mut t = TestEngine::new();
    // Redis's own answer when built without jemalloc.
    assert_eq!(
        t.run(&["CONFIG", "SET", "activedefrag", "yes"]),
        err("ERR CONFIG SET failed (possibly related to argument 'activedefrag') - -DISABLED Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution")
    );
    assert_eq!(t.run(&["CONFIG", "SET", "activedefrag", "no"]), ok());
    assert_eq!(
        t.run(&["CONFIG", "SET", "tls-port", "1"]),
        err("ERR CONFIG SET failed (possibly related to argument 'tls-port') - TLS is not supported by Cinnabar")
    );
    assert_eq!(
        t.run(&["CONFIG", "SET", "cluster-enabled", "no"]),
        err("ERR CONFIG SET failed (possibly related to argument 'cluster-enabled') - can't set immutable config")
    );
}

#[test]
fn special_multi_argument_parameters_parse_and_print_as_redis() {
    let mut t = TestEngine::new();
    assert_eq!(get(&mut t, "shutdown-on-sigint"), one("shutdown-on-sigint", "default"));
    assert_eq!(t.run(&["CONFIG", "SET", "shutdown-on-sigint", "force NOW save"]), ok());
    assert_eq!(get(&mut t, "shutdown-on-sigint"), one("shutdown-on-sigint", "save now force"));
    assert_eq!(
        t.run(&["CONFIG", "SET", "shutdown-on-sigint", "save nosave"]),
        err("ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - shutdown options SAVE and NOSAVE can't be used simultaneously")
    );
    assert_eq!(
        t.run(&["CONFIG", "SET", "shutdown-on-sigterm", "later"]),
        err("ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - argument(s) must be one of the following: default, save, nosave, now, force")
    );
    assert_eq!(t.run(&["CONFIG", "SET", "oom-score-adj-values", "-100 0 1000"]), ok());
    assert_eq!(get(&mut t, "oom-score-adj-values"), one("oom-score-adj-values", "-100 0 1000"));
    assert_eq!(
        t.run(&["CONFIG", "SET", "oom-score-adj-values", "0 0 2001"]),
        err("ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
    );
    assert_eq!(t.run(&["CONFIG", "SET", "latency-tracking-info-percentiles", "50.0 99.990 100"]), ok());
    assert_eq!(get(&mut t, "latency-tracking-info-percentiles"), one("latency-tracking-info-percentiles", "50 99.99 100"));
    assert_eq!(
        t.run(&["CONFIG", "SET", "latency-tracking-info-percentiles", "101"]),
        err("ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
    );
    // INFO latencystats reports at the configured percentiles.
    t.run(&["SET", "k", "v"]);
    let info = text_of(&t.run(&["INFO", "latencystats"]));
    assert!(info.contains("latency_percentiles_usec_set:p50=") && info.contains(",p99.99=") && info.contains(",p100="), "{info}");
    assert_eq!(
        t.run(&["CONFIG", "SET", "unixsocketperm", "777"]),
        err("ERR CONFIG SET failed (possibly related to argument 'unixsocketperm') - can't set immutable config")
    );
    // hz keeps what was set; the host runs at most 500 ticks a second (INFO shows both).
    assert_eq!(t.run(&["CONFIG", "SET", "hz", "1000"]), ok());
    assert_eq!(get(&mut t, "hz"), one("hz", "1000"));
    let info = text_of(&t.run(&["INFO", "server"]));
    assert!(info.contains("\r\nhz:500\r\n") && info.contains("\r\nconfigured_hz:1000\r\n"), "{info}");
}

#[test]
fn hidden_parameters_answer_only_by_their_exact_name() {
    let mut t = TestEngine::new();
    assert_eq!(get(&mut t, "key-load-delay"), one("key-load-delay", "0"));
    assert_eq!(get(&mut t, "KEY-LOAD-DELAY"), one("key-load-delay", "0"));
    assert_eq!(get(&mut t, "key-load-*"), Reply::Map(vec![]));
    assert_eq!(t.run(&["CONFIG", "SET", "key-load-delay", "-5"]), ok());
    let Reply::Map(all) = get(&mut t, "*") else { panic!() };
    assert!(!all.iter().any(|(k, _)| *k == bulk("watchdog-period")));
}

#[test]
fn dir_and_dbfilename_are_protected_unless_enable_protected_configs_allows() {
    let mut t = TestEngine::new();
    let refused = |name: &str| err(&format!("ERR CONFIG SET failed (possibly related to argument '{name}') - can't set protected config"));
    assert_eq!(t.run(&["CONFIG", "SET", "dbfilename", "x.rdb"]), refused("dbfilename"));
    assert_eq!(t.run(&["CONFIG", "SET", "DIR", "/tmp"]), refused("dir"));
    assert_eq!(t.run(&["CONFIG", "SET", "maxmemory", "1mb", "dir", "/tmp"]), refused("dir"));
    assert_eq!(get(&mut t, "maxmemory"), one("maxmemory", "0"));

    let mut c = Config::default();
    c.set("enable-protected-configs", "local", true).unwrap();
    let mut t = TestEngine::with_config(c);
    // The test client is on the loopback; a remote one is refused, a Unix-socket one is not.
    assert_eq!(t.run(&["CONFIG", "SET", "dbfilename", "x.rdb"]), ok());
    let remote =
        t.engine.connect(ClientInfo { addr: "10.1.2.3:40000".into(), laddr: "10.1.2.4:6379".into(), fd: 10, unix: false, writes_resp: false }, t.now_us);
    assert_eq!(t.run_as(remote, &["CONFIG", "SET", "dbfilename", "y.rdb"]), refused("dbfilename"));
    let unix =
        t.engine.connect(ClientInfo { addr: "/run/redis.sock:0".into(), laddr: "/run/redis.sock:0".into(), fd: 11, unix: true, writes_resp: false }, t.now_us);
    assert_eq!(t.run_as(unix, &["CONFIG", "SET", "dbfilename", "z.rdb"]), ok());
    assert!(text_of(&t.run_as(unix, &["CLIENT", "INFO"])).contains(" flags=U "));
}

#[test]
fn min_replicas_to_write_refuses_writes_with_noreplicas() {
    let mut t = TestEngine::new();
    let noreplicas = || err("NOREPLICAS Not enough good replicas to write.");
    assert_eq!(t.run(&["SET", "x", "some value"]), ok());
    assert_eq!(t.run(&["CONFIG", "SET", "min-replicas-to-write", "1"]), ok());
    assert_eq!(t.run(&["SET", "x", "1"]), noreplicas());
    assert_eq!(t.run(&["GET", "x"]), bulk("some value"));
    // Scripts (tests/unit/scripting.tcl "not enough good replicas").
    assert_eq!(t.run(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "1", "x"]), bulk("some value"));
    assert_eq!(t.run(&["EVAL", "return redis.call('get','x')", "1", "x"]), bulk("some value"));
    assert_eq!(t.run(&["EVAL", "#!lua\nreturn redis.call('get','x')", "1", "x"]), noreplicas());
    let r = t.run(&["EVAL", "return redis.call('set','x', 1)", "1", "x"]);
    assert!(text_of(&r).starts_with("NOREPLICAS Not enough good replicas to write."), "{r:?}");
    // Inside MULTI the write is refused as it is queued, which dooms the transaction.
    assert_eq!(t.run(&["MULTI"]), ok());
    assert_eq!(t.run(&["SET", "x", "2"]), noreplicas());
    assert_eq!(t.run(&["GET", "x"]), Reply::Simple("QUEUED"));
    assert_eq!(t.run(&["EXEC"]), err("EXECABORT Transaction discarded because of previous errors."));
    // Without a max lag the option is off, as in Redis.
    assert_eq!(t.run(&["CONFIG", "SET", "min-replicas-max-lag", "0"]), ok());
    assert_eq!(t.run(&["SET", "x", "3"]), ok());
    assert_eq!(t.run(&["CONFIG", "SET", "min-replicas-max-lag", "10", "min-slaves-to-write", "0"]), ok());
    assert_eq!(t.run(&["SET", "x", "4"]), ok());
}

#[test]
fn rename_command_moves_a_command_to_its_new_name_for_clients_and_scripts() {
    let total = crate::command::table::table().all.len() as i64;
    let d = load_conf("rename-command flushall \"\"\nrename-command CONFIG sys-config\n", &mut no_include).unwrap();
    let mut t = TestEngine::new();
    for (k, v) in &d {
        t.engine.config_set_startup(k, v).unwrap();
    }
    assert_eq!(t.run(&["flushall"]), err("ERR unknown command 'flushall', with args beginning with: "));
    assert_eq!(t.run(&["config", "get", "hz"]), err("ERR unknown command 'config', with args beginning with: 'get' 'hz' "));
    assert_eq!(t.run(&["SYS-CONFIG", "GET", "hz"]), one("hz", "10"));
    let r = t.run(&["EVAL", "return redis.call('config','get','hz')", "0"]);
    assert!(text_of(&r).starts_with("ERR Unknown Redis command called from script"), "{r:?}");
    let r = t.run(&["EVAL", "return redis.call('sys-config','get','hz')", "0"]);
    assert!(text_of(&r).starts_with("ERR This Redis command is not allowed from script"), "{r:?}");
    // Introspection: listed under its own name, reachable only by the new one.
    assert_eq!(t.run(&["COMMAND", "COUNT"]), int(total - 1));
    assert_eq!(t.run(&["COMMAND", "INFO", "config"]), Reply::Array(vec![Reply::Nil]));
    let Reply::Array(info) = t.run(&["COMMAND", "INFO", "sys-config"]) else { panic!() };
    let Reply::Array(fields) = &info[0] else { panic!("{info:?}") };
    assert_eq!(fields[0], bulk("config"));
    assert_eq!(t.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "flush*"]), Reply::Array(vec![bulk("flushdb")]));
    // A removed command dooms a transaction like any unknown one.
    assert_eq!(t.run(&["MULTI"]), ok());
    assert_eq!(t.run(&["FLUSHALL"]), err("ERR unknown command 'FLUSHALL', with args beginning with: "));
    assert_eq!(t.run(&["EXEC"]), err("EXECABORT Transaction discarded because of previous errors."));
    // Refused names count as errors: the three refused names and the two scripts'.
    let stats = text_of(&t.run(&["INFO", "errorstats"]));
    assert!(stats.contains("errorstat_ERR:count=5\r\n") && stats.contains("errorstat_EXECABORT:count=1\r\n"), "{stats}");
    // What the directive refuses, with the line it is on.
    let refused = |conf: &str| match load_conf(conf, &mut no_include) {
        Err(crate::config::ConfError::Line { line, reason, .. }) => (line, reason),
        other => panic!("{other:?}"),
    };
    assert_eq!(refused("port 1\nrename-command nosuch x\n"), (2, "No such command in rename-command".to_string()));
    assert_eq!(refused("rename-command keys get\n"), (1, "Target command name already exists".to_string()));
}
