//! Set commands. Redis: t_set.c (commands half; the type is types/set.rs).

use bytes::Bytes;

use crate::command::args::{positive_long, range_long};
use crate::command::spec::{acl::SET, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::commands::generic::scan::{parse_cursor, scan_elements, scan_opts, scan_reply};
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::Reply;
use crate::reply_stream::{Client as StreamClient, Shape, Streamed};
use crate::types::set::Set;

#[cfg(test)]
mod tests;

const G: &str = "set";
const W: u32 = WRITE | DENYOOM;

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, W | FAST, G, sadd).key_specs("RW insert index:1 range:0:1:0").keys(1, 1, 1).acl(SET).doc("1.0.0", "Add one or more members to a set", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").args("key member ..."),
    CommandSpec::new("scard", 2, READONLY | FAST, G, scard).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(SET).doc("1.0.0", "Get the number of members in a set", "O(1)").args("key"),
    CommandSpec::new("sdiff", -2, READONLY, G, sdiff).key_specs("RO access index:1 range:-1:1:0").tips("nondeterministic_output_order").keys(1, -1, 1).acl(SET).doc("1.0.0", "Subtract multiple sets", "O(N) where N is the total number of elements in all given sets.").args("key ..."),
    CommandSpec::new("sdiffstore", -3, W, G, sdiffstore).key_specs("OW update index:1 range:0:1:0; RO access index:2 range:-1:1:0").keys(1, -1, 1).acl(SET).doc("1.0.0", "Subtract multiple sets and store the resulting set in a key", "O(N) where N is the total number of elements in all given sets.").args("destination@key key ..."),
    CommandSpec::new("sinter", -2, READONLY, G, sinter).key_specs("RO access index:1 range:-1:1:0").tips("nondeterministic_output_order").keys(1, -1, 1).acl(SET).doc("1.0.0", "Intersect multiple sets", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.").args("key ..."),
    CommandSpec::new("sintercard", -3, READONLY, G, sintercard).key_specs("RO access index:1 keynum:0:1:1").numkeys(1, 1, 1).acl(SET).doc("7.0.0", "Intersect multiple sets and return the cardinality of the result", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.").args("numkeys key ... [LIMIT limit@integer]"),
    CommandSpec::new("sinterstore", -3, W, G, sinterstore).key_specs("RW update index:1 range:0:1:0; RO access index:2 range:-1:1:0").keys(1, -1, 1).acl(SET).doc("1.0.0", "Intersect multiple sets and store the resulting set in a key", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.").args("destination@key key ..."),
    CommandSpec::new("sismember", 3, READONLY | FAST, G, sismember).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(SET).doc("1.0.0", "Determine if a given value is a member of a set", "O(1)").args("key member"),
    CommandSpec::new("smembers", 2, READONLY, G, smembers).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output_order").keys(1, 1, 1).acl(SET).doc("1.0.0", "Get all the members in a set", "O(N) where N is the set cardinality.").args("key"),
    CommandSpec::new("smismember", -3, READONLY | FAST, G, smismember).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(SET).doc("6.2.0", "Returns the membership associated with the given elements for a set", "O(N) where N is the number of elements being checked for membership").args("key member ..."),
    CommandSpec::new("smove", 4, WRITE | FAST, G, smove).key_specs("RW access delete index:1 range:0:1:0; RW insert index:2 range:0:1:0").keys(1, 2, 1).acl(SET).doc("1.0.0", "Move a member from one set to another", "O(1)").args("source@key destination@key member"),
    CommandSpec::new("spop", -2, WRITE | FAST, G, spop).key_specs("RW access delete index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(SET).doc("1.0.0", "Remove and return one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.").args("key [count]"),
    CommandSpec::new("srandmember", -2, READONLY, G, srandmember).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(SET).doc("1.0.0", "Get one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.").args("key [count]"),
    CommandSpec::new("srem", -3, WRITE | FAST, G, srem).key_specs("RW delete index:1 range:0:1:0").keys(1, 1, 1).acl(SET).doc("1.0.0", "Remove one or more members from a set", "O(N) where N is the number of members to be removed.").args("key member ..."),
    CommandSpec::new("sscan", -3, READONLY, G, sscan).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(SET).doc("2.8.0", "Incrementally iterate Set elements", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..").args("key cursor@integer [MATCH pattern] [COUNT count]"),
    CommandSpec::new("sunion", -2, READONLY, G, sunion).key_specs("RO access index:1 range:-1:1:0").tips("nondeterministic_output_order").keys(1, -1, 1).acl(SET).doc("1.0.0", "Add multiple sets", "O(N) where N is the total number of elements in all given sets.").args("key ..."),
    CommandSpec::new("sunionstore", -3, W, G, sunionstore).key_specs("OW update index:1 range:0:1:0; RO access index:2 range:-1:1:0").keys(1, -1, 1).acl(SET).doc("1.0.0", "Add multiple sets and store the resulting set in a key", "O(N) where N is the total number of elements in all given sets.").args("destination@key key ..."),
];

fn max_intset(ctx: &Ctx) -> usize {
    ctx.srv.config.hot.set_max_intset_entries
}

/// Adds members to the set at `key`, creating it in the encoding its first member calls for.
fn add_members(ctx: &mut Ctx, key: &[u8], members: &[Bytes]) -> Result<i64> {
    let max = max_intset(ctx);
    if ctx.write(key, Value::set)?.is_none() {
        ctx.set_key(key, Value::Set(Set::for_member(&members[0])), false);
    }
    let s = ctx.write(key, Value::set)?.expect("just created");
    let added = members.iter().filter(|m| s.add(m, max)).count() as i64;
    Ok(added)
}

fn sadd(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let n = add_members(ctx, &argv[1], &argv[2..])?;
    if n > 0 {
        ctx.modified(&argv[1], "sadd");
    }
    Ok(Reply::Int(n))
}

fn srem(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ctx.remove_members(&argv[1], &argv[2..], Value::set, Set::remove, Set::is_empty, "srem")
}

fn scard(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.read(&argv[1], Value::set)?.map_or(0, |s| s.len() as i64)))
}

fn sismember(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::from_bool(ctx.read(&argv[1], Value::set)?.is_some_and(|s| s.contains(&argv[2]))))
}

fn smismember(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let s = ctx.read(&argv[1], Value::set)?;
    let s = s.as_deref();
    Ok(Reply::Array(argv[2..].iter().map(|m| Reply::from_bool(s.is_some_and(|s| s.contains(m)))).collect()))
}

fn members_reply(s: &Set) -> Reply {
    let mut out = Vec::with_capacity(s.len());
    s.for_each(|v| out.push(Reply::Bulk(v.to_bytes())));
    Reply::Set(out)
}

/// Every member, streamed (a set of millions costs its RESP bytes, not a tree of them).
fn stream_members(c: StreamClient, s: &Set) -> Streamed {
    let mut out = Streamed::new(c, Shape::Set, s.len());
    s.for_each(|v| out.val(v));
    out
}

fn smembers(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let c = StreamClient::of(ctx);
    let Some(s) = ctx.read(&argv[1], Value::set)? else { return Ok(Reply::Set(vec![])) };
    let out = stream_members(c, s);
    Ok(out.finish(ctx))
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (src, dst, m) = (&argv[1], &argv[2], &argv[3]);
    if ctx.write(src, Value::set)?.is_none() {
        return Ok(Reply::Int(0));
    }
    ctx.write(dst, Value::set)?;
    if src == dst {
        return Ok(Reply::from_bool(ctx.write(src, Value::set)?.is_some_and(|s| s.contains(m))));
    }
    if !ctx.write(src, Value::set)?.is_some_and(|s| s.remove(m)) {
        return Ok(Reply::Int(0));
    }
    ctx.modified(src, "srem");
    ctx.delete_if_empty(src);
    // The destination changes (WATCH, notifications) only if it did not hold the member.
    if add_members(ctx, dst, std::slice::from_ref(m))? > 0 {
        ctx.modified(dst, "sadd");
    }
    Ok(Reply::Int(1))
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::Syntax);
    }
    let count = if argv.len() == 3 { Some(positive_long(&argv[2], None)?) } else { None };
    let mut rng = ctx.srv.rng.clone();
    let Some(s) = ctx.write(&argv[1], Value::set)? else {
        return Ok(if count.is_some() { Reply::Set(vec![]) } else { Reply::Nil });
    };
    let key = &argv[1];
    // What a replay must do instead of drawing again: DEL when all went, one SREM per
    // member taken otherwise.
    let mut taken = Vec::new();
    let reply = match count {
        Some(0) => return Ok(Reply::Set(vec![])),
        Some(c) if c as usize >= s.len() => {
            let r = members_reply(s);
            *s = Set::default();
            ctx.propagate_as(|| vec![Bytes::from_static(b"DEL"), key.clone()]);
            r
        }
        Some(c) => {
            let mut out = Vec::with_capacity(c as usize);
            for _ in 0..c {
                let m = s.member_at(rng.below(s.len() as u64) as usize);
                s.remove(&m);
                taken.push(m.clone());
                out.push(Reply::Bulk(m));
            }
            Reply::Set(out)
        }
        None => {
            let m = s.member_at(rng.below(s.len() as u64) as usize);
            s.remove(&m);
            ctx.propagate_as(|| vec![Bytes::from_static(b"SREM"), key.clone(), m.clone()]);
            Reply::Bulk(m)
        }
    };
    ctx.srv.rng = rng;
    if !taken.is_empty() {
        for m in taken {
            ctx.also_propagate(|| vec![Bytes::from_static(b"SREM"), key.clone(), m]);
        }
        ctx.prevent_propagation();
    }
    ctx.modified(key, "spop");
    ctx.delete_if_empty(key);
    Ok(reply)
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::Syntax);
    }
    let count = if argv.len() == 3 {
        let c = range_long(&argv[2], -i64::MAX, i64::MAX, None)?;
        if c.unsigned_abs() > crate::util::RAND_COUNT_MAX {
            return Err(Error::Msg("ERR value is out of range"));
        }
        Some(c)
    } else {
        None
    };
    let mut rng = ctx.srv.rng.clone();
    let Some(len) = ctx.read(&argv[1], Value::set)?.map(|s| s.len()) else {
        return Ok(if count.is_some() { Reply::Array(vec![]) } else { Reply::Nil });
    };
    let s = match ctx.srv.dbs[ctx.client.db].peek(&argv[1]).map(|e| &e.value) {
        Some(Value::Set(s)) => s,
        _ => unreachable!("read above"),
    };
    let Some(c) = count else {
        let reply = Reply::Bulk(s.member_at(rng.below(len as u64) as usize));
        ctx.srv.rng = rng;
        return Ok(reply);
    };
    // Picks with repetition stream one at a time: millions of them cost their RESP bytes.
    let mut out = Streamed::new(StreamClient::of(ctx), Shape::Array, crate::util::random_count(len, c));
    crate::util::for_random_picks(&mut rng, len, c, |i| {
        out.val(s.val_at(i));
        !out.full()
    });
    ctx.srv.rng = rng;
    Ok(out.finish(ctx))
}

