//! Keyspace family, reply-exact (checked against redis-server 7.0.15).

use std::collections::BTreeSet;

use crate::config::Config;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

#[test]
fn del_exists_touch_type() {
    let mut t = TestEngine::new();
    t.run(&["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(t.run(&["EXISTS", "a", "a", "nope"]), int(2));
    assert_eq!(t.run(&["DEL", "a", "b", "nope"]), int(2));
    assert_eq!(t.run(&["UNLINK", "c"]), int(1));
    assert_eq!(t.run(&["EXISTS", "a", "b", "c"]), int(0));
    t.run(&["SET", "s", "v"]);
    assert_eq!(t.run(&["TOUCH", "s", "nope"]), int(1));
    assert_eq!(t.run(&["TYPE", "s"]), Reply::Simple("string"));
    assert_eq!(t.run(&["TYPE", "nope"]), Reply::Simple("none"));
}

#[test]
fn expire_sets_and_ttl_reports_rounded_seconds() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["TTL", "k"]), int(-1));
    assert_eq!(t.run(&["TTL", "nope"]), int(-2));
    assert_eq!(t.run(&["PTTL", "nope"]), int(-2));
    assert_eq!(t.run(&["EXPIRE", "k", "100"]), int(1));
    assert_eq!(t.run(&["TTL", "k"]), int(100));
    t.advance_ms(400);
    assert_eq!(t.run(&["TTL", "k"]), int(100));
    t.advance_ms(200);
    assert_eq!(t.run(&["TTL", "k"]), int(99));
    assert_eq!(t.run(&["PTTL", "k"]), int(99_400));
    assert_eq!(t.run(&["EXPIRE", "nope", "10"]), int(0));
}

#[test]
fn expire_conditions_nx_xx_gt_lt() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "100", "NX"]), int(1));
    assert_eq!(t.run(&["EXPIRE", "k", "200", "NX"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "50", "GT"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "300", "GT"]), int(1));
    assert_eq!(t.run(&["EXPIRE", "k", "400", "LT"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "10", "LT"]), int(1));
    assert_eq!(t.run(&["TTL", "k"]), int(10));
    assert_eq!(t.run(&["EXPIRE", "k", "10", "NX", "XX"]), err("ERR NX and XX, GT or LT options at the same time are not compatible"));
    assert_eq!(t.run(&["EXPIRE", "k", "10", "GT", "LT"]), err("ERR GT and LT options at the same time are not compatible"));
    assert_eq!(t.run(&["EXPIRE", "k", "10", "FOO"]), err("ERR Unsupported option FOO"));
    t.run(&["SET", "p", "v"]);
    assert_eq!(t.run(&["EXPIRE", "p", "10", "LT"]), int(1));
}

#[test]
fn expire_in_the_past_deletes_and_overflow_is_an_error() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["EXPIRE", "k", "-1"]), int(1));
    assert_eq!(t.run(&["EXISTS", "k"]), int(0));
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["EXPIREAT", "k", "1"]), int(1));
    assert_eq!(t.run(&["EXISTS", "k"]), int(0));
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["EXPIRE", "k", "9223372036854775807"]), err("ERR invalid expire time in 'expire' command"));
    assert_eq!(t.run(&["PEXPIRE", "k", "9223372036854775807"]), err("ERR invalid expire time in 'pexpire' command"));
    assert_eq!(t.run(&["EXPIRE", "k", "x"]), err("ERR value is not an integer or out of range"));
}

#[test]
fn expiretime_pexpiretime_and_persist() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["EXPIRETIME", "k"]), int(-1));
    assert_eq!(t.run(&["PEXPIREAT", "k", "99999999999000"]), int(1));
    assert_eq!(t.run(&["PEXPIRETIME", "k"]), int(99999999999000));
    assert_eq!(t.run(&["EXPIRETIME", "k"]), int(99999999999));
    assert_eq!(t.run(&["PERSIST", "k"]), int(1));
    assert_eq!(t.run(&["PERSIST", "k"]), int(0));
    assert_eq!(t.run(&["PERSIST", "nope"]), int(0));
    assert_eq!(t.run(&["EXPIRETIME", "nope"]), int(-2));
}

