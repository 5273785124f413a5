//! Limits a client cannot get past, the same on cinnabar-server and redis-server: the
//! output buffer limits (`client-output-buffer-limit normal`, hard and soft), the 1 KB a
//! client that never authenticated may leave unread (CVE-2025-21605's fix), and
//! `client-query-buffer-limit`. Each scenario runs against both servers; in each the
//! offending connection is closed and everyone else goes on.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{connect, roundtrip};

/// A command as RESP (values too long for an inline command).
fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{}\r\n", a.len(), a).as_bytes());
    }
    out
}

fn servers() -> Vec<(&'static str, common::Server)> {
    vec![("cinnabar", common::cinnabar()), ("redis", common::spawn(&common::redis_server_binary()))]
}

/// Whether the server closed `c` within `within`: reads (and drops) whatever it sent until
/// the end of the stream.
fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
    c.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let deadline = Instant::now() + within;
    let mut b = vec![0u8; 1 << 16];
    while Instant::now() < deadline {
        match c.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

/// Writes as much of `data` as the socket takes within `within` (a client that never reads
/// soon finds the server's receive window closed); how much went.
fn write_for(c: &mut TcpStream, data: &[u8], within: Duration) -> usize {
    c.set_write_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + within;
    let mut sent = 0;
    while sent < data.len() && Instant::now() < deadline {
        match c.write(&data[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    sent
}

#[test]
fn a_client_past_its_hard_output_limit_is_closed_and_its_replies_dropped() {
    for (name, srv) in servers() {
        let mut admin = connect(srv.port);
        roundtrip(&mut admin, b"CONFIG SET client-output-buffer-limit \"normal 1mb 0 0\"\r\n", "+OK\r\n");
        let value = "x".repeat(100_000);
        roundtrip(&mut admin, &resp(&["SET", "big", &value]), "+OK\r\n");
        // 500 GETs of 100 KB (50 MB of replies), never read.
        let mut greedy = connect(srv.port);
        let sent = write_for(&mut greedy, "GET big\r\n".repeat(500).as_bytes(), Duration::from_secs(5));
        assert_eq!(sent, 4500, "{}", name);
        assert!(closed_within(&mut greedy, Duration::from_secs(10)), "{}: the greedy client stays connected", name);
        roundtrip(&mut admin, b"PING\r\n", "+PONG\r\n");
    }
}

#[test]
fn a_client_past_its_soft_output_limit_for_long_is_closed() {
    for (name, srv) in servers() {
        let mut admin = connect(srv.port);
        roundtrip(&mut admin, b"CONFIG SET client-output-buffer-limit \"normal 0 2mb 1\"\r\n", "+OK\r\n");
        roundtrip(&mut admin, &resp(&["SET", "v", &"y".repeat(20_000)]), "+OK\r\n");
        // 20 MB of replies at once, more than the sockets' buffers take: over the soft limit.
        let mut slow = connect(srv.port);
        assert_eq!(write_for(&mut slow, "GET v\r\n".repeat(1000).as_bytes(), Duration::from_secs(5)), 7000, "{}", name);
        let over = Instant::now();
        std::thread::sleep(Duration::from_millis(500));
        // Still over half a second later: not closed yet (the soft limit allows a second).
        assert!(write_for(&mut slow, b"GET v\r\n", Duration::from_millis(200)) == 7, "{}: closed within the soft limit's second", name);
        // Still over after the second: the next reply closes it.
        let mut closed = false;
        while over.elapsed() < Duration::from_secs(5) && !closed {
            std::thread::sleep(Duration::from_millis(200));
            closed = write_for(&mut slow, b"GET v\r\n", Duration::from_millis(200)) == 0;
        }
        assert!(closed || closed_within(&mut slow, Duration::from_secs(2)), "{}: the slow client stays connected", name);
        roundtrip(&mut admin, b"PING\r\n", "+PONG\r\n");
    }
}

#[test]
fn a_client_that_never_authenticated_may_not_leave_replies_unread() {
    for (name, srv) in servers() {
        let mut admin = connect(srv.port);
        roundtrip(&mut admin, b"CONFIG SET requirepass secret\r\n", "+OK\r\n");
        // 100 000 commands, all answered NOAUTH, none read.
        let mut stranger = connect(srv.port);
        write_for(&mut stranger, "PING\r\n".repeat(100_000).as_bytes(), Duration::from_secs(5));
        assert!(closed_within(&mut stranger, Duration::from_secs(10)), "{}: the unauthenticated client stays connected", name);
        // A client that authenticated is judged by its class's limits (none by default).
        let mut member = connect(srv.port);
        roundtrip(&mut member, b"AUTH secret\r\n", "+OK\r\n");
        write_for(&mut member, "PING\r\n".repeat(20_000).as_bytes(), Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(300));
        let mut got = 0;
        member.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut b = vec![0u8; 1 << 16];
        while got < 20_000 * 7 {
            match member.read(&mut b) {
                Ok(0) => panic!("{}: the authenticated client was closed after {} bytes", name, got),
                Ok(n) => got += n,
                Err(e) => panic!("{}: {} after {} bytes", name, e, got),
            }
        }
        roundtrip(&mut admin, b"AUTH secret\r\nPING\r\n", "+OK\r\n+PONG\r\n");
    }
}

#[test]
fn a_query_buffer_past_its_limit_closes_the_client() {
    for (name, srv) in servers() {
        let mut admin = connect(srv.port);
        roundtrip(&mut admin, b"CONFIG SET client-query-buffer-limit 1mb\r\n", "+OK\r\n");
        // A 50 MB argument announced, 5 MB of it sent.
        let mut hog = connect(srv.port);
        let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$50000000\r\n".to_vec();
        req.extend(std::iter::repeat_n(b'z', 5 << 20));
        write_for(&mut hog, &req, Duration::from_secs(5));
        assert!(closed_within(&mut hog, Duration::from_secs(10)), "{}: the client stays connected", name);
        roundtrip(&mut admin, b"EXISTS k\r\n", ":0\r\n");
    }
}
