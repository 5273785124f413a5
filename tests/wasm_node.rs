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

/// The io words after the first four: events, journal flags, pending AOF text (address,
/// length), and the count JS writes back once it copied that text.
fn journal_words(e: &Engine) -> [u32; 9] {
    // SAFETY: `ioAddress` is the address of the engine's nine u32 io words.
    unsafe { *(e.io_address() as *const [u32; 9]) }
}

/// What www/src/wire.js does when the journal word is set: copies the AOF text out and marks
/// it taken (the engine drops it on its next call).
fn take_journal(e: &Engine, into: &mut Vec<u8>) {
    let w = journal_words(e);
    if w[5] & 1 != 0 {
        // SAFETY: the pending AOF text, `w[7]` bytes at `w[6]`, in this module's memory.
        into.extend_from_slice(unsafe { std::slice::from_raw_parts(w[6] as *const u8, w[7] as usize) });
        // SAFETY: word 8 of the io words, which JS writes.
        unsafe { *((e.io_address() as *mut u32).add(8)) = w[7] };
    }
}

#[wasm_bindgen_test]
fn the_journal_base_and_config_rebuild_an_engine_as_the_package_recovers_one() {
    let mut e = Engine::new(1.0, T0);
    e.configure("enable-debug-command yes\ndatabases 4\nsave 60 1\nsave 10 5\nrename-command KEYS \"\"").unwrap();
    assert!(e.configure("maxmemory lots").is_err());
    e.set_journal(true);
    let conf = e.config_text();
    assert!(conf.contains("enable-debug-command yes\n") && conf.contains("databases 4\n") && conf.contains("save 60 1\nsave 10 5\n"), "{conf}");
    assert_eq!(journal_words(&e)[5], 0, "nothing written, the config just taken");
    let mut journal = Vec::new();
    cmd(&mut e, T0, &["SET", "a", "1", "PX", "5000"]);
    assert_eq!(journal_words(&e)[5], 1);
    take_journal(&e, &mut journal);
    cmd(&mut e, T0, &["GET", "a"]);
    assert_eq!(journal_words(&e)[5], 0, "a read leaves nothing to take; the taken text is gone");
    cmd(&mut e, T0, &["SELECT", "2"]);
    cmd(&mut e, T0, &["MULTI"]);
    cmd(&mut e, T0, &["RPUSH", "l", "x", "y"]);
    cmd(&mut e, T0, &["INCR", "n"]);
    cmd(&mut e, T0, &["EXEC"]);
    take_journal(&e, &mut journal);
    cmd(&mut e, T0, &["CONFIG", "SET", "maxmemory", "2mb"]);
    assert_eq!(journal_words(&e)[5], 2, "the config changed");
    let conf = e.config_text();
    assert_eq!(journal_words(&e)[5], 0);
    // A new engine from the config and the journal.
    let mut f = Engine::new(1.0, T0 + 1000.0);
    f.configure(&conf).unwrap();
    assert_eq!(f.aof_load(&journal, T0 + 1000.0).unwrap(), 3.0);
    f.loading_finished();
    assert_eq!(cmd(&mut f, T0 + 1000.0, &["PTTL", "a"]), Val::Num(4000.0));
    cmd(&mut f, T0, &["SELECT", "2"]);
    assert_eq!(cmd(&mut f, T0, &["LRANGE", "l", "0", "-1"]), Val::Arr(vec![s("x"), s("y")]));
    assert_eq!(cmd(&mut f, T0, &["CONFIG", "GET", "maxmemory"]), Val::Arr(vec![s("maxmemory"), s("2097152")]));
    // A base: the journal starts over after it, its first write naming its database.
    let base = e.take_base();
    assert_eq!(journal_words(&e)[5], 0);
    cmd(&mut e, T0, &["SET", "after", "base"]);
    let mut tail = Vec::new();
    take_journal(&e, &mut tail);
    assert!(tail.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"), "{}", String::from_utf8_lossy(&tail));
    let mut g = Engine::new(1.0, T0);
    assert_eq!(g.aof_load(&base, T0).unwrap(), 0.0);
    assert_eq!(g.aof_load(&tail, T0).unwrap(), 1.0);
    g.loading_finished();
    cmd(&mut g, T0, &["SELECT", "2"]);
    assert_eq!(cmd(&mut g, T0, &["GET", "after"]), s("base"));
    assert_eq!(cmd(&mut g, T0, &["GET", "n"]), s("1"));
    // A journal cut inside a command is refused.
    assert!(g.aof_load(&tail[..tail.len() - 3], T0).is_err());
}