#[test]
fn keys_matches_globs_and_skips_expired_keys() {
    let mut t = TestEngine::new();
    t.run(&["MSET", "one", "1", "two", "2", "three", "3", "four", "4"]);
    t.run(&["SET", "old", "x", "PX", "10"]);
    t.advance_ms(10);
    let set = |r: Reply| match r {
        Reply::Array(v) => v
            .into_iter()
            .map(|b| match b {
                Reply::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
                o => panic!("{:?}", o),
            })
            .collect::<BTreeSet<_>>(),
        o => panic!("{:?}", o),
    };
    assert_eq!(set(t.run(&["KEYS", "*o*"])), ["four", "one", "two"].iter().map(|s| s.to_string()).collect());
    assert_eq!(set(t.run(&["KEYS", "t??"])), ["two".to_string()].into_iter().collect());
    assert_eq!(set(t.run(&["KEYS", "*"])).len(), 4);
}

#[test]
fn scan_returns_every_key_present_throughout_despite_writes() {
    let mut t = TestEngine::new();
    for i in 0..500 {
        t.run(&["SET", &format!("stable:{}", i), "v"]);
    }
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let Reply::Array(parts) = t.run(&["SCAN", &cursor, "COUNT", "20"]) else { panic!() };
        let Reply::Bulk(c) = &parts[0] else { panic!() };
        cursor = String::from_utf8(c.to_vec()).unwrap();
        let Reply::Array(keys) = &parts[1] else { panic!() };
        for k in keys {
            let Reply::Bulk(k) = k else { panic!() };
            seen.insert(String::from_utf8(k.to_vec()).unwrap());
        }
        round += 1;
        // Grow and shrink the keyspace mid-scan to force table resizes.
        if round == 3 {
            for i in 0..3000 {
                t.run(&["SET", &format!("churn:{}", i), "v"]);
            }
        }
        if round == 10 {
            for i in 0..3000 {
                t.run(&["DEL", &format!("churn:{}", i)]);
            }
        }
        if cursor == "0" {
            break;
        }
    }
    for i in 0..500 {
        assert!(seen.contains(&format!("stable:{}", i)), "missed stable:{}", i);
    }
}

#[test]
fn scan_options_and_errors() {
    let mut t = TestEngine::new();
    t.run(&["MSET", "a1", "1", "a2", "2", "b1", "3"]);
    let Reply::Array(p) = t.run(&["SCAN", "0", "MATCH", "a*", "COUNT", "100", "TYPE", "string"]) else { panic!() };
    assert_eq!(p[0], bulk("0"));
    let Reply::Array(keys) = &p[1] else { panic!() };
    assert_eq!(keys.len(), 2);
    let Reply::Array(p) = t.run(&["SCAN", "0", "TYPE", "hash"]) else { panic!() };
    assert_eq!(p[1], Reply::Array(vec![]));
    assert_eq!(t.run(&["SCAN", "x"]), err("ERR invalid cursor"));
    assert_eq!(t.run(&["SCAN", "0", "COUNT", "0"]), err("ERR syntax error"));
    assert_eq!(t.run(&["SCAN", "0", "COUNT", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["SCAN", "0", "MATCH"]), err("ERR syntax error"));
    assert_eq!(t.run(&["SCAN", "0", "FOO", "bar"]), err("ERR syntax error"));
}

#[test]
fn randomkey_returns_a_live_key_or_nil() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["RANDOMKEY"]), Reply::Nil);
    t.run(&["SET", "only", "v"]);
    assert_eq!(t.run(&["RANDOMKEY"]), bulk("only"));
}

#[test]
fn rename_moves_the_value_and_its_ttl() {
    let mut t = TestEngine::new();
    t.run(&["SET", "src", "v", "EX", "100"]);
    assert_eq!(t.run(&["RENAME", "src", "dst"]), ok());
    assert_eq!(t.run(&["TTL", "dst"]), int(100));
    assert_eq!(t.run(&["EXISTS", "src"]), int(0));
    assert_eq!(t.run(&["RENAME", "nope", "x"]), err("ERR no such key"));
    assert_eq!(t.run(&["RENAME", "dst", "dst"]), ok());
    t.run(&["SET", "other", "x"]);
    assert_eq!(t.run(&["RENAMENX", "dst", "other"]), int(0));
    assert_eq!(t.run(&["RENAMENX", "dst", "fresh"]), int(1));
    assert_eq!(t.run(&["RENAMENX", "fresh", "fresh"]), int(0));
    assert_eq!(t.run(&["RENAME", "fresh", "other"]), ok());
    assert_eq!(t.run(&["GET", "other"]), bulk("v"));
}

