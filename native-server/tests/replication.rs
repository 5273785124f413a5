//! Replication with cinnabar-server as the primary and Debian's redis-server 7.0.15 as its
//! replica, over real sockets: the full copy, the stream (databases, expiries, transactions,
//! scripts, PUBLISH), a partial resync after the link drops, `redis-cli --rdb`, and what
//! the suite's `attach_to_replication_stream` reads after a bare SYNC.

mod common;

use std::io::{Read, Write};
use std::process::Command;

use common::{cli, wait_for};

fn info_field(port: u16, field: &str) -> String {
    let text = cli(port, &["info", "all"]);
    text.lines().find_map(|l| l.strip_prefix(&format!("{}:", field))).map(|v| v.trim().to_string()).unwrap_or_default()
}

fn digest(port: u16) -> String {
    cli(port, &["debug", "digest"])
}

#[test]
fn redis_server_replicates_from_cinnabar_and_resumes_with_psync() {
    let primary = common::cinnabar_with(&["--enable-debug-command", "yes"]);
    let p = primary.port;
    cli(p, &["set", "before", "1"]);
    cli(p, &["rpush", "list", "a", "b", "c"]);
    cli(p, &["-n", "3", "hset", "h", "f", "v"]);
    cli(p, &["zadd", "z", "1", "one", "2", "two"]);
    cli(p, &["xadd", "s", "1-1", "f", "v"]);
    let replica = common::spawn_with(&common::redis_server_binary(), &["--replicaof", "127.0.0.1", &p.to_string(), "--enable-debug-command", "yes"]);
    let r = replica.port;
    wait_for("the replica's link", || info_field(r, "master_link_status") == "up");
    assert_eq!(digest(r), digest(p), "the full copy");

    // The stream: writes in several databases, relative expiries, a transaction, a script
    // that writes, PUBLISH to the replica's subscribers.
    let mut sub = common::connect(r);
    sub.write_all(b"SUBSCRIBE news\r\n").unwrap();
    common::read_exact_str(&mut sub, "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n".len());
    cli(p, &["set", "k", "v", "ex", "1000"]);
    cli(p, &["-n", "5", "incr", "counter"]);
    cli(p, &["expire", "list", "500"]);
    cli(p, &["eval", "redis.call('set', KEYS[1], 'x') redis.call('lpush', KEYS[2], 'y') return 1", "2", "s1", "s2"]);
    cli(p, &["spop", "z"]);
    cli(p, &["publish", "news", "hello"]);
    common::expect(&mut sub, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
    let offset = || info_field(p, "master_repl_offset");
    wait_for("the replica to catch up", || info_field(r, "master_repl_offset") == offset());
    assert_eq!(digest(r), digest(p), "after the stream");
    // WAIT: the replica answers GETACK with its offset.
    cli(p, &["set", "waited", "1"]);
    assert_eq!(cli(p, &["wait", "1", "5000"]), "1\n");
    assert_eq!(cli(p, &["wait", "2", "200"]), "1\n");
    assert!(cli(r, &["ttl", "list"]).trim().parse::<i64>().unwrap() > 400);
    let role = cli(p, &["role"]);
    assert!(role.starts_with("master\n"), "{}", role);
    assert!(role.contains(&format!("\n{}\n", r)), "ROLE lists the replica's port: {}", role);

    // The link drops; the replica asks to continue and gets only what it missed.
    assert_eq!(cli(p, &["client", "kill", "type", "replica"]).trim(), "1");
    cli(p, &["set", "after", "2"]);
    wait_for("the link back", || info_field(r, "master_link_status") == "up" && cli(r, &["get", "after"]) == "2\n");
    assert_eq!(info_field(p, "sync_partial_ok"), "1");
    assert_eq!(info_field(p, "sync_full"), "1");
    assert_eq!(digest(r), digest(p), "after the partial resync");
}

#[test]
fn redis_cli_rdb_saves_a_file_redis_server_loads() {
    let primary = common::cinnabar_with(&["--enable-debug-command", "yes"]);
    cli(primary.port, &["debug", "populate", "1000"]);
    cli(primary.port, &["-n", "2", "sadd", "s", "a", "b"]);
    let dir = std::env::temp_dir().join(format!("cinnabar-rdb-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dump.rdb");
    let out = Command::new(common::redis_tool("redis-cli")).args(["-p", &primary.port.to_string(), "--rdb"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let check = Command::new(common::redis_tool("redis-check-rdb")).arg(&file).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let loaded =
        common::spawn_with(&common::redis_server_binary(), &["--dir", dir.to_str().unwrap(), "--dbfilename", "dump.rdb", "--enable-debug-command", "yes"]);
    assert_eq!(digest(loaded.port), digest(primary.port));
    // The link closed after the payload: no replica stays attached.
    assert_eq!(info_field(primary.port, "connected_slaves"), "0");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What Redis's test suite reads after a bare SYNC (attach_to_replication_stream): `$<len>`,
/// the payload, then the commands as RESP.
#[test]
fn a_bare_sync_gets_the_payload_then_the_stream() {
    let primary = common::cinnabar();
    let p = primary.port;
    let mut s = common::connect(p);
    s.write_all(b"SYNC\r\n").unwrap();
    let mut header = Vec::new();
    let mut b = [0u8; 1];
    while !header.ends_with(b"\r\n") {
        s.read_exact(&mut b).unwrap();
        header.push(b[0]);
    }
    let len: usize = std::str::from_utf8(&header[1..header.len() - 2]).unwrap().parse().unwrap();
    let mut rdb = vec![0u8; len];
    s.read_exact(&mut rdb).unwrap();
    assert!(rdb.starts_with(b"REDIS0010"));
    cli(p, &["-n", "9", "set", "foo", "bar"]);
    let want = "*2\r\n$6\r\nSELECT\r\n$1\r\n9\r\n*3\r\n$3\r\nset\r\n$3\r\nfoo\r\n$3\r\nbar\r\n";
    assert_eq!(common::read_exact_str(&mut s, want.len()), want);
    assert!(cli(p, &["client", "list"]).contains("flags=S"));
}

fn link_up(port: u16) -> bool {
    info_field(port, "master_link_status") == "up"
}

/// cinnabar-server as the replica of Debian's redis-server: the payload both as a file
/// (`$<len>`) and diskless (`$EOF:`), the stream, READONLY, a partial resync after the link
/// drops, and REPLICAOF NO ONE.
#[test]
fn cinnabar_replicates_from_redis_server_and_resumes_with_psync() {
    for diskless in ["no", "yes"] {
        let primary = common::spawn_with(
            &common::redis_server_binary(),
            &["--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"],
        );
        let p = primary.port;
        cli(p, &["set", "before", "1"]);
        cli(p, &["-n", "2", "rpush", "list", "a", "b"]);
        cli(p, &["set", "ttl", "x", "px", "600000"]);
        let replica = common::cinnabar_with(&["--replicaof", "127.0.0.1", &p.to_string(), "--enable-debug-command", "yes"]);
        let r = replica.port;
        wait_for("the link", || link_up(r));
        assert_eq!(digest(r), digest(p), "the full copy (diskless {})", diskless);
        cli(p, &["incr", "n"]);
        cli(p, &["-n", "5", "hset", "h", "f", "v"]);
        cli(p, &["eval", "redis.call('set','s','1') redis.call('del','before') return 1", "0"]);
        wait_for("the stream", || info_field(r, "slave_repl_offset") == info_field(p, "master_repl_offset"));
        assert_eq!(digest(r), digest(p), "after the stream");
        assert!(cli(r, &["set", "x", "1"]).starts_with("READONLY You can't write against a read only replica."));
        assert_eq!(cli(p, &["wait", "1", "5000"]), "1\n");
        // The link drops; we ask to continue and the primary agrees.
        cli(r, &["client", "kill", "type", "master"]);
        cli(p, &["set", "after", "2"]);
        wait_for("the link back", || link_up(r) && cli(r, &["get", "after"]) == "2\n");
        assert_eq!(info_field(p, "sync_partial_ok"), "1");
        assert_eq!(digest(r), digest(p), "after the partial resync");
        // Promoted: writes are ours again.
        assert_eq!(cli(r, &["replicaof", "no", "one"]), "OK\n");
        assert_eq!(cli(r, &["set", "x", "1"]), "OK\n");
        assert_eq!(info_field(r, "role"), "master");
    }
}

/// A chain: cinnabar → cinnabar (REPLICAOF at run time) → redis-server; the middle one passes
/// its primary's stream on unchanged, so all three hold the same data at the same offset.
#[test]
fn a_chain_of_replicas_passes_the_stream_on_unchanged() {
    let a = common::cinnabar_with(&["--enable-debug-command", "yes"]);
    let b = common::cinnabar_with(&["--enable-debug-command", "yes"]);
    cli(a.port, &["set", "k", "v"]);
    assert_eq!(cli(b.port, &["replicaof", "127.0.0.1", &a.port.to_string()]), "OK\n");
    let c = common::spawn_with(&common::redis_server_binary(), &["--replicaof", "127.0.0.1", &b.port.to_string(), "--enable-debug-command", "yes"]);
    wait_for("both links", || link_up(b.port) && link_up(c.port));
    cli(a.port, &["-n", "4", "sadd", "s", "x", "y"]);
    cli(a.port, &["expire", "k", "1000"]);
    wait_for("the chain to catch up", || {
        let want = info_field(a.port, "master_repl_offset");
        info_field(b.port, "master_repl_offset") == want && info_field(c.port, "master_repl_offset") == want
    });
    assert_eq!(digest(b.port), digest(a.port));
    assert_eq!(digest(c.port), digest(a.port));
    assert!(cli(c.port, &["ttl", "k"]).trim().parse::<i64>().unwrap() > 900);
}

/// A primary that accepts the connection and then says nothing: the replica shows the
/// handshake in ROLE and gives up after `repl-timeout` with Redis's log line, then retries
/// (integration/replication's "Slave enters handshake" and "detect timeout during handshake").
#[test]
fn a_silent_primary_times_out_the_handshake() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for c in silent.incoming().flatten() {
            keep.lock().unwrap().push(c);
        }
    });
    let log = std::env::temp_dir().join(format!("cinnabar-silent-primary-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let replica = common::cinnabar_with(&["--replicaof", "127.0.0.1", &port.to_string(), "--repl-timeout", "1", "--logfile", log.to_str().unwrap()]);
    wait_for("ROLE handshake", || cli(replica.port, &["role"]).contains("\nhandshake\n"));
    assert_eq!(info_field(replica.port, "master_link_status"), "down");
    wait_for("the timeout in the log", || std::fs::read_to_string(&log).unwrap_or_default().contains("Timeout connecting to the MASTER..."));
    // And it tries again.
    wait_for("a second connection", || held.lock().unwrap().len() >= 2);
    let _ = std::fs::remove_file(&log);
}
