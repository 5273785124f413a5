//! KEYS and SCAN. SCAN walks `Dict`'s buckets with Redis's reverse-binary cursor, so every key
//! present for the whole iteration is returned at least once, however the table resizes.
//! Redis: db.c (keysCommand, scanGenericCommand, parseScanCursorOrReply).

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::util::glob_match;

/// KEYS pattern — every live key matching the glob.
pub fn keys(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let pat = &argv[1];
    let all = &pat[..] == b"*";
    let now = ctx.now_ms();
    let db = ctx.db();
    let out = db
        .iter()
        .filter(|(k, _)| (all || glob_match(pat, k, false)) && !db.is_expired(k, now))
        .map(|(k, _)| Reply::Bulk(k.clone()))
        .collect();
    Ok(Reply::Array(out))
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

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] — [next cursor, keys].
pub fn scan(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut cursor = parse_cursor(&argv[1])?;
    let (mut count, mut pattern, mut typ): (i64, Option<&Bytes>, Option<&Bytes>) = (10, None, None);
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - i;
        let o = &argv[i];
        if o.eq_ignore_ascii_case(b"count") && more >= 2 {
            count = crate::command::args::int(&argv[i + 1])?;
            if count < 1 {
                return Err(Error::Syntax);
            }
        } else if o.eq_ignore_ascii_case(b"match") && more >= 2 {
            pattern = Some(&argv[i + 1]).filter(|p| &p[..] != b"*");
        } else if o.eq_ignore_ascii_case(b"type") && more >= 2 {
            typ = Some(&argv[i + 1]);
        } else {
            return Err(Error::Syntax);
        }
        i += 2;
    }
    let mut found: Vec<Bytes> = Vec::new();
    {
        let db = ctx.db();
        // Visit buckets until COUNT keys or 10×COUNT buckets, as Redis bounds one call.
        let mut budget = count.saturating_mul(10);
        loop {
            cursor = db.scan(cursor, |k, _| found.push(k.clone()));
            budget -= 1;
            if cursor == 0 || budget <= 0 || found.len() as i64 >= count {
                break;
            }
        }
    }
    let now = ctx.now_ms();
    let mut out = Vec::with_capacity(found.len());
    for k in found {
        if pattern.is_some_and(|p| !glob_match(p, &k, false)) {
            continue;
        }
        let db = ctx.db();
        if db.expire_if_needed(&k, now) {
            continue;
        }
        if let Some(t) = typ {
            let matches = db.peek(&k).is_some_and(|e| t.eq_ignore_ascii_case(e.value.type_name().as_bytes()));
            if !matches {
                continue;
            }
        }
        out.push(Reply::Bulk(k));
    }
    Ok(Reply::Array(vec![Reply::Bulk(Bytes::from(cursor.to_string())), Reply::Array(out)]))
}