#[test]
fn copy_and_move_between_databases() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v", "EX", "100"]);
    assert_eq!(t.run(&["COPY", "k", "k2"]), int(1));
    assert_eq!(t.run(&["TTL", "k2"]), int(100));
    assert_eq!(t.run(&["COPY", "k", "k2"]), int(0));
    assert_eq!(t.run(&["COPY", "k", "k2", "REPLACE"]), int(1));
    assert_eq!(t.run(&["COPY", "k", "k"]), err("ERR source and destination objects are the same"));
    assert_eq!(t.run(&["COPY", "k", "k", "DB", "1"]), int(1));
    assert_eq!(t.run(&["COPY", "k", "x", "DB", "100"]), err("ERR DB index is out of range"));
    assert_eq!(t.run(&["COPY", "k", "x", "DB", "abc"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["COPY", "k", "x", "BOGUS"]), err("ERR syntax error"));
    assert_eq!(t.run(&["COPY", "nope", "x"]), int(0));
    assert_eq!(t.run(&["MOVE", "k", "0"]), err("ERR source and destination objects are the same"));
    assert_eq!(t.run(&["MOVE", "k", "1"]), int(0));
    assert_eq!(t.run(&["MOVE", "k2", "1"]), int(1));
    assert_eq!(t.run(&["MOVE", "nope", "1"]), int(0));
    assert_eq!(t.run(&["MOVE", "k", "99"]), err("ERR DB index is out of range"));
    t.run(&["SELECT", "1"]);
    assert_eq!(t.run(&["GET", "k2"]), bulk("v"));
    assert_eq!(t.run(&["TTL", "k2"]), int(100));
}

#[test]
fn object_encoding_refcount_idletime_and_freq() {
    let mut t = TestEngine::new();
    t.run(&["SET", "i", "123"]);
    t.run(&["SET", "big", "123456"]);
    t.run(&["SET", "s", "hello"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "i"]), bulk("int"));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "nope"]), Reply::Nil);
    assert_eq!(t.run(&["OBJECT", "REFCOUNT", "i"]), int(2147483647));
    assert_eq!(t.run(&["OBJECT", "REFCOUNT", "big"]), int(1));
    t.advance_ms(3_000);
    assert_eq!(t.run(&["OBJECT", "IDLETIME", "s"]), int(3));
    t.run(&["GET", "s"]);
    assert_eq!(t.run(&["OBJECT", "IDLETIME", "s"]), int(0));
    assert_eq!(
        t.run(&["OBJECT", "FREQ", "s"]),
        err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    assert_eq!(t.run(&["OBJECT", "BOGUS", "s"]), err("ERR unknown subcommand 'BOGUS'. Try OBJECT HELP."));
    assert!(matches!(t.run(&["OBJECT", "HELP"]), Reply::Array(_)));
}

#[test]
fn lfu_counters_grow_with_access_and_decay_with_time() {
    let mut c = Config::default();
    c.set("maxmemory-policy", "allkeys-lfu", false).unwrap();
    let mut t = TestEngine::with_config(c);
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["OBJECT", "FREQ", "k"]), int(5));
    for _ in 0..200 {
        t.run(&["GET", "k"]);
    }
    let Reply::Int(hot) = t.run(&["OBJECT", "FREQ", "k"]) else { panic!() };
    assert!(hot > 5, "{}", hot);
    t.advance_ms(3 * 60_000);
    assert_eq!(t.run(&["OBJECT", "FREQ", "k"]), int(hot - 3));
    assert!(t.run(&["OBJECT", "IDLETIME", "k"]).is_error());
}

#[test]
fn sort_sorts_lists_sets_and_zsets() {
    let mut t = TestEngine::new();
    t.run(&["RPUSH", "l", "3", "1", "2"]);
    assert_eq!(t.run(&["SORT", "l"]), arr(&["1", "2", "3"]));
    assert_eq!(t.run(&["SORT", "l", "DESC", "LIMIT", "0", "2"]), arr(&["3", "2"]));
    t.run(&["MSET", "w_1", "30", "w_2", "20", "w_3", "10"]);
    assert_eq!(t.run(&["SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*"]), arr(&["3", "10", "2", "20", "1", "30"]));
    assert_eq!(t.run(&["SORT", "l", "STORE", "dst"]), int(3));
    assert_eq!(t.run(&["LRANGE", "dst", "0", "-1"]), arr(&["1", "2", "3"]));
    t.run(&["RPUSH", "bad", "x"]);
    assert_eq!(t.run(&["SORT", "bad"]), err("ERR One or more scores can't be converted into double"));
}

