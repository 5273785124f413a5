//! List commands. Redis: t_list.c (commands half; the type is types/list.rs). The blocking
//! variants live in `blocking.rs` and share the pop/move code here.

use bytes::Bytes;

use crate::command::args::{self, positive_long, range_long};
use crate::command::spec::{acl::LIST, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::{Reply, OK};
use crate::reply_stream::{Client as StreamClient, Shape, Streamed};
use crate::types::list::End;

mod blocking;
#[cfg(test)]
mod tests;

pub use blocking::parse_timeout;

const G: &str = "list";
const W: u32 = WRITE | DENYOOM;

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("blmove", 6, W | NOSCRIPT | BLOCKING, G, blocking::blmove).key_specs("RW access delete index:1 range:0:1:0; RW insert index:2 range:0:1:0").keys(1, 2, 1).acl(LIST).doc("6.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", "O(1)").args("source@key destination@key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT) timeout@double"),
    CommandSpec::new("blmpop", -5, WRITE | BLOCKING, G, blocking::blmpop).key_specs("RW access delete index:2 keynum:0:1:1").numkeys(2, 1, 1).acl(LIST).doc("7.0.0", "Pop elements from a list, or block until one is available", "O(N+M) where N is the number of provided keys and M is the number of elements returned.").args("timeout@double numkeys key ... where=(LEFT|RIGHT) [COUNT count]"),
    CommandSpec::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, G, blocking::blpop).key_specs("RW access delete index:1 range:-2:1:0").keys(1, -2, 1).acl(LIST).doc("2.0.0", "Remove and get the first element in a list, or block until one is available", "O(N) where N is the number of provided keys.").args("key ... timeout@double"),
    CommandSpec::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, G, blocking::brpop).key_specs("RW access delete index:1 range:-2:1:0").keys(1, -2, 1).acl(LIST).doc("2.0.0", "Remove and get the last element in a list, or block until one is available", "O(N) where N is the number of provided keys.").args("key ... timeout@double"),
    CommandSpec::new("brpoplpush", 4, W | NOSCRIPT | BLOCKING, G, blocking::brpoplpush).key_specs("RW access delete index:1 range:0:1:0; RW insert index:2 range:0:1:0").keys(1, 2, 1).acl(LIST).doc("2.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", "O(1)").args("source@key destination@key timeout@double"),
    CommandSpec::new("lindex", 3, READONLY, G, lindex).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Get an element from a list by its index", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).").args("key index"),
    CommandSpec::new("linsert", 5, W, G, linsert).key_specs("RW insert index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("2.2.0", "Insert an element before or after another element in a list", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).").args("key where=(BEFORE|AFTER) pivot element"),
    CommandSpec::new("llen", 2, READONLY | FAST, G, llen).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Get the length of a list", "O(1)").args("key"),
    CommandSpec::new("lmove", 5, W, G, lmove).key_specs("RW access delete index:1 range:0:1:0; RW insert index:2 range:0:1:0").keys(1, 2, 1).acl(LIST).doc("6.2.0", "Pop an element from a list, push it to another list and return it", "O(1)").args("source@key destination@key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT)"),
    CommandSpec::new("lmpop", -4, WRITE, G, lmpop).key_specs("RW access delete index:1 keynum:0:1:1").numkeys(1, 1, 1).acl(LIST).doc("7.0.0", "Pop elements from a list", "O(N+M) where N is the number of provided keys and M is the number of elements returned.").args("numkeys key ... where=(LEFT|RIGHT) [COUNT count]"),
    CommandSpec::new("lpop", -2, WRITE | FAST, G, lpop).key_specs("RW access delete index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Remove and get the first elements in a list", "O(N) where N is the number of elements returned").args("key [count]"),
    CommandSpec::new("lpos", -3, READONLY, G, lpos).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("6.0.6", "Return the index of matching elements on a list", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.").args("key element [RANK rank@integer] [COUNT num-matches@integer] [MAXLEN len@integer]"),
    CommandSpec::new("lpush", -3, W | FAST, G, lpush).key_specs("RW insert index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Prepend one or multiple elements to a list", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").args("key element ..."),
    CommandSpec::new("lpushx", -3, W | FAST, G, lpushx).key_specs("RW insert index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("2.2.0", "Prepend an element to a list, only if the list exists", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").args("key element ..."),
    CommandSpec::new("lrange", 4, READONLY, G, lrange).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Get a range of elements from a list", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.").args("key start stop@integer"),
    CommandSpec::new("lrem", 4, WRITE, G, lrem).key_specs("RW delete index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Remove elements from a list", "O(N+M) where N is the length of the list and M is the number of elements removed.").args("key count element"),
    CommandSpec::new("lset", 4, W, G, lset).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Set the value of an element in a list by its index", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).").args("key index element"),
    CommandSpec::new("ltrim", 4, WRITE, G, ltrim).key_specs("RW delete index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Trim a list to the specified range", "O(N) where N is the number of elements to be removed by the operation.").args("key start stop@integer"),
    CommandSpec::new("rpop", -2, WRITE | FAST, G, rpop).key_specs("RW access delete index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Remove and get the last elements in a list", "O(N) where N is the number of elements returned").args("key [count]"),
    CommandSpec::new("rpoplpush", 3, W, G, rpoplpush).key_specs("RW access delete index:1 range:0:1:0; RW insert index:2 range:0:1:0").keys(1, 2, 1).acl(LIST).doc("1.2.0", "Remove the last element in a list, prepend it to another list and return it", "O(1)").args("source@key destination@key"),
    CommandSpec::new("rpush", -3, W | FAST, G, rpush).key_specs("RW insert index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("1.0.0", "Append one or multiple elements to a list", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").args("key element ..."),
    CommandSpec::new("rpushx", -3, W | FAST, G, rpushx).key_specs("RW insert index:1 range:0:1:0").keys(1, 1, 1).acl(LIST).doc("2.2.0", "Append an element to a list, only if the list exists", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").args("key element ..."),
];

