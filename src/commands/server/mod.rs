//! Server commands: database-wide operations, introspection (INFO, CONFIG, COMMAND) and the
//! operator's controls (SHUTDOWN, DEBUG). Redis: server.c, db.c (flush/swap), config.c,
//! debug.c.

use bytes::Bytes;

use crate::command::spec::{
    acl::{DANGEROUS, KEYSPACE},
    flags::*,
};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::reply::{Reply, OK};

pub mod acl;
#[cfg(test)]
mod acl_tests;
mod command;
mod config;
#[cfg(test)]
mod config_tests;
pub mod debug;
pub mod digest;
mod info;
mod latency;
#[cfg(test)]
mod latency_tests;
mod memory;
pub mod monitor;
#[cfg(test)]
mod persistence_tests;
pub mod slowlog;
#[cfg(test)]
mod tests;

const G: &str = "server";

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::container("acl", G, acl::SUBCOMMANDS).doc("6.0.0", "A container for Access List Control commands ", "Depends on subcommand."),
    CommandSpec::container("command", G, command::SUBCOMMANDS)
        .bare(-1, LOADING | STALE, command::command)
        .tips("nondeterministic_output_order")
        .acl(crate::command::spec::acl::CONNECTION)
        .doc("2.8.13", "Get array of Redis command details", "O(N) where N is the total number of Redis commands"),
    CommandSpec::container("config", G, config::SUBCOMMANDS).doc("2.0.0", "A container for server configuration commands", "Depends on subcommand."),
    CommandSpec::new("dbsize", 1, READONLY | FAST, G, dbsize).tips("request_policy:all_shards response_policy:agg_sum").acl(KEYSPACE).doc(
        "1.0.0",
        "Return the number of keys in the selected database",
        "O(1)",
    ),
    CommandSpec::new("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, G, debug::debug).doc(
        "1.0.0",
        "A container for debugging commands",
        "Depends on subcommand.",
    ),
    CommandSpec::new("flushall", -1, WRITE, G, flushall)
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .acl(KEYSPACE | DANGEROUS)
        .doc("1.0.0", "Remove all keys from all databases", "O(N) where N is the total number of keys in all databases")
        .args("[ASYNC|SYNC]"),
    CommandSpec::new("flushdb", -1, WRITE, G, flushdb)
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .acl(KEYSPACE | DANGEROUS)
        .doc("1.0.0", "Remove all keys from the current database", "O(N) where N is the number of keys in the selected database")
        .args("[ASYNC|SYNC]"),
    CommandSpec::new("info", -1, LOADING | STALE | SENTINEL, G, info::info)
        .tips("nondeterministic_output request_policy:all_shards response_policy:special")
        .acl(DANGEROUS)
        .doc("1.0.0", "Get information and statistics about the server", "O(1)")
        .args("[section ...]"),
    CommandSpec::container("memory", G, memory::SUBCOMMANDS).doc("4.0.0", "A container for memory diagnostics commands", "Depends on subcommand."),
    CommandSpec::new("save", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, G, save).doc(
        "1.0.0",
        "Synchronously save the dataset to disk",
        "O(N) where N is the total number of keys in all databases",
    ),
    CommandSpec::new("bgrewriteaof", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, G, bgrewriteaof).doc(
        "1.0.0",
        "Asynchronously rewrite the append-only file",
        "O(1)",
    ),
    CommandSpec::new("bgsave", -1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, G, bgsave)
        .doc("1.0.0", "Asynchronously save the dataset to disk", "O(1)")
        .args("[SCHEDULE]"),
    CommandSpec::container("latency", G, latency::SUBCOMMANDS).doc("2.8.13", "A container for latency diagnostics commands", "Depends on subcommand."),
    CommandSpec::new("lastsave", 1, LOADING | STALE | FAST, G, lastsave).tips("nondeterministic_output").acl(crate::command::spec::acl::ADMIN | DANGEROUS).doc(
        "1.0.0",
        "Get the UNIX time stamp of the last successful save to disk",
        "O(1)",
    ),
    CommandSpec::new("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY, G, shutdown)
        .doc(
            "1.0.0",
            "Synchronously save the dataset to disk and then shut down the server",
            "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        )
        .args("nosave_save=[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]"),
    CommandSpec::new("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, G, monitor::monitor).doc(
        "1.0.0",
        "Listen for all requests received by the server in real time",
        "",
    ),
    CommandSpec::container("slowlog", G, slowlog::SUBCOMMANDS).doc("2.2.12", "A container for slow log commands", "Depends on subcommand."),
    CommandSpec::new("swapdb", 3, WRITE | FAST, G, swapdb)
        .acl(KEYSPACE | DANGEROUS)
        .doc("4.0.0", "Swaps two Redis databases", "O(N) where N is the count of clients watching or blocking on keys from both databases.")
        .args("index1@integer index2@integer"),
    CommandSpec::new("time", 1, LOADING | STALE | FAST, G, time).tips("nondeterministic_output").doc("2.6.0", "Return the current server time", "O(1)"),
];

/// TIME — [unix seconds, microseconds], both as bulk strings.
fn time(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let us = ctx.srv.clock.now_us;
    Ok(Reply::Array(vec![Reply::Bulk(Bytes::from((us / 1_000_000).to_string())), Reply::Bulk(Bytes::from((us % 1_000_000).to_string()))]))
}

/// DBSIZE
fn dbsize(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.db().len() as i64))
}