/// UNLINK and FLUSHALL ASYNC hand big values to the host (here one that takes none, so they
/// are freed at once and counted); DEL does with lazyfree-lazy-user-del, FLUSHALL without an
/// option with lazyfree-lazy-user-flush.
#[test]
fn lazy_frees_count_big_values_and_whole_databases() {
    let mut t = TestEngine::new();
    let info = |t: &mut TestEngine, f: &str| -> u64 {
        let Reply::Verbatim(_, text) = t.run(&["INFO", "memory"]) else { panic!() };
        let text = String::from_utf8_lossy(&text).into_owned();
        text.lines().find_map(|l| l.strip_prefix(&format!("{}:", f))).unwrap().parse().unwrap()
    };
    let members: Vec<String> = (0..100).map(|i| format!("m{}", i)).collect();
    let mut sadd = vec!["SADD", "big"];
    sadd.extend(members.iter().map(|s| s.as_str()));
    t.run(&sadd);
    t.run(&["SADD", "small", "a", "b"]);
    assert_eq!(t.run(&["UNLINK", "big", "small"]), int(2));
    assert_eq!(info(&mut t, "lazyfreed_objects"), 1);
    sadd[1] = "big2";
    t.run(&sadd);
    assert_eq!(t.run(&["DEL", "big2"]), int(1));
    assert_eq!(info(&mut t, "lazyfreed_objects"), 1);
    t.run(&["CONFIG", "SET", "lazyfree-lazy-user-del", "yes"]);
    t.run(&sadd);
    assert_eq!(t.run(&["DEL", "big2"]), int(1));
    assert_eq!(info(&mut t, "lazyfreed_objects"), 2);
    for k in ["a", "b", "c"] {
        t.run(&["SET", k, "v"]);
    }
    t.run(&["FLUSHALL", "SYNC"]);
    assert_eq!(info(&mut t, "lazyfreed_objects"), 2);
    for k in ["a", "b", "c"] {
        t.run(&["SET", k, "v"]);
    }
    t.run(&["CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"]);
    t.run(&["FLUSHDB"]);
    assert_eq!(t.run(&["DBSIZE"]), int(0));
    assert_eq!(info(&mut t, "lazyfreed_objects"), 5);
    assert_eq!(info(&mut t, "lazyfree_pending_objects"), 0);
    t.run(&["CONFIG", "RESETSTAT"]);
    assert_eq!(info(&mut t, "lazyfreed_objects"), 0);
    // A host that frees them itself sees them pending until it does.
    t.engine.set_lazyfree_host();
    t.run(&sadd);
    t.run(&["UNLINK", "big2"]);
    assert_eq!(info(&mut t, "lazyfree_pending_objects"), 1);
    let jobs = t.engine.take_lazyfree();
    assert_eq!(jobs.len(), 1);
    jobs.into_iter().for_each(|j| j.free());
    assert_eq!((info(&mut t, "lazyfree_pending_objects"), info(&mut t, "lazyfreed_objects")), (0, 1));
}

