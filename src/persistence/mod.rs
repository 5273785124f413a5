//! Snapshots as the core sees them: the bookkeeping of saves (LASTSAVE, INFO persistence),
//! the one child process a host may run at a time (`ChildType`), save points and scheduled
//! saves in the tick, what stops writes after a failed save (MISCONF), and the LOADING state
//! while a dataset is read. The host does the files and the forking; it drives this module
//! through the `Engine` calls named below. Redis: rdb.c (saveCommand, bgsaveCommand,
//! rdbSaveBackground, backgroundSaveDoneHandler), server.c (serverCron's save points,
//! writeCommandsDeniedByDiskError, processCommand's LOADING check, INFO persistence).
//!
//! Two kinds of host:
//! - one that cannot fork (the wasm binding, the test harness) gets `Event::Save` for every
//!   save and writes `rdb_snapshot()` while the engine waits; BGSAVE answers at once;
//! - one that can (`Engine::set_fork_support`) gets `Event::BackgroundSave` for BGSAVE and
//!   save points, forks with the engine locked, reports `bgsave_started` (the fork's result)
//!   and later `bgsave_finished` (how the child exited). The BGSAVE and SAVE clients wait
//!   for those reports, so a fork or write that fails answers `ERR` as in Redis.

pub mod aof;
pub mod snapshot;

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::error::Error;
use crate::event::Event;
use crate::reply::Reply;
use crate::server::Server;

/// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed background save, save points and
/// scheduled saves wait this many seconds before trying again.
const RETRY_DELAY_S: i64 = 5;

pub use crate::server::persistence::{ChildExit, ChildType, Forked, Loading, Persistence, SaveKind};
use crate::server::refusals::has_save_points;
pub use crate::server::refusals::{read_only_replica, replicas_denial, script_write_denied, stale_replica, write_denial};

/// The child running now (server.child_type, hasActiveChildProcess): a background save, or
/// an AOF rewrite (whose base the host writes on a thread rather than in a child process,
/// but which excludes a save all the same, as Redis's AOF child does).
pub fn active_child(srv: &Server) -> ChildType {
    if srv.persistence.child == ChildType::Rdb {
        ChildType::Rdb
    } else if srv.aof.rewrite_in_progress {
        ChildType::Aof
    } else {
        ChildType::None
    }
}

/// SAVE: the client waits for the host's report when the host gives one.
pub fn save(ctx: &mut Ctx, argv: &[Bytes]) -> crate::error::Result<Reply> {
    if ctx.srv.persistence.child == ChildType::Rdb {
        return Err(Error::BgsaveInProgress);
    }
    ctx.srv.persistence.saves += 1;
    request_save(ctx.srv, SaveKind::Foreground);
    if ctx.srv.host.can.forks && ctx.can_block() {
        ctx.srv.persistence.waiter = Some((ctx.client.id, "save"));
        return Ok(ctx.block(&[], crate::blocking::BlockType::Host, 0, argv, Reply::Nil));
    }
    Ok(crate::reply::OK)
}

/// BGSAVE [SCHEDULE] (bgsaveCommand). Inside EXEC, or while another child runs, the save is
/// scheduled for the tick instead (SCHEDULE, or always inside EXEC, as Redis does).
pub fn bgsave(ctx: &mut Ctx, argv: &[Bytes]) -> crate::error::Result<Reply> {
    let schedule = match argv.len() {
        1 => false,
        2 if argv[1].eq_ignore_ascii_case(b"schedule") => true,
        _ => return Err(Error::Syntax),
    };
    let in_exec = !ctx.can_block();
    let child = active_child(ctx.srv);
    let p = &mut ctx.srv.persistence;
    if child == ChildType::Rdb {
        return Err(Error::BgsaveInProgress);
    }
    if child != ChildType::None || in_exec {
        if schedule || in_exec {
            p.bgsave_scheduled = true;
            return Ok(Reply::Simple("Background saving scheduled"));
        }
        return Err(Error::Msg(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        ));
    }
    let now = ctx.srv.clock.now_us;
    start_bgsave(ctx.srv, now);
    if ctx.srv.host.can.forks {
        ctx.srv.persistence.waiter = Some((ctx.client.id, "bgsave"));
        return Ok(ctx.block(&[], crate::blocking::BlockType::Host, 0, argv, Reply::Nil));
    }
    Ok(Reply::Simple("Background saving started"))
}

/// FLUSHALL's part (flushAllDataAndResetRDB): a running save child is of data now gone and
/// is killed; with save points the empty dataset is saved at once.
pub fn flushall(srv: &mut Server) {
    if srv.persistence.child == ChildType::Rdb {
        srv.events.push(Event::KillBackgroundSave);
    }
    if has_save_points(srv) {
        request_save(srv, SaveKind::Foreground);
    }
}

