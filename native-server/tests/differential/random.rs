//! Randomized differential test: proptest generates command sequences for each collection
//! type, over a small pool of keys and elements and with low encoding thresholds so
//! conversions happen; both servers run each sequence from an empty database and every
//! reply must match. A failure shrinks to a minimal sequence.

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};

use super::{sorted_items, Conn};
use crate::common::{redis_server_binary, spawn};

const KEYS: &[&str] = &["k1", "k2", "k3"];
const ELEMS: &[&str] = &["a", "b", "c", "1", "2", "-3", "10", "", "0123456789abcdefghijklmnopqrstuvwxyz"];
const SCORES: &[&str] = &["0", "1", "-1", "2.5", "1e3", "-inf", "+inf"];
const INTS: &[&str] = &["0", "1", "-1", "2", "-2", "5", "100", "-100"];

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(pool).prop_map(|s| s.to_string())
}

/// One command as argv, and whether its reply order is unspecified (hashtable iteration).
type Cmd = (Vec<String>, bool);

fn cmd(parts: Vec<String>) -> Cmd {
    (parts, false)
}

fn unordered(parts: Vec<String>) -> Cmd {
    (parts, true)
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn hash_cmds() -> impl Strategy<Value = Cmd> {
    let (k, e, e2, n) = (pick(KEYS), pick(ELEMS), pick(ELEMS), pick(INTS));
    (0u8..10, k, e, e2, n).prop_map(|(op, k, f, val, n)| match op {
        0 => cmd(v(&["HSET", &k, &f, &val])),
        1 => cmd(v(&["HSETNX", &k, &f, &val])),
        2 => cmd(v(&["HGET", &k, &f])),
        3 => cmd(v(&["HDEL", &k, &f, &val])),
        4 => cmd(v(&["HINCRBY", &k, &f, &n])),
        5 => cmd(v(&["HINCRBYFLOAT", &k, &f, &n])),
        6 => unordered(v(&["HGETALL", &k])),
        7 => cmd(v(&["HSTRLEN", &k, &f])),
        8 => cmd(v(&["HMGET", &k, &f, &val])),
        _ => cmd(v(&["OBJECT", "ENCODING", &k])),
    })
}

fn list_cmds() -> impl Strategy<Value = Cmd> {
    let (k, k2, e, e2, n, n2) = (pick(KEYS), pick(KEYS), pick(ELEMS), pick(ELEMS), pick(INTS), pick(INTS));
    (0u8..16, (k, k2), (e, e2), (n, n2)).prop_map(|(op, (k, k2), (a, b), (n, m))| match op {
        0 => cmd(v(&["RPUSH", &k, &a, &b])),
        1 => cmd(v(&["LPUSH", &k, &a])),
        2 => cmd(v(&["LPOP", &k])),
        3 => cmd(v(&["RPOP", &k, n.trim_start_matches('-')])),
        4 => cmd(v(&["LRANGE", &k, &n, &m])),
        5 => cmd(v(&["LINDEX", &k, &n])),
        6 => cmd(v(&["LSET", &k, &n, &a])),
        7 => cmd(v(&["LINSERT", &k, "BEFORE", &a, &b])),
        8 => cmd(v(&["LREM", &k, &n, &a])),
        9 => cmd(v(&["LTRIM", &k, &n, &m])),
        10 => cmd(v(&["LPOS", &k, &a, "RANK", if n == "0" { "1" } else { &n }, "COUNT", "0"])),
        11 => cmd(v(&["LMOVE", &k, &k2, "LEFT", "RIGHT"])),
        12 => cmd(v(&["RPOPLPUSH", &k, &k2])),
        13 => cmd(v(&["LMPOP", "2", &k, &k2, "RIGHT", "COUNT", "2"])),
        14 => cmd(v(&["LLEN", &k])),
        _ => cmd(v(&["BLPOP", &k, &k2, "0.001"])),
    })
}

fn set_cmds() -> impl Strategy<Value = Cmd> {
    let (k, k2, e, e2) = (pick(KEYS), pick(KEYS), pick(ELEMS), pick(ELEMS));
    (0u8..12, (k, k2), (e, e2)).prop_map(|(op, (k, k2), (a, b))| match op {
        0 | 1 => cmd(v(&["SADD", &k, &a, &b])),
        2 => cmd(v(&["SREM", &k, &a])),
        3 => cmd(v(&["SISMEMBER", &k, &a])),
        4 => unordered(v(&["SMEMBERS", &k])),
        5 => unordered(v(&["SINTER", &k, &k2])),
        6 => unordered(v(&["SUNION", &k, &k2])),
        7 => unordered(v(&["SDIFF", &k, &k2])),
        8 => cmd(v(&["SMOVE", &k, &k2, &a])),
        9 => cmd(v(&["SINTERSTORE", &k, &k, &k2])),
        10 => cmd(v(&["SCARD", &k])),
        _ => cmd(v(&["OBJECT", "ENCODING", &k])),
    })
}

fn zset_cmds() -> impl Strategy<Value = Cmd> {
    let (k, k2, e, s, s2, n, n2) = (pick(KEYS), pick(KEYS), pick(ELEMS), pick(SCORES), pick(SCORES), pick(INTS), pick(INTS));
    (0u8..16, (k, k2), e, (s, s2), (n, n2)).prop_map(|(op, (k, k2), m, (s, s2), (n, n2))| match op {
        0 | 1 => cmd(v(&["ZADD", &k, &s, &m])),
        2 => cmd(v(&["ZADD", &k, "GT", "CH", &s, &m])),
        3 => cmd(v(&["ZINCRBY", &k, &s, &m])),
        4 => cmd(v(&["ZREM", &k, &m])),
        5 => cmd(v(&["ZRANGE", &k, &n, &n2, "WITHSCORES"])),
        6 => cmd(v(&["ZRANGEBYSCORE", &k, &s, &s2, "WITHSCORES", "LIMIT", "0", "3"])),
        7 => cmd(v(&["ZREVRANGEBYSCORE", &k, &s, &s2])),
        8 => cmd(v(&["ZRANK", &k, &m])),
        9 => cmd(v(&["ZCOUNT", &k, &s, &s2])),
        10 => cmd(v(&["ZPOPMIN", &k, n.trim_start_matches('-')])),
        11 => cmd(v(&["ZUNIONSTORE", &k2, "2", &k, &k2, "AGGREGATE", "MAX"])),
        12 => cmd(v(&["ZINTER", "2", &k, &k2, "WITHSCORES"])),
        13 => cmd(v(&["ZREMRANGEBYRANK", &k, &n, &n2])),
        14 => cmd(v(&["ZRANGE", &k, "-", "+", "BYLEX"])),
        _ => cmd(v(&["OBJECT", "ENCODING", &k])),
    })
}

/// Search centres: ordinary ground, near the antimeridian, near the indexable poles.
const GEO_CENTRES: &[(f64, f64)] = &[(13.36, 38.11), (0.0, 0.0), (179.95, -10.0), (-179.95, 5.0), (45.0, 84.9), (-120.0, -84.9)];
const GEO_MEMBERS: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "h", "1", "2", "10", "p", "q", "r", "s", "t"];
const GEO_UNITS: &[&str] = &["m", "km", "ft", "mi", "KM"];

