//! COMMAND and its subcommands, generated from the one command table: nothing here lists
//! commands by hand. Redis: server.c (commandCommand, addReplyCommandInfo/Docs).

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::command::keyspec;
use crate::command::spec::{acl::CONNECTION, flags::*, CommandSpec};
use crate::command::syntax;
use crate::command::table::{lookup_sub, table};
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::util::glob_match;

const G: &str = "server";
const F: u32 = LOADING | STALE;

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, F, G, count).acl(CONNECTION).doc("2.8.13", "Get total number of Redis commands", "O(1)"),
    CommandSpec::new("docs", -2, F, G, docs)
        .tips("nondeterministic_output_order")
        .acl(CONNECTION)
        .doc("7.0.0", "Get array of specific Redis command documentation", "O(N) where N is the number of commands to look up")
        .args("[command-name ...]"),
    CommandSpec::new("getkeys", -4, F, G, getkeys).acl(CONNECTION).doc(
        "2.8.13",
        "Extract keys given a full Redis command",
        "O(N) where N is the number of arguments to the command",
    ),
    CommandSpec::new("getkeysandflags", -4, F, G, getkeysandflags).acl(CONNECTION).doc(
        "7.0.0",
        "Extract keys and access flags given a full Redis command",
        "O(N) where N is the number of arguments to the command",
    ),
    CommandSpec::new("help", 2, F, G, help).acl(CONNECTION).doc("5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("info", -2, F, G, info)
        .tips("nondeterministic_output_order")
        .acl(CONNECTION)
        .doc("2.8.13", "Get array of specific Redis command details, or all when no argument is given.", "O(N) where N is the number of commands to look up")
        .args("[command-name ...]"),
    CommandSpec::new("list", -2, F, G, list)
        .tips("nondeterministic_output_order")
        .acl(CONNECTION)
        .doc("7.0.0", "Get an array of Redis command names", "O(N) where N is the total number of Redis commands")
        .args("[FILTERBY filterby=(MODULE module-name|ACLCAT category|PATTERN pattern)]"),
];

const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("COMMAND", HELP))
}

fn status_set<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Reply {
    Reply::Set(items.into_iter().map(|s| Reply::Status(s.into())).collect())
}

/// COMMAND INFO's key specs: the row's declaration (see `command::keyspec`).
fn key_specs(spec: &CommandSpec) -> Reply {
    Reply::Set(keyspec::specs_of(spec.key_specs).iter().map(|k| k.to_reply()).collect())
}

fn full_name(parent: Option<&CommandSpec>, spec: &CommandSpec) -> String {
    match parent {
        Some(p) => format!("{}|{}", p.name, spec.name),
        None => spec.name.to_string(),
    }
}

/// One COMMAND INFO entry: Redis 7.0's ten fields.
fn command_info(parent: Option<&CommandSpec>, spec: &CommandSpec) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(full_name(parent, spec))),
        Reply::Int(spec.arity as i64),
        status_set(spec.flag_names()),
        Reply::Int(spec.first_key as i64),
        Reply::Int(spec.last_key as i64),
        Reply::Int(spec.step as i64),
        status_set(spec.acl_names().into_iter().map(|c| format!("@{}", c))),
        Reply::Set(spec.tips.split_whitespace().map(Reply::bulk_str).collect()),
        key_specs(spec),
        Reply::Array(spec.subcommands.iter().map(|s| command_info(Some(spec), s)).collect()),
    ])
}

/// COMMAND — every command's info.
pub fn command(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Array(reachable(ctx).map(|s| command_info(None, s)).collect()))
}

/// The commands a client can call by some name: all but those `rename-command` removed.
/// Renamed ones are listed under their own names, as Redis lists them.
fn reachable<'a>(ctx: &'a Ctx) -> impl Iterator<Item = &'static CommandSpec> + 'a {
    table().all.iter().copied().filter(|s| ctx.srv.renames.reachable(s))
}

/// COMMAND COUNT
fn count(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(reachable(ctx).count() as i64))
}

/// Looks up `name` or `parent|sub`, by the names `rename-command` left.
fn find(ctx: &Ctx, name: &[u8]) -> Option<(Option<&'static CommandSpec>, &'static CommandSpec)> {
    match name.iter().position(|&c| c == b'|') {
        Some(i) => {
            let p = ctx.srv.renames.lookup(&name[..i])?;
            Some((Some(p), lookup_sub(p, &name[i + 1..])?))
        }
        None => Some((None, ctx.srv.renames.lookup(name)?)),
    }
}

/// COMMAND INFO [command-name ...] — nil for unknown names.
fn info(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() == 2 {
        return command(ctx, argv);
    }
    Ok(Reply::Array(argv[2..].iter().map(|n| find(ctx, n).map_or(Reply::Nil, |(p, s)| command_info(p, s))).collect()))
}

