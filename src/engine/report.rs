//! The host's reports: how each `Event` it acted on turned out, and what only it knows (its
//! sockets' traffic, the AOF file's sizes). One way in, `Engine::report(HostReport)`, as
//! `Engine::drain_events` is the one way out.

use super::*;
use crate::persistence::{ChildExit, Forked};
use crate::rdb::load::Merge;

/// Something the host reports to the engine.
#[derive(Debug)]
pub enum HostReport {
    /// The host could not shut down (the final save failed): the client that asked hears
    /// why, as from Redis, and the server goes on.
    ShutdownFailed { client: Option<ClientId> },
    /// Answers a client that waits for the host (DEBUG LOADAOF, DEBUG RELOAD).
    HostWaitFinished { id: ClientId, reply: Reply },
    /// The host forked its AOF rewrite child in `usec` (INFO latest_fork_usec, the fork
    /// latency event).
    AofForkDone { usec: u64 },
    /// The host's report on an `Event::RewriteAof`.
    AofRewriteFinished { ok: bool, now_us: i64 },
    /// The AOF files' sizes: all parts, and the base alone.
    AofSizes { current: u64, base: u64 },
    /// Whether the last write to the AOF worked (INFO aof_last_write_status).
    AofWriteResult { result: Result<(), String> },
    /// The host's background fsync (INFO aof_pending_bio_fsync) and the writes that could
    /// not wait for it (aof_delayed_fsync).
    AofFsyncState { pending: bool, delayed: u64 },
    /// The host starts a new AOF file: its first command must name its database.
    AofNewFile,
    /// Every file is in: keys may expire again.
    LoadingFinished,
    /// The host's report on the snapshot an `Event::Save` asked for: a waiting SAVE gets OK
    /// or `ERR`; a background save done in place updates rdb_last_bgsave_status.
    SaveFinished { ok: bool, now_us: i64 },
    /// The host's report on the fork of an `Event::BackgroundSave`.
    BgsaveStarted { forked: Result<Forked, String>, now_us: i64 },
    /// The host's report on how the background save's child ended.
    BgsaveFinished { exit: ChildExit, now_us: i64 },
    /// The host's report on an `Event::RewriteConfig`: the waiting client gets OK, or
    /// Redis's error with the system's reason.
    ConfigRewriteFinished { client: Option<ClientId>, result: Result<(), String> },
    /// The host's answer to `Event::ReloadRdb`: the file's bytes (or why it could not read
    /// them), loaded into the dataset as DEBUG RELOAD's options asked.
    RdbReloadFinished { client: ClientId, file: Result<Vec<u8>, String>, merge: Merge },
    /// The host's report on `Event::Listen`. On failure it listens where it did before, so
    /// the parameters go back to those values and the client gets Redis's error for the
    /// parameter that could not be applied.
    ListenFinished { client: Option<ClientId>, result: Result<(), String>, previous: Vec<(String, String)> },
    /// What the host's sockets did since its last report (INFO stats); `threads_active`: the
    /// I/O threads took part (INFO io_threads_active).
    CountIo { delta: IoCounts, threads_active: bool },
    /// The host turned connections away at `maxclients` (INFO rejected_connections).
    ConnectionsRejected { n: u64 },
}

impl Engine {
    /// Takes in one of the host's reports.
    pub fn report(&mut self, report: HostReport) {
        match report {
            HostReport::ShutdownFailed { client } => self.shutdown_failed(client),
            HostReport::HostWaitFinished { id, reply } => self.host_wait_finished(id, reply),
            HostReport::AofForkDone { usec } => self.aof_fork_done(usec),
            HostReport::AofRewriteFinished { ok, now_us } => self.aof_rewrite_finished(ok, now_us),
            HostReport::AofSizes { current, base } => self.aof_sizes(current, base),
            HostReport::AofWriteResult { result } => self.aof_write_result(result),
            HostReport::AofFsyncState { pending, delayed } => self.aof_fsync_state(pending, delayed),
            HostReport::AofNewFile => self.aof_new_file(),
            HostReport::LoadingFinished => self.loading_finished(),
            HostReport::SaveFinished { ok, now_us } => self.save_finished(ok, now_us),
            HostReport::BgsaveStarted { forked, now_us } => self.bgsave_started(forked, now_us),
            HostReport::BgsaveFinished { exit, now_us } => self.bgsave_finished(exit, now_us),
            HostReport::ConfigRewriteFinished { client, result } => self.config_rewrite_finished(client, result),
            HostReport::RdbReloadFinished { client, file, merge } => self.rdb_reload_finished(client, file, merge),
            HostReport::ListenFinished { client, result, previous } => self.listen_finished(client, result, &previous),
            HostReport::CountIo { delta, threads_active } => self.count_io(delta, threads_active),
            HostReport::ConnectionsRejected { n } => self.connections_rejected(n),
        }
    }

    /// The host could not shut down (the final save failed): the client that asked hears
    /// why, as from Redis, and the server goes on.
    fn shutdown_failed(&mut self, client: Option<ClientId>) {
        if let Some(id) = client {
            self.host_wait_finished(id, Reply::Error("ERR Errors trying to SHUTDOWN. Check logs.".into()));
        }
    }

