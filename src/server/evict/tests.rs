//! Eviction with memory counted by the test thread's own allocator (src/alloc.rs), so the
//! limits below are real bytes the engine holds.

#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;
use crate::Reply;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn engine(policy: &str) -> TestEngine {
    let mut t = TestEngine::new();
    t.engine.set_memory_probe(crate::alloc::live_bytes);
    assert_eq!(t.run(&["CONFIG", "SET", "maxmemory-policy", policy]), ok());
    t
}

/// Memory as maxmemory counts it (spare keyspace slots are free for the next keys).
fn counted(t: &TestEngine) -> u64 {
    crate::server::evict::counted_memory(&t.engine.srv)
}

fn info_field(t: &mut TestEngine, section: &str, field: &str) -> String {
    let Reply::Verbatim(_, text) = t.run(&["INFO", section]) else { panic!("INFO is verbatim") };
    let text = String::from_utf8_lossy(&text).into_owned();
    let line = text.lines().find(|l| l.starts_with(&format!("{}:", field))).unwrap_or_else(|| panic!("{} in {}", field, text));
    line.split_once(':').unwrap().1.to_string()
}

fn value() -> String {
    "v".repeat(200)
}

/// Fills `n` keys named `prefix:i`, one second apart in groups of 100, so LRU has an order.
fn fill(t: &mut TestEngine, prefix: &str, n: usize, ttl: bool) {
    for i in 0..n {
        if i % 100 == 0 {
            t.advance_ms(1000);
        }
        let k = format!("{}:{}", prefix, i);
        if ttl {
            t.run(&["SET", &k, &value(), "EX", "10000"]);
        } else {
            t.run(&["SET", &k, &value()]);
        }
    }
}

fn exists(t: &mut TestEngine, k: &str) -> bool {
    t.run(&["EXISTS", k]) == int(1)
}

#[test]
fn allkeys_lru_keeps_recently_used_keys_under_the_limit() {
    let mut t = engine("allkeys-lru");
    fill(&mut t, "old", 2000, false);
    let limit = counted(&t);
    t.run(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    // A hot tenth of the old keys is read after everything else was written.
    t.advance_ms(5000);
    for i in (0..2000).step_by(10) {
        t.run(&["GET", &format!("old:{}", i)]);
    }
    fill(&mut t, "new", 1000, false);
    assert!(counted(&t) <= limit + 4096, "used {} over the limit {}", counted(&t), limit);
    let evicted: u64 = info_field(&mut t, "stats", "evicted_keys").parse().unwrap();
    assert!(evicted >= 800, "evicted {}", evicted);
    let hot_kept = (0..2000).step_by(10).filter(|i| exists(&mut t, &format!("old:{}", i))).count();
    let cold_kept = (0..2000).filter(|i| i % 10 != 0).filter(|i| exists(&mut t, &format!("old:{}", i))).count();
    assert!(hot_kept >= 170, "hot keys kept: {} of 200", hot_kept);
    assert!(cold_kept < 1000, "cold keys kept: {} of 1800", cold_kept);
    // The newest keys are there too.
    assert!(exists(&mut t, "new:999"));
}

#[test]
fn allkeys_lfu_keeps_frequently_used_keys() {
    let mut t = engine("allkeys-lfu");
    fill(&mut t, "k", 1000, false);
    for _ in 0..30 {
        for i in 0..50 {
            t.run(&["GET", &format!("k:{}", i)]);
        }
    }
    let Reply::Int(freq) = t.run(&["OBJECT", "FREQ", "k:0"]) else { panic!() };
    assert!(freq > 5, "freq {}", freq);
    t.run(&["CONFIG", "SET", "maxmemory", &counted(&t).to_string()]);
    fill(&mut t, "n", 1000, false);
    let kept = (0..50).filter(|i| exists(&mut t, &format!("k:{}", i))).count();
    assert!(kept >= 48, "frequent keys kept: {} of 50", kept);
}

#[test]
fn volatile_policies_never_evict_keys_without_ttl_and_then_refuse_writes() {
    for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
        let mut t = engine(policy);
        fill(&mut t, "p", 500, false);
        fill(&mut t, "v", 500, true);
        t.run(&["CONFIG", "SET", "maxmemory", &counted(&t).to_string()]);
        let mut refused = false;
        for i in 0..2000 {
            match t.run(&["SET", &format!("w:{}", i), &value()]) {
                Reply::Error(e) => {
                    assert_eq!(e, OOM, "{}", policy);
                    refused = true;
                    break;
                }
                r => assert_eq!(r, ok()),
            }
        }
        assert!(refused, "{}: writes refused once only persistent keys are left", policy);
        assert!((0..500).all(|i| exists(&mut t, &format!("p:{}", i))), "{}: every persistent key stays", policy);
        assert!((0..500).all(|i| !exists(&mut t, &format!("v:{}", i))), "{}: every volatile key went first", policy);
        // Reads and deletes still work.
        assert_eq!(t.run(&["GET", "p:1"]), bulk(&value()));
        assert_eq!(t.run(&["DEL", "p:1"]), int(1));
    }
}

