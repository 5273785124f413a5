//! The checks a command passes before it runs (processCommand): authentication, ACLs,
//! maxmemory, MISCONF and LOADING, the RESP2 subscribe context, a busy script, CLIENT PAUSE,
//! and MULTI's queue.

use super::*;

/// The ACL check (processCommand, EXEC's, scriptCall's): None when the connection's user
/// may run the command; else the refusal, logged in ACL LOG, with the command's full name.
pub(crate) fn acl_denied(
    ctx: &mut Ctx,
    top: &'static CommandSpec,
    sub: Option<&'static CommandSpec>,
    id: usize,
    argv: &[Bytes],
    context: crate::acl::LogContext,
) -> Option<(crate::acl::Denied, String)> {
    use crate::acl::{Denied, Reason};
    if ctx.client.auth.acl_unrestricted_at == ctx.srv.acl.generation {
        return None;
    }
    let full = match sub {
        Some(s) => format!("{}|{}", top.name, s.name),
        None => top.name.to_string(),
    };
    // A deleted user's connection is closing (ACL DELUSER): it may run nothing more.
    let denied = match ctx.srv.acl.user(&ctx.client.auth.user) {
        None => Denied::Command,
        Some(user) if user.unrestricted() => {
            ctx.client.auth.acl_unrestricted_at = ctx.srv.acl.generation;
            return None;
        }
        Some(user) => user.check(sub.unwrap_or(top), id, sub.is_some(), argv).err()?,
    };
    let (reason, object) = match denied {
        Denied::Command => (Reason::Command, Bytes::from(full.clone())),
        Denied::Key(i) => (Reason::Key, argv[i].clone()),
        Denied::Channel(i) => (Reason::Channel, argv[i].clone()),
    };
    crate::commands::server::acl::log_denial(ctx, reason, context, object, None);
    Some((denied, full))
}

/// Refuses a command before it runs: also dooms an open transaction (flagTransaction).
pub(super) fn reject(ctx: &mut Ctx, e: Error) -> Reply {
    if ctx.client.tx.multi.is_some() {
        ctx.client.tx.multi_error = true;
    }
    Reply::Error(e.to_string())
}

/// `reject` for a known command: it counts as a rejected call (commandstats).
pub(super) fn rejected(ctx: &mut Ctx, id: usize, e: Error) -> Reply {
    stat(ctx, id).rejected += 1;
    reject(ctx, e)
}

