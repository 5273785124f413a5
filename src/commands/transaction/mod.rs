//! MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queuing happens in dispatch (`call`); EXEC runs the
//! queue through the same `call`, with blocking denied, as one step no other client can
//! interleave with (the host runs a client's batch under the engine lock). Redis: multi.c.

use bytes::Bytes;

use crate::client::Client;
use crate::command::dispatch::{call, Ctx};
use crate::command::spec::{acl::TRANSACTION, flags::*};
use crate::command::CommandSpec;
use crate::error::{Error, Result};
use crate::reply::{Reply, OK};
use crate::server::Server;

#[cfg(test)]
mod tests;

const G: &str = "transactions";
const F: u32 = NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY;

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("discard", 1, F | TX_CONTROL | TX_END, G, discard).acl(TRANSACTION).doc(
        "2.0.0",
        "Discard all commands issued after MULTI",
        "O(N), when N is the number of queued commands",
    ),
    CommandSpec::new("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | TX_CONTROL | TX_END, G, exec).acl(TRANSACTION).doc(
        "1.2.0",
        "Execute all commands issued after MULTI",
        "Depends on commands in the transaction",
    ),
    CommandSpec::new("multi", 1, F | TX_CONTROL, G, multi).acl(TRANSACTION).doc("1.2.0", "Mark the start of a transaction block", "O(1)"),
    CommandSpec::new("unwatch", 1, F, G, unwatch).acl(TRANSACTION).doc("2.2.0", "Forget about all watched keys", "O(1)"),
    CommandSpec::new("watch", -2, F | TX_CONTROL, G, watch)
        .key_specs("RO index:1 range:-1:1:0")
        .keys(1, -1, 1)
        .acl(TRANSACTION)
        .doc("2.2.0", "Watch the given keys to determine execution of the MULTI/EXEC block", "O(1) for every key.")
        .args("key ..."),
];

/// Forgets every key the client watches (unwatchAllKeys); also on disconnect and RESET.
pub fn unwatch_all(srv: &mut Server, c: &mut Client) {
    for (db, key, _) in c.tx.watched.drain(..) {
        if srv.clients.watched.unwatch(c.id, db, &key) {
            let d = &mut srv.dbs[db];
            d.watched = d.watched.saturating_sub(1);
        }
    }
    c.tx.dirty_cas = false;
}

/// Leaves MULTI without running anything (DISCARD, RESET, EXEC's aborts).
pub fn discard_transaction(srv: &mut Server, c: &mut Client) {
    c.tx.multi = None;
    c.tx.multi_error = false;
    unwatch_all(srv, c);
}

fn multi(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    if ctx.client.tx.multi.is_some() {
        return Err(Error::Msg("ERR MULTI calls can not be nested"));
    }
    ctx.client.tx.multi = Some(Vec::new());
    Ok(OK)
}

fn discard(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    if ctx.client.tx.multi.is_none() {
        return Err(Error::Msg("ERR DISCARD without MULTI"));
    }
    discard_transaction(ctx.srv, ctx.client);
    Ok(OK)
}

/// WATCH key [key ...]
fn watch(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if ctx.client.tx.multi.is_some() {
        return Err(Error::Msg("ERR WATCH inside MULTI is not allowed"));
    }
    let (db, id, now) = (ctx.client.db, ctx.client.id, ctx.now_ms());
    for key in &argv[1..] {
        let (added, first) = ctx.srv.clients.watched.watch(id, db, key);
        if added {
            let expired = ctx.srv.dbs[db].is_expired(key, now);
            ctx.client.tx.watched.push((db, key.clone(), expired));
        }
        if first {
            ctx.srv.dbs[db].watched += 1;
        }
    }
    Ok(OK)
}

fn unwatch(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    unwatch_all(ctx.srv, ctx.client);
    Ok(OK)
}

/// One queued command, its ACLs checked again in case they changed since it was queued.
fn exec_one(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    use crate::acl::{Denied, LogContext};
    use crate::command::dispatch::{acl_denied, resolve_or_reject};
    if let Ok((top, sub, id)) = resolve_or_reject(argv) {
        if let Some((denied, _)) = acl_denied(ctx, top, sub, id, argv, LogContext::Multi) {
            let reason = match denied {
                Denied::Command => "no permission to execute the command or subcommand",
                Denied::Key(_) => "no permission to touch the specified keys",
                Denied::Channel(_) => "no permission to access one of the channels used as arguments",
            };
            return Reply::Error(format!("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {}", reason));
        }
    }
    call(ctx, argv)
}

/// EXEC — the queued replies, or the null array if a watched key changed, or EXECABORT if
/// a command was refused while queuing.
fn exec(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let Some(queue) = ctx.client.tx.multi.take() else { return Err(Error::Msg("ERR EXEC without MULTI")) };
    if ctx.client.tx.multi_error {
        discard_transaction(ctx.srv, ctx.client);
        return Err(Error::Msg("EXECABORT Transaction discarded because of previous errors."));
    }
    // A watched key that expired since WATCH (and was not expired then) counts as changed.
    let now = ctx.now_ms();
    if ctx.client.tx.watched.iter().any(|(db, key, was)| !was && ctx.srv.dbs[*db].is_expired(key, now)) {
        ctx.client.tx.dirty_cas = true;
    }
    if ctx.client.tx.dirty_cas {
        discard_transaction(ctx.srv, ctx.client);
        return Ok(Reply::NilArray);
    }
    unwatch_all(ctx.srv, ctx.client);
    let last = ctx.client.conn.last_cmd;
    ctx.client.wait.deny_blocking = true;
    let replies = queue.iter().map(|argv| exec_one(ctx, argv)).collect();
    ctx.client.wait.deny_blocking = false;
    ctx.client.conn.last_cmd = last;
    Ok(Reply::Array(replies))
}
