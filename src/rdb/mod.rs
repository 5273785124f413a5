//! RDB snapshots as pure byte transforms: `dump` turns the keyspace into Redis's RDB format
//! (version 10, what Redis 7.0 writes and loads), so a file the server saves opens in
//! redis-server, and the browser host can keep the same bytes in IndexedDB. Values use the
//! plain encodings every loader accepts (list, set, zset with binary scores, hash); the packed
//! ones are a size optimisation for later. `load` reads what Redis 7.0 writes. Redis: rdb.c.

pub mod listpack;
pub mod load;

use crate::engine::Server;
use crate::object::{Str, Value};

const RDB_VERSION: &[u8] = b"REDIS0010";
const OP_AUX: u8 = 0xFA;
const OP_RESIZEDB: u8 = 0xFB;
const OP_EXPIRETIME_MS: u8 = 0xFC;
const OP_SELECTDB: u8 = 0xFE;
const OP_EOF: u8 = 0xFF;
const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_STREAM_LISTPACKS_2: u8 = 19;

/// rdbSaveLen: 6, 14, 32 or 64 bits.
fn len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    len(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn type_of(v: &Value) -> u8 {
    match v {
        Value::Str(_) => TYPE_STRING,
        Value::List(_) => TYPE_LIST,
        Value::Set(_) => TYPE_SET,
        Value::ZSet(_) => TYPE_ZSET_2,
        Value::Hash(_) => TYPE_HASH,
        Value::Stream(_) => TYPE_STREAM_LISTPACKS_2,
    }
}

fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => {
            match s {
                Str::Int(n) => string(out, n.to_string().as_bytes()),
                Str::Emb(b) => string(out, b),
                Str::Raw(r) => string(out, r),
            }
        }
        Value::List(l) => {
            let items = l.to_vec();
            len(out, items.len() as u64);
            items.iter().for_each(|i| string(out, i));
        }
        Value::Set(s) => {
            let members = s.members();
            len(out, members.len() as u64);
            members.iter().for_each(|m| string(out, m));
        }
        Value::ZSet(z) => {
            let all = z.all();
            len(out, all.len() as u64);
            for (m, score) in all {
                string(out, &m);
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
        Value::Hash(h) => {
            let pairs = h.pairs();
            len(out, pairs.len() as u64);
            for (f, v) in pairs {
                string(out, &f);
                string(out, &v);
            }
        }
        Value::Stream(s) => stream(out, s),
    }
}

/// RDB_TYPE_STREAM_LISTPACKS_2, field for field as Redis 7.0's rdbSaveObject writes it.
fn stream(out: &mut Vec<u8>, s: &crate::types::stream::Stream) {
    let nodes = s.rdb_nodes();
    len(out, nodes.len() as u64);
    for (key, lp) in &nodes {
        string(out, key);
        string(out, lp);
    }
    len(out, s.length);
    for id in [s.last_id, s.first_id, s.max_deleted_entry_id] {
        len(out, id.ms);
        len(out, id.seq);
    }
    len(out, s.entries_added);
    len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        string(out, name);
        len(out, g.last_id.ms);
        len(out, g.last_id.seq);
        len(out, g.entries_read as u64);
        len(out, g.pel.len() as u64);
        for (id, nack) in &g.pel {
            out.extend_from_slice(&id.encode());
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            len(out, nack.delivery_count);
        }
        len(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            string(out, cname);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.encode());
            }
        }
    }
}

/// DUMP's payload: the value as RDB stores it, the RDB version, and a CRC64 of both.
pub fn dump_value(v: &Value) -> Vec<u8> {
    let mut out = vec![type_of(v)];
    value(&mut out, v);
    frame(&mut out);
    out
}