/// The sets named by `keys` (None for missing ones), type-checked, borrowed in place.
fn load<'a>(ctx: &'a mut Ctx, keys: &[Bytes]) -> Result<Vec<Option<&'a Set>>> {
    // Expires, counts the hit, checks the type; a key kept expired by CLIENT PAUSE is missing.
    let mut present = Vec::with_capacity(keys.len());
    for k in keys {
        present.push(ctx.read(k, Value::set)?.is_some());
    }
    let db = &ctx.srv.dbs[ctx.client.db];
    Ok(keys
        .iter()
        .zip(present)
        .map(|(k, here)| match db.peek(k).map(|e| &e.value) {
            Some(Value::Set(s)) if here => Some(s),
            _ => None,
        })
        .collect())
}

/// Intersection in Redis's order: the smallest set's iteration order (sinterGenericCommand).
/// `limit` stops early (SINTERCARD; 0 = none).
fn intersect(sets: &[Option<&Set>], limit: usize) -> Vec<Bytes> {
    if sets.iter().any(|s| s.is_none()) {
        return vec![];
    }
    let mut sets: Vec<&Set> = sets.iter().map(|s| s.unwrap()).collect();
    sets.sort_by_key(|s| s.len());
    let mut out = vec![];
    let mut done = false;
    sets[0].for_each(|v| {
        if done {
            return;
        }
        let m = v.to_bytes();
        if sets[1..].iter().all(|s| s.contains(&m)) {
            out.push(m);
            if limit != 0 && out.len() >= limit {
                done = true;
            }
        }
    });
    out
}

