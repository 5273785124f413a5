//! Server family, reply-exact (checked against redis-server 7.0.15).

use crate::engine::HostReport;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;
use crate::Event;

fn text(r: Reply) -> String {
    match r {
        Reply::Verbatim(_, b) | Reply::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        o => panic!("{:?}", o),
    }
}

#[test]
fn time_reports_the_host_clock() {
    let mut t = TestEngine::new();
    t.now_us += 123_456;
    assert_eq!(t.run(&["TIME"]), arr(&["1767225600", "123456"]));
}

#[test]
fn dbsize_flushdb_flushall() {
    let mut t = TestEngine::new();
    t.run(&["MSET", "a", "1", "b", "2"]);
    t.run(&["SELECT", "1"]);
    t.run(&["SET", "c", "3"]);
    assert_eq!(t.run(&["DBSIZE"]), int(1));
    assert_eq!(t.run(&["FLUSHDB", "ASYNC"]), ok());
    assert_eq!(t.run(&["DBSIZE"]), int(0));
    t.run(&["SELECT", "0"]);
    assert_eq!(t.run(&["DBSIZE"]), int(2));
    assert_eq!(t.run(&["FLUSHALL", "BOGUS"]), err("ERR syntax error"));
    assert_eq!(t.run(&["FLUSHALL", "SYNC"]), ok());
    assert_eq!(t.run(&["DBSIZE"]), int(0));
}

#[test]
fn swapdb_exchanges_databases_for_every_client() {
    let mut t = TestEngine::new();
    let other = t.connect();
    t.run(&["SET", "k", "db0"]);
    assert_eq!(t.run(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
    t.run_as(other, &["SELECT", "1"]);
    assert_eq!(t.run_as(other, &["GET", "k"]), bulk("db0"));
    assert_eq!(t.run(&["SWAPDB", "0", "100"]), err("ERR DB index is out of range"));
    assert_eq!(t.run(&["SWAPDB", "x", "0"]), err("ERR invalid first DB index"));
    assert_eq!(t.run(&["SWAPDB", "0", "y"]), err("ERR invalid second DB index"));
}

#[test]
fn info_has_the_sections_and_fields_clients_parse() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v", "EX", "100"]);
    t.run(&["SET", "j", "v"]);
    let all = text(t.run(&["INFO"]));
    for needle in [
        "# Server\r\n",
        "redis_version:7.0.15\r\n",
        "redis_mode:standalone\r\n",
        "server_name:cinnabar\r\n",
        "# Clients\r\nconnected_clients:1\r\n",
        "# Memory\r\nused_memory:",
        "# Stats\r\n",
        "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n",
    ] {
        assert!(all.contains(needle), "INFO lacks {:?}:\n{}", needle, all);
    }
    let ks = text(t.run(&["INFO", "keyspace"]));
    assert_eq!(ks, "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n");
    assert_eq!(text(t.run(&["INFO", "nosuchsection"])), "");
    let two = text(t.run(&["INFO", "server", "clients"]));
    assert!(two.starts_with("# Server\r\n") && two.contains("\r\n\r\n# Clients\r\n"), "{}", two);
}

#[test]
fn info_counts_hits_misses_and_commands() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v"]);
    t.run(&["GET", "k"]);
    t.run(&["GET", "nope"]);
    let s = text(t.run(&["INFO", "stats"]));
    assert!(s.contains("keyspace_hits:1\r\n"), "{}", s);
    assert!(s.contains("keyspace_misses:1\r\n"), "{}", s);
    assert!(s.contains("total_commands_processed:3\r\n"), "{}", s);
}

#[test]
fn config_get_and_set() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["CONFIG", "GET", "maxmemory"]), Reply::Map(vec![(bulk("maxmemory"), bulk("0"))]));
    assert_eq!(t.run(&["CONFIG", "SET", "maxmemory", "10mb", "hz", "20"]), ok());
    assert_eq!(t.run(&["CONFIG", "GET", "maxmemory", "hz"]), Reply::Map(vec![(bulk("maxmemory"), bulk("10485760")), (bulk("hz"), bulk("20"))]));
    let Reply::Map(m) = t.run(&["CONFIG", "GET", "maxmemory*"]) else { panic!() };
    assert_eq!(m.len(), 5);
    assert_eq!(t.run(&["CONFIG", "GET", "nosuch"]), Reply::Map(vec![]));
    assert_eq!(t.run(&["CONFIG", "SET", "nosuch", "1"]), err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"));
    assert_eq!(
        t.run(&["CONFIG", "SET", "hz", "x"]),
        err("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer")
    );
    assert_eq!(t.run(&["CONFIG", "SET", "hz", "5", "hz", "6"]), err("ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"));
    assert_eq!(
        t.run(&["CONFIG", "SET", "databases", "1"]),
        err("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config")
    );
    // Without a host that listens (this test engine, the wasm build) port is a plain value.
    assert_eq!(t.run(&["CONFIG", "SET", "port", "1"]), Reply::Simple("OK"));
    // All or nothing: the valid first pair is not applied when the second fails.
    assert!(t.run(&["CONFIG", "SET", "hz", "30", "maxmemory-policy", "bogus"]).is_error());
    assert_eq!(t.run(&["CONFIG", "GET", "hz"]), Reply::Map(vec![(bulk("hz"), bulk("20"))]));
    assert_eq!(t.run(&["CONFIG", "SET", "hz"]), err("ERR wrong number of arguments for 'config|set' command"));
    assert_eq!(t.run(&["CONFIG", "SET", "hz", "5", "maxmemory"]), err("ERR syntax error"));
}

