//! LCS: longest common subsequence of two strings, with the match ranges. A port of
//! t_string.c lcsCommand: the same DP table, the same backward walk, so ranges come out in
//! the same order and with the same boundaries as Redis's.

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::Reply;

fn value_of(ctx: &mut Ctx, key: &[u8]) -> Result<Bytes> {
    match ctx.lookup_read(key) {
        None => Ok(Bytes::new()),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(s.to_bytes()),
            #[allow(unreachable_patterns)]
            _ => Err(Error::Msg("ERR The specified keys must contain string values")),
        },
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
/// The LCS string; with LEN its length; with IDX a map {matches, len}.
pub fn lcs(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    // Both lookups happen before either type check, as in Redis.
    let a = value_of(ctx, &argv[1]);
    let b = value_of(ctx, &argv[2]);
    let (a, b) = (a?, b?);
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j];
        let more = argv.len() - 1 - j;
        if opt.eq_ignore_ascii_case(b"IDX") {
            getidx = true;
        } else if opt.eq_ignore_ascii_case(b"LEN") {
            getlen = true;
        } else if opt.eq_ignore_ascii_case(b"WITHMATCHLEN") {
            withmatchlen = true;
        } else if opt.eq_ignore_ascii_case(b"MINMATCHLEN") && more > 0 {
            minmatchlen = crate::command::args::int(&argv[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    if getlen && getidx {
        return Err(Error::Msg("ERR If you want both the length and indexes, please just use IDX."));
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(Error::Msg("ERR String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > ctx.srv.config.hot.proto_max_bulk_len as u64 {
        return Err(Error::Msg("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let w = blen + 1;
    let mut t = vec![0u32; cells as usize];
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if a[i - 1] == b[j - 1] { t[(i - 1) * w + j - 1] + 1 } else { t[(i - 1) * w + j].max(t[i * w + j - 1]) };
        }
    }
    let total = t[alen * w + blen];
    if getlen {
        return Ok(Reply::Int(total as i64));
    }
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut matches = Vec::new();
    let (mut astart, mut aend, mut bstart, mut bend) = (alen, 0usize, 0usize, 0usize);
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if astart == alen {
                astart = i - 1;
                aend = i - 1;
                bstart = j - 1;
                bend = j - 1;
            } else if astart == i && bstart == j {
                astart -= 1;
                bstart -= 1;
            } else {
                emit = true;
            }
            if astart == 0 || bstart == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if astart != alen {
                emit = true;
            }
        }
        if emit {
            let mlen = (aend - astart + 1) as i64;
            if minmatchlen == 0 || mlen >= minmatchlen {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(astart as i64), Reply::Int(aend as i64)]),
                    Reply::Array(vec![Reply::Int(bstart as i64), Reply::Int(bend as i64)]),
                ];
                if withmatchlen {
                    m.push(Reply::Int(mlen));
                }
                matches.push(Reply::Array(m));
            }
            astart = alen;
        }
    }
    if getidx {
        return Ok(Reply::Map(vec![(Reply::bulk_str("matches"), Reply::Array(matches)), (Reply::bulk_str("len"), Reply::Int(total as i64))]));
    }
    Ok(Reply::Bulk(Bytes::from(result)))
}
