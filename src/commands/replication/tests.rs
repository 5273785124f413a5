//! The primary's side of replication, as a replica sees it (replies and stream checked
//! against redis-server 7.0.15's; real redis-server replicas of cinnabar-server are in
//! native-server/tests/replication.rs).

use bytes::{Bytes, BytesMut};

use crate::client::ClientId;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn raw(r: Reply) -> Vec<u8> {
    match r {
        Reply::Raw(b) => b.to_vec(),
        other => panic!("not a raw reply: {:?}", other),
    }
}

/// The stream the replica was handed since the last look, as commands joined by spaces.
fn stream(t: &mut TestEngine, id: ClientId) -> Vec<String> {
    t.engine.drain_events();
    let mut bytes = Vec::new();
    for r in t.replies_for(id) {
        bytes.extend(raw(r));
    }
    commands(&bytes)
}

fn info_of(t: &mut TestEngine) -> String {
    match t.run(&["INFO", "replication"]) {
        Reply::Verbatim(_, b) | Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{:?}", other),
    }
}

fn commands(bytes: &[u8]) -> Vec<String> {
    let mut out = vec![];
    let mut parser = crate::resp::parser::RequestParser::new(i64::MAX);
    let mut buf = BytesMut::from(bytes);
    while let Ok(Some(argv)) = parser.next(&mut buf, true) {
        out.push(argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "));
    }
    assert!(buf.is_empty(), "the stream parses to its end");
    out
}

/// `$<len>\r\n<rdb>`: the RDB's bytes, checked to be one whole file.
fn payload(bytes: &[u8]) -> &[u8] {
    assert_eq!(bytes[0], b'$');
    let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
    let len: usize = std::str::from_utf8(&bytes[1..nl - 1]).unwrap().parse().unwrap();
    let rdb = &bytes[nl + 1..];
    assert_eq!(rdb.len(), len, "the payload is exactly the announced length, no CRLF after it");
    assert!(rdb.starts_with(b"REDIS0010"));
    rdb
}

#[test]
fn sync_sends_the_dataset_then_the_writes_as_a_replica_replays_them() {
    let mut t = TestEngine::new();
    t.run(&["SET", "before", "1"]);
    let r = t.connect();
    let rdb = payload(&raw(t.run_as(r, &["SYNC"]))).to_vec();
    // The payload loads as the dataset at the point the stream starts.
    let mut copy = TestEngine::new();
    crate::persistence::snapshot::load_prefix(&mut copy.engine.srv, &rdb).unwrap();
    assert_eq!(copy.run(&["GET", "before"]), bulk("1"));
    assert_eq!(stream(&mut t, r), Vec::<String>::new());

    t.run(&["SET", "a", "1"]);
    t.run(&["SELECT", "2"]);
    t.run(&["LPUSH", "l", "x"]);
    t.run(&["EXPIRE", "l", "100"]);
    t.run(&["GET", "a"]);
    t.run(&["MULTI"]);
    t.run(&["INCR", "n"]);
    t.run(&["INCR", "n"]);
    t.run(&["EXEC"]);
    let at = t.now_ms() + 100_000;
    assert_eq!(
        stream(&mut t, r),
        vec![
            "SELECT 0".to_string(),
            "SET a 1".into(),
            "SELECT 2".into(),
            "LPUSH l x".into(),
            format!("PEXPIREAT l {}", at),
            "MULTI".into(),
            "INCR n".into(),
            "INCR n".into(),
            "EXEC".into(),
        ]
    );
    // CLIENT LIST, INFO and ROLE know it as a replica.
    let Reply::Verbatim(_, list) = t.run(&["CLIENT", "LIST", "TYPE", "replica"]) else { panic!() };
    assert!(String::from_utf8_lossy(&list).contains("flags=S"), "{:?}", list);
    let info = info_of(&mut t);
    assert!(info.contains("connected_slaves:1\r\nslave0:ip=127.0.0.1,port=0,state=online,offset=0,lag=0\r\n"), "{}", info);
    assert!(info.contains("repl_backlog_active:1\r\n"), "{}", info);
    let Reply::Array(role) = t.run(&["ROLE"]) else { panic!() };
    assert_eq!(role[0], bulk("master"));
    assert!(matches!(role[1], Reply::Int(n) if n > 0));
}

#[test]
fn publish_goes_to_replicas_only_and_scripts_choose_their_targets() {
    let mut t = TestEngine::new();
    t.aof_on();
    let r = t.connect();
    raw(t.run_as(r, &["SYNC"]));
    t.run(&["PUBLISH", "ch", "hello"]);
    t.run(&["EVAL", "redis.set_repl(redis.REPL_AOF) redis.call('set','aof','1') redis.set_repl(redis.REPL_REPLICA) redis.call('set','repl','1') redis.set_repl(redis.REPL_NONE) redis.call('set','none','1') redis.set_repl(redis.REPL_ALL) redis.call('set','all','1')", "0"]);
    assert_eq!(stream(&mut t, r), ["SELECT 0", "PUBLISH ch hello", "MULTI", "set repl 1", "set all 1", "EXEC"]);
    assert_eq!(t.aof_commands(), ["SELECT 0", "MULTI", "set aof 1", "set all 1", "EXEC"]);
}

#[test]
fn psync_continues_from_the_backlog_or_starts_over() {
    let mut t = TestEngine::new();
    let r1 = t.connect();
    let first = raw(t.run_as(r1, &["PSYNC", "?", "-1"]));
    let line = String::from_utf8_lossy(&first[..first.iter().position(|&b| b == b'\n').unwrap() + 1]).into_owned();
    let parts: Vec<&str> = line.trim_end().split(' ').collect();
    assert_eq!(parts[0], "+FULLRESYNC");
    let replid = parts[1].to_string();
    assert_eq!(replid.len(), 40);
    assert_eq!(parts[2], "0");
    payload(&first[line.len()..]);
    t.run(&["SET", "a", "1"]);
    let seen = stream(&mut t, r1);
    assert_eq!(seen, ["SELECT 0", "SET a 1"]);
    t.run(&["SET", "b", "2"]);
    t.engine.drain_events();
    // A replica that got as far as `SET a 1` (offset = bytes so far before SET b) resumes.
    let info = info_of(&mut t);
    let offset: u64 = info.lines().find_map(|l| l.strip_prefix("master_repl_offset:")).unwrap().parse().unwrap();
    let missed = crate::testing::encoded(&["SET", "b", "2"]);
    let resume_at = offset - missed.len() as u64 + 1;
    let r2 = t.connect();
    let cont = raw(t.run_as(r2, &["PSYNC", &replid, &resume_at.to_string()]));
    let mut want = b"+CONTINUE\r\n".to_vec();
    want.extend(&missed);
    assert_eq!(cont, want);
    // With capa psync2 the id comes along.
    let r3 = t.connect();
    assert_eq!(t.run_as(r3, &["REPLCONF", "capa", "eof", "capa", "psync2"]), ok());
    assert_eq!(raw(t.run_as(r3, &["PSYNC", &replid, &(offset + 1).to_string()])), format!("+CONTINUE {}\r\n", replid).into_bytes());
    // Another history, or an offset the backlog no longer holds: a full copy.
    for (id, off) in [("0123456789012345678901234567890123456789", "1"), (replid.as_str(), "0"), (replid.as_str(), "999999")] {
        let c = t.connect();
        let r = raw(t.run_as(c, &["PSYNC", id, off]));
        assert!(r.starts_with(format!("+FULLRESYNC {} {}\r\n$", replid, offset).as_bytes()), "{}", String::from_utf8_lossy(&r));
    }
    // Every replica gets the next write; after a full copy went out the stream names its
    // database again (slaveseldb = -1), which is harmless to those that continued.
    t.run(&["DEL", "a"]);
    t.engine.drain_events();
    for id in [r2, r3] {
        let got: Vec<u8> = t.replies_for(id).into_iter().flat_map(raw).collect();
        assert_eq!(commands(&got), ["SELECT 0", "DEL a"]);
    }
}

#[test]
fn replconf_and_role_answer_as_redis() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["REPLCONF", "listening-port"]), err("ERR syntax error"));
    assert_eq!(t.run(&["REPLCONF", "foo", "bar"]), err("ERR Unrecognized REPLCONF option: foo"));
    assert_eq!(t.run(&["REPLCONF", "listening-port", "6380", "capa", "eof"]), ok());
    assert_eq!(t.run(&["REPLCONF"]), ok());
    // ACK and GETACK are never answered.
    assert_eq!(t.run(&["REPLCONF", "ACK", "10"]), Reply::Raw(Bytes::new()));
    assert_eq!(t.run(&["REPLCONF", "GETACK", "*"]), Reply::Raw(Bytes::new()));
    assert_eq!(t.run(&["ROLE"]), Reply::Array(vec![bulk("master"), int(0), Reply::Array(vec![])]));
    assert_eq!(t.run(&["SYNC", "x"]), err("ERR wrong number of arguments for 'sync' command"));
    assert_eq!(t.run(&["PSYNC", "x"]), err("ERR wrong number of arguments for 'psync' command"));
    t.run(&["MULTI"]);
    assert_eq!(t.run(&["SYNC"]), err("ERR Command not allowed inside a transaction"));
    t.run(&["DISCARD"]);
    assert!(t.run(&["EVAL", "return redis.call('sync')", "0"]).is_error());
    // The announced address shows in ROLE and INFO.
    let r = t.connect();
    t.run_as(r, &["REPLCONF", "listening-port", "6390", "ip-address", "10.0.0.9"]);
    raw(t.run_as(r, &["PSYNC", "?", "-1"]));
    let Reply::Array(role) = t.run(&["ROLE"]) else { panic!() };
    assert_eq!(role[2], Reply::Array(vec![Reply::Array(vec![bulk("10.0.0.9"), bulk("6390"), bulk("0")])]));
}