/// RESTORE's IDLETIME and FREQ set the key's access stamp under the policy that tracks each
/// (objectSetLRUOrLFU), as Redis's unit/dump checks.
#[test]
fn restore_sets_idle_time_or_frequency() {
    let mut t = TestEngine::new();
    t.run(&["SET", "foo", "bar"]);
    let Reply::Bulk(payload) = t.run(&["DUMP", "foo"]) else { panic!() };
    let restore = |t: &mut TestEngine, opts: &[&str]| {
        let mut v: Vec<bytes::Bytes> = ["RESTORE", "foo", "0"].iter().map(|s| bytes::Bytes::copy_from_slice(s.as_bytes())).collect();
        v.push(payload.clone());
        v.extend(opts.iter().map(|s| bytes::Bytes::copy_from_slice(s.as_bytes())));
        t.run_bytes(v)
    };
    t.run(&["DEL", "foo"]);
    assert_eq!(restore(&mut t, &["IDLETIME", "1000"]), ok());
    assert_eq!(t.run(&["OBJECT", "IDLETIME", "foo"]), int(1000));
    t.advance_ms(2000);
    assert_eq!(t.run(&["OBJECT", "IDLETIME", "foo"]), int(1002));
    t.run(&["DEL", "foo"]);
    t.run(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    assert_eq!(restore(&mut t, &["FREQ", "100"]), ok());
    assert_eq!(t.run(&["OBJECT", "FREQ", "foo"]), int(100));
    // Under LFU an IDLETIME is accepted and has nothing to set.
    t.run(&["DEL", "foo"]);
    assert_eq!(restore(&mut t, &["IDLETIME", "50"]), ok());
    assert_eq!(t.run(&["OBJECT", "FREQ", "foo"]), int(5));
}

/// MIGRATE through a host that acknowledges every RESTORE but the one for `refused`: the
/// request carries DUMP payloads and TTLs, acknowledged keys are deleted and replicated as one
/// DEL, a refusal is the target's error; COPY keeps and replicates nothing.
#[test]
fn migrate_deletes_what_the_target_took_and_replicates_a_del() {
    use crate::commands::generic::migrate::{MigrateHost, MigrateOutcome, MigrateRequest};
    use std::sync::{Arc, Mutex};
    struct Fake(Arc<Mutex<Vec<MigrateRequest>>>);
    impl MigrateHost for Fake {
        fn migrate(&mut self, req: &MigrateRequest) -> MigrateOutcome {
            self.0.lock().unwrap().push(req.clone());
            let acked: Vec<bool> = req.restores.iter().map(|r| &r[1][..] != b"refused").collect();
            let error = acked.iter().any(|a| !a).then(|| "ERR Target instance replied with error: BUSYKEY Target key name already exists.".to_string());
            MigrateOutcome { acked, error }
        }
        fn cached_sockets(&self) -> usize {
            1
        }
    }
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["MIGRATE", "h", "1", "k", "0", "10"]), err("ERR MIGRATE needs a host that can open connections (the native server)"));
    let seen = Arc::new(Mutex::new(vec![]));
    t.engine.set_migrate_host(Box::new(Fake(seen.clone())));
    t.aof_on();
    t.run(&["SET", "a", "1", "PX", "5000"]);
    t.run(&["SET", "b", "2"]);
    t.run(&["SET", "refused", "3"]);
    t.aof_commands();
    assert_eq!(
        t.run(&["MIGRATE", "h", "7000", "", "2", "0", "REPLACE", "AUTH2", "u", "p", "KEYS", "a", "nokey", "refused", "b"]),
        err("ERR Target instance replied with error: BUSYKEY Target key name already exists.")
    );
    let req = seen.lock().unwrap()[0].clone();
    assert_eq!((req.host.as_str(), req.port.as_str(), req.db, req.timeout_ms), ("h", "7000", 2, 1000));
    assert_eq!(req.auth, Some((Some(bytes::Bytes::from_static(b"u")), bytes::Bytes::from_static(b"p"))));
    let names: Vec<&[u8]> = req.restores.iter().map(|r| &r[1][..]).collect();
    assert_eq!(names, vec![&b"a"[..], b"refused", b"b"]);
    assert_eq!((&req.restores[0][2][..], &req.restores[1][2][..], &req.restores[0][4][..]), (&b"5000"[..], &b"0"[..], &b"REPLACE"[..]));
    let Reply::Bulk(dump) = t.run(&["DUMP", "refused"]) else { panic!() };
    assert_eq!(t.run(&["EXISTS", "a", "b", "refused"]), int(1));
    assert_eq!(req.restores[1][3], dump);
    assert_eq!(t.aof_commands(), vec!["DEL a b".to_string()]);
    t.run(&["SET", "c", "1"]);
    t.aof_commands();
    assert_eq!(t.run(&["MIGRATE", "h", "7000", "c", "0", "100", "COPY"]), ok());
    assert_eq!(t.run(&["EXISTS", "c"]), int(1));
    assert_eq!(t.aof_commands(), Vec::<String>::new());
    assert_eq!(t.run(&["MIGRATE", "h", "7000", "gone", "0", "100"]), Reply::Simple("NOKEY"));
}
