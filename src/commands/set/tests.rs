//! Set family, reply-exact (checked against redis-server 7.0.15).

use crate::config::Config;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn set(items: &[&str]) -> Reply {
    Reply::Set(items.iter().map(|s| bulk(s)).collect())
}

#[test]
fn intsets_answer_in_numeric_order() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["SADD", "s", "3", "1", "2", "2"]), int(3));
    assert_eq!(t.run(&["SMEMBERS", "s"]), set(&["1", "2", "3"]));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "s"]), bulk("intset"));
    assert_eq!(t.run(&["SISMEMBER", "s", "02"]), int(0));
    t.run(&["SADD", "s", "x"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
}

#[test]
fn intsets_convert_past_set_max_intset_entries() {
    let mut c = Config::default();
    c.set("set-max-intset-entries", "2", false).unwrap();
    let mut t = TestEngine::with_config(c);
    t.run(&["SADD", "s", "1", "2"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "s"]), bulk("intset"));
    t.run(&["SADD", "s", "3"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
}

#[test]
fn algebra_and_store_variants() {
    let mut t = TestEngine::new();
    t.run(&["SADD", "a", "1", "2", "3", "4"]);
    t.run(&["SADD", "b", "3", "4", "5"]);
    assert_eq!(t.run(&["SINTER", "a", "b"]), set(&["3", "4"]));
    assert_eq!(t.run(&["SUNION", "a", "b"]), set(&["1", "2", "3", "4", "5"]));
    assert_eq!(t.run(&["SDIFF", "a", "b"]), set(&["1", "2"]));
    assert_eq!(t.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), int(1));
    assert_eq!(t.run(&["SINTERCARD", "3", "a", "b"]), err("ERR Number of keys can't be greater than number of args"));
    assert_eq!(t.run(&["SINTERSTORE", "d", "a", "nokey"]), int(0));
    assert_eq!(t.run(&["EXISTS", "d"]), int(0));
    assert_eq!(t.run(&["SDIFFSTORE", "d", "a", "b"]), int(2));
    assert_eq!(t.run(&["SMEMBERS", "d"]), set(&["1", "2"]));
}

#[test]
fn smove_spop_and_srandmember() {
    let mut t = TestEngine::new();
    t.run(&["SADD", "src", "a"]);
    assert_eq!(t.run(&["SMOVE", "src", "dst", "a"]), int(1));
    assert_eq!(t.run(&["EXISTS", "src"]), int(0));
    assert_eq!(t.run(&["SPOP", "dst", "5"]), set(&["a"]));
    assert_eq!(t.run(&["SPOP", "dst"]), Reply::Nil);
    t.run(&["SADD", "r", "1", "2", "3"]);
    let Reply::Array(picks) = t.run(&["SRANDMEMBER", "r", "-10"]) else { panic!() };
    assert_eq!(picks.len(), 10);
    let Reply::Array(distinct) = t.run(&["SRANDMEMBER", "r", "10"]) else { panic!() };
    assert_eq!(distinct.len(), 3);
    assert_eq!(t.run(&["SPOP", "r", "-1"]), err("ERR value is out of range, must be positive"));
}
