//! MIGRATE between real servers: cinnabar to cinnabar, cinnabar to redis-server and back,
//! with the replies, the deleted source keys, TTLs, COPY/REPLACE, AUTH, the KEYS form, a
//! target that refuses, one that is gone, and the cached connection in INFO.

mod common;

use redis::Connection;

fn con(port: u16) -> Connection {
    redis::Client::open(format!("redis://127.0.0.1:{}/", port)).unwrap().get_connection().unwrap()
}

fn cmd(c: &mut Connection, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut k = redis::cmd(args[0]);
    for a in &args[1..] {
        k.arg(*a);
    }
    k.query(c)
}

fn render(v: &redis::Value) -> String {
    match v {
        redis::Value::Okay => "OK".into(),
        redis::Value::SimpleString(s) => s.clone(),
        redis::Value::Int(n) => n.to_string(),
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        redis::Value::Nil => "(nil)".into(),
        redis::Value::Array(items) => items.iter().map(render).collect::<Vec<_>>().join(","),
        other => format!("{:?}", other),
    }
}

fn ok(c: &mut Connection, args: &[&str]) -> String {
    match cmd(c, args) {
        Ok(v) => render(&v),
        Err(e) => format!("ERR {}", e),
    }
}

fn info_field(c: &mut Connection, field: &str) -> String {
    let text: String = redis::cmd("INFO").query(c).unwrap();
    text.lines().find_map(|l| l.strip_prefix(&format!("{}:", field))).unwrap_or("").to_string()
}

#[test]
fn migrate_moves_keys_to_cinnabar_and_to_redis_server() {
    let src = common::cinnabar();
    let mut s = con(src.port);
    for target_binary in [env!("CARGO_BIN_EXE_cinnabar-server").to_string(), common::redis_server_binary()] {
        let dst = common::spawn_with(&target_binary, &[]);
        let mut d = con(dst.port);
        let port = dst.port.to_string();
        ok(&mut s, &["FLUSHALL"]);
        ok(&mut s, &["RPUSH", "list", "a", "b", "c"]);
        ok(&mut s, &["SET", "ttl", "v", "PX", "100000"]);
        assert_eq!(ok(&mut s, &["MIGRATE", "127.0.0.1", &port, "list", "3", "5000"]), "OK");
        assert_eq!(ok(&mut s, &["EXISTS", "list"]), "0");
        ok(&mut d, &["SELECT", "3"]);
        assert_eq!(ok(&mut d, &["LRANGE", "list", "0", "-1"]), "a,b,c");
        assert_eq!(ok(&mut s, &["MIGRATE", "127.0.0.1", &port, "ttl", "3", "5000", "COPY"]), "OK");
        assert_eq!(ok(&mut s, &["EXISTS", "ttl"]), "1");
        let pttl: i64 = ok(&mut d, &["PTTL", "ttl"]).parse().unwrap();
        assert!(pttl > 90_000 && pttl <= 100_000, "{}", pttl);
        // Already there: the target's BUSYKEY comes back, the key stays here.
        let busy = ok(&mut s, &["MIGRATE", "127.0.0.1", &port, "ttl", "3", "5000", "COPY"]);
        assert!(busy.contains("Target instance replied with error: BUSYKEY Target key name already exists."), "{}", busy);
        assert_eq!(ok(&mut s, &["MIGRATE", "127.0.0.1", &port, "ttl", "3", "5000", "REPLACE"]), "OK");
        assert_eq!(ok(&mut s, &["EXISTS", "ttl"]), "0");
        assert_eq!(ok(&mut s, &["MIGRATE", "127.0.0.1", &port, "nokey", "3", "5000"]), "NOKEY");
        // The KEYS form moves the ones that exist.
        ok(&mut s, &["MSET", "k1", "1", "k2", "2"]);
        assert_eq!(ok(&mut s, &["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS", "k1", "missing", "k2"]), "OK");
        ok(&mut d, &["SELECT", "0"]);
        assert_eq!(ok(&mut d, &["MGET", "k1", "k2"]), "1,2");
        assert_eq!(info_field(&mut s, "migrate_cached_sockets"), "1");
        // A password the target wants.
        ok(&mut d, &["CONFIG", "SET", "requirepass", "pw"]);
        ok(&mut s, &["SET", "secret", "x"]);
        let refused = ok(&mut s, &["MIGRATE", "127.0.0.1", &port, "secret", "0", "5000", "AUTH", "wrong"]);
        assert!(refused.contains("Target instance replied with error: WRONGPASS"), "{}", refused);
        // (The cached connection authenticated before requirepass, so the target ran that
        // RESTORE anyway, as Redis's does: REPLACE this time.)
        assert_eq!(ok(&mut s, &["MIGRATE", "127.0.0.1", &port, "secret", "0", "5000", "REPLACE", "AUTH2", "default", "pw"]), "OK");
        assert_eq!(ok(&mut s, &["EXISTS", "secret"]), "0");
        drop(d);
        drop(dst);
        // The target is gone: the cached connection breaks, the reconnect fails.
        ok(&mut s, &["SET", "stay", "x"]);
        let gone = ok(&mut s, &["MIGRATE", "127.0.0.1", &port, "stay", "0", "1000"]);
        assert!(gone.contains("IOERR") && gone.contains("error or timeout connecting to the client"), "{}", gone);
        assert_eq!(ok(&mut s, &["EXISTS", "stay"]), "1");
    }
    let e = ok(&mut s, &["MIGRATE", "127.0.0.1", "1", "k", "0", "1000", "KEYS", "a"]);
    assert!(e.contains("When using MIGRATE KEYS option, the key argument must be set to the empty string"), "{}", e);
    let e = ok(&mut s, &["MIGRATE", "127.0.0.1", "1", "k", "0", "1000", "BOGUS"]);
    assert!(e.contains("syntax error"), "{}", e);
}