/// FLUSHDB/FLUSHALL's optional mode. Freeing is synchronous either way: the core has no
/// threads, and dropping values is fast enough at the sizes a single engine holds.
/// getFlushCommandFlags: whether to free the data lazily (ASYNC, or no option and
/// `lazyfree-lazy-user-flush yes`).
fn flush_mode(ctx: &Ctx, argv: &[Bytes]) -> Result<bool> {
    match argv.len() {
        1 => Ok(ctx.srv.config.get_bool(crate::param!("lazyfree-lazy-user-flush"))),
        2 if argv[1].eq_ignore_ascii_case(b"async") => Ok(true),
        2 if argv[1].eq_ignore_ascii_case(b"sync") => Ok(false),
        _ => Err(Error::Syntax),
    }
}

/// Empties one database, its contents handed to the host when `lazy` (emptyDbAsync).
fn empty_db(srv: &mut crate::server::Server, db: usize, lazy: bool) -> usize {
    if lazy && !srv.dbs[db].is_empty() {
        let (keys, expires, n) = srv.dbs[db].take_all();
        srv.memory.lazyfree.free_keyspace(Box::new((keys, expires)), n);
        n
    } else {
        srv.dbs[db].clear()
    }
}

/// FLUSHDB [ASYNC | SYNC]
fn flushdb(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let lazy = flush_mode(ctx, argv)?;
    let db = ctx.client.db;
    ctx.touch_watched_db(db, None);
    // Group readers blocked on a stream that goes away are told so (see stream::read).
    ctx.srv.clients.blocking.signal_db(db);
    crate::command::tracking::invalidate_all(ctx);
    let n = empty_db(ctx.srv, db, lazy);
    ctx.srv.stats.dirty += n as u64;
    // Replayed even when the database was already empty, as Redis does.
    ctx.force_propagation();
    Ok(OK)
}

/// FLUSHALL [ASYNC | SYNC]
fn flushall(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let lazy = flush_mode(ctx, argv)?;
    for db in 0..ctx.srv.dbs.len() {
        ctx.touch_watched_db(db, None);
        ctx.srv.clients.blocking.signal_db(db);
    }
    crate::command::tracking::invalidate_all(ctx);
    let n: usize = (0..ctx.srv.dbs.len()).map(|db| empty_db(ctx.srv, db, lazy)).sum();
    // Redis counts FLUSHALL as one change plus the keys removed.
    ctx.srv.stats.dirty += n as u64 + 1;
    crate::persistence::flushall(ctx.srv);
    ctx.force_propagation();
    Ok(OK)
}

/// SAVE — a snapshot of the dataset on disk, written before the reply (see `persistence`).
fn save(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    crate::persistence::save(ctx, argv)
}

/// BGSAVE [SCHEDULE] — a snapshot written by a child process while clients keep being
/// served; on a host that cannot fork, written in place before the reply.
fn bgsave(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    crate::persistence::bgsave(ctx, argv)
}