/// The gates in processCommand's order: None lets the command run; Some is the reply it
/// gets instead (a refusal, a wait for CLIENT PAUSE, or QUEUED inside MULTI).
pub(super) fn admit(ctx: &mut Ctx, top: &'static CommandSpec, sub: Option<&'static CommandSpec>, key: usize, argv: &[Bytes]) -> Option<Reply> {
    let spec = sub.unwrap_or(top);
    if !ctx.client.auth.authenticated && !spec.is(flags::NO_AUTH) && !ctx.srv.acl.default_user().needs_no_auth() {
        return Some(rejected(ctx, key, Error::NoAuth));
    }
    // ACLs, skipped while the user is known to hold every permission. A command MULTI
    // refuses anyway is refused for that first, as processCommand orders the checks.
    // EXEC and scripts check their commands themselves, with their own wording.
    if ctx.client.auth.acl_unrestricted_at != ctx.srv.acl.generation
        && !ctx.client.wait.deny_blocking
        && !(ctx.client.tx.multi.is_some() && spec.is(flags::NO_MULTI))
    {
        let context = if ctx.client.tx.multi.is_some() { crate::acl::LogContext::Multi } else { crate::acl::LogContext::Toplevel };
        if let Some((denied, full)) = acl_denied(ctx, top, sub, key, argv, context) {
            let msg = match denied {
                crate::acl::Denied::Command => format!("NOPERM this user has no permissions to run the '{}' command", full),
                crate::acl::Denied::Key(_) => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
                crate::acl::Denied::Channel(_) => "NOPERM this user has no permissions to access one of the channels used as arguments".into(),
            };
            return Some(rejected(ctx, key, Error::Dyn(msg)));
        }
    }
    // Over maxmemory: evict first; if nothing more can go, refuse what may add memory (and
    // anything but the transaction's controls inside MULTI, whose queue grows too). Not
    // while a script is busy: the script may hold what eviction would take.
    if ctx.srv.config.hot.maxmemory > 0 && !ctx.client.wait.deny_blocking && ctx.srv.scripting.busy.is_none() {
        let oom = crate::server::evict::perform_evictions(ctx.srv) == crate::server::evict::Outcome::Fail;
        if !ctx.srv.memory.evict.log.is_empty() {
            announce_evicted(ctx);
            // This client's invalidations of evicted keys concern their old values: they go
            // before the reply (processCommand's trackingHandlePendingKeyInvalidations).
            if ctx.srv.clients.tracking.has_pending() {
                crate::command::tracking::flush_pending(ctx);
            }
        }
        ctx.srv.memory.evict.oom = oom;
        if oom {
            let srv = &*ctx.srv;
            let denyoom = |s: &CommandSpec, a: &[Bytes]| crate::commands::scripting::declared_denyoom(srv, s, a).unwrap_or_else(|| s.is(flags::DENYOOM));
            let refuse = denyoom(spec, argv)
                || (top.name == "exec"
                    && ctx.client.tx.multi.as_ref().is_some_and(|q| q.iter().any(|a| resolve(a).is_ok_and(|(t, s)| denyoom(s.unwrap_or(t), a)))))
                || (ctx.client.tx.multi.is_some() && !top.is(flags::TX_END));
            if refuse {
                // EXEC refused ends the transaction (execCommandAbort).
                if top.name == "exec" && ctx.client.tx.multi.is_some() {
                    crate::commands::transaction::discard_transaction(ctx.srv, ctx.client);
                    return Some(rejected(ctx, key, Error::Dyn(format!("EXECABORT Transaction discarded because of: {}", Error::Oom))));
                }
                return Some(rejected(ctx, key, Error::Oom));
            }
        }
    }
    // MISCONF after a failed save, LOADING while a dataset loads: for commands as clients
    // send them (EXEC's queue and scripts are judged by EXEC and the script runner).
    if !ctx.client.wait.deny_blocking {
        if let Some(e) = refuse(ctx, top, spec, argv) {
            return Some(rejected(ctx, key, e));
        }
    }
    ctx.client.conn.last_cmd = Some((top.name, sub.map(|s| s.name)));
    // A RESP2 subscriber's connection carries messages; only these commands may share it.
    if ctx.client.conn.resp == 2 && ctx.client.in_pubsub() && !top.is(flags::SUBSCRIBED_OK) {
        let name = match sub {
            Some(s) => format!("{}|{}", top.name, s.name),
            None => top.name.to_string(),
        };
        return Some(rejected(
            ctx,
            key,
            Error::Dyn(format!("ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", name)),
        ));
    }
    // While a script is busy only commands flagged allow-busy run (for other clients, from
    // its hook); the rest get BUSY, which also dooms their transaction, and EXEC aborts it
    // (rejectCommand, execCommandAbort).
    if let Some(eval) = ctx.srv.scripting.busy {
        if !spec.is(flags::ALLOW_BUSY) {
            let busy = crate::error::busy_script(eval);
            if top.name == "exec" {
                crate::commands::transaction::discard_transaction(ctx.srv, ctx.client);
                return Some(rejected(ctx, key, Error::Dyn(format!("EXECABORT Transaction discarded because of: {}", busy))));
            }
            return Some(rejected(ctx, key, Error::Dyn(busy.into())));
        }
    }
    // CLIENT PAUSE holds back every command (ALL) or those that write (WRITE), EXEC of a
    // queue with writes included, until the pause ends.
    // Commands inside EXEC or a script are not held: a CLIENT PAUSE in a transaction takes
    // effect when it ends (Redis checks the pause in processCommand only).
    if let Some((end, all)) = ctx.srv.clients.pause {
        if ctx.now_ms() >= end {
            ctx.srv.set_pause(None);
        } else if !ctx.client.wait.deny_blocking {
            // A script that declared its flags writes only without `no-writes`.
            let srv = &*ctx.srv;
            let writes = |s: &CommandSpec, a: &[Bytes]| {
                crate::commands::scripting::declared_writes(srv, s, a).unwrap_or_else(|| s.is(flags::WRITE) || s.is(flags::MAY_REPLICATE))
            };
            let exec_writes =
                top.name == "exec" && ctx.client.tx.multi.as_ref().is_some_and(|q| q.iter().any(|a| resolve(a).is_ok_and(|(t, s)| writes(s.unwrap_or(t), a))));
            if all || writes(spec, argv) || exec_writes {
                return Some(ctx.block(&[], BlockType::Pause, 0, argv, Reply::Nil));
            }
        }
    }
    // Inside MULTI everything but the transaction's own controls is queued.
    if ctx.client.tx.multi.is_some() && !top.is(flags::TX_CONTROL) {
        if spec.is(flags::NO_MULTI) {
            return Some(rejected(ctx, key, Error::Msg("ERR Command not allowed inside a transaction")));
        }
        ctx.client.tx.multi.as_mut().expect("in MULTI").push(argv.to_vec());
        return Some(Reply::Simple("QUEUED"));
    }
    None
}