fn new_list() -> Value {
    Value::List(Box::default())
}

fn fill(ctx: &Ctx) -> i64 {
    ctx.srv.config.hot.list_max_listpack_size
}

/// LEFT / RIGHT (getListPositionFromObjectOrReply).
pub fn parse_end(arg: &[u8]) -> Result<End> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(End::Head)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(End::Tail)
    } else {
        Err(Error::Syntax)
    }
}

fn push(ctx: &mut Ctx, argv: &[Bytes], end: End, only_existing: bool) -> Result<Reply> {
    let key = &argv[1];
    if only_existing && ctx.write(key, Value::list)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let fill = fill(ctx);
    let l = ctx.create(key, new_list, Value::list)?;
    for v in &argv[2..] {
        l.push(end, v, fill);
    }
    let n = l.len() as i64;
    ctx.modified(key, if end == End::Head { "lpush" } else { "rpush" });
    Ok(Reply::Int(n))
}

fn lpush(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    push(ctx, argv, End::Head, false)
}

fn rpush(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    push(ctx, argv, End::Tail, false)
}

fn lpushx(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    push(ctx, argv, End::Head, true)
}

fn rpushx(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    push(ctx, argv, End::Tail, true)
}

fn llen(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.read(&argv[1], Value::list)?.map_or(0, |l| l.len() as i64)))
}

fn lindex(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let Some(l) = ctx.read(&argv[1], Value::list)? else { return Ok(Reply::Nil) };
    let i = args::int(&argv[2])?;
    Ok(Reply::opt_bulk(l.normalize(i).and_then(|i| l.get(i))))
}

fn lset(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let Some(l) = ctx.write(&argv[1], Value::list)? else { return Err(Error::Msg("ERR no such key")) };
    let i = args::int(&argv[2])?;
    match l.normalize(i) {
        Some(i) => {
            l.set(i, &argv[3]);
            ctx.modified(&argv[1], "lset");
            Ok(OK)
        }
        None => Err(Error::Msg("ERR index out of range")),
    }
}

/// LINSERT key BEFORE|AFTER pivot element — the new length, -1 without the pivot, 0
/// without the key.
fn linsert(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let after = if argv[2].eq_ignore_ascii_case(b"after") {
        true
    } else if argv[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(Error::Syntax);
    };
    let fill = fill(ctx);
    let Some(l) = ctx.write(&argv[1], Value::list)? else { return Ok(Reply::Int(0)) };
    let Some(at) = l.find(&argv[3]) else { return Ok(Reply::Int(-1)) };
    l.insert(at + after as usize, &argv[4], fill);
    let n = l.len() as i64;
    ctx.modified(&argv[1], "linsert");
    Ok(Reply::Int(n))
}

