//! The append-only file on disk, through the real server: every acknowledged write survives
//! SIGKILL under `appendfsync always`, a torn tail loads (or refuses to, as configured),
//! rewrites under load lose nothing, and AOF directories move between Cinnabar and
//! redis-server in both directions.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A RESP reply, enough of it for these tests.
#[derive(Debug, PartialEq, Clone)]
enum R {
    Ok(String),
    Err(String),
    Int(i64),
    Bulk(Option<String>),
    Array(Vec<R>),
}

struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn new(port: u16) -> Conn {
        let s = common::connect(port);
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn { r: BufReader::new(s.try_clone().unwrap()), w: s }
    }

    fn send(&mut self, args: &[&str]) -> std::io::Result<()> {
        let mut b = format!("*{}\r\n", args.len());
        for a in args {
            b.push_str(&format!("${}\r\n{}\r\n", a.len(), a));
        }
        self.w.write_all(b.as_bytes())
    }

    fn read(&mut self) -> std::io::Result<R> {
        let mut line = String::new();
        if self.r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end().to_string();
        let (t, rest) = line.split_at(1);
        Ok(match t {
            "+" => R::Ok(rest.into()),
            "-" => R::Err(rest.into()),
            ":" => R::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    R::Bulk(None)
                } else {
                    let mut buf = vec![0u8; n as usize + 2];
                    std::io::Read::read_exact(&mut self.r, &mut buf)?;
                    R::Bulk(Some(String::from_utf8_lossy(&buf[..n as usize]).into_owned()))
                }
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                let mut v = vec![];
                for _ in 0..n.max(0) {
                    v.push(self.read()?);
                }
                R::Array(v)
            }
            _ => panic!("unexpected reply line {:?}", line),
        })
    }

    fn cmd(&mut self, args: &[&str]) -> R {
        self.send(args).unwrap();
        self.read().unwrap()
    }
}

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cinnabar-aof-{}-{}", tag, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A server on `dir`'s AOF, once it has loaded it: until then it answers LOADING, as
/// redis-server does while it replays a big file.
fn cinnabar_aof(dir: &Path, extra: &[&str]) -> common::Server {
    let mut args = vec!["--dir", dir.to_str().unwrap(), "--appendonly", "yes", "--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    let server = common::cinnabar_with(&args);
    let mut c = Conn::new(server.port);
    common::wait_for("the AOF to load", || !matches!(c.cmd(&["PING"]), R::Err(e) if e.starts_with("LOADING")));
    server
}

fn kill9(s: &mut common::Server) {
    let _ = s.child.kill(); // SIGKILL
    let _ = s.child.wait();
}

fn wait_exit(s: &mut common::Server) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn list(c: &mut Conn, key: &str) -> Vec<i64> {
    match c.cmd(&["LRANGE", key, "0", "-1"]) {
        R::Array(v) => v
            .into_iter()
            .map(|r| match r {
                R::Bulk(Some(s)) => s.parse().unwrap(),
                other => panic!("{:?}", other),
            })
            .collect(),
        other => panic!("{:?}", other),
    }
}

/// A small xorshift so the kill moments vary between rounds but a failure reproduces.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn with_fsync_always_no_acknowledged_write_is_lost_to_sigkill() {
    let dir = fresh_dir("always");
    let mut rng = Rng(0x9e3779b97f4a7c15 ^ std::process::id() as u64);
    let mut acked: i64 = 0;
    let mut sent: i64 = 0;
    let mut round = 0;
    while acked < 10_000 {
        round += 1;
        let mut server = cinnabar_aof(&dir, &["--appendfsync", "always"]);
        let mut c = Conn::new(server.port);
        // What the last rounds left: every acknowledged write, and maybe the one in flight.
        let have = list(&mut c, "log");
        let n = have.len() as i64;
        assert!(n >= acked && n <= sent, "round {}: {} entries after {} acknowledged, {} sent", round, n, acked, sent);
        assert!(have.iter().enumerate().all(|(i, &v)| v == i as i64), "round {}: the log is not 0..n in order", round);
        acked = have.len() as i64;
        // Write in pipelines of 20; after a random number of acknowledged writes, kill the
        // server with a pipeline in flight (some of it applied, some acknowledged).
        let kill_at = acked + 300 + rng.below(2500) as i64;
        let mut w = Conn::new(server.port);
        let mut next = acked;
        'writing: loop {
            for _ in 0..20 {
                if w.send(&["RPUSH", "log", &next.to_string()]).is_err() {
                    break 'writing;
                }
                next += 1;
                sent = sent.max(next);
            }
            if acked >= kill_at {
                std::thread::sleep(Duration::from_micros(rng.below(2000)));
                kill9(&mut server);
            }
            for _ in 0..20 {
                match w.read() {
                    Ok(R::Int(_)) => acked += 1,
                    Ok(other) => panic!("{:?}", other),
                    Err(_) => break 'writing,
                }
            }
        }
        kill9(&mut server);
    }
    let server = cinnabar_aof(&dir, &[]);
    let mut c = Conn::new(server.port);
    let have = list(&mut c, "log");
    assert!(have.len() as i64 >= acked && have.iter().enumerate().all(|(i, &v)| v == i as i64));
    assert!(round >= 3, "the server was killed {} times", round);
}