fn command_docs(spec: &CommandSpec) -> Reply {
    let s = Reply::bulk_str;
    let mut m = vec![(s("summary"), s(spec.summary)), (s("since"), s(spec.since)), (s("group"), s(spec.group))];
    // Redis leaves complexity out for the few commands that declare none (MONITOR).
    if !spec.complexity.is_empty() {
        m.push((s("complexity"), s(spec.complexity)));
    }
    // Declarations are checked by a test over the whole table, so a bad one cannot ship.
    let args = syntax::parse(spec.syntax).unwrap_or_default();
    if !args.is_empty() {
        m.push((s("arguments"), Reply::Array(args.iter().map(|a| a.to_reply()).collect())));
    }
    if !spec.subcommands.is_empty() {
        m.push((
            s("subcommands"),
            Reply::Map(spec.subcommands.iter().map(|sub| (Reply::Bulk(Bytes::from(full_name(Some(spec), sub))), command_docs(sub))).collect()),
        ));
    }
    Reply::Map(m)
}

/// COMMAND DOCS [command-name ...] — summary, since, group, complexity, arguments (and
/// subcommands). Not kept: per-command history, doc_flags and per-argument `since`.
fn docs(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let pick: Vec<(Option<&CommandSpec>, &CommandSpec)> =
        if argv.len() == 2 { reachable(ctx).map(|s| (None, s)).collect() } else { argv[2..].iter().filter_map(|n| find(ctx, n)).collect() };
    Ok(Reply::Map(pick.into_iter().map(|(p, s)| (Reply::Bulk(Bytes::from(full_name(p, s))), command_docs(s))).collect()))
}

/// COMMAND GETKEYS command [arg ...] — the keys a full command names.
fn getkeys(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let keys = keys_of(ctx, &argv[2..])?;
    Ok(Reply::Array(keys.into_iter().map(|(i, _)| Reply::Bulk(argv[2 + i].clone())).collect()))
}

/// COMMAND GETKEYSANDFLAGS command [arg ...] — each key with its key-spec flags.
fn getkeysandflags(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let keys = keys_of(ctx, &argv[2..])?;
    Ok(Reply::Array(keys.into_iter().map(|(i, f)| Reply::Array(vec![Reply::Bulk(argv[2 + i].clone()), keyspec::flag_reply(f)])).collect()))
}

/// getKeysSubcommandImpl: the command (a subcommand when the container has them), its
/// arity, then its keys by the key specs or its own key finder.
fn keys_of(ctx: &Ctx, cmd: &[Bytes]) -> Result<Vec<(usize, u16)>> {
    let invalid = Error::Msg("ERR Invalid command specified");
    let spec = ctx.srv.renames.lookup(&cmd[0]).ok_or(invalid.clone())?;
    let spec = if !spec.subcommands.is_empty() && cmd.len() >= 2 { lookup_sub(spec, &cmd[1]).ok_or(invalid)? } else { spec };
    if !keyspec::has_keys(spec) {
        return Err(Error::Msg("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(cmd.len()) {
        return Err(Error::Msg("ERR Invalid number of arguments specified for command"));
    }
    match keyspec::keys_with_flags(spec, cmd) {
        Some(keys) if !keys.is_empty() => Ok(keys),
        _ if spec.is(NO_MANDATORY_KEYS) => Ok(vec![]),
        _ => Err(Error::Msg("ERR Invalid arguments specified for command")),
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
fn list(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut filter: Option<(String, &Bytes)> = None;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if argv[i].eq_ignore_ascii_case(b"filterby") && more == 2 {
            let kind = String::from_utf8_lossy(&argv[i + 1]).to_ascii_lowercase();
            if !["module", "aclcat", "pattern"].contains(&kind.as_str()) {
                return Err(Error::Syntax);
            }
            filter = Some((kind, &argv[i + 2]));
            i += 3;
        } else {
            return Err(Error::Syntax);
        }
    }
    let mut names = vec![];
    for spec in reachable(ctx) {
        let all = std::iter::once((spec.name.to_string(), spec)).chain(spec.subcommands.iter().map(|s| (format!("{}|{}", spec.name, s.name), s)));
        for (name, s) in all {
            let keep = match &filter {
                None => true,
                Some((k, _)) if k == "module" => false,
                Some((k, v)) if k == "aclcat" => s.acl_names().iter().any(|c| c.as_bytes().eq_ignore_ascii_case(v)),
                Some((_, v)) => glob_match(v, name.as_bytes(), true),
            };
            if keep {
                names.push(Reply::Bulk(Bytes::from(name)));
            }
        }
    }
    Ok(Reply::Array(names))
}
