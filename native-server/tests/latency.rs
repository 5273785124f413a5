//! The latency monitor over a socket, on cinnabar-server and redis-server alike: a DEBUG
//! SLEEP past `latency-monitor-threshold` is a `command` spike seen by LATENCY LATEST,
//! HISTORY and GRAPH, and LATENCY HISTOGRAM counts it in the right bucket.

mod common;

use std::io::Read;

use common::{connect, redis_server_binary, roundtrip, send, spawn_with};

fn reply(s: &mut std::net::TcpStream) -> String {
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mut b = vec![0u8; 65536];
    let n = s.read(&mut b).unwrap();
    String::from_utf8_lossy(&b[..n]).into_owned()
}

#[test]
fn a_debug_sleep_is_a_command_latency_spike() {
    for binary in [env!("CARGO_BIN_EXE_cinnabar-server").to_string(), redis_server_binary()] {
        let srv = spawn_with(&binary, &["--enable-debug-command", "yes"]);
        let mut c = connect(srv.port);
        roundtrip(&mut c, b"CONFIG SET latency-monitor-threshold 100\r\n", "+OK\r\n");
        roundtrip(&mut c, b"DEBUG SLEEP 0.05\r\n", "+OK\r\n");
        roundtrip(&mut c, b"LATENCY LATEST\r\n", "*0\r\n");
        roundtrip(&mut c, b"DEBUG SLEEP 0.3\r\n", "+OK\r\n");
        send(&mut c, "LATENCY LATEST\r\n");
        let latest = reply(&mut c);
        // [["command", <unix time>, <ms>, <ms>]]
        let f: Vec<&str> = latest.split("\r\n").collect();
        assert_eq!(&f[..4], &["*1", "*4", "$7", "command"], "{} ({})", latest, binary);
        let ms: i64 = f[5][1..].parse().unwrap();
        assert!((300..1000).contains(&ms) && f[6] == f[5], "{} ({})", latest, binary);
        send(&mut c, "LATENCY HISTORY command\r\n");
        assert!(reply(&mut c).starts_with("*1\r\n*2\r\n:"));
        send(&mut c, "LATENCY GRAPH command\r\n");
        let graph = reply(&mut c);
        assert!(graph.contains(&format!("command - high {} ms, low {} ms (all time high {} ms)\n", ms, ms, ms)), "{} ({})", graph, binary);
        send(&mut c, "LATENCY HISTOGRAM debug\r\n");
        let h = reply(&mut c);
        // Two calls: 50 ms in the 67633 µs bucket, 300 ms in the 541065 µs one.
        assert!(
            h.starts_with("*2\r\n$5\r\ndebug\r\n*4\r\n$5\r\ncalls\r\n:2\r\n$14\r\nhistogram_usec\r\n*4\r\n:67633\r\n:1\r\n:541065\r\n:2\r\n"),
            "{:?} ({})",
            h,
            binary
        );
        roundtrip(&mut c, b"LATENCY RESET\r\n", ":1\r\n");
    }
}