/// Group commit: 50 clients writing at once, each waiting for its acknowledgement, share
/// one fsync per loop turn; SIGKILL at a random moment still loses no acknowledged write of
/// any of them.
#[test]
fn with_fsync_always_fifty_concurrent_writers_lose_nothing_to_sigkill() {
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    use std::sync::Arc;
    const WRITERS: usize = 50;
    let dir = fresh_dir("always50");
    let mut rng = Rng(0x2545f4914f6cdd1d ^ std::process::id() as u64);
    let acked: Arc<Vec<AtomicI64>> = Arc::new((0..WRITERS).map(|_| AtomicI64::new(0)).collect());
    for round in 1..=8 {
        let mut server = cinnabar_aof(&dir, &["--appendfsync", "always"]);
        let mut c = Conn::new(server.port);
        for (i, a) in acked.iter().enumerate() {
            let have = list(&mut c, &format!("log:{}", i));
            let (n, want) = (have.len() as i64, a.load(Ordering::SeqCst));
            // Every acknowledged write is there, and at most the one in flight beyond it.
            assert!(n >= want && n <= want + 1, "round {}, writer {}: {} entries after {} acknowledged", round, i, n, want);
            assert!(have.iter().enumerate().all(|(j, &v)| v == j as i64), "round {}, writer {}: not 0..n in order", round, i);
            a.store(n, Ordering::SeqCst);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let (acked, stop, port) = (acked.clone(), stop.clone(), server.port);
                std::thread::spawn(move || {
                    let mut w = Conn::new(port);
                    let key = format!("log:{}", i);
                    while !stop.load(Ordering::SeqCst) {
                        let next = acked[i].load(Ordering::SeqCst);
                        if w.send(&["RPUSH", &key, &next.to_string()]).is_err() {
                            return;
                        }
                        match w.read() {
                            Ok(R::Int(n)) => {
                                assert_eq!(n, next + 1);
                                acked[i].store(n, Ordering::SeqCst);
                            }
                            Ok(other) => panic!("{:?}", other),
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + rng.below(350)));
        kill9(&mut server);
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.join().unwrap();
        }
    }
    let total: i64 = acked.iter().map(|a| a.load(Ordering::SeqCst)).sum();
    assert!(total > 1000, "only {} writes were acknowledged", total);
}

#[test]
fn with_fsync_everysec_a_kill_loses_at_most_about_a_second() {
    let dir = fresh_dir("everysec");
    let mut server = cinnabar_aof(&dir, &["--appendfsync", "everysec"]);
    let mut c = Conn::new(server.port);
    let mut acked = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        let i = acked.len();
        assert_eq!(c.cmd(&["RPUSH", "log", &i.to_string()]), R::Int(i as i64 + 1));
        acked.push(Instant::now());
    }
    let killed = Instant::now();
    kill9(&mut server);
    let server = cinnabar_aof(&dir, &[]);
    let mut c = Conn::new(server.port);
    let n = list(&mut c, "log").len();
    assert!(n <= acked.len());
    if n < acked.len() {
        assert!(killed - acked[n] < Duration::from_millis(2000), "lost writes from {:?} before the kill", killed - acked[n]);
    }
}

fn incr_file(dir: &Path) -> PathBuf {
    let manifest = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    let name = manifest.lines().rfind(|l| l.ends_with("type i")).unwrap().split(' ').nth(1).unwrap().to_string();
    dir.join("appendonlydir").join(name)
}

/// Runs the server expecting it to refuse to start; returns what it printed.
fn refused(dir: &Path, extra: &[&str]) -> String {
    let port = common::free_port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_cinnabar-server"))
        .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--dir", dir.to_str().unwrap(), "--appendonly", "yes"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server started");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A manifest naming a file the disk no longer has (an incremental file deleted by hand):
/// starting would lose the writes in it, so the server refuses, as redis-server does.
#[test]
fn a_missing_incremental_file_stops_startup_as_in_redis() {
    for binary in [env!("CARGO_BIN_EXE_cinnabar-server").to_string(), common::redis_server_binary()] {
        let dir = fresh_dir(&format!("missing-{}", binary.len()));
        {
            let mut server = common::spawn_with(&binary, &["--dir", dir.to_str().unwrap(), "--appendonly", "yes"]);
            let mut c = Conn::new(server.port);
            assert_eq!(c.cmd(&["SET", "k", "v"]), R::Ok("OK".into()));
            assert_eq!(c.cmd(&["BGREWRITEAOF"]), R::Ok("Background append only file rewriting started".into()));
            // Wait for the rewrite, then write into the new incremental file.
            let deadline = Instant::now() + Duration::from_secs(20);
            while std::fs::read_dir(dir.join("appendonlydir"))
                .unwrap()
                .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".incr.aof"))
                .count()
                != 1
            {
                assert!(Instant::now() < deadline, "the rewrite never finished");
                std::thread::sleep(Duration::from_millis(50));
            }
            assert_eq!(c.cmd(&["SET", "k2", "v2"]), R::Ok("OK".into()));
            kill9(&mut server);
        }
        let incr = incr_file(&dir);
        std::fs::remove_file(&incr).unwrap();
        let name = incr.file_name().unwrap().to_string_lossy().into_owned();
        let port = common::free_port().to_string();
        let out = Command::new(&binary)
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--dir", dir.to_str().unwrap(), "--appendonly", "yes"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{} started without {}", binary, name);
        assert!(text.contains(&format!("Unable to obtain the AOF file {} length. stat: No such file or directory", name)), "{}: {}", binary, text);
    }
}

