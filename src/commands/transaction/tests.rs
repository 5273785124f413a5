//! Transactions, reply-exact (checked against redis-server 7.0.15).

use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn queued() -> Reply {
    Reply::Simple("QUEUED")
}

#[test]
fn exec_runs_the_queue_and_keeps_runtime_errors_in_place() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["MULTI"]), ok());
    assert_eq!(t.run(&["SET", "k", "v"]), queued());
    assert_eq!(t.run(&["INCR", "k"]), queued());
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![ok(), err("ERR value is not an integer or out of range")]));
    assert_eq!(t.run(&["EXEC"]), err("ERR EXEC without MULTI"));
}

#[test]
fn a_refused_command_aborts_exec() {
    let mut t = TestEngine::new();
    t.run(&["MULTI"]);
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["GET"]), err("ERR wrong number of arguments for 'get' command"));
    assert_eq!(t.run(&["EXEC"]), err("EXECABORT Transaction discarded because of previous errors."));
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
}

#[test]
fn watched_keys_written_by_others_or_expired_fail_exec() {
    let mut t = TestEngine::new();
    let other = t.connect();
    t.run(&["WATCH", "k"]);
    t.run_as(other, &["SET", "k", "x"]);
    t.run(&["MULTI"]);
    t.run(&["PING"]);
    assert_eq!(t.run(&["EXEC"]), Reply::NilArray);
    t.run(&["SET", "e", "1", "PX", "100"]);
    t.run(&["WATCH", "e"]);
    t.advance_ms(200);
    t.run(&["MULTI"]);
    t.run(&["PING"]);
    assert_eq!(t.run(&["EXEC"]), Reply::NilArray);
}

#[test]
fn nesting_and_watch_inside_multi_are_errors() {
    let mut t = TestEngine::new();
    t.run(&["MULTI"]);
    assert_eq!(t.run(&["MULTI"]), err("ERR MULTI calls can not be nested"));
    assert_eq!(t.run(&["WATCH", "k"]), err("ERR WATCH inside MULTI is not allowed"));
    assert_eq!(t.run(&["DISCARD"]), ok());
    assert_eq!(t.run(&["DISCARD"]), err("ERR DISCARD without MULTI"));
}

/// A key already expired when WATCHed that goes away (lazily, by FLUSHDB, by SWAPDB) or is
/// swapped for another expired key is no change; the tests of Redis's multi.tcl.
#[test]
fn stale_watched_keys_that_go_away_do_not_fail_exec() {
    let mut c = crate::Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    let mut t = TestEngine::with_config(c);
    t.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let exec_passes = |t: &mut TestEngine| {
        t.run(&["MULTI"]);
        t.run(&["PING"]);
        t.run(&["EXEC"]) == Reply::Array(vec![Reply::Simple("PONG")])
    };
    let stale = |t: &mut TestEngine, db: &str| {
        t.run(&["SELECT", db]);
        t.run(&["SET", "x", "foo", "PX", "1"]);
    };
    // Deleted by a lookup.
    stale(&mut t, "0");
    t.advance_ms(2);
    t.run(&["WATCH", "x"]);
    assert_eq!(t.run(&["EXISTS", "x"]), int(0));
    assert!(exec_passes(&mut t));
    // Flushed.
    stale(&mut t, "0");
    t.advance_ms(2);
    t.run(&["WATCH", "x"]);
    t.run(&["FLUSHDB"]);
    assert!(exec_passes(&mut t));
    // SWAPDB: (databases holding a stale x, the database watching it) — swapped for
    // nothing, nothing swapped for a stale key, a stale key swapped for another.
    for (stale_in, watch_in) in [(&["1"][..], "1"), (&["0"], "1"), (&["1", "0"], "1")] {
        t.run(&["FLUSHALL"]);
        for db in stale_in {
            stale(&mut t, db);
        }
        t.advance_ms(2);
        t.run(&["SELECT", watch_in]);
        t.run(&["WATCH", "x"]);
        t.run(&["SWAPDB", "0", "1"]);
        assert!(exec_passes(&mut t), "stale in {:?}", stale_in);
    }
    // But a live key swapped in is a change, and a stale key written again is one too.
    t.run(&["FLUSHALL"]);
    t.run(&["SELECT", "0"]);
    t.run(&["SET", "x", "live"]);
    t.run(&["SELECT", "1"]);
    t.run(&["WATCH", "x"]);
    t.run(&["SWAPDB", "0", "1"]);
    assert!(!exec_passes(&mut t));
    stale(&mut t, "1");
    t.advance_ms(2);
    t.run(&["WATCH", "x"]);
    t.run(&["SET", "x", "again"]);
    assert!(!exec_passes(&mut t));
}
