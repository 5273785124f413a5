//! CLIENT subcommands. Sessions live in the core, so CLIENT LIST and KILL see every host's
//! clients the same way; killing another client is an event the host acts on.
//! Redis: networking.c clientCommand.

use bytes::Bytes;

use super::{help_reply, valid_name};
use crate::client::{Client, ReplyMode};
use crate::command::spec::{acl::CONNECTION, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::reply::{Reply, OK};
use crate::tracking;

const G: &str = "connection";
const S: u32 = NOSCRIPT | LOADING | STALE;

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("caching", 3, S, G, caching).acl(CONNECTION).doc("6.0.0", "Instruct the server about tracking or not keys in the next request", "O(1)").args("mode=(YES|NO)"),
    CommandSpec::new("getredir", 2, S, G, getredir).acl(CONNECTION).doc("6.0.0", "Get tracking notifications redirection client ID if any", "O(1)"),
    CommandSpec::new("getname", 2, S, G, getname).acl(CONNECTION).doc("2.6.9", "Get the current connection name", "O(1)"),
    CommandSpec::new("help", 2, LOADING | STALE, G, help).acl(CONNECTION).doc("5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("id", 2, S, G, id).acl(CONNECTION).doc("5.0.0", "Returns the client ID for the current connection", "O(1)"),
    CommandSpec::new("info", 2, S, G, info).tips("nondeterministic_output").acl(CONNECTION).doc("6.2.0", "Returns information about the current client connection.", "O(1)"),
    CommandSpec::new("kill", -3, ADMIN | S, G, kill).acl(CONNECTION).doc("2.4.0", "Kill the connection of a client", "O(N) where N is the number of client connections").args("filter=(ip:port|new-format=([ID client-id@integer]|[TYPE normal_master_slave_pubsub=(NORMAL|MASTER|SLAVE|REPLICA|PUBSUB)]|[USER username]|[ADDR ip:port]|[LADDR ip:port]|[SKIPME yes/no]) ...)"),
    CommandSpec::new("list", -2, ADMIN | S, G, list).tips("nondeterministic_output").acl(CONNECTION).doc("2.4.0", "Get the list of client connections", "O(N) where N is the number of client connections").args("[TYPE normal_master_replica_pubsub=(NORMAL|MASTER|REPLICA|PUBSUB)] [ID id=(client-id@integer ...)]"),
    CommandSpec::new("no-evict", 3, ADMIN | S, G, no_evict).acl(CONNECTION).doc("7.0.0", "Set client eviction mode for the current connection", "O(1)").args("enabled=(ON|OFF)"),
    CommandSpec::new("no-touch", 3, S, G, no_touch).acl(CONNECTION).doc("7.2.0", "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", "O(1)").args("enabled=(ON|OFF)"),
    CommandSpec::new("pause", -3, ADMIN | S, G, pause).acl(CONNECTION).doc("2.9.50", "Stop processing commands from clients for some time", "O(1)").args("timeout mode=[WRITE|ALL]"),
    CommandSpec::new("reply", 3, S, G, reply).acl(CONNECTION).doc("3.2.0", "Instruct the server whether to reply to commands", "O(1)").args("on_off_skip=(ON|OFF|SKIP)"),
    CommandSpec::new("setinfo", 4, S, G, setinfo).acl(CONNECTION).doc("7.2.0", "Sets information specific to the client or connection.", "O(1)").args("attr=(LIB-NAME libname|LIB-VER libver)"),
    CommandSpec::new("unpause", 2, ADMIN | S, G, unpause).acl(CONNECTION).doc("6.2.0", "Resume processing of clients that were paused", "O(N) Where N is the number of paused clients"),
    CommandSpec::new("unblock", -3, ADMIN | S, G, unblock).acl(CONNECTION).doc("5.0.0", "Unblock a client blocked in a blocking command from a different connection", "O(log N) where N is the number of client connections").args("client-id@integer timeout_error=[TIMEOUT|ERROR]"),
    CommandSpec::new("tracking", -3, S, G, tracking).acl(CONNECTION).doc("6.0.0", "Enable or disable server assisted client side caching support", "O(1). Some options may introduce additional complexity.").args("status=(ON|OFF) [REDIRECT client-id@integer] [PREFIX prefix +...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]"),
    CommandSpec::new("trackinginfo", 2, S, G, trackinginfo).acl(CONNECTION).doc("6.2.0", "Return information about server assisted client side caching for the current connection", "O(1)"),
    CommandSpec::new("setname", 3, S, G, setname).acl(CONNECTION).doc("2.6.9", "Set the current connection name", "O(1)").args("connection-name"),
];

const HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
];

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("CLIENT", HELP))
}