/// Redis's range clamp for LRANGE/LTRIM: `None` when the range is empty.
fn clamp(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

fn lrange(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (start, end) = (args::int(&argv[2])?, args::int(&argv[3])?);
    let c = StreamClient::of(ctx);
    let Some(l) = ctx.read(&argv[1], Value::list)? else { return Ok(Reply::Array(vec![])) };
    // Streamed: a range of millions costs its RESP bytes, not a tree of them.
    let range = clamp(l.len(), start, end);
    let mut out = Streamed::new(c, Shape::Array, range.map_or(0, |(s, e)| e - s + 1));
    if let Some((s, e)) = range {
        l.range(s, e, |v| out.val(v));
    }
    Ok(out.finish(ctx))
}

fn ltrim(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (start, end) = (args::int(&argv[2])?, args::int(&argv[3])?);
    let Some(l) = ctx.write(&argv[1], Value::list)? else { return Ok(OK) };
    let len = l.len();
    let (ltrim, rtrim) = match clamp(len, start, end) {
        Some((s, e)) => (s, len - e - 1),
        None => (len, 0),
    };
    l.delete_range(0, ltrim);
    let rest = l.len();
    l.delete_range(rest - rtrim, rtrim);
    ctx.modified(&argv[1], "ltrim");
    ctx.delete_if_empty(&argv[1]);
    Ok(OK)
}

/// LREM key count element
fn lrem(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let count = args::int(&argv[2])?;
    let Some(l) = ctx.write(&argv[1], Value::list)? else { return Ok(Reply::Int(0)) };
    let n = l.remove(&argv[3], count);
    if n > 0 {
        ctx.modified(&argv[1], "lrem");
    }
    ctx.delete_if_empty(&argv[1]);
    Ok(Reply::Int(n as i64))
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<i64>, 0i64);
    let mut i = 3;
    while i < argv.len() {
        let more = i + 1 < argv.len();
        let o = &argv[i];
        if o.eq_ignore_ascii_case(b"rank") && more {
            rank = args::int(&argv[i + 1])?;
            if rank == 0 {
                return Err(Error::Msg(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if o.eq_ignore_ascii_case(b"count") && more {
            count = Some(positive_long(&argv[i + 1], Some("ERR COUNT can't be negative"))?);
        } else if o.eq_ignore_ascii_case(b"maxlen") && more {
            maxlen = positive_long(&argv[i + 1], Some("ERR MAXLEN can't be negative"))?;
        } else {
            return Err(Error::Syntax);
        }
        i += 2;
    }
    let from_tail = rank < 0;
    // As Redis's `rank = -rank`: LONG_MIN stays negative, so every match qualifies.
    let rank = rank.wrapping_neg().max(rank);
    let Some(l) = ctx.read(&argv[1], Value::list)? else {
        return Ok(if count.is_some() { Reply::Array(vec![]) } else { Reply::Nil });
    };
    let probe = crate::ds::listpack::Probe::new(&argv[2]);
    let len = l.len() as i64;
    let (mut index, mut matches) = (0i64, 0i64);
    let mut found = vec![];
    l.for_each(from_tail, |v| {
        if maxlen != 0 && index >= maxlen {
            return false;
        }
        if v.matches(&probe) {
            matches += 1;
            if matches >= rank {
                found.push(if from_tail { len - index - 1 } else { index });
                match count {
                    None => return false,
                    Some(c) if c != 0 && matches - rank + 1 >= c => return false,
                    _ => {}
                }
            }
        }
        index += 1;
        true
    });
    Ok(match count {
        Some(_) => Reply::Array(found.into_iter().map(Reply::Int).collect()),
        None => found.first().map_or(Reply::Nil, |&i| Reply::Int(i)),
    })
}

/// Pops up to `count` elements from a list the caller has checked exists, deleting the key
/// when emptied. Shared by [LR]POP, LMPOP and the blocking pops.
pub fn pop_from(ctx: &mut Ctx, key: &[u8], end: End, count: usize) -> Vec<Bytes> {
    let Ok(Some(l)) = ctx.write(key, Value::list) else { return vec![] };
    let n = count.min(l.len());
    let out: Vec<Bytes> = (0..n).filter_map(|_| l.pop(end)).collect();
    ctx.modified(key, if end == End::Head { "lpop" } else { "rpop" });
    ctx.delete_if_empty(key);
    out
}

/// LPOP or RPOP, what a pop from `end` is replayed as.
pub fn pop_command(end: End) -> Bytes {
    Bytes::from_static(if end == End::Head { b"LPOP" } else { b"RPOP" })
}

fn pop(ctx: &mut Ctx, argv: &[Bytes], end: End) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::WrongArity(args::lower(&argv[0])));
    }
    let count = if argv.len() == 3 { Some(positive_long(&argv[2], None)?) } else { None };
    if ctx.write(&argv[1], Value::list)?.is_none() {
        return Ok(if count.is_some() { Reply::NilArray } else { Reply::Nil });
    }
    Ok(match count {
        Some(0) => Reply::Array(vec![]),
        Some(c) => Reply::Array(pop_from(ctx, &argv[1], end, c as usize).into_iter().map(Reply::Bulk).collect()),
        None => Reply::opt_bulk(pop_from(ctx, &argv[1], end, 1).pop()),
    })
}

fn lpop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    pop(ctx, argv, End::Head)
}

