//! The wasm binding: the same engine, driven from JavaScript. The JS host supplies the clock
//! (milliseconds, as `Date.now()` gives) and the seed; the core does no I/O. This module and
//! `convert.rs` are the only core files that name wasm-bindgen or js-sys.

mod convert;

use wasm_bindgen::prelude::*;

use crate::client::{ClientId, ClientInfo};
use crate::config::Config;

/// One engine with one client session, as a browser tab or an edge worker uses it.
#[wasm_bindgen]
pub struct Engine {
    inner: crate::Engine,
    client: ClientId,
}

fn us(ms: f64) -> i64 {
    (ms * 1000.0) as i64
}

#[wasm_bindgen]
impl Engine {
    /// `seed` drives random choices (RANDOMKEY, expiry sampling); `now_ms` is the host's clock.
    #[wasm_bindgen(constructor)]
    pub fn new(seed: f64, now_ms: f64) -> Engine {
        let mut inner = crate::Engine::new(Config::default(), seed as u64, us(now_ms));
        let client = inner.connect(ClientInfo { addr: String::new(), laddr: String::new(), fd: -1 }, us(now_ms));
        Engine { inner, client }
    }

    /// Runs one command. `argv` holds strings or Uint8Arrays; the reply comes back as plain
    /// JS values (see convert.rs), and a Redis error reply is thrown as an `Error` whose
    /// message is Redis's text.
    pub fn command(&mut self, argv: js_sys::Array, now_ms: f64) -> Result<JsValue, JsValue> {
        let args = convert::argv(&argv)?;
        if args.is_empty() {
            return Err(js_sys::Error::new("ERR empty command").into());
        }
        let out = self.inner.execute(self.client, args, us(now_ms));
        match out.reply {
            None => Ok(JsValue::UNDEFINED),
            Some(crate::Reply::Error(e)) => Err(js_sys::Error::new(&e).into()),
            Some(r) => Ok(convert::reply(&r)),
        }
    }

    /// Periodic work (active expiry); call it `hz` times a second.
    pub fn tick(&mut self, now_ms: f64) {
        self.inner.tick(us(now_ms));
    }

    /// Keys in a database (for hosts that show status without running a command).
    pub fn dbsize(&self, db: u32) -> u32 {
        self.inner.dbsize(db as usize) as u32
    }
}