/// Asks the host for a snapshot written in place (`Event::Save`).
pub fn request_save(srv: &mut Server, kind: SaveKind) {
    srv.persistence.pending = Some(kind);
    srv.persistence.dirty_at_start = srv.stats.dirty;
    srv.events.push(Event::Save);
}

/// rdbSaveBackground: a fork on a host that can, an in-place save otherwise.
fn start_bgsave(srv: &mut Server, now_us: i64) {
    let p = &mut srv.persistence;
    p.saves += 1;
    p.last_try_unix = now_us / 1_000_000;
    if srv.host.can.forks {
        p.dirty_at_start = srv.stats.dirty;
        p.child = ChildType::Rdb;
        p.child_pid = 0;
        p.bgsave_start_unix = now_us / 1_000_000;
        srv.events.push(Event::BackgroundSave);
    } else {
        request_save(srv, SaveKind::Background);
    }
}

/// serverCron's part: with no child running, start a background save when a save point
/// (`save <seconds> <changes> ...`) is met, or when one was scheduled; after a failed save
/// only once the retry delay has passed. Nothing starts while a dataset loads.
pub fn cron(srv: &mut Server, now_us: i64) {
    let p = &srv.persistence;
    if p.loading.is_some() || active_child(srv) != ChildType::None || p.pending.is_some() {
        return;
    }
    let now = now_us / 1_000_000;
    let may_retry = !p.last_save_failed || now - p.last_try_unix > RETRY_DELAY_S;
    if !may_retry {
        return;
    }
    let changes = p.changes(srv.stats.dirty);
    let since_save = now - p.last_save_unix;
    let save = srv.config.get(crate::param!("save"));
    let mut points = save.split_whitespace().filter_map(|n| n.parse::<i64>().ok());
    let mut due = false;
    while let (Some(secs), Some(min_changes)) = (points.next(), points.next()) {
        if changes >= min_changes as u64 && since_save > secs {
            due = true;
            break;
        }
    }
    if due {
        start_bgsave(srv, now_us);
    } else if srv.persistence.bgsave_scheduled {
        start_bgsave(srv, now_us);
        if srv.host.can.forks {
            srv.persistence.forking_scheduled = true;
        } else {
            srv.persistence.bgsave_scheduled = false;
        }
    }
}

/// Answers the client that waits for the host's report (SAVE, BGSAVE), and counts the
/// command now that it is done (INFO commandstats, errorstats), since dispatch counts a
/// waiting command only when its reply comes through it.
fn answer_waiter(srv: &mut Server, clients: &mut crate::client::ClientTable, reply: Reply) {
    let Some((id, name)) = srv.persistence.waiter.take() else { return };
    let Some(c) = clients.get_mut(&id) else { return };
    if c.wait.blocked.as_ref().is_none_or(|b| b.btype != crate::blocking::BlockType::Host) {
        return;
    }
    c.wait.blocked = None;
    let failed = matches!(reply, Reply::Error(_));
    c.output.outbox.push(reply);
    srv.events.push(Event::Unblocked(id));
    let stats = &mut srv.stats;
    let names = &crate::command::table::table().names;
    if let Some(i) = names.iter().position(|&(c, sub)| c == name && sub.is_none()) {
        if stats.commands.len() <= i {
            stats.commands.resize(names.len(), Default::default());
        }
        stats.commands[i].calls += 1;
        stats.commands[i].failed += failed as u64;
        stats.total_commands_processed += 1;
    }
    if failed {
        stats.total_error_replies += 1;
        *stats.errors.entry("ERR".to_string()).or_default() += 1;
    }
}

/// The host's report on an `Event::Save`.
pub fn save_finished(srv: &mut Server, clients: &mut crate::client::ClientTable, ok: bool, now_us: i64) {
    let p = &mut srv.persistence;
    let kind = p.pending.take();
    if ok {
        // rdbSave: everything up to the save is on disk.
        p.dirty_at_save = p.dirty_at_start;
        p.last_save_unix = now_us / 1_000_000;
        p.last_save_failed = false;
    } else if kind == Some(SaveKind::Background) {
        p.last_save_failed = true;
    }
    if kind == Some(SaveKind::Background) {
        p.last_bgsave_secs = 0;
    }
    answer_waiter(srv, clients, if ok { crate::reply::OK } else { Reply::Error("ERR".into()) });
}

/// A fork's cost, whatever it was for: INFO total_forks and latest_fork_usec, and the
/// `fork` latency event past latency-monitor-threshold.
pub fn record_fork(srv: &mut Server, fork_usec: u64) {
    srv.persistence.total_forks += 1;
    srv.persistence.latest_fork_usec = fork_usec;
    let threshold = srv.config.hot.latency_monitor_threshold;
    let ms = fork_usec / 1000;
    if threshold > 0 && ms as i64 >= threshold {
        let now = srv.clock.now_us / 1_000_000;
        srv.stats.latency.add_sample("fork", ms, now);
    }
}