/// Builds a result set as Redis does (starting as an intset), so its order matches.
fn build(members: impl IntoIterator<Item = Bytes>, max: usize) -> Set {
    let mut s = Set::default();
    for m in members {
        s.add(&m, max);
    }
    s
}

fn union_or_diff(sets: &[Option<&Set>], diff: bool, max: usize) -> Set {
    let mut acc = Set::default();
    for (i, s) in sets.iter().enumerate() {
        let Some(s) = s else { continue };
        if diff && i > 0 {
            for m in s.members() {
                acc.remove(&m);
            }
        } else if !diff || i == 0 {
            s.for_each(|v| {
                acc.add(&v.to_bytes(), max);
            });
        }
        if diff && acc.is_empty() {
            break;
        }
    }
    acc
}

/// Writes a computed set to `dst` (replacing any value) or deletes `dst` when it is empty.
fn store(ctx: &mut Ctx, dst: &[u8], result: Set, event: &'static str) -> Reply {
    let n = result.len() as i64;
    if n > 0 {
        ctx.set_key(dst, Value::Set(result), false);
        ctx.modified(dst, event);
    } else if ctx.db().remove(dst).is_some() {
        ctx.modified(dst, "del");
    }
    Reply::Int(n)
}

fn sinter(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let sets = load(ctx, &argv[1..])?;
    Ok(Reply::Set(intersect(&sets, 0).into_iter().map(Reply::Bulk).collect()))
}