/// processCommand's persistence checks for a command as a client sent it (not EXEC's queue
/// or a script's calls, which EXEC and the script runner check): MISCONF for writes (and
/// PING, as Redis 7.0 does) after a failed save, LOADING for commands without the
/// `loading` flag while a dataset loads. EXEC is judged by its queue, and refusing it ends
/// the transaction (execCommandAbort). Cheap when neither state holds.
pub(super) fn refuse(ctx: &mut Ctx, top: &CommandSpec, spec: &CommandSpec, argv: &[Bytes]) -> Option<Error> {
    let p = &ctx.srv.persistence;
    if !p.last_save_failed && p.loading.is_none() && ctx.srv.aof.write_error.is_none() && !ctx.srv.config.hot.min_replicas && ctx.srv.repl.master.is_none() {
        return None;
    }
    let queued = |ctx: &Ctx, test: &dyn Fn(&CommandSpec) -> bool| {
        top.name == "exec"
            && ctx.client.tx.multi.as_ref().is_some_and(|q| q.iter().any(|a| crate::command::dispatch::resolve(a).is_ok_and(|(t, s)| test(s.unwrap_or(t)))))
    };
    // A queued script call writes by the flags its script declares (queueMultiCommand
    // adds what getCommandFlags says, scriptFlagsToCmdFlags for EVAL and FCALL).
    let writes = |ctx: &Ctx| {
        spec.is(flags::WRITE)
            || top.name == "exec"
                && ctx.client.tx.multi.as_ref().is_some_and(|q| {
                    q.iter().any(|a| {
                        crate::command::dispatch::resolve(a).is_ok_and(|(t, s)| {
                            let s = s.unwrap_or(t);
                            crate::commands::scripting::declared_writes(ctx.srv, s, a).unwrap_or_else(|| s.is(flags::WRITE))
                        })
                    })
                })
    };
    let denial = crate::server::refusals::write_denial(ctx.srv)
        .filter(|_| top.name == "ping" || writes(ctx))
        .or_else(|| crate::server::refusals::replicas_denial(ctx.srv).filter(|_| writes(ctx)))
        .or_else(|| crate::server::refusals::read_only_replica(ctx.srv).filter(|_| writes(ctx)));
    let error = if let Some(e) = denial {
        e
    } else if crate::server::refusals::stale_replica(ctx.srv) && (!runs_stale(ctx.srv, spec, argv) || queued(ctx, &|s| !s.is(flags::STALE))) {
        Error::Msg("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
    } else if ctx.srv.persistence.loading.is_some() && (!spec.is(flags::LOADING) || queued(ctx, &|s| !s.is(flags::LOADING))) {
        Error::Loading
    } else {
        return None;
    };
    if top.name == "exec" && ctx.client.tx.multi.is_some() {
        crate::commands::transaction::discard_transaction(ctx.srv, ctx.client);
        return Some(Error::Dyn(format!("EXECABORT Transaction discarded because of: {}", error)));
    }
    Some(error)
}

/// Whether a command may run on a stale replica: flagged `stale`, or a script call whose
/// script declares `allow-stale` (scriptFlagsToCmdFlags replaces the command's flag).
fn runs_stale(srv: &Server, spec: &CommandSpec, argv: &[Bytes]) -> bool {
    crate::commands::scripting::declared_allow_stale(srv, spec, argv).unwrap_or_else(|| spec.is(flags::STALE))
}
