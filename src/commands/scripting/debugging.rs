//! EVAL under SCRIPT DEBUG (eval.c's evalGenericCommandWithDebugging, ldbStartSession and
//! ldbEndSession): the session starts before the script and ends after it, whatever
//! happened. SYNC runs it here and now, blocking the server; YES asks the host to fork and
//! runs it in the child, whose changes die with it, while the parent drops the client.
//! Either way the client is closed once the EVAL's reply is out: that is how redis-cli
//! knows the session is over.

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::reply::Reply;
use crate::script::ldb::{DebugMode, Forked, Session};

pub fn eval(ctx: &mut Ctx, argv: &[Bytes], ro: bool, mode: DebugMode) -> Result<Reply> {
    let Some(mut channel) = ctx.srv.scripting.host.debugger.take() else {
        ctx.client.conn.lua_debug = None;
        return Err(Error::Msg("ERR this host has no connection to lend the Lua debugger: SCRIPT DEBUG YES and SYNC need the native server"));
    };
    let client = ctx.client.id;
    let forked = mode == DebugMode::Fork;
    if forked {
        let outcome = channel.fork(client);
        if outcome != Ok(Forked::Child) {
            ctx.srv.scripting.host.debugger = Some(channel);
            ctx.client.conn.lua_debug = None;
            return match outcome {
                Err(why) => Err(Error::Dyn(format!("ERR Fork() failed: can't run EVAL in debugging mode: {}", why))),
                // The child has the client now; the parent lets the connection go unanswered.
                _ => {
                    ctx.client.conn.close_asap = true;
                    Ok(Reply::Multi(Vec::new()))
                }
            };
        }
    } else {
        log(ctx, "Redis synchronous debugging eval session started");
    }
    let mut session = Session::new(client, channel, forked, &argv[1]);
    session.clock = ctx.srv.host.calls.clock;
    let threshold = ctx.srv.config.get_i64(crate::param!("busy-reply-threshold"));
    session.timeout_ms = if threshold > 0 { threshold } else { 5000 };
    session.resume();
    let result = super::eval::eval_generic(ctx, argv, false, ro, Some(&mut session));
    session.log("<endsession>");
    session.send_logs();
    if forked {
        let reply = match &result {
            Ok(r) => r.clone(),
            Err(e) => Reply::Error(e.to_string()),
        };
        let wire = crate::resp::writer::encode(&reply, ctx.client.conn.resp == 3);
        session.channel.exit_child(client, &wire);
    } else {
        log(ctx, "Redis synchronous debugging eval session ended");
    }
    ctx.srv.scripting.host.debugger = Some(session.channel);
    ctx.client.conn.lua_debug = None;
    ctx.client.conn.close_asap = true;
    result
}

fn log(ctx: &mut Ctx, message: &str) {
    ctx.srv.events.push(Event::Log { level: 3, message: message.to_string() });
}
