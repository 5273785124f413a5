//! CONFIG subcommands over the one parameter table in `config.rs`. Redis: config.c.

use bytes::Bytes;

use crate::command::spec::{acl::DANGEROUS, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::reply::{Reply, OK};

const G: &str = "server";
const F: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -3, F, G, get)
        .doc("2.0.0", "Get the values of configuration parameters", "O(N) when N is the number of configuration parameters provided")
        .args("parameter=(parameter) ..."),
    CommandSpec::new("help", 2, LOADING | STALE, G, help).doc("5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("rewrite", 2, F, G, rewrite).acl(DANGEROUS).doc("2.8.0", "Rewrite the configuration file with the in memory configuration", "O(1)"),
    CommandSpec::new("resetstat", 2, F, G, resetstat).acl(DANGEROUS).doc("2.0.0", "Reset the stats returned by INFO", "O(1)"),
    CommandSpec::new("set", -4, F, G, set)
        .tips("request_policy:all_nodes response_policy:all_succeeded")
        .doc("2.0.0", "Set configuration parameters to the given values", "O(N) when N is the number of configuration parameters provided")
        .args("parameter_value=(parameter value) ..."),
];

const HELP: &[&str] = &[
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
];

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("CONFIG", HELP))
}

/// CONFIG GET parameter [parameter ...] — a map of every matching name to its value.
fn get(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut out: Vec<(Reply, Reply)> = vec![];
    for pat in &argv[2..] {
        for (name, value) in ctx.srv.config.get_matching(pat) {
            if !out.iter().any(|(k, _)| matches!(k, Reply::Bulk(b) if &b[..] == name.as_bytes())) {
                out.push((Reply::bulk_str(name), Reply::Bulk(Bytes::from(value))));
            }
        }
    }
    Ok(Reply::Map(out))
}

