//! Blocking list pops over real sockets with several clients: wake-ups by other clients'
//! writes, first-come first-served per key, timeouts, pipelines behind a blocked command,
//! disconnects while blocked, CLIENT UNBLOCK, and what does not wake a waiter.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use common::{connect, expect, roundtrip, send, silent};

/// Reads one reply that arrives in a single write (INFO, CLIENT LIST, HELLO), whole.
fn read_available(s: &mut TcpStream) -> String {
    std::thread::sleep(Duration::from_millis(30));
    let mut buf = vec![0u8; 16 * 1024];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Waits until the server reports `n` blocked clients, so orderings are deterministic.
fn wait_blocked(c: &mut TcpStream, n: usize) {
    for _ in 0..100 {
        send(c, "INFO clients\r\n");
        if read_available(c).contains(&format!("blocked_clients:{}\r\n", n)) {
            return;
        }
    }
    panic!("never saw {} blocked clients", n);
}

#[test]
fn a_push_from_another_client_wakes_the_waiter_and_its_pipeline_resumes() {
    let srv = common::cinnabar();
    let (mut a, mut b) = (connect(srv.port), connect(srv.port));
    // BLPOP blocks; the PING pipelined behind it must wait for it.
    send(&mut a, "BLPOP q 0\r\nPING\r\n");
    wait_blocked(&mut b, 1);
    silent(&mut a);
    roundtrip(&mut b, b"RPUSH q x y\r\n", ":2\r\n");
    expect(&mut a, "*2\r\n$1\r\nq\r\n$1\r\nx\r\n+PONG\r\n");
    roundtrip(&mut b, b"LRANGE q 0 -1\r\n", "*1\r\n$1\r\ny\r\n");
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let srv = common::cinnabar();
    let mut c = connect(srv.port);
    let mut w: Vec<TcpStream> = (0..3).map(|_| connect(srv.port)).collect();
    for (i, s) in w.iter_mut().enumerate() {
        send(s, "BRPOP q 0\r\n");
        wait_blocked(&mut c, i + 1);
    }
    roundtrip(&mut c, b"LPUSH q 1 2\r\n", ":2\r\n");
    // BRPOP takes from the tail: the first waiter gets 1, the second 2, the third waits.
    expect(&mut w[0], "*2\r\n$1\r\nq\r\n$1\r\n1\r\n");
    expect(&mut w[1], "*2\r\n$1\r\nq\r\n$1\r\n2\r\n");
    silent(&mut w[2]);
    roundtrip(&mut c, b"RPUSH q 3\r\n", ":1\r\n");
    expect(&mut w[2], "*2\r\n$1\r\nq\r\n$1\r\n3\r\n");
    roundtrip(&mut c, b"EXISTS q\r\n", ":0\r\n");
}

#[test]
fn a_timeout_answers_nil_and_zero_waits_forever() {
    let srv = common::cinnabar();
    let mut a = connect(srv.port);
    roundtrip(&mut a, b"BLPOP q 0.05\r\n", "*-1\r\n");
    roundtrip(&mut a, b"BLMOVE q d LEFT RIGHT 0.05\r\n", "*-1\r\n");
    send(&mut a, "HELLO 3\r\n");
    assert!(read_available(&mut a).starts_with("%7\r\n"));
    roundtrip(&mut a, b"BRPOP q 0.05\r\n", "_\r\n");
    let mut b = connect(srv.port);
    send(&mut b, "BLPOP forever 0\r\n");
    silent(&mut b);
    silent(&mut b);
}

#[test]
fn bad_timeouts_are_errors_and_data_present_never_blocks() {
    let srv = common::cinnabar();
    let mut a = connect(srv.port);
    roundtrip(&mut a, b"BLPOP q -1\r\n", "-ERR timeout is negative\r\n");
    roundtrip(&mut a, b"BLPOP q abc\r\n", "-ERR timeout is not a float or out of range\r\n");
    roundtrip(&mut a, b"RPUSH q a b c\r\n", ":3\r\n");
    roundtrip(&mut a, b"BLPOP nokey q 0\r\n", "*2\r\n$1\r\nq\r\n$1\r\na\r\n");
    roundtrip(&mut a, b"BLMPOP 0 2 nokey q RIGHT COUNT 5\r\n", "*2\r\n$1\r\nq\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n");
    roundtrip(&mut a, b"SET s v\r\n", "+OK\r\n");
    roundtrip(&mut a, b"BLPOP s 0\r\n", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
}

#[test]
fn a_disconnected_waiter_is_forgotten() {
    let srv = common::cinnabar();
    let mut c = connect(srv.port);
    {
        let mut gone = connect(srv.port);
        send(&mut gone, "BLPOP q 0\r\n");
        wait_blocked(&mut c, 1);
    }
    wait_blocked(&mut c, 0);
    roundtrip(&mut c, b"RPUSH q x\r\n", ":1\r\n");
    roundtrip(&mut c, b"LLEN q\r\n", ":1\r\n");
}

#[test]
fn client_unblock_with_timeout_or_error() {
    let srv = common::cinnabar();
    let (mut a, mut c) = (connect(srv.port), connect(srv.port));
    send(&mut a, "CLIENT ID\r\n");
    let id = read_available(&mut a).trim_start_matches(':').trim_end().to_string();
    let unblock = |how: &str| format!("CLIENT UNBLOCK {} {}\r\n", id, how);
    send(&mut a, "BLPOP q 0\r\n");
    wait_blocked(&mut c, 1);
    roundtrip(&mut c, unblock("TIMEOUT").as_bytes(), ":1\r\n");
    expect(&mut a, "*-1\r\n");
    roundtrip(&mut c, unblock("").as_bytes(), ":0\r\n");
    send(&mut a, "BRPOPLPUSH q d 0\r\n");
    wait_blocked(&mut c, 1);
    send(&mut c, &format!("CLIENT LIST ID {}\r\n", id));
    let line = read_available(&mut c);
    assert!(line.contains("flags=b ") && line.contains("cmd=brpoplpush "), "{}", line);
    roundtrip(&mut c, unblock("ERROR").as_bytes(), ":1\r\n");
    expect(&mut a, "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    roundtrip(&mut c, unblock("MAYBE").as_bytes(), "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n");
}

#[test]
fn moves_renames_and_swapdb_wake_waiters_but_other_types_do_not() {
    let srv = common::cinnabar();
    let (mut a, mut c) = (connect(srv.port), connect(srv.port));
    // A string on the key leaves the waiter blocked (Redis 7.0).
    send(&mut a, "BLPOP k 0\r\n");
    wait_blocked(&mut c, 1);
    roundtrip(&mut c, b"SET k v\r\n", "+OK\r\n");
    silent(&mut a);
    roundtrip(&mut c, b"DEL k\r\n", ":1\r\n");
    // RENAME of a list onto the key serves it.
    roundtrip(&mut c, b"RPUSH other 1\r\n", ":1\r\n");
    roundtrip(&mut c, b"RENAME other k\r\n", "+OK\r\n");
    expect(&mut a, "*2\r\n$1\r\nk\r\n$1\r\n1\r\n");
    // LMOVE into the key, and BLMOVE chains: a waits on src, the move lands in dst.
    send(&mut a, "BLMOVE src dst RIGHT LEFT 0\r\n");
    wait_blocked(&mut c, 1);
    roundtrip(&mut c, b"RPUSH tmp z\r\n", ":1\r\n");
    roundtrip(&mut c, b"LMOVE tmp src LEFT LEFT\r\n", "$1\r\nz\r\n");
    expect(&mut a, "$1\r\nz\r\n");
    roundtrip(&mut c, b"LRANGE dst 0 -1\r\n", "*1\r\n$1\r\nz\r\n");
    // SWAPDB brings a list into the waiter's database.
    send(&mut a, "BLPOP swapped 0\r\n");
    wait_blocked(&mut c, 1);
    roundtrip(&mut c, b"SELECT 1\r\n", "+OK\r\n");
    roundtrip(&mut c, b"RPUSH swapped s\r\n", ":1\r\n");
    roundtrip(&mut c, b"SWAPDB 0 1\r\n", "+OK\r\n");
    expect(&mut a, "*2\r\n$7\r\nswapped\r\n$1\r\ns\r\n");
}

#[test]
fn sorted_set_pops_wait_for_zadd() {
    let srv = common::cinnabar();
    let (mut a, mut b, mut c) = (connect(srv.port), connect(srv.port), connect(srv.port));
    send(&mut a, "BZPOPMIN z 0\r\n");
    wait_blocked(&mut c, 1);
    send(&mut b, "BZMPOP 0 1 z MAX COUNT 2\r\n");
    wait_blocked(&mut c, 2);
    // A list on the key serves neither.
    roundtrip(&mut c, b"RPUSH z x\r\n", ":1\r\n");
    silent(&mut a);
    roundtrip(&mut c, b"DEL z\r\n", ":1\r\n");
    roundtrip(&mut c, b"ZADD z 1 one 2 two 3 three\r\n", ":3\r\n");
    expect(&mut a, "*3\r\n$1\r\nz\r\n$3\r\none\r\n$1\r\n1\r\n");
    expect(&mut b, "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$5\r\nthree\r\n$1\r\n3\r\n*2\r\n$3\r\ntwo\r\n$1\r\n2\r\n");
    roundtrip(&mut c, b"EXISTS z\r\n", ":0\r\n");
}

#[test]
fn a_transaction_wakes_waiters_only_once_it_has_run_whole() {
    let srv = common::cinnabar();
    let (mut a, mut c) = (connect(srv.port), connect(srv.port));
    send(&mut a, "BLPOP q 0\r\n");
    wait_blocked(&mut c, 1);
    roundtrip(&mut c, b"MULTI\r\n", "+OK\r\n");
    roundtrip(&mut c, b"LPUSH q a\r\n", "+QUEUED\r\n");
    roundtrip(&mut c, b"LPUSH q b\r\n", "+QUEUED\r\n");
    roundtrip(&mut c, b"LPUSH q c\r\n", "+QUEUED\r\n");
    silent(&mut a);
    roundtrip(&mut c, b"EXEC\r\n", "*3\r\n:1\r\n:2\r\n:3\r\n");
    // The waiter sees the list as EXEC left it: c is at the head.
    expect(&mut a, "*2\r\n$1\r\nq\r\n$1\r\nc\r\n");
    // Inside MULTI a blocking pop answers at once.
    roundtrip(&mut a, b"MULTI\r\nBLPOP empty 0\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n*1\r\n*-1\r\n");
}

#[test]
fn watch_fails_exec_when_another_client_writes_the_key() {
    let srv = common::cinnabar();
    let (mut a, mut b) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut a, b"SET balance 10\r\n", "+OK\r\n");
    roundtrip(&mut a, b"WATCH balance\r\n", "+OK\r\n");
    roundtrip(&mut b, b"INCRBY balance 5\r\n", ":15\r\n");
    roundtrip(&mut a, b"MULTI\r\nDECRBY balance 10\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n*-1\r\n");
    roundtrip(&mut a, b"GET balance\r\n", "$2\r\n15\r\n");
    // Retried without interference, it applies.
    roundtrip(&mut a, b"WATCH balance\r\nMULTI\r\nDECRBY balance 10\r\nEXEC\r\n", "+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:5\r\n");
}

#[test]
fn client_pause_write_holds_writes_until_unpause_or_timeout() {
    let srv = common::cinnabar();
    let (mut a, mut c) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut c, b"CLIENT PAUSE 100000 WRITE\r\n", "+OK\r\n");
    send(&mut a, "SET k v\r\nGET k\r\n");
    silent(&mut a);
    // Reads go on; the held write counts as a blocked client in INFO (Redis blocks it as
    // BLOCKED_POSTPONE).
    roundtrip(&mut c, b"GET k\r\n", "$-1\r\n");
    wait_blocked(&mut c, 1);
    roundtrip(&mut c, b"CLIENT UNPAUSE\r\n", "+OK\r\n");
    expect(&mut a, "+OK\r\n$1\r\nv\r\n");
    // A pause that runs out releases by itself (the server's tick notices).
    roundtrip(&mut c, b"CLIENT PAUSE 200 ALL\r\n", "+OK\r\n");
    send(&mut a, "PING\r\n");
    silent(&mut a);
    expect(&mut a, "+PONG\r\n");
    roundtrip(&mut c, b"CLIENT PAUSE 100 BOTH\r\n", "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    roundtrip(&mut c, b"CLIENT PAUSE -1\r\n", "-ERR timeout is negative\r\n");
}

#[test]
fn client_pause_in_a_transaction_starts_when_exec_ends_and_keeps_expired_keys() {
    let srv = common::cinnabar();
    let (mut a, mut c) = (connect(srv.port), connect(srv.port));
    roundtrip(
        &mut c,
        b"MULTI\r\nSET t1 BAR PX 10\r\nCLIENT PAUSE 60000 WRITE\r\nSET t2 BAR\r\nEXEC\r\n",
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n+OK\r\n+OK\r\n",
    );
    send(&mut a, "SET t3 BAR\r\n");
    wait_blocked(&mut c, 1);
    silent(&mut a);
    std::thread::sleep(Duration::from_millis(150));
    // t1 expired: it reads as missing, but neither lookups nor the active cycle deleted it.
    roundtrip(&mut c, b"GET t1\r\nGET t2\r\nGET t3\r\nDBSIZE\r\n", "$-1\r\n$3\r\nBAR\r\n$-1\r\n:2\r\n");
    send(&mut c, "INFO stats\r\n");
    assert!(read_available(&mut c).contains("expired_keys:0\r\n"));
    roundtrip(&mut c, b"CLIENT UNPAUSE\r\n", "+OK\r\n");
    expect(&mut a, "+OK\r\n");
    roundtrip(&mut c, b"GET t1\r\nDBSIZE\r\n", "$-1\r\n:2\r\n");
    send(&mut c, "INFO stats\r\n");
    assert!(read_available(&mut c).contains("expired_keys:1\r\n"));
}
