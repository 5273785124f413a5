//! The JS binding in headless Chromium (wasm-bindgen-test-runner with Debian's chromedriver;
//! `webdriver.json` at the crate root passes Chromium's flags): sessions, a wait served by
//! another session's write, RESP connections, snapshots. Run by scripts/ci/wasm.sh.
#![cfg(target_arch = "wasm32")]

mod wasm_support;

use cinnabar::wasm::Engine;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use wasm_support::{call, s, take, Val};

wasm_bindgen_test_configure!(run_in_browser);

const T0: f64 = 1_767_225_600_000.0;

fn events(e: &mut Engine) -> Vec<(String, f64)> {
    e.events(T0)
        .iter()
        .map(|ev| {
            let a: js_sys::Array = ev.into();
            (a.get(0).as_string().unwrap(), a.get(1).as_f64().unwrap_or(-1.0))
        })
        .collect()
}

#[wasm_bindgen_test]
fn runs_in_a_browser_with_the_window_clock() {
    assert!(web_sys_window_exists());
    let now = js_sys::Date::now();
    let mut e = Engine::new(1.0, now);
    let c = e.default_client();
    call(&mut e, c, &["SET", "k", "v", "PX", "1000"], now);
    assert_eq!(call(&mut e, c, &["PTTL", "k"], now), Val::Num(1000.0));
    e.tick(now + 5000.0);
    assert_eq!(e.dbsize(0), 0);
}

fn web_sys_window_exists() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("document")).unwrap_or(false)
}

#[wasm_bindgen_test]
fn a_wait_on_one_session_is_served_by_another_sessions_write() {
    let mut e = Engine::new(1.0, T0);
    let main = e.default_client();
    let waiter = e.connect("blocking", T0);
    assert_eq!(call(&mut e, waiter, &["BLPOP", "q", "0"], T0), Val::Pending);
    assert!(e.is_blocked(waiter));
    assert_eq!(call(&mut e, main, &["RPUSH", "q", "x"], T0), Val::Num(1.0));
    assert!(events(&mut e).contains(&("unblocked".to_string(), waiter)));
    assert_eq!(take(&mut e, waiter), vec![Val::Arr(vec![s("q"), s("x")])]);
    assert!(!e.is_blocked(waiter));
}

#[wasm_bindgen_test]
fn a_wait_times_out_at_its_deadline() {
    let mut e = Engine::new(1.0, T0);
    let waiter = e.connect("blocking", T0);
    call(&mut e, waiter, &["BRPOP", "q", "1.5"], T0);
    assert_eq!(e.block_deadline(waiter), Some(T0 + 1500.0));
    e.expire_blocked(waiter, T0 + 1000.0);
    assert!(e.is_blocked(waiter));
    e.expire_blocked(waiter, T0 + 1500.0);
    assert!(!e.is_blocked(waiter));
    assert_eq!(take(&mut e, waiter), vec![Val::Nil]);
}

#[wasm_bindgen_test]
fn resp_connections_parse_split_frames_and_resume_after_a_wait() {
    let mut e = Engine::new(1.0, T0);
    let c = e.resp_open(T0);
    assert_eq!(e.resp_feed(c, b"*1\r\n$4\r\nPI", T0), b"");
    assert_eq!(e.resp_feed(c, b"NG\r\nBLPOP l 0\r\nGET k\r\n", T0), b"+PONG\r\n");
    let main = e.default_client();
    call(&mut e, main, &["RPUSH", "l", "v"], T0);
    assert!(events(&mut e).contains(&("unblocked".to_string(), c)));
    assert_eq!(e.resp_pump(c, T0), b"*2\r\n$1\r\nl\r\n$1\r\nv\r\n$-1\r\n");
}

#[wasm_bindgen_test]
fn snapshots_round_trip_and_corrupt_ones_are_refused() {
    let mut e = Engine::new(1.0, T0);
    let c = e.default_client();
    call(&mut e, c, &["HSET", "h", "f", "v"], T0);
    let snap = e.snapshot();
    assert_eq!(&snap[..9], b"REDIS0010");
    let mut other = Engine::new(2.0, T0);
    assert_eq!(other.load(&snap).unwrap(), 1);
    let mut bad = snap.clone();
    let n = bad.len();
    bad[n - 12] ^= 0xff;
    assert!(other.load(&bad).is_err());
    assert_eq!(other.dbsize(0), 1, "the dataset is kept");
}