/// A coordinate near a centre: on a coarse grid (equal distances and equal cells are what
/// tie-ordering bugs need) or anywhere around it; clamped to the indexable area.
fn geo_point() -> impl Strategy<Value = (String, String)> {
    (0..GEO_CENTRES.len(), -4i32..5, -4i32..5, any::<bool>(), -0.5f64..0.5, -0.5f64..0.5).prop_map(|(c, gx, gy, grid, fx, fy)| {
        let (cx, cy) = GEO_CENTRES[c];
        let (dx, dy) = if grid { (gx as f64 * 0.05, gy as f64 * 0.05) } else { (fx, fy) };
        let lon = (cx + dx).clamp(-180.0, 180.0);
        let lat = (cy + dy).clamp(-85.05112878, 85.05112878);
        (format!("{}", lon), format!("{}", lat))
    })
}

fn geo_cmds() -> impl Strategy<Value = Cmd> {
    let opts = (any::<bool>(), any::<bool>(), any::<bool>(), 0u8..3, 0u8..4, 1u8..12);
    let shape = (0.0f64..300.0, 0.0f64..300.0, pick(GEO_UNITS));
    (0u8..19, (pick(KEYS), pick(KEYS)), (pick(GEO_MEMBERS), pick(GEO_MEMBERS)), (geo_point(), geo_point()), opts, shape).prop_map(
        |(op, (k, k2), (m, m2), ((x, y), (x2, y2)), (wd, wc, wh, order, count, n), (r, r2, unit))| {
            // The radius is in km-ish magnitudes whatever the unit: scale meters and feet up.
            let scale = match unit.as_str() {
                "m" | "ft" => 1000.0,
                _ => 1.0,
            };
            let (r, r2) = (format!("{}", r * scale), format!("{}", r2 * scale));
            let mut tail = vec![];
            for (on, w) in [(wd, "WITHDIST"), (wc, "WITHCOORD"), (wh, "WITHHASH")] {
                if on {
                    tail.push(w.to_string());
                }
            }
            let mut sort_count = vec![];
            match order {
                1 => sort_count.push("ASC".to_string()),
                2 => sort_count.push("DESC".to_string()),
                _ => {}
            }
            match count {
                1 | 2 => sort_count.extend(["COUNT".to_string(), n.to_string()]),
                3 => sort_count.extend(["COUNT".to_string(), n.to_string(), "ANY".to_string()]),
                _ => {}
            }
            let join = |head: &[&str], rest: &[Vec<String>]| -> Vec<String> {
                let mut out = v(head);
                for r in rest {
                    out.extend(r.iter().cloned());
                }
                out
            };
            match op {
                0..=3 => cmd(v(&["GEOADD", &k, &x, &y, &m, &x2, &y2, &m2])),
                4 => cmd(join(&["GEORADIUS", &k, &x, &y, &r, &unit], &[tail, sort_count])),
                5 => cmd(join(&["GEORADIUSBYMEMBER", &k, &m, &r, &unit], &[tail, sort_count])),
                6 => cmd(join(&["GEOSEARCH", &k, "FROMLONLAT", &x, &y, "BYBOX", &r, &r2, &unit], &[tail, sort_count])),
                7 => cmd(join(&["GEOSEARCH", &k, "FROMMEMBER", &m, "BYRADIUS", &r, &unit], &[tail, sort_count])),
                8 => cmd(join(
                    &["GEOSEARCHSTORE", &k2, &k, "FROMLONLAT", &x, &y, "BYRADIUS", &r, &unit],
                    &[sort_count, if wd { v(&["STOREDIST"]) } else { vec![] }],
                )),
                9 => cmd(join(&["GEORADIUS", &k, &x, &y, &r, &unit], &[sort_count, v(&[if wd { "STOREDIST" } else { "STORE" }, &k2])])),
                10 => cmd(v(&["ZRANGE", &k2, "0", "-1", "WITHSCORES"])),
                11 => cmd(v(&["GEODIST", &k, &m, &m2, &unit])),
                12 => cmd(v(&["GEOPOS", &k, &m, &m2])),
                13 => cmd(v(&["GEOHASH", &k, &m, &m2])),
                14 => cmd(v(&["GEOADD", &k, ["NX", "XX", "CH"][order as usize], if wc { "CH" } else { "NX" }, &x, &y, &m, &x2, &y2, &m2])),
                15 => cmd(join(&["GEORADIUSBYMEMBER", &k, &m, &r, &unit], &[sort_count, v(&[if wd { "STOREDIST" } else { "STORE" }, &k2])])),
                16 => cmd(join(&["GEOSEARCH", &k, "FROMMEMBER", &m, "BYBOX", &r, &r2, &unit], &[tail, sort_count])),
                17 => cmd(join(
                    &["GEOSEARCHSTORE", &k2, &k, "FROMMEMBER", &m, "BYBOX", &r, &r2, &unit],
                    &[sort_count, if wd { v(&["STOREDIST"]) } else { vec![] }],
                )),
                _ => cmd(join(&["GEORADIUS_RO", &k, &x, &y, &r, &unit], &[tail, sort_count])),
            }
        },
    )
}