fn rpop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    pop(ctx, argv, End::Tail)
}

/// Moves one element between lists; `None` when the source is missing. Types are checked
/// before anything moves. Shared with BLMOVE/BRPOPLPUSH.
pub fn move_one(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Bytes>> {
    if ctx.write(src, Value::list)?.is_none() {
        return Ok(None);
    }
    ctx.write(dst, Value::list)?;
    let fill = fill(ctx);
    let v = ctx.write(src, Value::list)?.and_then(|l| l.pop(from)).expect("lists are never empty");
    // Push before the source may be deleted, so rotating a one-element list keeps its TTL.
    ctx.create(dst, new_list, Value::list)?.push(to, &v, fill);
    ctx.modified(dst, if to == End::Head { "lpush" } else { "rpush" });
    ctx.modified(src, if from == End::Head { "lpop" } else { "rpop" });
    ctx.delete_if_empty(src);
    Ok(Some(v))
}

fn lmove(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (from, to) = (parse_end(&argv[3])?, parse_end(&argv[4])?);
    Ok(Reply::opt_bulk(move_one(ctx, &argv[1], &argv[2], from, to)?))
}

fn rpoplpush(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::opt_bulk(move_one(ctx, &argv[1], &argv[2], End::Tail, End::Head)?))
}

/// The parsed tail of LMPOP/BLMPOP (and ZMPOP/BZMPOP with MIN|MAX): the keys, the side and
/// COUNT.
pub struct Mpop<'a> {
    pub keys: &'a [Bytes],
    pub side: &'a Bytes,
    pub count: i64,
}

/// Parses `numkeys key [key ...] side [COUNT count]` starting at `argv[at]`
/// (lmpopGenericCommand's order of checks and texts).
pub fn parse_mpop(argv: &[Bytes], at: usize) -> Result<Mpop<'_>> {
    let numkeys = range_long(&argv[at], 1, i64::MAX, Some("ERR numkeys should be greater than 0"))? as usize;
    let side_at = at.checked_add(numkeys).and_then(|n| n.checked_add(1)).filter(|&n| n < argv.len()).ok_or(Error::Syntax)?;
    let mut count = None;
    let mut i = side_at + 1;
    while i < argv.len() {
        if count.is_none() && argv[i].eq_ignore_ascii_case(b"count") && i + 1 < argv.len() {
            count = Some(range_long(&argv[i + 1], 1, i64::MAX, Some("ERR count should be greater than 0"))?);
            i += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    Ok(Mpop { keys: &argv[at + 1..side_at], side: &argv[side_at], count: count.unwrap_or(1) })
}

/// Pops from the first non-empty list of `keys`: `[key, [elements]]`, or None if all are
/// empty (WRONGTYPE if a key before the first non-empty one holds another type).
pub fn mpop_lists(ctx: &mut Ctx, keys: &[Bytes], end: End, count: i64) -> Result<Option<Reply>> {
    for key in keys {
        if ctx.write(key, Value::list)?.is_some() {
            let items = pop_from(ctx, key, end, count as usize);
            // Replayed as [LR]POP key count: the replay must pop from the same list.
            ctx.propagate_as(|| vec![pop_command(end), key.clone(), Bytes::from(items.len().to_string())]);
            return Ok(Some(Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Array(items.into_iter().map(Reply::Bulk).collect())])));
        }
    }
    Ok(None)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let m = parse_mpop(argv, 1)?;
    let end = parse_end(m.side)?;
    Ok(mpop_lists(ctx, m.keys, end, m.count)?.unwrap_or(Reply::NilArray))
}
