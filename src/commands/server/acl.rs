//! ACL: users and their permissions (see `crate::acl`). Changing a user takes effect on the
//! next command of every connection authenticated as it; deleting one disconnects them, and
//! taking channels away disconnects its subscribers that no longer qualify. Redis: acl.c
//! aclCommand.

use bytes::Bytes;

use crate::acl::{selector, Denied, LogContext, LogEntry, Reason, User};
use crate::command::spec::flags::*;
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::reply::{Reply, OK};

const G: &str = "server";
const F: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const N: &str = "O(N). Where N is the number of configured users.";

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("cat", -2, NOSCRIPT | LOADING | STALE, G, cat)
        .doc("6.0.0", "List the ACL categories or the commands inside a category", "O(1) since the categories and commands are a fixed set.")
        .args("[categoryname]"),
    CommandSpec::new("deluser", -3, F, G, deluser)
        .doc("6.0.0", "Remove the specified ACL users and the associated rules", "O(1) amortized time considering the typical user.")
        .args("username ..."),
    CommandSpec::new("dryrun", -4, F, G, dryrun)
        .doc("7.0.0", "Returns whether the user can execute the given command without executing the command.", "O(1).")
        .args("username command [arg ...]"),
    CommandSpec::new("genpass", -2, NOSCRIPT | LOADING | STALE, G, genpass)
        .doc("6.0.0", "Generate a pseudorandom secure password to use for ACL users", "O(1)")
        .args("[bits@integer]"),
    CommandSpec::new("getuser", 3, F, G, getuser)
        .doc("6.0.0", "Get the rules for a specific ACL user", "O(N). Where N is the number of password, command and pattern rules that the user has.")
        .args("username"),
    CommandSpec::new("help", 2, LOADING | STALE, G, help).doc("6.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("list", 2, F, G, list).doc("6.0.0", "List the current ACL rules in ACL config file format", N),
    CommandSpec::new("load", 2, F, G, load).doc("6.0.0", "Reload the ACLs from the configured ACL file", N),
    CommandSpec::new("log", -2, F, G, log)
        .doc("6.0.0", "List latest events denied because of ACLs in place", "O(N) with N being the number of entries shown.")
        .args("[operation=(count|RESET)]"),
    CommandSpec::new("save", 2, F, G, save).doc("6.0.0", "Save the current ACL rules in the configured ACL file", N),
    CommandSpec::new("setuser", -3, F, G, setuser)
        .doc("6.0.0", "Modify or create the rules for a specific ACL user", "O(N). Where N is the number of rules provided.")
        .args("username [rule ...]"),
    CommandSpec::new("users", 2, F, G, users).doc("6.0.0", "List the username of all the configured ACL rules", N),
    CommandSpec::new("whoami", 2, NOSCRIPT | LOADING | STALE, G, whoami).doc(
        "6.0.0",
        "Return the name of the user associated to the current connection",
        "O(1)",
    ),
];

fn pubsub_default_all(ctx: &Ctx) -> bool {
    ctx.srv.config.get(crate::param!("acl-pubsub-default")) == "allchannels"
}

/// ACL SETUSER username [rule ...]
fn setuser(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let name = &argv[2];
    if selector::has_spaces(name) {
        return Err(Error::Msg("ERR Usernames can't contain spaces or null characters"));
    }
    let all = pubsub_default_all(ctx);
    let (old, new) = ctx.srv.acl.set_user(name, &argv[3..], all).map_err(|e| Error::Dyn(format!("ERR {}", e)))?;
    if let Some(old) = old {
        kill_pubsub_clients_if_needed(ctx, &old, &new);
    }
    Ok(OK)
}

