//! Bitmap family, reply-exact (expected replies checked against redis-server 7.0.15).

use crate::config::Config;
use crate::engine::HostReport;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn t() -> TestEngine {
    TestEngine::new()
}

fn ints(v: &[Option<i64>]) -> Reply {
    Reply::Array(v.iter().map(|n| n.map_or(Reply::Nil, Reply::Int)).collect())
}

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

#[test]
fn setbit_returns_the_old_bit_and_grows_the_string_with_zeros() {
    let mut t = t();
    assert_eq!(t.run(&["SETBIT", "k", "7", "1"]), int(0));
    assert_eq!(t.run(&["GET", "k"]), bulk("\x01"));
    assert_eq!(t.run(&["SETBIT", "k", "7", "1"]), int(1));
    assert_eq!(t.run(&["SETBIT", "k", "7", "0"]), int(1));
    assert_eq!(t.run(&["SETBIT", "k", "1", "1"]), int(0));
    assert_eq!(t.run(&["SETBIT", "k", "23", "0"]), int(0));
    assert_eq!(t.run(&["GET", "k"]), bulk("@\x00\x00"));
    assert_eq!(t.run(&["GETBIT", "k", "1"]), int(1));
    assert_eq!(t.run(&["GETBIT", "k", "2"]), int(0));
    assert_eq!(t.run(&["GETBIT", "k", "1000"]), int(0));
    assert_eq!(t.run(&["GETBIT", "nokey", "0"]), int(0));
}