#[test]
fn a_torn_tail_is_cut_off_or_refused_as_configured() {
    let dir = fresh_dir("torn");
    let mut server = cinnabar_aof(&dir, &[]);
    let mut c = Conn::new(server.port);
    assert_eq!(c.cmd(&["SET", "a", "1"]), R::Ok("OK".into()));
    assert_eq!(c.cmd(&["SET", "b", "2"]), R::Ok("OK".into()));
    c.send(&["SHUTDOWN"]).unwrap();
    wait_exit(&mut server);
    let incr = incr_file(&dir);
    let whole = std::fs::metadata(&incr).unwrap().len();
    let mut f = std::fs::OpenOptions::new().append(true).open(&incr).unwrap();
    f.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$2\r\n3").unwrap();
    drop(f);
    let out = refused(&dir, &["--aof-load-truncated", "no"]);
    assert!(out.contains("Unexpected end of file reading the append only file"), "{}", out);
    let server = cinnabar_aof(&dir, &["--aof-load-truncated", "yes"]);
    let mut c = Conn::new(server.port);
    assert_eq!(c.cmd(&["MGET", "a", "b", "c"]), R::Array(vec![R::Bulk(Some("1".into())), R::Bulk(Some("2".into())), R::Bulk(None)]));
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), whole, "the torn command was cut off");
    // Writes after the cut continue the file cleanly.
    assert_eq!(c.cmd(&["SET", "d", "4"]), R::Ok("OK".into()));
    drop(server);
    let server = cinnabar_aof(&dir, &[]);
    let mut c = Conn::new(server.port);
    assert_eq!(c.cmd(&["GET", "d"]), R::Bulk(Some("4".into())));
    drop(server);
    // Corruption that is not a torn tail is never forgiven.
    let mut bytes = std::fs::read(&incr).unwrap();
    bytes.extend_from_slice(b"garbage\r\n*1\r\n$4\r\nPING\r\n");
    std::fs::write(&incr, bytes).unwrap();
    let out = refused(&dir, &[]);
    assert!(out.contains("Bad file format reading the append only file"), "{}", out);
}

fn digest(c: &mut Conn) -> R {
    c.cmd(&["DEBUG", "DIGEST"])
}