/// CLIENT PAUSE timeout [WRITE|ALL] — hold back every command (ALL, the default) or those
/// that write, from every client, for `timeout` milliseconds or until CLIENT UNPAUSE. A new
/// pause extends the current one and never narrows it.
fn pause(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 4 {
        return Err(Error::subcommand_syntax(&argv[1], "CLIENT"));
    }
    let all = match argv.get(3) {
        None => true,
        Some(a) if a.eq_ignore_ascii_case(b"all") => true,
        Some(a) if a.eq_ignore_ascii_case(b"write") => false,
        Some(_) => return Err(Error::Msg("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms = crate::util::parse_i64(&argv[2]).ok_or(Error::Msg("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(Error::Msg("ERR timeout is negative"));
    }
    let end = ctx.now_ms().saturating_add(ms);
    let pause = match ctx.srv.clients.pause {
        Some((e, a)) => (e.max(end), a || all),
        None => (end, all),
    };
    ctx.srv.set_pause(Some(pause));
    Ok(OK)
}

/// CLIENT UNPAUSE — the held-back commands run, in arrival order.
fn unpause(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    ctx.srv.set_pause(None);
    Ok(OK)
}

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR] — 1 if that client was blocked and now is not:
/// it gets its timeout reply, or an UNBLOCKED error.
fn unblock(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 4 {
        return Err(Error::subcommand_syntax(&argv[1], "CLIENT"));
    }
    let id = crate::command::args::int(&argv[2])?;
    let as_error = match argv.get(3) {
        None => false,
        Some(a) if a.eq_ignore_ascii_case(b"timeout") => false,
        Some(a) if a.eq_ignore_ascii_case(b"error") => true,
        Some(_) => return Err(Error::Msg("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    let Some(target) = ctx.others.get_mut(&(id as u64)) else { return Ok(Reply::Int(0)) };
    // A command held back by CLIENT PAUSE waits for the pause, not for CLIENT UNBLOCK.
    if target.wait.blocked.as_ref().is_none_or(|b| b.btype == crate::blocking::BlockType::Pause || b.btype == crate::blocking::BlockType::Host) {
        return Ok(Reply::Int(0));
    }
    let Some(b) = target.wait.blocked.take() else { return Ok(Reply::Int(0)) };
    let reply = if as_error {
        Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    } else if b.btype == crate::blocking::BlockType::Wait {
        crate::replication::wait_ended(ctx.srv, id as u64)
    } else {
        b.timeout_reply.clone()
    };
    if b.btype == crate::blocking::BlockType::Wait && as_error {
        ctx.srv.repl.waiting.retain(|w| w.0 != id as u64);
    }
    crate::command::dispatch::count_unblocked(ctx, &b.argv, &reply);
    let target = ctx.others.get_mut(&(id as u64)).expect("looked up");
    target.output.outbox.push(reply);
    ctx.srv.clients.blocking.remove(id as u64, &b);
    ctx.event(crate::event::Event::Unblocked(id as u64));
    Ok(Reply::Int(1))
}

/// CLIENT ID
fn id(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.client.id as i64))
}

/// CLIENT GETNAME — nil when unnamed.
fn getname(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::opt_bulk(ctx.client.conn.name.clone()))
}

/// CLIENT SETNAME name — an empty name clears it.
fn setname(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if !valid_name(&argv[2]) {
        return Err(Error::Msg("ERR Client names cannot contain spaces, newlines or special characters."));
    }
    ctx.client.conn.name = if argv[2].is_empty() { None } else { Some(argv[2].clone()) };
    Ok(OK)
}

/// CLIENT SETINFO <LIB-NAME libname | LIB-VER libver> (Redis 7.2)
fn setinfo(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (attr, val) = (&argv[2], &argv[3]);
    let which = if attr.eq_ignore_ascii_case(b"lib-name") {
        "lib-name"
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        "lib-ver"
    } else {
        return Err(Error::Dyn(format!("ERR Unrecognized option '{}'", crate::error::clip(attr))));
    };
    if !valid_name(val) {
        return Err(Error::Dyn(format!("ERR {} cannot contain spaces, newlines or special characters.", which)));
    }
    let v = if val.is_empty() { None } else { Some(val.clone()) };
    if which == "lib-name" {
        ctx.client.conn.lib_name = v;
    } else {
        ctx.client.conn.lib_ver = v;
    }
    Ok(OK)
}

/// CLIENT INFO — this connection's CLIENT LIST line.
fn info(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let line = ctx.client.info_line(ctx.srv.now_ms(), multibulk_len(argv)) + "\n";
    Ok(Reply::Verbatim("txt", Bytes::from(line)))
}

/// The size of argv as a RESP multibulk: what Redis's query buffer holds while it runs.
fn multibulk_len(argv: &[Bytes]) -> usize {
    let digits = |n: usize| n.to_string().len();
    3 + digits(argv.len()) + argv.iter().map(|a| 5 + digits(a.len()) + a.len()).sum::<usize>()
}

/// One line per client, with the caller's own query buffer filled in.
fn lines<'a>(ctx: &'a Ctx, argv: &[Bytes], clients: impl Iterator<Item = &'a Client>) -> String {
    let now = ctx.srv.now_ms();
    let mut out = String::new();
    for c in clients {
        let qbuf = if c.id == ctx.client.id { multibulk_len(argv) } else { 0 };
        out += &c.info_line(now, qbuf);
        out.push('\n');
    }
    out
}

