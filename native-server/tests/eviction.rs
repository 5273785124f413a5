//! maxmemory and the eviction policies over a real socket, driven by redis-py
//! (tests/python/eviction_py.py): LRU keeps recent and hot keys, volatile policies spare
//! keys without a TTL, noeviction refuses writes with Redis's error while reads and
//! deletes work, lowering the limit brings memory down, evictions fire keyspace events.

mod common;

#[test]
fn eviction_scenarios_with_redis_py() {
    let srv = common::cinnabar();
    common::run_python("eviction_py.py", srv.port);
}

/// maxmemory-clients over real sockets: a client whose query buffer grows past the limit is
/// disconnected; one that declared CLIENT NO-EVICT keeps its connection.
#[test]
fn clients_over_maxmemory_clients_are_disconnected_unless_no_evict() {
    use std::io::{Read, Write};
    let srv = common::cinnabar();
    let mut admin = common::connect(srv.port);
    common::roundtrip(&mut admin, b"CONFIG SET maxmemory-clients 1mb\r\n", "+OK\r\n");
    let mut keep = common::connect(srv.port);
    common::roundtrip(&mut keep, b"CLIENT NO-EVICT on\r\n", "+OK\r\n");
    // Half of a 3 MB SET each: the query buffers hold it while the rest does not come.
    let big = |c: &mut std::net::TcpStream| -> std::io::Result<()> {
        c.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n")?;
        c.write_all(&vec![b'x'; 1_500_000])
    };
    big(&mut keep).unwrap();
    let mut hog = common::connect(srv.port);
    // The server may close the hog while it is still writing (a broken pipe): closed too.
    let written = big(&mut hog);
    hog.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let mut b = [0u8; 16];
    let r = written.and_then(|()| hog.read(&mut b));
    let closed = match &r {
        Ok(0) => true,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        Ok(_) => false,
    };
    assert!(closed, "the client over the limit is closed: {:?}", r);
    let info = bulk(&mut admin, b"INFO stats\r\n");
    assert!(info.contains("evicted_clients:1\r\n"), "{}", info);
    // The no-evict client finishes its command.
    keep.write_all(&vec![b'x'; 1_500_000]).unwrap();
    keep.write_all(b"\r\n").unwrap();
    common::expect(&mut keep, "+OK\r\n");
}

/// Sends a command and reads its bulk-string reply.
fn bulk(s: &mut std::net::TcpStream, cmd: &[u8]) -> String {
    use std::io::{Read, Write};
    s.write_all(cmd).unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    let len: usize = String::from_utf8_lossy(&head[1..head.len() - 2]).parse().unwrap();
    common::read_exact_str(s, len + 2)
}
