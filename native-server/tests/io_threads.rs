//! `io-threads 4` with `io-threads-do-reads yes`: many connections at once, so the loop
//! shares reads and writes with its I/O threads, and every reply still reaches its client
//! whole and in order, blocked clients are served and pub/sub messages delivered. (CI also
//! runs every server test file once more under these flags, through CINNABAR_TEST_ARGS.)

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

fn conn(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = common::connect(port);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    (s.try_clone().unwrap(), BufReader::new(s))
}

fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    r.read_line(&mut l).unwrap();
    l
}

#[test]
fn fifty_pipelining_clients_get_every_reply_in_order() {
    let srv = common::cinnabar_with(&["--io-threads", "4", "--io-threads-do-reads", "yes"]);
    let port = srv.port;
    let clients: Vec<_> = (0..50)
        .map(|i| {
            std::thread::spawn(move || {
                let (mut w, mut r) = conn(port);
                for round in 0..20 {
                    let mut batch = String::new();
                    for j in 0..50 {
                        let v = format!("{}-{}-{}", i, round, j);
                        batch.push_str(&format!("*3\r\n$3\r\nSET\r\n${}\r\nk:{}\r\n${}\r\n{}\r\n", format!("k:{}", i).len(), i, v.len(), v));
                        batch.push_str(&format!("*2\r\n$4\r\nINCR\r\n${}\r\nc:{}\r\n", format!("c:{}", i).len(), i));
                        batch.push_str(&format!("*2\r\n$3\r\nGET\r\n${}\r\nk:{}\r\n", format!("k:{}", i).len(), i));
                    }
                    w.write_all(batch.as_bytes()).unwrap();
                    for j in 0..50 {
                        assert_eq!(line(&mut r), "+OK\r\n");
                        assert_eq!(line(&mut r), format!(":{}\r\n", round * 50 + j + 1));
                        let v = format!("{}-{}-{}", i, round, j);
                        assert_eq!(line(&mut r), format!("${}\r\n", v.len()));
                        assert_eq!(line(&mut r), format!("{}\r\n", v));
                    }
                }
            })
        })
        .collect();
    // Meanwhile: waits served by other connections, and messages delivered.
    let (mut sub_w, mut sub_r) = conn(port);
    sub_w.write_all(b"SUBSCRIBE news\r\n").unwrap();
    for _ in 0..6 {
        line(&mut sub_r);
    }
    let waiters: Vec<_> = (0..10)
        .map(|i| {
            std::thread::spawn(move || {
                let (mut w, mut r) = conn(port);
                w.write_all(format!("BLPOP q:{} 20\r\n", i).as_bytes()).unwrap();
                assert_eq!(line(&mut r), "*2\r\n");
                line(&mut r);
                line(&mut r);
                line(&mut r);
                assert_eq!(line(&mut r), format!("v{}\r\n", i));
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let (mut p_w, mut p_r) = conn(port);
    for i in 0..10 {
        p_w.write_all(format!("RPUSH q:{} v{}\r\nPUBLISH news m{}\r\n", i, i, i).as_bytes()).unwrap();
        assert_eq!(line(&mut p_r), ":1\r\n");
        assert_eq!(line(&mut p_r), ":1\r\n");
    }
    for i in 0..10 {
        assert_eq!(line(&mut sub_r), "*3\r\n");
        line(&mut sub_r);
        line(&mut sub_r);
        line(&mut sub_r);
        line(&mut sub_r);
        line(&mut sub_r);
        assert_eq!(line(&mut sub_r), format!("m{}\r\n", i));
    }
    for t in clients.into_iter().chain(waiters) {
        t.join().unwrap();
    }
    // The threads did take part.
    p_w.write_all(b"INFO stats\r\n").unwrap();
    let n: usize = line(&mut p_r)[1..].trim().parse().unwrap();
    let mut info = vec![0u8; n + 2];
    std::io::Read::read_exact(&mut p_r, &mut info).unwrap();
    let info = String::from_utf8_lossy(&info);
    let stat = |name: &str| -> u64 { info.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok()).unwrap() };
    assert!(stat("io_threaded_reads_processed") > 0, "{}", info);
    assert!(stat("io_threaded_writes_processed") > 0, "{}", info);
    assert!(stat("total_reads_processed") >= stat("io_threaded_reads_processed"));
    assert!(stat("total_net_input_bytes") > 50 * 20 * 50 * 40, "{}", info);
}
