//! Client-side caching over real sockets. Every scenario runs against cinnabar-server and
//! against redis-server 7.0.15 with the same expected bytes, so the expectations are Redis's.
//! A `PING` on the tracking connection after another client's write shows what it was sent
//! meanwhile: any invalidation is queued before the write's own reply, so it precedes PONG.

mod common;

use std::io::Read;
use std::net::TcpStream;

use common::{connect, expect, redis_server_binary, roundtrip, send, spawn};

/// Runs a scenario on a fresh cinnabar-server and a fresh redis-server.
fn both(scenario: fn(u16)) {
    let cin = common::cinnabar();
    scenario(cin.port);
    let red = spawn(&redis_server_binary());
    scenario(red.port);
}

/// Reads until the buffer ends with `end`: for replies whose bytes differ between servers
/// (HELLO's map carries the client id).
fn read_until(s: &mut TcpStream, end: &[u8]) -> Vec<u8> {
    let mut got = vec![];
    let mut b = [0u8; 4096];
    while !got.ends_with(end) {
        let n = s.read(&mut b).expect("read");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&b[..n]);
    }
    got
}

fn resp3(port: u16) -> TcpStream {
    let mut s = connect(port);
    send(&mut s, "HELLO 3\r\nPING\r\n");
    read_until(&mut s, b"+PONG\r\n");
    s
}

fn client_id(s: &mut TcpStream) -> u64 {
    send(s, "CLIENT ID\r\n");
    let line = read_until(s, b"\r\n");
    String::from_utf8_lossy(&line[1..line.len() - 2]).parse().unwrap()
}

fn push(keys: &[&str]) -> String {
    let mut s = format!(">2\r\n$10\r\ninvalidate\r\n*{}\r\n", keys.len());
    for k in keys {
        s += &format!("${}\r\n{}\r\n", k.len(), k);
    }
    s
}

const PUSH_ALL: &str = ">2\r\n$10\r\ninvalidate\r\n_\r\n";

#[test]
fn resp3_clients_get_invalidate_pushes_for_keys_they_read() {
    both(|port| {
        let (mut a, mut b) = (resp3(port), connect(port));
        roundtrip(&mut a, b"CLIENT TRACKING on\r\n", "+OK\r\n");
        roundtrip(&mut a, b"GET k\r\n", "_\r\n");
        roundtrip(&mut b, b"SET k v\r\n", "+OK\r\n");
        roundtrip(&mut a, b"PING\r\n", &(push(&["k"]) + "+PONG\r\n"));
        // Invalidated keys are forgotten until read again.
        roundtrip(&mut b, b"SET k w\r\n", "+OK\r\n");
        roundtrip(&mut a, b"PING\r\n", "+PONG\r\n");
        // The client's own write: the push follows the reply.
        roundtrip(&mut a, b"GET k\r\n", "$1\r\nw\r\n");
        roundtrip(&mut a, b"SET k x\r\n", &("+OK\r\n".to_string() + &push(&["k"])));
        roundtrip(&mut a, b"MGET m n\r\n", "*2\r\n_\r\n_\r\n");
        roundtrip(&mut b, b"MSET n 1 m 2\r\n", "+OK\r\n");
        roundtrip(&mut a, b"PING\r\n", &(push(&["n"]) + &push(&["m"]) + "+PONG\r\n"));
        roundtrip(&mut b, b"FLUSHALL\r\n", "+OK\r\n");
        roundtrip(&mut a, b"PING\r\n", &(PUSH_ALL.to_string() + "+PONG\r\n"));
        roundtrip(&mut a, b"CLIENT TRACKINGINFO\r\n", "%3\r\n$5\r\nflags\r\n~1\r\n$2\r\non\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n");
    });
}

