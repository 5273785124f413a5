//! Scripts over real sockets: a timed-out script makes other clients (already connected or
//! new) get BUSY until SCRIPT KILL / FUNCTION KILL stops it; one that wrote cannot be
//! killed; the script's own pipeline resumes after it. And the sliding-window rate limiter
//! admits exactly `limit` calls per window under 50 concurrent clients.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{connect, expect, roundtrip, send};

const BUSY: &str = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
const FBUSY: &str = "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{}\r\n", a.len(), a).as_bytes());
    }
    out
}

/// Sends PING until it answers BUSY (the script has timed out).
fn wait_busy(c: &mut TcpStream, busy: &str) {
    for _ in 0..100 {
        send(c, "PING\r\n");
        if line(c) == busy {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the script never timed out");
}

/// One reply line, read a byte at a time so nothing after it is consumed.
fn line(c: &mut TcpStream) -> String {
    let mut l = Vec::new();
    let mut b = [0u8; 1];
    while !l.ends_with(b"\n") {
        match c.read(&mut b) {
            Ok(1) => l.push(b[0]),
            other => panic!("read: {:?} after {:?}", other, String::from_utf8_lossy(&l)),
        }
    }
    String::from_utf8_lossy(&l).into_owned()
}

/// MULTI/EXEC around a busy script, as unit/multi's "script timeout" tests check it: MULTI
/// is answered, a command refused with BUSY dooms the transaction, EXEC during the script
/// aborts it with the BUSY reason, and no half transaction ever runs.
#[test]
fn transactions_during_a_busy_script_never_run_halfway() {
    let srv = common::cinnabar();
    let (mut r, mut b, mut s) = (connect(srv.port), connect(srv.port), connect(srv.port));
    roundtrip(&mut r, b"CONFIG SET busy-reply-threshold 10\r\n", "+OK\r\n");
    roundtrip(&mut r, b"SET xx 1\r\n", "+OK\r\n");
    let spin = resp(&["EVAL", "while true do end", "0"]);
    // MULTI during the script, a refused command, then EXEC after it: EXECABORT.
    s.write_all(&spin).unwrap();
    wait_busy(&mut r, BUSY);
    roundtrip(&mut b, b"MULTI\r\n", "+OK\r\n");
    roundtrip(&mut b, b"INCR xx\r\n", BUSY);
    roundtrip(&mut r, b"SCRIPT KILL\r\n", "+OK\r\n");
    assert!(line(&mut s).starts_with("-ERR Script killed"));
    roundtrip(&mut b, b"INCR xx\r\n", "+QUEUED\r\n");
    roundtrip(&mut b, b"EXEC\r\n", "-EXECABORT Transaction discarded because of previous errors.\r\n");
    roundtrip(&mut b, b"PING asdf\r\n", "$4\r\nasdf\r\n");
    // A transaction begun before the script, EXEC during it: aborted with the reason.
    roundtrip(&mut b, b"MULTI\r\n", "+OK\r\n");
    roundtrip(&mut b, b"INCR xx\r\n", "+QUEUED\r\n");
    s.write_all(&spin).unwrap();
    wait_busy(&mut r, BUSY);
    roundtrip(&mut b, b"EXEC\r\n", &format!("-EXECABORT Transaction discarded because of: {}", &BUSY[1..]));
    roundtrip(&mut b, b"DISCARD\r\n", "-ERR DISCARD without MULTI\r\n");
    roundtrip(&mut r, b"SCRIPT KILL\r\n", "+OK\r\n");
    assert!(line(&mut s).starts_with("-ERR Script killed"));
    roundtrip(&mut r, b"GET xx\r\n", "$1\r\n1\r\n");
    roundtrip(&mut b, b"PING asdf\r\n", "$4\r\nasdf\r\n");
}

/// Commands flagged allow-busy run while a script is busy, from its hook, as Redis runs them
/// (unit/scripting's "Timedout scripts and unblocked command"): a HELLO SETNAME the script
/// itself sees in CLIENT LIST ends it; HELLO 3 switches the protocol of the replies that
/// follow; the refusals are counted as errors.
#[test]
fn allow_busy_commands_run_during_a_busy_script() {
    let srv = common::cinnabar_with(&["--enable-debug-command", "yes"]);
    let (mut r, mut s, mut a) = (connect(srv.port), connect(srv.port), connect(srv.port));
    roundtrip(&mut r, b"CONFIG SET busy-reply-threshold 10\r\n", "+OK\r\n");
    roundtrip(&mut r, b"DEBUG SET-DISABLE-DENY-SCRIPTS 1\r\n", "+OK\r\n");
    let script = "redis.call('lpush', KEYS[1], 'y') while true do if string.find(redis.call('client', 'list'), 'abortscript') then break end end redis.call('lpush', KEYS[1], 'z') return 1";
    s.write_all(&resp(&["EVAL", script, "1", "x"])).unwrap();
    wait_busy(&mut r, BUSY);
    roundtrip(&mut a, b"WATCH w\r\n", "+OK\r\n");
    roundtrip(&mut a, b"GET x\r\n", BUSY);
    // HELLO 3's reply is a RESP3 map; then its name ends the script.
    a.write_all(b"HELLO 3 SETNAME abortscript\r\n").unwrap();
    let mut hello = Vec::new();
    while !hello.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
        let mut buf = [0u8; 4096];
        let n = a.read(&mut buf).unwrap();
        assert!(n > 0);
        hello.extend_from_slice(&buf[..n]);
    }
    assert!(hello.starts_with(b"%7\r\n"), "{}", String::from_utf8_lossy(&hello));
    expect(&mut s, ":1\r\n");
    roundtrip(&mut a, b"LRANGE x 0 -1\r\n", "*2\r\n$1\r\nz\r\n$1\r\ny\r\n");
    // The WATCH taken during the script holds; the script's own writes came before it.
    roundtrip(&mut a, b"MULTI\r\n", "+OK\r\n");
    roundtrip(&mut a, b"PING\r\n", "+QUEUED\r\n");
    roundtrip(&mut a, b"EXEC\r\n", "*1\r\n+PONG\r\n");
    let mut info = connect(srv.port);
    info.write_all(b"INFO errorstats\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut buf = [0u8; 4096];
    let n = info.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("errorstat_BUSY:count="), "{}", String::from_utf8_lossy(&buf[..n]));
}

#[test]
fn a_timed_out_script_answers_busy_and_script_kill_stops_it() {
    let srv = common::cinnabar();
    let (mut a, mut b) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut b, b"CONFIG SET busy-reply-threshold 50\r\n", "+OK\r\n");
    // The script loops under pcall so it cannot swallow the kill; a PING waits behind it.
    let mut req = resp(&["EVAL", "local f = function() while true do end end while true do pcall(f) end", "0"]);
    req.extend_from_slice(b"PING\r\n");
    a.write_all(&req).unwrap();
    wait_busy(&mut b, BUSY);
    // A connection opened while the script runs is answered too.
    let mut c = connect(srv.port);
    roundtrip(&mut c, b"GET x\r\n", BUSY);
    // FUNCTION KILL does not stop an EVAL script (Redis answers with the EVAL's BUSY text),
    // nor does FUNCTION STATS describe one.
    roundtrip(&mut c, b"FUNCTION KILL\r\n", BUSY);
    roundtrip(&mut c, b"FUNCTION STATS\r\n", BUSY);
    roundtrip(&mut c, b"SCRIPT KILL\r\n", "+OK\r\n");
    let killed = line(&mut a);
    assert!(killed.starts_with("-ERR Script killed by user with SCRIPT KILL..."), "{}", killed);
    expect(&mut a, "+PONG\r\n");
    roundtrip(&mut b, b"PING\r\n", "+PONG\r\n");
    roundtrip(&mut c, b"SCRIPT KILL\r\n", "-NOTBUSY No scripts in execution right now.\r\n");
}

