//! MONITOR: every command the server runs, as Redis prints it, streamed to monitoring
//! clients (`+<secs>.<usecs> [<db> <addr>] "cmd" "arg" ...`). Administrative commands are
//! not shown. Redis: replication.c replicationFeedMonitors.

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::error::Result;
use crate::event::Event;
use crate::reply::{Reply, OK};

/// MONITOR — OK, then a line per command run by anyone else.
pub fn monitor(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    if !ctx.client.role.monitor {
        ctx.client.role.monitor = true;
        ctx.srv.clients.monitors.push(ctx.client.id);
    }
    Ok(OK)
}

/// Feeds one executed command to the monitors (not to the client that ran it).
pub fn feed(ctx: &mut Ctx, argv: &[Bytes]) {
    let us = ctx.srv.clock.now_us;
    let mut line = format!("{}.{:06} [{} {}]", us / 1_000_000, us % 1_000_000, ctx.client.db, ctx.client.info.addr);
    for a in argv {
        line.push(' ');
        crate::util::repr(&mut line, a);
    }
    for id in ctx.srv.clients.monitors.clone() {
        if id == ctx.client.id {
            continue;
        }
        if let Some(c) = ctx.others.get_mut(&id) {
            c.output.outbox.push(Reply::Status(line.clone()));
            ctx.srv.events.push(Event::Deliver(id));
        }
    }
}
