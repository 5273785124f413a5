//! Differential test: the scripts in `tests/differential/*.redis` run against cinnabar-server
//! and a real redis-server (Debian's, started here on a loopback port); every reply must be
//! byte-identical. redis-server is the specification, so a mismatch is our bug unless the
//! script marks the line as legitimately different: `~` compares the reply type only, `^` its
//! first line (type and length), `%` the items in any order; `3>` sends it on the RESP3
//! connection.

mod common;
#[path = "differential/random.rs"]
mod random;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use bytes::BytesMut;
use common::{redis_server_binary, spawn};

/// A raw RESP connection that reads exactly one reply per command.
struct Conn {
    s: TcpStream,
    buf: BytesMut,
}

impl Conn {
    fn open(port: u16, resp3: bool) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut c = Conn { s, buf: BytesMut::new() };
        if resp3 {
            c.call(&[b"HELLO".to_vec(), b"3".to_vec()]);
        }
        c
    }

    fn call(&mut self, argv: &[Vec<u8>]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", argv.len()).into_bytes();
        for a in argv {
            out.extend(format!("${}\r\n", a.len()).bytes());
            out.extend(a);
            out.extend(b"\r\n");
        }
        self.s.write_all(&out).unwrap();
        self.read_reply()
    }

    /// The next complete reply (or pushed message) on the connection.
    fn read_reply(&mut self) -> Vec<u8> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return self.buf.split_to(n).to_vec();
            }
            let mut chunk = [0u8; 16384];
            let n = self.s.read(&mut chunk).expect("read reply");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Length of the first complete RESP2/RESP3 reply in `b`, if complete.
fn reply_len(b: &[u8]) -> Option<usize> {
    let line_end = b.windows(2).position(|w| w == b"\r\n")?;
    let head = &b[1..line_end];
    let after = line_end + 2;
    let num = || std::str::from_utf8(head).ok()?.parse::<i64>().ok();
    match b[0] {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n = num()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (b.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = num()?;
            let items = if matches!(b[0], b'%' | b'|') { n * 2 } else { n };
            let mut pos = after;
            for _ in 0..items.max(0) {
                pos += reply_len(&b[pos..])?;
            }
            Some(pos)
        }
        _ => panic!("unexpected reply byte {:?}", b[0] as char),
    }
}

/// The items of an array reply, sorted: for replies whose order is unspecified (KEYS).
fn sorted_items(reply: &[u8]) -> Vec<Vec<u8>> {
    let header = reply_len(reply).map(|_| reply.windows(2).position(|w| w == b"\r\n").unwrap() + 2).unwrap_or(0);
    let mut pos = header;
    let mut items = vec![];
    while pos < reply.len() {
        let n = reply_len(&reply[pos..]).expect("complete reply");
        items.push(reply[pos..pos + n].to_vec());
        pos += n;
    }
    items.sort();
    items.insert(0, reply[..header].to_vec());
    items
}

/// Replays one script on both servers and returns the mismatches.
fn run_script(name: &str, text: &str) -> Vec<String> {
    let cin = common::cinnabar();
    let red = spawn(&redis_server_binary());
    let (mut c2, mut r2) = (Conn::open(cin.port, false), Conn::open(red.port, false));
    let (mut c3, mut r3) = (Conn::open(cin.port, true), Conn::open(red.port, true));
    let mut failures = vec![];
    for (n, line) in text.lines().enumerate() {
        let mut line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let type_only = line.starts_with('~');
        line = line.trim_start_matches('~');
        let header_only = line.starts_with('^');
        line = line.trim_start_matches('^');
        let unordered = line.starts_with('%');
        line = line.trim_start_matches('%');
        let resp3 = line.starts_with("3>");
        line = line.trim_start_matches("3>");
        let argv: Vec<Vec<u8>> = cinnabar::resp::inline::split_inline(line.as_bytes())
            .unwrap_or_else(|| panic!("{}:{}: bad quoting", name, n + 1))
            .into_iter()
            .map(|a| a.to_vec())
            .collect();
        let (ours, theirs) = if resp3 { (c3.call(&argv), r3.call(&argv)) } else { (c2.call(&argv), r2.call(&argv)) };
        let first_line = |r: &[u8]| r.split(|&b| b == b'\n').next().map(|l| l.to_vec());
        let same = if type_only {
            ours.first() == theirs.first()
        } else if header_only {
            first_line(&ours) == first_line(&theirs)
        } else if unordered {
            sorted_items(&ours) == sorted_items(&theirs)
        } else {
            ours == theirs
        };
        if !same {
            failures.push(format!(
                "{}:{}: {}\n    cinnabar: {:?}\n    redis:    {:?}",
                name,
                n + 1,
                line,
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            ));
        }
    }
    failures
}