/// ACLKillPubsubClientsIfNeeded: when the user's channels shrink, its subscribers with a
/// channel or pattern no longer allowed are disconnected.
fn kill_pubsub_clients_if_needed(ctx: &mut Ctx, old: &User, new: &User) {
    if new.selectors.iter().any(|s| s.all_channels) {
        return;
    }
    let upcoming: Vec<Bytes> = new.selectors.iter().flat_map(|s| s.channels.iter().cloned()).collect();
    let superset = old.selectors.iter().all(|s| !s.all_channels && s.channels.iter().all(|c| upcoming.contains(c)));
    if superset {
        return;
    }
    let literal = |pat: &[u8]| upcoming.iter().any(|p| &p[..] == pat);
    let matches = |ch: &[u8]| upcoming.iter().any(|p| crate::util::glob_match(p, ch, false));
    let offends = |c: &crate::client::Client| {
        c.auth.user == old.name
            && c.in_pubsub()
            && (c.pubsub.psubs.iter().any(|p| !literal(p)) || c.pubsub.subs.iter().any(|ch| !matches(ch)) || c.pubsub.ssubs.iter().any(|ch| !matches(ch)))
    };
    let victims: Vec<u64> = ctx.others.values().filter(|c| offends(c)).map(|c| c.id).collect();
    for id in victims {
        if let Some(c) = ctx.others.get_mut(&id) {
            c.conn.close_asap = true;
            ctx.srv.events.push(Event::CloseClient(id));
        }
    }
    if offends(ctx.client) {
        ctx.client.conn.close_asap = true;
    }
}

/// ACL DELUSER username [username ...]
fn deluser(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv[2..].iter().any(|u| &u[..] == b"default") {
        return Err(Error::Msg("ERR The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for name in &argv[2..] {
        if ctx.srv.acl.delete(name) {
            deleted += 1;
            disconnect_user(ctx, name);
        }
    }
    Ok(Reply::Int(deleted))
}

/// ACLFreeUserAndKillClients: the user's connections close (this one after its reply).
fn disconnect_user(ctx: &mut Ctx, name: &[u8]) {
    let victims: Vec<u64> = ctx.others.values().filter(|c| &c.auth.user[..] == name).map(|c| c.id).collect();
    for id in victims {
        if let Some(c) = ctx.others.get_mut(&id) {
            c.auth.user = Bytes::from_static(b"default");
            c.auth.authenticated = false;
            c.conn.close_asap = true;
            ctx.srv.events.push(Event::CloseClient(id));
        }
    }
    if &ctx.client.auth.user[..] == name {
        ctx.client.auth.user = Bytes::from_static(b"default");
        ctx.client.auth.authenticated = false;
        ctx.client.conn.close_asap = true;
    }
}

/// ACL GETUSER username
fn getuser(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let Some(u) = ctx.srv.acl.user(&argv[2]) else {
        return Ok(Reply::Nil);
    };
    let s = Reply::bulk_str;
    let sel = |x: &selector::Selector| {
        vec![
            (s("commands"), Reply::bulk(x.describe_commands())),
            (s("keys"), Reply::bulk(x.describe_keys())),
            (s("channels"), Reply::bulk(x.describe_channels())),
        ]
    };
    let mut fields = vec![
        (s("flags"), Reply::Set(u.flags().into_iter().map(s).collect())),
        (s("passwords"), Reply::Array(u.passwords.iter().map(|p| Reply::bulk(p.clone())).collect())),
    ];
    fields.extend(sel(u.root()));
    fields.push((s("selectors"), Reply::Array(u.selectors[1..].iter().map(|x| Reply::Map(sel(x))).collect())));
    Ok(Reply::Map(fields))
}

/// ACL LIST: each user as its `user` line of redis.conf.
fn list(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Array(ctx.srv.acl.users.values().map(|u| Reply::bulk(config_line(u))).collect()))
}

/// `user <name> <rules>`, as ACL LIST and CONFIG REWRITE write it.
pub fn config_line(u: &User) -> String {
    format!("user {} {}", String::from_utf8_lossy(&u.name), u.describe())
}

fn users(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Array(ctx.srv.acl.users.keys().map(|n| Reply::Bulk(n.clone())).collect()))
}

fn whoami(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Bulk(ctx.client.auth.user.clone()))
}