#[test]
fn min_replicas_to_write_counts_replicas_that_acknowledged_in_time() {
    let mut t = TestEngine::new();
    t.run(&["CONFIG", "SET", "min-replicas-to-write", "1", "min-replicas-max-lag", "10"]);
    assert_eq!(t.run(&["SET", "x", "1"]), err("NOREPLICAS Not enough good replicas to write."));
    let r = t.connect();
    raw(t.run_as(r, &["SYNC"]));
    assert_eq!(t.run_as(r, &["REPLCONF", "ACK", "0"]), Reply::Raw(Bytes::new()));
    assert_eq!(t.run(&["SET", "x", "1"]), ok());
    let info = info_of(&mut t);
    assert!(info.contains("min_slaves_good_slaves:1\r\n"));
    // A replica silent for longer than the lag no longer counts.
    t.advance_ms(11_000);
    assert_eq!(t.run(&["SET", "x", "2"]), err("NOREPLICAS Not enough good replicas to write."));
}

#[test]
fn replicas_hear_a_ping_every_period_and_the_backlog_outlives_them_for_its_ttl() {
    let mut t = TestEngine::new();
    t.run(&["CONFIG", "SET", "repl-ping-replica-period", "1", "repl-backlog-ttl", "5"]);
    let r = t.connect();
    raw(t.run_as(r, &["SYNC"]));
    t.advance_ms(1000);
    t.tick();
    assert_eq!(stream(&mut t, r), ["PING"]);
    t.run(&["SET", "a", "1"]);
    assert_eq!(stream(&mut t, r), ["SELECT 0", "SET a 1"]);
    t.engine.disconnect(r);
    let info = info_of(&mut t);
    assert!(info.contains("connected_slaves:0\r\n"));
    assert!(info.contains("repl_backlog_active:1\r\n"));
    t.advance_ms(6000);
    t.tick();
    let info = info_of(&mut t);
    assert!(info.contains("repl_backlog_active:0\r\n"));
}

