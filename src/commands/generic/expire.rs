//! EXPIRE and friends, TTL and friends, PERSIST. Redis: expire.c.

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::reply::{Reply, ONE, ZERO};

#[derive(Default)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// NX | XX | GT | LT (parseExtendedExpireArgumentsOrReply).
fn conditions(argv: &[Bytes]) -> Result<Conditions> {
    let mut c = Conditions::default();
    for opt in &argv[3..] {
        match String::from_utf8_lossy(opt).to_ascii_lowercase().as_str() {
            "nx" => c.nx = true,
            "xx" => c.xx = true,
            "gt" => c.gt = true,
            "lt" => c.lt = true,
            _ => return Err(Error::Dyn(format!("ERR Unsupported option {}", String::from_utf8_lossy(opt)))),
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(Error::Msg("ERR NX and XX, GT or LT options at the same time are not compatible"));
    }
    if c.gt && c.lt {
        return Err(Error::Msg("ERR GT and LT options at the same time are not compatible"));
    }
    Ok(c)
}

/// The shared body (expireGenericCommand): `base_ms` is now for relative forms, 0 for
/// absolute ones. A deadline already past deletes the key.
fn expire_generic(ctx: &mut Ctx, argv: &[Bytes], base_ms: i64, seconds: bool) -> Result<Reply> {
    let cond = conditions(argv)?;
    let name = crate::command::args::lower(&argv[0]);
    let mut when = crate::command::args::int(&argv[2])?;
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(Error::InvalidExpire(name));
        }
        when *= 1000;
    }
    if when > i64::MAX - base_ms {
        return Err(Error::InvalidExpire(name));
    }
    when += base_ms;
    let key = &argv[1];
    if ctx.lookup_write(key).is_none() {
        return Ok(ZERO);
    }
    let current = ctx.db().get_expire(key);
    let refused = (cond.nx && current.is_some())
        || (cond.xx && current.is_none())
        || (cond.gt && current.is_none_or(|c| when <= c))
        || (cond.lt && current.is_some_and(|c| when >= c));
    if refused {
        return Ok(ZERO);
    }
    // checkAlreadyExpired: a deadline already past deletes the key, except while loading
    // and on a replica, which keeps it for the primary's DEL.
    if when <= ctx.now_ms() && !ctx.srv.loading && ctx.srv.repl.master.is_none() {
        ctx.db().remove(key);
        ctx.modified(key, "del");
        let del = super::del_command(ctx, "lazyfree-lazy-expire");
        ctx.propagate_as(|| vec![del, key.clone()]);
    } else {
        ctx.db().set_expire(key, when);
        ctx.modified(key, "expire");
        // Replayed as an absolute deadline, so a late replay does not extend the key's life.
        ctx.propagate_as(|| {
            let mut v = vec![Bytes::from_static(b"PEXPIREAT"), key.clone(), Bytes::from(when.to_string())];
            v.extend(argv[3..].iter().cloned());
            v
        });
    }
    Ok(ONE)
}

/// EXPIRE key seconds [NX | XX | GT | LT]
pub fn expire(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let now = ctx.now_ms();
    expire_generic(ctx, argv, now, true)
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
pub fn pexpire(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let now = ctx.now_ms();
    expire_generic(ctx, argv, now, false)
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
pub fn expireat(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    expire_generic(ctx, argv, 0, true)
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
pub fn pexpireat(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    expire_generic(ctx, argv, 0, false)
}

/// -2 for a missing key, -1 for no deadline, else the remaining (or absolute) time, in ms or
/// in seconds rounded to nearest (ttlGenericCommand).
fn ttl_generic(ctx: &mut Ctx, key: &[u8], ms: bool, absolute: bool) -> Result<Reply> {
    if ctx.lookup_notouch(key).is_none() {
        return Ok(Reply::Int(-2));
    }
    let Some(when) = ctx.db().get_expire(key) else { return Ok(Reply::Int(-1)) };
    let t = if absolute { when } else { (when - ctx.now_ms()).max(0) };
    Ok(Reply::Int(if ms { t } else { (t + 500) / 1000 }))
}

/// TTL key
pub fn ttl(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ttl_generic(ctx, &argv[1], false, false)
}

/// PTTL key
pub fn pttl(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ttl_generic(ctx, &argv[1], true, false)
}

/// EXPIRETIME key
pub fn expiretime(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ttl_generic(ctx, &argv[1], false, true)
}

/// PEXPIRETIME key
pub fn pexpiretime(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ttl_generic(ctx, &argv[1], true, true)
}

/// PERSIST key — 1 if a deadline was removed.
pub fn persist(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if ctx.lookup_write(&argv[1]).is_none() || !ctx.db().persist(&argv[1]) {
        return Ok(ZERO);
    }
    ctx.modified(&argv[1], "persist");
    Ok(ONE)
}
