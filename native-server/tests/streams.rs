//! Streams over real sockets with several clients: workers sharing a consumer group, a
//! crashed worker's entries recovered, blocking reads woken by another client's XADD, and
//! redis-py's stream API as an order-processing service uses it.

mod common;

use std::time::Duration;

use common::{connect, expect, roundtrip, send, silent};

fn entry(id: &str, f: &str, v: &str) -> String {
    format!("*2\r\n${}\r\n{}\r\n*2\r\n${}\r\n{}\r\n${}\r\n{}\r\n", id.len(), id, f.len(), f, v.len(), v)
}

fn read_reply(key: &str, entries: &[String]) -> String {
    format!("*1\r\n*2\r\n${}\r\n{}\r\n*{}\r\n{}", key.len(), key, entries.len(), entries.concat())
}

#[test]
fn blocked_xread_and_xreadgroup_are_woken_by_another_clients_xadd() {
    let srv = common::cinnabar();
    let (mut reader, mut worker, mut producer) = (connect(srv.port), connect(srv.port), connect(srv.port));
    roundtrip(&mut producer, b"XGROUP CREATE jobs g $ MKSTREAM\r\n", "+OK\r\n");
    send(&mut reader, "XREAD BLOCK 0 STREAMS jobs $\r\nPING\r\n");
    send(&mut worker, "XREADGROUP GROUP g w1 BLOCK 0 STREAMS jobs >\r\n");
    std::thread::sleep(Duration::from_millis(100));
    silent(&mut reader);
    silent(&mut worker);
    roundtrip(&mut producer, b"XADD jobs 1-0 task a\r\n", "$3\r\n1-0\r\n");
    // Both wake on the same entry: XREAD reads, the group delivers it to its one waiter.
    expect(&mut reader, &(read_reply("jobs", &[entry("1-0", "task", "a")]) + "+PONG\r\n"));
    expect(&mut worker, &read_reply("jobs", &[entry("1-0", "task", "a")]));
    roundtrip(&mut producer, b"XPENDING jobs g\r\n", "*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$2\r\nw1\r\n$1\r\n1\r\n");
    // A timeout answers the null array.
    roundtrip(&mut reader, b"XREAD BLOCK 50 STREAMS jobs $\r\n", "*-1\r\n");
}

#[test]
fn two_workers_in_a_group_never_get_the_same_entry() {
    let srv = common::cinnabar();
    let (mut a, mut b, mut producer) = (connect(srv.port), connect(srv.port), connect(srv.port));
    roundtrip(&mut producer, b"XGROUP CREATE q g $ MKSTREAM\r\n", "+OK\r\n");
    send(&mut a, "XREADGROUP GROUP g a COUNT 1 BLOCK 0 STREAMS q >\r\n");
    std::thread::sleep(Duration::from_millis(50));
    send(&mut b, "XREADGROUP GROUP g b COUNT 1 BLOCK 0 STREAMS q >\r\n");
    std::thread::sleep(Duration::from_millis(50));
    roundtrip(&mut producer, b"XADD q 1-0 n 1\r\n", "$3\r\n1-0\r\n");
    expect(&mut a, &read_reply("q", &[entry("1-0", "n", "1")]));
    silent(&mut b);
    roundtrip(&mut producer, b"XADD q 2-0 n 2\r\n", "$3\r\n2-0\r\n");
    expect(&mut b, &read_reply("q", &[entry("2-0", "n", "2")]));
    // Worker a crashes; b recovers its entry once it has been idle long enough.
    drop(a);
    std::thread::sleep(Duration::from_millis(30));
    roundtrip(&mut b, b"XCLAIM q g b 20 1-0 JUSTID\r\n", "*1\r\n$3\r\n1-0\r\n");
    roundtrip(&mut b, b"XACK q g 1-0 2-0\r\n", ":2\r\n");
}

#[test]
fn deleting_the_stream_ends_a_blocked_group_read_with_an_error() {
    let srv = common::cinnabar();
    let (mut w, mut admin) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut admin, b"XGROUP CREATE s g $ MKSTREAM\r\n", "+OK\r\n");
    send(&mut w, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >\r\n");
    std::thread::sleep(Duration::from_millis(100));
    roundtrip(&mut admin, b"DEL s\r\n", ":1\r\n");
    expect(&mut w, "-UNBLOCKED the stream key no longer exists\r\n");
}

#[test]
fn redis_py_stream_api_works() {
    let srv = common::cinnabar();
    common::run_python("redis_py_streams.py", srv.port);
}