#[test]
fn a_rewrite_under_load_loses_nothing() {
    let dir = fresh_dir("rewrite");
    let mut server = cinnabar_aof(&dir, &["--aof-use-rdb-preamble", "no"]);
    let port = server.port;
    let writer = std::thread::spawn(move || {
        let mut w = Conn::new(port);
        for i in 0..20_000 {
            w.send(&["HSET", &format!("h{}", i % 100), &format!("f{}", i), "v"]).unwrap();
            if i % 50 == 49 {
                for _ in 0..50 {
                    w.read().unwrap();
                }
            }
        }
    });
    let mut c = Conn::new(port);
    let mut rewrites = 0;
    while !writer.is_finished() {
        if let R::Ok(_) = c.cmd(&["BGREWRITEAOF"]) {
            rewrites += 1;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    writer.join().unwrap();
    // The last rewrite finishes.
    let deadline = Instant::now() + Duration::from_secs(20);
    while let R::Bulk(Some(info)) = c.cmd(&["INFO", "persistence"]) {
        if info.contains("aof_rewrite_in_progress:0") {
            break;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(rewrites >= 2, "{} rewrites", rewrites);
    // Each rewrite forked a child that wrote the base.
    let R::Bulk(Some(stats)) = c.cmd(&["INFO", "stats"]) else { panic!() };
    assert!(stats.lines().any(|l| l.strip_prefix("total_forks:").and_then(|n| n.parse::<i64>().ok()).is_some_and(|n| n >= rewrites)), "{}", stats);
    let want = digest(&mut c);
    let files: Vec<String> = std::fs::read_dir(dir.join("appendonlydir")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files.len(), 3, "the manifest, one base, one incremental file: {:?}", files);
    kill9(&mut server);
    let server = cinnabar_aof(&dir, &[]);
    let mut c = Conn::new(server.port);
    assert_eq!(digest(&mut c), want);
}

#[test]
fn appendonly_can_be_turned_on_and_off_at_runtime() {
    let dir = fresh_dir("toggle");
    let mut server = common::cinnabar_with(&["--dir", dir.to_str().unwrap(), "--enable-debug-command", "yes"]);
    let mut c = Conn::new(server.port);
    c.cmd(&["RPUSH", "before", "a", "b"]);
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), R::Ok("OK".into()));
    c.cmd(&["SET", "after", "1"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while let R::Bulk(Some(info)) = c.cmd(&["INFO", "persistence"]) {
        if info.contains("aof_rewrites:1") {
            break;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    let want = digest(&mut c);
    kill9(&mut server);
    let server = cinnabar_aof(&dir, &[]);
    let mut c = Conn::new(server.port);
    assert_eq!(digest(&mut c), want);
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "no"]), R::Ok("OK".into()));
    c.cmd(&["SET", "unrecorded", "1"]);
    drop(server);
    let server = cinnabar_aof(&dir, &[]);
    let mut c = Conn::new(server.port);
    assert_eq!(c.cmd(&["EXISTS", "unrecorded"]), R::Int(0));
    assert_eq!(digest(&mut c), want);
}

/// A workload of every type that both servers run the same way.
fn workload(c: &mut Conn) {
    for cmd in [
        &["SET", "s", "hello"][..],
        &["INCRBYFLOAT", "f", "1.25"],
        &["SET", "ttl", "v", "EX", "10000"],
        &["RPUSH", "l", "a", "b", "c"],
        &["BLPOP", "l", "0"],
        &["SADD", "set", "x", "y", "1"],
        &["ZADD", "z", "1.5", "a", "2", "b"],
        &["HSET", "h", "f", "v"],
        &["HINCRBYFLOAT", "h", "n", "0.5"],
        &["XADD", "st", "1-1", "a", "1"],
        &["XADD", "st", "2-1", "b", "2"],
        &["XGROUP", "CREATE", "st", "g", "0"],
        &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "st", ">"],
        &["MULTI"],
        &["INCR", "n"],
        &["INCR", "n"],
        &["EXEC"],
        &["EVAL", "redis.call('set', KEYS[1], 'lua'); return redis.call('incr', 'n')", "1", "fromlua"],
        &["SELECT", "3"],
        &["SET", "other", "db"],
    ] {
        let r = c.cmd(cmd);
        assert!(!matches!(r, R::Err(_)), "{:?}: {:?}", cmd, r);
    }
}

#[test]
fn aof_directories_move_between_cinnabar_and_redis_server() {
    // redis-server → cinnabar
    let dir = fresh_dir("from-redis");
    let d = dir.to_str().unwrap();
    let mut red = common::spawn_with(&common::redis_server_binary(), &["--dir", d, "--appendonly", "yes", "--enable-debug-command", "yes"]);
    let mut c = Conn::new(red.port);
    workload(&mut c);
    c.cmd(&["SELECT", "0"]);
    let want = digest(&mut c);
    c.send(&["SHUTDOWN"]).unwrap();
    wait_exit(&mut red);
    let server = cinnabar_aof(&dir, &[]);
    let mut c = Conn::new(server.port);
    assert_eq!(digest(&mut c), want);
    drop(server);

    // cinnabar → redis-server, with a base written as commands and one as RDB.
    for preamble in ["no", "yes"] {
        let dir = fresh_dir(&format!("to-redis-{}", preamble));
        let d = dir.to_str().unwrap();
        let mut server = cinnabar_aof(&dir, &["--aof-use-rdb-preamble", preamble]);
        let mut c = Conn::new(server.port);
        c.cmd(&["SET", "in-base", "1"]);
        assert_eq!(c.cmd(&["BGREWRITEAOF"]), R::Ok("Background append only file rewriting started".into()));
        std::thread::sleep(Duration::from_millis(300));
        workload(&mut c);
        let want = digest(&mut c);
        c.send(&["SHUTDOWN"]).unwrap();
        wait_exit(&mut server);
        let red = common::spawn_with(&common::redis_server_binary(), &["--dir", d, "--appendonly", "yes", "--enable-debug-command", "yes"]);
        let mut c = Conn::new(red.port);
        assert_eq!(digest(&mut c), want, "preamble {}", preamble);
        let check = Command::new(common::redis_tool("redis-check-aof")).arg(dir.join("appendonlydir/appendonly.aof.manifest")).output().unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    }
}

#[test]
fn debug_loadaof_replays_the_files_into_the_same_dataset() {
    let dir = fresh_dir("loadaof");
    let server = cinnabar_aof(&dir, &[]);
    let mut c = Conn::new(server.port);
    workload(&mut c);
    c.cmd(&["SELECT", "0"]);
    c.cmd(&["SADD", "many", "1", "2", "3", "4", "5", "6"]);
    c.cmd(&["SPOP", "many", "3"]);
    c.cmd(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "st", ">"]);
    c.cmd(&["XCLAIM", "st", "g", "carol", "0", "1-1"]);
    let want = digest(&mut c);
    // Pending entries: id, owner and delivery count (the idle time moves on meanwhile).
    let pending = |c: &mut Conn| match c.cmd(&["XPENDING", "st", "g", "-", "+", "10"]) {
        R::Array(v) => v.into_iter().map(|e| if let R::Array(f) = e { vec![f[0].clone(), f[1].clone(), f[3].clone()] } else { panic!() }).collect::<Vec<_>>(),
        other => panic!("{:?}", other),
    };
    let before = pending(&mut c);
    assert_eq!(before.len(), 2);
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), R::Ok("OK".into()));
    assert_eq!(digest(&mut c), want);
    assert_eq!(pending(&mut c), before);
    // Inside MULTI it cannot wait for the host.
    c.cmd(&["MULTI"]);
    c.cmd(&["DEBUG", "LOADAOF"]);
    assert!(matches!(c.cmd(&["EXEC"]), R::Array(v) if matches!(&v[0], R::Err(_))));
}

