//! RDB round trips for every type and encoding, byte-exact DUMP payloads against redis-server
//! 7.0.15's, and the loader's answers to damaged or forged files. Run natively and in wasm.

#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

use crate::config::Config;
use crate::reply::Reply;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn dump_of(t: &mut TestEngine, key: &str) -> Vec<u8> {
    match t.run(&["DUMP", key]) {
        Reply::Bulk(b) => b.to_vec(),
        other => panic!("DUMP {}: {:?}", key, other),
    }
}

/// Everything a client can see of a key, sets and hashes in a canonical order.
fn view(t: &mut TestEngine, key: &str) -> Vec<String> {
    let ty = t.run(&["TYPE", key]);
    let mut out = vec![format!("{:?}", ty), format!("{:?}", t.run(&["OBJECT", "ENCODING", key])), format!("{:?}", t.run(&["PTTL", key]))];
    let sorted = |r: Reply| match r {
        Reply::Array(mut items) => {
            items.sort_by_key(|i| format!("{:?}", i));
            format!("{:?}", items)
        }
        other => format!("{:?}", other),
    };
    match ty {
        Reply::Simple("string") => out.push(format!("{:?}", t.run(&["GET", key]))),
        Reply::Simple("list") => out.push(format!("{:?}", t.run(&["LRANGE", key, "0", "-1"]))),
        Reply::Simple("set") => out.push(sorted(t.run(&["SMEMBERS", key]))),
        Reply::Simple("zset") => out.push(format!("{:?}", t.run(&["ZRANGE", key, "0", "-1", "WITHSCORES"]))),
        Reply::Simple("hash") => {
            // Pairs, so sorting keeps each value with its field.
            let pairs = match t.run(&["HGETALL", key]) {
                Reply::Array(items) => items.chunks(2).map(|p| format!("{:?}", p)).collect::<Vec<_>>(),
                other => vec![format!("{:?}", other)],
            };
            let mut pairs = pairs;
            pairs.sort();
            out.push(pairs.join(","));
        }
        Reply::Simple("stream") => {
            out.push(format!("{:?}", t.run(&["XRANGE", key, "-", "+"])));
            out.push(format!("{:?}", t.run(&["XINFO", "STREAM", key, "FULL"])));
        }
        other => panic!("{:?}", other),
    }
    out
}

fn keys(t: &mut TestEngine) -> Vec<String> {
    match t.run(&["KEYS", "*"]) {
        Reply::Array(items) => {
            let mut k: Vec<String> = items
                .into_iter()
                .map(|r| match r {
                    Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => panic!("{:?}", other),
                })
                .collect();
            k.sort();
            k
        }
        other => panic!("{:?}", other),
    }
}

/// Saves `t`, loads the file into a fresh engine with the same configuration, and checks that
/// every key in every database looks the same there, OBJECT ENCODING included.
fn assert_round_trip(t: &mut TestEngine, config: Config) -> Vec<u8> {
    let rdb = t.engine.rdb_snapshot();
    let mut u = TestEngine::with_config(config);
    let loaded = u.engine.rdb_load(&rdb).unwrap_or_else(|e| panic!("load: {}", e));
    let mut total = 0;
    for db in 0..16 {
        t.run(&["SELECT", &db.to_string()]);
        u.run(&["SELECT", &db.to_string()]);
        let names = keys(t);
        assert_eq!(keys(&mut u), names, "db {}", db);
        total += names.len();
        for k in &names {
            assert_eq!(view(&mut u, k), view(t, k), "db {} key {}", db, k);
        }
    }
    t.run(&["SELECT", "0"]);
    assert_eq!(loaded, total);
    rdb
}