#[test]
fn command_introspection_comes_from_the_table() {
    let mut t = TestEngine::new();
    let n = crate::command::table::table().len() as i64;
    assert_eq!(t.run(&["COMMAND", "COUNT"]), int(n));
    let Reply::Array(all) = t.run(&["COMMAND"]) else { panic!() };
    assert_eq!(all.len() as i64, n);
    let Reply::Array(info) = t.run(&["COMMAND", "INFO", "get", "nosuch"]) else { panic!() };
    assert_eq!(info[1], Reply::Nil);
    let Reply::Array(get) = &info[0] else { panic!() };
    assert_eq!(get[0], bulk("get"));
    assert_eq!(get[1], int(2));
    assert_eq!(get[2], Reply::Set(vec![Reply::Status("readonly".into()), Reply::Status("fast".into())]));
    assert_eq!((get[3].clone(), get[4].clone(), get[5].clone()), (int(1), int(1), int(1)));
    assert_eq!(get[6], Reply::Set(vec![Reply::Status("@read".into()), Reply::Status("@string".into()), Reply::Status("@fast".into())]));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]), arr(&["a", "b"]));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "PING", "x"]), err("ERR The command has no key arguments"));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "NOSUCH", "x"]), err("ERR Invalid command specified"));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "GET", "a", "b"]), err("ERR Invalid number of arguments specified for command"));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "GET"]), err("ERR wrong number of arguments for 'command|getkeys' command"));
    let Reply::Array(names) = t.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*"]) else { panic!() };
    assert!(names.contains(&bulk("client|setname")));
    let Reply::Array(strings) = t.run(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"]) else { panic!() };
    assert!(strings.contains(&bulk("incrbyfloat")) && !strings.contains(&bulk("ping")));
    let Reply::Map(docs) = t.run(&["COMMAND", "DOCS", "set"]) else { panic!() };
    let Reply::Map(set) = &docs[0].1 else { panic!() };
    assert_eq!(set[2], (bulk("group"), bulk("string")));
}

fn keys_and_flags(t: &mut TestEngine, argv: &[&str]) -> Vec<(String, Vec<String>)> {
    let Reply::Array(keys) = t.run(argv) else { panic!("{:?}", t.run(argv)) };
    keys.into_iter()
        .map(|k| {
            let Reply::Array(pair) = k else { panic!() };
            let (Reply::Bulk(name), Reply::Set(flags)) = (&pair[0], &pair[1]) else { panic!() };
            let flags = flags.iter().map(|f| match f {
                Reply::Status(s) => s.to_string(),
                o => panic!("{:?}", o),
            });
            (String::from_utf8_lossy(name).into_owned(), flags.collect())
        })
        .collect()
}

#[test]
fn command_getkeysandflags_reports_each_keys_spec_flags() {
    let mut t = TestEngine::new();
    let kf = |k: &str, f: &[&str]| (k.to_string(), f.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(keys_and_flags(&mut t, &["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"]), vec![kf("k1", &["OW", "update"])]);
    // SET's flags vary (variable_flags): with GET it reads the old value.
    assert_eq!(keys_and_flags(&mut t, &["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1", "get"]), vec![kf("k1", &["RW", "access", "update"])]);
    assert_eq!(
        keys_and_flags(&mut t, &["COMMAND", "GETKEYSANDFLAGS", "mset", "k1", "v1", "k2", "v2"]),
        vec![kf("k1", &["OW", "update"]), kf("k2", &["OW", "update"])]
    );
    assert_eq!(
        keys_and_flags(&mut t, &["COMMAND", "GETKEYSANDFLAGS", "LMOVE", "k1", "k2", "left", "right"]),
        vec![kf("k1", &["RW", "access", "delete"]), kf("k2", &["RW", "insert"])]
    );
    // SORT's STORE can be anywhere: its specs are `unknown`, so its own key finder answers.
    assert_eq!(
        keys_and_flags(&mut t, &["COMMAND", "GETKEYSANDFLAGS", "sort", "k1", "store", "k2"]),
        vec![kf("k1", &["RO", "access"]), kf("k2", &["OW", "update"])]
    );
    assert_eq!(t.run(&["COMMAND", "GETKEYSANDFLAGS", "ping", "x"]), err("ERR The command has no key arguments"));
    assert_eq!(t.run(&["COMMAND", "GETKEYSANDFLAGS", "spublish", "ch", "m"]), err("ERR The command has no key arguments"));
}

#[test]
fn command_getkeys_follows_numkeys_keywords_and_subcommands() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "get", "key"]), arr(&["key"]));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "memory", "usage", "key"]), arr(&["key"]));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "xgroup", "create", "key", "groupname", "$"]), arr(&["key"]));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "eval", "return 1", "1", "key"]), arr(&["key"]));
    // EVAL may name no keys (no_mandatory_keys), even with a count that makes no sense.
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "eval", "return 1", "0"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "eval", "return 1", "abc"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "lcs", "key1", "key2"]), arr(&["key1", "key2"]));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "xread", "count", "1", "streams", "a", "b", "0", "0"]), arr(&["a", "b"]));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "zunionstore", "d", "3", "a", "b"]), err("ERR Invalid arguments specified for command"));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "client", "foo"]), err("ERR Invalid command specified"));
    assert_eq!(t.run(&["COMMAND", "GETKEYS", "client", "list"]), err("ERR The command has no key arguments"));
    let keys: Vec<String> = (1..=260).map(|i| format!("key{}", i)).collect();
    let mut argv = vec!["COMMAND", "GETKEYS", "ZUNIONSTORE", "target", "260"];
    argv.extend(keys.iter().map(|k| k.as_str()));
    let mut want = vec!["target"];
    want.extend(keys.iter().map(|k| k.as_str()));
    assert_eq!(t.run(&argv), arr(&want));
}

