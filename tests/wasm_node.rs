//! The wasm build under Node (wasm-bindgen-test): the same engine answers through the
//! binding's byte protocol (tests/wasm_support), with a clock the test controls.
#![cfg(target_arch = "wasm32")]

mod wasm_support;

use cinnabar::wasm::Engine;
use wasm_bindgen_test::*;
use wasm_support::{call, pipeline, put, replies, s, Val};

const T0: f64 = 1_767_225_600_000.0;

fn cmd(e: &mut Engine, now: f64, args: &[&str]) -> Val {
    let c = e.default_client();
    call(e, c, args, now)
}

#[wasm_bindgen_test]
fn set_get_incr_through_the_js_binding() {
    let mut e = Engine::new(1.0, T0);
    assert_eq!(cmd(&mut e, T0, &["SET", "k", "v"]), s("OK"));
    assert_eq!(cmd(&mut e, T0, &["GET", "k"]), s("v"));
    assert_eq!(cmd(&mut e, T0, &["GET", "missing"]), Val::Nil);
    assert_eq!(cmd(&mut e, T0, &["INCR", "n"]), Val::Num(1.0));
    assert_eq!(cmd(&mut e, T0, &["INCRBY", "n", "41"]), Val::Num(42.0));
    assert_eq!(cmd(&mut e, T0, &["INCRBY", "big", "9007199254740993"]), Val::Big("9007199254740993".into()));
    assert_eq!(cmd(&mut e, T0, &["SET", "u", "héllo"]), s("OK"));
    assert_eq!(cmd(&mut e, T0, &["GET", "u"]), s("héllo"));
}

#[wasm_bindgen_test]
fn replies_keep_their_shapes_in_resp2_and_resp3() {
    let mut e = Engine::new(1.0, T0);
    cmd(&mut e, T0, &["HSET", "h", "f", "v"]);
    cmd(&mut e, T0, &["ZADD", "z", "1.5", "m"]);
    assert_eq!(cmd(&mut e, T0, &["HGETALL", "h"]), Val::Arr(vec![s("f"), s("v")]));
    assert_eq!(cmd(&mut e, T0, &["ZSCORE", "z", "m"]), s("1.5"));
    assert!(matches!(cmd(&mut e, T0, &["HELLO", "3"]), Val::Map(_)));
    assert_eq!(cmd(&mut e, T0, &["HGETALL", "h"]), Val::Map(vec![(s("f"), s("v"))]));
    assert_eq!(cmd(&mut e, T0, &["ZSCORE", "z", "m"]), Val::Num(1.5));
    cmd(&mut e, T0, &["MULTI"]);
    cmd(&mut e, T0, &["INCR", "h"]);
    assert_eq!(cmd(&mut e, T0, &["EXEC"]), Val::Arr(vec![Val::Err("WRONGTYPE Operation against a key holding the wrong kind of value".into())]));
}

#[wasm_bindgen_test]
fn keys_expire_on_the_host_clock() {
    let mut e = Engine::new(1.0, T0);
    cmd(&mut e, T0, &["SET", "k", "v", "PX", "1500"]);
    cmd(&mut e, T0, &["EXPIRE", "k2", "1"]);
    assert_eq!(cmd(&mut e, T0 + 1000.0, &["PTTL", "k"]), Val::Num(500.0));
    assert_eq!(cmd(&mut e, T0 + 1500.0, &["GET", "k"]), Val::Nil);
    cmd(&mut e, T0, &["SET", "t", "v", "EX", "1"]);
    e.tick(T0 + 5000.0);
    assert_eq!(e.dbsize(0), 0);
}

#[wasm_bindgen_test]
fn errors_are_replies_with_redis_text() {
    let mut e = Engine::new(1.0, T0);
    cmd(&mut e, T0, &["SET", "s", "abc"]);
    assert_eq!(cmd(&mut e, T0, &["INCR", "s"]), Val::Err("ERR value is not an integer or out of range".into()));
    assert_eq!(cmd(&mut e, T0, &[]), Val::Err("ERR empty command".into()));
}

#[wasm_bindgen_test]
fn a_pipeline_answers_each_command_in_order() {
    let mut e = Engine::new(1.0, T0);
    let c = e.default_client();
    let got = pipeline(&mut e, c, &[&["SET", "a", "1"], &["INCR", "a"], &["LPUSH", "a", "x"], &["GET", "a"]], T0);
    assert_eq!(got, vec![s("OK"), Val::Num(2.0), Val::Err("WRONGTYPE Operation against a key holding the wrong kind of value".into()), s("2")]);
}

/// Lengths that overrun what was written (or the area itself) are refused, never read past.
#[wasm_bindgen_test]
fn malformed_arguments_are_refused() {
    let mut e = Engine::new(1.0, T0);
    let c = e.default_client();
    let malformed = Val::Err("ERR malformed packed arguments".into());
    let n = e.call(c, u32::MAX, T0, false);
    assert_eq!(replies(&e, n), vec![Val::Err("ERR malformed packed arguments".into())]);
    let mut bad = wasm_support::pack(&[b"GET", b"k"]);
    bad[4 + 3] = 200; // the second length claims more bytes than there are
    put(&mut e, &bad);
    let n = e.call(c, bad.len() as u32, T0, false);
    assert_eq!(replies(&e, n), vec![malformed]);
    put(&mut e, &[1, 0, 0]);
    let n = e.pipeline(c, 3, T0, false);
    assert_eq!(replies(&e, n), vec![Val::Err("ERR malformed packed arguments".into())]);
    assert_eq!(cmd(&mut e, T0, &["PING"]), s("PONG"), "the engine goes on");
}

/// A command larger than the argument area gets room through `reserve`; the area shrinks back
/// after the call, and what the large command stored is intact.
#[wasm_bindgen_test]
fn arguments_larger_than_the_area_fit_after_reserve() {
    let mut e = Engine::new(1.0, T0);
    let big = "v".repeat(1 << 20);
    assert_eq!(cmd(&mut e, T0, &["SET", "big", &big]), s("OK"));
    assert_eq!(cmd(&mut e, T0, &["STRLEN", "big"]), Val::Num((1 << 20) as f64));
    for i in 0..2000 {
        assert_eq!(cmd(&mut e, T0, &["SET", &format!("k{i}"), "x"]), s("OK"));
    }
    assert_eq!(cmd(&mut e, T0, &["GET", "big"]), Val::Str(big));
}