/// The host's report on the fork an `Event::BackgroundSave` asked for: the child's pid and
/// the fork's duration, or why it failed (the BGSAVE client gets `ERR`, as in Redis).
pub fn bgsave_started(srv: &mut Server, clients: &mut crate::client::ClientTable, forked: Result<Forked, String>, now_us: i64) {
    let p = &mut srv.persistence;
    let scheduled = std::mem::take(&mut p.forking_scheduled);
    match forked {
        Ok(Forked { pid, fork_usec }) => {
            p.child_pid = pid;
            if scheduled {
                p.bgsave_scheduled = false;
            }
            srv.clock.now_us = now_us;
            record_fork(srv, fork_usec);
            answer_waiter(srv, clients, Reply::Simple("Background saving started"));
        }
        Err(_) => {
            p.child = ChildType::None;
            p.bgsave_start_unix = -1;
            p.last_save_failed = true;
            answer_waiter(srv, clients, Reply::Error("ERR".into()));
        }
    }
}

/// The host's report on a background save's child (backgroundSaveDoneHandlerDisk).
pub fn bgsave_finished(srv: &mut Server, exit: ChildExit, now_us: i64) {
    let p = &mut srv.persistence;
    if p.child != ChildType::Rdb {
        return;
    }
    let now = now_us / 1_000_000;
    match exit {
        ChildExit::Saved { cow_bytes } => {
            // Changes made while the child wrote are not in the file: they stay counted.
            p.dirty_at_save = p.dirty_at_start;
            p.last_save_unix = now;
            p.last_save_failed = false;
            p.cow_bytes = cow_bytes;
        }
        ChildExit::Failed | ChildExit::Killed { on_purpose: false } => p.last_save_failed = true,
        ChildExit::Killed { on_purpose: true } => {}
    }
    p.last_bgsave_secs = if p.bgsave_start_unix >= 0 { now - p.bgsave_start_unix } else { 0 };
    p.bgsave_start_unix = -1;
    p.child = ChildType::None;
    p.child_pid = 0;
}

/// INFO persistence up to the AOF fields, in Redis's order. The fields about a running
/// child's progress (cow, fork_perc, keys processed) read 0: the core serialises a snapshot
/// in one call and has no progress to report.
pub fn info_rdb(srv: &Server, f: &mut dyn FnMut(&str, String)) {
    let p = &srv.persistence;
    let now = srv.clock.now_us / 1_000_000;
    f("loading", (p.loading.is_some() as u8).to_string());
    f("async_loading", "0".into());
    f("current_cow_peak", "0".into());
    f("current_cow_size", "0".into());
    f("current_cow_size_age", "0".into());
    f("current_fork_perc", "0.00".into());
    f("current_save_keys_processed", "0".into());
    f("current_save_keys_total", "0".into());
    f("rdb_changes_since_last_save", p.changes(srv.stats.dirty).to_string());
    f("rdb_bgsave_in_progress", ((p.child == ChildType::Rdb) as u8).to_string());
    f("rdb_last_save_time", p.last_save_unix.to_string());
    f("rdb_last_bgsave_status", if p.last_save_failed { "err" } else { "ok" }.into());
    f("rdb_last_bgsave_time_sec", p.last_bgsave_secs.to_string());
    let current = if p.child == ChildType::Rdb && p.bgsave_start_unix >= 0 { now - p.bgsave_start_unix } else { -1 };
    f("rdb_current_bgsave_time_sec", current.to_string());
    f("rdb_saves", p.saves.to_string());
    f("rdb_last_cow_size", p.cow_bytes.to_string());
    f("rdb_last_load_keys_expired", p.last_load_keys_expired.to_string());
    f("rdb_last_load_keys_loaded", p.last_load_keys.to_string());
}

/// INFO persistence's fields about a load in progress (after the AOF fields, as Redis).
/// Without a progress figure the ETA is Redis's fake one second.
pub fn info_loading(srv: &Server, f: &mut dyn FnMut(&str, String)) {
    let Some(l) = &srv.persistence.loading else { return };
    let now = srv.clock.now_us / 1_000_000;
    let perc = if l.total_bytes > 0 { l.loaded_bytes as f64 * 100.0 / l.total_bytes as f64 } else { 0.0 };
    let elapsed = now - l.start_unix;
    let remaining = l.total_bytes.saturating_sub(l.loaded_bytes).max(1) as i64;
    let eta = if elapsed <= 0 || l.loaded_bytes == 0 { 1 } else { elapsed * remaining / (l.loaded_bytes as i64 + 1) };
    f("loading_start_time", l.start_unix.to_string());
    f("loading_total_bytes", l.total_bytes.to_string());
    f("loading_rdb_used_mem", "0".into());
    f("loading_loaded_bytes", l.loaded_bytes.to_string());
    f("loading_loaded_perc", format!("{:.2}", perc));
    f("loading_eta_seconds", eta.to_string());
}