fn check(script: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential").join(script);
    let text = std::fs::read_to_string(&path).unwrap();
    let failures = run_script(script, &text);
    assert!(failures.is_empty(), "{} replies differ from redis-server:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn strings_match_redis_byte_for_byte() {
    check("strings.redis");
}

#[test]
fn bitmaps_match_redis_byte_for_byte() {
    check("bitmaps.redis");
}

#[test]
fn hashes_match_redis_byte_for_byte() {
    check("hashes.redis");
}

#[test]
fn lists_match_redis_byte_for_byte() {
    check("lists.redis");
}

#[test]
fn sets_match_redis_byte_for_byte() {
    check("sets.redis");
}

#[test]
fn sorted_sets_match_redis_byte_for_byte() {
    check("zsets.redis");
}

#[test]
fn geo_matches_redis_byte_for_byte() {
    check("geo.redis");
}

#[test]
fn sort_matches_redis_byte_for_byte() {
    check("sort.redis");
}

#[test]
fn streams_match_redis_byte_for_byte() {
    check("streams.redis");
}

#[test]
fn acl_matches_redis() {
    check("acl.redis");
}

#[test]
fn scripting_matches_redis_byte_for_byte() {
    check("scripting.redis");
}

#[test]
fn transactions_match_redis_byte_for_byte() {
    check("transactions.redis");
}

/// Keyspace notifications: with `notify-keyspace-events KEA` on both servers, a subscriber
/// to every channel must see the same messages, in the same order, after each command of
/// `notifications.redis`. A marker message published after each command ends its batch.
#[test]
fn keyspace_notifications_match_redis() {
    let cin = common::cinnabar();
    let red = spawn(&redis_server_binary());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/notifications.redis");
    let text = std::fs::read_to_string(&path).unwrap();
    let argv = |line: &str| -> Vec<Vec<u8>> { cinnabar::resp::inline::split_inline(line.as_bytes()).unwrap().into_iter().map(|a| a.to_vec()).collect() };
    let mut failures = vec![];
    let mut runs: Vec<Vec<String>> = vec![];
    for port in [cin.port, red.port] {
        let (mut cmd, mut sub) = (Conn::open(port, false), Conn::open(port, false));
        cmd.call(&argv("CONFIG SET notify-keyspace-events KEA"));
        sub.call(&argv("PSUBSCRIBE *"));
        let mut seen = vec![];
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            cmd.call(&argv(line));
            cmd.call(&argv("PUBLISH zz-marker end"));
            let mut batch = vec![];
            loop {
                let m = String::from_utf8_lossy(&sub.read_reply()).replace("\r\n", " ");
                if m.contains("zz-marker") {
                    break;
                }
                batch.push(m);
            }
            seen.push(format!("{} => {:?}", line, batch));
        }
        runs.push(seen);
    }
    for (ours, theirs) in runs[0].iter().zip(&runs[1]) {
        if ours != theirs {
            failures.push(format!("  cinnabar {}\n  redis    {}", ours, theirs));
        }
    }
    assert!(failures.is_empty(), "{} commands notify differently:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn client_tracking_matches_redis_byte_for_byte() {
    check("tracking.redis");
}

#[test]
fn latency_matches_redis_byte_for_byte() {
    check("latency.redis");
}

#[test]
fn keys_match_redis_byte_for_byte() {
    check("keys.redis");
}

#[test]
fn introspection_and_memory_commands_match_redis_byte_for_byte() {
    check("introspection.redis");
}

#[test]
fn connection_and_server_commands_match_redis_byte_for_byte() {
    check("connection.redis");
}

/// A parsed RESP reply, for comparing structured replies field by field.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Int(i64),
    Nil,
    List(Vec<Val>),
}

fn parse(b: &[u8]) -> (Val, usize) {
    let end = b.windows(2).position(|w| w == b"\r\n").unwrap();
    let head = std::str::from_utf8(&b[1..end]).unwrap();
    let after = end + 2;
    match b[0] {
        b'+' | b'-' => (Val::Str(head.to_string()), after),
        b':' => (Val::Int(head.parse().unwrap()), after),
        b'$' => {
            let n: i64 = head.parse().unwrap();
            if n < 0 {
                return (Val::Nil, after);
            }
            let n = n as usize;
            (Val::Str(String::from_utf8_lossy(&b[after..after + n]).into_owned()), after + n + 2)
        }
        b'*' => {
            let n: i64 = head.parse().unwrap();
            if n < 0 {
                return (Val::Nil, after);
            }
            let mut pos = after;
            let mut items = vec![];
            for _ in 0..n {
                let (v, used) = parse(&b[pos..]);
                items.push(v);
                pos += used;
            }
            (Val::List(items), pos)
        }
        c => panic!("unexpected {:?}", c as char),
    }
}

