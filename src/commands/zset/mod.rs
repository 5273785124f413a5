//! Sorted-set commands. Redis: t_zset.c (commands half; the type is types/zset.rs). Scores
//! go out as RESP3 doubles, which RESP2 clients receive as `%.17g` bulk strings.

use bytes::Bytes;

use crate::command::args::{self, positive_long};
use crate::command::spec::{acl::SORTEDSET, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::commands::generic::scan::{parse_cursor, scan_elements, scan_opts, scan_reply};
use crate::ds::listpack::LpVal;
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::Reply;
use crate::reply_stream::{Client as StreamClient, Shape, Streamed};
use crate::types::zset::{Lex, LexRange, ScoreRange};
use crate::types::zset::{Limits, ZSet};
use crate::util::{fmt_double, parse_f64};

mod algebra;
mod pop;
#[cfg(test)]
mod tests;

const G: &str = "sorted-set";
const W: u32 = WRITE | DENYOOM;

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("bzmpop", -5, WRITE | BLOCKING, G, pop::bzmpop).key_specs("RW access delete index:2 keynum:0:1:1").numkeys(2, 1, 1).acl(SORTEDSET).doc("7.0.0", "Remove and return members with scores in a sorted set or block until one is available", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.").args("timeout@double numkeys key ... where=(MIN|MAX) [COUNT count]"),
    CommandSpec::new("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, G, pop::bzpopmax).key_specs("RW access delete index:1 range:-2:1:0").keys(1, -2, 1).acl(SORTEDSET).doc("5.0.0", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.").args("key ... timeout@double"),
    CommandSpec::new("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, G, pop::bzpopmin).key_specs("RW access delete index:1 range:-2:1:0").keys(1, -2, 1).acl(SORTEDSET).doc("5.0.0", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.").args("key ... timeout@double"),
    CommandSpec::new("zadd", -4, W | FAST, G, zadd).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("1.2.0", "Add one or more members to a sorted set, or update its score if it already exists", "O(log(N)) for each item added, where N is the number of elements in the sorted set.").args("key condition=[NX|XX] comparison=[GT|LT] [change=CH] [increment=INCR] score_member=(score@double member) ..."),
    CommandSpec::new("zcard", 2, READONLY | FAST, G, zcard).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("1.2.0", "Get the number of members in a sorted set", "O(1)").args("key"),
    CommandSpec::new("zcount", 4, READONLY | FAST, G, zcount).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("2.0.0", "Count the members in a sorted set with scores within the given values", "O(log(N)) with N being the number of elements in the sorted set.").args("key min@double max@double"),
    CommandSpec::new("zdiff", -3, READONLY, G, algebra::zdiff).key_specs("RO access index:1 keynum:0:1:1").numkeys(1, 1, 1).acl(SORTEDSET).doc("6.2.0", "Subtract multiple sorted sets", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.").args("numkeys key ... [WITHSCORES]"),
    CommandSpec::new("zdiffstore", -4, W, G, algebra::zdiffstore).key_specs("OW update index:1 range:0:1:0; RO access index:2 keynum:0:1:1").keys(1, 1, 1).numkeys(2, 1, 1).acl(SORTEDSET).doc("6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.").args("destination@key numkeys key ..."),
    CommandSpec::new("zincrby", 4, W | FAST, G, zincrby).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("1.2.0", "Increment the score of a member in a sorted set", "O(log(N)) where N is the number of elements in the sorted set.").args("key increment@integer member"),
    CommandSpec::new("zinter", -3, READONLY, G, algebra::zinter).key_specs("RO access index:1 keynum:0:1:1").numkeys(1, 1, 1).acl(SORTEDSET).doc("6.2.0", "Intersect multiple sorted sets", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.").args("numkeys key ... [WEIGHTS weight@integer ...] [AGGREGATE aggregate=(SUM|MIN|MAX)] [WITHSCORES]"),
    CommandSpec::new("zintercard", -3, READONLY, G, algebra::zintercard).key_specs("RO access index:1 keynum:0:1:1").numkeys(1, 1, 1).acl(SORTEDSET).doc("7.0.0", "Intersect multiple sorted sets and return the cardinality of the result", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.").args("numkeys key ... [LIMIT limit@integer]"),
    CommandSpec::new("zinterstore", -4, W, G, algebra::zinterstore).key_specs("OW update index:1 range:0:1:0; RO access index:2 keynum:0:1:1").keys(1, 1, 1).numkeys(2, 1, 1).acl(SORTEDSET).doc("2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.").args("destination@key numkeys key ... [WEIGHTS weight@integer ...] [AGGREGATE aggregate=(SUM|MIN|MAX)]"),
    CommandSpec::new("zlexcount", 4, READONLY | FAST, G, zlexcount).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("2.8.9", "Count the number of members in a sorted set between a given lexicographical range", "O(log(N)) with N being the number of elements in the sorted set.").args("key min max"),
    CommandSpec::new("zmpop", -4, WRITE, G, pop::zmpop).key_specs("RW access delete index:1 keynum:0:1:1").numkeys(1, 1, 1).acl(SORTEDSET).doc("7.0.0", "Remove and return members with scores in a sorted set", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.").args("numkeys key ... where=(MIN|MAX) [COUNT count]"),
    CommandSpec::new("zmscore", -3, READONLY | FAST, G, zmscore).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("6.2.0", "Get the score associated with the given members in a sorted set", "O(N) where N is the number of members being requested.").args("key member ..."),
    CommandSpec::new("zpopmax", -2, WRITE | FAST, G, pop::zpopmax).key_specs("RW access delete index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("5.0.0", "Remove and return members with the highest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.").args("key [count]"),
    CommandSpec::new("zpopmin", -2, WRITE | FAST, G, pop::zpopmin).key_specs("RW access delete index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("5.0.0", "Remove and return members with the lowest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.").args("key [count]"),
    CommandSpec::new("zrandmember", -2, READONLY, G, zrandmember).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(SORTEDSET).doc("6.2.0", "Get one or multiple random elements from a sorted set", "O(N) where N is the number of elements returned").args("key options=[count [WITHSCORES]]"),
    CommandSpec::new("zrange", -4, READONLY, G, zrange).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("1.2.0", "Return a range of members in a sorted set", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.").args("key start@string stop sortby=[BYSCORE|BYLEX] [REV] [LIMIT offset_count=(offset count)] [WITHSCORES]"),
    CommandSpec::new("zrangebylex", -4, READONLY, G, zrangebylex).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("2.8.9", "Return a range of members in a sorted set, by lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").args("key min max [LIMIT offset_count=(offset count)]"),
    CommandSpec::new("zrangebyscore", -4, READONLY, G, zrangebyscore).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("1.0.5", "Return a range of members in a sorted set, by score", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").args("key min@double max@double [WITHSCORES] [LIMIT offset_count=(offset count)]"),
    CommandSpec::new("zrangestore", -5, W, G, zrangestore).key_specs("OW update index:1 range:0:1:0; RO access index:2 range:0:1:0").keys(1, 2, 1).acl(SORTEDSET).doc("6.2.0", "Store a range of members from sorted set into another key", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.").args("dst@key src@key min max sortby=[BYSCORE|BYLEX] [REV] [LIMIT offset_count=(offset count)]"),
    CommandSpec::new("zrank", 3, READONLY | FAST, G, zrank).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("2.0.0", "Determine the index of a member in a sorted set", "O(log(N))").args("key member"),
    CommandSpec::new("zrem", -3, WRITE | FAST, G, zrem).key_specs("RW delete index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("1.2.0", "Remove one or more members from a sorted set", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.").args("key member ..."),
    CommandSpec::new("zremrangebylex", 4, WRITE, G, zremrangebylex).key_specs("RW delete index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("2.8.9", "Remove all members in a sorted set between the given lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.").args("key min max"),
    CommandSpec::new("zremrangebyrank", 4, WRITE, G, zremrangebyrank).key_specs("RW delete index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("2.0.0", "Remove all members in a sorted set within the given indexes", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.").args("key start stop@integer"),
    CommandSpec::new("zremrangebyscore", 4, WRITE, G, zremrangebyscore).key_specs("RW delete index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("1.2.0", "Remove all members in a sorted set within the given scores", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.").args("key min@double max@double"),
    CommandSpec::new("zrevrange", -4, READONLY, G, zrevrange).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.").args("key start stop@integer [WITHSCORES]"),
    CommandSpec::new("zrevrangebylex", -4, READONLY, G, zrevrangebylex).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").args("key max min [LIMIT offset_count=(offset count)]"),
    CommandSpec::new("zrevrangebyscore", -4, READONLY, G, zrevrangebyscore).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").args("key max@double min@double [WITHSCORES] [LIMIT offset_count=(offset count)]"),
    CommandSpec::new("zrevrank", 3, READONLY | FAST, G, zrevrank).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low", "O(log(N))").args("key member"),
    CommandSpec::new("zscan", -3, READONLY, G, zscan).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(SORTEDSET).doc("2.8.0", "Incrementally iterate sorted sets elements and associated scores", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..").args("key cursor@integer [MATCH pattern] [COUNT count]"),
    CommandSpec::new("zscore", 3, READONLY | FAST, G, zscore).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SORTEDSET).doc("1.2.0", "Get the score associated with the given member in a sorted set", "O(1)").args("key member"),
    CommandSpec::new("zunion", -3, READONLY, G, algebra::zunion).key_specs("RO access index:1 keynum:0:1:1").numkeys(1, 1, 1).acl(SORTEDSET).doc("6.2.0", "Add multiple sorted sets", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.").args("numkeys key ... [WEIGHTS weight@integer ...] [AGGREGATE aggregate=(SUM|MIN|MAX)] [WITHSCORES]"),
    CommandSpec::new("zunionstore", -4, W, G, algebra::zunionstore).key_specs("OW update index:1 range:0:1:0; RO access index:2 keynum:0:1:1").keys(1, 1, 1).numkeys(2, 1, 1).acl(SORTEDSET).doc("2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.").args("destination@key numkeys key ... [WEIGHTS weight@integer ...] [AGGREGATE aggregate=(SUM|MIN|MAX)]"),
];

pub fn limits(ctx: &Ctx) -> Limits {
    let h = &ctx.srv.config.hot;
    Limits { entries: h.zset_max_listpack_entries, value: h.zset_max_listpack_value }
}

const NAN_ERR: Error = Error::Msg("ERR resulting score is not a number (NaN)");

/// zslParseRange: `(x` exclusive, `x` inclusive, `-inf`/`+inf`; NaN rejected.
pub fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange> {
    let item = |b: &[u8]| -> Option<(f64, bool)> {
        match b.first() {
            Some(b'(') => parse_f64(&b[1..]).map(|v| (v, true)),
            _ => parse_f64(b).map(|v| (v, false)),
        }
    };
    let bad = Error::Msg("ERR min or max is not a float");
    let ((min, minex), (max, maxex)) = (item(min).ok_or(bad.clone())?, item(max).ok_or(bad)?);
    Ok(ScoreRange { min, max, minex, maxex })
}

/// zslParseLexRange: `-`, `+`, `[x`, `(x`.
pub fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange> {
    let item = |b: &[u8]| -> Option<Lex> {
        match b.first()? {
            b'+' if b.len() == 1 => Some(Lex::Max),
            b'-' if b.len() == 1 => Some(Lex::Min),
            b'(' => Some(Lex::Excl(b[1..].to_vec())),
            b'[' => Some(Lex::Incl(b[1..].to_vec())),
            _ => None,
        }
    };
    let bad = Error::Msg("ERR min or max not valid string range item");
    Ok(LexRange { min: item(min).ok_or(bad.clone())?, max: item(max).ok_or(bad)? })
}

/// Members (and scores) as a reply: flat in RESP2, pairs in RESP3 when `with_scores`.
pub fn pairs_reply(items: Vec<(Bytes, f64)>, with_scores: bool, resp3: bool) -> Reply {
    let mut out = Vec::with_capacity(items.len() * if with_scores && !resp3 { 2 } else { 1 });
    for (m, s) in items {
        match (with_scores, resp3) {
            (false, _) => out.push(Reply::Bulk(m)),
            (true, true) => out.push(Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)])),
            (true, false) => out.extend([Reply::Bulk(m), Reply::Double(s)]),
        }
    }
    Reply::Array(out)
}

/// ZADD's options (zaddGenericCommand).
#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// zsetAdd for one pair: Ok(Some(new score)) when applied, Ok(None) when NX/XX/GT/LT said
/// no; the bool reports (added, updated).
fn add_one(z: &mut ZSet, member: &[u8], score: f64, f: AddFlags, lim: Limits) -> Result<(Option<f64>, bool, bool)> {
    if score.is_nan() {
        return Err(NAN_ERR);
    }
    match z.score(member) {
        Some(cur) => {
            if f.nx {
                return Ok((None, false, false));
            }
            let new = if f.incr { score + cur } else { score };
            if new.is_nan() {
                return Err(NAN_ERR);
            }
            if (f.lt && new >= cur) || (f.gt && new <= cur) {
                return Ok((None, false, false));
            }
            let changed = new != cur;
            if changed {
                z.update(member, cur, new, lim);
            }
            Ok((Some(new), false, changed))
        }
        None if !f.xx => {
            z.insert(member, score, lim);
            Ok((Some(score), true, false))
        }
        None => Ok((None, false, false)),
    }
}

fn zadd_generic(ctx: &mut Ctx, argv: &[Bytes], mut f: AddFlags) -> Result<Reply> {
    let mut i = 2;
    while i < argv.len() {
        let o = &argv[i];
        let is = |w: &str| o.eq_ignore_ascii_case(w.as_bytes());
        if is("nx") {
            f.nx = true;
        } else if is("xx") {
            f.xx = true;
        } else if is("ch") {
            f.ch = true;
        } else if is("incr") {
            f.incr = true;
        } else if is("gt") {
            f.gt = true;
        } else if is("lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let pairs = &argv[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(Error::Syntax);
    }
    if f.nx && f.xx {
        return Err(Error::Msg("ERR XX and NX options at the same time are not compatible"));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(Error::Msg("ERR GT, LT, and/or NX options at the same time are not compatible"));
    }
    if f.incr && pairs.len() > 2 {
        return Err(Error::Msg("ERR INCR option supports a single increment-element pair"));
    }
    let scores: Vec<f64> = pairs.chunks(2).map(|p| args::float(&p[0])).collect::<Result<_>>()?;
    let key = &argv[1];
    let lim = limits(ctx);
    let exists = ctx.write(key, Value::zset)?.is_some();
    if !exists {
        if f.xx {
            return Ok(if f.incr { Reply::Nil } else { Reply::Int(0) });
        }
        ctx.set_key(key, Value::ZSet(ZSet::new(pairs[1].len(), lim)), false);
    }
    let z = ctx.write(key, Value::zset)?.expect("exists");
    let (mut added, mut updated, mut last) = (0, 0, None);
    let mut err = None;
    for (p, score) in pairs.chunks(2).zip(scores) {
        match add_one(z, &p[1], score, f, lim) {
            Ok((applied, a, u)) => {
                added += a as i64;
                updated += u as i64;
                last = applied;
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    if added + updated > 0 {
        ctx.modified(key, if f.incr { "zincr" } else { "zadd" });
    }
    // A NaN from INCR on a key ZADD just created leaves it empty: do not keep it.
    ctx.delete_if_empty(key);
    if let Some(e) = err {
        return Err(e);
    }
    Ok(if f.incr { last.map_or(Reply::Nil, Reply::Double) } else { Reply::Int(if f.ch { added + updated } else { added }) })
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub fn zadd(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    zadd_generic(ctx, argv, AddFlags::default())
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    zadd_generic(ctx, argv, AddFlags { incr: true, ..Default::default() })
}

fn zrem(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ctx.remove_members(&argv[1], &argv[2..], Value::zset, ZSet::remove, ZSet::is_empty, "zrem")
}

fn zcard(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.read(&argv[1], Value::zset)?.map_or(0, |z| z.len() as i64)))
}

fn zscore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(ctx.read(&argv[1], Value::zset)?.and_then(|z| z.score(&argv[2])).map_or(Reply::Nil, Reply::Double))
}

fn zmscore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let z = ctx.read(&argv[1], Value::zset)?;
    let z = z.as_deref();
    Ok(Reply::Array(argv[2..].iter().map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double)).collect()))
}

fn rank(ctx: &mut Ctx, argv: &[Bytes], rev: bool) -> Result<Reply> {
    Ok(ctx.read(&argv[1], Value::zset)?.and_then(|z| z.rank(&argv[2], rev)).map_or(Reply::Nil, |r| Reply::Int(r as i64)))
}

fn zrank(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    rank(ctx, argv, false)
}

fn zrevrank(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    rank(ctx, argv, true)
}

fn zcount(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let r = parse_score_range(&argv[2], &argv[3])?;
    Ok(Reply::Int(ctx.read(&argv[1], Value::zset)?.map_or(0, |z| z.count_score(&r) as i64)))
}

fn zlexcount(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let r = parse_lex_range(&argv[2], &argv[3])?;
    Ok(Reply::Int(ctx.read(&argv[1], Value::zset)?.map_or(0, |z| z.count_lex(&r) as i64)))
}

#[derive(Clone, Copy, PartialEq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// What a range command asks for, once parsed (zrangeGenericCommand's steps 1 and 2).
struct RangeQuery {
    by: By,
    rev: bool,
    with_scores: bool,
    offset: i64,
    limit: i64,
    rank: (i64, i64),
    score: Option<ScoreRange>,
    lex: Option<LexRange>,
}

/// Parses `min max [options]` at `argv[at..]`; `by`/`rev` fixed for the legacy commands
/// (None means the option may set it).
fn parse_range(argv: &[Bytes], at: usize, store: bool, by: Option<By>, rev: Option<bool>) -> Result<RangeQuery> {
    let (mut q_by, mut q_rev) = (by, rev);
    let (mut with_scores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = at + 2;
    while j < argv.len() {
        let o = &argv[j];
        let left = argv.len() - j - 1;
        let is = |w: &str| o.eq_ignore_ascii_case(w.as_bytes());
        if !store && is("withscores") {
            with_scores = true;
        } else if is("limit") && left >= 2 {
            offset = args::int(&argv[j + 1])?;
            limit = args::int(&argv[j + 2])?;
            j += 2;
        } else if q_rev.is_none() && is("rev") {
            q_rev = Some(true);
        } else if by.is_none() && q_by.is_none() && is("bylex") {
            q_by = Some(By::Lex);
        } else if by.is_none() && q_by.is_none() && is("byscore") {
            q_by = Some(By::Score);
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    let by = q_by.unwrap_or(By::Rank);
    let rev = q_rev.unwrap_or(false);
    if limit != -1 && by == By::Rank {
        return Err(Error::Msg("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
    }
    if with_scores && by == By::Lex {
        return Err(Error::Msg("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    let (mut lo, mut hi) = (&argv[at], &argv[at + 1]);
    if rev && by != By::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let mut q = RangeQuery { by, rev, with_scores, offset, limit, rank: (0, 0), score: None, lex: None };
    match by {
        By::Rank => q.rank = (args::int(lo)?, args::int(hi)?),
        By::Score => q.score = Some(parse_score_range(lo, hi)?),
        By::Lex => q.lex = Some(parse_lex_range(lo, hi)?),
    }
    Ok(q)
}

/// Runs a parsed range query.
fn run_range(z: &ZSet, q: &RangeQuery) -> Vec<(Bytes, f64)> {
    match q.by {
        By::Rank => {
            let len = z.len() as i64;
            let (mut s, mut e) = q.rank;
            if s < 0 {
                s += len;
            }
            if e < 0 {
                e += len;
            }
            s = s.max(0);
            if s > e || s >= len {
                return vec![];
            }
            z.by_rank(s as usize, e.min(len - 1) as usize, q.rev)
        }
        _ if q.offset < 0 || (q.offset > 0 && q.offset as usize >= z.len()) => vec![],
        By::Score => z.by_score(q.score.as_ref().expect("parsed"), q.rev, q.offset as usize, q.limit),
        By::Lex => z.by_lex(q.lex.as_ref().expect("parsed"), q.rev, q.offset as usize, q.limit),
    }
}

fn range_cmd(ctx: &mut Ctx, argv: &[Bytes], by: Option<By>, rev: Option<bool>) -> Result<Reply> {
    let q = parse_range(argv, 2, false, by, rev)?;
    let c = StreamClient::of(ctx);
    let Some(z) = ctx.read(&argv[1], Value::zset)? else { return Ok(Reply::Array(vec![])) };
    // Streamed: a range of millions costs its RESP bytes, not a tree of them.
    let items = run_range(z, &q);
    let mut out = Streamed::new(c, if q.with_scores { Shape::Pairs } else { Shape::Array }, items.len());
    for (m, score) in items {
        if q.with_scores {
            out.pair(LpVal::Str(&m), Reply::Double(score));
        } else {
            out.bulk(&m);
        }
        if out.full() {
            break;
        }
    }
    Ok(out.finish(ctx))
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    range_cmd(ctx, argv, None, None)
}

fn zrevrange(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    range_cmd(ctx, argv, Some(By::Rank), Some(true))
}

fn zrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    range_cmd(ctx, argv, Some(By::Score), Some(false))
}

fn zrevrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    range_cmd(ctx, argv, Some(By::Score), Some(true))
}

fn zrangebylex(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    range_cmd(ctx, argv, Some(By::Lex), Some(false))
}

fn zrevrangebylex(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    range_cmd(ctx, argv, Some(By::Lex), Some(true))
}

/// Stores `items` (in any order) as a sorted set at `dst`, or deletes `dst` when empty.
pub fn store_pairs(ctx: &mut Ctx, dst: &[u8], items: Vec<(Bytes, f64)>, event: &'static str) -> Reply {
    let n = items.len() as i64;
    if n == 0 {
        if ctx.db().remove(dst).is_some() {
            ctx.modified(dst, "del");
        }
        return Reply::Int(0);
    }
    let lim = limits(ctx);
    // zsetConvertToListpackIfNeeded: a listpack when every member and the count fit.
    let maxlen = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    let fits = items.len() <= lim.entries && maxlen <= lim.value;
    let mut z = ZSet::new(if fits { 0 } else { usize::MAX }, lim);
    let big = Limits { entries: usize::MAX, value: usize::MAX };
    for (m, s) in items {
        z.insert(&m, s, if fits { big } else { lim });
    }
    ctx.set_key(dst, Value::ZSet(z), false);
    ctx.modified(dst, event);
    Reply::Int(n)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let q = parse_range(argv, 3, true, None, None)?;
    let items = match ctx.read(&argv[2], Value::zset)? {
        Some(z) => run_range(z, &q),
        None => vec![],
    };
    Ok(store_pairs(ctx, &argv[1], items, "zrangestore"))
}

fn remrange(ctx: &mut Ctx, argv: &[Bytes], by: By) -> Result<Reply> {
    let mut q = RangeQuery { by, rev: false, with_scores: false, offset: 0, limit: -1, rank: (0, 0), score: None, lex: None };
    match by {
        By::Rank => q.rank = (args::int(&argv[2])?, args::int(&argv[3])?),
        By::Score => q.score = Some(parse_score_range(&argv[2], &argv[3])?),
        By::Lex => q.lex = Some(parse_lex_range(&argv[2], &argv[3])?),
    }
    let Some(z) = ctx.write(&argv[1], Value::zset)? else { return Ok(Reply::Int(0)) };
    let gone = run_range(z, &q);
    let n = z.remove_all(&gone) as i64;
    if n > 0 {
        let ev = match by {
            By::Rank => "zremrangebyrank",
            By::Score => "zremrangebyscore",
            By::Lex => "zremrangebylex",
        };
        ctx.modified(&argv[1], ev);
        ctx.delete_if_empty(&argv[1]);
    }
    Ok(Reply::Int(n))
}

fn zremrangebyrank(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    remrange(ctx, argv, By::Rank)
}

fn zremrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    remrange(ctx, argv, By::Score)
}

fn zremrangebylex(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    remrange(ctx, argv, By::Lex)
}

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (count, with_scores) = crate::command::args::rand_count(argv, "withscores")?;
    let mut rng = ctx.srv.rng.clone();
    let Some(len) = ctx.read(&argv[1], Value::zset)?.map(|z| z.len()) else {
        return Ok(if count.is_some() { Reply::Array(vec![]) } else { Reply::Nil });
    };
    let z = match ctx.srv.dbs[ctx.client.db].peek(&argv[1]).map(|e| &e.value) {
        Some(Value::ZSet(z)) => z,
        _ => unreachable!("read above"),
    };
    let Some(c) = count else {
        let reply = Reply::Bulk(z.pair_at(rng.below(len as u64) as usize).0);
        ctx.srv.rng = rng;
        return Ok(reply);
    };
    // Streamed as picked: millions of picks with repetition cost their RESP bytes.
    let mut out = Streamed::new(StreamClient::of(ctx), if with_scores { Shape::Pairs } else { Shape::Array }, crate::util::random_count(len, c));
    crate::util::for_random_picks(&mut rng, len, c, |i| {
        let (m, score) = z.pair_at(i);
        if with_scores {
            out.pair(LpVal::Str(&m), Reply::Double(score));
        } else {
            out.bulk(&m);
        }
        !out.full()
    });
    ctx.srv.rng = rng;
    Ok(out.finish(ctx))
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let cursor = parse_cursor(&argv[2])?;
    let Some(z) = ctx.read(&argv[1], Value::zset)? else { return Ok(scan_reply(0, vec![])) };
    let opts = scan_opts(argv, 3, false)?;
    Ok(scan_elements(cursor, &opts, |c, found| z.scan(c, |m, s| found.push((m, Some(Bytes::from(fmt_double(s))))))))
}

/// The COUNT of ZPOP-style commands (getPositiveLongFromObjectOrReply).
pub fn parse_count(arg: &[u8]) -> Result<i64> {
    positive_long(arg, None)
}