#[test]
fn rdb_only_gets_the_payload_and_the_link_closes() {
    let mut t = TestEngine::new();
    t.run(&["SET", "a", "1"]);
    let r = t.connect();
    assert_eq!(t.run_as(r, &["REPLCONF", "rdb-only", "1"]), ok());
    assert_eq!(t.run_as(r, &["REPLCONF", "rdb-only", "2"]), err("ERR Invalid rdb-only value, must be 0 or 1"));
    payload(&raw(t.run_as(r, &["SYNC"])));
    let info = info_of(&mut t);
    assert!(info.contains("connected_slaves:0\r\n"));
}

#[test]
fn wait_answers_once_enough_replicas_acknowledged_the_writes_or_at_its_timeout() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["WAIT", "0", "0"]), int(0));
    assert_eq!(t.run(&["WAIT", "x", "0"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["WAIT", "1", "x"]), err("ERR timeout is not an integer or out of range"));
    assert_eq!(t.run(&["WAIT", "1", "-1"]), err("ERR timeout is negative"));
    let r = t.connect();
    raw(t.run_as(r, &["SYNC"]));
    t.run(&["SET", "a", "1"]);
    assert_eq!(t.run(&["WAIT", "1", "0"]), Reply::Blocked);
    // The replicas are asked where they are.
    assert_eq!(stream(&mut t, r), ["SELECT 0", "SET a 1", "REPLCONF GETACK *"]);
    let offset: u64 = info_of(&mut t).lines().find_map(|l| l.strip_prefix("master_repl_offset:")).unwrap().parse().unwrap();
    // An acknowledgement short of the writes answers nobody.
    t.run_as(r, &["REPLCONF", "ACK", "5"]);
    assert_eq!(t.replies_for(t.client), vec![]);
    t.run_as(r, &["REPLCONF", "ACK", &offset.to_string()]);
    assert_eq!(t.replies_for(t.client), vec![int(1)]);
    // Two wanted, one there: the timeout answers how many did.
    t.run(&["SET", "b", "2"]);
    assert_eq!(t.run(&["WAIT", "2", "100"]), Reply::Blocked);
    t.advance_ms(150);
    t.tick();
    assert_eq!(t.replies_for(t.client), vec![int(0)]);
    // A client that wrote nothing waits for nothing (its offset is 0).
    let reader = t.connect();
    assert_eq!(t.run_as(reader, &["WAIT", "1", "0"]), int(1));
    // Inside MULTI it does not wait.
    t.run(&["MULTI"]);
    t.run(&["WAIT", "5", "0"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![int(0)]));
}

