//! The wasm build under Node (wasm-bindgen-test): the same engine answers through the JS
//! binding, with a clock the test controls.
#![cfg(target_arch = "wasm32")]

use cinnabar::wasm::Engine;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

const T0: f64 = 1_767_225_600_000.0;

fn cmd(e: &mut Engine, now: f64, args: &[&str]) -> Result<JsValue, JsValue> {
    let a = js_sys::Array::new();
    for s in args {
        a.push(&JsValue::from_str(s));
    }
    e.command(a, now)
}

#[wasm_bindgen_test]
fn set_get_incr_through_the_js_binding() {
    let mut e = Engine::new(1.0, T0);
    assert_eq!(cmd(&mut e, T0, &["SET", "k", "v"]).unwrap().as_string().unwrap(), "OK");
    assert_eq!(cmd(&mut e, T0, &["GET", "k"]).unwrap().as_string().unwrap(), "v");
    assert!(cmd(&mut e, T0, &["GET", "missing"]).unwrap().is_null());
    assert_eq!(cmd(&mut e, T0, &["INCR", "n"]).unwrap().as_f64().unwrap(), 1.0);
    assert_eq!(cmd(&mut e, T0, &["INCRBY", "n", "41"]).unwrap().as_f64().unwrap(), 42.0);
}

#[wasm_bindgen_test]
fn keys_expire_on_the_host_clock() {
    let mut e = Engine::new(1.0, T0);
    cmd(&mut e, T0, &["SET", "k", "v", "PX", "1500"]).unwrap();
    cmd(&mut e, T0, &["EXPIRE", "k2", "1"]).unwrap();
    assert_eq!(cmd(&mut e, T0 + 1000.0, &["PTTL", "k"]).unwrap().as_f64().unwrap(), 500.0);
    assert!(cmd(&mut e, T0 + 1500.0, &["GET", "k"]).unwrap().is_null());
    cmd(&mut e, T0, &["SET", "t", "v", "EX", "1"]).unwrap();
    e.tick(T0 + 5000.0);
    assert_eq!(e.dbsize(0), 0);
}

#[wasm_bindgen_test]
fn errors_are_thrown_with_redis_text() {
    let mut e = Engine::new(1.0, T0);
    cmd(&mut e, T0, &["SET", "s", "abc"]).unwrap();
    let err = cmd(&mut e, T0, &["INCR", "s"]).unwrap_err();
    let err: js_sys::Error = err.into();
    assert_eq!(String::from(err.message()), "ERR value is not an integer or out of range");
}
