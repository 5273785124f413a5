//! Propagation and AOF replay: what each command is recorded as (checked against the AOF
//! redis-server 7.0.15 writes for the same commands), and that replaying the stream in a
//! fresh engine rebuilds the same dataset (DEBUG DIGEST).

use crate::config::Config;
use crate::engine::HostReport;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn t() -> TestEngine {
    let mut c = Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    let mut t = TestEngine::with_config(c);
    t.aof_on();
    t
}

fn digest(t: &mut TestEngine) -> Reply {
    t.run(&["DEBUG", "DIGEST"])
}

/// Replays everything `t` recorded into a fresh engine at the same time; returns it.
fn replay(t: &mut TestEngine, aof: &[u8]) -> TestEngine {
    let mut c = Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    let mut r = TestEngine::with_config(c);
    r.now_us = t.now_us;
    let loaded = r.engine.aof_load(aof, t.now_us).expect("replays");
    assert_eq!(loaded.truncated_at, None);
    r.engine.report(HostReport::LoadingFinished);
    r
}

#[test]
fn digest_matches_redis_for_every_type() {
    let mut t = t();
    assert_eq!(digest(&mut t), Reply::Status("0000000000000000000000000000000000000000".into()));
    for cmd in [
        &["SET", "a", "1"][..],
        &["RPUSH", "l", "a", "b", "c"],
        &["SADD", "s", "x", "y", "3"],
        &["ZADD", "z", "1.5", "m", "2", "n"],
        &["HSET", "h", "f", "v", "g", "w"],
        &["XADD", "st", "1-1", "f", "v"],
        &["SET", "e", "v", "EX", "1000"],
    ] {
        t.run(cmd);
    }
    assert_eq!(digest(&mut t), Reply::Status("f686f600dbaa8ae523cc61cd3438516410ea1f56".into()));
    let values = t.run(&["DEBUG", "DIGEST-VALUE", "a", "l", "s", "z", "h", "st", "e", "nokey"]);
    let want = [
        "b4fc66738120fba0b5aa500ab5c2bf89cea1c5da",
        "8bf72d812571eea9b927f3c11beb0c4165a6ff89",
        "415a07507e2348d139f9fd645a024f6be569dd65",
        "908aeffe4e922542b456cb5c8f5b1961a763d7dd",
        "d127864ed50239662bf61bafc9bda63c17da5b37",
        "2ed9a7a81688084b1f7eae33456ef7727d357031",
        "311b17018163335616e089f6b951c82c477335ac",
        "0000000000000000000000000000000000000000",
    ];
    assert_eq!(values, Reply::Array(want.iter().map(|w| Reply::Status(w.to_string())).collect()));
}

#[test]
fn writes_are_recorded_with_select_and_reads_are_not() {
    let mut t = t();
    t.run(&["SET", "k", "v"]);
    t.run(&["GET", "k"]);
    t.run(&["SELECT", "3"]);
    t.run(&["INCR", "n"]);
    t.run(&["SETNX", "n", "1"]); // changes nothing: not recorded
    t.run(&["DEL", "missing"]);
    assert_eq!(t.aof_commands(), ["SELECT 0", "SET k v", "SELECT 3", "INCR n"]);
}

#[test]
fn relative_times_become_absolute() {
    let mut t = t();
    let at = t.now_ms() + 100_000;
    t.run(&["SET", "a", "v", "EX", "100"]);
    t.run(&["SETEX", "b", "100", "v"]);
    t.run(&["PSETEX", "c", "100000", "v"]);
    t.run(&["EXPIRE", "a", "100", "NX"]);
    t.run(&["EXPIRE", "a", "100", "XX"]);
    t.run(&["PEXPIRE", "b", "100000"]);
    t.run(&["GETEX", "c", "EX", "100"]);
    t.run(&["GETEX", "c", "PERSIST"]);
    t.run(&["GETEX", "c"]);
    t.run(&["SET", "d", "v", "GET"]);
    t.run(&["GETSET", "d", "w"]);
    t.run(&["GETDEL", "d"]);
    t.run(&["EXPIRE", "b", "-1"]);
    assert_eq!(
        t.aof_commands(),
        [
            "SELECT 0".to_string(),
            format!("SET a v PXAT {}", at),
            format!("SET b v PXAT {}", at),
            format!("SET c v PXAT {}", at),
            format!("PEXPIREAT a {} XX", at),
            format!("PEXPIREAT b {}", at),
            format!("PEXPIREAT c {}", at),
            "PERSIST c".into(),
            "SET d v".into(),
            "SET d w".into(),
            "DEL d".into(),
            "DEL b".into(),
        ]
    );
}

