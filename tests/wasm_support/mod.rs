//! The binding's byte protocol from the Rust side, for the wasm-bindgen-test suites: commands
//! packed into the argument area as www/src/wire.js packs them, replies decoded as it decodes
//! them (the format is in src/wasm/convert.rs).
#![allow(dead_code)]

use cinnabar::wasm::Engine;

#[derive(Debug, PartialEq)]
pub enum Val {
    Nil,
    /// No reply yet: the session waits.
    Pending,
    Str(String),
    Bytes(Vec<u8>),
    Err(String),
    Num(f64),
    Big(String),
    Bool(bool),
    Arr(Vec<Val>),
    Map(Vec<(Val, Val)>),
}

pub fn s(text: &str) -> Val {
    Val::Str(text.to_string())
}

/// The io words: argument area (address, capacity), reply bytes (address, length).
fn io(e: &Engine) -> [u32; 4] {
    // SAFETY: `ioAddress` is the address of four u32 words the engine keeps alive.
    unsafe { *(e.io_address() as *const [u32; 4]) }
}

pub fn pack(args: &[&[u8]]) -> Vec<u8> {
    let mut packed = Vec::new();
    for a in args {
        packed.extend((a.len() as u32).to_le_bytes());
        packed.extend_from_slice(a);
    }
    packed
}

/// Writes `bytes` into the argument area, as JS does.
pub fn put(e: &mut Engine, bytes: &[u8]) {
    e.reserve(bytes.len() as u32);
    let [arg_ptr, cap, ..] = io(e);
    assert!(cap as usize >= bytes.len());
    // SAFETY: the area holds `cap` bytes at `arg_ptr`, in this module's memory.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), arg_ptr as *mut u8, bytes.len()) };
}

pub fn call(e: &mut Engine, id: f64, args: &[&str], now: f64) -> Val {
    let packed = pack(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>());
    put(e, &packed);
    let n = e.call(id, packed.len() as u32, now, false);
    replies(e, n).remove(0)
}

pub fn pipeline(e: &mut Engine, id: f64, cmds: &[&[&str]], now: f64) -> Vec<Val> {
    let mut all = Vec::new();
    for c in cmds {
        let p = pack(&c.iter().map(|a| a.as_bytes()).collect::<Vec<_>>());
        all.extend((p.len() as u32).to_le_bytes());
        all.extend(p);
    }
    put(e, &all);
    let n = e.pipeline(id, all.len() as u32, now, false);
    replies(e, n)
}

pub fn take(e: &mut Engine, id: f64) -> Vec<Val> {
    let n = e.take(id, false);
    replies(e, n)
}

pub fn replies(e: &Engine, n: u32) -> Vec<Val> {
    let [_, _, p, len] = io(e);
    // SAFETY: the last call's reply bytes, `len` of them at `p`, untouched until the next call.
    let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, len as usize) };
    let mut at = 0;
    let out = (0..n).map(|_| value(bytes, &mut at)).collect();
    assert_eq!(at, bytes.len(), "every reply byte decoded");
    out
}

fn word(b: &[u8], at: &mut usize) -> usize {
    let w = u32::from_le_bytes(b[*at..*at + 4].try_into().unwrap()) as usize;
    *at += 4;
    w
}

fn text(b: &[u8], at: &mut usize) -> Vec<u8> {
    let n = word(b, at);
    let t = b[*at..*at + n].to_vec();
    *at += n;
    t
}

fn value(b: &[u8], at: &mut usize) -> Val {
    let tag = b[*at];
    *at += 1;
    let string = |t: Vec<u8>| String::from_utf8(t).unwrap();
    match tag {
        b'n' => Val::Nil,
        b'u' => Val::Pending,
        b's' | b'S' => Val::Str(string(text(b, at))),
        b'b' => Val::Bytes(text(b, at)),
        b'e' => Val::Err(string(text(b, at))),
        b'I' => Val::Big(string(text(b, at))),
        b'i' => {
            let n = f64::from_le_bytes(b[*at..*at + 8].try_into().unwrap());
            *at += 8;
            Val::Num(n)
        }
        b't' => Val::Bool(true),
        b'f' => Val::Bool(false),
        b'a' => {
            let n = word(b, at);
            Val::Arr((0..n).map(|_| value(b, at)).collect())
        }
        b'm' => {
            let n = word(b, at);
            Val::Map((0..n).map(|_| (value(b, at), value(b, at))).collect())
        }
        t => panic!("unknown reply tag {t}"),
    }
}
