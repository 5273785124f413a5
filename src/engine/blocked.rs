//! Re-runs of waiting commands: clients blocked on keys that were written, and commands held
//! back by CLIENT PAUSE once it ends.

use super::batch::flush_pending_invalidations;
use super::*;
use crate::blocking::BlockType;
use crate::command::dispatch::*;

/// Once CLIENT PAUSE has ended (UNPAUSE or its timeout), runs the held-back commands in the
/// order they arrived; each client gets its reply and an `Event::Unblocked`.
pub fn resume_paused(engine: &mut Engine) {
    if engine.srv.clients.pause.is_some() || engine.srv.clients.paused.is_empty() {
        return;
    }
    for id in std::mem::take(&mut engine.srv.clients.paused) {
        let Some(mut c) = engine.clients.remove(&id) else { continue };
        let Some(b) = c.wait.blocked.take() else {
            engine.clients.insert(id, c);
            continue;
        };
        let reply = {
            let mut ctx = Ctx { srv: &mut engine.srv, client: &mut c, others: &mut engine.clients };
            call(&mut ctx, &b.argv)
        };
        if matches!(reply, Reply::Blocked) {
            // Paused again, or now waiting on keys: register the new wait.
            let nb = c.wait.blocked.as_ref().expect("blocked");
            if nb.btype == BlockType::Pause {
                engine.srv.clients.paused.push(id);
            } else if nb.btype == BlockType::Host {
                // The host answers after acting on the event.
            } else {
                engine.srv.clients.blocking.add(id, nb);
            }
        } else {
            c.output.outbox.push(reply);
            if engine.srv.clients.tracking.has_pending() {
                flush_pending_invalidations(engine, &mut c);
            }
            engine.srv.events.push(Event::Unblocked(id));
        }
        engine.clients.insert(id, c);
    }
    if engine.srv.clients.blocking.has_ready() {
        serve_ready(engine);
    }
}

/// Re-runs the commands of clients blocked on keys that were written (Redis's
/// handleClientsBlockedOnKeys), first come first served per key. A client whose command now
/// completes leaves its queues; one that would block again keeps its place.
pub(super) fn serve_ready(engine: &mut Engine) {
    engine.srv.clock.settle_sleep();
    while let Some(((db, key), ids)) = engine.srv.clients.blocking.next_ready() {
        for id in ids {
            // A killed client is gone already (Redis frees it at once): it takes nothing,
            // which would be lost with its connection.
            let servable = engine.clients.get(&id).filter(|c| !c.conn.close_asap).and_then(|c| c.wait.blocked.as_ref()).map(|b| b.btype);
            let Some(btype) = servable else { continue };
            // Only a value of the awaited type can serve (a SET on the key does not).
            let holds_type = engine.srv.dbs[db].peek(&key).is_some_and(|e| btype.value_type() == Some(e.value.type_name()));
            if !holds_type {
                if btype == crate::blocking::BlockType::Stream {
                    // A consumer-group read can never be served once its stream is gone.
                    unblock_deleted_readgroup(engine, id);
                    continue;
                }
                break;
            }
            let mut c = engine.clients.remove(&id).expect("looked up");
            let b = c.wait.blocked.take().expect("blocked");
            if btype == crate::blocking::BlockType::Stream {
                c.wait.unblocked_on = Some(key.clone());
            }
            let reply = {
                let mut ctx = Ctx { srv: &mut engine.srv, client: &mut c, others: &mut engine.clients };
                call(&mut ctx, &b.argv)
            };
            c.wait.unblocked_on = None;
            if matches!(reply, Reply::Blocked) {
                c.wait.blocked = Some(b);
            } else {
                engine.srv.clients.blocking.remove(id, &b);
                c.output.outbox.push(reply);
                if engine.srv.clients.tracking.has_pending() {
                    flush_pending_invalidations(engine, &mut c);
                }
                engine.srv.events.push(Event::Unblocked(id));
            }
            engine.clients.insert(id, c);
        }
    }
}

/// A client blocked in XREADGROUP whose stream was deleted or replaced by another type:
/// Redis ends the wait with an error, since the group is gone with the stream
/// (unblockDeletedStreamReadgroupClients). Plain XREAD keeps waiting.
fn unblock_deleted_readgroup(engine: &mut Engine, id: crate::client::ClientId) {
    let Some(c) = engine.clients.get_mut(&id) else { return };
    if !c.wait.blocked.as_ref().is_some_and(|b| b.argv[0].eq_ignore_ascii_case(b"xreadgroup")) {
        return;
    }
    let b = c.wait.blocked.take().expect("checked");
    c.output.outbox.push(Reply::Error("UNBLOCKED the stream key no longer exists".into()));
    engine.srv.clients.blocking.remove(id, &b);
    engine.srv.events.push(Event::Unblocked(id));
}
