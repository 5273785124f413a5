//! Pub/sub over real sockets: RESP2 subscribed mode, patterns, many subscribers, RESP3 pushes
//! interleaved with replies, and a subscriber that stops reading being cut off while the
//! server's memory stays bounded. Expected bytes checked against redis-server 7.0.15.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{connect, expect, roundtrip};

#[test]
fn resp2_subscribers_receive_messages_and_only_pubsub_commands() {
    let srv = common::cinnabar();
    let (mut sub, mut publ) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut sub, b"SUBSCRIBE news sport\r\n", "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n");
    roundtrip(&mut publ, b"PUBLISH news hello\r\n", ":1\r\n");
    expect(&mut sub, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
    roundtrip(&mut publ, b"PUBLISH nobody x\r\n", ":0\r\n");
    roundtrip(&mut sub, b"GET k\r\n", "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n");
    roundtrip(&mut sub, b"PING\r\n", "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    roundtrip(&mut publ, b"PUBSUB NUMSUB news nobody\r\n", "*4\r\n$4\r\nnews\r\n:1\r\n$6\r\nnobody\r\n:0\r\n");
    roundtrip(&mut sub, b"UNSUBSCRIBE news\r\n", "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    roundtrip(&mut sub, b"UNSUBSCRIBE\r\n", "*3\r\n$11\r\nunsubscribe\r\n$5\r\nsport\r\n:0\r\n");
    roundtrip(&mut sub, b"UNSUBSCRIBE\r\n", "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    roundtrip(&mut sub, b"GET k\r\n", "$-1\r\n");
}

#[test]
fn patterns_and_channels_both_deliver_and_count() {
    let srv = common::cinnabar();
    let (mut sub, mut publ) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut sub, b"PSUBSCRIBE news.*\r\n", "*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:1\r\n");
    roundtrip(&mut sub, b"SUBSCRIBE news.tech\r\n", "*3\r\n$9\r\nsubscribe\r\n$9\r\nnews.tech\r\n:2\r\n");
    roundtrip(&mut publ, b"PUBLISH news.tech hi\r\n", ":2\r\n");
    expect(&mut sub, "*3\r\n$7\r\nmessage\r\n$9\r\nnews.tech\r\n$2\r\nhi\r\n");
    expect(&mut sub, "*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$9\r\nnews.tech\r\n$2\r\nhi\r\n");
    roundtrip(&mut publ, b"PUBSUB NUMPAT\r\n", ":1\r\n");
    roundtrip(&mut sub, b"PUNSUBSCRIBE\r\n", "*3\r\n$12\r\npunsubscribe\r\n$6\r\nnews.*\r\n:1\r\n");
}

#[test]
fn every_subscriber_gets_every_message_in_publish_order() {
    let srv = common::cinnabar();
    let mut publ = connect(srv.port);
    let mut subs: Vec<TcpStream> = (0..20).map(|_| connect(srv.port)).collect();
    for s in subs.iter_mut() {
        roundtrip(s, b"SUBSCRIBE c\r\n", "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
    }
    for i in 0..10 {
        roundtrip(&mut publ, format!("PUBLISH c m{}\r\n", i).as_bytes(), ":20\r\n");
    }
    for s in subs.iter_mut() {
        for i in 0..10 {
            expect(s, &format!("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nm{}\r\n", i));
        }
    }
}

#[test]
fn resp3_subscribers_get_pushes_and_may_run_any_command() {
    let srv = common::cinnabar();
    let (mut sub, mut publ) = (connect(srv.port), connect(srv.port));
    sub.write_all(b"HELLO 3\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut greeting = [0u8; 4096];
    let _ = sub.read(&mut greeting).unwrap();
    roundtrip(&mut sub, b"SUBSCRIBE c\r\n", ">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
    roundtrip(&mut publ, b"PUBLISH c x\r\n", ":1\r\n");
    expect(&mut sub, ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n");
    roundtrip(&mut sub, b"SET k v\r\n", "+OK\r\n");
    // Publishing to itself: the push comes before PUBLISH's own reply.
    roundtrip(&mut sub, b"PUBLISH c self\r\n", ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$4\r\nself\r\n:1\r\n");
}

#[test]
fn a_subscriber_that_stops_reading_is_disconnected_and_memory_stays_bounded() {
    let srv = common::cinnabar();
    let (mut sub, mut publ) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut publ, b"CONFIG SET client-output-buffer-limit \"pubsub 1mb 512kb 60\"\r\n", "+OK\r\n");
    roundtrip(&mut sub, b"SUBSCRIBE flood\r\n", "*3\r\n$9\r\nsubscribe\r\n$5\r\nflood\r\n:1\r\n");
    let payload = "x".repeat(16 * 1024);
    let cmd = format!("*3\r\n$7\r\nPUBLISH\r\n$5\r\nflood\r\n${}\r\n{}\r\n", payload.len(), payload);
    // 64 MB published to a subscriber that reads nothing.
    for _ in 0..4096 {
        publ.write_all(cmd.as_bytes()).unwrap();
        let mut b = [0u8; 4];
        publ.read_exact(&mut b).unwrap();
    }
    roundtrip(&mut publ, b"PUBSUB NUMSUB flood\r\n", "*2\r\n$5\r\nflood\r\n:0\r\n");
    publ.write_all(b"INFO memory\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut info = vec![0u8; 8192];
    let n = publ.read(&mut info).unwrap();
    let text = String::from_utf8_lossy(&info[..n]);
    let used: u64 = text.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).unwrap();
    assert!(used < 32 << 20, "used_memory {} after flooding a dead subscriber", used);
    // The subscriber's socket ends after whatever was already sent.
    sub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut sink = vec![0u8; 1 << 20];
    loop {
        match sub.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) => panic!("subscriber was not disconnected: {}", e),
        }
    }
}

#[test]
fn monitor_streams_other_clients_commands_in_redis_format() {
    let srv = common::cinnabar();
    let (mut mon, mut c) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut mon, b"MONITOR\r\n", "+OK\r\n");
    roundtrip(&mut c, b"SET \"a\\\"b\" \"x\\ny\"\r\n", "+OK\r\n");
    roundtrip(&mut c, b"CONFIG GET maxmemory\r\n", "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    roundtrip(&mut c, b"SELECT 3\r\nGET k\r\n", "+OK\r\n$-1\r\n");
    std::thread::sleep(Duration::from_millis(50));
    let mut buf = vec![0u8; 4096];
    let n = mon.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    // Timestamps and ports vary; the rest is Redis's line. CONFIG is an admin command: hidden.
    let tail = |l: &str| {
        l.split_once(" [")
            .map(|(ts, rest)| (ts.starts_with('+'), rest.split_once(' ').map(|(db, r)| (db.to_string(), r.split_once("] ").map(|(_, cmd)| cmd.to_string())))))
    };
    assert_eq!(lines.len(), 3, "{:?}", lines);
    assert_eq!(tail(lines[0]), Some((true, Some(("0".into(), Some("\"SET\" \"a\\\"b\" \"x\\ny\"".into()))))));
    assert_eq!(tail(lines[1]), Some((true, Some(("3".into(), Some("\"SELECT\" \"3\"".into()))))));
    assert_eq!(tail(lines[2]), Some((true, Some(("3".into(), Some("\"GET\" \"k\"".into()))))));
}