#[test]
fn a_script_that_wrote_cannot_be_killed() {
    let srv = common::cinnabar();
    let (mut a, mut b) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut b, b"CONFIG SET busy-reply-threshold 50\r\n", "+OK\r\n");
    // Writes, then runs for a bounded while past the threshold.
    a.write_all(&resp(&["EVAL", "redis.call('set','x','1') local n = 0 for i = 1, 6000000 do n = n + 1 end return n", "0"])).unwrap();
    wait_busy(&mut b, BUSY);
    let l = line_after(&mut b, "SCRIPT KILL\r\n");
    assert!(l.starts_with("-UNKILLABLE Sorry the script already executed write commands"), "{}", l);
    a.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    assert_eq!(line(&mut a), ":6000000\r\n");
    roundtrip(&mut b, b"GET x\r\n", "$1\r\n1\r\n");
}

/// SHUTDOWN NOSAVE ends a script that cannot be killed, and the process with it: once the
/// asking client's link closes, nobody can connect any more (unit/scripting's "SHUTDOWN
/// NOSAVE can kill a timedout script anyway" connects right after and wants a refusal).
#[test]
fn shutdown_nosave_ends_an_unkillable_script_and_refuses_new_connections() {
    let mut srv = common::cinnabar();
    let (mut a, mut b) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut b, b"CONFIG SET busy-reply-threshold 50\r\n", "+OK\r\n");
    a.write_all(&resp(&["EVAL", "local i = 0 while true do i = i + 1 redis.call('set','x',i) end", "0"])).unwrap();
    wait_busy(&mut b, BUSY);
    send(&mut b, "SHUTDOWN NOSAVE\r\n");
    let mut buf = [0u8; 16];
    assert!(matches!(b.read(&mut buf), Ok(0) | Err(_)), "no reply, the link closes");
    let again = TcpStream::connect(("127.0.0.1", srv.port));
    assert!(again.is_err(), "a connection after SHUTDOWN NOSAVE is refused");
    assert!(srv.child.wait().unwrap().success());
}

