//! Server commands: database-wide operations, introspection (INFO, CONFIG, COMMAND) and the
//! operator's controls (SHUTDOWN, DEBUG). Redis: server.c, db.c (flush/swap), config.c,
//! debug.c.

use bytes::Bytes;

use crate::command::spec::{
    acl::{DANGEROUS, KEYSPACE},
    flags::*,
};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::engine::Event;
use crate::error::{Error, Result};
use crate::reply::{Reply, OK};

pub mod acl;
#[cfg(test)]
mod acl_tests;
mod command;
mod config;
#[cfg(test)]
mod config_tests;
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
    CommandSpec::new("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, G, debug).doc("1.0.0", "A container for debugging commands", "Depends on subcommand."),
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
    let us = ctx.srv.now_us;
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
        1 => Ok(ctx.srv.config.get_bool("lazyfree-lazy-user-flush")),
        2 if argv[1].eq_ignore_ascii_case(b"async") => Ok(true),
        2 if argv[1].eq_ignore_ascii_case(b"sync") => Ok(false),
        _ => Err(Error::Syntax),
    }
}

/// Empties one database, its contents handed to the host when `lazy` (emptyDbAsync).
fn empty_db(srv: &mut crate::engine::Server, db: usize, lazy: bool) -> usize {
    if lazy && !srv.dbs[db].is_empty() {
        let (keys, expires, n) = srv.dbs[db].take_all();
        srv.lazyfree.free_keyspace(Box::new((keys, expires)), n);
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
    ctx.srv.blocking.signal_db(db);
    crate::tracking::invalidate_all(ctx);
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
        ctx.srv.blocking.signal_db(db);
    }
    crate::tracking::invalidate_all(ctx);
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
    // Behind a background save (hasActiveChildProcess), or one being written in place.
    if ctx.srv.persistence.child != crate::persistence::ChildType::None || ctx.srv.persistence.pending.is_some() {
        ctx.srv.aof.rewrite_scheduled = true;
        // Asked for by hand: no waiting out earlier failures.
        ctx.srv.aof.consecutive_failures = 0;
        return Ok(Reply::Simple("Background append only file rewriting scheduled"));
    }
    crate::aof::start_rewrite(ctx.srv);
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
        ctx.srv.blocking.signal_db(a);
        ctx.srv.blocking.signal_db(b);
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
    if ctx.srv.host.listens && ctx.can_block() {
        ctx.event(Event::Shutdown { save, force, client: Some(ctx.client.id) });
        return Ok(ctx.block(&[], crate::command::dispatch::HOST_WAIT, 0, argv, Reply::Nil));
    }
    ctx.event(Event::Shutdown { save, force, client: None });
    ctx.client.close_asap = true;
    Ok(OK)
}

/// A loopback peer (or an in-process host, which has no address).
fn is_local(addr: &str) -> bool {
    addr.is_empty() || addr.starts_with("127.") || addr.starts_with("[::1]") || addr.starts_with("::1")
}

/// allowProtectedAction: what `enable-debug-command` and `enable-protected-configs` allow
/// this client (`local`: Unix-socket and loopback connections only).
pub(crate) fn allow_protected(ctx: &Ctx, setting: &str) -> bool {
    match ctx.srv.config.get(setting).unwrap_or("no") {
        "yes" => true,
        "local" => ctx.client.info.unix || is_local(&ctx.client.info.addr),
        _ => false,
    }
}

const DEBUG_HELP: &[&str] = &[
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
];

/// DEBUG DIGEST | DEBUG DIGEST-VALUE key ... | DEBUG RELOAD | DEBUG SLEEP seconds | DEBUG SET-ACTIVE-EXPIRE 0|1 | DEBUG HELP
/// DEBUG OBJECT key: the value's low-level facts as Redis prints them. The key is found
/// without expiring it (dictFind); refcount as OBJECT REFCOUNT gives it;
/// serializedlength is the value's RDB payload under the current `rdbcompression`.
fn debug_object(ctx: &mut Ctx, key: &[u8]) -> Result<Reply> {
    use crate::object::{Str, Value};
    let lfu = crate::db::access::lfu_policy(ctx.srv);
    let compress = ctx.srv.config.get_bool("rdbcompression");
    let fill = ctx.srv.config.get_i64("list-max-listpack-size");
    let compressed = ctx.srv.config.get_i64("list-compress-depth") != 0;
    let db = ctx.client.db;
    let Some(e) = ctx.srv.dbs[db].peek(key) else { return Err(Error::NoSuchKey) };
    // As OBJECT REFCOUNT: the integers Redis shares.
    let shared = matches!(e.value, Value::Str(Str::Int(n)) if (0..10000).contains(&n));
    let mut w = crate::rdb::save::Writer::new(compress);
    w.object(&e.value);
    let len = w.into_bytes().len();
    let idle = if lfu { 0 } else { crate::db::access::idle_seconds(ctx.srv, e) };
    let mut extra = String::new();
    if let Value::List(l) = &e.value {
        let nodes = l.node_count();
        // Redis's listpack: a 6-byte header and an end byte around the same entries where
        // ours keeps a 4-byte count.
        let size: usize = l.nodes().map(|n| n.bytes() + 3).sum();
        extra = format!(
            " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{}",
            nodes,
            l.len() as f64 / nodes.max(1) as f64,
            fill,
            compressed as u8,
            size
        );
    }
    Ok(Reply::Status(format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}{}",
        &e.value,
        if shared { i32::MAX } else { 1 },
        e.value.encoding(),
        len,
        e.lru,
        idle,
        extra
    )))
}

