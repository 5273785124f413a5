//! Connection commands: session state that lives in the core (db, protocol, name, auth,
//! reply mode). Redis: networking.c (clientCommand, helloCommand, resetCommand),
//! server.c (pingCommand, echoCommand), acl.c (authCommand), db.c (selectCommand).

use bytes::Bytes;

use crate::command::spec::{acl::CONNECTION, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::reply::{Reply, OK};

mod client;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tracking_tests;

const G: &str = "connection";

pub static SPECS: &[CommandSpec] =
    &[
        CommandSpec::new("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, G, auth)
            .acl(CONNECTION)
            .doc("1.0.0", "Authenticate to the server", "O(N) where N is the number of passwords defined for the user")
            .args("[username] password"),
        CommandSpec::container("client", G, client::SUBCOMMANDS).doc("2.4.0", "A container for client connection commands", "Depends on subcommand."),
        CommandSpec::new("echo", 2, LOADING | STALE | FAST, G, echo).acl(CONNECTION).doc("1.0.0", "Echo the given string", "O(1)").args("message"),
        CommandSpec::new("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, G, hello)
            .acl(CONNECTION)
            .doc("6.0.0", "Handshake with Redis", "O(1)")
            .args("arguments=[protover@integer [AUTH username_password=(username password)] [SETNAME clientname]]"),
        CommandSpec::new("ping", -1, FAST | SENTINEL | SUBSCRIBED_OK, G, ping)
            .tips("request_policy:all_shards response_policy:all_succeeded")
            .acl(CONNECTION)
            .doc("1.0.0", "Ping the server", "O(1)")
            .args("[message]"),
        CommandSpec::new("quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | TX_CONTROL | TX_END | SUBSCRIBED_OK, G, quit)
            .acl(CONNECTION)
            .doc("1.0.0", "Close the connection", "O(1)"),
        CommandSpec::new("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | TX_CONTROL | TX_END | SUBSCRIBED_OK, G, reset)
            .acl(CONNECTION)
            .doc("6.2.0", "Reset the connection", "O(1)"),
        CommandSpec::new("select", 2, LOADING | STALE | FAST, G, select)
            .acl(CONNECTION)
            .doc("1.0.0", "Change the selected database for the current connection", "O(1)")
            .args("index"),
    ];

/// PING [message]
fn ping(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    // A RESP2 subscriber gets PING's answer in the shape of a message.
    if ctx.client.conn.resp == 2 && ctx.client.in_pubsub() && argv.len() <= 2 {
        let payload = argv.get(1).cloned().unwrap_or_default();
        return Ok(Reply::Array(vec![Reply::bulk_str("pong"), Reply::Bulk(payload)]));
    }
    match argv.len() {
        1 => Ok(Reply::Simple("PONG")),
        2 => Ok(Reply::Bulk(argv[1].clone())),
        _ => Err(Error::WrongArity("ping".into())),
    }
}

/// ECHO message
fn echo(_ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Bulk(argv[1].clone()))
}

/// QUIT — OK, then the host closes the connection.
/// freeClient's bookkeeping: the client's waits, WATCHes, subscriptions, tracking, MONITOR
/// and replica link end with it (`Engine::disconnect`, and a connection that goes while a
/// script keeps the engine busy).
pub fn forget(srv: &mut crate::server::Server, clients: &mut crate::client::ClientTable, id: crate::client::ClientId) {
    let Some(mut c) = clients.remove(&id) else { return };
    if let Some(b) = c.wait.blocked.take() {
        // A command held by CLIENT PAUSE sits in `paused`, not in the key queues; one
        // waiting for the host (CONFIG REWRITE) in no queue at all.
        if b.btype != crate::blocking::BlockType::Pause && b.btype != crate::blocking::BlockType::Host {
            srv.clients.blocking.remove(id, &b);
        }
    }
    crate::commands::transaction::unwatch_all(srv, &mut c);
    crate::commands::pubsub::unsubscribe_all(srv, &mut c);
    crate::tracking::disable(&mut srv.clients.tracking, &mut c);
    srv.clients.monitors.retain(|&m| m != id);
    srv.clients.paused.retain(|&m| m != id);
    crate::replication::detach(srv, &c);
}

fn quit(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    ctx.client.conn.close_asap = true;
    Ok(OK)
}

/// RESET — back to a fresh connection's state: db 0, RESP2, no name, replies on, and
/// unauthenticated again if a password is required.
fn reset(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let authenticated = !requires_pass(ctx);
    crate::commands::transaction::discard_transaction(ctx.srv, ctx.client);
    crate::commands::pubsub::unsubscribe_all(ctx.srv, ctx.client);
    crate::tracking::disable(&mut ctx.srv.clients.tracking, ctx.client);
    if ctx.client.role.monitor {
        ctx.client.role.monitor = false;
        let id = ctx.client.id;
        ctx.srv.clients.monitors.retain(|&m| m != id);
    }
    let c = &mut *ctx.client;
    c.db = 0;
    c.conn.resp = 2;
    c.conn.name = None;
    c.conn.reply_mode = crate::client::ReplyMode::On;
    c.conn.no_evict = false;
    c.conn.no_touch = false;
    c.auth.authenticated = authenticated;
    c.auth.ever_authenticated |= authenticated;
    c.auth.user = Bytes::from_static(b"default");
    c.auth.acl_unrestricted_at = 0;
    Ok(Reply::Simple("RESET"))
}

/// SELECT index
fn select(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let id = crate::command::args::int(&argv[1])?;
    if id < 0 || id > i32::MAX as i64 || id as usize >= ctx.srv.dbs.len() {
        if id < i32::MIN as i64 || id > i32::MAX as i64 {
            return Err(Error::NotInteger);
        }
        return Err(Error::DbIndexOutOfRange);
    }
    ctx.client.db = id as usize;
    Ok(OK)
}

/// authRequired: the default user has a password or is disabled.
fn requires_pass(ctx: &Ctx) -> bool {
    !ctx.srv.acl.default_user().needs_no_auth()
}

/// ACLAuthenticateUser: on success the connection runs as the user; a failure is logged in
/// ACL LOG (reason `auth`, the command as typed, the name tried).
fn authenticate(ctx: &mut Ctx, cmd: &Bytes, user: &[u8], pass: &[u8]) -> Result<()> {
    if ctx.srv.acl.user(user).is_some_and(|u| u.accepts(pass)) {
        ctx.client.auth.authenticated = true;
        ctx.client.auth.ever_authenticated = true;
        ctx.client.auth.user = Bytes::copy_from_slice(user);
        ctx.client.auth.acl_unrestricted_at = 0;
        return Ok(());
    }
    let context = if ctx.client.tx.multi.is_some() { crate::acl::LogContext::Multi } else { crate::acl::LogContext::Toplevel };
    crate::commands::server::acl::log_denial(ctx, crate::acl::Reason::Auth, context, cmd.clone(), Some(Bytes::copy_from_slice(user)));
    Err(Error::WrongPass)
}

/// AUTH [username] password
fn auth(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::Syntax);
    }
    let (user, pass): (&[u8], &[u8]) = if argv.len() == 2 {
        if ctx.srv.acl.default_user().nopass {
            return Err(Error::AuthNotSet);
        }
        (b"default", &argv[1])
    } else {
        (&argv[1], &argv[2])
    };
    authenticate(ctx, &argv[0], user, pass)?;
    Ok(OK)
}

/// Redis's validateClientName: printable ASCII without spaces.
pub(crate) fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
/// A map describing the server; switches the connection's protocol.
fn hello(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut ver = 0;
    let mut j = 1;
    if argv.len() >= 2 {
        ver = crate::util::parse_i64(&argv[1]).ok_or(Error::Msg("ERR Protocol version is not an integer or out of range"))?;
        j = 2;
        if !(2..=3).contains(&ver) {
            return Err(Error::Msg("NOPROTO unsupported protocol version"));
        }
    }
    let (mut creds, mut name) = (None, None);
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j];
        if opt.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            creds = Some((&argv[j + 1], &argv[j + 2]));
            j += 2;
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            if !valid_name(&argv[j + 1]) {
                return Err(Error::Msg("ERR Client names cannot contain spaces, newlines or special characters."));
            }
            name = Some(&argv[j + 1]);
            j += 1;
        } else {
            return Err(Error::Dyn(format!("ERR Syntax error in HELLO option '{}'", crate::error::clip(opt))));
        }
        j += 1;
    }
    if let Some((u, p)) = creds {
        authenticate(ctx, &argv[0], u, p)?;
    }
    if !ctx.client.auth.authenticated {
        return Err(Error::Msg("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = name {
        ctx.client.conn.name = if n.is_empty() { None } else { Some(n.clone()) };
    }
    if ver != 0 {
        ctx.client.conn.resp = ver as u8;
    }
    let s = Reply::bulk_str;
    Ok(Reply::Map(vec![
        (s("server"), s("redis")),
        (s("version"), s(crate::REDIS_VERSION)),
        (s("proto"), Reply::Int(ctx.client.conn.resp as i64)),
        (s("id"), Reply::Int(ctx.client.id as i64)),
        (s("mode"), s("standalone")),
        (s("role"), s("master")),
        (s("modules"), Reply::Array(vec![])),
    ]))
}

/// `CMD <subcommand> [<arg> [value] [opt] ...]. Subcommands are:` + lines + HELP (addReplyHelp).
pub(crate) fn help_reply(cmd: &str, lines: &[&'static str]) -> Reply {
    let mut v = vec![Reply::Status(format!("{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmd))];
    v.extend(lines.iter().map(|l| Reply::Simple(l)));
    v.push(Reply::Simple("HELP"));
    v.push(Reply::Simple("    Prints this help."));
    Reply::Array(v)
}