/// HyperLogLog: batches of elements from a range wide enough to fill registers, merges
/// across keys, the raw bytes (GET) after each step, and damage so the corrupt-value paths
/// are compared too: header bytes after the encoding (cache, reserved) overwritten, whole
/// ZERO/VAL opcodes appended. (Never a half opcode: Redis then reads past the string.)
fn hll_cmds() -> impl Strategy<Value = Cmd> {
    let (k, k2, k3) = (pick(KEYS), pick(KEYS), pick(KEYS));
    let elems = proptest::collection::vec(0u32..4000, 0..24);
    (0u8..15, (k, k2, k3), elems, (5u32..16, 0u8..128)).prop_map(|(op, (k, k2, k3), elems, (off, byte))| {
        let mut add = v(&["PFADD", &k]);
        add.extend(elems.iter().map(|e| format!("e{}", e)));
        match op {
            0..=3 => cmd(add),
            4 => cmd(v(&["PFCOUNT", &k])),
            5 => cmd(v(&["PFCOUNT", &k, &k2, &k3])),
            6 => cmd(v(&["PFMERGE", &k, &k2])),
            7 => cmd(v(&["PFMERGE", &k, &k2, &k3])),
            8 => cmd(v(&["PFDEBUG", "ENCODING", &k])),
            9 => cmd(v(&["PFDEBUG", "DECODE", &k])),
            10 => cmd(v(&["PFDEBUG", "TODENSE", &k])),
            11 => cmd(vec!["SETRANGE".into(), k, off.to_string(), (byte as char).to_string()]),
            // A ZERO opcode, or (as UTF-8, two bytes of 0x80 and up) two VAL opcodes.
            12 => cmd(vec!["APPEND".into(), k, (if byte < 64 { byte as char } else { char::from_u32(0x80 + byte as u32).unwrap() }).to_string()]),
            _ => cmd(v(&["GET", &k])),
        }
    })
}

