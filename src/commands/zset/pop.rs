//! ZPOPMIN/ZPOPMAX, ZMPOP and their blocking forms. Redis: t_zset.c genericZpopCommand,
//! blockingGenericZpopCommand.

use bytes::Bytes;

use super::parse_count;
use crate::command::dispatch::Ctx;
use crate::commands::list::{parse_mpop, parse_timeout};
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::Reply;

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Min,
    Max,
}

/// How genericZpopCommand shapes its reply.
#[derive(Clone, Copy)]
struct Shape {
    /// Name the key first (BZPOP*, *MPOP).
    emit_key: bool,
    /// [member, score] pairs instead of a flat list.
    nested: bool,
    /// Nothing to pop answers the null array rather than an empty one.
    nil_when_empty: bool,
}

/// Pops up to `count` (None: a plain single pop) from the first existing key.
/// Ok(None) when no key exists (the caller blocks or answers empty).
fn pop(ctx: &mut Ctx, keys: &[Bytes], side: Side, count: Option<i64>, shape: Shape) -> Result<Option<Reply>> {
    let mut found = None;
    for k in keys {
        if ctx.write(k, Value::zset)?.is_some() {
            found = Some(k);
            break;
        }
    }
    let Some(key) = found else { return Ok(None) };
    if count == Some(0) {
        return Ok(Some(Reply::Array(vec![])));
    }
    let z = ctx.write(key, Value::zset)?.expect("found");
    let n = (count.unwrap_or(1) as usize).min(z.len());
    let items = if side == Side::Min { z.by_rank(0, n - 1, false) } else { z.by_rank(0, n - 1, true) };
    z.remove_all(&items);
    ctx.modified(key, if side == Side::Min { "zpopmin" } else { "zpopmax" });
    ctx.delete_if_empty(key);
    if shape.emit_key {
        // The blocking and multi-key forms are replayed as a ZPOP of the key they popped.
        let cmd = Bytes::from_static(if side == Side::Min { b"ZPOPMIN" } else { b"ZPOPMAX" });
        let popped = items.len();
        ctx.propagate_as(|| match count {
            None => vec![cmd, key.clone()],
            Some(_) => vec![cmd, key.clone(), Bytes::from(popped.to_string())],
        });
    }
    let mut body = Vec::with_capacity(items.len() * 2);
    for (m, s) in items {
        if shape.nested {
            body.push(Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]));
        } else {
            body.extend([Reply::Bulk(m), Reply::Double(s)]);
        }
    }
    Ok(Some(match (shape.emit_key, shape.nested) {
        (false, _) => Reply::Array(body),
        (true, false) => Reply::Array(std::iter::once(Reply::Bulk(key.clone())).chain(body).collect()),
        (true, true) => Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Array(body)]),
    }))
}

fn zpop(ctx: &mut Ctx, argv: &[Bytes], side: Side) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::Syntax);
    }
    let count = if argv.len() == 3 { Some(parse_count(&argv[2])?) } else { None };
    let shape = Shape { emit_key: false, nested: ctx.client.conn.resp == 3 && count.is_some(), nil_when_empty: false };
    Ok(pop(ctx, &argv[1..2], side, count, shape)?.unwrap_or(if shape.nil_when_empty { Reply::NilArray } else { Reply::Array(vec![]) }))
}

pub fn zpopmin(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    zpop(ctx, argv, Side::Min)
}

pub fn zpopmax(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    zpop(ctx, argv, Side::Max)
}

fn parse_side(arg: &[u8]) -> Result<Side> {
    if arg.eq_ignore_ascii_case(b"min") {
        Ok(Side::Min)
    } else if arg.eq_ignore_ascii_case(b"max") {
        Ok(Side::Max)
    } else {
        Err(Error::Syntax)
    }
}

const MPOP: Shape = Shape { emit_key: true, nested: true, nil_when_empty: true };

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub fn zmpop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let m = parse_mpop(argv, 1)?;
    let side = parse_side(m.side)?;
    Ok(pop(ctx, m.keys, side, Some(m.count), MPOP)?.unwrap_or(Reply::NilArray))
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
pub fn bzmpop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let m = parse_mpop(argv, 2)?;
    let side = parse_side(m.side)?;
    let deadline = parse_timeout(ctx, &argv[1])?;
    if let Some(r) = pop(ctx, m.keys, side, Some(m.count), MPOP)? {
        return Ok(r);
    }
    if !ctx.can_block() {
        return Ok(Reply::NilArray);
    }
    Ok(ctx.block(m.keys, crate::blocking::BlockType::ZSet, deadline, argv, Reply::NilArray))
}

fn bzpop(ctx: &mut Ctx, argv: &[Bytes], side: Side) -> Result<Reply> {
    let deadline = parse_timeout(ctx, &argv[argv.len() - 1])?;
    let keys = &argv[1..argv.len() - 1];
    let shape = Shape { emit_key: true, nested: false, nil_when_empty: false };
    if let Some(r) = pop(ctx, keys, side, None, shape)? {
        return Ok(r);
    }
    if !ctx.can_block() {
        return Ok(Reply::NilArray);
    }
    Ok(ctx.block(keys, crate::blocking::BlockType::ZSet, deadline, argv, Reply::NilArray))
}

/// BZPOPMIN key [key ...] timeout
pub fn bzpopmin(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    bzpop(ctx, argv, Side::Min)
}

/// BZPOPMAX key [key ...] timeout
pub fn bzpopmax(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    bzpop(ctx, argv, Side::Max)
}
