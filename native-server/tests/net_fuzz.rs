//! A network-level fuzzer: mutated command streams replayed against a running server over
//! many connections at once. The streams start from the differential scripts' commands
//! (`differential/*.redis`), sent inline or as multibulks, then mutated as an attacker or a
//! broken client would: bits flipped, bytes inserted and dropped, frames cut and spliced,
//! lengths swapped for huge ones, writes split at random points, connections dropped
//! mid-frame. Whatever arrives, the server must keep answering: a separate connection's
//! PING is checked between rounds, and the process must never exit.
//!
//! Runs for CINNABAR_NET_FUZZ_SECS seconds (15 by default, as in CI); the seed is printed,
//! and CINNABAR_NET_FUZZ_SEED replays a run.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Commands that would stop the fuzzing rather than test the server: it shutting down on
/// request, pausing every client, locking the checker out, dialling other hosts.
fn disruptive(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    [
        "shutdown",
        "client pause",
        "client kill",
        "config set",
        "acl ",
        "debug",
        "replicaof",
        "slaveof",
        "migrate",
        "failover",
        "monitor",
        "save",
        "bgsave",
        "bgrewriteaof",
        "sync",
        "psync",
    ]
    .iter()
    .any(|d| l.starts_with(d))
}

fn corpus() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/differential");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "redis") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let line = line.trim().trim_start_matches(['~', '%']).trim_start_matches("3>").trim();
                if !line.is_empty() && !line.starts_with('#') && !disruptive(line) {
                    out.push(line.to_string());
                }
            }
        }
    }
    assert!(out.len() > 500, "the corpus is missing: {} commands", out.len());
    out
}

/// One command as bytes: inline as written, or as a multibulk of its words.
fn frame(line: &str, rng: &mut Rng) -> Vec<u8> {
    if rng.below(2) == 0 {
        return format!("{}\r\n", line).into_bytes();
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for w in words {
        out.extend_from_slice(format!("${}\r\n{}\r\n", w.len(), w).as_bytes());
    }
    out
}

fn mutate(stream: &mut Vec<u8>, rng: &mut Rng) {
    for _ in 0..1 + rng.below(6) {
        if stream.is_empty() {
            return;
        }
        let at = rng.below(stream.len());
        match rng.below(9) {
            0 => stream[at] ^= 1 << rng.below(8),
            1 => stream.insert(at, rng.next() as u8),
            2 => {
                stream.remove(at);
            }
            3 => stream.truncate(at),
            4 => {
                let end = (at + rng.below(64)).min(stream.len());
                let piece = stream[at..end].to_vec();
                let to = rng.below(stream.len());
                stream.splice(to..to, piece);
            }
            5 => {
                let huge = ["*2147483647\r\n", "$536870911\r\n", "*-5\r\n", "$-1\r\n", "*1048577\r\n", "$99999999999999999999\r\n", "*3\r\n$3\r\nSET\r\n"];
                stream.splice(at..at, huge[rng.below(huge.len())].bytes());
            }
            6 => {
                stream.splice(at..at, std::iter::repeat_n(b'"', 1 + rng.below(3)));
            }
            7 => {
                let junk: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
                stream.splice(at..at, junk);
            }
            _ => {
                stream.splice(at..at, std::iter::repeat_n(b'a', 70_000));
            }
        };
    }
}

/// Sends `stream` in randomly split writes and reads whatever comes back, without waiting
/// long for anything; sometimes hangs up mid-way.
fn play(port: u16, stream: &[u8], rng: &mut Rng) {
    let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else { return };
    let _ = c.set_nonblocking(true);
    let hang_up = if rng.below(4) == 0 { rng.below(stream.len().max(1)) } else { usize::MAX };
    let mut sent = 0;
    let mut buf = vec![0u8; 1 << 16];
    while sent < stream.len() && sent < hang_up {
        let n = (1 + rng.below(4096)).min(stream.len() - sent);
        match c.write(&stream[sent..sent + n]) {
            Ok(w) => sent += w,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(1)),
            Err(_) => return,
        }
        if matches!(c.read(&mut buf), Ok(0)) {
            return;
        }
    }
    // A moment for the last replies, read or not.
    std::thread::sleep(Duration::from_millis(2));
    let _ = c.read(&mut buf);
}

/// The server answers a fresh connection: PONG, or BUSY while a script some stream started
/// runs (then SCRIPT KILL, or it ends by itself).
fn alive(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut c = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {}", e))?;
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(b"PING\r\n").map_err(|e| e.to_string())?;
        let mut b = [0u8; 256];
        let n = c.read(&mut b).map_err(|e| format!("no answer to PING: {}", e))?;
        let reply = String::from_utf8_lossy(&b[..n]).into_owned();
        if reply == "+PONG\r\n" {
            return Ok(());
        }
        if !reply.starts_with("-BUSY") || Instant::now() > deadline {
            return Err(format!("PING answered {:?}", reply));
        }
        let _ = c.write_all(b"SCRIPT KILL\r\nFUNCTION KILL\r\n");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn mutated_command_streams_never_stop_the_server() {
    let secs: u64 = std::env::var("CINNABAR_NET_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    let seed: u64 = std::env::var("CINNABAR_NET_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    println!("net fuzz: seed {} ({}s); replay with CINNABAR_NET_FUZZ_SEED={}", seed, secs, seed);
    let mut srv = common::cinnabar_with(&["--busy-reply-threshold", "100"]);
    let port = srv.port;
    let corpus = corpus();
    let start = Instant::now();
    let mut round = 0u64;
    let mut streams = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        round += 1;
        let workers: Vec<_> = (0..8)
            .map(|w| {
                let mut rng = Rng(seed ^ round.wrapping_mul(0x9e3779b97f4a7c15) ^ (w as u64) << 32 | 1);
                let picks: Vec<String> = (0..1 + rng.below(60)).map(|_| corpus[rng.below(corpus.len())].clone()).collect();
                std::thread::spawn(move || {
                    let mut stream: Vec<u8> = picks.iter().flat_map(|l| frame(l, &mut rng)).collect();
                    mutate(&mut stream, &mut rng);
                    play(port, &stream, &mut rng);
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        streams += 8;
        if let Err(e) = alive(port) {
            panic!("round {} (seed {}): {}", round, seed, e);
        }
        assert!(srv.child.try_wait().unwrap().is_none(), "round {} (seed {}): the server exited", round, seed);
    }
    println!("net fuzz: {} rounds, {} mutated streams, server alive", round, streams);
}
