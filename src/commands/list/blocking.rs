//! BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH: the list pops that wait. Each first tries what
//! its non-blocking twin does; with nothing to pop it blocks the client (see `blocking`), or
//! answers the timeout reply at once inside MULTI or a script. Redis: t_list.c (blocking
//! half).

use bytes::Bytes;

use super::{move_one, mpop_lists, parse_end, parse_mpop, pop_from};
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::long_double::LongDouble;
use crate::object::Value;
use crate::reply::Reply;
use crate::types::list::End;

/// A timeout in seconds with decimals (getTimeoutFromObjectOrReply) as a Unix-ms deadline;
/// 0 waits forever.
pub fn parse_timeout(ctx: &Ctx, arg: &[u8]) -> Result<i64> {
    let invalid = Error::Msg("ERR timeout is not a float or out of range");
    let ms = LongDouble::parse(arg).ok_or(invalid)?.times_1000_ceil();
    if ms < 0 {
        return Err(Error::Msg("ERR timeout is negative"));
    }
    Ok(if ms == 0 { 0 } else { ctx.now_ms().saturating_add(ms) })
}

fn bpop(ctx: &mut Ctx, argv: &[Bytes], end: End) -> Result<Reply> {
    let deadline = parse_timeout(ctx, &argv[argv.len() - 1])?;
    let keys = &argv[1..argv.len() - 1];
    for key in keys {
        if ctx.write(key, Value::list)?.is_some() {
            let v = pop_from(ctx, key, end, 1).pop().expect("lists are never empty");
            ctx.propagate_as(|| vec![super::pop_command(end), key.clone()]);
            return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Bulk(v)]));
        }
    }
    if !ctx.can_block() {
        return Ok(Reply::NilArray);
    }
    Ok(ctx.block(keys, crate::blocking::BlockType::List, deadline, argv, Reply::NilArray))
}

/// BLPOP key [key ...] timeout
pub fn blpop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    bpop(ctx, argv, End::Head)
}

/// BRPOP key [key ...] timeout
pub fn brpop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    bpop(ctx, argv, End::Tail)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn blmpop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let m = parse_mpop(argv, 2)?;
    let end = parse_end(m.side)?;
    let deadline = parse_timeout(ctx, &argv[1])?;
    if let Some(r) = mpop_lists(ctx, m.keys, end, m.count)? {
        return Ok(r);
    }
    if !ctx.can_block() {
        return Ok(Reply::NilArray);
    }
    Ok(ctx.block(m.keys, crate::blocking::BlockType::List, deadline, argv, Reply::NilArray))
}

fn bmove(ctx: &mut Ctx, argv: &[Bytes], from: End, to: End, deadline: i64) -> Result<Reply> {
    if ctx.write(&argv[1], Value::list)?.is_none() {
        if !ctx.can_block() {
            return Ok(Reply::Nil);
        }
        // A timeout answers the null array, unlike the null bulk above (Redis's
        // replyToBlockedClientTimedOut treats every list wait alike).
        return Ok(ctx.block(&argv[1..2], crate::blocking::BlockType::List, deadline, argv, Reply::NilArray));
    }
    let moved = move_one(ctx, &argv[1], &argv[2], from, to)?;
    // Replayed as the non-blocking form: a replay must never wait.
    if argv.len() == 6 {
        ctx.propagate_as(|| [&[Bytes::from_static(b"LMOVE")], &argv[1..5]].concat());
    } else {
        ctx.propagate_as(|| vec![Bytes::from_static(b"RPOPLPUSH"), argv[1].clone(), argv[2].clone()]);
    }
    Ok(Reply::opt_bulk(moved))
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
pub fn blmove(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (from, to) = (parse_end(&argv[3])?, parse_end(&argv[4])?);
    let deadline = parse_timeout(ctx, &argv[5])?;
    bmove(ctx, argv, from, to, deadline)
}

/// BRPOPLPUSH source destination timeout
pub fn brpoplpush(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let deadline = parse_timeout(ctx, &argv[3])?;
    bmove(ctx, argv, End::Tail, End::Head, deadline)
}