/// A replica of an imaginary primary: REPLICAOF, the payload, then the stream as the host
/// hands it over (in pieces that split commands anywhere).
fn replica_of_a_primary(t: &mut TestEngine) -> String {
    t.engine.host_info_mut().can.replicates = true;
    assert_eq!(t.run(&["REPLICAOF", "127.0.0.1", "9999"]), ok());
    let events = t.engine.drain_events();
    assert!(events.iter().any(|e| matches!(e, crate::event::Event::ReplicaOf { master: Some((h, 9999)) } if h == "127.0.0.1")));
    // The primary's dataset: made by another engine.
    let mut primary = TestEngine::new();
    primary.run(&["SET", "from-primary", "1"]);
    let rdb = primary.engine.rdb_snapshot();
    let replid = "a".repeat(40);
    t.engine.replica_syncing(t.now_ms() * 1000);
    t.engine.replica_full_sync(&replid, 1000, &rdb, t.now_ms() * 1000).unwrap();
    replid
}

#[test]
fn a_replica_applies_the_stream_passes_it_on_and_refuses_clients_writes() {
    let mut t = TestEngine::new();
    t.run(&["SET", "mine", "1"]);
    let replid = replica_of_a_primary(&mut t);
    assert_eq!(t.run(&["GET", "mine"]), Reply::Nil, "the primary's dataset replaced ours");
    assert_eq!(t.run(&["GET", "from-primary"]), bulk("1"));
    // A replica of ours gets the primary's stream byte for byte.
    let sub = t.connect();
    let first = raw(t.run_as(sub, &["PSYNC", &replid, "1001"]));
    assert_eq!(first, b"+CONTINUE\r\n".to_vec());
    let mut stream = encoded(&["SELECT", "3"]);
    stream.extend(encoded(&["SET", "k", "v"]));
    stream.extend(encoded(&["PEXPIREAT", "k", "1"]));
    stream.extend(encoded(&["RPUSH", "l", "a", "b"]));
    let getack = encoded(&["REPLCONF", "GETACK", "*"]);
    let before_getack = 1000 + stream.len() as u64;
    stream.extend(&getack);
    let mut acks = Vec::new();
    for piece in stream.chunks(7) {
        acks.extend(t.engine.replica_feed(piece, t.now_ms() * 1000));
    }
    // GETACK is answered with the offset before it.
    assert_eq!(acks, encoded(&["REPLCONF", "ACK", &before_getack.to_string()]));
    t.engine.drain_events();
    let got: Vec<u8> = t.replies_for(sub).into_iter().flat_map(raw).collect();
    assert_eq!(got, stream, "passed on unchanged");
    // The primary's expired key stays until its DEL, but reads as missing.
    t.run(&["SELECT", "3"]);
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
    assert_eq!(t.run(&["DBSIZE"]), int(2));
    t.engine.replica_feed(&encoded(&["DEL", "k"]), t.now_ms() * 1000);
    assert_eq!(t.run(&["DBSIZE"]), int(1));
    assert_eq!(t.run(&["LRANGE", "l", "0", "-1"]), arr(&["a", "b"]));
    // Clients may read, not write; WAIT is for primaries.
    assert_eq!(t.run(&["SET", "x", "1"]), err("READONLY You can't write against a read only replica."));
    let script = t.run(&["EVAL", "return redis.call('set','x','1')", "0"]);
    assert!(matches!(&script, Reply::Error(e) if e.starts_with("READONLY")), "{:?}", script);
    assert!(t.run(&["WAIT", "0", "0"]).is_error());
    // INFO and ROLE say what it follows and how far it got.
    let info = info_of(&mut t);
    assert!(info.starts_with("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:9999\r\nmaster_link_status:up\r\n"), "{}", info);
    let offset = 1000 + stream.len() as u64 + encoded(&["DEL", "k"]).len() as u64;
    assert!(info.contains(&format!("slave_repl_offset:{}\r\n", offset)), "{}", info);
    assert_eq!(t.run(&["ROLE"]), Reply::Array(vec![bulk("slave"), bulk("127.0.0.1"), int(9999), bulk("connected"), int(offset as i64)]));
    assert_eq!(t.run(&["REPLICAOF", "127.0.0.1", "9999"]), Reply::Simple("OK Already connected to specified master"));
    // The link drops: it is down, the master client gone, and PSYNC will ask to continue.
    t.engine.replica_link_lost("test", t.now_ms() * 1000);
    assert!(info_of(&mut t).contains("master_link_status:down\r\n"));
    let hs = t.engine.replica_handshake();
    assert_eq!((hs.replid.as_str(), hs.offset), (replid.as_str(), offset as i64 + 1));
}