fn line_after(c: &mut TcpStream, cmd: &str) -> String {
    send(c, cmd);
    line(c)
}

#[test]
fn function_kill_stops_a_timed_out_function() {
    let srv = common::cinnabar();
    let (mut a, mut b) = (connect(srv.port), connect(srv.port));
    roundtrip(&mut b, b"CONFIG SET busy-reply-threshold 50\r\n", "+OK\r\n");
    let lib = "#!lua name=spin\nredis.register_function('spin', function() while true do end end)";
    let mut r = resp(&["FUNCTION", "LOAD", lib]);
    r.extend_from_slice(&resp(&["FCALL", "spin", "0"]));
    a.write_all(&r).unwrap();
    wait_busy(&mut b, FBUSY);
    // FUNCTION STATS describes the busy function (name, command, how long so far).
    send(&mut b, "FUNCTION STATS\r\n");
    let head = "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n$5\r\nfcall\r\n$4\r\nspin\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n";
    expect(&mut b, head);
    assert!(line(&mut b).starts_with(':'));
    expect(&mut b, "$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n");
    roundtrip(&mut b, b"SCRIPT KILL\r\n", FBUSY);
    roundtrip(&mut b, b"FUNCTION KILL\r\n", "+OK\r\n");
    // The load's reply went out with the rest of the batch, after the function ended.
    expect(&mut a, "$4\r\nspin\r\n");
    let killed = line(&mut a);
    assert!(killed.starts_with("-ERR Script killed by user with SCRIPT KILL..."), "{}", killed);
    roundtrip(&mut b, b"PING\r\n", "+PONG\r\n");
}

#[test]
fn the_rate_limiter_admits_exactly_the_limit_under_concurrency() {
    let srv = common::cinnabar();
    let script = "local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('zremrangebyscore', key, '-inf', now - window)
if redis.call('zcard', key) < limit then
  redis.call('zadd', key, now, ARGV[4])
  return 1
end
return 0";
    let mut c = connect(srv.port);
    c.write_all(&resp(&["SCRIPT", "LOAD", script])).unwrap();
    let _len = line(&mut c);
    let sha = line(&mut c).trim().to_string();
    let port = srv.port;
    // 50 clients, 20 requests each, all inside one 60 s window with a limit of 100.
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let sha = sha.clone();
            std::thread::spawn(move || {
                let mut s = connect(port);
                let mut allowed = 0;
                for j in 0..20 {
                    s.write_all(&resp(&["EVALSHA", &sha, "1", "limit", "1000", "60000", "100", &format!("c{}-{}", i, j)])).unwrap();
                    if line(&mut s) == ":1\r\n" {
                        allowed += 1;
                    }
                }
                allowed
            })
        })
        .collect();
    let total: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 100);
    roundtrip(&mut c, b"ZCARD limit\r\n", ":100\r\n");
}

/// `redis-cli --ldb` as a user drives it, its commands typed on stdin: YES forks the
/// session into a child (the script's write is rolled back, and other clients are served
/// meanwhile), `--ldb-sync-mode` runs it in the server (the write stays).
#[test]
fn redis_cli_ldb_debugs_a_script_in_a_fork_and_in_sync_mode() {
    let srv = common::cinnabar();
    let dir = std::env::temp_dir().join(format!("cinnabar-ldb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("t.lua");
    std::fs::write(&script, "local a = ARGV[1]\nredis.call('set', KEYS[1], a)\nreturn a\n").unwrap();
    let ldb = |mode: &str, typed: &str, value: &str| {
        let mut child = std::process::Command::new(common::redis_tool("redis-cli"))
            .args(["-p", &srv.port.to_string(), mode, "--eval", script.to_str().unwrap(), "k", ",", value])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(typed.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = ldb("--ldb", "step\nprint a\nredis get k\ncontinue\n", "v1");
    for want in [
        "* Stopped at 1, stop reason = step over",
        "-> 1   local a = ARGV[1]",
        "-> 2   redis.call('set', KEYS[1], a)",
        "<value> \"v1\"",
        "<redis> get k",
        "<reply> NULL",
        "\"v1\"",
        "dataset changes rolled back",
    ] {
        assert!(out.contains(want), "{want:?} missing from:\n{out}");
    }
    assert_eq!(common::cli(srv.port, &["GET", "k"]), "\n");
    let out = ldb("--ldb-sync-mode", "continue\n", "v2");
    assert!(out.contains("\"v2\"") && out.contains("(Lua debugging session ended)"), "{out}");
    assert_eq!(common::cli(srv.port, &["GET", "k"]), "v2\n");
    let _ = std::fs::remove_dir_all(&dir);
}