/// A dataset with every type in each of its encodings, strings at every integer boundary,
/// values big enough to compress, and keys with TTLs in two databases.
fn every_encoding(t: &mut TestEngine) {
    for n in [
        "0",
        "127",
        "128",
        "-128",
        "-129",
        "32767",
        "32768",
        "-32768",
        "-32769",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "9223372036854775807",
        "-9223372036854775808",
    ] {
        t.run(&["SET", &format!("int:{}", n), n]);
        // The same digits as a key, a hash field and a list element: RDB integer-encodes
        // every string, not just values.
        t.run(&["SET", n, "key-is-a-number"]);
    }
    for (k, v) in [
        ("empty", ""),
        ("zeros", "007"),
        ("plus", "+1"),
        ("minus0", "-0"),
        ("space", " 1"),
        ("emb", "hello"),
        ("twenty", "aaaaaaaaaaaaaaaaaaaa"),
        ("twentyone", "aaaaaaaaaaaaaaaaaaaaa"),
    ] {
        t.run(&["SET", k, v]);
    }
    t.run(&["SET", "raw", &"xyz".repeat(30)]);
    t.run(&["APPEND", "appended", "12"]); // raw, though it reads as an integer
    t.run(&["SET", "big-compressible", &"abcdefgh".repeat(20_000)]);
    let noise: String = (0..70_000u32).map(|i| (b'!' + ((i.wrapping_mul(2654435761) >> 20) % 90) as u8) as char).collect();
    t.run(&["SET", "big-noise", &noise]);
    t.run(&["SET", "ttl", "v", "PX", "123456"]);

    t.run(&["RPUSH", "list:small", "a", "1", "-70000", "bb", "3000000000", ""]);
    for i in 0..2000 {
        t.run(&["RPUSH", "list:nodes", &format!("element-{}", i), &i.to_string()]);
    }
    t.run(&["RPUSH", "list:huge", "head", &"z".repeat(100_000), "tail"]);
    t.run(&["LPUSH", "list:ttl", "x"]);
    t.run(&["EXPIRE", "list:ttl", "1000"]);

    t.run(&["SADD", "set:int16", "1", "-5", "300"]);
    t.run(&["SADD", "set:int32", "1", "70000"]);
    t.run(&["SADD", "set:int64", "1", "5000000000", "-9223372036854775808"]);
    t.run(&["SADD", "set:words", "x", "y", "1"]);
    let ints: Vec<String> = (0..600).map(|i| (i * 7).to_string()).collect();
    let mut sadd = vec!["SADD", "set:bigints"];
    sadd.extend(ints.iter().map(|s| s.as_str()));
    t.run(&sadd);

    t.run(&["ZADD", "zset:small", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "0", "7", "-0.125", "e"]);
    for i in 0..200 {
        t.run(&["ZADD", "zset:big", &format!("{}.5", i), &format!("m{}", i)]);
    }
    t.run(&["ZADD", "zset:long", "1", &"m".repeat(100)]);

    t.run(&["HSET", "hash:small", "f", "v", "n", "12", "-1", "neg", "", "empty"]);
    for i in 0..600 {
        t.run(&["HSET", "hash:big", &format!("f{}", i), &i.to_string()]);
    }
    t.run(&["HSET", "hash:long", "f", &"v".repeat(100)]);

    for i in 1..=120 {
        t.run(&["XADD", "stream", &format!("{}-{}", i, i % 3), "n", &i.to_string(), if i % 2 == 0 { "even" } else { "odd" }, "y"]);
    }
    t.run(&["XDEL", "stream", "7-1"]);
    t.run(&["XGROUP", "CREATE", "stream", "g1", "0"]);
    t.run(&["XGROUP", "CREATE", "stream", "g2", "$"]);
    t.run(&["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "stream", ">"]);
    t.run(&["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "stream", ">"]);
    t.run(&["XGROUP", "CREATECONSUMER", "stream", "g2", "idle"]);
    t.run(&["XGROUP", "CREATE", "emptystream", "g", "$", "MKSTREAM"]);

    t.run(&["SELECT", "9"]);
    t.run(&["SET", "in9", "x", "EX", "50"]);
    t.run(&["HSET", "h9", "a", "b"]);
    t.run(&["SELECT", "0"]);
}

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
    // The key past its deadline is saved, as redis-server 7.0 saves it; loading drops it.
    assert!(rdb.windows(4).any(|w| w == b"gone"));
    // The aux fields rdbSaveInfoAuxFields writes, integers integer-encoded ("64" is C0 40).
    for aux in [&b"\xfa\x09redis-ver\x067.0.15"[..], b"\xfa\x0aredis-bits\xc0\x40", b"\xfa\x05ctime\xc2", b"\xfa\x08used-mem", b"\xfa\x08aof-base\xc0\x00"] {
        assert!(rdb.windows(aux.len()).any(|w| w == aux), "{:?}", String::from_utf8_lossy(aux));
    }
}

#[test]
fn rdbcompression_and_rdbchecksum_are_config_parameters_as_in_redis() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["CONFIG", "GET", "rdbc*"]), Reply::Map(vec![(bulk("rdbchecksum"), bulk("yes")), (bulk("rdbcompression"), bulk("yes"))]));
    assert_eq!(t.run(&["CONFIG", "SET", "rdbcompression", "no"]), ok());
    assert_eq!(
        t.run(&["CONFIG", "SET", "rdbchecksum", "no"]),
        err("ERR CONFIG SET failed (possibly related to argument 'rdbchecksum') - can't set immutable config")
    );
}

