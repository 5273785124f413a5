//! List family and blocking pops, reply-exact (checked against redis-server 7.0.15). The
//! blocking tests drive two sessions on one engine with a fake clock, as a host would.

use crate::config::Config;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

#[test]
fn pushes_pops_and_ranges() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(t.run(&["LPUSH", "l", "z"]), int(4));
    assert_eq!(t.run(&["LRANGE", "l", "0", "-1"]), arr(&["z", "a", "b", "c"]));
    assert_eq!(t.run(&["LPOP", "l"]), bulk("z"));
    assert_eq!(t.run(&["RPOP", "l", "2"]), arr(&["c", "b"]));
    assert_eq!(t.run(&["LPOP", "l", "0"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["LPOP", "nokey", "2"]), Reply::NilArray);
    assert_eq!(t.run(&["LPOP", "l", "-1"]), err("ERR value is out of range, must be positive"));
    assert_eq!(t.run(&["RPOP", "l"]), bulk("a"));
    assert_eq!(t.run(&["EXISTS", "l"]), int(0));
}

#[test]
fn index_set_insert_and_errors() {
    let mut t = TestEngine::new();
    t.run(&["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(t.run(&["LINDEX", "l", "-1"]), bulk("c"));
    assert_eq!(t.run(&["LINDEX", "l", "9"]), Reply::Nil);
    assert_eq!(t.run(&["LSET", "l", "9", "x"]), err("ERR index out of range"));
    assert_eq!(t.run(&["LSET", "nokey", "0", "x"]), err("ERR no such key"));
    assert_eq!(t.run(&["LINSERT", "l", "BEFORE", "b", "B"]), int(4));
    assert_eq!(t.run(&["LINSERT", "l", "AFTER", "zz", "B"]), int(-1));
    assert_eq!(t.run(&["LINSERT", "l", "NEAR", "b", "B"]), err("ERR syntax error"));
    assert_eq!(t.run(&["LRANGE", "l", "0", "-1"]), arr(&["a", "B", "b", "c"]));
}

#[test]
fn lpos_rank_count_and_maxlen() {
    let mut t = TestEngine::new();
    t.run(&["RPUSH", "l", "a", "b", "c", "b", "b"]);
    assert_eq!(t.run(&["LPOS", "l", "b"]), int(1));
    assert_eq!(t.run(&["LPOS", "l", "b", "RANK", "-1"]), int(4));
    assert_eq!(t.run(&["LPOS", "l", "b", "COUNT", "0"]), Reply::Array(vec![int(1), int(3), int(4)]));
    assert_eq!(t.run(&["LPOS", "l", "b", "COUNT", "0", "MAXLEN", "2"]), Reply::Array(vec![int(1)]));
    assert_eq!(
        t.run(&["LPOS", "l", "b", "RANK", "0"]),
        err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
    );
}

#[test]
fn long_lists_span_many_nodes_and_still_answer_exactly() {
    let mut c = Config::default();
    c.set("list-max-listpack-size", "3", false).unwrap();
    let mut t = TestEngine::with_config(c);
    for i in 0..50 {
        t.run(&["RPUSH", "l", &i.to_string()]);
    }
    assert_eq!(t.run(&["LINDEX", "l", "37"]), bulk("37"));
    assert_eq!(t.run(&["LREM", "l", "0", "10"]), int(1));
    assert_eq!(t.run(&["LTRIM", "l", "5", "-5"]), ok());
    assert_eq!(t.run(&["LLEN", "l"]), int(40));
    assert_eq!(t.run(&["LRANGE", "l", "0", "2"]), arr(&["5", "6", "7"]));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "l"]), bulk("quicklist"));
}

#[test]
fn a_blocked_pop_is_served_by_another_clients_push() {
    let mut t = TestEngine::new();
    let waiter = t.connect();
    assert_eq!(t.run_as(waiter, &["BLPOP", "q", "0"]), Reply::Blocked);
    assert!(t.engine.is_blocked(waiter));
    assert_eq!(t.run(&["RPUSH", "q", "job"]), int(1));
    assert_eq!(t.replies_for(waiter), vec![arr(&["q", "job"])]);
    assert!(!t.engine.is_blocked(waiter));
    assert_eq!(t.run(&["EXISTS", "q"]), int(0));
    assert!(t.engine.drain_events().contains(&crate::event::Event::Unblocked(waiter)));
}