/// ACL LOAD / SAVE without an `aclfile`: users then live in redis.conf.
fn no_file() -> Error {
    Error::Msg("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
}

fn acl_file(srv: &crate::server::Server) -> Option<String> {
    Some(srv.config.get(crate::param!("aclfile"))).filter(|f| !f.is_empty()).map(str::to_string)
}

/// ACLLoadFromFile: the users of the `aclfile` replace all of them, or (on any error) none.
/// The default user's connections keep their user; the names of the other users replaced
/// are returned, whose connections must go (Redis frees those users).
pub fn load_file(srv: &mut crate::server::Server) -> std::result::Result<Vec<Bytes>, String> {
    let file = acl_file(srv).unwrap_or_default();
    let text = match srv.host.calls.read_file {
        Some(read) => read(&file),
        None => Err("Operation not supported".into()),
    }
    .map_err(|why| format!("Error loading ACLs, opening file '{}': {}", file, why))?;
    let all = srv.config.get(crate::param!("acl-pubsub-default")) == "allchannels";
    let users = crate::acl::parse_acl_file(&file, &text, all)?;
    let old = std::mem::replace(&mut srv.acl.users, users);
    srv.acl.generation += 1;
    Ok(old.into_keys().filter(|n| &n[..] != b"default").collect())
}

/// ACL LOAD
fn load(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    if acl_file(ctx.srv).is_none() {
        return Err(no_file());
    }
    let replaced = load_file(ctx.srv).map_err(|e| Error::Dyn(format!("ERR {}", e)))?;
    for name in replaced {
        disconnect_user(ctx, &name);
    }
    Ok(OK)
}

/// ACL SAVE: every user, one `user` line each, replacing the `aclfile` whole
/// (ACLSaveToFile); a failure is logged and answered with Redis's pointer to the log.
fn save(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    use crate::server::FileStep;
    let Some(file) = acl_file(ctx.srv) else { return Err(no_file()) };
    let text = crate::acl::acl_file_text(&ctx.srv.acl.users);
    let done = match ctx.srv.host.calls.replace_file {
        Some(replace) => replace(&file, &text),
        None => Err((FileStep::Open, "Operation not supported".into())),
    };
    if let Err((step, why)) = done {
        let what = match step {
            FileStep::Open => "Opening temp ACL file for ACL SAVE",
            FileStep::Write => "Writing ACL file for ACL SAVE",
            FileStep::Rename => "Renaming ACL file for ACL SAVE",
        };
        ctx.srv.log(3, || format!("{}: {}", what, why));
        return Err(Error::Msg("ERR There was an error trying to save the ACLs. Please check the server logs for more information"));
    }
    Ok(OK)
}

/// ACL CAT [category]
fn cat(_ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    use crate::command::spec::acl::NAMES;
    if argv.len() == 2 {
        return Ok(Reply::Array(NAMES.iter().map(|(_, n)| Reply::bulk_str(n)).collect()));
    }
    if argv.len() > 3 {
        return Err(Error::subcommand_syntax(&argv[1], "ACL"));
    }
    let flag = selector::category(&argv[2]).ok_or_else(|| Error::Dyn(format!("ERR Unknown category '{}'", crate::error::clip(&argv[2]))))?;
    let mut out = vec![];
    selector::each_command(|spec, _, full, _| {
        if spec.acl_categories() & flag != 0 {
            out.push(Reply::bulk(full));
        }
    });
    Ok(Reply::Array(out))
}

/// ACL GENPASS [bits]: hex from the engine's generator (seeded by the host from the OS).
fn genpass(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::subcommand_syntax(&argv[1], "ACL"));
    }
    let bits = match argv.get(2) {
        Some(a) => crate::command::args::int(a)?,
        None => 256,
    };
    if bits <= 0 || bits > 4096 {
        return Err(Error::Msg("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"));
    }
    let chars = ((bits + 3) / 4) as usize;
    let mut out = String::with_capacity(chars + 16);
    while out.len() < chars {
        out.push_str(&format!("{:016x}", ctx.srv.rng.next_u64()));
    }
    out.truncate(chars);
    Ok(Reply::bulk(out))
}