/// All clients, ordered by id as Redis's client list is by connection order.
fn all_clients<'a>(ctx: &'a Ctx) -> Vec<&'a Client> {
    let mut v: Vec<&Client> = ctx.others.values().map(|c| &**c).collect();
    v.push(&*ctx.client);
    v.sort_by_key(|c| c.id);
    v
}

/// Redis's getClientTypeByName.
fn client_type(name: &[u8]) -> Result<&'static str> {
    let n = String::from_utf8_lossy(name).to_ascii_lowercase();
    match n.as_str() {
        "normal" => Ok("normal"),
        "slave" | "replica" => Ok("replica"),
        "pubsub" => Ok("pubsub"),
        "master" => Ok("master"),
        _ => Err(Error::Dyn(format!("ERR Unknown client type '{}'", crate::error::clip(name)))),
    }
}

/// Redis's getClientType: a replica is `replica`, a connection in subscribed mode `pubsub`,
/// any other `normal`.
fn type_of(c: &Client) -> &'static str {
    if c.role.master {
        "master"
    } else if c.role.replica {
        "replica"
    } else if c.in_pubsub() {
        "pubsub"
    } else {
        "normal"
    }
}

/// CLIENT LIST [TYPE type] [ID id [id ...]]
fn list(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let out = if argv.len() == 4 && argv[2].eq_ignore_ascii_case(b"type") {
        let ty = client_type(&argv[3])?;
        lines(ctx, argv, all_clients(ctx).into_iter().filter(|c| type_of(c) == ty))
    } else if argv.len() > 3 && argv[2].eq_ignore_ascii_case(b"id") {
        let mut ids = vec![];
        for a in &argv[3..] {
            ids.push(crate::util::parse_i64(a).ok_or(Error::Msg("ERR Invalid client ID"))?);
        }
        let all = all_clients(ctx);
        lines(ctx, argv, ids.iter().filter_map(|id| all.iter().find(|c| c.id as i64 == *id).copied()))
    } else if argv.len() != 2 {
        return Err(Error::Syntax);
    } else {
        lines(ctx, argv, all_clients(ctx).into_iter())
    };
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE type] [ADDR addr] [LADDR laddr] [USER user] [SKIPME yes|no]
fn kill(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (mut addr, mut laddr, mut ty, mut id, mut skipme) = (None, None, None, 0u64, true);
    let mut user: Option<&Bytes> = None;
    if argv.len() == 3 {
        addr = Some(&argv[2]);
        skipme = false;
    } else {
        let mut i = 2;
        while i < argv.len() {
            let more = argv.len() > i + 1;
            let o = &argv[i];
            if !more {
                return Err(Error::Syntax);
            }
            let v = &argv[i + 1];
            if o.eq_ignore_ascii_case(b"id") {
                id = match crate::util::parse_i64(v) {
                    Some(n) if n >= 1 => n as u64,
                    _ => return Err(Error::Msg("ERR client-id should be greater than 0")),
                };
            } else if o.eq_ignore_ascii_case(b"type") {
                ty = Some(client_type(v)?);
            } else if o.eq_ignore_ascii_case(b"addr") {
                addr = Some(v);
            } else if o.eq_ignore_ascii_case(b"laddr") {
                laddr = Some(v);
            } else if o.eq_ignore_ascii_case(b"user") {
                if ctx.srv.acl.user(v).is_none() {
                    return Err(Error::Dyn(format!("ERR No such user '{}'", crate::error::clip(v))));
                }
                user = Some(v);
            } else if o.eq_ignore_ascii_case(b"skipme") {
                skipme = if v.eq_ignore_ascii_case(b"yes") {
                    true
                } else if v.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err(Error::Syntax);
                };
            } else {
                return Err(Error::Syntax);
            }
            i += 2;
        }
    }
    let me = ctx.client.id;
    let matches = |c: &Client| {
        addr.is_none_or(|a| c.info.addr.as_bytes() == &a[..])
            && laddr.is_none_or(|a| c.info.laddr.as_bytes() == &a[..])
            && ty.is_none_or(|t| t == type_of(c))
            && user.is_none_or(|u| c.auth.user == u)
            && (id == 0 || c.id == id)
            && !(c.id == me && skipme)
    };
    let victims: Vec<u64> = all_clients(ctx).into_iter().filter(|c| matches(c)).map(|c| c.id).collect();
    for &v in &victims {
        if v == me {
            ctx.client.conn.close_asap = true;
        } else if let Some(c) = ctx.others.get_mut(&v) {
            c.conn.close_asap = true;
            ctx.srv.events.push(Event::CloseClient(v));
        }
    }
    if argv.len() == 3 {
        if victims.is_empty() {
            return Err(Error::Msg("ERR No such client"));
        }
        return Ok(OK);
    }
    Ok(Reply::Int(victims.len() as i64))
}