#[test]
fn setbit_and_getbit_validate_offset_and_bit_like_redis() {
    let mut t = t();
    for off in ["-1", "x", "1.5", "", "+1", "01", "4294967296"] {
        assert_eq!(t.run(&["SETBIT", "k", off, "1"]), err(OFFSET_ERR), "{:?}", off);
        assert_eq!(t.run(&["GETBIT", "k", off]), err(OFFSET_ERR), "{:?}", off);
    }
    for bit in ["2", "-1", "x", ""] {
        assert_eq!(t.run(&["SETBIT", "k", "0", bit]), err("ERR bit is not an integer or out of range"));
    }
    // The offset is checked before the bit and before the key's type.
    t.run(&["LPUSH", "l", "a"]);
    assert_eq!(t.run(&["SETBIT", "l", "-1", "9"]), err(OFFSET_ERR));
    assert_eq!(t.run(&["SETBIT", "l", "0", "1"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    assert_eq!(t.run(&["GETBIT", "l", "0"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    assert_eq!(t.run(&["GETBIT", "k", "4294967295"]), int(0));
    assert_eq!(t.run(&["EXISTS", "k"]), int(0));
}

#[test]
fn the_offset_limit_follows_proto_max_bulk_len() {
    let mut t = t();
    assert_eq!(t.run(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]), ok());
    assert_eq!(t.run(&["SETBIT", "k", "8388608", "1"]), err(OFFSET_ERR));
    assert_eq!(t.run(&["BITFIELD", "k", "GET", "u8", "#1048576"]), err(OFFSET_ERR));
    assert_eq!(t.run(&["SETBIT", "k", "8388607", "1"]), int(0));
    assert_eq!(t.run(&["STRLEN", "k"]), int(1048576));
}

#[test]
fn an_int_encoded_string_is_its_decimal_text() {
    let mut t = t();
    t.run(&["SET", "n", "12345"]);
    // '1' is 0x31: bits 2, 3 and 7 set.
    assert_eq!(t.run(&["GETBIT", "n", "2"]), int(1));
    assert_eq!(t.run(&["GETBIT", "n", "4"]), int(0));
    assert_eq!(t.run(&["BITCOUNT", "n"]), int(17));
    assert_eq!(t.run(&["BITPOS", "n", "1"]), int(2));
    assert_eq!(t.run(&["BITFIELD", "n", "GET", "u8", "0"]), ints(&[Some(0x31)]));
    // A write that changes nothing still leaves the value raw, as dbUnshareStringValue does.
    assert_eq!(t.run(&["SETBIT", "n", "6", "0"]), int(0));
    assert_eq!(t.run(&["GET", "n"]), bulk("12345"));
    assert_eq!(t.run(&["SETBIT", "n", "7", "0"]), int(1));
    assert_eq!(t.run(&["GET", "n"]), bulk("02345"));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "n"]), bulk("raw"));
    t.run(&["SET", "m", "-7"]);
    assert_eq!(t.run(&["SETBIT", "m", "20", "1"]), int(0));
    assert_eq!(t.run(&["GET", "m"]), bulk("-7\x08"));
}

#[test]
fn bitcount_byte_and_bit_ranges() {
    let mut t = t();
    t.run(&["SET", "s", "foobar"]);
    assert_eq!(t.run(&["BITCOUNT", "s"]), int(26));
    assert_eq!(t.run(&["BITCOUNT", "s", "0", "0"]), int(4));
    assert_eq!(t.run(&["BITCOUNT", "s", "1", "1"]), int(6));
    assert_eq!(t.run(&["BITCOUNT", "s", "1", "1", "byte"]), int(6));
    assert_eq!(t.run(&["BITCOUNT", "s", "5", "30", "BIT"]), int(17));
    assert_eq!(t.run(&["BITCOUNT", "s", "-2", "-1"]), int(7));
    assert_eq!(t.run(&["BITCOUNT", "s", "3", "3", "BIT"]), int(0));
    assert_eq!(t.run(&["BITCOUNT", "s", "1", "6", "BIT"]), int(4));
    assert_eq!(t.run(&["BITCOUNT", "s", "100", "200"]), int(0));
    assert_eq!(t.run(&["BITCOUNT", "s", "-100", "100"]), int(26));
    // An inverted negative range is 0 before the unit word is looked at.
    assert_eq!(t.run(&["BITCOUNT", "s", "-1", "-2", "foo"]), int(0));
    assert_eq!(t.run(&["BITCOUNT", "s", "0", "1", "foo"]), err("ERR syntax error"));
    assert_eq!(t.run(&["BITCOUNT", "s", "0"]), err("ERR syntax error"));
    assert_eq!(t.run(&["BITCOUNT", "s", "0", "1", "BIT", "x"]), err("ERR syntax error"));
    assert_eq!(t.run(&["BITCOUNT", "s", "a", "1"]), err("ERR value is not an integer or out of range"));
    // A missing key is 0 whatever follows.
    assert_eq!(t.run(&["BITCOUNT", "nokey", "a", "b", "c", "d"]), int(0));
    t.run(&["SET", "e", ""]);
    assert_eq!(t.run(&["BITCOUNT", "e", "0", "-1", "BIT"]), int(0));
}

#[test]
fn bitpos_finds_set_and_clear_bits() {
    let mut t = t();
    t.run(&["SET", "p", ""]);
    t.run(&["SETBIT", "p", "0", "1"]);
    t.run(&["SETBIT", "p", "1", "1"]);
    t.run(&["SETBIT", "p", "12", "1"]);
    // p = 11000000 00001000
    assert_eq!(t.run(&["BITPOS", "p", "1"]), int(0));
    assert_eq!(t.run(&["BITPOS", "p", "0"]), int(2));
    assert_eq!(t.run(&["BITPOS", "p", "1", "1"]), int(12));
    assert_eq!(t.run(&["BITPOS", "p", "1", "2", "15", "BIT"]), int(12));
    assert_eq!(t.run(&["BITPOS", "p", "1", "2", "11", "BIT"]), int(-1));
    assert_eq!(t.run(&["BITPOS", "p", "0", "0", "1", "BIT"]), int(-1));
    assert_eq!(t.run(&["BITPOS", "p", "0", "1", "2", "BIT"]), int(2));
    assert_eq!(t.run(&["BITPOS", "p", "1", "-4", "-1", "BIT"]), int(12));
    assert_eq!(t.run(&["BITPOS", "p", "1", "5", "4", "BIT"]), int(-1));
    t.run(&["SET", "ones", "\u{7f}"]);
    t.run(&["SETBIT", "ones", "0", "1"]);
    // No clear bit: the string reads as zero-padded unless an end is given.
    assert_eq!(t.run(&["BITPOS", "ones", "0"]), int(8));
    assert_eq!(t.run(&["BITPOS", "ones", "0", "0"]), int(8));
    assert_eq!(t.run(&["BITPOS", "ones", "0", "0", "-1"]), int(-1));
    assert_eq!(t.run(&["BITPOS", "ones", "0", "3", "7", "BIT"]), int(-1));
    // Without an end the unit word would be taken for the end.
    assert_eq!(t.run(&["BITPOS", "ones", "0", "3", "BIT"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["BITPOS", "nokey", "0"]), int(0));
    assert_eq!(t.run(&["BITPOS", "nokey", "1"]), int(-1));
    assert_eq!(t.run(&["BITPOS", "p", "2"]), err("ERR The bit argument must be 1 or 0."));
    assert_eq!(t.run(&["BITPOS", "nokey", "2"]), err("ERR The bit argument must be 1 or 0."));
    assert_eq!(t.run(&["BITPOS", "p", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["BITPOS", "p", "0", "0", "1", "bits"]), err("ERR syntax error"));
    assert_eq!(t.run(&["BITPOS", "p", "0", "0", "1", "BIT", "x"]), err("ERR syntax error"));
}

#[test]
fn bitop_combines_sources_padded_with_zeros() {
    let mut t = t();
    t.run(&["SET", "a", "\u{7f}\u{0f}"]);
    t.run(&["SET", "b", "\u{70}"]);
    assert_eq!(t.run(&["BITOP", "AND", "r", "a", "b"]), int(2));
    assert_eq!(t.run(&["GET", "r"]), bulk("\u{70}\x00"));
    assert_eq!(t.run(&["BITOP", "or", "r", "b", "a"]), int(2));
    assert_eq!(t.run(&["GET", "r"]), bulk("\u{7f}\x0f"));
    assert_eq!(t.run(&["BITOP", "XOR", "r", "a", "b", "nokey"]), int(2));
    assert_eq!(t.run(&["GET", "r"]), bulk("\x0f\x0f"));
    assert_eq!(t.run(&["BITOP", "AND", "r", "nokey", "a"]), int(2));
    assert_eq!(t.run(&["GET", "r"]), bulk("\x00\x00"));
    assert_eq!(t.run(&["BITOP", "NOT", "r", "b"]), int(1));
    assert_eq!(t.run(&["GET", "r"]), Reply::Bulk(bytes::Bytes::from_static(b"\x8f")));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "r"]), bulk("raw"));
    // An empty result deletes the destination.
    assert_eq!(t.run(&["BITOP", "OR", "r", "nokey", "nokey2"]), int(0));
    assert_eq!(t.run(&["EXISTS", "r"]), int(0));
    assert_eq!(t.run(&["BITOP", "NOT", "r", "a", "b"]), err("ERR BITOP NOT must be called with a single source key."));
    assert_eq!(t.run(&["BITOP", "NAND", "r", "a"]), err("ERR syntax error"));
    t.run(&["LPUSH", "l", "x"]);
    assert_eq!(t.run(&["BITOP", "AND", "r", "a", "l"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    // The destination may hold any type, and loses its TTL.
    assert_eq!(t.run(&["BITOP", "OR", "l", "a"]), int(2));
    assert_eq!(t.run(&["TYPE", "l"]), Reply::Simple("string"));
    t.run(&["EXPIRE", "a", "100"]);
    assert_eq!(t.run(&["BITOP", "OR", "a", "a"]), int(2));
    assert_eq!(t.run(&["TTL", "a"]), int(-1));
}

#[test]
fn bitfield_get_set_incrby_with_each_overflow() {
    let mut t = t();
    assert_eq!(
        t.run(&["BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u8", "0", "GET", "i8", "0", "GET", "i4", "4"]),
        ints(&[Some(0), Some(255), Some(-1), Some(-1)])
    );
    assert_eq!(t.run(&["BITFIELD", "k", "SET", "u8", "#1", "7", "GET", "u8", "8", "INCRBY", "u8", "#1", "250"]), ints(&[Some(0), Some(7), Some(1)]));
    assert_eq!(t.run(&["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "8", "300", "INCRBY", "u8", "8", "-300"]), ints(&[Some(255), Some(0)]));
    assert_eq!(
        t.run(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "8", "256", "INCRBY", "u8", "8", "-1", "GET", "u8", "8"]),
        ints(&[None, None, Some(0)])
    );
    assert_eq!(
        t.run(&["BITFIELD", "k", "SET", "i8", "16", "127", "INCRBY", "i8", "16", "1", "OVERFLOW", "SAT", "INCRBY", "i8", "16", "-1000"]),
        ints(&[Some(0), Some(-128), Some(-128)])
    );
    // SET checks its value as an overflow too; a negative unsigned value saturates to the max.
    assert_eq!(
        t.run(&["BITFIELD", "k", "SET", "u8", "24", "-1", "OVERFLOW", "SAT", "SET", "u8", "24", "-1", "GET", "u8", "24"]),
        ints(&[Some(0), Some(255), Some(255)])
    );
    assert_eq!(t.run(&["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "i8", "24", "128", "GET", "i8", "24"]), ints(&[None, Some(-1)]));
    // 64-bit signed and 63-bit unsigned limits.
    assert_eq!(t.run(&["BITFIELD", "w", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1"]), ints(&[Some(0), Some(i64::MIN)]));
    assert_eq!(t.run(&["BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"]), ints(&[Some(i64::MIN)]));
    assert_eq!(t.run(&["BITFIELD", "w", "SET", "u63", "64", "-1", "INCRBY", "u63", "64", "1"]), ints(&[Some(0), Some(0)]));
    assert_eq!(t.run(&["BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "u63", "64", "-1", "GET", "u63", "64"]), ints(&[Some(0), Some(0)]));
    // Unaligned fields straddle bytes.
    assert_eq!(t.run(&["BITFIELD", "u", "SET", "u5", "3", "23", "GET", "u8", "0", "GET", "u16", "0"]), ints(&[Some(0), Some(23), Some(0x1700)]));
}

#[test]
fn bitfield_errors_leave_everything_untouched() {
    let mut t = t();
    let ty = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    for bad in ["u64", "i65", "i0", "u0", "x8", "I8", "8", "i", ""] {
        assert_eq!(t.run(&["BITFIELD", "k", "SET", "u8", "0", "1", "GET", bad, "0"]), err(ty), "{:?}", bad);
    }
    for off in ["-1", "#-1", "##1", "#", "4294967296", "#536870912"] {
        assert_eq!(t.run(&["BITFIELD", "k", "SET", "u8", "0", "1", "GET", "i8", off]), err(OFFSET_ERR), "{:?}", off);
    }
    assert_eq!(t.run(&["BITFIELD", "k", "SET", "i8", "0", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["BITFIELD", "k", "OVERFLOW", "foo", "GET", "i8", "0"]), err("ERR Invalid OVERFLOW type specified"));
    for argv in [&["BITFIELD", "k", "SET", "i8", "0"][..], &["BITFIELD", "k", "GET", "i8"], &["BITFIELD", "k", "OVERFLOW"], &["BITFIELD", "k", "foo"]] {
        assert_eq!(t.run(argv), err("ERR syntax error"), "{:?}", argv);
    }
    assert_eq!(t.run(&["EXISTS", "k"]), int(0));
    t.run(&["LPUSH", "l", "a"]);
    assert_eq!(t.run(&["BITFIELD", "l", "GET", "u8", "0"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    assert_eq!(t.run(&["BITFIELD", "l", "SET", "u8", "0", "1"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
}

#[test]
fn bitfield_reads_never_create_the_key() {
    let mut t = t();
    assert_eq!(t.run(&["BITFIELD", "k", "GET", "u8", "0", "GET", "i64", "1000"]), ints(&[Some(0), Some(0)]));
    assert_eq!(t.run(&["BITFIELD", "k"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["BITFIELD", "k", "OVERFLOW", "SAT"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["EXISTS", "k"]), int(0));
    // A write that FAIL refused still creates the (zeroed) string, as in Redis.
    assert_eq!(t.run(&["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u8", "8", "999"]), ints(&[None]));
    assert_eq!(t.run(&["GET", "k"]), bulk("\x00\x00"));
}

#[test]
fn bitfield_ro_only_gets() {
    let mut t = t();
    t.run(&["SET", "k", "\u{7f}"]);
    assert_eq!(t.run(&["BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i4", "#1"]), ints(&[Some(0x7f), Some(-1)]));
    assert_eq!(t.run(&["BITFIELD_RO", "nokey", "GET", "u8", "0"]), ints(&[Some(0)]));
    assert_eq!(t.run(&["BITFIELD_RO", "k"]), Reply::Array(vec![]));
    for argv in [&["BITFIELD_RO", "k", "SET", "u8", "0", "1"][..], &["BITFIELD_RO", "k", "GET", "u8", "0", "INCRBY", "u8", "0", "1"]] {
        assert_eq!(t.run(argv), err("ERR BITFIELD_RO only supports the GET subcommand"));
    }
    // Argument errors come first.
    assert_eq!(
        t.run(&["BITFIELD_RO", "k", "SET", "u64", "0", "1"]),
        err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
    );
    assert_eq!(t.run(&["GET", "k"]), bulk("\u{7f}"));
}

#[test]
fn writes_count_changes_and_fail_watches_only_when_something_changed() {
    let mut t = t();
    let dirty = |t: &mut TestEngine| t.engine.srv.stats.dirty;
    t.run(&["SETBIT", "k", "0", "1"]);
    let d = dirty(&mut t);
    assert_eq!(t.run(&["SETBIT", "k", "0", "1"]), int(1));
    assert_eq!(t.run(&["SETBIT", "k", "5", "0"]), int(0));
    assert_eq!(t.run(&["BITFIELD", "k", "SET", "u8", "0", "128", "GET", "u8", "0"]), ints(&[Some(128), Some(128)]));
    assert_eq!(dirty(&mut t), d, "no bit changed");
    assert_eq!(t.run(&["BITFIELD", "k", "SET", "u4", "0", "1", "SET", "u4", "4", "1", "SET", "u4", "4", "1"]), ints(&[Some(8), Some(0), Some(1)]));
    assert_eq!(dirty(&mut t), d + 2, "one change per field that changed");
    t.run(&["WATCH", "k"]);
    t.run(&["SETBIT", "k", "3", "0"]);
    t.run(&["MULTI"]);
    t.run(&["GET", "k"]);
    assert_eq!(t.run(&["EXEC"]), Reply::NilArray);
    t.run(&["WATCH", "k"]);
    t.run(&["SETBIT", "k", "0", "0"]);
    t.run(&["BITFIELD", "k", "GET", "u8", "0"]);
    t.run(&["MULTI"]);
    t.run(&["GET", "k"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![bulk("\x01")]));
}

#[test]
fn writes_propagate_as_sent_and_only_when_they_changed_something() {
    let mut t = t();
    t.aof_on();
    t.run(&["SETBIT", "k", "0", "1"]);
    t.run(&["SETBIT", "k", "0", "1"]);
    t.run(&["BITFIELD", "k", "GET", "u8", "0"]);
    t.run(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"]);
    t.run(&["BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u8", "0"]);
    t.run(&["BITOP", "NOT", "d", "k"]);
    t.run(&["BITOP", "AND", "d", "nokey"]);
    t.run(&["BITOP", "AND", "d", "nokey"]);
    t.run(&["BITFIELD_RO", "k", "GET", "u8", "0"]);
    // Created but with no field written: no change counted, so not propagated (as Redis).
    t.run(&["BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u8", "0", "999"]);
    t.run(&["SETBIT", "z", "10", "0"]);
    // What redis-server 7.0.15 appends to its AOF for the same commands.
    assert_eq!(t.aof_commands(), ["SELECT 0", "SETBIT k 0 1", "BITFIELD k SET u8 0 1 GET u8 0", "BITOP NOT d k", "BITOP AND d nokey", "SETBIT z 10 0"]);
}

#[test]
fn an_aof_replay_ignores_the_offset_limit() {
    let mut t = t();
    t.aof_on();
    t.run(&["SETBIT", "k", "8388608", "1"]);
    t.run(&["BITFIELD", "k", "SET", "u8", "#1048577", "5"]);
    let aof = t.engine.take_aof();
    let mut c = Config::default();
    c.set("proto-max-bulk-len", "1mb", true).unwrap();
    let mut r = TestEngine::with_config(c);
    r.engine.aof_load(&aof, r.now_us).expect("replays");
    r.engine.report(HostReport::LoadingFinished);
    assert_eq!(r.run(&["STRLEN", "k"]), int(1048578));
    assert_eq!(r.run(&["GETBIT", "k", "8388608"]), err(OFFSET_ERR));
    assert_eq!(r.run(&["BITCOUNT", "k"]), int(3));
}

#[test]
fn keyspace_events_name_setbit_set_and_del() {
    let mut t = t();
    t.run(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let sub = t.connect();
    t.run_as(sub, &["PSUBSCRIBE", "__keyevent@0__:*"]);
    let events = |t: &mut TestEngine| -> Vec<String> {
        t.replies_for(sub)
            .into_iter()
            .filter_map(|r| match r {
                Reply::Push(v) | Reply::Array(v) => match &v[2] {
                    Reply::Bulk(c) => Some(String::from_utf8_lossy(c).into_owned()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    };
    events(&mut t);
    t.run(&["SETBIT", "k", "3", "1"]);
    t.run(&["SETBIT", "k", "3", "1"]);
    t.run(&["BITFIELD", "k", "INCRBY", "u2", "0", "1", "INCRBY", "u2", "2", "1"]);
    t.run(&["BITOP", "OR", "d", "k"]);
    t.run(&["BITOP", "OR", "d", "nokey"]);
    assert_eq!(events(&mut t), ["__keyevent@0__:setbit", "__keyevent@0__:setbit", "__keyevent@0__:set", "__keyevent@0__:del"]);
}
