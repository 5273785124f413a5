//! The bytes commands and replies cross the JS boundary as. Arguments come packed as
//! (u32 little-endian length, bytes)*, as `pack` in www/src/wire.js writes them. Replies go
//! out tagged, for `decode` in www/src/wire.js to turn into the values a JS caller expects:
//! strings for status and valid UTF-8 bulks (Uint8Array otherwise), numbers (BigInt beyond
//! ±2^53), null for nil, arrays, `Map` for RESP3 maps, booleans, ReplyErrors in place.
//! A RESP2 session gets RESP2's shapes (flat arrays for maps, strings for doubles).
//! In raw mode every bulk string is bytes (binary-safe values whatever their bytes).
//!
//! Tags (one byte; `len` and `count` are u32 little-endian):
//! `n` nil · `u` no reply yet (blocked) · `s` ASCII string, `S` UTF-8 string, `b` bytes and
//! `e` error, each `len` then the bytes · `i` number, f64 · `I` an integer beyond ±2^53 or a
//! RESP3 big number, as decimal text (`len`, bytes) · `t`/`f` booleans · `a` array and `m`
//! map (`count` entries or pairs, then each).

use bytes::Bytes;

use crate::reply::Reply;

const MAX_SAFE: i64 = (1 << 53) - 1;

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

/// One command's arguments into `argv`, as slices of `all` (they share the buffer JS
/// filled, as the native server's share its read buffer). False if the lengths overrun.
pub fn unpack(all: Bytes, argv: &mut Vec<Bytes>) -> bool {
    for f in frames(&all) {
        match f {
            Some(a) => argv.push(a),
            None => return false,
        }
    }
    true
}

fn text(tag: u8, b: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

fn bulk(b: &[u8], raw: bool, out: &mut Vec<u8>) {
    let tag = if raw {
        b'b'
    } else if b.is_ascii() {
        b's'
    } else if std::str::from_utf8(b).is_ok() {
        b'S'
    } else {
        b'b'
    };
    text(tag, b, out);
}

fn number(n: f64, out: &mut Vec<u8>) {
    out.push(b'i');
    out.extend_from_slice(&n.to_le_bytes());
}

fn count(tag: u8, n: usize, out: &mut Vec<u8>) {
    out.push(tag);
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

/// Appends one reply, encoded as the module comment says.
pub fn encode(r: &Reply, raw: bool, resp3: bool, out: &mut Vec<u8>) {
    match r {
        Reply::Simple(s) => text(b's', s.as_bytes(), out),
        Reply::Status(s) => text(if s.is_ascii() { b's' } else { b'S' }, s.as_bytes(), out),
        Reply::Error(e) => text(b'e', e.as_bytes(), out),
        Reply::Int(n) if n.abs() <= MAX_SAFE => number(*n as f64, out),
        Reply::Int(n) => text(b'I', n.to_string().as_bytes(), out),
        Reply::Bulk(b) => bulk(b, raw, out),
        Reply::Nil | Reply::NilArray => out.push(b'n'),
        // Raw replies are made only for RESP sessions, whose bytes the RESP writer makes.
        Reply::Blocked | Reply::Raw(_) => out.push(b'u'),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) | Reply::Multi(v) => {
            count(b'a', v.len(), out);
            for r in v {
                encode(r, raw, resp3, out);
            }
        }
        // A RESP2 session sees what a RESP2 client would: maps flattened, doubles and big
        // numbers as strings, booleans as 0/1 (the writer's downgrade).
        Reply::Map(pairs) if !resp3 => {
            count(b'a', pairs.len() * 2, out);
            for (k, v) in pairs {
                encode(k, raw, resp3, out);
                encode(v, raw, resp3, out);
            }
        }
        Reply::Double(d) if !resp3 => bulk(crate::util::fmt_double(*d).as_bytes(), raw, out),
        Reply::HumanDouble(d) if !resp3 => bulk(crate::long_double::LongDouble::from_f64(*d).to_human_string().as_bytes(), raw, out),
        Reply::Bool(b) if !resp3 => number(*b as i64 as f64, out),
        Reply::BigNumber(s) if !resp3 => bulk(s.as_bytes(), raw, out),
        Reply::Map(pairs) => {
            count(b'm', pairs.len(), out);
            for (k, v) in pairs {
                encode(k, raw, resp3, out);
                encode(v, raw, resp3, out);
            }
        }
        Reply::Double(d) | Reply::HumanDouble(d) => number(*d, out),
        Reply::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        Reply::BigNumber(s) => text(b'I', s.as_bytes(), out),
        Reply::Verbatim(_, b) => bulk(b, raw, out),
    }
}

/// The writes in AOF text (RESP commands, `#` annotation lines between them): every command
/// but the SELECTs, MULTIs and EXECs that frame them. An RDB base counts none. Stops at
/// anything that is not a whole command.
pub fn count_writes(aof: &[u8]) -> usize {
    fn line(b: &[u8], at: &mut usize) -> Option<usize> {
        let end = *at + b.get(*at..)?.windows(2).position(|w| w == b"\r\n")?;
        let n = std::str::from_utf8(&b[*at + 1..end]).ok()?.parse().ok()?;
        *at = end + 2;
        Some(n)
    }
    if aof.starts_with(b"REDIS") {
        return 0;
    }
    let mut at = 0;
    let mut n = 0;
    while at < aof.len() {
        if aof[at] == b'#' {
            match aof[at..].windows(2).position(|w| w == b"\r\n") {
                Some(end) => at += end + 2,
                None => break,
            }
            continue;
        }
        if aof[at] != b'*' {
            break;
        }
        let Some(args) = line(aof, &mut at) else { break };
        let mut name: &[u8] = b"";
        for i in 0..args {
            if aof.get(at) != Some(&b'$') {
                return n;
            }
            let Some(len) = line(aof, &mut at) else { return n };
            let Some(arg) = aof.get(at..at + len) else { return n };
            if i == 0 {
                name = arg;
            }
            at += len + 2;
        }
        if !["select", "multi", "exec"].iter().any(|f| name.eq_ignore_ascii_case(f.as_bytes())) {
            n += 1;
        }
    }
    n
}