#[test]
fn volatile_ttl_takes_the_nearest_deadline_first() {
    let mut t = engine("volatile-ttl");
    t.run(&["CONFIG", "SET", "maxmemory-samples", "64"]);
    for i in 0..300 {
        t.run(&["SET", &format!("k:{}", i), &value(), "EX", &(1000 + i).to_string()]);
    }
    t.run(&["CONFIG", "SET", "maxmemory", &counted(&t).to_string()]);
    for i in 0..100 {
        t.run(&["SET", &format!("n:{}", i), &value(), "EX", "100000"]);
    }
    // The survivors are (nearly) the keys with the latest deadlines, however many went.
    let kept: Vec<usize> = (0..300).filter(|i| exists(&mut t, &format!("k:{}", i))).collect();
    assert!(kept.len() < 300 && !kept.is_empty(), "{}", kept.len());
    let in_order = kept.iter().filter(|&&i| i >= 300 - kept.len()).count();
    assert!(in_order * 10 >= kept.len() * 9, "{} of {} survivors among the latest deadlines", in_order, kept.len());
}

#[test]
fn noeviction_refuses_denyoom_commands_while_reads_and_deletes_work() {
    let mut t = engine("noeviction");
    fill(&mut t, "k", 100, false);
    t.run(&["CONFIG", "SET", "maxmemory", "1"]);
    assert_eq!(t.run(&["SET", "x", "1"]), err(OOM));
    assert_eq!(t.run(&["LPUSH", "l", "a"]), err(OOM));
    assert_eq!(t.run(&["GET", "k:1"]), bulk(&value()));
    assert_eq!(t.run(&["DEL", "k:1"]), int(1));
    assert_eq!(t.run(&["EXPIRE", "k:2", "100"]), int(1));
    assert_eq!(info_field(&mut t, "stats", "evicted_keys"), "0");
    assert_eq!(t.run(&["DBSIZE"]), int(99));
    // In MULTI every queued command is refused (the queue grows too), dooming EXEC.
    assert_eq!(t.run(&["MULTI"]), ok());
    assert_eq!(t.run(&["GET", "k:3"]), err(OOM));
    assert_eq!(t.run(&["EXEC"]), err("EXECABORT Transaction discarded because of previous errors."));
    // A transaction queued before memory ran out aborts at EXEC if it would write.
    t.run(&["CONFIG", "SET", "maxmemory", "0"]);
    t.run(&["MULTI"]);
    t.run(&["SET", "y", "1"]);
    let admin = t.connect();
    t.run_as(admin, &["CONFIG", "SET", "maxmemory", "1"]);
    assert_eq!(t.run(&["EXEC"]), err(&format!("EXECABORT Transaction discarded because of: {}", OOM)));
    // Scripts: a declared writer without allow-oom is refused, allow-oom and no-writes run.
    assert_eq!(t.run(&["EVAL", "#!lua\nreturn redis.call('set','z','1')", "0"]), err("OOM command not allowed when used memory > 'maxmemory'."));
    assert_eq!(t.run(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','k:4')", "0"]), bulk(&value()));
    assert_eq!(t.run(&["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','z','1')", "0"]), Reply::Status("OK".into()));
    let r = t.run(&["EVAL", "return redis.call('set','z2','1')", "0"]);
    assert!(matches!(&r, Reply::Error(e) if e.starts_with(OOM)), "{:?}", r);
    let rejected = info_field(&mut t, "commandstats", "cmdstat_set");
    assert!(rejected.contains("rejected_calls=2"), "{}", rejected);
}

#[test]
fn lowering_maxmemory_evicts_at_once_and_from_the_tick() {
    let mut t = engine("allkeys-random");
    fill(&mut t, "k", 3000, false);
    let target = counted(&t) - 300_000;
    t.run(&["CONFIG", "SET", "maxmemory-eviction-tenacity", "0"]);
    assert_eq!(t.run(&["CONFIG", "SET", "maxmemory", &target.to_string()]), ok());
    // Tenacity 0 gives each pass almost no time: the rest happens on later ticks.
    for _ in 0..200 {
        if counted(&t) <= target {
            break;
        }
        t.tick();
    }
    assert!(counted(&t) <= target, "used {} target {}", counted(&t), target);
    let Reply::Int(n) = t.run(&["DBSIZE"]) else { panic!() };
    assert!(n < 3000 && n > 0, "{}", n);
    let evicted: i64 = info_field(&mut t, "stats", "evicted_keys").parse().unwrap();
    assert!(evicted >= 3000 - n, "{} evicted, {} left", evicted, n);
}

#[test]
fn evicted_keys_are_announced_propagated_and_fail_watchers() {
    let mut t = engine("allkeys-lru");
    // A sample as large as the keyspace makes the approximation exact.
    t.run(&["CONFIG", "SET", "maxmemory-samples", "64"]);
    let sub = t.connect();
    t.run(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
    t.run_as(sub, &["SUBSCRIBE", "__keyevent@0__:evicted"]);
    t.replies_for(sub);
    t.run(&["SET", "victim", &value()]);
    t.advance_ms(10_000);
    let w = t.connect();
    t.run_as(w, &["WATCH", "victim"]);
    t.aof_on();
    fill(&mut t, "k", 50, false);
    t.aof_commands();
    t.run(&["CONFIG", "SET", "maxmemory", &(counted(&t) - 100).to_string()]);
    assert!(!exists(&mut t, "victim"), "the least recently used key goes first");
    let msgs = t.replies_for(sub);
    assert!(msgs.iter().any(|m| format!("{:?}", m).contains("victim")), "{:?}", msgs);
    assert!(t.aof_commands().contains(&"DEL victim".to_string()));
    t.run(&["CONFIG", "SET", "maxmemory", "0"]);
    t.run_as(w, &["MULTI"]);
    t.run_as(w, &["SET", "victim", "again"]);
    assert_eq!(t.run_as(w, &["EXEC"]), Reply::NilArray);
}

#[test]
fn info_memory_reports_the_limit_and_the_peak() {
    let mut t = engine("allkeys-lru");
    t.run(&["CONFIG", "SET", "maxmemory", "100mb"]);
    assert_eq!(info_field(&mut t, "memory", "maxmemory"), "104857600");
    assert_eq!(info_field(&mut t, "memory", "maxmemory_human"), "100.00M");
    assert_eq!(info_field(&mut t, "memory", "maxmemory_policy"), "allkeys-lru");
    fill(&mut t, "k", 1000, false);
    let used: u64 = info_field(&mut t, "memory", "used_memory").parse().unwrap();
    t.run(&["FLUSHALL"]);
    let peak: u64 = info_field(&mut t, "memory", "used_memory_peak").parse().unwrap();
    let after: u64 = info_field(&mut t, "memory", "used_memory").parse().unwrap();
    assert!(peak >= used && after < used, "peak {} used {} after {}", peak, used, after);
    assert_eq!(t.run(&["CONFIG", "GET", "maxmemory-eviction-tenacity"]), Reply::Map(vec![(bulk("maxmemory-eviction-tenacity"), bulk("10"))]));
}

#[test]
fn a_script_refused_for_memory_counts_one_oom_error() {
    let mut t = engine("noeviction");
    t.run(&["CONFIG", "SET", "maxmemory", "1"]);
    t.run(&["CONFIG", "RESETSTAT"]);
    let r = t.run(&["EVAL", "return redis.call('set','x','y')", "1", "x"]);
    assert!(matches!(&r, Reply::Error(e) if e.starts_with(OOM)), "{:?}", r);
    assert_eq!(info_field(&mut t, "errorstats", "errorstat_OOM"), "count=1");
    assert_eq!(info_field(&mut t, "stats", "total_error_replies"), "1");
    assert!(info_field(&mut t, "commandstats", "cmdstat_set").starts_with("calls=0,"));
    assert!(info_field(&mut t, "commandstats", "cmdstat_set").contains("rejected_calls=1,failed_calls=0"));
    assert!(info_field(&mut t, "commandstats", "cmdstat_eval").contains("rejected_calls=0,failed_calls=1"));
    // `flags=` alone declares no flags: refused like any writer.
    let r = t.run(&["EVAL", "#!lua flags=\nreturn 1", "0"]);
    assert!(matches!(&r, Reply::Error(e) if e.starts_with("OOM ")), "{:?}", r);
}

#[test]
fn maxmemory_clients_closes_the_biggest_client_but_not_no_evict_ones() {
    let mut t = TestEngine::new();
    assert_eq!(
        t.run(&["CONFIG", "SET", "maxmemory-clients", "bogus"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value")
    );
    assert_eq!(
        t.run(&["CONFIG", "SET", "maxmemory-clients", "101%"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100")
    );
    t.run(&["CONFIG", "SET", "maxmemory", "1000000", "maxmemory-clients", "1%"]);
    assert_eq!(t.run(&["CONFIG", "GET", "maxmemory-clients"]), Reply::Map(vec![(bulk("maxmemory-clients"), bulk("1%"))]));
    let (small, big, keep) = (t.connect(), t.connect(), t.connect());
    assert_eq!(t.run_as(keep, &["CLIENT", "NO-EVICT", "on"]), ok());
    // 1% of 1 MB: 10000 bytes for all clients together.
    assert!(!t.engine.report_client_memory(small, 3000));
    assert!(!t.engine.report_client_memory(keep, 50_000), "CLIENT NO-EVICT clients are never evicted");
    assert!(t.engine.report_client_memory(big, 9000), "the biggest client goes");
    assert!(t.engine.drain_events().contains(&crate::Event::CloseClient(big)));
    assert!(!t.engine.report_client_memory(small, 3000));
    assert_eq!(info_field(&mut t, "stats", "evicted_clients"), "1");
    let Reply::Verbatim(_, list) = t.run(&["CLIENT", "LIST"]) else { panic!() };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert!(list.lines().any(|l| l.contains(&format!("id={} ", keep)) && l.contains(" tot-mem=50000 ")), "{}", list);
    t.run(&["CONFIG", "SET", "maxmemory-clients", "0"]);
    assert!(!t.engine.report_client_memory(small, 1 << 30));
}

#[test]
fn invalidations_of_keys_evicted_before_a_command_precede_its_reply() {
    let mut t = engine("volatile-random");
    let id = t.client;
    t.run(&["HELLO", "3"]);
    t.run(&["CLIENT", "TRACKING", "on"]);
    let limit = counted(&t) + 100 * 1024;
    t.run(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    t.run(&["SETEX", "volatile-key", "10000", "x"]);
    t.run(&["GET", "volatile-key"]);
    // 200kB of bitmap: the next command evicts the volatile key first.
    assert_eq!(t.run_all(id, &["SETBIT", "big-key", "1600000", "0"]), [int(0)]);
    let invalidate = Reply::Push(vec![bulk("invalidate"), arr(&["volatile-key"])]);
    assert_eq!(t.run_all(id, &["GETBIT", "big-key", "0"]), [invalidate, int(0)]);
}

/// unit/maxmemory "propagation with eviction in MULTI": a limit lowered inside EXEC takes
/// effect when the transaction ends, which runs whole and is followed by the DELs.
#[test]
fn a_limit_lowered_inside_exec_evicts_after_the_transaction() {
    let mut t = engine("allkeys-lru");
    t.aof_on();
    t.run(&["MULTI"]);
    t.run(&["INCR", "x"]);
    t.run(&["CONFIG", "SET", "maxmemory", "1"]);
    t.run(&["INCR", "x"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![int(1), ok(), int(2)]));
    assert_eq!(t.run(&["DBSIZE"]), int(0));
    assert_eq!(t.aof_commands(), ["SELECT 0", "MULTI", "INCR x", "INCR x", "EXEC", "DEL x"]);
}