fn debug(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    // Redis 7 refuses DEBUG unless enable-debug-command allows it (allowProtectedAction).
    if !allow_protected(ctx, "enable-debug-command") {
        return Err(Error::Msg("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
    }
    let sub = &argv[1];
    if sub.eq_ignore_ascii_case(b"help") && argv.len() == 2 {
        return Ok(crate::commands::connection::help_reply("DEBUG", DEBUG_HELP));
    }
    if sub.eq_ignore_ascii_case(b"object") && argv.len() == 3 {
        return debug_object(ctx, &argv[2]);
    }
    // A panic on demand, as Redis's serverPanic. Redis dies of it; here it costs this one
    // command natively (see `crate::panic`), and in wasm it traps, which the JS package
    // recovers from (its tests use this).
    if sub.eq_ignore_ascii_case(b"panic") && argv.len() == 2 {
        panic!("DEBUG PANIC called at Unix time {}", ctx.srv.now_ms() / 1000);
    }
    // Debug builds only: a bug on demand, for the tests that hold a panic to one command
    // (HANDLER) or one connection (BATCH: after this command, in the batch's bookkeeping).
    #[cfg(debug_assertions)]
    if sub.eq_ignore_ascii_case(b"cinnabar-panic") && argv.len() == 3 {
        if argv[2].eq_ignore_ascii_case(b"batch") {
            crate::panic::panic_after_command();
            return Ok(OK);
        }
        panic!("DEBUG CINNABAR-PANIC asked for it");
    }
    if sub.eq_ignore_ascii_case(b"sleep") && argv.len() == 3 {
        // strtod semantics: garbage reads as 0.
        let secs = std::str::from_utf8(&argv[2]).ok().and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(0.0);
        let micros = (secs * 1e6).max(0.0) as u64;
        ctx.event(Event::Sleep { micros });
        ctx.srv.slept_us += micros as i64;
        return Ok(OK);
    }
    if sub.eq_ignore_ascii_case(b"reload") {
        // A save and a load through the RDB format, as Redis does: what survives this
        // survives a restart. The snapshot also goes to disk through the host. NOFLUSH keeps
        // the dataset (a key or library the file also has is then an error, unless MERGE
        // lets the file's replace it); NOSAVE loads the file already on disk.
        let (mut flush, mut save, mut merge) = (true, true, false);
        for opt in &argv[2..] {
            if opt.eq_ignore_ascii_case(b"merge") {
                merge = true;
            } else if opt.eq_ignore_ascii_case(b"noflush") {
                flush = false;
            } else if opt.eq_ignore_ascii_case(b"nosave") {
                save = false;
            } else {
                return Err(Error::Msg("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."));
            }
        }
        if ctx.srv.persistence.loading.is_some() {
            // The file being loaded must not be replaced by the part read so far.
            return Err(Error::Loading);
        }
        use crate::rdb::load::Merge;
        let mode = match (flush, merge) {
            (true, _) => Merge::Flush,
            (false, true) => Merge::Replace,
            (false, false) => Merge::Refuse,
        };
        if !save {
            // The file is the host's to read; it answers with `rdb_reload_finished`.
            if !ctx.can_block() {
                return Err(Error::Msg("ERR DEBUG RELOAD NOSAVE is not allowed inside MULTI or scripts"));
            }
            let id = ctx.client.id;
            ctx.event(Event::ReloadRdb { client: id, merge: mode });
            return Ok(ctx.block(&[], crate::command::dispatch::HOST_WAIT, 0, argv, Reply::Nil));
        }
        let snapshot = crate::rdb::dump(ctx.srv);
        crate::rdb::load::load_merging(ctx.srv, &snapshot, mode).map_err(|_| Error::Msg("ERR Error trying to load the RDB dump"))?;
        crate::persistence::request_save(ctx.srv, crate::persistence::SaveKind::Foreground);
        return Ok(OK);
    }
    if sub.eq_ignore_ascii_case(b"loadaof") && argv.len() == 2 {
        // The host owns the files: it syncs the AOF and replays it, then answers.
        if ctx.srv.persistence.loading.is_some() {
            return Err(Error::Loading);
        }
        if !ctx.can_block() {
            return Err(Error::Msg("ERR DEBUG LOADAOF is not allowed inside MULTI or scripts"));
        }
        let id = ctx.client.id;
        ctx.event(Event::LoadAof { client: id });
        return Ok(ctx.block(&[], crate::command::dispatch::HOST_WAIT, 0, argv, Reply::Nil));
    }
    if sub.eq_ignore_ascii_case(b"digest") && argv.len() == 2 {
        return Ok(Reply::Status(digest::dataset(&ctx.srv.dbs)));
    }
    if sub.eq_ignore_ascii_case(b"digest-value") {
        let db = &ctx.srv.dbs[ctx.client.db];
        return Ok(Reply::Array(argv[2..].iter().map(|k| Reply::Status(digest::key(db, k))).collect()));
    }
    if sub.eq_ignore_ascii_case(b"set-active-expire") && argv.len() == 3 {
        ctx.srv.active_expire_enabled = crate::util::parse_i64(&argv[2]).unwrap_or(0) != 0;
        return Ok(OK);
    }
    Err(Error::subcommand_syntax(sub, "DEBUG"))
}