#[test]
fn command_info_shows_key_specs_and_movablekeys_as_redis() {
    let mut t = TestEngine::new();
    let flags = |t: &mut TestEngine, name: &str| {
        let Reply::Array(info) = t.run(&["COMMAND", "INFO", name]) else { panic!() };
        let Reply::Array(one) = &info[0] else { panic!("{}", name) };
        let Reply::Set(f) = &one[2] else { panic!() };
        f.contains(&Reply::Status("movablekeys".into()))
    };
    for name in ["SET", "GET", "MSET", "LMOVE", "LPOP", "BLPOP", "PING", "MEMORY", "MEMORY|USAGE", "RENAME"] {
        assert!(!flags(&mut t, name), "{} is not movablekeys", name);
    }
    for name in ["ZUNIONSTORE", "XREAD", "EVAL", "SORT", "SORT_RO"] {
        assert!(flags(&mut t, name), "{} is movablekeys", name);
    }
    assert_eq!(t.run(&["COMMAND", "INFO", "get|key", "config|get|key"]), Reply::Array(vec![Reply::Nil, Reply::Nil]));
    let Reply::Array(info) = t.run(&["COMMAND", "INFO", "getex"]) else { panic!() };
    let Reply::Array(getex) = &info[0] else { panic!() };
    let Reply::Set(specs) = &getex[8] else { panic!() };
    let Reply::Map(spec) = &specs[0] else { panic!() };
    assert_eq!(spec[0], (bulk("notes"), bulk("RW and UPDATE because it changes the TTL")));
}

#[test]
fn command_list_filters_by_module_aclcat_and_pattern() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["COMMAND", "LIST", "bad_arg"]), err("ERR syntax error"));
    assert_eq!(t.run(&["COMMAND", "LIST", "FILTERBY", "bad_arg"]), err("ERR syntax error"));
    assert_eq!(t.run(&["COMMAND", "LIST", "FILTERBY", "bad_arg", "bad_arg2"]), err("ERR syntax error"));
    assert_eq!(t.run(&["COMMAND", "LIST", "FILTERBY", "MODULE", "non_existing_module"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "non_existing_category"]), Reply::Array(vec![]));
    let Reply::Array(scripting) = t.run(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "scripting"]) else { panic!() };
    assert!(scripting.contains(&bulk("eval")) && scripting.contains(&bulk("script|kill")) && !scripting.contains(&bulk("set")));
    assert_eq!(t.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "set"]), arr(&["set"]));
    assert_eq!(t.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "non_exists*"]), Reply::Array(vec![]));
    let Reply::Array(config) = t.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"]) else { panic!() };
    assert!(config.contains(&bulk("config")) && config.contains(&bulk("config|get")));
    let Reply::Array(re) = t.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "config|*re*"]) else { panic!() };
    assert!(re.contains(&bulk("config|resetstat")) && re.contains(&bulk("config|rewrite")));
    let Reply::Array(help) = t.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "cl*help"]) else { panic!() };
    assert!(help.contains(&bulk("client|help")));
}

fn map_keys(r: &Reply) -> Vec<String> {
    let Reply::Map(m) = r else { panic!("{:?}", r) };
    m.iter()
        .map(|(k, _)| match k {
            Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            o => panic!("{:?}", o),
        })
        .collect()
}

fn map_get<'a>(r: &'a Reply, key: &str) -> &'a Reply {
    let Reply::Map(m) = r else { panic!("{:?}", r) };
    &m.iter().find(|(k, _)| *k == bulk(key)).unwrap_or_else(|| panic!("no {}", key)).1
}

fn ten_mb() -> u64 {
    10 << 20
}

fn one_mb() -> u64 {
    1 << 20
}

/// An engine whose host reports 10 MB used (1 MB at start-up) and 12 MB resident.
fn with_memory(probe: fn() -> u64) -> TestEngine {
    let mut t = TestEngine::new();
    t.engine.srv.host.calls.memory_probe = Some(probe);
    t.engine.srv.host.memory.used_memory_rss = 12 << 20;
    t.engine.srv.memory.evict.startup = 1 << 20;
    t.engine.srv.memory.evict.peak = 0;
    t
}