const BIT_OFFSETS: &[&str] = &["0", "1", "7", "8", "13", "31", "63", "64", "100"];
const FIELD_OFFSETS: &[&str] = &["0", "3", "7", "8", "13", "30", "64", "#0", "#1", "#3"];
const FIELD_TYPES: &[&str] = &["u1", "u3", "u8", "u16", "u63", "i1", "i5", "i8", "i32", "i64"];
const FIELD_VALUES: &[&str] = &["0", "1", "-1", "7", "100", "255", "-129", "9223372036854775807", "-9223372036854775808"];
const RANGES: &[&str] = &["0", "1", "-1", "2", "-2", "5", "7", "15", "-9", "100", "-100"];

fn bitmap_cmds() -> impl Strategy<Value = Cmd> {
    let keys = (pick(KEYS), pick(KEYS));
    let at = (pick(BIT_OFFSETS), pick(FIELD_OFFSETS), pick(FIELD_TYPES), pick(FIELD_VALUES), pick(RANGES), pick(RANGES));
    let choice = (pick(&["0", "1"]), pick(&["BIT", "BYTE"]), pick(&["WRAP", "SAT", "FAIL"]), pick(&["AND", "OR", "XOR"]), pick(INTS));
    (0u8..16, keys, at, choice).prop_map(|(op, (k, k2), (off, foff, ty, val, a, b), (bit, unit, ow, bop, n))| match op {
        0 | 1 => cmd(v(&["SETBIT", &k, &off, &bit])),
        2 => cmd(v(&["GETBIT", &k, &off])),
        3 => cmd(v(&["BITCOUNT", &k, &a, &b, &unit])),
        4 => cmd(v(&["BITPOS", &k, &bit, &a, &b, &unit])),
        5 => cmd(v(&["BITPOS", &k, &bit, &a])),
        6 => cmd(v(&["BITOP", &bop, &k2, &k, &k2])),
        7 => cmd(v(&["BITOP", "NOT", &k2, &k])),
        8 => cmd(v(&["BITFIELD", &k, "OVERFLOW", &ow, "INCRBY", &ty, &foff, &val, "GET", &ty, &foff])),
        9 => cmd(v(&["BITFIELD", &k, "OVERFLOW", &ow, "SET", &ty, &foff, &val])),
        10 => cmd(v(&["BITFIELD_RO", &k, "GET", &ty, &foff])),
        11 => cmd(v(&["SET", &k, &n])),
        12 => cmd(v(&["APPEND", &k, &n])),
        13 => cmd(v(&["BITCOUNT", &k])),
        _ => cmd(v(&["GET", &k])),
    })
}