#[test]
fn floats_are_recorded_as_their_result() {
    let mut t = t();
    t.run(&["INCRBYFLOAT", "f", "1.1"]);
    t.run(&["HINCRBYFLOAT", "h", "x", "2.5"]);
    assert_eq!(t.aof_commands(), ["SELECT 0", "SET f 1.1 KEEPTTL", "HSET h x 2.5"]);
}

#[test]
fn random_and_blocking_pops_are_recorded_as_their_effect() {
    let mut t = t();
    t.run(&["SADD", "s", "a"]);
    t.run(&["RPUSH", "l", "1", "2", "3"]);
    t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    t.aof_commands();
    t.run(&["SPOP", "s"]);
    t.run(&["BLPOP", "l", "0"]);
    t.run(&["BRPOP", "l", "0"]);
    t.run(&["LMPOP", "1", "l", "LEFT", "COUNT", "5"]);
    t.run(&["BZPOPMIN", "z", "0"]);
    t.run(&["ZMPOP", "1", "z", "MAX", "COUNT", "1"]);
    t.run(&["ZPOPMIN", "z"]);
    assert_eq!(t.aof_commands(), ["SREM s a", "LPOP l", "RPOP l", "LPOP l 1", "ZPOPMIN z", "ZPOPMAX z 1", "ZPOPMIN z"]);
    t.run(&["RPUSH", "src", "x", "y"]);
    t.run(&["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]);
    t.run(&["BRPOPLPUSH", "src", "dst", "0"]);
    assert_eq!(t.aof_commands(), ["RPUSH src x y", "LMOVE src dst LEFT RIGHT", "RPOPLPUSH src dst"]);
}

#[test]
fn spop_with_a_count_is_one_srem_per_member_in_a_transaction() {
    let mut t = t();
    t.run(&["SADD", "s", "a", "b", "c", "d"]);
    t.aof_commands();
    t.run(&["SPOP", "s", "2"]);
    let cmds = t.aof_commands();
    assert_eq!(cmds.len(), 4, "{:?}", cmds);
    assert_eq!((cmds[0].as_str(), cmds[3].as_str()), ("MULTI", "EXEC"));
    assert!(cmds[1].starts_with("SREM s ") && cmds[2].starts_with("SREM s "));
    t.run(&["SPOP", "s", "10"]);
    assert_eq!(t.aof_commands(), ["DEL s"]);
}

#[test]
fn a_served_blocked_client_is_recorded_as_the_pop() {
    let mut t = t();
    let waiter = t.connect();
    assert_eq!(t.run_as(waiter, &["BLPOP", "q", "0"]), Reply::Blocked);
    t.run(&["RPUSH", "q", "job"]);
    assert_eq!(t.aof_commands(), ["SELECT 0", "RPUSH q job", "LPOP q"]);
}

#[test]
fn transactions_are_wrapped_and_single_writes_are_not() {
    let mut t = t();
    t.run(&["MULTI"]);
    t.run(&["SET", "a", "1"]);
    t.run(&["GET", "a"]);
    t.run(&["SELECT", "1"]);
    t.run(&["SET", "b", "2"]);
    t.run(&["EXEC"]);
    assert_eq!(t.aof_commands(), ["SELECT 0", "MULTI", "SET a 1", "SELECT 1", "SET b 2", "EXEC"]);
    t.run(&["MULTI"]);
    t.run(&["INCR", "c"]);
    t.run(&["GET", "c"]);
    t.run(&["EXEC"]);
    assert_eq!(t.aof_commands(), ["INCR c"]);
}

#[test]
fn scripts_are_recorded_as_their_effects() {
    let mut t = t();
    t.run(&["EVAL", "redis.call('set', KEYS[1], 'x'); redis.call('incr', 'n'); return redis.call('get', 'n')", "1", "k"]);
    assert_eq!(t.aof_commands(), ["SELECT 0", "MULTI", "set k x", "incr n", "EXEC"]);
    t.run(&["EVAL", "return redis.call('get', 'n')", "0"]);
    assert!(t.aof_commands().is_empty());
    t.run(&["EVAL", "redis.call('set', 'a', 1); redis.set_repl(redis.REPL_NONE); redis.call('set', 'b', 2)", "0"]);
    assert_eq!(t.aof_commands(), ["set a 1"]);
    t.run(&["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function(k) return redis.call('incr', k[1]) end)"]);
    t.run(&["FCALL", "f", "1", "n"]);
    let cmds = t.aof_commands();
    assert!(cmds[0].starts_with("FUNCTION LOAD"), "{:?}", cmds);
    assert_eq!(cmds[1], "incr n");
}

#[test]
fn expired_keys_are_deleted_before_the_command_that_found_them() {
    let mut t = t();
    t.run(&["SET", "k", "old", "PX", "10"]);
    t.aof_commands();
    t.advance_ms(20);
    t.run(&["APPEND", "k", "new"]);
    assert_eq!(t.aof_commands(), ["MULTI", "DEL k", "APPEND k new", "EXEC"]);
    t.run(&["SET", "gone", "v", "PX", "10"]);
    t.aof_commands();
    t.advance_ms(20);
    t.tick();
    assert_eq!(t.aof_commands(), ["DEL gone"]);
}

#[test]
fn flushall_is_recorded_even_when_empty() {
    let mut t = t();
    t.run(&["FLUSHALL"]);
    t.run(&["FLUSHDB"]);
    assert_eq!(t.aof_commands(), ["SELECT 0", "FLUSHALL", "FLUSHDB"]);
}

#[test]
fn restore_with_a_relative_ttl_is_recorded_with_absttl() {
    let mut t = t();
    t.run(&["SET", "src", "v"]);
    let Reply::Bulk(payload) = t.run(&["DUMP", "src"]) else { panic!() };
    t.aof_commands();
    t.run_bytes(vec!["RESTORE".into(), "dst".into(), "5000".into(), payload.clone()]);
    let want = format!("RESTORE dst {} {} ABSTTL", t.now_ms() + 5000, String::from_utf8_lossy(&payload));
    assert_eq!(t.aof_commands(), [want]);
}

#[test]
fn replaying_the_stream_rebuilds_the_dataset() {
    let mut t = t();
    let workload: &[&[&str]] = &[
        &["SET", "s", "v", "EX", "1000"],
        &["INCRBYFLOAT", "f", "0.1"],
        &["INCRBYFLOAT", "f", "0.2"],
        &["RPUSH", "l", "a", "b", "c", "d"],
        &["LPOP", "l"],
        &["SADD", "set", "1", "2", "3", "4", "5"],
        &["SPOP", "set", "2"],
        &["ZADD", "z", "1", "a", "2", "b"],
        &["ZINCRBY", "z", "1.5", "a"],
        &["HSET", "h", "a", "1"],
        &["HINCRBYFLOAT", "h", "a", "0.3"],
        &["SELECT", "2"],
        &["MSET", "x", "1", "y", "2"],
        &["RENAME", "x", "x2"],
        &["MOVE", "y", "0"],
        &["SELECT", "0"],
        &["XADD", "st", "*", "f", "v"],
        &["XADD", "st", "*", "g", "w"],
        &["XGROUP", "CREATE", "st", "grp", "0"],
        &["XREADGROUP", "GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "st", ">"],
        &["XREADGROUP", "GROUP", "grp", "bob", "STREAMS", "st", ">"],
        &["XCLAIM", "st", "grp", "carol", "0", "0-1", "JUSTID"],
        &["XAUTOCLAIM", "st", "grp", "dave", "0", "0", "COUNT", "1"],
        &["XGROUP", "CREATE", "st", "quiet", "0"],
        &["XREADGROUP", "GROUP", "quiet", "erin", "NOACK", "STREAMS", "st", ">"],
        &["XADD", "capped", "MAXLEN", "~", "5", "*", "n", "1"],
        &["EVAL", "for i=1,5 do redis.call('rpush', KEYS[1], i) end", "1", "l2"],
        &["SWAPDB", "0", "2"],
        &["SELECT", "2"],
        &["DEL", "s"],
    ];
    for cmd in workload {
        let r = t.run(cmd);
        assert!(!matches!(r, Reply::Error(_)), "{:?}: {:?}", cmd, r);
        t.advance_ms(3);
    }
    for i in 0..300 {
        t.run(&["XADD", "capped", "MAXLEN", "~", "5", "*", "n", &i.to_string()]);
    }
    let aof = t.engine.take_aof();
    let want = digest(&mut t);
    let pending = t.run(&["XPENDING", "st", "grp", "-", "+", "10"]);
    let mut r = replay(&mut t, &aof);
    assert_eq!(digest(&mut r), want);
    r.run(&["SELECT", "2"]);
    assert_eq!(r.run(&["XPENDING", "st", "grp", "-", "+", "10"]), pending);
    // (XINFO GROUPS' entries-read is not replayed: Redis 7.0's XCLAIM ... LASTID does not
    // carry it either.)
    assert_eq!(r.run(&["GET", "f"]), bulk("0.3"));
}

#[test]
fn a_torn_tail_is_reported_where_the_last_whole_command_ends() {
    let mut t = t();
    t.run(&["SET", "a", "1"]);
    t.run(&["SET", "b", "2"]);
    let aof = t.engine.take_aof();
    let whole = aof.len();
    let mut torn = aof.clone();
    torn.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1");
    let mut r = TestEngine::new();
    let loaded = r.engine.aof_load(&torn, t.now_us).unwrap();
    assert_eq!(loaded.truncated_at, Some(whole));
    assert_eq!(r.run(&["GET", "b"]), bulk("2"));
    // A MULTI without its EXEC is cut back to before the MULTI, and nothing of it applies.
    let mut open = aof.clone();
    open.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n");
    let mut r = TestEngine::new();
    let loaded = r.engine.aof_load(&open, t.now_us).unwrap();
    assert_eq!((loaded.truncated_at, loaded.incomplete_multi), (Some(whole), true));
    assert_eq!(r.run(&["GET", "c"]), Reply::Nil);
}

#[test]
fn corrupt_files_and_unknown_commands_are_refused() {
    let mut r = TestEngine::new();
    assert_eq!(r.engine.aof_load(b"*1\r\n$4\r\nPING\r\nxyz", T0_US), Err(crate::aof::LoadError::BadFormat { offset: 14 }));
    assert_eq!(r.engine.aof_load(b"*1\r\n$5\r\nNOSUCH\r\n", T0_US), Err(crate::aof::LoadError::BadFormat { offset: 13 }));
    assert_eq!(r.engine.aof_load(b"*1\r\n$6\r\nNOSUCH\r\n", T0_US), Err(crate::aof::LoadError::UnknownCommand("NOSUCH".into())));
    assert_eq!(r.engine.aof_load(b"*999999999999\r\n$3\r\nSET\r\n", T0_US).map(|l| l.truncated_at), Ok(Some(0)));
    assert!(r.engine.aof_load(b"#TS:1700000000\r\n*1\r\n$4\r\nPING\r\n", T0_US).is_ok());
}

#[test]
fn keys_do_not_expire_while_a_file_loads() {
    let mut t = t();
    t.run(&["SET", "k", "v", "PX", "10"]);
    t.advance_ms(20);
    // Written before the deadline, replayed after it: the replay still finds the key.
    let mut aof = t.engine.take_aof();
    crate::resp::encode_command(&mut aof, &[&b"APPEND"[..], b"k", b"+"]);
    let mut r = TestEngine::new();
    r.now_us = t.now_us;
    r.engine.aof_load(&aof, t.now_us).unwrap();
    r.engine.report(HostReport::LoadingFinished);
    assert_eq!(r.run(&["EXISTS", "k"]), int(0));
}

#[test]
fn an_rdb_preamble_loads_before_the_commands_after_it() {
    let mut t = t();
    t.run(&["SET", "a", "1"]);
    let mut file = t.engine.rdb_snapshot();
    t.aof_commands();
    t.engine.report(HostReport::AofNewFile);
    t.run(&["SET", "b", "2"]);
    file.extend(t.engine.take_aof());
    let want = digest(&mut t);
    let mut r = replay(&mut t, &file);
    assert_eq!(digest(&mut r), want);
}

#[test]
fn a_rewritten_base_rebuilds_the_dataset_in_both_forms() {
    for preamble in ["yes", "no"] {
        let mut t = t();
        t.engine.config_set_startup("aof-use-rdb-preamble", preamble).unwrap();
        let items: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let mut rpush = vec!["RPUSH", "biglist"];
        rpush.extend(items.iter().map(|s| s.as_str()));
        t.run(&rpush);
        t.run(&["SADD", "s", "a", "b", "1"]);
        t.run(&["ZADD", "z", "0.1", "a", "-inf", "b", "1e300", "c"]);
        t.run(&["HSET", "h", "f", "v"]);
        t.run(&["SET", "ttl", "v", "EX", "100"]);
        t.run(&["SELECT", "5"]);
        t.run(&["XADD", "st", "1-1", "a", "1"]);
        t.run(&["XADD", "st", "2-1", "b", "2"]);
        t.run(&["XGROUP", "CREATE", "st", "g", "0"]);
        t.run(&["XGROUP", "CREATE", "st", "g2", "$"]);
        t.run(&["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "st", ">"]);
        t.run(&["XGROUP", "CREATECONSUMER", "st", "g", "idle"]);
        t.run(&["XADD", "empty", "MAXLEN", "0", "5-5", "x", "y"]);
        t.run(&["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)"]);
        let base = t.engine.aof_base();
        assert_eq!(base.starts_with(b"REDIS"), preamble == "yes");
        let want = digest(&mut t);
        let pending = t.run(&["XPENDING", "st", "g", "-", "+", "10"]);
        let info = t.run(&["XINFO", "STREAM", "empty"]);
        let mut r = replay(&mut t, &base);
        assert_eq!(digest(&mut r), want, "preamble {}", preamble);
        r.run(&["SELECT", "5"]);
        assert_eq!(r.run(&["XPENDING", "st", "g", "-", "+", "10"]), pending);
        assert_eq!(r.run(&["XINFO", "STREAM", "empty"]), info);
        assert_eq!(r.run(&["FCALL", "f", "0"]), int(1));
        assert!(format!("{:?}", r.run(&["XINFO", "CONSUMERS", "st", "g"])).contains("idle"));
    }
}

#[test]
fn timestamps_annotate_each_new_second_and_replay_skips_them() {
    let mut t = t();
    t.engine.config_set_startup("aof-timestamp-enabled", "yes").unwrap();
    t.run(&["SET", "a", "1"]);
    t.run(&["SET", "b", "2"]);
    t.advance_ms(1000);
    t.run(&["SET", "c", "3"]);
    let aof = t.engine.take_aof();
    let text = String::from_utf8_lossy(&aof).into_owned();
    let secs = t.now_ms() / 1000;
    assert_eq!(text.matches("#TS:").count(), 2, "{}", text);
    assert!(text.starts_with(&format!("#TS:{}\r\n", secs - 1)) && text.contains(&format!("#TS:{}\r\n", secs)));
    let want = digest(&mut t);
    let mut r = replay(&mut t, &aof);
    assert_eq!(digest(&mut r), want);
}

#[test]
fn the_aof_is_rewritten_automatically_once_it_doubles_past_the_minimum() {
    let mut t = t();
    t.run(&["CONFIG", "SET", "auto-aof-rewrite-min-size", "1mb"]);
    let rewrite_asked = |t: &mut TestEngine| t.engine.drain_events().iter().any(|e| matches!(e, crate::event::Event::RewriteAof));
    // Small, or grown less than 100% over the base: nothing.
    t.engine.report(HostReport::AofSizes { current: 900_000, base: 100_000 });
    t.tick();
    assert!(!rewrite_asked(&mut t));
    t.engine.report(HostReport::AofSizes { current: 3_000_000, base: 2_000_000 });
    t.tick();
    assert!(!rewrite_asked(&mut t));
    // Past the minimum and doubled: one rewrite, not another while it runs.
    t.engine.report(HostReport::AofSizes { current: 4_000_000, base: 2_000_000 });
    t.tick();
    assert!(rewrite_asked(&mut t));
    t.tick();
    assert!(!rewrite_asked(&mut t));
    assert_eq!(t.run(&["BGREWRITEAOF"]), err("ERR Background append only file rewriting already in progress"));
    // A failed rewrite is retried only after a minute.
    t.engine.report(HostReport::AofRewriteFinished { ok: false, now_us: t.now_us });
    t.tick();
    assert!(!rewrite_asked(&mut t));
    t.advance_ms(61_000);
    t.tick();
    assert!(rewrite_asked(&mut t));
    t.engine.report(HostReport::AofRewriteFinished { ok: true, now_us: t.now_us });
    // 0% turns the automatic rewrite off.
    t.run(&["CONFIG", "SET", "auto-aof-rewrite-percentage", "0"]);
    t.engine.report(HostReport::AofSizes { current: 40_000_000, base: 2_000_000 });
    t.tick();
    assert!(!rewrite_asked(&mut t));
    let text = match t.run(&["INFO", "persistence"]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{:?}", other),
    };
    assert!(
        text.contains("aof_rewrites:1\r\n") && text.contains("aof_current_size:40000000\r\n") && text.contains("aof_last_bgrewrite_status:ok\r\n"),
        "{}",
        text
    );
}