#[test]
fn memory_stats_breaks_used_memory_down_as_redis() {
    let mut t = with_memory(ten_mb);
    t.run(&["SET", "a", "1"]);
    t.run(&["SET", "b", "2", "EX", "100"]);
    t.run(&["SELECT", "3"]);
    t.run(&["SET", "c", "3"]);
    let stats = t.run(&["MEMORY", "STATS"]);
    let names = map_keys(&stats);
    let mut want: Vec<&str> = "peak.allocated total.allocated startup.allocated replication.backlog clients.slaves clients.normal cluster.links aof.buffer lua.caches functions.caches".split(' ').collect();
    want.extend(["db.0", "db.3"]);
    want.extend("overhead.total keys.count keys.bytes-per-key dataset.bytes dataset.percentage peak.percentage allocator.allocated allocator.active allocator.resident allocator-fragmentation.ratio allocator-fragmentation.bytes allocator-rss.ratio allocator-rss.bytes rss-overhead.ratio rss-overhead.bytes fragmentation fragmentation.bytes".split(' '));
    assert_eq!(names, want);
    assert_eq!(map_get(&stats, "total.allocated"), &int(10 << 20));
    assert_eq!(map_get(&stats, "peak.allocated"), &int(10 << 20));
    assert_eq!(map_get(&stats, "startup.allocated"), &int(1 << 20));
    assert_eq!(map_get(&stats, "keys.count"), &int(3));
    assert_eq!(map_get(&stats, "keys.bytes-per-key"), &int((9 << 20) / 3));
    let db0 = map_get(&stats, "db.0");
    assert_eq!(map_keys(db0), vec!["overhead.hashtable.main", "overhead.hashtable.expires", "overhead.hashtable.slot-to-keys"]);
    let Reply::Int(expires) = map_get(db0, "overhead.hashtable.expires") else { panic!() };
    assert!(*expires > 0);
    let (Reply::Int(total), Reply::Int(dataset)) = (map_get(&stats, "overhead.total"), map_get(&stats, "dataset.bytes")) else { panic!() };
    assert_eq!(total + dataset, 10 << 20);
    let Reply::Double(perc) = map_get(&stats, "dataset.percentage") else { panic!() };
    assert_eq!(*perc, (*dataset as f32 * 100.0 / (9 << 20) as f32) as f64);
    assert_eq!(map_get(&stats, "peak.percentage"), &Reply::Double(100.0));
    // Redis's figures for an allocator other than jemalloc.
    assert_eq!(map_get(&stats, "allocator.allocated"), &int(10 << 20));
    assert_eq!(map_get(&stats, "allocator.resident"), &int(12 << 20));
    assert_eq!(map_get(&stats, "fragmentation"), &Reply::Double(1.2f32 as f64));
    assert_eq!(map_get(&stats, "fragmentation.bytes"), &int(2 << 20));
    assert_eq!(t.run(&["MEMORY", "STATS", "x"]), err("ERR wrong number of arguments for 'memory|stats' command"));
}

#[test]
fn info_memory_agrees_with_memory_stats() {
    let mut t = with_memory(ten_mb);
    t.run(&["SET", "a", "1"]);
    // A queued transaction is client memory (CLIENT LIST's multi-mem and tot-mem).
    let c = t.connect();
    t.run_as(c, &["MULTI"]);
    t.run_as(c, &["SET", "x", "y"]);
    let stats = t.run(&["MEMORY", "STATS"]);
    let Reply::Verbatim(_, list) = t.run(&["CLIENT", "LIST"]) else { panic!() };
    let tot: i64 = String::from_utf8_lossy(&list).lines().map(|l| l.split(' ').find_map(|f| f.strip_prefix("tot-mem=")).unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(map_get(&stats, "clients.normal"), &int(tot));
    let Reply::Verbatim(_, info) = t.run(&["INFO", "memory"]) else { panic!() };
    let info = String::from_utf8_lossy(&info).into_owned();
    let Reply::Int(total) = map_get(&stats, "overhead.total") else { panic!() };
    assert!(info.contains(&format!("used_memory_overhead:{}\r\n", total)), "{}", info);
    let Reply::Int(dataset) = map_get(&stats, "dataset.bytes") else { panic!() };
    assert!(info.contains(&format!("used_memory_dataset:{}\r\n", dataset)), "{}", info);
    let Reply::Int(clients) = map_get(&stats, "clients.normal") else { panic!() };
    assert!(*clients > 0 && info.contains(&format!("mem_clients_normal:{}\r\n", clients)));
}

#[test]
fn memory_doctor_speaks_as_redis() {
    let mut t = with_memory(one_mb);
    let text = |r: Reply| match r {
        Reply::Verbatim("txt", b) => String::from_utf8_lossy(&b).into_owned(),
        o => panic!("{:?}", o),
    };
    assert_eq!(
        text(t.run(&["MEMORY", "DOCTOR"])),
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    );
    let mut t = with_memory(ten_mb);
    assert_eq!(
        text(t.run(&["MEMORY", "DOCTOR"])),
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    );
    // A peak over 150% of what is used now, and an RSS 3x the allocations.
    t.engine.srv.memory.evict.peak = 20 << 20;
    t.engine.srv.host.memory.used_memory_rss = 30 << 20;
    let report = text(t.run(&["MEMORY", "DOCTOR"]));
    assert!(
        report.starts_with(
            "Sam, I detected a few issues in this Redis instance memory implants:\n\n * Peak memory: In the past this instance used more than 150% the memory"
        ),
        "{}",
        report
    );
    assert!(report.contains("\n\n * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4"), "{}", report);
    assert!(report.ends_with("I'm here to keep you safe, Sam. I want to help you.\n"));
}

#[test]
fn memory_malloc_stats_and_purge_answer_as_redis_without_jemalloc() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["MEMORY", "MALLOC-STATS"]), bulk("Stats not supported for the current allocator"));
    assert_eq!(t.run(&["MEMORY", "PURGE"]), ok());
    let Reply::Array(help) = t.run(&["MEMORY", "HELP"]) else { panic!() };
    assert_eq!(help[1], Reply::Simple("DOCTOR"));
    assert_eq!(t.run(&["MEMORY", "NOPE"]), err("ERR unknown subcommand 'NOPE'. Try MEMORY HELP."));
}

