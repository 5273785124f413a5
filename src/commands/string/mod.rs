//! String commands: values, counters, ranges and LCS. Redis: t_string.c (commands half; the
//! type lives in object.rs as `Str`).

use bytes::Bytes;

use crate::command::spec::{acl::STRING, flags::*};
use crate::command::{dispatch::Ctx, Args, CommandSpec};
use crate::error::{Error, Result};
use crate::long_double::LongDouble;
use crate::object::{Str, Value};
use crate::reply::{Reply, OK, ONE, ZERO};

mod lcs;
#[cfg(test)]
mod tests;

const G: &str = "string";
const RO: u32 = READONLY;
const W: u32 = WRITE | DENYOOM;

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("append", 3, W | FAST, G, append).key_specs("RW insert index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("2.0.0", "Append a value to a key", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.").args("key value"),
    CommandSpec::new("decr", 2, W | FAST, G, decr).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("1.0.0", "Decrement the integer value of a key by one", "O(1)").args("key"),
    CommandSpec::new("decrby", 3, W | FAST, G, decrby).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("1.0.0", "Decrement the integer value of a key by the given number", "O(1)").args("key decrement@integer"),
    CommandSpec::new("get", 2, RO | FAST, G, get).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("1.0.0", "Get the value of a key", "O(1)").args("key"),
    CommandSpec::new("getdel", 2, WRITE | FAST, G, getdel).key_specs("RW access delete index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("6.2.0", "Get the value of a key and delete the key", "O(1)").args("key"),
    CommandSpec::new("getex", -2, WRITE | FAST, G, getex).key_specs("RW access update index:1 range:0:1:0 -- RW and UPDATE because it changes the TTL").keys(1, 1, 1).acl(STRING).doc("6.2.0", "Get the value of a key and optionally set its expiration", "O(1)").args("key expiration=[EX seconds|PX milliseconds|EXAT unix-time-seconds@unix-time|PXAT unix-time-milliseconds@unix-time|PERSIST]"),
    CommandSpec::new("getrange", 4, RO, G, getrange).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("2.4.0", "Get a substring of the string stored at a key", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.").args("key start end"),
    CommandSpec::new("getset", 3, W | FAST, G, getset).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("1.0.0", "Set the string value of a key and return its old value", "O(1)").args("key value"),
    CommandSpec::new("incr", 2, W | FAST, G, incr).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("1.0.0", "Increment the integer value of a key by one", "O(1)").args("key"),
    CommandSpec::new("incrby", 3, W | FAST, G, incrby).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("1.0.0", "Increment the integer value of a key by the given amount", "O(1)").args("key increment@integer"),
    CommandSpec::new("incrbyfloat", 3, W | FAST, G, incrbyfloat).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("2.6.0", "Increment the float value of a key by the given amount", "O(1)").args("key increment@double"),
    CommandSpec::new("lcs", -3, RO, G, lcs::lcs).key_specs("RO access index:1 range:1:1:0").keys(1, 2, 1).acl(STRING).doc("7.0.0", "Find longest common substring", "O(N*M) where N and M are the lengths of s1 and s2, respectively").args("key1@key key2@key#0 [LEN] [IDX] [MINMATCHLEN len@integer] [WITHMATCHLEN]"),
    CommandSpec::new("mget", -2, RO | FAST, G, mget).key_specs("RO access index:1 range:-1:1:0").tips("request_policy:multi_shard").keys(1, -1, 1).acl(STRING).doc("1.0.0", "Get the values of all the given keys", "O(N) where N is the number of keys to retrieve.").args("key ..."),
    CommandSpec::new("mset", -3, W, G, mset).key_specs("OW update index:1 range:-1:2:0").tips("request_policy:multi_shard response_policy:all_succeeded").keys(1, -1, 2).acl(STRING).doc("1.0.1", "Set multiple keys to multiple values", "O(N) where N is the number of keys to set.").args("key_value=(key value) ..."),
    CommandSpec::new("msetnx", -3, W, G, msetnx).key_specs("OW insert index:1 range:-1:2:0").tips("request_policy:multi_shard response_policy:agg_min").keys(1, -1, 2).acl(STRING).doc("1.0.1", "Set multiple keys to multiple values, only if none of the keys exist", "O(N) where N is the number of keys to set.").args("key_value=(key value) ..."),
    CommandSpec::new("psetex", 4, W, G, psetex).key_specs("OW update index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("2.6.0", "Set the value and expiration in milliseconds of a key", "O(1)").args("key milliseconds value"),
    CommandSpec::new("set", -3, W, G, set).key_specs("RW access update variable_flags index:1 range:0:1:0 -- RW and ACCESS due to the optional `GET` argument").keys(1, 1, 1).getkeys(set_keys).acl(STRING).doc("1.0.0", "Set the string value of a key", "O(1)").args("key value condition=[NX|XX] [GET] expiration=[EX seconds|PX milliseconds|EXAT unix-time-seconds@unix-time|PXAT unix-time-milliseconds@unix-time|KEEPTTL]"),
    CommandSpec::new("setex", 4, W, G, setex).key_specs("OW update index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("2.0.0", "Set the value and expiration of a key", "O(1)").args("key seconds value"),
    CommandSpec::new("setnx", 3, W | FAST, G, setnx).key_specs("OW insert index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("1.0.0", "Set the value of a key, only if the key does not exist", "O(1)").args("key value"),
    CommandSpec::new("setrange", 4, W, G, setrange).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("2.2.0", "Overwrite part of a string at key starting at the specified offset", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.").args("key offset value"),
    CommandSpec::new("strlen", 2, RO | FAST, G, strlen).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("2.2.0", "Get the length of the value stored in a key", "O(1)").args("key"),
    CommandSpec::new("substr", 4, RO, G, getrange).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(STRING).doc("1.0.0", "Get a substring of the string stored at a key", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.").args("key start end"),
];

/// SET's key flags depend on GET (setGetKeys): it reads the old value then.
fn set_keys(argv: &[Bytes]) -> Vec<(usize, u16)> {
    use crate::command::keyspec::flags::*;
    let get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
    vec![(1, if get { RW | ACCESS | UPDATE } else { OW | UPDATE })]
}

/// How an expire argument is read (SET/GETEX options, SETEX, PSETEX).
#[derive(Clone, Copy, PartialEq, Debug)]
enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// SET and GETEX options, parsed before anything is applied (parseExtendedStringArgumentsOrReply).
#[derive(Default, Debug)]
struct StringOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(ExpireKind, &'a Bytes)>,
}

impl<'a> StringOpts<'a> {
    /// `for_set` selects SET's options (NX XX GET KEEPTTL) over GETEX's (PERSIST). A repeated
    /// compatible option is accepted, a conflicting one is a syntax error, as in Redis.
    fn parse(args: &mut Args<'a>, for_set: bool) -> Result<Self> {
        let mut o = StringOpts::default();
        while let Some(opt) = args.peek() {
            args.next()?;
            let has_next = !args.is_done();
            let is = |w: &str| opt.eq_ignore_ascii_case(w.as_bytes());
            let other_expire = |o: &StringOpts, k: ExpireKind| o.expire.is_some_and(|(e, _)| e != k);
            if is("NX") && for_set && !o.xx {
                o.nx = true;
            } else if is("XX") && for_set && !o.nx {
                o.xx = true;
            } else if is("GET") && for_set {
                o.get = true;
            } else if is("KEEPTTL") && for_set && !o.persist && o.expire.is_none() {
                o.keep_ttl = true;
            } else if is("PERSIST") && !for_set && o.expire.is_none() && !o.keep_ttl {
                o.persist = true;
            } else if let Some(kind) = [("EX", ExpireKind::Ex), ("PX", ExpireKind::Px), ("EXAT", ExpireKind::ExAt), ("PXAT", ExpireKind::PxAt)]
                .iter()
                .find(|(w, _)| is(w))
                .map(|(_, k)| *k)
                .filter(|&k| !o.keep_ttl && !o.persist && !other_expire(&o, k) && has_next)
            {
                o.expire = Some((kind, args.next()?));
            } else {
                return Err(Error::Syntax);
            }
        }
        Ok(o)
    }
}

/// Converts an expire argument to an absolute unix time in ms (getExpireMillisecondsOrReply).
fn expire_at_ms(ctx: &Ctx, kind: ExpireKind, arg: &[u8], cmd: &str) -> Result<i64> {
    let n = crate::command::args::int(arg)?;
    let seconds = matches!(kind, ExpireKind::Ex | ExpireKind::ExAt);
    if n <= 0 || (seconds && n > i64::MAX / 1000) {
        return Err(Error::InvalidExpire(cmd.into()));
    }
    let mut ms = if seconds { n * 1000 } else { n };
    if matches!(kind, ExpireKind::Ex | ExpireKind::Px) {
        ms = ms.checked_add(ctx.now_ms()).ok_or_else(|| Error::InvalidExpire(cmd.into()))?;
    }
    Ok(ms)
}

/// The shared core of SET, SETNX, SETEX, PSETEX (setGenericCommand). Returns None when NX/XX
/// aborted the write.
fn set_generic(ctx: &mut Ctx, key: &[u8], val: &[u8], o: &StringOpts, expire_at: Option<i64>) -> Result<Option<Reply>> {
    let old = if o.get { Some(ctx.read_str(key)?.map(|s| s.to_bytes())) } else { None };
    let found = ctx.lookup_write(key).is_some();
    if (o.nx && found) || (o.xx && !found) {
        return Ok(old.map(Reply::opt_bulk));
    }
    ctx.set_key(key, Value::Str(Str::from_bytes(val)), o.keep_ttl);
    ctx.modified(key, "set");
    if let Some(when) = expire_at {
        ctx.db().set_expire(key, when);
        // One change (server.dirty) for SET with EX, as Redis counts it; the event still goes.
        let db = ctx.client.db;
        ctx.notify(db, key, "expire");
        // Replayed with the absolute deadline, whichever form set it.
        ctx.propagate_as(|| {
            vec![
                Bytes::from_static(b"SET"),
                Bytes::copy_from_slice(key),
                Bytes::copy_from_slice(val),
                Bytes::from_static(b"PXAT"),
                Bytes::from(when.to_string()),
            ]
        });
    }
    Ok(Some(old.map(Reply::opt_bulk).unwrap_or(OK)))
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]
/// OK, or nil when NX/XX aborted; with GET, the old value (nil if none) either way.
fn set(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let o = StringOpts::parse(&mut Args::at(argv, 3), true)?;
    let when = o.expire.map(|(k, a)| expire_at_ms(ctx, k, a, "set")).transpose()?;
    if o.get && when.is_none() {
        // Replayed without GET, which only shaped the reply.
        ctx.propagate_as(|| argv.iter().enumerate().filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"get")).map(|(_, a)| a.clone()).collect());
    }
    Ok(set_generic(ctx, &argv[1], &argv[2], &o, when)?.unwrap_or(Reply::Nil))
}

/// SETNX key value — 1 if set, 0 if the key existed.
fn setnx(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let o = StringOpts { nx: true, ..Default::default() };
    Ok(if set_generic(ctx, &argv[1], &argv[2], &o, None)?.is_some() { ONE } else { ZERO })
}

/// SETEX key seconds value
fn setex(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let when = expire_at_ms(ctx, ExpireKind::Ex, &argv[2], "setex")?;
    set_generic(ctx, &argv[1], &argv[3], &StringOpts::default(), Some(when)).map(|r| r.unwrap_or(OK))
}

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let when = expire_at_ms(ctx, ExpireKind::Px, &argv[2], "psetex")?;
    set_generic(ctx, &argv[1], &argv[3], &StringOpts::default(), Some(when)).map(|r| r.unwrap_or(OK))
}

/// GET key
fn get(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::opt_bulk(ctx.read_str(&argv[1])?.map(|s| s.to_bytes())))
}

/// GETDEL key — the value, then the key is gone.
fn getdel(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let v = ctx.read_str(&argv[1])?.map(|s| s.to_bytes());
    if v.is_some() {
        ctx.db().remove(&argv[1]);
        ctx.modified(&argv[1], "del");
        let del = crate::commands::generic::del_command(ctx, "lazyfree-lazy-user-del");
        ctx.propagate_as(|| vec![del, argv[1].clone()]);
    }
    Ok(Reply::opt_bulk(v))
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]
/// The value; an absolute time already past deletes the key after replying.
fn getex(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let o = StringOpts::parse(&mut Args::at(argv, 2), false)?;
    let key = &argv[1];
    let Some(v) = ctx.read_str(key)?.map(|s| s.to_bytes()) else { return Ok(Reply::Nil) };
    let when = o.expire.map(|(k, a)| expire_at_ms(ctx, k, a, "getex")).transpose()?;
    let absolute = matches!(o.expire, Some((ExpireKind::ExAt | ExpireKind::PxAt, _)));
    match when {
        Some(w) if absolute && w <= ctx.now_ms() => {
            ctx.db().remove(key);
            ctx.modified(key, "del");
            let del = crate::commands::generic::del_command(ctx, "lazyfree-lazy-expire");
            ctx.propagate_as(|| vec![del, key.clone()]);
        }
        Some(w) => {
            ctx.db().set_expire(key, w);
            ctx.modified(key, "expire");
            ctx.propagate_as(|| vec![Bytes::from_static(b"PEXPIREAT"), key.clone(), Bytes::from(w.to_string())]);
        }
        None if o.persist && ctx.db().persist(key) => {
            ctx.modified(key, "persist");
            ctx.propagate_as(|| vec![Bytes::from_static(b"PERSIST"), key.clone()]);
        }
        None => {}
    }
    Ok(Reply::Bulk(v))
}

/// GETSET key value — the old value (or nil); the new value drops any TTL.
fn getset(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let o = StringOpts { get: true, ..Default::default() };
    ctx.propagate_as(|| vec![Bytes::from_static(b"SET"), argv[1].clone(), argv[2].clone()]);
    Ok(set_generic(ctx, &argv[1], &argv[2], &o, None)?.unwrap_or(Reply::Nil))
}

/// GETRANGE key start end (and SUBSTR) — inclusive, negative offsets from the end; a missing
/// key is an empty string.
fn getrange(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut start = crate::command::args::int(&argv[2])?;
    let mut end = crate::command::args::int(&argv[3])?;
    let Some(s) = ctx.read_str(&argv[1])? else { return Ok(Reply::Bulk(Bytes::new())) };
    let v = s.to_bytes();
    let len = v.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Ok(Reply::Bulk(Bytes::new()));
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return Ok(Reply::Bulk(Bytes::new()));
    }
    Ok(Reply::Bulk(v.slice(start as usize..=end as usize)))
}

/// SETRANGE key offset value — the new length; pads with zero bytes.
fn setrange(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let offset = crate::command::args::int(&argv[2])?;
    if offset < 0 {
        return Err(Error::OutOfRangeOffset);
    }
    let value = &argv[3];
    let max = ctx.srv.config.hot.proto_max_bulk_len;
    let check = |len: i64| if len.checked_add(value.len() as i64).is_none_or(|t| t > max) { Err(Error::StringTooLong) } else { Ok(()) };
    let key = &argv[1];
    match ctx.write_str(key)? {
        None => {
            if value.is_empty() {
                return Ok(ZERO);
            }
            check(offset)?;
            let mut v = vec![0u8; offset as usize + value.len()];
            v[offset as usize..].copy_from_slice(value);
            let n = v.len();
            ctx.set_key(key, Value::Str(Str::Raw(v)), false);
            ctx.modified(key, "setrange");
            Ok(Reply::Int(n as i64))
        }
        Some(s) => {
            if value.is_empty() {
                return Ok(Reply::Int(s.len() as i64));
            }
            check(offset)?;
            let raw = s.make_raw();
            let end = offset as usize + value.len();
            if raw.len() < end {
                raw.resize(end, 0);
            }
            raw[offset as usize..end].copy_from_slice(value);
            let n = raw.len();
            ctx.modified(key, "setrange");
            Ok(Reply::Int(n as i64))
        }
    }
}

/// APPEND key value — the new length; creates the key when missing.
fn append(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (key, value) = (&argv[1], &argv[2]);
    let max = ctx.srv.config.hot.proto_max_bulk_len;
    let n = match ctx.write_str(key)? {
        None => {
            ctx.set_key(key, Value::Str(Str::from_bytes(value)), false);
            value.len()
        }
        Some(s) => {
            if (s.len() as i64).checked_add(value.len() as i64).is_none_or(|t| t > max) {
                return Err(Error::StringTooLong);
            }
            let raw = s.make_raw();
            raw.extend_from_slice(value);
            raw.len()
        }
    };
    ctx.modified(key, "append");
    Ok(Reply::Int(n as i64))
}

/// STRLEN key — 0 when missing.
fn strlen(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.read_str(&argv[1])?.map_or(0, |s| s.len() as i64)))
}

