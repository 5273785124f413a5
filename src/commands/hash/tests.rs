//! Hash family, reply-exact (expected replies checked against redis-server 7.0.15).

use crate::config::Config;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

#[test]
fn hset_counts_new_fields_and_hget_reads_them() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["HSET", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(t.run(&["HSET", "h", "a", "9", "c", "3"]), int(1));
    assert_eq!(t.run(&["HGET", "h", "a"]), bulk("9"));
    assert_eq!(t.run(&["HMGET", "h", "a", "zz", "c"]), Reply::Array(vec![bulk("9"), Reply::Nil, bulk("3")]));
    assert_eq!(t.run(&["HLEN", "h"]), int(3));
    assert_eq!(t.run(&["HSET", "h", "a"]), err("ERR wrong number of arguments for 'hset' command"));
    assert_eq!(t.run(&["HMSET", "h", "x", "1", "y"]), err("ERR wrong number of arguments for 'hmset' command"));
}

#[test]
fn hgetall_keeps_insertion_order_while_small_and_is_a_map_in_resp3() {
    let mut t = TestEngine::new();
    t.run(&["HSET", "h", "z", "1", "a", "2"]);
    assert_eq!(t.run(&["HGETALL", "h"]), Reply::Map(vec![(bulk("z"), bulk("1")), (bulk("a"), bulk("2"))]));
    assert_eq!(t.run(&["HKEYS", "h"]), arr(&["z", "a"]));
    assert_eq!(t.run(&["HVALS", "h"]), arr(&["1", "2"]));
}

#[test]
fn the_last_hdel_deletes_the_key() {
    let mut t = TestEngine::new();
    t.run(&["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(t.run(&["HDEL", "h", "a", "a", "nope"]), int(1));
    assert_eq!(t.run(&["HDEL", "h", "b"]), int(1));
    assert_eq!(t.run(&["EXISTS", "h"]), int(0));
}

#[test]
fn counters_follow_redis_errors_and_formatting() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["HINCRBY", "h", "n", "5"]), int(5));
    assert_eq!(t.run(&["HINCRBY", "h", "n", "x"]), err("ERR value is not an integer or out of range"));
    t.run(&["HSET", "h", "big", "9223372036854775807", "s", "abc"]);
    assert_eq!(t.run(&["HINCRBY", "h", "big", "1"]), err("ERR increment or decrement would overflow"));
    assert_eq!(t.run(&["HINCRBY", "h", "s", "1"]), err("ERR hash value is not an integer"));
    assert_eq!(t.run(&["HINCRBYFLOAT", "h", "f", "10.5"]), bulk("10.5"));
    assert_eq!(t.run(&["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("10.6"));
    assert_eq!(t.run(&["HINCRBYFLOAT", "h", "s", "1"]), err("ERR hash value is not a float"));
    assert_eq!(t.run(&["HINCRBYFLOAT", "h", "f", "inf"]), err("ERR value is NaN or Infinity"));
}

#[test]
fn encodings_convert_past_the_configured_thresholds() {
    let mut c = Config::default();
    c.set("hash-max-listpack-entries", "2", false).unwrap();
    c.set("hash-max-listpack-value", "4", false).unwrap();
    let mut t = TestEngine::with_config(c);
    t.run(&["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    t.run(&["HSET", "h", "c", "3"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    t.run(&["HSET", "v", "a", "12345"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "v"]), bulk("hashtable"));
    assert_eq!(t.run(&["HGET", "v", "a"]), bulk("12345"));
}

#[test]
fn hscan_returns_every_field_of_a_big_hash_across_calls() {
    let mut t = TestEngine::new();
    for i in 0..1000 {
        t.run(&["HSET", "h", &format!("f{}", i), "v"]);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Reply::Array(r) = t.run(&["HSCAN", "h", &cursor, "COUNT", "50"]) else { panic!() };
        let (Reply::Bulk(c), Reply::Array(items)) = (&r[0], &r[1]) else { panic!() };
        for pair in items.chunks(2) {
            let Reply::Bulk(f) = &pair[0] else { panic!() };
            seen.insert(f.clone());
        }
        cursor = String::from_utf8(c.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
}

#[test]
fn wrong_types_are_refused() {
    let mut t = TestEngine::new();
    t.run(&["SET", "s", "v"]);
    for cmd in [&["HGET", "s", "f"][..], &["HSET", "s", "f", "v"], &["HLEN", "s"], &["HGETALL", "s"], &["HRANDFIELD", "s"]] {
        assert_eq!(t.run(cmd), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    }
}

#[test]
fn hrandfield_draws_a_new_field_each_call() {
    let mut t = TestEngine::new();
    t.run(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    let seen: std::collections::HashSet<String> = (0..60).map(|_| format!("{:?}", t.run(&["HRANDFIELD", "h"]))).collect();
    assert_eq!(seen.len(), 3);
}
