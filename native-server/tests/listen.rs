//! CONFIG SET port / bind at runtime (Redis's changeListener): the server stops listening
//! on the old address, listens on the new one, keeps its open connections, and when the new
//! address cannot be bound says so and goes on listening where it was. The same steps run
//! on redis-server 7.0.15 and must give the same replies.

mod common;

use std::net::{TcpListener, TcpStream};

use common::{connect, free_port, redis_server_binary, roundtrip, spawn, Server};

fn bulk(s: &str) -> String {
    format!("${}\r\n{}\r\n", s.len(), s)
}

fn config_get_port(port: u16) -> String {
    format!("*2\r\n{}{}", bulk("port"), bulk(&port.to_string()))
}

fn answers_on(port: u16) -> bool {
    match TcpStream::connect(("127.0.0.1", port)) {
        Ok(_) => {
            let mut c = connect(port);
            roundtrip(&mut c, b"PING\r\n", "+PONG\r\n");
            true
        }
        Err(_) => false,
    }
}

fn scenario(server: Server) {
    let first = server.port;
    let mut c = connect(first);

    // Moved: the new port answers, the old one is closed, this connection stays.
    let second = free_port();
    roundtrip(&mut c, format!("CONFIG SET port {}\r\n", second).as_bytes(), "+OK\r\n");
    assert!(answers_on(second));
    assert!(!answers_on(first), "the old port still accepts connections");
    roundtrip(&mut c, b"CONFIG GET port\r\n", &config_get_port(second));
    roundtrip(&mut c, b"SET k v\r\n", "+OK\r\n");

    // A port someone else holds: refused, the server stays where it was, and every
    // parameter of that CONFIG SET is rolled back.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().port();
    roundtrip(
        &mut c,
        format!("CONFIG SET maxmemory 10000001 port {} hz 11\r\n", busy).as_bytes(),
        "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.\r\n",
    );
    roundtrip(&mut c, b"CONFIG GET port\r\n", &config_get_port(second));
    roundtrip(&mut c, b"CONFIG GET maxmemory\r\n", &format!("*2\r\n{}{}", bulk("maxmemory"), bulk("0")));
    roundtrip(&mut c, b"CONFIG GET hz\r\n", &format!("*2\r\n{}{}", bulk("hz"), bulk("10")));
    assert!(answers_on(second));

    // An address this machine does not have (TEST-NET-1): refused the same way.
    roundtrip(
        &mut c,
        b"CONFIG SET bind 192.0.2.1\r\n",
        "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.\r\n",
    );
    roundtrip(&mut c, b"CONFIG GET bind\r\n", &format!("*2\r\n{}{}", bulk("bind"), bulk("127.0.0.1")));
    assert!(answers_on(second));

    // Both at once, inside MULTI (which cannot wait: answered when the move is made).
    let third = free_port();
    roundtrip(&mut c, b"MULTI\r\n", "+OK\r\n");
    roundtrip(&mut c, format!("CONFIG SET bind 127.0.0.1 port {}\r\n", third).as_bytes(), "+QUEUED\r\n");
    roundtrip(&mut c, b"EXEC\r\n", "*1\r\n+OK\r\n");
    for _ in 0..100 {
        if answers_on(third) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(answers_on(third));
    let mut d = connect(third);
    roundtrip(&mut d, b"GET k\r\n", "$1\r\nv\r\n");
    drop(taken);
}

#[test]
fn config_set_port_and_bind_move_the_listener() {
    scenario(common::cinnabar());
}

#[test]
fn redis_server_moves_its_listener_the_same_way() {
    scenario(spawn(&redis_server_binary()));
}

/// `bind "0.0.0.0 ::"` and `bind "* -::*"` listen on both IPv4 and IPv6 on one port (the
/// IPv6 socket is IPV6_V6ONLY, as anetV6Only makes it), on both servers; the listening
/// sockets' queue is `tcp-backlog` (ss shows it as Send-Q).
#[test]
fn both_address_families_on_one_port_with_the_configured_backlog() {
    for binary in [env!("CARGO_BIN_EXE_cinnabar-server").to_string(), redis_server_binary()] {
        for bind in ["0.0.0.0 ::", "* -::*"] {
            let srv = common::spawn_with(&binary, &["--bind", bind, "--tcp-backlog", "200"]);
            for host in ["127.0.0.1", "::1"] {
                let mut c = TcpStream::connect((host, srv.port)).unwrap_or_else(|e| panic!("{} with bind {:?}: {} refused: {}", binary, bind, host, e));
                c.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
                roundtrip(&mut c, b"PING\r\n", "+PONG\r\n");
            }
            let ss = std::process::Command::new("ss")
                .args(["-ltnH", &format!("sport = :{}", srv.port)])
                .output()
                .expect("ss (iproute2, installed by scripts/ci/setup.sh)");
            let text = String::from_utf8_lossy(&ss.stdout);
            let backlogs: Vec<&str> = text.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
            assert_eq!(backlogs, ["200", "200"], "{} with bind {:?}: {}", binary, bind, text);
        }
    }
}