/// INCRBY's core: keeps the TTL, stores the result as an `int` string (incrDecrCommand).
fn incr_by(ctx: &mut Ctx, key: &[u8], by: i64) -> Result<Reply> {
    let new = match ctx.write_str(key)? {
        Some(s) => {
            let old = s.as_int().ok_or(Error::NotInteger)?;
            let new = old.checked_add(by).ok_or(Error::Overflow)?;
            *s = Str::Int(new);
            new
        }
        None => {
            ctx.set_key(key, Value::Str(Str::Int(by)), false);
            by
        }
    };
    ctx.modified(key, "incrby");
    Ok(Reply::Int(new))
}

/// INCR key
fn incr(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    incr_by(ctx, &argv[1], 1)
}

/// DECR key
fn decr(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    incr_by(ctx, &argv[1], -1)
}

/// INCRBY key increment
fn incrby(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let by = crate::command::args::int(&argv[2])?;
    incr_by(ctx, &argv[1], by)
}

/// DECRBY key decrement — negating i64::MIN is its own error.
fn decrby(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let by = crate::command::args::int(&argv[2])?;
    if by == i64::MIN {
        return Err(Error::Msg("ERR decrement would overflow"));
    }
    incr_by(ctx, &argv[1], -by)
}

/// INCRBYFLOAT key increment — the new value as a bulk string; keeps the TTL. Computed in
/// x87 extended precision like Redis, so the stored digits match (see long_double.rs).
fn incrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let key = &argv[1];
    let cur = match ctx.write_str(key)? {
        Some(Str::Int(n)) => LongDouble::from_i64(*n),
        Some(s) => LongDouble::parse(s.as_slice().expect("not an integer")).ok_or(Error::NotFloat)?,
        None => LongDouble::from_i64(0),
    };
    let by = LongDouble::parse(&argv[2]).ok_or(Error::NotFloat)?;
    let new = cur.add(&by);
    if !new.is_finite() {
        return Err(Error::IncrNanOrInf);
    }
    let text = new.to_human_string();
    let value = Str::from_bytes(text.as_bytes());
    match ctx.write_str(key)? {
        Some(s) => *s = value,
        None => ctx.set_key(key, Value::Str(value), false),
    }
    ctx.modified(key, "incrbyfloat");
    // Replayed as the value it produced: float arithmetic must not run twice.
    let text = Bytes::from(text);
    ctx.propagate_as(|| vec![Bytes::from_static(b"SET"), key.clone(), text.clone(), Bytes::from_static(b"KEEPTTL")]);
    Ok(Reply::Bulk(text))
}

/// MGET key [key ...] — nil for missing keys and for keys of other types.
fn mget(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let out = argv[1..]
        .iter()
        .map(|k| match ctx.lookup_read(k) {
            Some(e) => match &e.value {
                Value::Str(s) => Reply::Bulk(s.to_bytes()),
                #[allow(unreachable_patterns)]
                _ => Reply::Nil,
            },
            None => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(out))
}

fn mset_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) -> Result<bool> {
    if argv.len().is_multiple_of(2) {
        return Err(Error::WrongArity(crate::command::args::lower(&argv[0])));
    }
    if nx && argv[1..].chunks(2).any(|kv| ctx.lookup_write(&kv[0]).is_some()) {
        return Ok(false);
    }
    for kv in argv[1..].chunks(2) {
        ctx.set_key(&kv[0], Value::Str(Str::from_bytes(&kv[1])), false);
        ctx.modified(&kv[0], "set");
    }
    Ok(true)
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    mset_generic(ctx, argv, false).map(|_| OK)
}

/// MSETNX key value [key value ...] — 1 if all were set, 0 (and nothing set) if any existed.
fn msetnx(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    mset_generic(ctx, argv, true).map(Reply::from_bool)
}
