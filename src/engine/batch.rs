//! The batch loop: a client's pipelined commands, one after another, with what follows each
//! command (replies in the client's dialect, blocked clients served, invalidations and
//! expired keys announced).

use super::blocked::{resume_paused, serve_ready};
use super::*;
use crate::blocking::BlockType;
use crate::client::ReplyMode;
use crate::command::dispatch::*;
use crate::error::Error;

pub fn execute(engine: &mut Engine, id: ClientId, argv: &[Bytes], now_us: i64) -> Outcome {
    let mut reply = None;
    let mut one = Some(argv);
    let close = execute_batch(engine, id, || one.take(), now_us, |r, _| reply = Some(r));
    // A blocked client gets its reply later (`take_replies`); say so rather than nothing.
    if reply.is_none() && engine.is_blocked(id) {
        reply = Some(Reply::Blocked);
    }
    Outcome { reply, close }
}

/// Runs a pipelined batch for one client, handing each reply to `emit` with whether the
/// client speaks RESP3 at that point (HELLO can switch mid-batch). The session is taken out
/// of the client table once per batch, not once per command. Stops after a command that
/// closes the connection (QUIT, CLIENT KILL of itself); returns whether it did.
/// Commands are pulled from `next` one at a time, and none after one that blocks the
/// client: what the caller has not handed over is what waits behind the blocked one.
pub fn execute_batch<A: AsRef<[Bytes]>>(
    engine: &mut Engine,
    id: ClientId,
    mut next: impl FnMut() -> Option<A>,
    now_us: i64,
    mut emit: impl FnMut(Reply, bool),
) -> bool {
    engine.srv.clock.now_us = now_us;
    engine.srv.clock.sleep_debt_us = 0;
    if let Some(clock) = engine.srv.host.calls.clock {
        engine.srv.clock.mark = clock();
    }
    let Some(mut client) = engine.clients.remove(&id) else {
        emit(Reply::Error("ERR unknown client".into()), false);
        return true;
    };
    // A panic outside any handler (handlers' own are contained in `call`) leaves the batch's
    // bookkeeping half done: the client goes back into the table whatever happened, gets an
    // error, and its connection closes, so the host's disconnect frees its waits, WATCHes and
    // subscriptions. The engine keeps serving everyone else.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_batch(engine, &mut client, &mut next, now_us, &mut emit)));
    let close = match ran {
        Ok(close) => close,
        Err(payload) => {
            client.conn.close_asap = true;
            emit(Reply::Error(Error::Internal { cmd: "batch".into(), why: crate::panic::message(&*payload) }.to_string()), client.conn.resp == 3);
            true
        }
    };
    engine.clients.insert(id, client);
    close
}

