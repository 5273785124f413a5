//! Conversions between JS values and the core's argv / Reply. Replies map to the plain values
//! a JS caller expects: strings for status and valid UTF-8 bulks (Uint8Array otherwise),
//! numbers (BigInt beyond ±2^53), null for nil, arrays, `Map` for RESP3 maps, booleans.
//! A RESP2 session gets RESP2's shapes (flat arrays for maps, strings for doubles).
//! Errors nested inside arrays become `Error` objects in place. In raw mode every bulk string
//! is a Uint8Array (binary-safe values whatever their bytes).

use bytes::Bytes;
use wasm_bindgen::prelude::*;

use crate::reply::Reply;

const MAX_SAFE: i64 = (1 << 53) - 1;

pub fn argv(arr: &js_sys::Array) -> Result<Vec<Bytes>, JsValue> {
    let mut out = Vec::with_capacity(arr.length() as usize);
    for v in arr.iter() {
        if let Some(s) = v.as_string() {
            out.push(Bytes::from(s));
        } else if let Some(u) = v.dyn_ref::<js_sys::Uint8Array>() {
            out.push(Bytes::from(u.to_vec()));
        } else if let Some(n) = v.as_f64() {
            // Numbers are sent as Redis would receive them from a client: their decimal text.
            out.push(Bytes::from(if n.fract() == 0.0 && n.abs() < 1e21 { format!("{}", n as i64) } else { format!("{}", n) }));
        } else {
            return Err(js_sys::TypeError::new("command arguments must be strings, numbers or Uint8Arrays").into());
        }
    }
    Ok(out)
}

/// Arguments packed as (u32 little-endian length, bytes)*; None if the lengths overrun.
pub fn unpack(packed: Vec<u8>) -> Option<Vec<Bytes>> {
    // The arguments share the buffer JS filled (as the native server's share its read
    // buffer): no allocation or copy per argument.
    unpack_bytes(Bytes::from(packed))
}

/// Length-prefixed frames (u32 little-endian length, then the bytes), as slices of `all`.
pub fn frames(all: &Bytes) -> impl Iterator<Item = Option<Bytes>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= all.len() {
            return None;
        }
        let frame = all.get(at..at + 4).and_then(|l| {
            let len = u32::from_le_bytes(l.try_into().ok()?) as usize;
            let end = (at + 4).checked_add(len).filter(|&e| e <= all.len())?;
            Some((at + 4, end))
        });
        Some(match frame {
            Some((start, end)) => {
                at = end;
                Some(all.slice(start..end))
            }
            None => {
                at = all.len();
                None
            }
        })
    })
}

/// One command's arguments, packed as `pack` in www/src/core.js packs them.
pub fn unpack_bytes(all: Bytes) -> Option<Vec<Bytes>> {
    let mut out = Vec::with_capacity(4);
    for f in frames(&all) {
        out.push(f?);
    }
    Some(out)
}

thread_local! {
    /// JS strings for the static status replies (OK, PONG, QUEUED, ...): made once, since
    /// decoding a short string across the boundary costs more than the command itself.
    /// Keyed by the text's place in the binary (address and length), which hashes cheaper
    /// than its bytes.
    static SIMPLE: std::cell::RefCell<hashbrown::HashMap<(usize, usize), JsValue>> = std::cell::RefCell::new(hashbrown::HashMap::new());
}

fn simple(s: &'static str) -> JsValue {
    SIMPLE.with(|m| m.borrow_mut().entry((s.as_ptr() as usize, s.len())).or_insert_with(|| JsValue::from_str(s)).clone())
}

fn bytes(b: &[u8], raw: bool) -> JsValue {
    if raw {
        return js_sys::Uint8Array::from(b).into();
    }
    match std::str::from_utf8(b) {
        Ok(s) => JsValue::from_str(s),
        Err(_) => js_sys::Uint8Array::from(b).into(),
    }
}

fn list(items: &[Reply], raw: bool, resp3: bool) -> JsValue {
    let a = js_sys::Array::new_with_length(items.len() as u32);
    for (i, r) in items.iter().enumerate() {
        a.set(i as u32, reply(r, raw, resp3));
    }
    a.into()
}

pub fn reply(r: &Reply, raw: bool, resp3: bool) -> JsValue {
    match r {
        Reply::Simple(s) => simple(s),
        Reply::Status(s) => JsValue::from_str(s),
        Reply::Error(e) => js_sys::Error::new(e).into(),
        Reply::Int(n) if n.abs() <= MAX_SAFE => JsValue::from_f64(*n as f64),
        Reply::Int(n) => js_sys::BigInt::from(*n).into(),
        Reply::Bulk(b) => bytes(b, raw),
        Reply::Nil | Reply::NilArray => JsValue::NULL,
        Reply::Blocked => JsValue::UNDEFINED,
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) | Reply::Multi(v) => list(v, raw, resp3),
        // A RESP2 session sees what a RESP2 client would: maps flattened, doubles and big
        // numbers as strings, booleans as 0/1 (the writer's downgrade).
        Reply::Map(pairs) if !resp3 => {
            let a = js_sys::Array::new();
            for (k, v) in pairs {
                a.push(&reply(k, raw, resp3));
                a.push(&reply(v, raw, resp3));
            }
            a.into()
        }
        Reply::Double(d) if !resp3 => bytes(crate::util::fmt_double(*d).as_bytes(), raw),
        Reply::Bool(b) if !resp3 => JsValue::from_f64(*b as i64 as f64),
        Reply::BigNumber(s) if !resp3 => bytes(s.as_bytes(), raw),
        Reply::Map(pairs) => {
            let m = js_sys::Map::new();
            for (k, v) in pairs {
                m.set(&reply(k, raw, resp3), &reply(v, raw, resp3));
            }
            m.into()
        }
        Reply::Double(d) => JsValue::from_f64(*d),
        Reply::Bool(b) => JsValue::from_bool(*b),
        Reply::BigNumber(s) => js_sys::BigInt::new(&JsValue::from_str(s)).map(Into::into).unwrap_or_else(|_| JsValue::from_str(s)),
        Reply::Verbatim(_, b) => bytes(b, raw),
    }
}