#[test]
fn crc64_is_redis_crc64_jones() {
    // crc64.c's own test vector.
    assert_eq!(crc64::crc64(0, b"123456789"), 0xe9c6d914c4b8d9ca);
}

#[test]
fn every_type_and_encoding_survives_a_save_and_a_load() {
    let mut t = TestEngine::new();
    every_encoding(&mut t);
    let rdb = assert_round_trip(&mut t, Config::default());
    // Long strings went in compressed: the 160 KB value is a few hundred bytes in the file.
    assert!(rdb.len() < 150_000, "{} bytes", rdb.len());
}

#[test]
fn encodings_follow_the_thresholds_in_force_at_load_time() {
    let mut t = TestEngine::new();
    t.run(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    t.run(&["SADD", "s", "1", "2", "3"]);
    let rdb = t.engine.rdb_snapshot();
    let mut small = Config::default();
    for p in ["hash-max-listpack-entries", "zset-max-listpack-entries", "set-max-intset-entries"] {
        small.set(p, "2", true).unwrap();
    }
    let mut u = TestEngine::with_config(small);
    u.engine.rdb_load(&rdb).unwrap();
    assert_eq!(u.run(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    assert_eq!(u.run(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    assert_eq!(u.run(&["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
    assert_eq!(u.run(&["ZRANGE", "z", "0", "-1"]), arr(&["a", "b", "c"]));
}

#[test]
fn without_rdbcompression_strings_are_written_verbatim() {
    let mut t = TestEngine::new();
    every_encoding(&mut t);
    t.run(&["CONFIG", "SET", "rdbcompression", "no"]);
    let rdb = assert_round_trip(&mut t, Config::default());
    assert!(rdb.len() > 300_000, "{} bytes", rdb.len());
    let payload = dump_of(&mut t, "big-compressible");
    assert_eq!(&payload[..2], &[0x00, 0x80], "a plain 32-bit length, no LZF");
}

#[test]
fn without_rdbchecksum_the_file_ends_in_zeros_and_is_not_verified() {
    let mut off = Config::default();
    off.set("rdbchecksum", "no", true).unwrap();
    let mut t = TestEngine::with_config(off.clone());
    t.run(&["SET", "k", "value"]);
    let mut rdb = assert_round_trip(&mut t, off.clone());
    assert_eq!(&rdb[rdb.len() - 8..], &[0; 8]);
    // A zero checksum means "not computed" to a loader that does verify.
    let mut u = TestEngine::new();
    assert_eq!(u.engine.rdb_load(&rdb), Ok(1));
    // A wrong non-zero checksum fails only where checksums are verified.
    let n = rdb.len();
    rdb[n - 1] = 1;
    assert!(u.engine.rdb_load(&rdb).unwrap_err().starts_with("Wrong RDB checksum expected: ("));
    let mut v = TestEngine::with_config(off);
    assert_eq!(v.engine.rdb_load(&rdb), Ok(1));
}

#[test]
fn dump_payloads_match_redis_byte_for_byte() {
    // Payloads of redis-server 7.0.15's DUMP after these commands (rdbcompression yes).
    let mut t = TestEngine::new();
    let cases: &[(&[&str], &str)] = &[
        (&["SADD", "s", "1", "2", "3"], "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b"),
        (&["RPUSH", "l", "a", "1", "-70000", "bb"], "120102151500000004008161020101f290eefe0482626203ff0a008288fe4bade931ee"),
        (&["ZADD", "z", "1", "a", "2.5", "b"], "1114140000000400816102010181620283322e3504ff0a00d44c6ea4f644d9d7"),
        (&["HSET", "h", "a", "1"], "100c0c00000002008161020101ff0a0084a693e8aa17e4db"),
        (&["SET", "i", "12"], "00c00c0a003c2af8515c04bcd5"),
        (&["SET", "i2", "-129"], "00c17fff0a001760822854808480"),
        (&["SET", "i3", "70000"], "00c2701101000a0001a408fe953095a5"),
        (&["SET", "i4", "3000000000"], "000a333030303030303030300a00e7076b7954bb7947"),
        (&["SET", "e", ""], "00000a005d9b5c400f7fa2da"),
        (&["SET", "n", "007"], "00033030370a007258e27b4c69bad9"),
        (&["SET", "a40", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], "00c30928016161e01b000161610a00cf092faaae25831d"),
    ];
    for (cmd, want) in cases {
        t.run(cmd);
        let got = dump_of(&mut t, cmd[1]);
        assert_eq!(got, hex(want), "{:?}", cmd);
    }
}

#[test]
fn lists_write_elements_past_the_packed_threshold_as_plain_nodes() {
    let mut t = TestEngine::new();
    t.run(&["RPUSH", "l", "a", "b", &"x".repeat(40), "c", &"y".repeat(50), &"z".repeat(60)]);
    let value = t.engine.srv.dbs[0].peek(b"l").unwrap().value.clone();
    let mut w = super::Writer::new(false);
    w.plain_threshold = 40;
    w.byte(super::save::object_type(&value));
    w.object(&value);
    let mut payload = w.into_bytes();
    super::frame(&mut payload);
    // Five nodes: packed [a b], plain x.., packed [c], plain y.., plain z...
    assert_eq!(&payload[..3], &[18, 5, 2]);
    assert!(payload.windows(3).any(|w| w == [1, 40, b'x']));
    assert!(payload.windows(3).any(|w| w == [1, 50, b'y']));
    let argv = ["RESTORE", "copy", "0"].iter().map(|a| bytes::Bytes::from(a.to_string())).chain([bytes::Bytes::from(payload)]).collect();
    assert_eq!(t.run_bytes(argv), ok());
    assert_eq!(t.run(&["LRANGE", "copy", "0", "-1"]), t.run(&["LRANGE", "l", "0", "-1"]));
}

#[test]
fn function_libraries_survive_with_compressed_code() {
    let mut t = TestEngine::new();
    let code = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 'hello hello hello hello' end)";
    assert_eq!(t.run(&["FUNCTION", "LOAD", code]), bulk("mylib"));
    let rdb = t.engine.rdb_snapshot();
    assert!(rdb.windows(2).any(|w| w == [0xF5, 0xC3]), "the library code is LZF-compressed");
    let mut u = TestEngine::new();
    u.engine.rdb_load(&rdb).unwrap();
    assert_eq!(u.run(&["FCALL", "myfunc", "0"]), bulk("hello hello hello hello"));
    // FUNCTION DUMP compresses the same way and restores.
    let Reply::Bulk(p) = t.run(&["FUNCTION", "DUMP"]) else { panic!() };
    let argv = ["FUNCTION", "RESTORE"].iter().map(|a| bytes::Bytes::from(a.to_string())).chain([p]).collect();
    let mut v = TestEngine::new();
    assert_eq!(v.run_bytes(argv), ok());
    assert_eq!(v.run(&["FCALL", "myfunc", "0"]), bulk("hello hello hello hello"));
}

#[test]
fn lru_idle_times_and_lfu_counters_are_saved_under_those_policies() {
    let mut lru = Config::default();
    lru.set("maxmemory-policy", "allkeys-lru", true).unwrap();
    let mut t = TestEngine::with_config(lru.clone());
    t.run(&["SET", "k", "v"]);
    t.advance_ms(100_000);
    t.run(&["PING"]);
    let rdb = t.engine.rdb_snapshot();
    assert!(rdb.windows(3).any(|w| w == [0xF8, 0x40, 100]), "IDLE 100 seconds");
    let mut u = TestEngine::with_config(lru);
    u.now_us = t.now_us;
    u.run(&["PING"]);
    u.engine.rdb_load(&rdb).unwrap();
    assert_eq!(u.run(&["OBJECT", "IDLETIME", "k"]), int(100));

    let mut lfu = Config::default();
    lfu.set("maxmemory-policy", "allkeys-lfu", true).unwrap();
    let mut t = TestEngine::with_config(lfu.clone());
    t.run(&["SET", "k", "v"]);
    for _ in 0..200 {
        t.run(&["GET", "k"]);
    }
    let freq = t.run(&["OBJECT", "FREQ", "k"]);
    let rdb = t.engine.rdb_snapshot();
    assert!(rdb.windows(1).any(|w| w == [0xF9]));
    let mut u = TestEngine::with_config(lfu);
    u.engine.rdb_load(&rdb).unwrap();
    assert_eq!(u.run(&["OBJECT", "FREQ", "k"]), freq);
}

#[test]
fn dump_then_load_restores_the_dataset_and_a_bad_file_changes_nothing() {
    let mut t = TestEngine::new();
    t.run(&["SET", "s", "v", "EX", "100"]);
    t.run(&["SELECT", "2"]);
    t.run(&["SET", "in2", "x"]);
    let rdb = t.engine.rdb_snapshot();
    let mut u = TestEngine::new();
    assert_eq!(u.engine.rdb_load(&rdb), Ok(2));
    assert_eq!(u.run(&["TTL", "s"]), int(100));
    // A flipped byte fails the checksum; nothing is loaded.
    let mut bad = rdb.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    u.run(&["FLUSHALL"]);
    u.run(&["SET", "kept", "1"]);
    assert!(u.engine.rdb_load(&bad).is_err());
    assert_eq!(u.run(&["GET", "kept"]), bulk("1"));
}

#[test]
fn keys_already_expired_are_not_loaded() {
    let mut t = TestEngine::new();
    t.run(&["SET", "short", "v", "PX", "500"]);
    t.run(&["SET", "long", "v", "PX", "5000"]);
    let rdb = t.engine.rdb_snapshot();
    let mut u = TestEngine::new();
    u.advance_ms(1000);
    u.run(&["PING"]);
    assert_eq!(u.engine.rdb_load(&rdb), Ok(1));
    assert_eq!(u.run(&["DBSIZE"]), int(1));
    assert_eq!(u.run(&["PTTL", "long"]), int(4000));
}

/// A file with one key of type `ty` whose value body is `body`, checksum zero.
fn file_with(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut f = b"REDIS0010\xfe\x00".to_vec();
    f.push(ty);
    f.extend_from_slice(b"\x01k");
    f.extend_from_slice(body);
    f.push(0xFF);
    f.extend_from_slice(&[0; 8]);
    f
}

#[test]
fn empty_collections_are_skipped_by_load_and_refused_by_restore() {
    let mut t = TestEngine::new();
    for (ty, body) in [
        (1u8, &b"\x00"[..]),
        (2, b"\x00"),
        (4, b"\x00"),
        (5, b"\x00"),
        (16, b"\x07\x07\x00\x00\x00\x00\x00\xff"),
        (18, b"\x01\x02\x07\x07\x00\x00\x00\x00\x00\xff"),
    ] {
        let f = file_with(ty, body);
        assert_eq!(t.engine.rdb_load(&f), Ok(0), "type {}", ty);
        let mut payload = vec![ty];
        payload.extend_from_slice(body);
        super::frame(&mut payload);
        let argv = ["RESTORE", "k", "0"].iter().map(|a| bytes::Bytes::from(a.to_string())).chain([bytes::Bytes::from(payload)]).collect();
        assert_eq!(t.run_bytes(argv), err("ERR Bad data format"), "type {}", ty);
    }
    assert_eq!(t.run(&["DBSIZE"]), int(0));
}

/// RESTORE of a value that fails its checks logs rdbReportError's line at verbose, with the
/// reason named for the type holding the ziplist, and a file's empty keys are skipped and
/// logged as rdbLoadRio logs them.
#[test]
fn corrupt_values_and_empty_keys_are_logged_as_redis_logs_them() {
    let logs = |t: &mut TestEngine| -> Vec<String> {
        t.engine.drain_events().into_iter().filter_map(|e| if let crate::event::Event::Log { message, .. } = e { Some(message) } else { None }).collect()
    };
    let mut t = TestEngine::new();
    t.run(&["CONFIG", "SET", "loglevel", "verbose"]);
    // A zset ziplist whose second entry's prevlen is wrong.
    let mut zl = super::ziplist::tests::ziplist(&[&super::ziplist::tests::zstr(b"m"), &[0xF2]]);
    zl[13] = 7;
    let mut payload = vec![12u8, zl.len() as u8];
    payload.extend_from_slice(&zl);
    super::frame(&mut payload);
    let argv = ["RESTORE", "k", "0"].iter().map(|a| bytes::Bytes::from(a.to_string())).chain([bytes::Bytes::from(payload)]).collect();
    assert_eq!(t.run_bytes(argv), err("ERR Bad data format"));
    assert_eq!(logs(&mut t), ["Internal error in RDB reading offset 0, function at rdb.c:2227 -> Zset ziplist integrity check failed."]);
    assert_eq!(t.engine.rdb_load(&file_with(2, b"\x00")), Ok(0));
    assert_eq!(logs(&mut t), ["rdbLoadObject skipping empty key: k", "Done loading RDB, keys loaded: 0, keys expired: 0, empty keys skipped: 1."]);
}

#[test]
fn duplicates_are_corrupt() {
    let mut t = TestEngine::new();
    for (ty, body, why) in [
        (2u8, &b"\x02\x01a\x01a"[..], "Duplicate set members detected"),
        (2, b"\x02\xc0\x01\x011", "Duplicate set members detected"),
        (4, b"\x02\x01f\x01v\x01f\x01w", "Duplicate hash fields detected"),
        (5, b"\x02\x01m\x00\x00\x00\x00\x00\x00\xf0\x3f\x01m\x00\x00\x00\x00\x00\x00\x00\x40", "Duplicate zset fields detected"),
        (16, b"\x11\x11\x00\x00\x00\x04\x00\x81f\x02\x01\x01\x81f\x02\x02\x01\xff", "Hash listpack integrity check failed."),
    ] {
        assert_eq!(t.engine.rdb_load(&file_with(ty, body)), Err(why.to_string()), "type {}", ty);
    }
    let mut twice = b"REDIS0010\xfe\x00\x00\x01k\x01a\x00\x01k\x01b\xff".to_vec();
    twice.extend_from_slice(&[0; 8]);
    assert_eq!(t.engine.rdb_load(&twice), Err("RDB has duplicated key 'k' in DB 0".into()));
}

#[test]
fn module_data_is_refused_with_the_module_name() {
    let mut t = TestEngine::new();
    // A module id: the 9-character name "cinnabar-" (6 bits a character) then version 1.
    let cset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let id = b"cinnabar-".iter().fold(0u64, |acc, c| (acc << 6) | cset.iter().position(|x| x == c).unwrap() as u64) << 10 | 1;
    let mut aux = b"REDIS0010\xf7\x81".to_vec();
    aux.extend_from_slice(&id.to_be_bytes());
    assert_eq!(t.engine.rdb_load(&aux), Err("The RDB file contains AUX module data I can't load: no matching module 'cinnabar-'".into()));
    let mut body = vec![0x81];
    body.extend_from_slice(&id.to_be_bytes());
    assert_eq!(t.engine.rdb_load(&file_with(7, &body)), Err("The RDB file contains module data I can't load: no matching module type 'cinnabar-'".into()));
}

#[test]
fn forged_lengths_are_errors_not_allocations() {
    let mut t = TestEngine::new();
    let huge = b"\x81\x10\x00\x00\x00\x00\x00\x00\x00"; // 2^60
    for (ty, body) in [
        (0u8, huge.to_vec()),                // a 2^60-byte string
        (1, [&huge[..], b"\x01a"].concat()), // a list of 2^60 elements
        (2, huge.to_vec()),
        (4, huge.to_vec()),
        (5, huge.to_vec()),
        (18, huge.to_vec()),                                                    // 2^60 quicklist nodes
        (0, [&b"\xc3\x02"[..], &huge[..], b"\x00a"].concat()),                  // LZF claiming 2^60 bytes out
        (0, [&b"\xc3"[..], &huge[..], b"\x05"].concat()),                       // LZF claiming 2^60 bytes in
        (16, b"\x0c\xff\xff\xff\x7f\x02\x00\x81a\x02\x01\x01\xff".to_vec()),    // listpack size 2 GB
        (11, b"\x0c\x08\x00\x00\x00\xff\xff\xff\x0f\x01\x00\x00\x00".to_vec()), // intset 268M x 8 bytes
        (19, [&huge[..]].concat()),                                             // 2^60 stream nodes
    ] {
        assert!(t.engine.rdb_load(&file_with(ty, &body)).is_err(), "type {} {:?}", ty, body);
    }
}
