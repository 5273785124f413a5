//! The server over a raw TCP socket, byte for byte: pipelining, inline commands, partial
//! frames, protocol errors (which close only the offending connection), RESP2 vs RESP3, QUIT.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{connect, read_exact_str, roundtrip};

fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0))
}

#[test]
fn replies_are_byte_exact() {
    let srv = common::cinnabar();
    let mut s = connect(srv.port);
    roundtrip(&mut s, b"*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
    roundtrip(&mut s, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", "+OK\r\n");
    roundtrip(&mut s, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "$5\r\nhello\r\n");
    roundtrip(&mut s, b"*2\r\n$3\r\nGET\r\n$4\r\nnone\r\n", "$-1\r\n");
    roundtrip(&mut s, b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n", ":1\r\n");
    roundtrip(&mut s, b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n", "-ERR value is not an integer or out of range\r\n");
    roundtrip(&mut s, b"*1\r\n$3\r\nFOO\r\n", "-ERR unknown command 'FOO', with args beginning with: \r\n");
}

#[test]
fn a_pipeline_of_many_commands_is_answered_in_order() {
    let srv = common::cinnabar();
    let mut s = connect(srv.port);
    let mut req = Vec::new();
    let mut expect = String::new();
    for i in 0..1000 {
        req.extend("*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n".to_string().bytes());
        expect.push_str(&format!(":{}\r\n", i + 1));
    }
    roundtrip(&mut s, &req, &expect);
}

#[test]
fn inline_commands_work_like_telnet() {
    let srv = common::cinnabar();
    let mut s = connect(srv.port);
    roundtrip(&mut s, b"SET greeting \"hello world\"\r\nGET greeting\r\nPING\n", "+OK\r\n$11\r\nhello world\r\n+PONG\r\n");
}

#[test]
fn a_frame_split_into_single_bytes_is_reassembled() {
    let srv = common::cinnabar();
    let mut s = connect(srv.port);
    s.set_nodelay(true).unwrap();
    for b in b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n" {
        s.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(read_exact_str(&mut s, 5), "+OK\r\n");
}

#[test]
fn a_protocol_error_closes_only_that_connection() {
    let srv = common::cinnabar();
    let mut good = connect(srv.port);
    roundtrip(&mut good, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "+OK\r\n");
    for (bad, err) in [
        (&b"*x\r\n"[..], "-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n"),
        (b"*1\r\n$-3\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        (b"SET \"unterminated\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
    ] {
        let mut s = connect(srv.port);
        roundtrip(&mut s, bad, err);
        assert!(closed(&mut s), "connection stays open after {:?}", String::from_utf8_lossy(bad));
    }
    roundtrip(&mut good, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "$1\r\nv\r\n");
}

#[test]
fn replies_before_a_protocol_error_in_the_same_read_are_kept() {
    let srv = common::cinnabar();
    let mut s = connect(srv.port);
    roundtrip(&mut s, b"PING\r\n*1\r\n$4\r\nPING\r\n*z\r\n", "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n");
    assert!(closed(&mut s));
}

#[test]
fn resp3_after_hello_3() {
    let srv = common::cinnabar();
    let mut s = connect(srv.port);
    s.write_all(b"HELLO 3\r\n").unwrap();
    let hello = read_exact_str(&mut s, 4);
    assert_eq!(hello, "%7\r\n");
    // Drain the rest of the map, then check RESP3 nil and map encodings.
    std::thread::sleep(Duration::from_millis(50));
    let mut rest = [0u8; 4096];
    let _ = s.read(&mut rest).unwrap();
    roundtrip(&mut s, b"GET missing\r\n", "_\r\n");
    roundtrip(&mut s, b"CONFIG GET maxmemory\r\n", "%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    roundtrip(&mut s, b"HELLO 2 SETNAME x\r\nGET missing\r\n", "*14\r\n");
}

#[test]
fn quit_replies_ok_and_closes() {
    let srv = common::cinnabar();
    let mut s = connect(srv.port);
    roundtrip(&mut s, b"QUIT\r\n", "+OK\r\n");
    assert!(closed(&mut s));
}

#[test]
fn client_kill_closes_the_other_connection() {
    let srv = common::cinnabar();
    let mut victim = connect(srv.port);
    roundtrip(&mut victim, b"CLIENT SETNAME victim\r\n", "+OK\r\n");
    victim.write_all(b"CLIENT ID\r\n").unwrap();
    let id = read_exact_str(&mut victim, 4);
    let id = id.trim_start_matches(':').trim().to_string();
    let mut killer = connect(srv.port);
    roundtrip(&mut killer, format!("CLIENT KILL ID {}\r\n", id).as_bytes(), ":1\r\n");
    std::thread::sleep(Duration::from_millis(100));
    assert!(closed(&mut victim));
}

#[test]
fn requirepass_is_enforced_on_the_socket() {
    let srv = common::cinnabar_with(&["--requirepass", "s3cret"]);
    let mut s = connect(srv.port);
    roundtrip(&mut s, b"GET k\r\n", "-NOAUTH Authentication required.\r\n");
    // Unauthenticated clients may not send large multibulks (Redis's pre-auth limits).
    roundtrip(&mut s, b"AUTH s3cret\r\nGET k\r\n", "+OK\r\n$-1\r\n");
    let mut t = connect(srv.port);
    roundtrip(&mut t, b"*20\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n");
    assert!(closed(&mut t));
}

/// A client may send a long pipeline before reading any reply (redis-py's pipeline does):
/// the server keeps reading while replies wait for the socket, instead of both sides
/// waiting on full buffers.
#[test]
fn a_long_pipeline_sent_before_any_read_completes() {
    use std::io::{Read, Write};
    let srv = common::cinnabar();
    let mut s = common::connect(srv.port);
    // Both directions far beyond what socket buffers hold.
    let n = 20_000;
    let payload = "x".repeat(4000);
    let cmd = format!("*2\r\n$4\r\nECHO\r\n$4000\r\n{}\r\n", payload).into_bytes().repeat(n);
    let reply_len = format!("$4000\r\n{}\r\n", payload).len();
    s.set_write_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    s.write_all(&cmd).expect("the server stopped reading while its replies were unread");
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 16];
    while got < n * reply_len {
        let k = s.read(&mut buf).unwrap();
        assert!(k > 0);
        got += k;
    }
    assert_eq!(got, n * reply_len, "one reply per command");
}

/// A command of more than a million arguments (Redis takes up to INT_MAX): RPUSH of
/// 1,200,000 elements in one multibulk, on both servers.
#[test]
fn a_multibulk_of_over_a_million_arguments_runs() {
    for binary in [env!("CARGO_BIN_EXE_cinnabar-server").to_string(), common::redis_server_binary()] {
        let srv = common::spawn(&binary);
        let mut s = connect(srv.port);
        let n = 1_200_000;
        let mut req = format!("*{}\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n", n + 2).into_bytes();
        for _ in 0..n {
            req.extend_from_slice(b"$1\r\nx\r\n");
        }
        s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        roundtrip(&mut s, &req, &format!(":{}\r\n", n));
    }
}

/// DEBUG PROTOCOL, which client libraries' tests use, gives each RESP3 type as Redis writes
/// it: the attribute (which only a RESP writer can carry) before its reply, the push before
/// its reply, verbatim with its format.
#[test]
fn debug_protocol_writes_attributes_and_pushes_as_redis() {
    let srv = common::cinnabar_with(&["--enable-debug-command", "yes"]);
    let mut s = connect(srv.port);
    roundtrip(&mut s, b"DEBUG PROTOCOL attrib\r\n", "$39\r\nSome real reply following the attribute\r\n");
    roundtrip(&mut s, b"DEBUG PROTOCOL push\r\n", "-ERR RESP2 is not supported by this command\r\n");
    s.write_all(b"HELLO 3\r\n").unwrap();
    // HELLO's map ends with its empty module list.
    let mut hello = Vec::new();
    while !hello.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
        let mut b = [0u8; 4096];
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "closed during HELLO");
        hello.extend_from_slice(&b[..n]);
    }
    roundtrip(
        &mut s,
        b"DEBUG PROTOCOL attrib\r\nDEBUG PROTOCOL push\r\nDEBUG PROTOCOL verbatim\r\nDEBUG PROTOCOL bignum\r\n",
        concat!(
            "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
            ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
            "=29\r\ntxt:This is a verbatim\nstring\r\n",
            "(1234567999999999999999999999999999999\r\n"
        ),
    );
}