/// BGREWRITEAOF — a new AOF base from the current dataset, written by the host while
/// clients are served (or once a snapshot being saved is done).
fn bgrewriteaof(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    if ctx.srv.aof.rewrite_in_progress {
        return Err(Error::Msg("ERR Background append only file rewriting already in progress"));
    }
    // Behind a background save (hasActiveChildProcess), or one being written in place, or
    // inside EXEC (the cron starts it).
    if ctx.srv.persistence.child != crate::persistence::ChildType::None || ctx.srv.persistence.pending.is_some() || !ctx.can_block() {
        ctx.srv.aof.rewrite_scheduled = true;
        // Asked for by hand: no waiting out earlier failures.
        ctx.srv.aof.consecutive_failures = 0;
        return Ok(Reply::Simple("Background append only file rewriting scheduled"));
    }
    crate::persistence::aof::start_rewrite(ctx.srv);
    Ok(Reply::Simple("Background append only file rewriting started"))
}

/// LASTSAVE — Unix time of the last successful snapshot.
fn lastsave(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.srv.persistence.last_save_unix))
}

/// SWAPDB index1 index2 — every client of one database now sees the other's keys.
fn swapdb(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let parse = |a: &[u8], which: &'static str| crate::util::parse_i64(a).filter(|n| *n >= i32::MIN as i64 && *n <= i32::MAX as i64).ok_or(Error::Msg(which));
    let a = parse(&argv[1], "ERR invalid first DB index")?;
    let b = parse(&argv[2], "ERR invalid second DB index")?;
    let n = ctx.srv.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(Error::DbIndexOutOfRange);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        ctx.touch_watched_db(a, Some(b));
        ctx.touch_watched_db(b, Some(a));
        ctx.srv.dbs.swap(a, b);
        ctx.srv.dbs[a].id = a;
        ctx.srv.dbs[b].id = b;
        // Watches belong to database numbers, not to the data that moved.
        let (wa, wb) = (ctx.srv.dbs[a].watched, ctx.srv.dbs[b].watched);
        ctx.srv.dbs[a].watched = wb;
        ctx.srv.dbs[b].watched = wa;
        ctx.srv.stats.dirty += 1;
        // Clients blocked in either database may now find what they wait for.
        ctx.srv.clients.blocking.signal_db(a);
        ctx.srv.clients.blocking.signal_db(b);
    }
    Ok(OK)
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
/// No reply on success: the host stops and the connection closes, as with redis-server.
fn shutdown(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (mut save, mut abort, mut force) = (None, false, false);
    for a in &argv[1..] {
        if a.eq_ignore_ascii_case(b"nosave") {
            save = Some(false);
        } else if a.eq_ignore_ascii_case(b"save") {
            save = Some(true);
        } else if a.eq_ignore_ascii_case(b"now") {
            // No replicas to wait for: nothing to skip.
        } else if a.eq_ignore_ascii_case(b"force") {
            force = true;
        } else if a.eq_ignore_ascii_case(b"abort") {
            abort = true;
        } else {
            return Err(Error::Syntax);
        }
    }
    if abort {
        if argv.len() != 2 {
            return Err(Error::Syntax);
        }
        return Err(Error::Msg("ERR No shutdown in progress."));
    }
    if save == Some(true) && argv.iter().any(|a| a.eq_ignore_ascii_case(b"nosave")) {
        return Err(Error::Syntax);
    }
    // A dataset still loading is never saved over the file it comes from (prepareForShutdown).
    let save = if ctx.srv.persistence.loading.is_some() { Some(false) } else { save };
    // Over a network, a SHUTDOWN that succeeds is never answered: the connection just ends
    // with the server (clients such as redis-py count on that); one that fails is answered
    // with an error by the host. An in-process host answers OK and closes the session.
    if ctx.srv.host.can.listens && ctx.can_block() {
        ctx.event(Event::Shutdown { save, force, client: Some(ctx.client.id) });
        return Ok(ctx.block(&[], crate::blocking::BlockType::Host, 0, argv, Reply::Nil));
    }
    ctx.event(Event::Shutdown { save, force, client: None });
    ctx.client.conn.close_asap = true;
    Ok(OK)
}

/// A loopback peer (or an in-process host, which has no address).
fn is_local(addr: &str) -> bool {
    addr.is_empty() || addr.starts_with("127.") || addr.starts_with("[::1]") || addr.starts_with("::1")
}

/// allowProtectedAction: what `enable-debug-command` and `enable-protected-configs` allow
/// this client (`local`: Unix-socket and loopback connections only).
pub(crate) fn allow_protected(ctx: &Ctx, setting: &str) -> bool {
    match ctx.srv.config.get_named(setting).unwrap_or("no") {
        "yes" => true,
        "local" => ctx.client.info.unix || is_local(&ctx.client.info.addr),
        _ => false,
    }
}
