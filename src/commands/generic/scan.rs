//! KEYS and SCAN. SCAN walks `Dict`'s buckets with Redis's reverse-binary cursor, so every key
//! present for the whole iteration is returned at least once, however the table resizes.
//! Redis: db.c (keysCommand, scanGenericCommand, parseScanCursorOrReply).

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::reply_stream::{Client as StreamClient, Shape, Streamed};
use crate::util::glob_match;

/// KEYS pattern — every live key matching the glob.
pub fn keys(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let pat = &argv[1];
    let all = &pat[..] == b"*";
    let now = ctx.now_ms();
    // Streamed: the keys of a big keyspace cost their RESP bytes, not a tree of them.
    let mut out = Streamed::deferred(StreamClient::of(ctx), Shape::Array);
    let db = ctx.db();
    for (k, _) in db.iter() {
        if (all || glob_match(pat, k, false)) && !db.is_expired(k, now) {
            out.bulk(k);
            if out.full() {
                break;
            }
        }
    }
    Ok(out.finish(ctx))
}

/// strtoul with Redis's checks: no leading space, nothing after the digits, no overflow.
/// Like strtoul, a sign is accepted and a negative number wraps.
pub fn parse_cursor(b: &[u8]) -> Result<u64> {
    let bad = || Error::Msg("ERR invalid cursor");
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if !b.is_empty() && digits.is_empty() {
        return Err(bad());
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(bad());
        }
        v = v.checked_mul(10).and_then(|v| v.checked_add((c - b'0') as u64)).ok_or_else(bad)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// SCAN-family options (MATCH, COUNT, and TYPE for SCAN only).
pub struct ScanOpts<'a> {
    pub count: i64,
    pub pattern: Option<&'a Bytes>,
    pub typ: Option<&'a Bytes>,
}

/// Parses options from `argv[from..]` as scanGenericCommand does.
pub fn scan_opts(argv: &[Bytes], from: usize, allow_type: bool) -> Result<ScanOpts<'_>> {
    let mut o = ScanOpts { count: 10, pattern: None, typ: None };
    let mut i = from;
    while i < argv.len() {
        let more = argv.len() - i;
        let a = &argv[i];
        if a.eq_ignore_ascii_case(b"count") && more >= 2 {
            o.count = crate::command::args::int(&argv[i + 1])?;
            if o.count < 1 {
                return Err(Error::Syntax);
            }
        } else if a.eq_ignore_ascii_case(b"match") && more >= 2 {
            o.pattern = Some(&argv[i + 1]).filter(|p| &p[..] != b"*");
        } else if allow_type && a.eq_ignore_ascii_case(b"type") && more >= 2 {
            o.typ = Some(&argv[i + 1]);
        } else {
            return Err(Error::Syntax);
        }
        i += 2;
    }
    Ok(o)
}

/// Calls `step` (one bucket, or everything for a small encoding; returns the next cursor)
/// until COUNT items or 10×COUNT steps, as Redis bounds one call.
pub fn drive<T>(mut cursor: u64, count: i64, mut step: impl FnMut(u64, &mut Vec<T>) -> u64) -> (u64, Vec<T>) {
    let mut found = Vec::new();
    let mut budget = count.saturating_mul(10);
    loop {
        cursor = step(cursor, &mut found);
        budget -= 1;
        if cursor == 0 || budget <= 0 || found.len() as i64 >= count {
            return (cursor, found);
        }
    }
}

pub fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::Bulk(Bytes::from(cursor.to_string())), Reply::Array(items)])
}

/// HSCAN/SSCAN/ZSCAN once the cursor is parsed and the key found: pairs of (element,
/// companion) where the companion is a hash value or a score, filtered on the element.
pub fn scan_elements(cursor: u64, opts: &ScanOpts, step: impl FnMut(u64, &mut Vec<(Bytes, Option<Bytes>)>) -> u64) -> Reply {
    let (next, found) = drive(cursor, opts.count, step);
    let mut out = Vec::with_capacity(found.len() * 2);
    for (e, extra) in found {
        if opts.pattern.is_some_and(|p| !glob_match(p, &e, false)) {
            continue;
        }
        out.push(Reply::Bulk(e));
        if let Some(x) = extra {
            out.push(Reply::Bulk(x));
        }
    }
    scan_reply(next, out)
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] — [next cursor, keys].
pub fn scan(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let cursor = parse_cursor(&argv[1])?;
    let opts = scan_opts(argv, 2, true)?;
    let (cursor, found) = {
        let db = ctx.db();
        drive(cursor, opts.count, |c, found: &mut Vec<Bytes>| db.scan(c, |k, _| found.push(Bytes::copy_from_slice(k))))
    };
    let now = ctx.now_ms();
    let mut out = Vec::with_capacity(found.len());
    for k in found {
        if opts.pattern.is_some_and(|p| !glob_match(p, &k, false)) {
            continue;
        }
        let db = ctx.db();
        if db.expire_if_needed(&k, now) {
            continue;
        }
        if let Some(t) = opts.typ {
            let matches = db.peek(&k).is_some_and(|e| t.eq_ignore_ascii_case(e.value.type_name().as_bytes()));
            if !matches {
                continue;
            }
        }
        out.push(Reply::Bulk(k));
    }
    Ok(scan_reply(cursor, out))
}
