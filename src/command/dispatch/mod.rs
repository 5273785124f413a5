//! Dispatch: Redis's processCommand + call(). Lookup, arity, authentication, then the
//! handler, then the bookkeeping every command shares (stats, CLIENT REPLY modes). MULTI/EXEC
//! and scripts (later issues) call `call()` re-entrantly with the same `Ctx`.
//!
//! By job: `ctx` (what handlers touch), `gates` (the checks before a command runs), `call`
//! (running it). The engine drives it: a client's pipeline in `engine::batch`, re-runs of
//! waiting commands in `engine::blocked`.

mod call;
mod ctx;
mod gates;

use bytes::Bytes;

use super::spec::{flags, CommandSpec};
use super::table::table;
use crate::blocking::BlockType;
use crate::client::{Client, ClientId};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::object::Value;
use crate::reply::Reply;
use crate::server::Server;

pub use call::*;
pub use ctx::*;
pub(crate) use gates::*;

/// Resolves argv to (command, subcommand) specs or the error Redis gives.
pub fn resolve(argv: &[Bytes]) -> Result<(&'static CommandSpec, Option<&'static CommandSpec>)> {
    resolve_with_id(argv).map(|(top, sub, _)| (top, sub))
}

/// `resolve`, plus the stat id of what runs (see `Table::names`).
pub(super) fn resolve_with_id(argv: &[Bytes]) -> Result<(&'static CommandSpec, Option<&'static CommandSpec>, usize)> {
    resolve_or_reject(argv).map_err(|(e, _)| e)
}

/// `resolve_with_id`, with the stat id of a known command its error refers to (an arity
/// error is a rejected call of that command in commandstats).
pub(crate) fn resolve_or_reject(argv: &[Bytes]) -> std::result::Result<(&'static CommandSpec, Option<&'static CommandSpec>, usize), (Error, Option<usize>)> {
    let (spec, id) = table().lookup_with_id(&argv[0]).ok_or_else(|| (Error::unknown_command(argv), None))?;
    let id = id as usize;
    if spec.subcommands.is_empty() {
        if !spec.arity_ok(argv.len()) {
            return Err((Error::WrongArity(super::args::lower(&argv[0])), Some(id)));
        }
        return Ok((spec, None, id));
    }
    if argv.len() < 2 {
        if spec.handler.is_some() && spec.arity_ok(argv.len()) {
            return Ok((spec, None, id));
        }
        return Err((Error::WrongArity(super::args::lower(&argv[0])), Some(id)));
    }
    let pos =
        spec.subcommands.iter().position(|s| s.name.as_bytes().eq_ignore_ascii_case(&argv[1])).ok_or_else(|| {
            (Error::UnknownSubcommand { sub: crate::error::clip(&argv[1]), cmd: String::from_utf8_lossy(&argv[0]).to_ascii_uppercase() }, None)
        })?;
    let sub = &spec.subcommands[pos];
    if !sub.arity_ok(argv.len()) {
        return Err((Error::WrongArity(format!("{}|{}", spec.name, sub.name)), Some(id + 1 + pos)));
    }
    Ok((spec, Some(sub), id + 1 + pos))
}

/// The statistics slot of a command id, growing the table on first use.
#[inline]
pub(super) fn stat<'a>(ctx: &'a mut Ctx, id: usize) -> &'a mut crate::server::CommandStat {
    if ctx.srv.stats.commands.len() <= id {
        grow_stats(&mut ctx.srv.stats.commands, id);
    }
    &mut ctx.srv.stats.commands[id]
}

#[cold]
#[inline(never)]
pub(super) fn grow_stats(v: &mut Vec<crate::server::CommandStat>, id: usize) {
    v.resize(table().names.len().max(id + 1), Default::default());
}