fn sinterstore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let max = max_intset(ctx);
    let result = build(intersect(&load(ctx, &argv[2..])?, 0), max);
    Ok(store(ctx, &argv[1], result, "sinterstore"))
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let n = range_long(&argv[1], 1, i64::MAX, Some("ERR numkeys should be greater than 0"))? as usize;
    if n > argv.len() - 2 {
        return Err(Error::Msg("ERR Number of keys can't be greater than number of args"));
    }
    let mut limit = 0;
    let mut i = 2 + n;
    while i < argv.len() {
        if argv[i].eq_ignore_ascii_case(b"limit") && i + 1 < argv.len() {
            limit = positive_long(&argv[i + 1], Some("ERR LIMIT can't be negative"))? as usize;
            i += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    let sets = load(ctx, &argv[2..2 + n])?;
    Ok(Reply::Int(intersect(&sets, limit).len() as i64))
}

fn sunion(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let max = max_intset(ctx);
    let c = StreamClient::of(ctx);
    let result = union_or_diff(&load(ctx, &argv[1..])?, false, max);
    Ok(stream_members(c, &result).finish(ctx))
}

fn sunionstore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let max = max_intset(ctx);
    let result = union_or_diff(&load(ctx, &argv[2..])?, false, max);
    Ok(store(ctx, &argv[1], result, "sunionstore"))
}

fn sdiff(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let max = max_intset(ctx);
    let c = StreamClient::of(ctx);
    let result = union_or_diff(&load(ctx, &argv[1..])?, true, max);
    Ok(stream_members(c, &result).finish(ctx))
}

fn sdiffstore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let max = max_intset(ctx);
    let result = union_or_diff(&load(ctx, &argv[2..])?, true, max);
    Ok(store(ctx, &argv[1], result, "sdiffstore"))
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let cursor = parse_cursor(&argv[2])?;
    let Some(s) = ctx.read(&argv[1], Value::set)? else { return Ok(scan_reply(0, vec![])) };
    let opts = scan_opts(argv, 3, false)?;
    Ok(scan_elements(cursor, &opts, |c, found| s.scan(c, |m| found.push((m.to_bytes(), None)))))
}