/// The footer of a DUMP / FUNCTION DUMP payload: RDB version, then a CRC64 of everything.
pub fn frame(out: &mut Vec<u8>) {
    out.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64::crc64(0, out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// The whole dataset as an RDB file, keys already past their deadline left out.
pub fn dump(srv: &Server) -> Vec<u8> {
    let now = srv.now_ms();
    let mut out = Vec::with_capacity(1 << 16);
    out.extend_from_slice(RDB_VERSION);
    for (k, v) in [("redis-ver", crate::REDIS_VERSION.to_string()), ("redis-bits", "64".into()), ("ctime", (now / 1000).to_string()), ("used-mem", "0".into()), ("aof-base", "0".into())] {
        out.push(OP_AUX);
        string(&mut out, k.as_bytes());
        string(&mut out, v.as_bytes());
    }
    // Functions come before the keyspace, as rdbSaveRio writes them.
    crate::commands::scripting::dump_libraries(&srv.scripting, &mut out);
    for db in &srv.dbs {
        if db.is_empty() {
            continue;
        }
        out.push(OP_SELECTDB);
        len(&mut out, db.id as u64);
        out.push(OP_RESIZEDB);
        len(&mut out, db.len() as u64);
        len(&mut out, db.expires_len() as u64);
        for (key, entry) in db.iter() {
            if let Some(when) = db.get_expire(key) {
                if when <= now {
                    continue;
                }
                out.push(OP_EXPIRETIME_MS);
                out.extend_from_slice(&when.to_le_bytes());
            }
            // rdbSaveKeyValuePair: the type, the key, then the value.
            out.push(type_of(&entry.value));
            string(&mut out, key);
            value(&mut out, &entry.value);
        }
    }
    out.push(OP_EOF);
    let crc = crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;
    use crate::testing::*;

    #[test]
    fn a_dump_is_framed_and_checksummed_as_redis_expects() {
        let mut t = TestEngine::new();
        t.run(&["SET", "k", "v"]);
        t.run(&["SET", "gone", "v", "PX", "10"]);
        t.advance_ms(20);
        t.run(&["PING"]); // the engine's clock moves with commands and ticks
        let rdb = t.engine.rdb_snapshot();
        assert!(rdb.starts_with(b"REDIS0010"));
        // CRC-64/Redis has residue 0: the file including its checksum sums to zero.
        assert_eq!(crc64::crc64(0, &rdb), 0);
        // The key past its deadline is left out.
        assert!(rdb.windows(4).all(|w| w != b"gone"));
        assert!(rdb.windows(1).any(|w| w == b"k"));
    }
}

#[cfg(test)]
mod roundtrip {
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;
    use crate::testing::*;

    /// What `dump` writes, `load` reads back: every type, big and small, TTLs and databases.
    #[test]
    fn dump_then_load_restores_the_dataset() {
        let mut t = TestEngine::new();
        t.run(&["SET", "s", "v", "EX", "100"]);
        t.run(&["SET", "n", "-42"]);
        t.run(&["RPUSH", "l", "a", "1", "b"]);
        t.run(&["SADD", "i", "5", "-3"]);
        t.run(&["SADD", "w", "x", "y"]);
        t.run(&["ZADD", "z", "1.5", "a", "-inf", "b"]);
        t.run(&["HSET", "h", "f", "v"]);
        for i in 0..300 {
            t.run(&["HSET", "bigh", &i.to_string(), "v"]);
            t.run(&["ZADD", "bigz", &i.to_string(), &format!("m{}", i)]);
        }
        t.run(&["SELECT", "2"]);
        t.run(&["SET", "in2", "x"]);
        let rdb = t.engine.rdb_snapshot();
        let mut u = TestEngine::new();
        assert_eq!(u.engine.rdb_load(&rdb), Ok(10));
        assert_eq!(u.run(&["GET", "n"]), bulk("-42"));
        assert_eq!(u.run(&["TTL", "s"]), int(100));
        assert_eq!(u.run(&["LRANGE", "l", "0", "-1"]), arr(&["a", "1", "b"]));
        assert_eq!(u.run(&["OBJECT", "ENCODING", "i"]), bulk("intset"));
        assert_eq!(u.run(&["ZRANGE", "z", "0", "-1"]), arr(&["b", "a"]));
        assert_eq!(u.run(&["OBJECT", "ENCODING", "bigz"]), bulk("skiplist"));
        assert_eq!(u.run(&["HLEN", "bigh"]), int(300));
        u.run(&["SELECT", "2"]);
        assert_eq!(u.run(&["GET", "in2"]), bulk("x"));
        // A flipped byte fails the checksum; nothing is loaded.
        let mut bad = rdb.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        assert!(u.engine.rdb_load(&bad).is_err());
        assert_eq!(u.run(&["GET", "in2"]), bulk("x"));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod fuzz {
    use proptest::prelude::*;

    proptest! {
        /// Corrupt and truncated files are errors, never panics or runaway allocations.
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), cut in 0usize..600) {
            let mut t = crate::testing::TestEngine::new();
            let mut file = b"REDIS0010".to_vec();
            file.extend(body);
            let _ = t.engine.rdb_load(&file);
            let mut good = t.engine.rdb_snapshot();
            good.truncate(cut.min(good.len()));
            let _ = t.engine.rdb_load(&good);
        }

        /// A stream's DUMP payload with bytes flipped (checksum recomputed, so the loader
        /// sees the damage): RESTORE refuses it or yields a stream every command can walk.
        #[test]
        fn damaged_stream_payloads_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
            let mut t = crate::testing::TestEngine::new();
            for i in 1..=30 {
                let f = if i % 4 == 0 { "other" } else { "f" };
                t.run(&["XADD", "s", &format!("{}-{}", i, i % 2), f, &i.to_string()]);
            }
            t.run(&["XDEL", "s", "3-1"]);
            t.run(&["XGROUP", "CREATE", "s", "g", "0"]);
            t.run(&["XREADGROUP", "GROUP", "g", "c", "COUNT", "5", "STREAMS", "s", ">"]);
            let crate::reply::Reply::Bulk(p) = t.run(&["DUMP", "s"]) else { panic!() };
            let mut p = p.to_vec();
            let body = p.len() - 10;
            for (at, b) in flips {
                p[at % body] ^= b | 1;
            }
            let crc = crc64::crc64(0, &p[..p.len() - 8]);
            let n = p.len();
            p[n - 8..].copy_from_slice(&crc.to_le_bytes());
            let argv = vec![bytes::Bytes::from_static(b"RESTORE"), bytes::Bytes::from_static(b"r"), bytes::Bytes::from_static(b"0"), bytes::Bytes::from(p)];
            if t.run_bytes(argv) == crate::reply::Reply::Simple("OK") {
                for cmd in [
                    &["XRANGE", "r", "-", "+"][..], &["XREVRANGE", "r", "+", "-"], &["XINFO", "STREAM", "r", "FULL"], &["XPENDING", "r", "g", "-", "+", "10"],
                    &["XADD", "r", "*", "f", "v"], &["XDEL", "r", "5-1"], &["XTRIM", "r", "MAXLEN", "3"], &["XAUTOCLAIM", "r", "g", "c2", "0", "0"],
                    &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "r", "0"], &["DUMP", "r"],
                ] {
                    t.run(cmd);
                }
            }
        }
    }
}