fn names(v: &Val) -> Vec<String> {
    match v {
        Val::List(items) => items
            .iter()
            .map(|i| match i {
                Val::Str(s) => s.clone(),
                o => panic!("{:?}", o),
            })
            .collect(),
        o => panic!("{:?}", o),
    }
}

/// The command table is declared in Rust, not generated; this keeps it honest. For every
/// command and subcommand we declare, redis-server's COMMAND INFO must agree on arity, flags,
/// first/last/step key positions, ACL categories, tips and key specs.
#[test]
fn command_table_metadata_matches_redis() {
    each_command_against_redis(b"INFO", |name, ours, theirs| {
        let (Val::List(ours), Val::List(theirs)) = (ours, theirs) else { panic!() };
        let (Val::List(ours), Val::List(theirs)) = (ours[0].clone(), theirs[0].clone()) else {
            // Not in Redis 7.0 (a later addition we implement, e.g. CLIENT NO-TOUCH).
            return None;
        };
        let sorted = |v: &Val| {
            let mut n = names(v);
            n.sort();
            n
        };
        let fields = [
            ("arity", ours[1] == theirs[1]),
            ("flags", sorted(&ours[2]) == sorted(&theirs[2])),
            ("keys", ours[3..6] == theirs[3..6]),
            ("acl", sorted(&ours[6]) == sorted(&theirs[6])),
            ("tips", sorted(&ours[7]) == sorted(&theirs[7])),
            ("key specs", ours[8] == theirs[8]),
        ];
        Some(fields.iter().filter(|(_, same)| !same).map(|(what, _)| format!("{} {}: ours {:?} redis {:?}", name, what, &ours[1..9], &theirs[1..9])).collect())
    });
}

/// Asks both servers `COMMAND <sub> <name>` for every command Cinnabar lists and fails with
/// every mismatch `diff` reports. `diff` returns `None` for a command Redis 7.0 lacks.
fn each_command_against_redis(sub: &[u8], mut diff: impl FnMut(&str, Val, Val) -> Option<Vec<String>>) {
    let cin = common::cinnabar();
    let red = spawn(&redis_server_binary());
    let (mut c, mut r) = (Conn::open(cin.port, false), Conn::open(red.port, false));
    let (list, _) = parse(&c.call(&[b"COMMAND".to_vec(), b"LIST".to_vec()]));
    let mut failures = vec![];
    let mut compared = 0;
    for name in names(&list) {
        let ask = |conn: &mut Conn| parse(&conn.call(&[b"COMMAND".to_vec(), sub.to_vec(), name.clone().into_bytes()])).0;
        let (ours, theirs) = (ask(&mut c), ask(&mut r));
        if let Some(found) = diff(&name, ours, theirs) {
            compared += 1;
            failures.extend(found);
        }
    }
    assert!(compared > 50, "only {} commands compared", compared);
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// A COMMAND DOCS map (RESP2: a flat list of pairs) without the fields Cinnabar does not keep:
/// history, doc_flags, deprecation notes, subcommands (compared on their own) and, inside
/// arguments, per-argument `since`, `summary` and `deprecated_since`.
fn docs_kept(v: &Val, in_argument: bool) -> Vec<(String, Val)> {
    let Val::List(items) = v else { panic!("{:?}", v) };
    let dropped: &[&str] = if in_argument {
        &["since", "summary", "deprecated_since", "display_text"]
    } else {
        &["history", "doc_flags", "deprecated_since", "replaced_by", "subcommands"]
    };
    let mut out = vec![];
    for pair in items.chunks(2) {
        let Val::Str(k) = &pair[0] else { panic!() };
        if dropped.contains(&k.as_str()) {
            continue;
        }
        let val = match (k.as_str(), &pair[1]) {
            ("arguments", Val::List(args)) => {
                Val::List(args.iter().map(|a| Val::List(docs_kept(a, true).into_iter().flat_map(|(k, v)| [Val::Str(k), v]).collect())).collect())
            }
            (_, other) => other.clone(),
        };
        out.push((k.clone(), val));
    }
    out
}

/// Summaries, complexity and the argument trees (what redis-cli 7 shows as hints and in
/// `help`) must be Redis 7.0's for every command both servers know.
#[test]
fn command_docs_match_redis() {
    each_command_against_redis(b"DOCS", |name, ours, theirs| {
        let (Val::List(ours), Val::List(theirs)) = (ours, theirs) else { panic!() };
        if theirs.is_empty() {
            return None; // not in Redis 7.0
        }
        let (ours, theirs) = (docs_kept(&ours[1], false), docs_kept(&theirs[1], false));
        Some(if ours == theirs { vec![] } else { vec![format!("{}:\n  ours  {:?}\n  redis {:?}", name, ours, theirs)] })
    });
}

#[test]
fn hyperloglog_matches_redis_byte_for_byte() {
    check("hyperloglog.redis");
}