/// `execute_batch`'s work with the client out of the table.
pub(super) fn run_batch<A: AsRef<[Bytes]>>(
    engine: &mut Engine,
    client: &mut Box<Client>,
    next: &mut impl FnMut() -> Option<A>,
    now_us: i64,
    emit: &mut impl FnMut(Reply, bool),
) -> bool {
    let id = client.id;
    client.conn.last_interaction_ms = now_us / 1000;
    let mut close = false;
    while let Some(argv) = next() {
        let argv = argv.as_ref();
        engine.srv.clock.settle_sleep();
        let reply = {
            let mut ctx = Ctx { srv: &mut engine.srv, client, others: &mut engine.clients };
            if ctx.srv.clients.tracking.clients > 0 {
                crate::command::tracking::limit_used_slots(&mut ctx);
            }
            call_client(&mut ctx, argv)
        };
        #[cfg(debug_assertions)]
        crate::panic::test_point();
        if engine.srv.clients.blocking.has_ready() {
            serve_ready(engine);
        }
        // Messages this client published to itself (RESP3) go out before the reply, as in
        // Redis, where they are queued during the command.
        if !client.output.outbox.is_empty() && !matches!(reply, Reply::Blocked) {
            let resp3 = client.conn.resp == 3;
            for r in client.output.outbox.drain(..) {
                emit(r, resp3);
            }
            client.output.outbox_bytes = 0;
            client.output.over_soft_since = None;
        }
        if !engine.srv.clients.paused.is_empty() && engine.srv.clients.pause.is_none() {
            resume_paused(engine);
        }
        if matches!(reply, Reply::Blocked) {
            // Nothing more runs for this client until its wait ends.
            let b = client.wait.blocked.as_ref().expect("a blocking reply blocks the client");
            if b.btype == BlockType::Pause {
                engine.srv.clients.paused.push(id);
            } else if b.btype == BlockType::Host {
                // The host answers after acting on the event.
            } else {
                engine.srv.clients.blocking.add(id, b);
            }
            if engine.srv.clients.tracking.has_pending() {
                flush_pending_invalidations(engine, client);
            }
            break;
        }
        // CLIENT REPLY: OFF swallows everything; SKIP swallows the next command's reply only.
        // Pub/sub confirmations are pushes, which Redis sends even then (CLIENT_PUSHING).
        let pushing = matches!(reply, Reply::Push(_) | Reply::Multi(_));
        match client.conn.reply_mode {
            ReplyMode::On => emit(reply, client.conn.resp == 3),
            _ if pushing => emit(reply, client.conn.resp == 3),
            ReplyMode::Off => {}
            ReplyMode::Skip => client.conn.reply_mode = ReplyMode::SkipNext,
            ReplyMode::SkipNext => client.conn.reply_mode = ReplyMode::On,
        }
        // Invalidations of keys this client tracks and just wrote follow its reply.
        if engine.srv.clients.tracking.has_pending() {
            flush_pending_invalidations(engine, client);
            let resp3 = client.conn.resp == 3;
            for r in client.output.outbox.drain(..) {
                emit(r, resp3);
            }
            client.output.outbox_bytes = 0;
        }
        // CLIENT CACHING applies to the next command (or transaction) only.
        if client.tracking.as_ref().is_some_and(|t| t.caching) && client.tx.multi.is_none() && !argv[0].eq_ignore_ascii_case(b"client") {
            client.tracking.as_mut().expect("checked").caching = false;
        }
        if client.conn.close_asap {
            close = true;
            break;
        }
    }
    if engine.srv.prop.on {
        crate::server::propagate::flush_expired(&mut engine.srv);
    }
    // A pass that ran out of time goes on between batches (Redis's eviction timer).
    if engine.srv.memory.evict.running {
        engine.evict_now();
    }
    // Client eviction after each batch, this client included (it may be the one to go).
    if engine.srv.config.hot.client_limit > 0 && engine.evict_clients(Some(client)) {
        client.conn.close_asap = true;
        close = true;
    }
    // Expiries no lookup announced (EXISTS-style probes) in the client's database: once per
    // batch; lookups announce their own, and `tick` sweeps every database (MOVE, COPY ... DB).
    if !engine.srv.dbs[client.db].expired_log.is_empty() {
        touch_expired(engine, client);
    }
    if engine.srv.clients.tracking.has_pending() {
        flush_pending_invalidations(engine, client);
    }
    // BCAST invalidations go out once per batch, as Redis sends them once per event loop.
    if engine.srv.clients.tracking.clients > 0 {
        broadcast_invalidations(engine, client);
    }
    // What those queued for this client goes out now (or with its wake-up, if it waits).
    if !client.output.outbox.is_empty() {
        if client.wait.blocked.is_some() {
            engine.srv.events.push(Event::Deliver(id));
        } else {
            let resp3 = client.conn.resp == 3;
            for r in client.output.outbox.drain(..) {
                emit(r, resp3);
            }
            client.output.outbox_bytes = 0;
        }
    }
    close
}

/// Sends the invalidations that wait for `current`'s reply into the outboxes.
pub(super) fn flush_pending_invalidations(engine: &mut Engine, current: &mut Client) {
    let mut ctx = Ctx { srv: &mut engine.srv, client: current, others: &mut engine.clients };
    crate::command::tracking::flush_pending(&mut ctx);
}

/// Keeps the tracking table within tracking-table-max-keys (from `tick`).
pub fn limit_tracking_table(engine: &mut Engine, current: &mut Client) {
    let mut ctx = Ctx { srv: &mut engine.srv, client: current, others: &mut engine.clients };
    crate::command::tracking::limit_used_slots(&mut ctx);
}

/// Broadcasts the keys written under BCAST prefixes since the last time (`current` is the
/// client whose batch just ran, or a placeholder in `tick`).
pub fn broadcast_invalidations(engine: &mut Engine, current: &mut Client) {
    let mut ctx = Ctx { srv: &mut engine.srv, client: current, others: &mut engine.clients };
    crate::command::tracking::broadcast(&mut ctx);
}

/// Keys that expired (lazily or in the active cycle) count in INFO's expired_keys, fail their
/// watchers' transactions and raise `expired` notifications, as Redis does when it deletes a
/// key on expiry.
pub fn touch_expired(engine: &mut Engine, current: &mut Client) {
    for db in 0..engine.srv.dbs.len() {
        if engine.srv.dbs[db].expired_log.is_empty() {
            continue;
        }
        for key in std::mem::take(&mut engine.srv.dbs[db].expired_log) {
            engine.srv.stats.expired_keys += 1;
            let mut ctx = Ctx { srv: &mut engine.srv, client: &mut *current, others: &mut engine.clients };
            ctx.touch_watched(db, &key);
            if ctx.srv.clients.tracking.is_active() {
                ctx.invalidate(&key);
            }
            ctx.notify(db, &key, "expired");
        }
    }
}