    /// Answers a client that waits for the host (DEBUG LOADAOF, DEBUG RELOAD).
    pub(crate) fn host_wait_finished(&mut self, id: ClientId, reply: Reply) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if c.wait.blocked.as_ref().is_none_or(|b| b.btype != crate::blocking::BlockType::Host) {
            return;
        }
        c.wait.blocked = None;
        c.output.outbox.push(reply);
        self.srv.events.push(Event::Unblocked(id));
    }

    /// The host forked its AOF rewrite child in `usec` (INFO latest_fork_usec, the fork
    /// latency event).
    fn aof_fork_done(&mut self, usec: u64) {
        crate::persistence::record_fork(&mut self.srv, usec);
    }

    /// The host's report on an `Event::RewriteAof`.
    fn aof_rewrite_finished(&mut self, ok: bool, now_us: i64) {
        let a = &mut self.srv.aof;
        a.rewrite_in_progress = false;
        a.last_rewrite_secs = (now_us / 1000 - a.rewrite_started_ms).max(0) / 1000;
        a.last_rewrite_ok = ok;
        if ok {
            a.rewrites += 1;
            a.consecutive_failures = 0;
        } else {
            a.consecutive_failures += 1;
        }
    }

    /// The AOF files' sizes: all parts, and the base alone.
    fn aof_sizes(&mut self, current: u64, base: u64) {
        self.srv.aof.current_size = current;
        self.srv.aof.base_size = base;
    }

    /// Whether the last write to the AOF worked (INFO aof_last_write_status).
    fn aof_write_result(&mut self, result: Result<(), String>) {
        self.srv.aof.write_error = result.err();
    }

    /// The host's background fsync (INFO aof_pending_bio_fsync) and the writes that could
    /// not wait for it (aof_delayed_fsync).
    fn aof_fsync_state(&mut self, pending: bool, delayed: u64) {
        self.srv.aof.pending_bio_fsync = pending;
        self.srv.aof.delayed_fsync = delayed;
    }

    /// The host starts a new AOF file: its first command must name its database.
    fn aof_new_file(&mut self) {
        self.srv.prop.new_file();
    }

    /// Every file is in: keys may expire again.
    fn loading_finished(&mut self) {
        crate::persistence::aof::set_loading(&mut self.srv, false);
    }

    /// The host's report on the snapshot an `Event::Save` asked for: a waiting SAVE gets OK
    /// or `ERR`; a background save done in place updates rdb_last_bgsave_status.
    fn save_finished(&mut self, ok: bool, now_us: i64) {
        crate::persistence::save_finished(&mut self.srv, &mut self.clients, ok, now_us)
    }

    /// The host's report on the fork of an `Event::BackgroundSave`.
    fn bgsave_started(&mut self, forked: Result<Forked, String>, now_us: i64) {
        crate::persistence::bgsave_started(&mut self.srv, &mut self.clients, forked, now_us)
    }

    /// The host's report on how the background save's child ended.
    fn bgsave_finished(&mut self, exit: ChildExit, now_us: i64) {
        crate::persistence::bgsave_finished(&mut self.srv, exit, now_us)
    }

    /// The host's report on an `Event::RewriteConfig`: the waiting client gets OK, or
    /// Redis's error with the system's reason.
    fn config_rewrite_finished(&mut self, client: Option<ClientId>, result: Result<(), String>) {
        let Some(id) = client else { return };
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if c.wait.blocked.as_ref().is_none_or(|b| b.btype != crate::blocking::BlockType::Host) {
            return;
        }
        c.wait.blocked = None;
        c.output.outbox.push(match result {
            Ok(()) => crate::reply::OK,
            Err(e) => Reply::Error(format!("ERR Rewriting config file: {}", e)),
        });
        self.srv.events.push(Event::Unblocked(id));
    }

    /// The host's answer to `Event::ReloadRdb`: the file's bytes (or why it could not read
    /// them), loaded into the dataset as DEBUG RELOAD's options asked.
    fn rdb_reload_finished(&mut self, client: ClientId, file: Result<Vec<u8>, String>, merge: Merge) {
        let reply = match file.and_then(|bytes| crate::persistence::snapshot::load_merging(&mut self.srv, &bytes, merge)) {
            Ok(_) => crate::reply::OK,
            Err(_) => Reply::Error("ERR Error trying to load the RDB dump".into()),
        };
        self.host_wait_finished(client, reply);
    }

    /// The host's report on `Event::Listen`. On failure it listens where it did before, so
    /// the parameters go back to those values and the client gets Redis's error for the
    /// parameter that could not be applied.
    fn listen_finished(&mut self, client: Option<ClientId>, result: Result<(), String>, previous: &[(String, String)]) {
        let reply = match result {
            Ok(()) => {
                self.srv.host.tcp_port = self.srv.config.get_i64(crate::param!("port")) as u16;
                crate::reply::OK
            }
            Err(_) => {
                let bind_changed = previous.iter().any(|(n, v)| n == "bind" && self.srv.config.get(crate::param!("bind")) != v.as_str());
                for (name, value) in previous {
                    let _ = self.srv.config.set(name, value, false);
                }
                Reply::Error(if bind_changed {
                    "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.".into()
                } else {
                    "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.".into()
                })
            }
        };
        if let Some(id) = client {
            self.host_wait_finished(id, reply);
        }
    }

    /// What the host's sockets did since its last report (INFO stats); `threads_active`: the
    /// I/O threads took part (INFO io_threads_active).
    fn count_io(&mut self, delta: IoCounts, threads_active: bool) {
        self.srv.stats.io += delta;
        self.srv.host.io_threads_active = threads_active;
    }

    /// The host turned connections away at `maxclients` (INFO rejected_connections).
    fn connections_rejected(&mut self, n: u64) {
        self.srv.stats.rejected_connections += n;
    }
}