/// CLIENT REPLY ON|OFF|SKIP — dispatch applies the mode to this and later replies.
fn reply(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let m = &argv[2];
    if m.eq_ignore_ascii_case(b"on") {
        ctx.client.conn.reply_mode = ReplyMode::On;
        Ok(OK)
    } else if m.eq_ignore_ascii_case(b"off") {
        ctx.client.conn.reply_mode = ReplyMode::Off;
        Ok(OK)
    } else if m.eq_ignore_ascii_case(b"skip") {
        if ctx.client.conn.reply_mode != ReplyMode::Off {
            ctx.client.conn.reply_mode = ReplyMode::Skip;
        }
        Ok(OK)
    } else {
        Err(Error::Syntax)
    }
}

fn on_off(v: &[u8]) -> Result<bool> {
    if v.eq_ignore_ascii_case(b"on") {
        Ok(true)
    } else if v.eq_ignore_ascii_case(b"off") {
        Ok(false)
    } else {
        Err(Error::Syntax)
    }
}

/// CLIENT NO-EVICT ON|OFF
fn no_evict(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ctx.client.conn.no_evict = on_off(&argv[2])?;
    Ok(OK)
}

/// CLIENT NO-TOUCH ON|OFF (Redis 7.2): reads by this client leave keys' LRU/LFU untouched.
fn no_touch(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ctx.client.conn.no_touch = on_off(&argv[2])?;
    Ok(OK)
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
/// — client-side caching for this connection (see `tracking.rs`). Options are parsed (and a
/// REDIRECT target checked) even for OFF, as Redis does.
fn tracking(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut o = tracking::Options::default();
    let mut redirect_given = false;
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let a = &argv[j];
        if a.eq_ignore_ascii_case(b"redirect") && more {
            j += 1;
            if redirect_given && o.redirect != 0 {
                return Err(Error::Msg("ERR A client can only redirect to a single other client"));
            }
            let id = crate::command::args::int(&argv[j])?;
            let exists = id > 0 && (id as u64 == ctx.client.id || ctx.others.contains_key(&(id as u64)));
            if !exists {
                return Err(Error::Msg("ERR The client ID you want redirect to does not exist"));
            }
            o.redirect = id as u64;
            redirect_given = true;
        } else if a.eq_ignore_ascii_case(b"bcast") {
            o.bcast = true;
        } else if a.eq_ignore_ascii_case(b"optin") {
            o.optin = true;
        } else if a.eq_ignore_ascii_case(b"optout") {
            o.optout = true;
        } else if a.eq_ignore_ascii_case(b"noloop") {
            o.noloop = true;
        } else if a.eq_ignore_ascii_case(b"prefix") && more {
            j += 1;
            o.prefixes.push(argv[j].clone());
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    if argv[2].eq_ignore_ascii_case(b"on") {
        let current = ctx.client.tracking.as_deref();
        if !o.bcast && !o.prefixes.is_empty() {
            return Err(Error::Msg("ERR PREFIX option requires BCAST mode to be enabled"));
        }
        if current.is_some_and(|t| t.bcast != o.bcast) {
            return Err(Error::Msg(
                "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
            ));
        }
        if o.bcast && (o.optin || o.optout) {
            return Err(Error::Msg("ERR OPTIN and OPTOUT are not compatible with BCAST"));
        }
        if o.optin && o.optout {
            return Err(Error::Msg("ERR You can't specify both OPTIN mode and OPTOUT mode"));
        }
        if current.is_some_and(|t| (o.optin && t.optout) || (o.optout && t.optin)) {
            return Err(Error::Msg(
                "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
            ));
        }
        if o.bcast {
            if let Some(e) = tracking::prefix_collision(current, &o.prefixes) {
                return Err(Error::Dyn(e));
            }
        }
        tracking::enable(&mut ctx.srv.clients.tracking, ctx.client, o);
    } else if argv[2].eq_ignore_ascii_case(b"off") {
        tracking::disable(&mut ctx.srv.clients.tracking, ctx.client);
    } else {
        return Err(Error::Syntax);
    }
    Ok(OK)
}

/// CLIENT CACHING YES|NO — in OPTIN (YES) or OPTOUT (NO) mode, whether the next command's
/// keys are tracked.
fn caching(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let Some(t) = ctx.client.tracking.as_deref_mut() else {
        return Err(Error::Msg("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    };
    let v = &argv[2];
    if v.eq_ignore_ascii_case(b"yes") {
        if !t.optin {
            return Err(Error::Msg("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
        }
    } else if v.eq_ignore_ascii_case(b"no") {
        if !t.optout {
            return Err(Error::Msg("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
        }
    } else {
        return Err(Error::Syntax);
    }
    t.caching = true;
    Ok(OK)
}

/// CLIENT GETREDIR — the redirect client's id, 0 without one, -1 when not tracking.
fn getredir(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.client.tracking.as_ref().map_or(-1, |t| t.redirect as i64)))
}

/// CLIENT TRACKINGINFO — {flags: set, redirect: id, prefixes: [...]}.
fn trackinginfo(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let s = Reply::bulk_str;
    let t = ctx.client.tracking.as_deref();
    let mut flags = vec![s(if t.is_some() { "on" } else { "off" })];
    if let Some(t) = t {
        let mut add = |on: bool, name: &str| {
            if on {
                flags.push(s(name));
            }
        };
        add(t.bcast, "bcast");
        add(t.optin, "optin");
        add(t.optin && t.caching, "caching-yes");
        add(t.optout, "optout");
        add(t.optout && t.caching, "caching-no");
        add(t.noloop, "noloop");
        add(t.broken_redirect, "broken_redirect");
    }
    let prefixes = t.map(|t| t.prefixes.iter().cloned().map(Reply::Bulk).collect()).unwrap_or_default();
    Ok(Reply::Map(vec![
        (s("flags"), Reply::Set(flags)),
        (s("redirect"), Reply::Int(t.map_or(-1, |t| t.redirect as i64))),
        (s("prefixes"), Reply::Array(prefixes)),
    ]))
}