/// ACL LOG [count | RESET]
fn log(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::subcommand_syntax(&argv[1], "ACL"));
    }
    let mut count = 10i64;
    if let Some(a) = argv.get(2) {
        if a.eq_ignore_ascii_case(b"reset") {
            ctx.srv.acl.log.clear();
            return Ok(OK);
        }
        count = crate::command::args::int(a)?.max(0);
    }
    let now = ctx.now_ms();
    let s = Reply::bulk_str;
    let entries = ctx.srv.acl.log.iter().take(count as usize).map(|e| {
        Reply::Map(vec![
            (s("count"), Reply::Int(e.count as i64)),
            (s("reason"), s(e.reason.name())),
            (s("context"), s(e.context.name())),
            (s("object"), Reply::Bulk(e.object.clone())),
            (s("username"), Reply::Bulk(e.username.clone())),
            (s("age-seconds"), Reply::Double((now - e.ctime_ms) as f64 / 1000.0)),
            (s("client-info"), Reply::bulk(e.client_info.clone())),
        ])
    });
    Ok(Reply::Array(entries.collect()))
}

/// ACL DRYRUN username command [arg ...]
fn dryrun(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let Some(u) = ctx.srv.acl.user(&argv[2]) else {
        return Err(Error::Dyn(format!("ERR User '{}' not found", String::from_utf8_lossy(&argv[2]))));
    };
    let args = &argv[3..];
    let Some((spec, id, is_sub)) = resolve(args) else {
        return Err(Error::Dyn(format!("ERR Command '{}' not found", String::from_utf8_lossy(&argv[3]))));
    };
    let full = full_name(args, is_sub, spec);
    if !spec.arity_ok(args.len()) {
        return Err(Error::Dyn(format!("ERR wrong number of arguments for '{}' command", full)));
    }
    Ok(match u.check(spec, id, is_sub, args) {
        Ok(()) => OK,
        Err(Denied::Command) => Reply::bulk(format!("This user has no permissions to run the '{}' command", full)),
        Err(Denied::Key(i)) => Reply::bulk(format!("This user has no permissions to access the '{}' key", String::from_utf8_lossy(&args[i]))),
        Err(Denied::Channel(i)) => Reply::bulk(format!("This user has no permissions to access the '{}' channel", String::from_utf8_lossy(&args[i]))),
    })
}

/// lookupCommand on an argument vector: the subcommand when the command is a container.
pub fn resolve(args: &[Bytes]) -> Option<(&'static CommandSpec, usize, bool)> {
    let (spec, id) = crate::command::table::table().lookup_with_id(&args[0])?;
    if spec.subcommands.is_empty() || args.len() < 2 {
        return Some((spec, id as usize, false));
    }
    let pos = spec.subcommands.iter().position(|s| s.name.as_bytes().eq_ignore_ascii_case(&args[1]))?;
    Some((&spec.subcommands[pos], id as usize + 1 + pos, true))
}

fn full_name(args: &[Bytes], is_sub: bool, spec: &CommandSpec) -> String {
    if is_sub {
        format!("{}|{}", String::from_utf8_lossy(&args[0]).to_ascii_lowercase(), spec.name)
    } else {
        spec.name.to_string()
    }
}

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply(
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    ))
}

/// addACLLogEntry for a refusal of the running client's command (or of an AUTH: `username`
/// is then the name it tried).
pub fn log_denial(ctx: &mut Ctx, reason: Reason, context: LogContext, object: Bytes, username: Option<Bytes>) {
    let now = ctx.now_ms();
    let info = ctx.client.info_line(now, 0);
    let entry =
        LogEntry { count: 1, reason, context, object, username: username.unwrap_or_else(|| ctx.client.auth.user.clone()), ctime_ms: now, client_info: info };
    let max = ctx.srv.config.get_i64(crate::param!("acllog-max-len")).max(0) as usize;
    ctx.srv.acl.log(entry, max);
}
