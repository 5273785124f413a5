//! Hash commands. Redis: t_hash.c (commands half; the type is types/hash.rs).

use bytes::Bytes;

use crate::command::spec::{acl::HASH, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::commands::generic::scan::{parse_cursor, scan_elements, scan_opts, scan_reply};
use crate::ds::listpack::LpVal;
use crate::error::{Error, Result};
use crate::long_double::LongDouble;
use crate::object::Value;
use crate::reply::{Reply, OK};
use crate::reply_stream::{Client as StreamClient, Shape, Streamed};
use crate::types::hash::{Hash, Limits};

#[cfg(test)]
mod tests;

const G: &str = "hash";
const W: u32 = WRITE | DENYOOM;

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("hdel", -3, WRITE | FAST, G, hdel).key_specs("RW delete index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Delete one or more hash fields", "O(N) where N is the number of fields to be removed.").args("key field ..."),
    CommandSpec::new("hexists", 3, READONLY | FAST, G, hexists).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Determine if a hash field exists", "O(1)").args("key field"),
    CommandSpec::new("hget", 3, READONLY | FAST, G, hget).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Get the value of a hash field", "O(1)").args("key field"),
    CommandSpec::new("hgetall", 2, READONLY, G, hgetall).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output_order").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Get all the fields and values in a hash", "O(N) where N is the size of the hash.").args("key"),
    CommandSpec::new("hincrby", 4, W | FAST, G, hincrby).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Increment the integer value of a hash field by the given number", "O(1)").args("key field increment@integer"),
    CommandSpec::new("hincrbyfloat", 4, W | FAST, G, hincrbyfloat).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.6.0", "Increment the float value of a hash field by the given amount", "O(1)").args("key field increment@double"),
    CommandSpec::new("hkeys", 2, READONLY, G, hkeys).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output_order").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Get all the fields in a hash", "O(N) where N is the size of the hash.").args("key"),
    CommandSpec::new("hlen", 2, READONLY | FAST, G, hlen).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Get the number of fields in a hash", "O(1)").args("key"),
    CommandSpec::new("hmget", -3, READONLY | FAST, G, hmget).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Get the values of all the given hash fields", "O(N) where N is the number of fields being requested.").args("key field ..."),
    CommandSpec::new("hmset", -4, W | FAST, G, hmset).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Set multiple hash fields to multiple values", "O(N) where N is the number of fields being set.").args("key field_value=(field value) ..."),
    CommandSpec::new("hrandfield", -2, READONLY, G, hrandfield).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(HASH).doc("6.2.0", "Get one or multiple random fields from a hash", "O(N) where N is the number of fields returned").args("key options=[count [WITHVALUES]]"),
    CommandSpec::new("hscan", -3, READONLY, G, hscan).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(HASH).doc("2.8.0", "Incrementally iterate hash fields and associated values", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..").args("key cursor@integer [MATCH pattern] [COUNT count]"),
    CommandSpec::new("hset", -4, W | FAST, G, hset).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Set the string value of a hash field", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.").args("key field_value=(field value) ..."),
    CommandSpec::new("hsetnx", 4, W | FAST, G, hsetnx).key_specs("RW insert index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Set the value of a hash field, only if the field does not exist", "O(1)").args("key field value"),
    CommandSpec::new("hstrlen", 3, READONLY | FAST, G, hstrlen).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(HASH).doc("3.2.0", "Get the length of the value of a hash field", "O(1)").args("key field"),
    CommandSpec::new("hvals", 2, READONLY, G, hvals).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output_order").keys(1, 1, 1).acl(HASH).doc("2.0.0", "Get all the values in a hash", "O(N) where N is the size of the hash.").args("key"),
];

fn new_hash() -> Value {
    Value::Hash(Hash::default())
}

fn limits(ctx: &Ctx) -> Limits {
    let h = &ctx.srv.config.hot;
    Limits { entries: h.hash_max_listpack_entries, value: h.hash_max_listpack_value }
}

/// Sets field/value pairs, creating the hash; returns how many fields were new.
fn set_pairs(ctx: &mut Ctx, key: &[u8], pairs: &[Bytes], event: &'static str) -> Result<i64> {
    let lim = limits(ctx);
    let h = ctx.create(key, new_hash, Value::hash)?;
    h.fit(pairs.iter().map(|a| a.len()), lim);
    let mut added = 0;
    for fv in pairs.chunks(2) {
        added += h.set(&fv[0], &fv[1], lim) as i64;
    }
    ctx.modified(key, event);
    Ok(added)
}

/// HSET key field value [field value ...] — the number of new fields.
fn hset(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if !argv.len().is_multiple_of(2) {
        return Err(Error::WrongArity(crate::command::args::lower(&argv[0])));
    }
    Ok(Reply::Int(set_pairs(ctx, &argv[1], &argv[2..], "hset")?))
}

/// HMSET key field value [field value ...] — OK (HSET before 4.0).
fn hmset(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    hset(ctx, argv).map(|_| OK)
}

/// HSETNX key field value — 1 if set, 0 if the field existed.
fn hsetnx(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if ctx.write(&argv[1], Value::hash)?.is_some_and(|h| h.contains(&argv[2])) {
        return Ok(Reply::Int(0));
    }
    set_pairs(ctx, &argv[1], &argv[2..4], "hset")?;
    Ok(Reply::Int(1))
}

fn hget(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::opt_bulk(ctx.read(&argv[1], Value::hash)?.and_then(|h| h.get(&argv[2]))))
}

fn hmget(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let h = ctx.read(&argv[1], Value::hash)?;
    let h = h.as_deref();
    Ok(Reply::Array(argv[2..].iter().map(|f| Reply::opt_bulk(h.and_then(|h| h.get(f)))).collect()))
}

