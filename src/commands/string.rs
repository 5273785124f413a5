//! String commands. Redis: t_string.c.
use bytes::Bytes;

use crate::command::spec::{acl, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::Result;
use crate::object::{Str, Value};
use crate::reply::{Reply, OK};

const G: &str = "string";

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, G, get).keys(1, 1, 1).acl(acl::STRING).doc("1.0.0", "Returns the string value of a key.", "O(1)"),
    CommandSpec::new("set", -3, WRITE | DENYOOM, G, set).keys(1, 1, 1).acl(acl::STRING).doc("1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "O(1)"),
];

/// GET key
fn get(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let now = ctx.now_ms();
    let v = ctx.db().get_str(&argv[1], now)?.map(|s| s.to_bytes());
    ctx.hit(v.is_some());
    Ok(Reply::opt_bulk(v))
}

/// SET key value
fn set(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let lru = ctx.lru();
    ctx.db().set(&argv[1], Value::Str(Str::from_bytes(&argv[2])), false, lru);
    ctx.modified(&argv[1], "set");
    Ok(OK)
}
