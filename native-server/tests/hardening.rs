//! Issue 27's reproductions over a real socket: scripts that used to kill the process,
//! leak connection slots, break a transaction's atomicity or leave code for the next user
//! to run now answer errors, and the server, its slots, its transactions and its other
//! users' scripts are unharmed. (The exact texts are held to redis-server's in the core's
//! src/commands/scripting/hardening_tests.rs.)

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{connect, roundtrip};

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{}\r\n", a.len(), a).as_bytes());
    }
    out
}

/// One reply, read whole (a simple line, an error, an integer, a bulk, or an array of those).
fn reply(c: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let line = |c: &mut TcpStream, out: &mut Vec<u8>| -> String {
        let start = out.len();
        let mut b = [0u8; 1];
        while !out.ends_with(b"\r\n") || out.len() == start {
            c.read_exact(&mut b).unwrap();
            out.push(b[0]);
        }
        String::from_utf8_lossy(&out[start..]).into_owned()
    };
    let first = line(c, &mut out);
    match first.as_bytes()[0] {
        b'$' => {
            let n: i64 = first[1..].trim().parse().unwrap();
            if n >= 0 {
                let mut body = vec![0u8; n as usize + 2];
                c.read_exact(&mut body).unwrap();
                out.extend_from_slice(&body);
            }
        }
        b'*' => {
            let n: i64 = first[1..].trim().parse().unwrap();
            for _ in 0..n.max(0) {
                let inner = reply(c);
                out.extend_from_slice(inner.as_bytes());
            }
        }
        _ => {}
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn eval(c: &mut TcpStream, script: &str) -> String {
    c.write_all(&resp(&["EVAL", script, "0"])).unwrap();
    reply(c)
}

/// Item 1: scripts that overflowed the native stack, asked for 64 GB, or ran binary chunks.
#[test]
fn scripts_that_killed_the_process_answer_errors() {
    let srv = common::cinnabar();
    let mut c = connect(srv.port);
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let cases = [
        ("local function f() return coroutine.wrap(f)() end return f()", "C stack overflow"),
        (&*format!("return a{}", ".a".repeat(30000)), "chunk has too many syntax levels"),
        ("return unpack({}, -2147483648, 2147483647)", "too many results to unpack"),
        ("return loadstring(string.dump(function() return 1 end))()", "attempt to call a nil value"),
        (
            "local s, done = string.dump(function() return 1 end), false return load(function() if done then return nil end done = true return s end)()",
            "attempt to call a nil value",
        ),
    ];
    for (script, want) in cases {
        let r = eval(&mut c, script);
        assert!(r.starts_with('-') && r.contains(want), "{}...: {:?}", &script[..script.len().min(60)], r);
        roundtrip(&mut c, b"PING\r\n", "+PONG\r\n");
    }
    // A binary chunk sent as the script itself is refused as Redis refuses it.
    let r = eval(&mut c, "\x1bLuaQ\x00\x01\x04");
    assert!(r.starts_with("-ERR Error compiling script"), "{:?}", r);
}

/// Item 2: scripts that panicked dropped their connection without freeing its slot; 200 of
/// them against maxclients 20 now leave every slot free.
#[test]
fn failing_scripts_keep_no_connection_slot() {
    let srv = common::cinnabar_with(&["--maxclients", "20"]);
    for i in 0..200 {
        let mut c = connect(srv.port);
        let script = if i % 2 == 0 { "return string.format('%099999999d', 1)" } else { "return unpack({}, 1, 1e8)" };
        let r = eval(&mut c, script);
        assert!(r.starts_with('-'), "round {}: {:?}", i, r);
    }
    let mut c = connect(srv.port);
    c.write_all(b"INFO clients\r\n").unwrap();
    let info = reply(&mut c);
    assert!(info.contains("connected_clients:1\r\n"), "{}", info);
}

/// Item 3: an error inside MULTI (once a panic) is that command's reply; the others apply;
/// every library stays callable after a function fails.
#[test]
fn a_failing_script_inside_multi_leaves_the_transaction_whole() {
    let srv = common::cinnabar();
    let mut c = connect(srv.port);
    roundtrip(&mut c, b"MULTI\r\nSET a 1\r\n", "+OK\r\n+QUEUED\r\n");
    c.write_all(&resp(&["EVAL", "return string.format('%099999999d', 1)", "0"])).unwrap();
    assert_eq!(reply(&mut c), "+QUEUED\r\n");
    roundtrip(&mut c, b"INCR a\r\n", "+QUEUED\r\n");
    c.write_all(b"EXEC\r\n").unwrap();
    let exec = reply(&mut c);
    assert!(exec.starts_with("*3\r\n+OK\r\n-") && exec.ends_with(":2\r\n"), "{:?}", exec);
    // A library whose function fails keeps working, and so do the others.
    let lib = "#!lua name=lib\nredis.register_function('bad', function() return unpack({}, 1, 1e8) end)\nredis.register_function('good', function() return 'fine' end)";
    c.write_all(&resp(&["FUNCTION", "LOAD", lib])).unwrap();
    assert_eq!(reply(&mut c), "$3\r\nlib\r\n");
    for _ in 0..3 {
        c.write_all(&resp(&["FCALL", "bad", "0"])).unwrap();
        assert!(reply(&mut c).starts_with('-'));
        c.write_all(&resp(&["FCALL", "good", "0"])).unwrap();
        assert_eq!(reply(&mut c), "$4\r\nfine\r\n");
    }
}

/// Item 4: the string metatable and the libraries are read-only, so no script leaves code
/// that another user's script would run.
#[test]
fn no_script_can_leave_code_for_the_next_user() {
    let srv = common::cinnabar();
    let mut attacker = connect(srv.port);
    for script in [
        "getmetatable('').__index = function() return 'pwned' end",
        "rawset(getmetatable(''), '__index', {upper = function() return 'pwned' end})",
        "string.upper = function() return 'pwned' end",
        "setmetatable(getmetatable(''), {})",
    ] {
        let r = eval(&mut attacker, script);
        assert!(r.contains("Attempt to modify a readonly table"), "{}: {:?}", script, r);
    }
    let mut victim = connect(srv.port);
    assert_eq!(eval(&mut victim, "return ('ok'):upper()"), "$2\r\nOK\r\n");
    assert_eq!(eval(&mut victim, "return string.upper('ok')"), "$2\r\nOK\r\n");
}
