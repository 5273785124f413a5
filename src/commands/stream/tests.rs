//! Stream family, reply-exact (checked against redis-server 7.0.15), with a fake clock so
//! `*` IDs, idle times and blocking deadlines are deterministic.

use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn entry(id: &str, fv: &[&str]) -> Reply {
    Reply::Array(vec![bulk(id), arr(fv)])
}

fn keyed(key: &str, entries: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::Array(vec![bulk(key), Reply::Array(entries)])])
}

#[test]
fn xadd_ids_and_their_errors() {
    let mut t = TestEngine::new();
    let now = t.now_ms();
    assert_eq!(t.run(&["XADD", "s", "*", "f", "v"]), bulk(&format!("{}-0", now)));
    assert_eq!(t.run(&["XADD", "s", "*", "f", "v"]), bulk(&format!("{}-1", now)));
    assert_eq!(t.run(&["XADD", "s", "1-1", "f", "v"]), err("ERR The ID specified in XADD is equal or smaller than the target stream top item"));
    assert_eq!(t.run(&["XADD", "s", &format!("{}-*", now), "f", "v"]), bulk(&format!("{}-2", now)));
    assert_eq!(t.run(&["XADD", "t", "0-0", "f", "v"]), err("ERR The ID specified in XADD must be greater than 0-0"));
    assert_eq!(t.run(&["EXISTS", "t"]), int(0));
    assert_eq!(t.run(&["XADD", "t", "0-*", "f", "v"]), bulk("0-1"));
    assert_eq!(t.run(&["XADD", "t", "5", "f", "v"]), bulk("5-0"));
    assert_eq!(t.run(&["XADD", "t", "5-x", "f", "v"]), err("ERR Invalid stream ID specified as stream command argument"));
    assert_eq!(t.run(&["XADD", "t", "*", "f"]), err("ERR wrong number of arguments for 'xadd' command"));
    assert_eq!(t.run(&["XADD", "nope", "NOMKSTREAM", "*", "f", "v"]), Reply::Nil);
    assert_eq!(t.run(&["EXISTS", "nope"]), int(0));
    assert_eq!(t.run(&["XADD", "t", "18446744073709551615-18446744073709551615", "f", "v"]), bulk("18446744073709551615-18446744073709551615"));
    assert_eq!(t.run(&["XADD", "t", "*", "f", "v"]), err("ERR The stream has exhausted the last possible ID, unable to add more items"));
    t.run(&["SET", "str", "x"]);
    assert_eq!(t.run(&["XADD", "str", "*", "f", "v"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    assert_eq!(
        t.run(&["XADD", "t", "MAXLEN", "1", "MINID", "1", "*", "f", "v"]),
        err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
    );
    assert_eq!(t.run(&["XADD", "t", "LIMIT", "10", "*", "f", "v"]), err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    assert_eq!(t.run(&["XADD", "t", "MAXLEN", "1", "LIMIT", "10", "*", "f", "v"]), err("ERR syntax error, LIMIT cannot be used without the special ~ option"));
    assert_eq!(t.run(&["XADD", "t", "MAXLEN", "-1", "*", "f", "v"]), err("ERR The MAXLEN argument must be >= 0."));
}

#[test]
fn ranges_counts_and_exclusive_bounds() {
    let mut t = TestEngine::new();
    for i in 1..=5 {
        t.run(&["XADD", "s", &format!("{}-0", i), "n", &i.to_string()]);
    }
    assert_eq!(t.run(&["XLEN", "s"]), int(5));
    assert_eq!(t.run(&["XRANGE", "s", "2", "3"]), Reply::Array(vec![entry("2-0", &["n", "2"]), entry("3-0", &["n", "3"])]));
    assert_eq!(t.run(&["XRANGE", "s", "(2-0", "+", "COUNT", "1"]), Reply::Array(vec![entry("3-0", &["n", "3"])]));
    assert_eq!(t.run(&["XREVRANGE", "s", "+", "-", "COUNT", "2"]), Reply::Array(vec![entry("5-0", &["n", "5"]), entry("4-0", &["n", "4"])]));
    // An exclusive end without a sequence excludes only `5-18446744073709551615`.
    assert_eq!(t.run(&["XREVRANGE", "s", "(5", "(3"]), Reply::Array(vec![entry("5-0", &["n", "5"]), entry("4-0", &["n", "4"])]));
    assert_eq!(t.run(&["XRANGE", "s", "-", "+", "COUNT", "0"]), Reply::NilArray);
    assert_eq!(t.run(&["XRANGE", "nokey", "-", "+"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["XRANGE", "s", "(-", "+"]), err("ERR Invalid stream ID specified as stream command argument"));
    assert_eq!(t.run(&["XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"]), err("ERR invalid start ID for the interval"));
    assert_eq!(t.run(&["XRANGE", "s", "-", "(0-0"]), err("ERR invalid end ID for the interval"));
    assert_eq!(t.run(&["XRANGE", "s", "-", "+", "LIMIT", "1"]), err("ERR syntax error"));
}

#[test]
fn xdel_xtrim_and_the_stream_bookkeeping() {
    let mut t = TestEngine::new();
    for i in 1..=250 {
        t.run(&["XADD", "s", &format!("{}-0", i), "n", &i.to_string()]);
    }
    assert_eq!(t.run(&["XDEL", "s", "1-0", "2-0", "999-0"]), int(2));
    assert_eq!(t.run(&["XDEL", "s", "bad"]), err("ERR Invalid stream ID specified as stream command argument"));
    assert_eq!(t.run(&["XDEL", "nokey", "bad"]), int(0));
    assert_eq!(t.run(&["XTRIM", "s", "MAXLEN", "~", "200"]), int(0));
    assert_eq!(t.run(&["XTRIM", "s", "MAXLEN", "~", "140"]), int(98));
    assert_eq!(t.run(&["XTRIM", "s", "MAXLEN", "=", "100"]), int(50));
    assert_eq!(t.run(&["XTRIM", "s", "MINID", "160"]), int(9));
    assert_eq!(t.run(&["XLEN", "s"]), int(91));
    assert_eq!(t.run(&["XTRIM", "s", "LIMIT", "1"]), err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    assert_eq!(t.run(&["XTRIM", "s", "LIMIT", "0"]), err("ERR syntax error, XTRIM must be called with a trimming strategy"));
    assert_eq!(t.run(&["XTRIM", "s", "FOO", "1"]), err("ERR syntax error"));
    assert_eq!(t.run(&["XADD", "s", "MAXLEN", "2", "*", "f", "v"]), bulk(&format!("{}-0", t.now_ms())));
    assert_eq!(t.run(&["XLEN", "s"]), int(2));
    assert_eq!(t.run(&["XSETID", "s", "1-0"]), err("ERR The ID specified in XSETID is smaller than the target stream top item"));
    assert_eq!(t.run(&["XSETID", "nokey", "1-0"]), err("ERR no such key"));
    assert_eq!(
        t.run(&["XSETID", "s", "99999999999999-0", "ENTRIESADDED", "1"]),
        err("ERR The entries_added specified in XSETID is smaller than the target stream length")
    );
    assert_eq!(
        t.run(&["XSETID", "s", "99999999999999-0", "MAXDELETEDID", "99999999999999-1"]),
        err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
    );
    assert_eq!(t.run(&["XSETID", "s", "99999999999999-0", "ENTRIESADDED", "500", "MAXDELETEDID", "5-0"]), ok());
    assert_eq!(t.run(&["XADD", "s", "*", "f", "v"]), bulk("99999999999999-1"));
}

#[test]
fn groups_deliver_once_and_track_pending() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["XGROUP", "CREATE", "s", "g", "$"]), err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
    assert_eq!(t.run(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]), ok());
    assert_eq!(t.run(&["XGROUP", "CREATE", "s", "g", "$"]), err("BUSYGROUP Consumer Group name already exists"));
    t.run(&["XADD", "s", "1-0", "job", "a"]);
    t.run(&["XADD", "s", "2-0", "job", "b"]);
    t.run(&["XADD", "s", "3-0", "job", "c"]);
    assert_eq!(t.run(&["XREADGROUP", "GROUP", "g", "w1", "COUNT", "1", "STREAMS", "s", ">"]), keyed("s", vec![entry("1-0", &["job", "a"])]));
    assert_eq!(t.run(&["XREADGROUP", "GROUP", "g", "w2", "STREAMS", "s", ">"]), keyed("s", vec![entry("2-0", &["job", "b"]), entry("3-0", &["job", "c"])]));
    assert_eq!(t.run(&["XREADGROUP", "GROUP", "g", "w2", "STREAMS", "s", ">"]), Reply::NilArray);
    // History: the consumer's own pending entries, each read counting as a delivery.
    assert_eq!(t.run(&["XREADGROUP", "GROUP", "g", "w2", "STREAMS", "s", "0"]), keyed("s", vec![entry("2-0", &["job", "b"]), entry("3-0", &["job", "c"])]));
    t.advance_ms(100);
    let summary = Reply::Array(vec![int(3), bulk("1-0"), bulk("3-0"), Reply::Array(vec![arr(&["w1", "1"]), arr(&["w2", "2"])])]);
    assert_eq!(t.run(&["XPENDING", "s", "g"]), summary);
    assert_eq!(
        t.run(&["XPENDING", "s", "g", "-", "+", "10", "w2"]),
        Reply::Array(vec![Reply::Array(vec![bulk("2-0"), bulk("w2"), int(100), int(2)]), Reply::Array(vec![bulk("3-0"), bulk("w2"), int(100), int(2)])])
    );
    assert_eq!(t.run(&["XPENDING", "s", "g", "IDLE", "200", "-", "+", "10"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["XACK", "s", "g", "1-0", "9-0"]), int(1));
    assert_eq!(t.run(&["XACK", "s", "g", "bad"]), err("ERR Invalid stream ID specified as stream command argument"));
    assert_eq!(t.run(&["XACK", "s", "nogroup", "bad"]), int(0));
    assert_eq!(t.run(&["XPENDING", "s", "nogroup"]), err("NOGROUP No such key 's' or consumer group 'nogroup'"));
    assert_eq!(
        t.run(&["XREADGROUP", "GROUP", "nogroup", "c", "STREAMS", "s", ">"]),
        err("NOGROUP No such key 's' or consumer group 'nogroup' in XREADGROUP with GROUP option")
    );
    assert_eq!(t.run(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"]), err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
    assert_eq!(
        t.run(&["XREAD", "STREAMS", "s", ">"]),
        err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
    );
    assert_eq!(
        t.run(&["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"]),
        err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
    );
    assert_eq!(t.run(&["XREAD", "STREAMS", "s", "t", "0"]), err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."));
    assert_eq!(t.run(&["XREADGROUP", "COUNT", "1", "NOACK", "STREAMS", "s", ">"]), err("ERR Missing GROUP option for XREADGROUP"));
    // Deleting a consumer drops its pending entries.
    assert_eq!(t.run(&["XGROUP", "DELCONSUMER", "s", "g", "w2"]), int(2));
    assert_eq!(t.run(&["XPENDING", "s", "g"]), Reply::Array(vec![int(0), Reply::Nil, Reply::Nil, Reply::NilArray]));
    assert_eq!(t.run(&["XGROUP", "CREATECONSUMER", "s", "g", "w3"]), int(1));
    assert_eq!(t.run(&["XGROUP", "CREATECONSUMER", "s", "g", "w3"]), int(0));
    assert_eq!(t.run(&["XGROUP", "SETID", "s", "nog", "0"]), err("NOGROUP No such consumer group 'nog' for key name 's'"));
    assert_eq!(t.run(&["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "-5"]), err("ERR value for ENTRIESREAD must be positive or -1"));
    assert_eq!(t.run(&["XGROUP", "CREATE", "s", "g2", "0", "FOO"]), err("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."));
    assert_eq!(t.run(&["XGROUP", "DESTROY", "s", "g"]), int(1));
    assert_eq!(t.run(&["XGROUP", "DESTROY", "s", "g"]), int(0));
}

#[test]
fn a_crashed_workers_entries_are_claimed() {
    let mut t = TestEngine::new();
    t.run(&["XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"]);
    for i in 1..=4 {
        t.run(&["XADD", "s", &format!("{}-0", i), "n", &i.to_string()]);
    }
    t.run(&["XREADGROUP", "GROUP", "g", "dead", "STREAMS", "s", ">"]);
    t.advance_ms(5000);
    // Too fresh for a one-hour threshold; old enough for one second.
    assert_eq!(t.run(&["XCLAIM", "s", "g", "alive", "3600000", "1-0"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["XCLAIM", "s", "g", "alive", "1000", "1-0", "2-0", "JUSTID"]), arr(&["1-0", "2-0"]));
    assert_eq!(
        t.run(&["XPENDING", "s", "g", "-", "+", "10", "alive"]),
        Reply::Array(vec![Reply::Array(vec![bulk("1-0"), bulk("alive"), int(0), int(1)]), Reply::Array(vec![bulk("2-0"), bulk("alive"), int(0), int(1)])])
    );
    assert_eq!(t.run(&["XCLAIM", "s", "g", "alive", "0", "1-0", "RETRYCOUNT", "7", "IDLE", "10"]), Reply::Array(vec![entry("1-0", &["n", "1"])]));
    assert_eq!(t.run(&["XPENDING", "s", "g", "1-0", "1-0", "1"]), Reply::Array(vec![Reply::Array(vec![bulk("1-0"), bulk("alive"), int(10), int(7)])]));
    assert_eq!(t.run(&["XCLAIM", "s", "g", "alive", "0", "1-0", "BOGUS"]), err("ERR Unrecognized XCLAIM option 'BOGUS'"));
    assert_eq!(t.run(&["XCLAIM", "s", "g", "alive", "x", "1-0"]), err("ERR Invalid min-idle-time argument for XCLAIM"));
    assert_eq!(t.run(&["XCLAIM", "s", "nog", "alive", "0", "1-0"]), err("NOGROUP No such key 's' or consumer group 'nog'"));
    // XAUTOCLAIM walks the PEL from a cursor; entries deleted meanwhile are reported apart.
    t.run(&["XDEL", "s", "4-0"]);
    assert_eq!(
        t.run(&["XAUTOCLAIM", "s", "g", "rescuer", "1000", "0", "COUNT", "1"]),
        Reply::Array(vec![bulk("4-0"), Reply::Array(vec![entry("3-0", &["n", "3"])]), Reply::Array(vec![])])
    );
    assert_eq!(t.run(&["XAUTOCLAIM", "s", "g", "rescuer", "0", "4-0", "JUSTID"]), Reply::Array(vec![bulk("0-0"), Reply::Array(vec![]), arr(&["4-0"])]));
    assert_eq!(t.run(&["XAUTOCLAIM", "s", "g", "rescuer", "0", "0", "COUNT", "0"]), err("ERR COUNT must be > 0"));
    assert_eq!(
        t.run(&["XPENDING", "s", "g"]),
        Reply::Array(vec![int(3), bulk("1-0"), bulk("3-0"), Reply::Array(vec![arr(&["alive", "2"]), arr(&["rescuer", "1"])])])
    );
}

#[test]
fn blocked_reads_wake_on_xadd_and_time_out() {
    let mut t = TestEngine::new();
    let reader = t.connect();
    t.run(&["XADD", "s", "1-0", "f", "old"]);
    // `$` means entries after the last one at the time of the call.
    assert_eq!(t.run_as(reader, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]), Reply::Blocked);
    t.run(&["XADD", "s", "2-0", "f", "new"]);
    assert_eq!(t.replies_for(reader), vec![keyed("s", vec![entry("2-0", &["f", "new"])])]);
    // A consumer-group reader blocked on `>` gets each new entry once.
    t.run(&["XGROUP", "CREATE", "s", "g", "$"]);
    let w1 = t.connect();
    assert_eq!(t.run_as(reader, &["XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">"]), Reply::Blocked);
    assert_eq!(t.run_as(w1, &["XREADGROUP", "GROUP", "g", "b", "BLOCK", "0", "STREAMS", "s", ">"]), Reply::Blocked);
    t.run(&["XADD", "s", "3-0", "f", "x"]);
    assert_eq!(t.replies_for(reader), vec![keyed("s", vec![entry("3-0", &["f", "x"])])]);
    assert!(t.replies_for(w1).is_empty());
    t.run(&["XADD", "s", "4-0", "f", "y"]);
    assert_eq!(t.replies_for(w1), vec![keyed("s", vec![entry("4-0", &["f", "y"])])]);
    // Timeouts answer the null array.
    assert_eq!(t.run_as(reader, &["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]), Reply::Blocked);
    t.advance_ms(60);
    t.tick();
    assert_eq!(t.replies_for(reader), vec![Reply::NilArray]);
    // Deleting the stream ends a group read with an error; destroying the group, another.
    assert_eq!(t.run_as(reader, &["XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">"]), Reply::Blocked);
    t.run(&["XGROUP", "DESTROY", "s", "g"]);
    assert_eq!(t.replies_for(reader), vec![err("NOGROUP the consumer group this client was blocked on no longer exists")]);
    t.run(&["XGROUP", "CREATE", "s", "g", "$"]);
    assert_eq!(t.run_as(reader, &["XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">"]), Reply::Blocked);
    t.run(&["DEL", "s"]);
    assert_eq!(t.replies_for(reader), vec![err("UNBLOCKED the stream key no longer exists")]);
    // Inside MULTI a blocking read answers at once.
    t.run(&["MULTI"]);
    t.run(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![Reply::NilArray]));
}

#[test]
fn xinfo_reports_lag_and_consumers() {
    let mut t = TestEngine::new();
    for i in 1..=3 {
        t.run(&["XADD", "s", &format!("{}-0", i), "f", "v"]);
    }
    t.run(&["XGROUP", "CREATE", "s", "g", "0"]);
    t.run(&["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"]);
    let groups = t.run(&["XINFO", "GROUPS", "s"]);
    let s = bulk;
    assert_eq!(
        groups,
        Reply::Array(vec![Reply::Map(vec![
            (s("name"), s("g")),
            (s("consumers"), int(1)),
            (s("pending"), int(1)),
            (s("last-delivered-id"), s("1-0")),
            (s("entries-read"), int(1)),
            (s("lag"), int(2)),
        ])])
    );
    // A deletion ahead of the group makes the lag unknowable.
    t.run(&["XDEL", "s", "2-0"]);
    let Reply::Array(g) = t.run(&["XINFO", "GROUPS", "s"]) else { panic!() };
    let Reply::Map(fields) = &g[0] else { panic!() };
    assert_eq!(fields[5], (s("lag"), Reply::Nil));
    assert_eq!(t.run(&["XINFO", "STREAM", "nokey"]), err("ERR no such key"));
    assert_eq!(
        t.run(&["XINFO", "STREAM", "s", "FULL", "COUNTX", "1"]),
        err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")
    );
    assert_eq!(t.run(&["XINFO", "CONSUMERS", "s", "nog"]), err("NOGROUP No such consumer group 'nog' for key name 's'"));
    assert_eq!(
        t.run(&["XINFO", "CONSUMERS", "s", "g"]),
        Reply::Array(vec![Reply::Map(vec![(s("name"), s("c")), (s("pending"), int(1)), (s("idle"), int(0))])])
    );
    let Reply::Map(full) = t.run(&["XINFO", "STREAM", "s", "FULL"]) else { panic!() };
    assert_eq!(full.len(), 9);
    assert_eq!(full[7].1, Reply::Array(vec![entry("1-0", &["f", "v"]), entry("3-0", &["f", "v"])]));
}

#[test]
fn streams_survive_dump_and_restore() {
    let mut t = TestEngine::new();
    for i in 1..=150 {
        t.run(&["XADD", "s", &format!("{}-0", i), "f", &i.to_string(), "other", "x"]);
    }
    t.run(&["XDEL", "s", "7-0"]);
    t.run(&["XGROUP", "CREATE", "s", "g", "0"]);
    t.run(&["XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", ">"]);
    let Reply::Bulk(payload) = t.run(&["DUMP", "s"]) else { panic!() };
    let before = (t.run(&["XRANGE", "s", "-", "+"]), t.run(&["XINFO", "STREAM", "s", "FULL"]), t.run(&["XPENDING", "s", "g"]));
    t.run(&["DEL", "s"]);
    let restore = vec![bytes::Bytes::from_static(b"RESTORE"), bytes::Bytes::from_static(b"s"), bytes::Bytes::from_static(b"0"), payload];
    assert_eq!(t.run_bytes(restore), ok());
    assert_eq!((t.run(&["XRANGE", "s", "-", "+"]), t.run(&["XINFO", "STREAM", "s", "FULL"]), t.run(&["XPENDING", "s", "g"])), before);
}

/// Groups, consumers and pending entries outlive the commands that made them: they keep
/// copies of the names, not slices that would hold each command's whole input buffer.
#[test]
fn groups_and_pending_entries_keep_no_slice_of_the_input_buffer() {
    let mut t = TestEngine::new();
    let id = t.client;
    for cmd in [
        &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"][..],
        &["XADD", "s", "1-1", "f", "v"],
        &["XADD", "s", "2-1", "f", "v"],
        &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "bob"],
        &["XCLAIM", "s", "g", "bob", "0", "1-1"],
        &["XCLAIM", "s", "g", "carol", "0", "2-1", "FORCE"],
    ] {
        let (reply, buf) = t.run_sliced(id, cmd);
        assert!(!matches!(reply, Reply::Error(_)), "{cmd:?}: {reply:?}");
        drop(reply); // a reply may quote an argument (XREADGROUP's key)
        assert!(buf.is_unique(), "{cmd:?} kept a slice of its input");
    }
    assert_eq!(
        t.run(&["XPENDING", "s", "g"]),
        Reply::Array(vec![int(2), bulk("1-1"), bulk("2-1"), Reply::Array(vec![arr(&["bob", "1"]), arr(&["carol", "1"])])])
    );
}
