//! Strings family, reply-exact (expected replies checked against redis-server 7.0.15).

use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn t() -> TestEngine {
    TestEngine::new()
}

#[test]
fn set_then_get_returns_the_value_and_missing_keys_are_nil() {
    let mut t = t();
    assert_eq!(t.run(&["SET", "k", "v"]), ok());
    assert_eq!(t.run(&["GET", "k"]), bulk("v"));
    assert_eq!(t.run(&["GET", "nope"]), Reply::Nil);
}

#[test]
fn set_nx_and_xx_only_write_when_the_condition_holds() {
    let mut t = t();
    assert_eq!(t.run(&["SET", "k", "1", "XX"]), Reply::Nil);
    assert_eq!(t.run(&["SET", "k", "1", "NX"]), ok());
    assert_eq!(t.run(&["SET", "k", "2", "NX"]), Reply::Nil);
    assert_eq!(t.run(&["SET", "k", "3", "XX"]), ok());
    assert_eq!(t.run(&["GET", "k"]), bulk("3"));
}

#[test]
fn set_get_returns_the_old_value_even_when_nx_aborts() {
    let mut t = t();
    assert_eq!(t.run(&["SET", "k", "a", "GET"]), Reply::Nil);
    assert_eq!(t.run(&["SET", "k", "b", "GET"]), bulk("a"));
    assert_eq!(t.run(&["SET", "k", "c", "NX", "GET"]), bulk("b"));
    assert_eq!(t.run(&["GET", "k"]), bulk("b"));
}

#[test]
fn conflicting_or_unknown_set_options_are_syntax_errors() {
    let mut t = t();
    for argv in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "PERSIST"],
        &["SET", "k", "v", "FOO"],
    ] {
        assert_eq!(t.run(argv), err("ERR syntax error"), "{:?}", argv);
    }
    // The same option twice is accepted.
    assert_eq!(t.run(&["SET", "k", "v", "NX", "NX"]), ok());
}