fn hexists(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::from_bool(ctx.read(&argv[1], Value::hash)?.is_some_and(|h| h.contains(&argv[2]))))
}

fn hlen(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.read(&argv[1], Value::hash)?.map_or(0, |h| h.len() as i64)))
}

fn hstrlen(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let n = ctx.read(&argv[1], Value::hash)?.and_then(|h| h.with(&argv[2], |v| v.len()));
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// HDEL key field [field ...] — fields removed; the key goes when its last field does.
fn hdel(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ctx.remove_members(&argv[1], &argv[2..], Value::hash, Hash::remove, Hash::is_empty, "hdel")
}

/// What HKEYS / HVALS / HGETALL return.
enum Part {
    Keys,
    Vals,
    Both,
}

/// HKEYS / HVALS / HGETALL, streamed: a hash of millions costs its RESP bytes.
fn get_all(ctx: &mut Ctx, key: &[u8], part: Part) -> Result<Reply> {
    let resp3 = ctx.client.conn.resp == 3;
    let c = StreamClient::of(ctx);
    let Some(h) = ctx.read(key, Value::hash)? else {
        return Ok(if matches!(part, Part::Both) && resp3 { Reply::Map(vec![]) } else { Reply::Array(vec![]) });
    };
    let mut out = Streamed::new(c, if matches!(part, Part::Both) { Shape::Map } else { Shape::Array }, h.len());
    h.for_each(|f, v| match part {
        Part::Keys => out.val(f),
        Part::Vals => out.val(v),
        Part::Both => {
            out.val(f);
            out.val(v);
        }
    });
    Ok(out.finish(ctx))
}

fn hkeys(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    get_all(ctx, &argv[1], Part::Keys)
}

fn hvals(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    get_all(ctx, &argv[1], Part::Vals)
}

fn hgetall(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    get_all(ctx, &argv[1], Part::Both)
}

/// HINCRBY key field increment
fn hincrby(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let by = crate::command::args::int(&argv[3])?;
    let cur = match ctx.write(&argv[1], Value::hash)? {
        Some(h) => h.with(&argv[2], |v| v.as_i64().ok_or(Error::Msg("ERR hash value is not an integer"))).transpose()?.unwrap_or(0),
        None => 0,
    };
    let new = cur.checked_add(by).ok_or(Error::Overflow)?;
    set_pairs(ctx, &argv[1], &[argv[2].clone(), Bytes::from(new.to_string())], "hincrby")?;
    Ok(Reply::Int(new))
}

/// HINCRBYFLOAT key field increment — long double arithmetic and formatting, as INCRBYFLOAT.
fn hincrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let by = LongDouble::parse(&argv[3]).ok_or(Error::NotFloat)?;
    if !by.is_finite() {
        return Err(Error::Msg("ERR value is NaN or Infinity"));
    }
    let cur = match ctx.write(&argv[1], Value::hash)? {
        Some(h) => h
            .with(&argv[2], |v| match v {
                crate::ds::listpack::LpVal::Int(n) => Some(LongDouble::from_i64(n)),
                crate::ds::listpack::LpVal::Str(s) => LongDouble::parse(s),
            })
            .map(|v| v.ok_or(Error::Msg("ERR hash value is not a float")))
            .transpose()?
            .unwrap_or_else(|| LongDouble::from_i64(0)),
        None => LongDouble::from_i64(0),
    };
    let new = cur.add(&by);
    if !new.is_finite() {
        return Err(Error::IncrNanOrInf);
    }
    let text = Bytes::from(new.to_human_string());
    set_pairs(ctx, &argv[1], &[argv[2].clone(), text.clone()], "hincrbyfloat")?;
    // Replayed as the value it produced, so float formatting never diverges.
    ctx.propagate_as(|| vec![Bytes::from_static(b"HSET"), argv[1].clone(), argv[2].clone(), text.clone()]);
    Ok(Reply::Bulk(text))
}

/// HRANDFIELD key [count [WITHVALUES]] — one field (nil when missing), or `count` distinct
/// fields, or with a negative count that many picks with repetition.
fn hrandfield(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (count, with_values) = crate::command::args::rand_count(argv, "withvalues")?;
    let mut rng = ctx.srv.rng.clone();
    let Some(len) = ctx.read(&argv[1], Value::hash)?.map(|h| h.len()) else {
        return Ok(if count.is_some() { Reply::Array(vec![]) } else { Reply::Nil });
    };
    let h = match ctx.srv.dbs[ctx.client.db].peek(&argv[1]).map(|e| &e.value) {
        Some(Value::Hash(h)) => h,
        _ => unreachable!("read above"),
    };
    let Some(c) = count else {
        let field = h.pair_at(rng.below(len as u64) as usize).0;
        ctx.srv.rng = rng;
        return Ok(Reply::Bulk(field));
    };
    // Streamed as picked: millions of picks with repetition cost their RESP bytes.
    let mut out = Streamed::new(StreamClient::of(ctx), if with_values { Shape::Pairs } else { Shape::Array }, crate::util::random_count(len, c));
    crate::util::for_random_picks(&mut rng, len, c, |i| {
        let (f, v) = h.pair_at(i);
        if with_values {
            out.pair(LpVal::Str(&f), Reply::Bulk(v));
        } else {
            out.bulk(&f);
        }
        !out.full()
    });
    ctx.srv.rng = rng;
    Ok(out.finish(ctx))
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let cursor = parse_cursor(&argv[2])?;
    let Some(h) = ctx.read(&argv[1], Value::hash)? else { return Ok(scan_reply(0, vec![])) };
    let opts = scan_opts(argv, 3, false)?;
    Ok(scan_elements(cursor, &opts, |c, found| h.scan(c, |f, v| found.push((f.to_bytes(), Some(v.to_bytes()))))))
}
