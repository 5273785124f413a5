//! A script that runs past `busy-reply-threshold` keeps the engine, and with it the loop
//! thread, but the server must still answer: BUSY to most commands, SCRIPT KILL / FUNCTION
//! KILL, SHUTDOWN NOSAVE, QUIT, FUNCTION STATS, and MULTI/EXEC/DISCARD's bookkeeping. Redis
//! does this from the script's count hook (processEventsWhileBlocked); so does this file:
//! the engine calls the watch at every count hook once the script is busy, and the watch
//! polls the sockets without waiting and answers what came, on the loop thread, with the
//! engine the script holds: the engine runs the commands flagged allow-busy (AUTH, HELLO,
//! MULTI, WATCH, RESET, QUIT ...) and refuses the rest with BUSY; this file answers SCRIPT
//! KILL, FUNCTION KILL, FUNCTION STATS and SHUTDOWN NOSAVE. A connection accepted while
//! busy has no client in the engine yet: its allow-busy commands wait for the script's end.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cinnabar::error::busy_script;
use cinnabar::reply::Reply;
use cinnabar::script::watch::{busy_function_stats, kill_reply, while_busy, BusyRun, ForOther, ScriptState, ScriptWatch, WhileBusy};

use crate::conn::Read;
use crate::net::{target, Net, SharedNet, Target};

/// The engine's watch over its scripts (`Engine::set_script_watch`); true asks the running
/// script to stop (SCRIPT KILL).
pub fn watch(net: SharedNet, children: Arc<crate::persist::Children>) -> ScriptWatch {
    let mut events = mio::Events::with_capacity(256);
    Box::new(move |state| {
        let mut net = net.lock();
        match state {
            ScriptState::Started { eval, function } => {
                net.script = crate::net::Script { running: true, eval, function: function.map(|f| (f, std::time::Instant::now())), ..Default::default() };
                false
            }
            ScriptState::Busy { eval, wrote, run, .. } => {
                net.script.busy = true;
                net.script.eval = eval;
                net.script.wrote = wrote;
                serve(&mut net, &mut events, &children, run);
                net.script.kill
            }
            ScriptState::Ended => {
                net.script = Default::default();
                false
            }
        }
    })
}

/// One pass over the sockets while a script is busy: accept, read, answer, write.
fn serve(net: &mut Net, events: &mut mio::Events, children: &crate::persist::Children, run: &mut dyn FnMut(cinnabar::ClientId, ForOther) -> BusyRun) {
    if net.poll.poll(events, Some(Duration::ZERO)).is_err() {
        return;
    }
    let mut keys = Vec::new();
    for ev in events.iter() {
        match target(ev.token()) {
            // The loop's own wake-ups wait for the loop (edge-triggered: remember them).
            Target::Waker => net.woken = true,
            Target::Signals => net.signalled = true,
            Target::Listener(i) => net.accept(i, None),
            Target::Conn(k) => keys.push(k),
        }
    }
    // Connections left unread by the loop get their turn too, and so do those whose commands
    // were read this turn but not run yet (the loop reads every ready connection first).
    keys.append(&mut net.work.unread);
    let waiting: Vec<usize> =
        net.conns.iter().filter(|(k, c)| c.session.as_ref().is_some_and(|s| s.has_pending()) && !keys.contains(k)).map(|(k, _)| k).collect();
    let with_input = keys.len();
    keys.extend(waiting);
    for (i, k) in keys.into_iter().enumerate() {
        let Some(conn) = net.conns.get_mut(k) else {
            continue;
        };
        if conn.session.is_none() {
            // The client running the script: its input waits for the loop.
            conn.unread = true;
            net.work.unread.push(k);
            continue;
        }
        if i < with_input {
            if let Read::Gone = conn.read(true) {
                close(net, k, &mut *run);
                continue;
            }
        }
        let script = &net.script;
        let function = script.function.as_ref().map(|(f, since)| (f.as_ref(), since.elapsed().as_millis() as i64));
        let (mut kill, mut shutdown) = (false, false);
        let id = conn.id;
        let session = conn.session();
        session.answer_while_busy(|argv, resp3| answer(argv, resp3, id, script, function, &mut kill, &mut shutdown, children, &mut *run));
        if shutdown {
            // Nobody may connect once the asking client sees its link close: the listeners
            // go first, then the process.
            net.listeners.clear();
            std::process::exit(0);
        }
        // What must wait for the engine runs once the script ends.
        let waits = session.has_pending();
        let quit = session.closing;
        // Replies from before the script (this turn's, not yet behind the AOF's fsync)
        // leave with the loop's writes; only a connection with nothing else queued is
        // answered now.
        let write_now = !conn.queued_write;
        if kill {
            net.script.kill = true;
        }
        let conn = net.conns.get_mut(k).expect("present");
        if write_now && conn.write().is_none() {
            close(net, k, &mut *run);
            continue;
        }
        let unwritten = conn.session().wants_write();
        if quit && !unwritten {
            close(net, k, &mut *run);
            continue;
        }
        if waits || quit {
            net.queue_run(k);
        }
        if unwritten {
            net.queue_write(k);
        }
    }
}

/// A connection whose socket failed or that said QUIT while busy: gone now, and the engine
/// forgets its client at once (a replica that left stops counting while the script runs).
fn close(net: &mut Net, k: usize, run: &mut dyn FnMut(cinnabar::ClientId, ForOther) -> BusyRun) {
    if let Some(conn) = net.remove(k) {
        if let Some(id) = conn.id {
            run(id, ForOther::Gone);
            net.work.gone.push(id);
        }
    }
}

/// The reply to one command while busy (with its protocol and whether the connection
/// closes), or None for one that must wait for the engine.
#[allow(clippy::too_many_arguments)]
fn answer(
    argv: &[Bytes],
    resp3: bool,
    id: Option<cinnabar::ClientId>,
    script: &crate::net::Script,
    function: Option<(&cinnabar::script::watch::RunningFunction, i64)>,
    kill: &mut bool,
    shutdown: &mut bool,
    children: &crate::persist::Children,
    run: &mut dyn FnMut(cinnabar::ClientId, ForOther) -> BusyRun,
) -> Option<(Reply, bool, bool)> {
    let crate::net::Script { eval, wrote, running, .. } = *script;
    let reply = match while_busy(argv) {
        WhileBusy::Kill(eval_cmd) => match kill_reply(running.then_some((eval, wrote)), eval_cmd) {
            Ok(()) => {
                *kill = true;
                Reply::Simple("OK")
            }
            Err(e) => Reply::Error(e),
        },
        WhileBusy::ShutdownNoSave => {
            serverlog!(Notice, "User requested shutdown while a script was running, exiting without saving");
            crate::persist::kill_child_now(children);
            *shutdown = true;
            return Some((Reply::Raw(Bytes::new()), resp3, true));
        }
        WhileBusy::FunctionStats => busy_function_stats(eval, function.map(|f| f.0), function.map_or(0, |f| f.1)),
        WhileBusy::Engine => match id {
            Some(id) => {
                let r = run(id, ForOther::Run(argv));
                return Some((r.reply, r.resp3, r.close));
            }
            // Not in the engine yet: what it may run waits, the rest is refused.
            None if cinnabar::commands::scripting::run::allowed_while_busy(argv) => return None,
            None => Reply::Error(busy_script(eval).to_string()),
        },
    };
    Some((reply, resp3, false))
}
