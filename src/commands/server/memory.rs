//! MEMORY USAGE and MEMORY HELP. The rest of the MEMORY family (STATS, DOCTOR, MALLOC-STATS,
//! PURGE) belongs with eviction and arrives there. Redis: object.c memoryCommand.

use bytes::Bytes;

use crate::command::spec::flags::*;
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::reply::Reply;

const G: &str = "server";

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("help", 2, LOADING | STALE, G, help).doc("4.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("usage", -3, READONLY, G, usage).key_specs("RO index:2 range:0:1:0").keys(2, 2, 1).doc("4.0.0", "Estimate the memory usage of a key", "O(N) where N is the number of samples.").args("key [SAMPLES count]"),
];

const HELP: &[&str] = &[
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("MEMORY", HELP))
}

/// MEMORY USAGE key [SAMPLES count] — bytes for the key, its value and their bookkeeping.
/// Cinnabar measures every element rather than sampling, so SAMPLES is validated and the
/// figure is exact for the structures it counts.
fn usage(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut j = 3;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"samples") && j + 1 < argv.len() {
            if crate::command::args::int(&argv[j + 1])? < 0 {
                return Err(Error::Syntax);
            }
            j += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    let key = &argv[2];
    let Some(e) = ctx.lookup_notouch(key) else { return Ok(Reply::Nil) };
    // The key's bytes, the keyspace slot that holds key and value, the value's own heap.
    let slot = 48;
    Ok(Reply::Int((key.len() + slot + e.value.mem_usage()) as i64))
}
