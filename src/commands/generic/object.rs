//! OBJECT subcommands: how a value is stored and how recently or often it was used.
//! Redis: object.c objectCommand.

use bytes::Bytes;

use crate::command::spec::{acl::KEYSPACE, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::object::{Str, Value};
use crate::reply::Reply;

const G: &str = "generic";

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, READONLY, G, encoding)
        .key_specs("RO index:2 range:0:1:0")
        .tips("nondeterministic_output")
        .keys(2, 2, 1)
        .acl(KEYSPACE)
        .doc("2.2.3", "Inspect the internal encoding of a Redis object", "O(1)")
        .args("key"),
    CommandSpec::new("freq", 3, READONLY, G, freq)
        .key_specs("RO index:2 range:0:1:0")
        .tips("nondeterministic_output")
        .keys(2, 2, 1)
        .acl(KEYSPACE)
        .doc("4.0.0", "Get the logarithmic access frequency counter of a Redis object", "O(1)")
        .args("key"),
    CommandSpec::new("help", 2, LOADING | STALE, G, help).acl(KEYSPACE).doc("6.2.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("idletime", 3, READONLY, G, idletime)
        .key_specs("RO index:2 range:0:1:0")
        .tips("nondeterministic_output")
        .keys(2, 2, 1)
        .acl(KEYSPACE)
        .doc("2.2.3", "Get the time since a Redis object was last accessed", "O(1)")
        .args("key"),
    CommandSpec::new("refcount", 3, READONLY, G, refcount)
        .key_specs("RO index:2 range:0:1:0")
        .tips("nondeterministic_output")
        .keys(2, 2, 1)
        .acl(KEYSPACE)
        .doc("2.2.3", "Get the number of references to the value of the key", "O(1)")
        .args("key"),
];

const HELP: &[&str] = &[
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
];

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("OBJECT", HELP))
}

/// OBJECT ENCODING key — nil when missing.
fn encoding(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(ctx.lookup_notouch(&argv[2]).map_or(Reply::Nil, |e| Reply::bulk_str(e.value.encoding())))
}

/// OBJECT IDLETIME key — seconds since last access; refused under an LFU policy.
fn idletime(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let Some(e) = ctx.lookup_notouch(&argv[2]) else { return Ok(Reply::Nil) };
    let stamp = e.clone();
    if ctx.srv.config.hot.lfu_policy {
        return Err(Error::Msg("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    Ok(Reply::Int(ctx.srv.access_clock().idle_seconds(&stamp)))
}

/// OBJECT FREQ key — the LFU counter; refused unless an LFU policy is selected.
fn freq(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let Some(e) = ctx.lookup_notouch(&argv[2]) else { return Ok(Reply::Nil) };
    let stamp = e.lru;
    if !ctx.srv.config.hot.lfu_policy {
        return Err(Error::Msg("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    Ok(Reply::Int(ctx.srv.access_clock().lfu_decayed(stamp) as i64))
}

/// OBJECT REFCOUNT key — Redis shares the integers 0..9999 (refcount INT_MAX); every other
/// value has one owner.
fn refcount(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let Some(e) = ctx.lookup_notouch(&argv[2]) else { return Ok(Reply::Nil) };
    let shared = matches!(e.value, Value::Str(Str::Int(n)) if (0..10000).contains(&n));
    Ok(Reply::Int(if shared { i32::MAX as i64 } else { 1 }))
}