#[test]
fn resp2_clients_redirect_invalidations_to_a_subscriber() {
    both(|port| {
        let (mut sub, mut c, mut w) = (connect(port), connect(port), connect(port));
        let sid = client_id(&mut sub);
        roundtrip(&mut sub, b"SUBSCRIBE __redis__:invalidate\r\n", "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n");
        roundtrip(&mut c, format!("CLIENT TRACKING on REDIRECT {}\r\n", sid).as_bytes(), "+OK\r\n");
        roundtrip(&mut c, b"CLIENT GETREDIR\r\n", &format!(":{}\r\n", sid));
        roundtrip(&mut c, b"GET user:1\r\n", "$-1\r\n");
        roundtrip(&mut w, b"SET user:1 ann\r\n", "+OK\r\n");
        expect(&mut sub, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$6\r\nuser:1\r\n");
        roundtrip(&mut c, b"GET user:1\r\n", "$3\r\nann\r\n");
        roundtrip(&mut w, b"FLUSHDB\r\n", "+OK\r\n");
        expect(&mut sub, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
        // The tracking connection itself hears nothing.
        roundtrip(&mut c, b"PING\r\n", "+PONG\r\n");
        send(&mut c, "CLIENT LIST ID ");
        send(&mut c, &format!("{}\r\n", client_id(&mut w)));
        let list = String::from_utf8_lossy(&read_until(&mut c, b"\n\r\n")).into_owned();
        assert!(list.contains(" flags=N ") && list.contains(" redir=-1 "), "{}", list);
        send(&mut c, "CLIENT INFO\r\n");
        let info = String::from_utf8_lossy(&read_until(&mut c, b"\n\r\n")).into_owned();
        assert!(info.contains(" flags=t ") && info.contains(&format!(" redir={} ", sid)), "{}", info);
    });
}

#[test]
fn bcast_delivers_keys_under_the_prefixes_once_per_batch() {
    both(|port| {
        let (mut a, mut b) = (resp3(port), connect(port));
        roundtrip(&mut a, b"CLIENT TRACKING on BCAST PREFIX user: PREFIX cfg:\r\n", "+OK\r\n");
        roundtrip(&mut b, b"MSET user:2 a other 1 cfg:x 1 user:1 b\r\n", "+OK\r\n");
        roundtrip(&mut a, b"PING\r\n", &(push(&["cfg:x"]) + &push(&["user:1", "user:2"]) + "+PONG\r\n"));
        // A pipeline from one client is one batch: one message for both keys.
        roundtrip(&mut b, b"SET user:4 a\r\nSET user:3 b\r\nSET nope c\r\n", "+OK\r\n+OK\r\n+OK\r\n");
        roundtrip(&mut a, b"PING\r\n", &(push(&["user:3", "user:4"]) + "+PONG\r\n"));
        roundtrip(
            &mut a,
            b"CLIENT TRACKING on BCAST PREFIX user:x\r\n",
            "-ERR Prefix 'user:x' overlaps with an existing prefix 'user:'. Prefixes for a single client must not overlap.\r\n",
        );
        send(&mut a, "CLIENT INFO\r\n");
        let info = String::from_utf8_lossy(&read_until(&mut a, b"\n\r\n")).into_owned();
        assert!(info.contains(" flags=tB ") && info.contains(" redir=0 "), "{}", info);
    });
}

#[test]
fn optin_tracks_the_command_after_caching_yes_only() {
    both(|port| {
        let (mut a, mut b) = (resp3(port), connect(port));
        roundtrip(&mut a, b"CLIENT TRACKING on OPTIN\r\n", "+OK\r\n");
        roundtrip(&mut a, b"GET a\r\n", "_\r\n");
        roundtrip(&mut a, b"CLIENT CACHING yes\r\n", "+OK\r\n");
        roundtrip(&mut a, b"GET b\r\n", "_\r\n");
        roundtrip(&mut a, b"GET c\r\n", "_\r\n");
        roundtrip(&mut b, b"MSET a 1 b 1 c 1\r\n", "+OK\r\n");
        roundtrip(&mut a, b"PING\r\n", &(push(&["b"]) + "+PONG\r\n"));
        roundtrip(&mut a, b"CLIENT CACHING no\r\n", "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n");
    });
}

#[test]
fn noloop_hides_a_clients_own_writes() {
    both(|port| {
        let (mut a, mut b) = (resp3(port), connect(port));
        roundtrip(&mut a, b"CLIENT TRACKING on NOLOOP\r\n", "+OK\r\n");
        roundtrip(&mut a, b"GET k\r\n", "_\r\n");
        roundtrip(&mut a, b"SET k mine\r\n", "+OK\r\n");
        roundtrip(&mut a, b"GET k\r\n", "$4\r\nmine\r\n");
        roundtrip(&mut b, b"SET k theirs\r\n", "+OK\r\n");
        roundtrip(&mut a, b"PING\r\n", &(push(&["k"]) + "+PONG\r\n"));
    });
}

#[test]
fn a_closed_redirect_target_is_reported_as_broken() {
    both(|port| {
        let (mut a, mut w) = (resp3(port), connect(port));
        let mut gone = connect(port);
        let id = client_id(&mut gone);
        roundtrip(&mut a, format!("CLIENT TRACKING on REDIRECT {}\r\n", id).as_bytes(), "+OK\r\n");
        drop(gone);
        std::thread::sleep(std::time::Duration::from_millis(100));
        roundtrip(&mut a, b"GET k\r\n", "_\r\n");
        roundtrip(&mut w, b"SET k v\r\n", "+OK\r\n");
        roundtrip(&mut a, b"PING\r\n", &format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{}\r\n+PONG\r\n", id));
        roundtrip(
            &mut a,
            b"CLIENT TRACKINGINFO\r\n",
            &format!("%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:{}\r\n$8\r\nprefixes\r\n*0\r\n", id),
        );
    });
}

#[test]
fn expired_keys_are_invalidated() {
    both(|port| {
        let (mut a, mut b) = (resp3(port), connect(port));
        roundtrip(&mut a, b"CLIENT TRACKING on\r\n", "+OK\r\n");
        roundtrip(&mut b, b"SET e v PX 50\r\n", "+OK\r\n");
        roundtrip(&mut a, b"GET e\r\n", "$1\r\nv\r\n");
        // The active expiry cycle (hz 10) finds it within a second or so.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        roundtrip(&mut a, b"PING\r\n", &(push(&["e"]) + "+PONG\r\n"));
    });
}

/// redis-py's RESP2 recipe (REDIRECT to a pub/sub connection) and its RESP3 push handler.
#[test]
fn redis_py_receives_invalidations() {
    both(|port| {
        common::run_python("tracking_py.py", port);
    });
}