#[test]
fn replicaof_no_one_makes_a_primary_that_remembers_the_old_history() {
    let mut t = TestEngine::new();
    let replid = replica_of_a_primary(&mut t);
    t.engine.replica_feed(&encoded(&["SET", "a", "1"]), t.now_ms() * 1000);
    let offset = 1000 + encoded(&["SET", "a", "1"]).len() as u64;
    assert_eq!(t.run(&["REPLICAOF", "NO", "ONE"]), ok());
    assert!(t.engine.drain_events().iter().any(|e| matches!(e, crate::event::Event::ReplicaOf { master: None })));
    assert_eq!(t.run(&["SET", "b", "2"]), ok());
    let info = info_of(&mut t);
    assert!(info.contains("role:master\r\n"));
    assert!(info.contains(&format!("master_replid2:{}\r\n", replid)), "{}", info);
    assert!(info.contains(&format!("second_repl_offset:{}\r\n", offset + 1)), "{}", info);
    // A replica of the old primary continues from us with the old id, and gets what we
    // wrote since.
    let r = t.connect();
    let mut want = b"+CONTINUE\r\n".to_vec();
    want.extend(encoded(&["SELECT", "0"]));
    want.extend(encoded(&["SET", "b", "2"]));
    assert_eq!(raw(t.run_as(r, &["PSYNC", &replid, &(offset + 1).to_string()])), want);
    // Errors as Redis words them.
    assert_eq!(t.run(&["REPLICAOF", "h", "x"]), err("ERR Invalid master port"));
    assert_eq!(t.run(&["REPLICAOF", "h", "70000"]), err("ERR Invalid master port"));
    let mut wasm_like = TestEngine::new();
    assert!(wasm_like.run(&["REPLICAOF", "h", "1"]).is_error(), "a host without outbound links refuses it");
    assert_eq!(wasm_like.run(&["REPLICAOF", "NO", "ONE"]), ok());
}