#[test]
fn set_expire_arguments_are_validated_like_redis() {
    let mut t = t();
    assert_eq!(t.run(&["SET", "k", "v", "EX", "0"]), err("ERR invalid expire time in 'set' command"));
    assert_eq!(t.run(&["SET", "k", "v", "PX", "-5"]), err("ERR invalid expire time in 'set' command"));
    assert_eq!(t.run(&["SET", "k", "v", "EX", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["SET", "k", "v", "EX", "9223372036854775"]), err("ERR invalid expire time in 'set' command"));
    assert_eq!(t.run(&["SETEX", "k", "0", "v"]), err("ERR invalid expire time in 'setex' command"));
    assert_eq!(t.run(&["PSETEX", "k", "-1", "v"]), err("ERR invalid expire time in 'psetex' command"));
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
}

#[test]
fn set_with_ex_expires_lazily_on_the_fake_clock() {
    let mut t = t();
    assert_eq!(t.run(&["SET", "k", "v", "EX", "10"]), ok());
    t.advance_ms(9_999);
    assert_eq!(t.run(&["GET", "k"]), bulk("v"));
    t.advance_ms(1);
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
}

#[test]
fn set_px_exat_pxat_and_keepttl() {
    let mut t = t();
    let now = t.now_ms();
    assert_eq!(t.run(&["SET", "a", "v", "PX", "500"]), ok());
    assert_eq!(t.run(&["SET", "b", "v", "PXAT", &(now + 2000).to_string()]), ok());
    assert_eq!(t.run(&["SET", "c", "v", "EXAT", &(now / 1000 + 3).to_string()]), ok());
    assert_eq!(t.run(&["SET", "b", "w", "KEEPTTL"]), ok());
    t.advance_ms(500);
    assert_eq!(t.run(&["GET", "a"]), Reply::Nil);
    assert_eq!(t.run(&["GET", "b"]), bulk("w"));
    t.advance_ms(1500);
    assert_eq!(t.run(&["GET", "b"]), Reply::Nil);
    assert_eq!(t.run(&["GET", "c"]), bulk("v"));
    t.advance_ms(1000);
    assert_eq!(t.run(&["GET", "c"]), Reply::Nil);
}

#[test]
fn a_plain_set_drops_an_existing_ttl() {
    let mut t = t();
    t.run(&["SET", "k", "v", "EX", "1"]);
    t.run(&["SET", "k", "v2"]);
    t.advance_ms(5000);
    assert_eq!(t.run(&["GET", "k"]), bulk("v2"));
}

#[test]
fn setnx_setex_psetex_reply_like_redis() {
    let mut t = t();
    assert_eq!(t.run(&["SETNX", "k", "a"]), int(1));
    assert_eq!(t.run(&["SETNX", "k", "b"]), int(0));
    assert_eq!(t.run(&["SETEX", "e", "1", "v"]), ok());
    assert_eq!(t.run(&["PSETEX", "p", "100", "v"]), ok());
    t.advance_ms(100);
    assert_eq!(t.run(&["GET", "p"]), Reply::Nil);
    assert_eq!(t.run(&["GET", "e"]), bulk("v"));
}

#[test]
fn incr_family_counts_and_keeps_integer_encoding() {
    let mut t = t();
    assert_eq!(t.run(&["INCR", "n"]), int(1));
    assert_eq!(t.run(&["INCRBY", "n", "10"]), int(11));
    assert_eq!(t.run(&["DECR", "n"]), int(10));
    assert_eq!(t.run(&["DECRBY", "n", "20"]), int(-10));
    assert_eq!(t.run(&["GET", "n"]), bulk("-10"));
    assert_eq!(t.run(&["SET", "s", " 1"]), ok());
    assert_eq!(t.run(&["INCR", "s"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["INCRBY", "n", "1.5"]), err("ERR value is not an integer or out of range"));
}

#[test]
fn incr_overflow_is_an_error_and_leaves_the_value() {
    let mut t = t();
    t.run(&["SET", "n", "9223372036854775807"]);
    assert_eq!(t.run(&["INCR", "n"]), err("ERR increment or decrement would overflow"));
    assert_eq!(t.run(&["DECRBY", "n", "-9223372036854775808"]), err("ERR decrement would overflow"));
    t.run(&["SET", "m", "-9223372036854775808"]);
    assert_eq!(t.run(&["DECR", "m"]), err("ERR increment or decrement would overflow"));
    assert_eq!(t.run(&["GET", "n"]), bulk("9223372036854775807"));
}

#[test]
fn incr_keeps_the_ttl() {
    let mut t = t();
    t.run(&["SET", "n", "1", "PX", "100"]);
    assert_eq!(t.run(&["INCR", "n"]), int(2));
    t.advance_ms(100);
    assert_eq!(t.run(&["GET", "n"]), Reply::Nil);
}

#[test]
fn incrbyfloat_formats_without_trailing_zeros() {
    let mut t = t();
    assert_eq!(t.run(&["INCRBYFLOAT", "f", "10.5"]), bulk("10.5"));
    assert_eq!(t.run(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(t.run(&["INCRBYFLOAT", "f", "-10.6"]), bulk("0"));
    assert_eq!(t.run(&["INCRBYFLOAT", "f", "5.0e3"]), bulk("5000"));
    assert_eq!(t.run(&["INCRBYFLOAT", "f", "1e20"]), bulk("100000000000000005000"));
    assert_eq!(t.run(&["INCRBYFLOAT", "g", "abc"]), err("ERR value is not a valid float"));
    assert_eq!(t.run(&["INCRBYFLOAT", "g", "inf"]), err("ERR increment would produce NaN or Infinity"));
    t.run(&["SET", "s", "x"]);
    assert_eq!(t.run(&["INCRBYFLOAT", "s", "1"]), err("ERR value is not a valid float"));
}

#[test]
fn append_creates_and_extends() {
    let mut t = t();
    assert_eq!(t.run(&["APPEND", "k", "Hello"]), int(5));
    assert_eq!(t.run(&["APPEND", "k", " World"]), int(11));
    assert_eq!(t.run(&["GET", "k"]), bulk("Hello World"));
    t.run(&["SET", "n", "12"]);
    assert_eq!(t.run(&["APPEND", "n", "3"]), int(3));
    assert_eq!(t.run(&["INCR", "n"]), int(124));
}

#[test]
fn strlen_and_getrange_follow_redis_index_rules() {
    let mut t = t();
    t.run(&["SET", "k", "This is a string"]);
    assert_eq!(t.run(&["STRLEN", "k"]), int(16));
    assert_eq!(t.run(&["STRLEN", "none"]), int(0));
    assert_eq!(t.run(&["GETRANGE", "k", "0", "3"]), bulk("This"));
    assert_eq!(t.run(&["GETRANGE", "k", "-3", "-1"]), bulk("ing"));
    assert_eq!(t.run(&["GETRANGE", "k", "0", "-1"]), bulk("This is a string"));
    assert_eq!(t.run(&["GETRANGE", "k", "10", "100"]), bulk("string"));
    assert_eq!(t.run(&["GETRANGE", "k", "-1", "-5"]), bulk(""));
    assert_eq!(t.run(&["GETRANGE", "k", "5", "3"]), bulk(""));
    assert_eq!(t.run(&["GETRANGE", "none", "0", "-1"]), bulk(""));
    assert_eq!(t.run(&["SUBSTR", "k", "0", "3"]), bulk("This"));
    assert_eq!(t.run(&["GETRANGE", "k", "a", "1"]), err("ERR value is not an integer or out of range"));
}

#[test]
fn setrange_pads_with_zeros_and_checks_offsets() {
    let mut t = t();
    assert_eq!(t.run(&["SETRANGE", "k", "5", "x"]), int(6));
    assert_eq!(t.run_bytes(vec!["GET".into(), "k".into()]), Reply::Bulk(bytes::Bytes::from_static(b"\0\0\0\0\0x")));
    assert_eq!(t.run(&["SETRANGE", "k", "0", "ab"]), int(6));
    assert_eq!(t.run(&["SETRANGE", "k", "0", ""]), int(6));
    assert_eq!(t.run(&["SETRANGE", "none", "0", ""]), int(0));
    assert_eq!(t.run(&["EXISTS", "none"]), int(0));
    assert_eq!(t.run(&["SETRANGE", "k", "-1", "x"]), err("ERR offset is out of range"));
    assert_eq!(t.run(&["SETRANGE", "k", "536870911", "xx"]), err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
}

#[test]
fn getset_getdel_getex() {
    let mut t = t();
    assert_eq!(t.run(&["GETSET", "k", "a"]), Reply::Nil);
    assert_eq!(t.run(&["GETSET", "k", "b"]), bulk("a"));
    assert_eq!(t.run(&["GETDEL", "k"]), bulk("b"));
    assert_eq!(t.run(&["GETDEL", "k"]), Reply::Nil);
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["GETEX", "k", "PX", "100"]), bulk("v"));
    assert_eq!(t.run(&["PTTL", "k"]), int(100));
    assert_eq!(t.run(&["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(t.run(&["TTL", "k"]), int(-1));
    assert_eq!(t.run(&["GETEX", "k", "EXAT", "1"]), bulk("v"));
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
    assert_eq!(t.run(&["GETEX", "k", "PERSIST", "EX", "1"]), err("ERR syntax error"));
    assert_eq!(t.run(&["GETEX", "k", "NX"]), err("ERR syntax error"));
    assert_eq!(t.run(&["GETEX", "missing", "EX", "0"]), Reply::Nil);
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["GETEX", "k", "EX", "0"]), err("ERR invalid expire time in 'getex' command"));
}

#[test]
fn mget_mset_msetnx() {
    let mut t = t();
    assert_eq!(t.run(&["MSET", "a", "1", "b", "2"]), ok());
    assert_eq!(t.run(&["MGET", "a", "b", "c"]), Reply::Array(vec![bulk("1"), bulk("2"), Reply::Nil]));
    assert_eq!(t.run(&["MSET", "a", "1", "b"]), err("ERR wrong number of arguments for 'mset' command"));
    assert_eq!(t.run(&["MSETNX", "c", "3", "a", "x"]), int(0));
    assert_eq!(t.run(&["GET", "c"]), Reply::Nil);
    assert_eq!(t.run(&["MSETNX", "c", "3", "d", "4"]), int(1));
    assert_eq!(t.run(&["MGET", "c", "d"]), arr(&["3", "4"]));
}

#[test]
fn lcs_returns_the_string_length_and_ranges() {
    let mut t = t();
    t.run(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
    assert_eq!(t.run(&["LCS", "key1", "key2"]), bulk("mytext"));
    assert_eq!(t.run(&["LCS", "key1", "key2", "LEN"]), int(6));
    let range = |a: i64, b: i64| Reply::Array(vec![int(a), int(b)]);
    assert_eq!(
        t.run(&["LCS", "key1", "key2", "IDX"]),
        Reply::Map(vec![
            (bulk("matches"), Reply::Array(vec![Reply::Array(vec![range(4, 7), range(5, 8)]), Reply::Array(vec![range(2, 3), range(0, 1)])])),
            (bulk("len"), int(6)),
        ])
    );
    assert_eq!(
        t.run(&["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
        Reply::Map(vec![(bulk("matches"), Reply::Array(vec![Reply::Array(vec![range(4, 7), range(5, 8), int(4)])])), (bulk("len"), int(6)),])
    );
    assert_eq!(t.run(&["LCS", "key1", "key2", "LEN", "IDX"]), err("ERR If you want both the length and indexes, please just use IDX."));
    assert_eq!(t.run(&["LCS", "key1", "key2", "FOO"]), err("ERR syntax error"));
    assert_eq!(t.run(&["LCS", "key1", "nokey"]), bulk(""));
}

#[test]
fn integers_strings_are_stored_compactly_with_redis_encodings() {
    let mut t = t();
    t.run(&["SET", "i", "12345"]);
    t.run(&["SET", "e", "hello"]);
    t.run(&["SET", "r", &"x".repeat(45)]);
    t.run(&["SET", "z", "012"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "i"]), bulk("int"));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "e"]), bulk("embstr"));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "r"]), bulk("raw"));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "z"]), bulk("embstr"));
    t.run(&["APPEND", "e", "!"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "e"]), bulk("raw"));
}

#[test]
fn arity_errors_name_the_command_as_typed() {
    let mut t = t();
    assert_eq!(t.run(&["GET"]), err("ERR wrong number of arguments for 'get' command"));
    assert_eq!(t.run(&["SeT", "k"]), err("ERR wrong number of arguments for 'set' command"));
    assert_eq!(t.run(&["SETRANGE", "k", "1"]), err("ERR wrong number of arguments for 'setrange' command"));
}

#[test]
fn set_with_a_ttl_is_one_change() {
    let mut t = TestEngine::new();
    let changes = |t: &mut TestEngine| {
        let Reply::Verbatim(_, text) = t.run(&["INFO", "persistence"]) else { panic!() };
        let text = String::from_utf8_lossy(&text).into_owned();
        text.lines().find_map(|l| l.strip_prefix("rdb_changes_since_last_save:")).unwrap().to_string()
    };
    t.run(&["SET", "k", "v", "EX", "100"]);
    assert_eq!(changes(&mut t), "1");
    t.run(&["SETEX", "k2", "100", "v"]);
    assert_eq!(changes(&mut t), "2");
}