#[test]
fn debug_is_refused_unless_enabled() {
    let mut t = TestEngine::new();
    assert_eq!(
        t.run(&["DEBUG", "SLEEP", "0"]),
        err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
    );
    let mut c = crate::Config::default();
    c.set("enable-debug-command", "local", true).unwrap();
    let mut t = TestEngine::with_config(c);
    assert_eq!(t.run(&["DEBUG", "SLEEP", "0"]), ok());
}

#[test]
fn shutdown_and_debug_become_host_events() {
    let mut c = crate::Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    let mut t = TestEngine::with_config(c);
    assert_eq!(t.run(&["DEBUG", "SLEEP", "0.5"]), ok());
    assert_eq!(t.engine.drain_events(), vec![Event::Sleep { micros: 500_000 }]);
    assert_eq!(t.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    t.run(&["SET", "k", "v", "PX", "1"]);
    t.advance_ms(5);
    t.tick();
    assert_eq!(t.engine.dbsize(0), 1);
    assert_eq!(t.run(&["DEBUG", "BOGUS"]), err("ERR unknown subcommand or wrong number of arguments for 'BOGUS'. Try DEBUG HELP."));
    assert_eq!(t.run(&["SHUTDOWN", "BOGUS"]), err("ERR syntax error"));
    let o = t.engine.execute(t.client, vec!["SHUTDOWN".into(), "NOSAVE".into()], t.now_us);
    assert!(o.close);
    assert_eq!(t.engine.drain_events(), vec![Event::Shutdown { save: Some(false), force: false, client: None }]);
}

#[test]
fn slowlog_records_trims_and_resets() {
    let mut t = TestEngine::new();
    t.run(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    t.run(&["SLOWLOG", "RESET"]);
    let long = "x".repeat(200);
    t.run(&["SET", "k", &long]);
    let Reply::Array(entries) = t.run(&["SLOWLOG", "GET", "1"]) else { panic!() };
    let Reply::Array(e) = &entries[0] else { panic!() };
    assert_eq!(e[3], Reply::Array(vec![bulk("SET"), bulk("k"), bulk(&format!("{}... (72 more bytes)", "x".repeat(128)))]));
    assert_eq!(e[4], bulk("127.0.0.1:50000"));
    assert_eq!(t.run(&["SLOWLOG", "GET", "-2"]), err("ERR count should be greater than or equal to -1"));
    let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let mut argv = vec!["MSET"];
    for a in &many {
        argv.push(a);
    }
    t.run(&argv);
    let Reply::Array(entries) = t.run(&["SLOWLOG", "GET", "1"]) else { panic!() };
    let Reply::Array(e) = &entries[0] else { panic!() };
    let Reply::Array(args) = &e[3] else { panic!() };
    assert_eq!(args.len(), 32);
    assert_eq!(args[31], bulk("... (10 more arguments)"));
    t.run(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    let before = t.run(&["SLOWLOG", "LEN"]);
    t.run(&["PING"]);
    assert_eq!(t.run(&["SLOWLOG", "LEN"]), before);
}

#[test]
fn commandstats_and_errorstats() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v"]);
    t.run(&["INCR", "k"]);
    t.run(&["GET"]);
    let Reply::Verbatim(_, text) = t.run(&["INFO", "commandstats"]) else { panic!() };
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("cmdstat_incr:calls=1,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=1"), "{}", text);
    assert!(text.contains("cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"), "{}", text);
    let Reply::Verbatim(_, text) = t.run(&["INFO", "errorstats"]) else { panic!() };
    assert!(String::from_utf8_lossy(&text).contains("errorstat_ERR:count=2"));
    // Errors inside EXEC count too.
    t.run(&["MULTI"]);
    t.run(&["INCR", "k"]);
    t.run(&["EXEC"]);
    let Reply::Verbatim(_, text) = t.run(&["INFO", "errorstats"]) else { panic!() };
    assert!(String::from_utf8_lossy(&text).contains("errorstat_ERR:count=3"));
}

#[test]
fn instantaneous_ops_follow_the_tick_clock() {
    let mut t = TestEngine::new();
    t.tick();
    for _ in 0..100 {
        t.run(&["PING"]);
    }
    t.advance_ms(100);
    t.tick();
    let Reply::Verbatim(_, text) = t.run(&["INFO", "stats"]) else { panic!() };
    // 100 commands in 0.1 s is 1000/s, averaged over 16 samples: 62.
    assert!(String::from_utf8_lossy(&text).contains("instantaneous_ops_per_sec:62\r\n"), "{}", String::from_utf8_lossy(&text));
}

#[test]
fn save_points_ask_the_host_for_a_snapshot() {
    let mut c = crate::config::Config::default();
    c.set("save", "10 2", false).unwrap();
    let mut t = TestEngine::with_config(c);
    let saved = |t: &mut TestEngine| t.engine.drain_events().contains(&crate::event::Event::Save);
    t.run(&["SET", "a", "1"]);
    t.advance_ms(11_000);
    t.tick();
    assert!(!saved(&mut t), "one change is below the save point");
    t.run(&["SET", "b", "1"]);
    t.tick();
    assert!(saved(&mut t));
    t.tick();
    assert!(!saved(&mut t), "asked once until the host answers");
    t.engine.report(HostReport::SaveFinished { ok: true, now_us: t.now_us });
    let Reply::Verbatim(_, text) = t.run(&["INFO", "persistence"]) else { panic!() };
    assert!(String::from_utf8_lossy(&text).contains("rdb_changes_since_last_save:0\r\n"));
    assert_eq!(t.run(&["LASTSAVE"]), int(t.now_us / 1_000_000));
    t.tick();
    assert!(!saved(&mut t));
}

#[test]
fn debug_reload_round_trips_the_dataset_through_rdb() {
    let mut c = crate::Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    let mut t = TestEngine::with_config(c);
    t.run(&["SET", "k", "v", "EX", "100"]);
    t.run(&["HSET", "h", "f", "1"]);
    t.run(&["XADD", "s", "1-0", "f", "v"]);
    t.run(&["XGROUP", "CREATE", "s", "g", "0"]);
    t.run(&["SELECT", "2"]);
    t.run(&["RPUSH", "l", "a", "b"]);
    assert_eq!(t.run(&["DEBUG", "RELOAD"]), ok());
    assert!(t.engine.drain_events().contains(&crate::event::Event::Save), "the snapshot goes to disk too");
    assert_eq!(t.run(&["LRANGE", "l", "0", "-1"]), arr(&["a", "b"]));
    t.run(&["SELECT", "0"]);
    assert_eq!(t.run(&["TTL", "k"]), int(100));
    assert_eq!(t.run(&["HGET", "h", "f"]), bulk("1"));
    assert_eq!(t.run(&["XGROUP", "CREATE", "s", "g", "0"]), err("BUSYGROUP Consumer Group name already exists"));
    assert_eq!(t.run(&["XLEN", "s"]), int(1));
    assert_eq!(t.run(&["DBSIZE"]), int(3));
}

#[test]
fn debug_reload_noflush_merge_and_nosave_as_redis() {
    let mut c = crate::Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    let mut t = TestEngine::with_config(c);
    t.run(&["SET", "a", "1"]);
    t.run(&["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function() return 'one' end)"]);
    assert_eq!(t.run(&["DEBUG", "RELOAD", "BOGUS"]), err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."));
    // Without MERGE every key (and library) of the snapshot is already there: refused, unchanged.
    assert_eq!(t.run(&["DEBUG", "RELOAD", "NOFLUSH"]), err("ERR Error trying to load the RDB dump"));
    assert_eq!(t.run(&["GET", "a"]), bulk("1"));
    assert_eq!(t.run(&["DEBUG", "RELOAD", "noflush", "merge"]), ok());
    assert_eq!(t.run(&["GET", "a"]), bulk("1"));
    assert_eq!(t.run(&["FCALL", "f1", "0"]), bulk("one"));
    // NOSAVE: the host reads the file and answers; here the file holds `a` and lib1 as
    // they were, while the dataset moved on.
    let file = t.engine.rdb_snapshot();
    t.run(&["SET", "b", "2"]);
    t.run(&["FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f2', function() return 'two' end)"]);
    t.engine.drain_events();
    assert_eq!(t.run(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]), Reply::Blocked);
    let id = t.client;
    let merge = match t.engine.drain_events().as_slice() {
        [crate::event::Event::ReloadRdb { client, merge }] if *client == id => *merge,
        other => panic!("{:?}", other),
    };
    t.engine.report(HostReport::RdbReloadFinished { client: id, file: Ok(file.clone()), merge });
    assert_eq!(t.replies_for(id), vec![ok()]);
    t.engine.drain_events();
    assert_eq!(t.run(&["MGET", "a", "b"]), arr(&["1", "2"]));
    assert_eq!(t.run(&["FCALL", "f2", "0"]), bulk("two"), "merged: lib2 stays beside lib1");
    // NOSAVE alone: the file replaces the dataset; a file that cannot be read is an error.
    assert_eq!(t.run(&["DEBUG", "RELOAD", "NOSAVE"]), Reply::Blocked);
    let merge = match t.engine.drain_events().as_slice() {
        [crate::event::Event::ReloadRdb { merge, .. }] => *merge,
        other => panic!("{:?}", other),
    };
    t.engine.report(HostReport::RdbReloadFinished { client: id, file: Ok(file), merge });
    assert_eq!(t.replies_for(id), vec![ok()]);
    assert_eq!(t.run(&["MGET", "a", "b"]), Reply::Array(vec![bulk("1"), Reply::Nil]));
    assert_eq!(t.run(&["FCALL", "f2", "0"]), err("ERR Function not found"));
    assert_eq!(t.run(&["DEBUG", "RELOAD", "NOSAVE"]), Reply::Blocked);
    t.engine.drain_events();
    t.engine.report(HostReport::RdbReloadFinished { client: id, file: Err("dump.rdb: No such file or directory".into()), merge });
    assert_eq!(t.replies_for(id), vec![err("ERR Error trying to load the RDB dump")]);
    // Inside MULTI it cannot wait for the host.
    t.run(&["MULTI"]);
    t.run(&["DEBUG", "RELOAD", "NOSAVE"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![err("ERR DEBUG RELOAD NOSAVE is not allowed inside MULTI or scripts")]));
}

/// DEBUG OBJECT as redis-server 7.0.15 prints it (the address and LRU clock aside).
#[test]
fn debug_object_shows_encoding_serialized_length_and_quicklist_facts() {
    let mut c = crate::config::Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    let mut t = TestEngine::with_config(c);
    t.run(&["RPUSH", "l", "a", "b", "c", "1", "2", "3"]);
    t.run(&["SET", "i", "100"]);
    t.run(&["SET", "s", "hello"]);
    t.run(&["SADD", "st", "1", "2", "3"]);
    let shown = |t: &mut TestEngine, k: &str| match t.run(&["DEBUG", "OBJECT", k]) {
        Reply::Status(s) => {
            let rest = s.splitn(3, ' ').nth(2).unwrap().to_string();
            assert!(s.starts_with("Value at:0x"), "{s}");
            rest.split(' ').filter(|f| !f.starts_with("lru:")).collect::<Vec<_>>().join(" ")
        }
        other => panic!("{:?}", other),
    };
    assert_eq!(shown(&mut t, "l"), "refcount:1 encoding:quicklist serializedlength:25 lru_seconds_idle:0 ql_nodes:1 ql_avg_node:6.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:22");
    assert_eq!(shown(&mut t, "i"), "refcount:2147483647 encoding:int serializedlength:2 lru_seconds_idle:0");
    assert_eq!(shown(&mut t, "s"), "refcount:1 encoding:embstr serializedlength:6 lru_seconds_idle:0");
    assert_eq!(shown(&mut t, "st"), "refcount:1 encoding:intset serializedlength:15 lru_seconds_idle:0");
    assert_eq!(t.run(&["DEBUG", "OBJECT", "nokey"]), err("ERR no such key"));
}

/// A handler's panic (a bug) fails that command only: an error in its place, a transaction
/// going on with its other commands and recording what they did in the AOF, the client
/// still there; a panic in the batch's bookkeeping answers an error and closes the client.
/// (In wasm a panic aborts: the JS package recovers instead.)
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn a_panicking_command_fails_alone() {
    let mut c = crate::Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    let mut t = TestEngine::with_config(c);
    t.aof_on();
    let bug = "ERR internal error in 'debug', the command was not completed (a bug, logged by the server): DEBUG CINNABAR-PANIC asked for it";
    assert_eq!(t.run(&["DEBUG", "CINNABAR-PANIC", "HANDLER"]), err(bug));
    assert_eq!(t.run(&["MULTI"]), ok());
    t.run(&["SET", "k", "1"]);
    t.run(&["DEBUG", "CINNABAR-PANIC", "HANDLER"]);
    t.run(&["INCR", "k"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![ok(), err(bug), int(2)]));
    assert_eq!(t.aof_commands(), vec!["SELECT 0", "MULTI", "SET k 1", "INCR k", "EXEC"]);
    let o = t.engine.execute(t.client, vec!["DEBUG".into(), "CINNABAR-PANIC".into(), "BATCH".into()], t.now_us);
    assert_eq!(
        o.reply,
        Some(err("ERR internal error in 'batch', the command was not completed (a bug, logged by the server): DEBUG CINNABAR-PANIC BATCH asked for it"))
    );
    assert!(o.close);
    assert_eq!(t.run(&["GET", "k"]), bulk("2"));
}

fn debug_engine() -> TestEngine {
    let mut c = crate::Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    TestEngine::with_config(c)
}

#[test]
fn debug_populate_makes_keys_as_redis_without_propagating_them() {
    let mut t = debug_engine();
    t.aof_on();
    t.run(&["SET", "key:1", "mine"]);
    t.aof_commands();
    let watcher = t.connect();
    t.run_as(watcher, &["WATCH", "key:2"]);
    let dirty = t.engine.srv.stats.dirty;
    assert_eq!(t.run(&["DEBUG", "POPULATE", "3"]), ok());
    assert_eq!(t.run(&["MGET", "key:0", "key:1", "key:2", "key:3"]), Reply::Array(vec![bulk("value:0"), bulk("mine"), bulk("value:2"), Reply::Nil]));
    assert_eq!(t.engine.srv.stats.dirty, dirty, "no change to save for");
    assert!(t.aof_commands().is_empty(), "not propagated");
    t.run_as(watcher, &["MULTI"]);
    t.run_as(watcher, &["PING"]);
    assert_eq!(t.run_as(watcher, &["EXEC"]), Reply::NilArray, "a WATCHed name it creates is touched");
    // A prefix, and values cut or zero-padded to a size.
    assert_eq!(t.run(&["DEBUG", "POPULATE", "2", "p", "3"]), ok());
    assert_eq!(t.run(&["GET", "p:1"]), bulk("val"));
    assert_eq!(t.run(&["DEBUG", "POPULATE", "1", "z", "10"]), ok());
    assert_eq!(t.run(&["GET", "z:0"]), Reply::Bulk(bytes::Bytes::from_static(b"value:0\0\0\0")));
    assert_eq!(t.run(&["DEBUG", "POPULATE", "-1"]), err("ERR value is out of range, must be positive"));
    assert_eq!(t.run(&["DEBUG", "POPULATE", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["DEBUG", "POPULATE", "1", "k", "-5"]), err("ERR value is out of range, must be positive"));
    assert_eq!(t.run(&["DEBUG", "POPULATE", "0"]), ok());
    assert_eq!(t.run(&["DBSIZE"]), int(6));
}

#[test]
fn debug_protocol_answers_each_resp_type() {
    let mut t = debug_engine();
    assert_eq!(t.run(&["DEBUG", "PROTOCOL", "string"]), bulk("Hello World"));
    assert_eq!(t.run(&["DEBUG", "PROTOCOL", "integer"]), int(12345));
    assert_eq!(t.run(&["DEBUG", "PROTOCOL", "double"]), Reply::Double("3.141".parse().unwrap()));
    assert_eq!(t.run(&["DEBUG", "PROTOCOL", "bignum"]), Reply::BigNumber("1234567999999999999999999999999999999".into()));
    assert_eq!(t.run(&["DEBUG", "PROTOCOL", "map"]), Reply::Map((0..3).map(|j| (int(j), Reply::Bool(j == 1))).collect()));
    assert_eq!(t.run(&["DEBUG", "PROTOCOL", "set"]), Reply::Set(vec![int(0), int(1), int(2)]));
    assert_eq!(t.run(&["DEBUG", "PROTOCOL", "attrib"]), bulk("Some real reply following the attribute"));
    assert_eq!(t.run(&["DEBUG", "PROTOCOL", "push"]), err("ERR RESP2 is not supported by this command"));
    assert_eq!(
        t.run(&["DEBUG", "PROTOCOL", "nope"]),
        err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
    );
    t.run(&["HELLO", "3"]);
    match t.run(&["DEBUG", "PROTOCOL", "push"]) {
        Reply::Multi(v) => assert_eq!(v[1], bulk("Some real reply following the push reply")),
        o => panic!("{o:?}"),
    }
}

#[test]
fn debug_log_error_and_stringmatch_test() {
    let mut t = debug_engine();
    t.engine.drain_events();
    assert_eq!(t.run(&["DEBUG", "LOG", "hello there"]), ok());
    assert_eq!(t.engine.drain_events(), vec![Event::Log { level: 3, message: "DEBUG LOG: hello there".into() }]);
    assert_eq!(t.run(&["DEBUG", "ERROR", "MYERR two\r\nlines"]), err("MYERR two  lines"));
    assert_eq!(t.run(&["DEBUG", "STRINGMATCH-TEST"]), Reply::Status("Apparently Redis did not crash: test passed".into()));
}

#[test]
fn debug_switches_skip_checksums_allow_denied_commands_in_scripts_and_pause_the_cron() {
    let mut t = debug_engine();
    t.run(&["SET", "k", "v"]);
    let Reply::Bulk(payload) = t.run(&["DUMP", "k"]) else { panic!() };
    let mut bad = payload.to_vec();
    *bad.last_mut().unwrap() ^= 1;
    let bad = bytes::Bytes::from(bad);
    let restore = |t: &mut TestEngine| t.run_bytes(vec!["RESTORE".into(), "k2".into(), "0".into(), bad.clone(), "REPLACE".into()]);
    assert_eq!(restore(&mut t), err("ERR DUMP payload version or checksum are wrong"));
    assert_eq!(t.run(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]), ok());
    assert_eq!(restore(&mut t), ok());
    assert_eq!(t.run(&["GET", "k2"]), bulk("v"));
    t.run(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"]);
    assert_eq!(restore(&mut t), err("ERR DUMP payload version or checksum are wrong"));

    let script = ["EVAL", "return redis.call('debug','protocol','integer')", "0"];
    assert!(matches!(t.run(&script), Reply::Error(e) if e.contains("This Redis command is not allowed from script")));
    assert_eq!(t.run(&["DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1"]), ok());
    assert_eq!(t.run(&script), int(12345));
    t.run(&["DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0"]);

    assert_eq!(t.run(&["DEBUG", "PAUSE-CRON", "1"]), ok());
    t.run(&["SET", "gone", "v", "PX", "1"]);
    t.advance_ms(50);
    t.tick();
    assert_eq!(t.engine.dbsize(0), 3, "no active expiry while the cron is paused");
    assert_eq!(t.run(&["DEBUG", "PAUSE-CRON", "0"]), ok());
    t.tick();
    assert_eq!(t.engine.dbsize(0), 2);
}
