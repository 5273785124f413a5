//! A bug that panics costs one command, or one connection, never the server: a handler's
//! panic is that command's error reply (a transaction goes on with its other commands, the
//! connection stays usable); a panic in the batch around the handlers closes that one
//! connection and frees all it held (its slot under maxclients, its WATCHes, its
//! subscriptions). The log carries one bug report per place, not one per panic.
//! `DEBUG CINNABAR-PANIC HANDLER|BATCH` exists in debug builds only.

mod common;

use std::io::Read;

use common::{connect, roundtrip, send};

const PANIC: &str = "-ERR internal error in 'debug', the command was not completed (a bug, logged by the server): DEBUG CINNABAR-PANIC asked for it\r\n";
const BATCH: &str = "-ERR internal error in 'batch', the command was not completed (a bug, logged by the server): DEBUG CINNABAR-PANIC BATCH asked for it\r\n";

/// Reads until what arrived ends with `end`.
fn read_until(c: &mut std::net::TcpStream, end: &str) -> String {
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    while !got.ends_with(end.as_bytes()) {
        let n = c.read(&mut b).unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&b[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn closed(c: &mut std::net::TcpStream) -> bool {
    let mut b = [0u8; 16];
    matches!(c.read(&mut b), Ok(0))
}

#[test]
fn a_panic_fails_one_command_or_one_connection_and_is_reported_once() {
    let log = std::env::temp_dir().join(format!("cinnabar-panic-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let srv = common::cinnabar_with(&["--enable-debug-command", "yes", "--maxclients", "4", "--logfile", log.to_str().unwrap()]);
    let mut c = connect(srv.port);
    // A handler's panic: an error in its place; the connection goes on.
    for _ in 0..50 {
        roundtrip(&mut c, b"DEBUG CINNABAR-PANIC HANDLER\r\n", PANIC);
    }
    roundtrip(&mut c, b"PING\r\n", "+PONG\r\n");
    // Inside a transaction the other commands run, as for any runtime error.
    roundtrip(&mut c, b"MULTI\r\nSET k 1\r\nDEBUG CINNABAR-PANIC HANDLER\r\nINCR k\r\n", "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n");
    roundtrip(&mut c, b"EXEC\r\n", &format!("*3\r\n+OK\r\n{}:2\r\n", PANIC));
    // A panic around the handlers closes that connection; what it held is freed, so
    // maxclients (4) never runs out however many such connections come and go.
    for i in 0..20 {
        let mut v = connect(srv.port);
        send(&mut v, "HELLO 3\r\nPING\r\n");
        read_until(&mut v, "+PONG\r\n");
        roundtrip(&mut v, b"WATCH k\r\nSUBSCRIBE news\r\n", "+OK\r\n>3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
        // The panic comes after the command ran, before its reply: the error takes its place.
        roundtrip(&mut v, b"DEBUG CINNABAR-PANIC BATCH\r\n", BATCH);
        assert!(closed(&mut v), "round {}: the connection stays open", i);
    }
    roundtrip(&mut c, b"PUBLISH news hello\r\n", ":0\r\n");
    send(&mut c, "INFO clients\r\nPING\r\n");
    let info = read_until(&mut c, "+PONG\r\n");
    assert!(info.contains("connected_clients:1\r\n"), "{}", info);
    // WATCH k of the closed clients is gone: a transaction here is not disturbed by them.
    roundtrip(&mut c, b"WATCH k\r\nMULTI\r\nINCR k\r\nEXEC\r\n", "+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:3\r\n");
    // One report per place: the handler's and the batch's.
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("=== CINNABAR BUG REPORT START").count(), 2, "{}", text);
    assert!(text.contains("Guru Meditation: DEBUG CINNABAR-PANIC asked for it #"), "{}", text);
    assert!(text.contains("happened again (32 times so far)"), "{}", text);
    let _ = std::fs::remove_file(&log);
}