#[test]
fn a_stale_replica_that_must_not_serve_stale_data_answers_masterdown() {
    let mut t = TestEngine::new();
    t.engine.host_info_mut().can.replicates = true;
    t.run(&["SET", "xx", "1"]);
    t.run(&["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    t.run(&["MULTI"]);
    t.run(&["GET", "xx"]);
    let other = t.connect();
    assert_eq!(t.run_as(other, &["REPLICAOF", "localhsot", "0"]), ok());
    let masterdown = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    assert_eq!(t.run(&["EXEC"]), err(&format!("EXECABORT Transaction discarded because of: {}", masterdown)));
    assert_eq!(t.run(&["GET", "xx"]), err(masterdown));
    assert!(!t.run(&["INFO", "replication"]).is_error());
    t.run(&["CONFIG", "SET", "replica-serve-stale-data", "yes"]);
    assert_eq!(t.run(&["GET", "xx"]), bulk("1"));
    assert_eq!(t.run_as(other, &["REPLICAOF", "NO", "ONE"]), ok());
}

#[test]
fn a_replica_applies_transactions_from_the_stream() {
    let mut t = TestEngine::new();
    replica_of_a_primary(&mut t);
    let mut stream = encoded(&["SELECT", "0"]);
    for c in [&["MULTI"][..], &["LPUSH", "b", "1"], &["LPUSH", "b", "2"], &["EXEC"], &["RPOP", "b"], &["SET", "zz", "1"]] {
        stream.extend(encoded(c));
    }
    t.engine.replica_feed(&stream, t.now_ms() * 1000);
    assert_eq!(t.run(&["LRANGE", "b", "0", "-1"]), arr(&["2"]));
    assert_eq!(t.run(&["GET", "zz"]), bulk("1"));
}

#[test]
fn scripts_on_a_stale_replica_need_allow_stale() {
    let mut t = TestEngine::new();
    t.engine.host_info_mut().can.replicates = true;
    t.run(&["FUNCTION", "LOAD", "#!lua name=test\nredis.register_function{function_name='f1', callback=function() return 'hello' end, flags={'no-writes'}}\nredis.register_function{function_name='f2', callback=function() return 'hello' end, flags={'allow-stale', 'no-writes'}}\nredis.register_function{function_name='f3', callback=function() return redis.call('get', 'x') end, flags={'allow-stale', 'no-writes'}}\nredis.register_function{function_name='f4', callback=function() return redis.call('info', 'server') end, flags={'allow-stale', 'no-writes'}}\nredis.register_function('w', function() return redis.call('set', 'x', 1) end)"]);
    t.run(&["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    t.run(&["REPLICAOF", "127.0.0.1", "1"]);
    assert_eq!(t.run(&["FCALL", "f1", "0"]), err("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."));
    assert_eq!(t.run(&["FCALL", "f2", "0"]), bulk("hello"));
    let f3 = t.run(&["FCALL", "f3", "0"]);
    assert!(matches!(&f3, Reply::Error(e) if e.starts_with("ERR Can not execute the command on a stale replica")), "{:?}", f3);
    assert!(!t.run(&["FCALL", "f4", "0"]).is_error());
    t.run(&["CONFIG", "SET", "replica-serve-stale-data", "yes"]);
    // A function that may write is a write command: READONLY, as processCommand says it.
    assert_eq!(t.run(&["FCALL", "w", "0"]), err("READONLY You can't write against a read only replica."));
}