/// CONFIG SET parameter value [parameter value ...] — all or nothing.
fn set(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() % 2 == 1 {
        return Err(Error::Syntax);
    }
    let pairs: Vec<(String, String)> =
        argv[2..].chunks(2).map(|p| (String::from_utf8_lossy(&p[0]).to_ascii_lowercase(), String::from_utf8_lossy(&p[1]).into_owned())).collect();
    for (i, (name, _)) in pairs.iter().enumerate() {
        if !crate::config::Config::is_known(name) {
            return Err(Error::Dyn(format!("ERR Unknown option or number of arguments for CONFIG SET - '{}'", name)));
        }
        // dir and dbfilename choose where files are written: Redis 7's PROTECTED_CONFIG.
        if matches!(crate::config::Config::canonical(name), Some("dir" | "dbfilename")) && !super::allow_protected(ctx, "enable-protected-configs") {
            return Err(Error::Dyn(format!("ERR CONFIG SET failed (possibly related to argument '{}') - can't set protected config", name)));
        }
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::Dyn(format!("ERR CONFIG SET failed (possibly related to argument '{}') - duplicate parameter", name)));
        }
    }
    // Validate on a copy, then swap it in: a bad value leaves every parameter unchanged.
    let mut next = ctx.srv.config.clone();
    for (name, value) in &pairs {
        next.set(name, value, false)?;
    }
    // `dir` is where the server works (setConfigDirOption chdirs): the host moves there
    // last, once the rest is known to be valid, and the value becomes the absolute path.
    if let (Some(change_dir), Some((name, dir))) = (ctx.srv.host.calls.change_dir, pairs.iter().find(|(n, _)| n == "dir")) {
        let abs = change_dir(dir).map_err(|why| Error::Dyn(format!("ERR CONFIG SET failed (possibly related to argument '{}') - {}", name, why)))?;
        next.set("dir", &abs, false)?;
    }
    let was = ctx.srv.config.get_bool(crate::param!("appendonly"));
    let policy = ctx.srv.config.hot.evict_policy;
    // What a failed re-bind restores: every parameter of this CONFIG SET, as Redis rolls
    // back all of them when one fails to apply.
    let mut previous: Vec<(String, String)> = Vec::new();
    for name in ["port", "bind"].into_iter().chain(pairs.iter().map(|(n, _)| n.as_str())) {
        if !previous.iter().any(|(n, _)| n == name) {
            previous.push((name.to_string(), ctx.srv.config.get_named(name).unwrap_or("").to_string()));
        }
    }
    ctx.srv.config = next;
    // What the host applies itself (oom-score-adj, loglevel, hz, the AOF's auto GC, ...)
    // applies before the client hears OK, as Redis's apply functions do.
    ctx.event(crate::event::Event::ConfigChanged);
    // requirepass is the default user's password (ACLUpdateDefaultUserPassword).
    if pairs.iter().any(|(n, _)| crate::config::Config::canonical(n) == Some("requirepass")) {
        let pass = ctx.srv.config.get(crate::param!("requirepass")).to_string();
        ctx.srv.acl.set_default_password(pass.as_bytes());
    }
    if ctx.srv.config.hot.evict_policy != policy {
        crate::server::evict::clear_pool(ctx.srv);
    }
    // A lower limit takes effect now, not at the next write (updateMaxmemory); inside
    // EXEC it waits for the transaction's end (the eviction timer, startEvictionTimeProc),
    // so the transaction runs whole and the DELs follow it.
    if pairs.iter().any(|(n, _)| n == "maxmemory") && ctx.srv.config.hot.maxmemory > 0 {
        if ctx.can_block() {
            crate::server::evict::perform_evictions(ctx.srv);
            crate::command::dispatch::announce_evicted(ctx);
        } else {
            ctx.srv.memory.evict.running = true;
        }
    }
    // The host opens or closes the file (startAppendOnly / stopAppendOnly).
    if ctx.srv.config.get_bool(crate::param!("appendonly")) != was {
        let on = !was;
        // Inside EXEC the first rewrite waits for the cron, as startAppendOnly's in_exec.
        if on && !ctx.can_block() {
            ctx.srv.aof.start_deferred = true;
            ctx.srv.log(3, || "AOF was enabled during a transaction. An AOF background was scheduled to start when possible.".into());
        }
        ctx.event(crate::event::Event::AppendOnly { on });
    }
    // The host closes its listeners and opens the new ones (changeListener); the client
    // hears whether that worked.
    let moved = previous[..2].iter().any(|(n, v)| ctx.srv.config.get_named(n) != Some(v.as_str()));
    if moved && ctx.srv.host.can.listens {
        let bind = ctx.srv.config.get(crate::param!("bind")).to_string();
        let port = ctx.srv.config.get_i64(crate::param!("port")) as u16;
        if !ctx.can_block() {
            ctx.event(crate::event::Event::Listen { client: None, bind, port, previous });
            return Ok(OK);
        }
        let id = ctx.client.id;
        ctx.event(crate::event::Event::Listen { client: Some(id), bind, port, previous });
        return Ok(ctx.block(&[], crate::blocking::BlockType::Host, 0, argv, Reply::Nil));
    }
    Ok(OK)
}

/// CONFIG REWRITE — the host rewrites the file it was started with (`Event::RewriteConfig`,
/// `Config::rewrite`); the client waits for its report, except inside MULTI/EXEC.
fn rewrite(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if ctx.srv.host.config_file.is_empty() {
        return Err(Error::Msg("ERR The server is running without a config file"));
    }
    if !ctx.can_block() {
        ctx.event(crate::event::Event::RewriteConfig { client: None });
        return Ok(OK);
    }
    let id = ctx.client.id;
    ctx.event(crate::event::Event::RewriteConfig { client: Some(id) });
    Ok(ctx.block(&[], crate::blocking::BlockType::Host, 0, argv, Reply::Nil))
}

/// CONFIG RESETSTAT
fn resetstat(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let dirty = ctx.srv.stats.dirty;
    ctx.srv.stats = Default::default();
    ctx.srv.stats.dirty = dirty;
    ctx.srv.memory.lazyfree.reset_stats();
    Ok(OK)
}
