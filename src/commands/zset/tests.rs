//! Sorted-set family, reply-exact (checked against redis-server 7.0.15).

use crate::config::Config;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn d(v: f64) -> Reply {
    Reply::Double(v)
}

#[test]
fn zadd_options_and_replies() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["ZADD", "z", "1", "a", "2", "b"]), int(2));
    assert_eq!(t.run(&["ZADD", "z", "XX", "CH", "5", "a", "9", "nope"]), int(1));
    assert_eq!(t.run(&["ZADD", "z", "GT", "CH", "1", "a"]), int(0));
    assert_eq!(t.run(&["ZADD", "z", "INCR", "2", "a"]), d(7.0));
    assert_eq!(t.run(&["ZADD", "z", "NX", "INCR", "2", "a"]), Reply::Nil);
    assert_eq!(t.run(&["ZADD", "z", "NX", "XX", "1", "a"]), err("ERR XX and NX options at the same time are not compatible"));
    assert_eq!(t.run(&["ZADD", "z", "1", "a", "x"]), err("ERR syntax error"));
    assert_eq!(t.run(&["ZADD", "z", "nan", "a"]), err("ERR value is not a valid float"));
    t.run(&["ZADD", "z", "inf", "i"]);
    assert_eq!(t.run(&["ZINCRBY", "z", "-inf", "i"]), err("ERR resulting score is not a number (NaN)"));
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let mut t = TestEngine::new();
    t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(t.run(&["ZRANGE", "z", "1", "2"]), arr(&["b", "c"]));
    assert_eq!(t.run(&["ZRANGE", "z", "0", "0", "WITHSCORES"]), Reply::Array(vec![bulk("a"), d(1.0)]));
    assert_eq!(t.run(&["ZRANGE", "z", "(1", "3", "BYSCORE"]), arr(&["b", "c"]));
    assert_eq!(t.run(&["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"]), arr(&["c", "b"]));
    assert_eq!(
        t.run(&["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
        err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    );
    assert_eq!(t.run(&["ZRANGEBYLEX", "z", "[b", "(d"]), arr(&["b", "c"]));
    assert_eq!(t.run(&["ZRANGEBYLEX", "z", "b", "d"]), err("ERR min or max not valid string range item"));
    assert_eq!(t.run(&["ZCOUNT", "z", "2", "+inf"]), int(3));
    assert_eq!(t.run(&["ZRANK", "z", "c"]), int(2));
    assert_eq!(t.run(&["ZREVRANK", "z", "c"]), int(1));
}

#[test]
fn big_sets_use_the_skiplist_and_answer_the_same() {
    let mut c = Config::default();
    c.set("zset-max-listpack-entries", "4", false).unwrap();
    let mut t = TestEngine::with_config(c);
    for i in 0..100 {
        t.run(&["ZADD", "z", &(i % 10).to_string(), &format!("m{:03}", i)]);
    }
    assert_eq!(t.run(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    assert_eq!(t.run(&["ZRANGE", "z", "0", "2"]), arr(&["m000", "m010", "m020"]));
    assert_eq!(t.run(&["ZRANK", "z", "m001"]), int(10));
    assert_eq!(t.run(&["ZCOUNT", "z", "3", "(5"]), int(20));
    assert_eq!(t.run(&["ZREMRANGEBYSCORE", "z", "0", "8"]), int(90));
    assert_eq!(t.run(&["ZCARD", "z"]), int(10));
    assert_eq!(t.run(&["ZPOPMIN", "z"]), Reply::Array(vec![bulk("m009"), d(9.0)]));
}

#[test]
fn union_inter_diff_with_weights_and_aggregates() {
    let mut t = TestEngine::new();
    t.run(&["ZADD", "a", "1", "x", "2", "y"]);
    t.run(&["ZADD", "b", "10", "y", "20", "z"]);
    assert_eq!(t.run(&["ZUNION", "2", "a", "b", "WITHSCORES"]), Reply::Array(vec![bulk("x"), d(1.0), bulk("y"), d(12.0), bulk("z"), d(20.0)]));
    assert_eq!(t.run(&["ZINTER", "2", "a", "b", "WEIGHTS", "2", "1", "AGGREGATE", "MIN", "WITHSCORES"]), Reply::Array(vec![bulk("y"), d(4.0)]));
    assert_eq!(t.run(&["ZDIFF", "2", "a", "b"]), arr(&["x"]));
    assert_eq!(t.run(&["ZUNIONSTORE", "out", "0", "a"]), err("ERR at least 1 input key is needed for 'zunionstore' command"));
    assert_eq!(t.run(&["ZINTERCARD", "2", "a", "b"]), int(1));
}

#[test]
fn bzpopmin_blocks_until_zadd() {
    let mut t = TestEngine::new();
    let w = t.connect();
    assert_eq!(t.run_as(w, &["BZPOPMIN", "z", "0"]), Reply::Blocked);
    t.run(&["ZADD", "z", "2", "b", "1", "a"]);
    assert_eq!(t.replies_for(w), vec![Reply::Array(vec![bulk("z"), bulk("a"), d(1.0)])]);
}
