//! Memory a client made the server take comes back to the system once the client is gone:
//! a transaction of a quarter of a gigabyte queued and dropped leaves the resident set
//! near where it started (glibc keeps freed heap memory until malloc_trim; the server
//! trims when it holds far more than it uses).

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::{connect, roundtrip};

fn info_field(port: u16, name: &str) -> u64 {
    let mut c = connect(port);
    c.write_all(b"INFO memory\r\n").unwrap();
    let mut text = String::new();
    let mut b = [0u8; 8192];
    while !text.contains("mem_allocator") {
        let n = c.read(&mut b).unwrap();
        text.push_str(&String::from_utf8_lossy(&b[..n]));
    }
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok()).unwrap()
}

#[test]
fn a_huge_transaction_dropped_gives_its_memory_back() {
    let srv = common::cinnabar();
    std::thread::sleep(Duration::from_millis(300));
    let before = info_field(srv.port, "used_memory_rss");
    {
        let mut c = connect(srv.port);
        c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        roundtrip(&mut c, b"MULTI\r\n", "+OK\r\n");
        let value = "v".repeat(200);
        let mut batch = Vec::new();
        for i in 0..1_000_000 {
            batch.extend_from_slice(format!("*3\r\n$3\r\nSET\r\n$8\r\n{:08}\r\n${}\r\n{}\r\n", i, value.len(), value).as_bytes());
            if batch.len() > 1 << 20 {
                c.write_all(&batch).unwrap();
                batch.clear();
            }
        }
        c.write_all(&batch).unwrap();
        let mut queued = 0;
        let mut b = vec![0u8; 1 << 16];
        while queued < 1_000_000 * 9 {
            queued += c.read(&mut b).unwrap();
        }
        let peak = info_field(srv.port, "used_memory_rss");
        assert!(peak > before + (200 << 20), "the queue did not take memory: {} -> {}", before, peak);
        roundtrip(&mut c, b"DISCARD\r\n", "+OK\r\n");
    }
    // Within a few ticks the resident set is back near where it started.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rss = info_field(srv.port, "used_memory_rss");
        if rss < before + (48 << 20) {
            break;
        }
        assert!(Instant::now() < deadline, "RSS stays at {} MB after the client left (started at {} MB)", rss >> 20, before >> 20);
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The process's peak resident set so far (VmHWM), bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid)).unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).unwrap() * 1024
}

/// A reply of millions of elements costs about its RESP bytes, as in Redis, not a tree of
/// values several times that: SRANDMEMBER of 5 million picks (85 MB of RESP) peaks well
/// under the half gigabyte the tree took.
#[test]
fn a_reply_of_millions_of_elements_is_streamed() {
    let srv = common::cinnabar();
    let mut c = connect(srv.port);
    roundtrip(&mut c, b"SADD s member-one member-two\r\n", ":2\r\n");
    std::thread::sleep(Duration::from_millis(200));
    let before = peak_rss(srv.child.id());
    c.write_all(b"SRANDMEMBER s -5000000\r\n").unwrap();
    let want = "*5000000\r\n".len() + 5_000_000 * "$10\r\nmember-one\r\n".len();
    let mut got = 0;
    let mut b = vec![0u8; 1 << 20];
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    while got < want {
        let n = c.read(&mut b).unwrap();
        assert!(n > 0, "closed after {} of {} bytes", got, want);
        got += n;
    }
    let grown = peak_rss(srv.child.id()) - before;
    assert!(grown < 250 << 20, "the reply took {} MB at its peak", grown >> 20);
    roundtrip(&mut c, b"PING\r\n", "+PONG\r\n");
}
