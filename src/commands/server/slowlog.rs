//! SLOWLOG: commands that took at least `slowlog-log-slower-than` µs (0 logs all, negative
//! none), newest first, at most `slowlog-max-len` of them, with arguments trimmed as Redis
//! trims them. Durations come from the host's clock (`Engine::set_clock`). Redis: slowlog.c.

use bytes::Bytes;

use crate::command::spec::{acl::DANGEROUS, flags::*};
use crate::command::{args::range_long, dispatch::Ctx, CommandSpec};
use crate::commands::connection::help_reply;
use crate::error::Result;
use crate::reply::{Reply, OK};
use crate::server::SlowEntry;

const G: &str = "server";
const F: u32 = ADMIN | LOADING | STALE;

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -2, F, G, get)
        .tips("request_policy:all_nodes nondeterministic_output")
        .acl(DANGEROUS)
        .doc("2.2.12", "Get the slow log's entries", "O(N) where N is the number of entries returned")
        .args("[count]"),
    CommandSpec::new("help", 2, LOADING | STALE, G, help).doc("6.2.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("len", 2, F, G, len).tips("request_policy:all_nodes response_policy:agg_sum nondeterministic_output").acl(DANGEROUS).doc(
        "2.2.12",
        "Get the slow log's length",
        "O(1)",
    ),
    CommandSpec::new("reset", 2, F, G, reset).tips("request_policy:all_nodes response_policy:all_succeeded").acl(DANGEROUS).doc(
        "2.2.12",
        "Clear all entries from the slow log",
        "O(N) where N is the number of entries in the slowlog",
    ),
];

const MAX_ARGC: usize = 32;
const MAX_STRING: usize = 128;

/// Adds an entry for a command that just ran (slowlogPushEntryIfNeeded).
pub fn record(ctx: &mut Ctx, argv: &[Bytes], micros: i64) {
    let n = argv.len().min(MAX_ARGC);
    let mut args = Vec::with_capacity(n);
    for (j, a) in argv.iter().take(n).enumerate() {
        if n != argv.len() && j == n - 1 {
            args.push(Bytes::from(format!("... ({} more arguments)", argv.len() - n + 1)));
        } else if a.len() > MAX_STRING {
            let mut s = a[..MAX_STRING].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes());
            args.push(Bytes::from(s));
        } else {
            args.push(a.clone());
        }
    }
    let id = ctx.srv.stats.slowlog.next_id;
    ctx.srv.stats.slowlog.next_id += 1;
    let entry = SlowEntry {
        id,
        unix_secs: ctx.srv.clock.now_us / 1_000_000,
        micros,
        argv: args,
        addr: ctx.client.info.addr.clone(),
        name: ctx.client.conn.name.clone().unwrap_or_default(),
    };
    ctx.srv.stats.slowlog.entries.push_front(entry);
    let max = ctx.srv.config.hot.slowlog_max_len;
    ctx.srv.stats.slowlog.entries.truncate(max);
}

/// SLOWLOG GET [count] — newest first; count -1 means all, default 10.
fn get(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(crate::error::Error::subcommand_syntax(&argv[1], "SLOWLOG"));
    }
    let mut count = 10usize;
    if argv.len() == 3 {
        let c = range_long(&argv[2], -1, i64::MAX, Some("ERR count should be greater than or equal to -1"))?;
        count = if c == -1 { usize::MAX } else { c as usize };
    }
    Ok(Reply::Array(
        ctx.srv
            .stats
            .slowlog
            .entries
            .iter()
            .take(count)
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id as i64),
                    Reply::Int(e.unix_secs),
                    Reply::Int(e.micros),
                    Reply::Array(e.argv.iter().cloned().map(Reply::Bulk).collect()),
                    Reply::Bulk(Bytes::from(e.addr.clone())),
                    Reply::Bulk(e.name.clone()),
                ])
            })
            .collect(),
    ))
}

fn len(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.srv.stats.slowlog.entries.len() as i64))
}

fn reset(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    ctx.srv.stats.slowlog.entries.clear();
    Ok(OK)
}

const HELP: &[&str] = &[
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
];

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("SLOWLOG", HELP))
}