/// A killed waiter is not served while its host closes the connection: the element would
/// leave with it. The next waiter gets it.
#[test]
fn a_killed_waiter_takes_nothing() {
    let mut t = TestEngine::new();
    let killed = t.connect();
    let next = t.connect();
    assert_eq!(t.run_as(killed, &["BLPOP", "q", "0"]), Reply::Blocked);
    assert_eq!(t.run_as(next, &["BLPOP", "q", "0"]), Reply::Blocked);
    assert_eq!(t.run(&["CLIENT", "KILL", "ID", &killed.to_string()]), int(1));
    assert_eq!(t.run(&["RPUSH", "q", "a", "b"]), int(2));
    assert_eq!(t.replies_for(killed), Vec::<Reply>::new());
    assert_eq!(t.replies_for(next), vec![arr(&["q", "a"])]);
    assert_eq!(t.run(&["LRANGE", "q", "0", "-1"]), arr(&["b"]));
}

#[test]
fn waiters_on_one_key_are_served_in_arrival_order() {
    let mut t = TestEngine::new();
    let (a, b) = (t.connect(), t.connect());
    t.run_as(a, &["BRPOP", "q", "0"]);
    t.run_as(b, &["BRPOP", "q", "0"]);
    t.run(&["LPUSH", "q", "1", "2"]);
    assert_eq!(t.replies_for(a), vec![arr(&["q", "1"])]);
    assert_eq!(t.replies_for(b), vec![arr(&["q", "2"])]);
}

#[test]
fn timeouts_answer_nil_when_the_clock_passes_the_deadline() {
    let mut t = TestEngine::new();
    let w = t.connect();
    assert_eq!(t.run_as(w, &["BLMOVE", "src", "dst", "LEFT", "LEFT", "0.5"]), Reply::Blocked);
    t.advance_ms(400);
    t.tick();
    assert!(t.engine.is_blocked(w));
    t.advance_ms(200);
    t.tick();
    assert_eq!(t.replies_for(w), vec![Reply::NilArray]);
    assert!(!t.run(&["INFO", "clients"]).is_error());
}

#[test]
fn a_disconnected_waiter_leaves_its_queue() {
    let mut t = TestEngine::new();
    let w = t.connect();
    t.run_as(w, &["BLPOP", "q", "0"]);
    t.engine.disconnect(w);
    assert_eq!(t.run(&["RPUSH", "q", "x"]), int(1));
    assert_eq!(t.run(&["LLEN", "q"]), int(1));
}

/// CLIENT UNBLOCK ... ERROR: the waiter's UNBLOCKED error counts in errorstats and as a
/// failed call of its command, as unblockClientOnError's reply does.
#[test]
fn an_unblocked_waiters_error_is_counted() {
    let mut t = TestEngine::new();
    let waiter = t.connect();
    assert_eq!(t.run_as(waiter, &["BLPOP", "q", "0"]), Reply::Blocked);
    assert_eq!(t.run(&["CLIENT", "UNBLOCK", &waiter.to_string(), "ERROR"]), int(1));
    assert_eq!(t.replies_for(waiter), vec![err("UNBLOCKED client unblocked via CLIENT UNBLOCK")]);
    let info = |t: &mut TestEngine, section: &str| match t.run(&["INFO", section]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(info(&mut t, "errorstats").contains("errorstat_UNBLOCKED:count=1"));
    let stats = info(&mut t, "commandstats");
    assert!(stats.contains("cmdstat_blpop:calls=1,") && stats.contains("rejected_calls=0,failed_calls=1"), "{stats}");
}

/// DEBUG SLEEP inside a transaction: the waiter served after EXEC sees the time the sleep
/// took, so a key that expired meanwhile serves no one (Redis updates its cached time
/// before serving blocked clients).
#[test]
fn a_key_that_expires_during_a_debug_sleep_in_exec_serves_no_waiter() {
    let mut c = Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    let mut t = TestEngine::with_config(c);
    t.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let waiter = t.connect();
    assert_eq!(t.run_as(waiter, &["BRPOP", "k", "0"]), Reply::Blocked);
    t.run(&["MULTI"]);
    t.run(&["RPUSH", "k", "hello"]);
    t.run(&["PEXPIRE", "k", "100"]);
    t.run(&["DEBUG", "SLEEP", "0.2"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![int(1), int(1), Reply::Simple("OK")]));
    assert!(t.engine.is_blocked(waiter));
    assert_eq!(t.replies_for(waiter), vec![]);
}