/// Low thresholds so short sequences cross every encoding boundary.
const SETUP: &[&[&str]] = &[
    &["FLUSHALL"],
    &["CONFIG", "SET", "hash-max-listpack-entries", "3"],
    &["CONFIG", "SET", "hash-max-listpack-value", "16"],
    &["CONFIG", "SET", "list-max-listpack-size", "2"],
    &["CONFIG", "SET", "set-max-intset-entries", "3"],
    &["CONFIG", "SET", "zset-max-listpack-entries", "3"],
    &["CONFIG", "SET", "zset-max-listpack-value", "16"],
    &["CONFIG", "SET", "hll-sparse-max-bytes", "120"],
];

fn run(name: &str, strategy: impl Strategy<Value = Vec<Cmd>>) {
    let cin = crate::common::cinnabar();
    let red = spawn(&redis_server_binary());
    // The runner takes a Fn closure; the connections are used one case at a time.
    let conns = std::cell::RefCell::new((Conn::open(cin.port, false), Conn::open(red.port, false)));
    let mut runner = TestRunner::new(PtConfig { cases: 48, failure_persistence: None, ..PtConfig::default() });
    let result = runner.run(&strategy, |cmds| {
        let mut guard = conns.borrow_mut();
        let (c, r) = &mut *guard;
        for s in SETUP {
            let argv: Vec<Vec<u8>> = s.iter().map(|a| a.as_bytes().to_vec()).collect();
            c.call(&argv);
            r.call(&argv);
        }
        for (i, (argv, unordered)) in cmds.iter().enumerate() {
            let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
            let (ours, theirs) = (c.call(&argv), r.call(&argv));
            let same = if *unordered { sorted_items(&ours) == sorted_items(&theirs) } else { ours == theirs };
            prop_assert!(
                same,
                "command {} of {:?}:\n  cinnabar {:?}\n  redis    {:?}",
                i,
                cmds.iter().map(|c| c.0.join(" ")).collect::<Vec<_>>(),
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{}: {}", name, e);
    }
}

#[test]
fn random_hash_sequences_match_redis() {
    run("hash", proptest::collection::vec(hash_cmds(), 1..40));
}

#[test]
fn random_list_sequences_match_redis() {
    run("list", proptest::collection::vec(list_cmds(), 1..40));
}

#[test]
fn random_set_sequences_match_redis() {
    run("set", proptest::collection::vec(set_cmds(), 1..40));
}

#[test]
fn random_zset_sequences_match_redis() {
    run("zset", proptest::collection::vec(zset_cmds(), 1..40));
}

#[test]
fn random_geo_sequences_match_redis() {
    run("geo", proptest::collection::vec(geo_cmds(), 1..60));
}

#[test]
fn random_hll_sequences_match_redis() {
    run("hll", proptest::collection::vec(hll_cmds(), 1..40));
}

#[test]
fn random_bitmap_sequences_match_redis() {
    run("bitmap", proptest::collection::vec(bitmap_cmds(), 1..40));
}