/// CONFIG SET appendonly no kills a rewrite in progress (killAppendOnlyChild), and a
/// BGREWRITEAOF with the AOF off leaves a base that holds everything: the incremental files
/// from when it was on are history, so DEBUG LOADAOF gives back the same dataset.
#[test]
fn turning_the_aof_off_kills_its_rewrite_and_a_rewrite_while_off_stands_alone() {
    let dir = fresh_dir("offrewrite");
    let server = cinnabar_aof(&dir, &["--aof-use-rdb-preamble", "no"]);
    let mut c = Conn::new(server.port);
    let rewriting = |c: &mut Conn| matches!(c.cmd(&["INFO", "persistence"]), R::Bulk(Some(s)) if s.contains("aof_rewrite_in_progress:1"));
    common::wait_for("the first rewrite", || !rewriting(&mut c));
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]);
    assert_eq!(c.cmd(&["BGREWRITEAOF"]), R::Ok("Background append only file rewriting started".into()));
    assert!(rewriting(&mut c));
    c.cmd(&["CONFIG", "SET", "appendonly", "no"]);
    assert!(!rewriting(&mut c), "the rewrite child is killed with the AOF");
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    c.cmd(&["FLUSHALL"]);
    c.cmd(&["RPUSH", "l", "a", "b"]);
    let want = digest(&mut c);
    assert_eq!(c.cmd(&["BGREWRITEAOF"]), R::Ok("Background append only file rewriting started".into()));
    common::wait_for("the rewrite while off", || !rewriting(&mut c));
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), R::Ok("OK".into()));
    assert_eq!(digest(&mut c), want);
    assert_eq!(c.cmd(&["EXISTS", "k"]), R::Int(0));
    let _ = std::fs::remove_dir_all(&dir);
}
