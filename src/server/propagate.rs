//! Propagation: the commands that, replayed in order, rebuild the dataset (Redis's
//! alsoPropagate / propagatePendingCommands / feedAppendOnlyFile). A command that changed
//! the dataset is recorded as it must be replayed, not as it was sent: relative times
//! become absolute (EXPIRE → PEXPIREAT, SET EX → SET PXAT), random or blocking choices
//! become the concrete effect (SPOP → SREM, BLPOP → LPOP, XREADGROUP → XCLAIM), and scripts
//! become the commands they ran. Handlers ask for that through `Ctx` (`propagate_as`,
//! `also_propagate`, `prevent_propagation`, `force_propagation`); `call()` records the rest.
//!
//! Everything one execution unit (a client's command, an EXEC, a script, a served blocked
//! client) records is flushed together when it ends, wrapped in MULTI/EXEC when it is more
//! than one command, so a replay can never stop halfway through something that was atomic.
//! The output is two byte streams of RESP commands, each with SELECT when its database
//! changes: the AOF's, which the host takes after each batch and appends to its file, and the
//! replication stream, which `replication` hands to the replicas and keeps in the backlog.
//! Each command goes to the targets it is for (PUBLISH to replicas only, a script's
//! `redis.set_repl` narrows them). When nothing consumes either (`on` is false) nothing is
//! recorded and `call()` pays one branch.

use bytes::Bytes;

use crate::resp::encode_command;
use crate::server::Server;

/// Where a recorded command goes (Redis's PROPAGATE_AOF / PROPAGATE_REPL).
pub const AOF: u8 = 1;
pub const REPL: u8 = 2;
pub const ALL: u8 = AOF | REPL;

pub struct Propagation {
    /// Whether anyone consumes the stream (the AOF, or replicas and their backlog): while
    /// not, nothing is recorded.
    pub on: bool,
    /// The AOF is on (its host takes `buf`).
    pub aof: bool,
    /// The replication stream is on: replicas are attached, or their backlog is kept.
    pub repl: bool,
    /// This server is a replica: what it runs is not recorded for its own replicas (they
    /// get its primary's stream as it came).
    pub replica: bool,
    /// The targets commands may go to right now: a script's `redis.set_repl` narrows it for
    /// the commands it calls (the call flags scriptCall derives from it).
    pub allowed: u8,
    /// The running execution unit's commands (server.also_propagate), with their database
    /// and targets.
    ops: Vec<(usize, u8, Vec<Bytes>)>,
    /// The running command's requests; `call()` saves and restores it around nested calls.
    pub frame: Frame,
    /// How deep in `call()` we are (server.execution_nesting): the unit ends back at 0.
    pub depth: u32,
    /// The unit's commands must not be wrapped in MULTI/EXEC (active expiry, eviction,
    /// commands that may delete arbitrary expired keys such as SCAN and RANDOMKEY).
    pub no_multi: bool,
    /// The AOF text not yet taken by the host (server.aof_buf).
    pub(crate) buf: Vec<u8>,
    /// The database the last command in the stream ran in (server.aof_selected_db).
    selected_db: Option<usize>,
    /// The replication stream not yet handed to the replicas and the backlog.
    pub(crate) repl_buf: Vec<u8>,
    /// The database the replication stream last selected (server.slaveseldb).
    pub(crate) repl_selected_db: Option<usize>,
    /// The last `#TS:` annotation's second (aof-timestamp-enabled).
    last_ts: i64,
}

impl Default for Propagation {
    fn default() -> Self {
        Propagation {
            on: false,
            aof: false,
            repl: false,
            replica: false,
            allowed: ALL,
            ops: Vec::new(),
            frame: Frame::default(),
            depth: 0,
            no_multi: false,
            buf: Vec::new(),
            selected_db: None,
            repl_buf: Vec::new(),
            repl_selected_db: None,
            last_ts: 0,
        }
    }
}

/// What the running command asked of its own propagation.
#[derive(Default)]
pub struct Frame {
    /// Propagate this instead of the command as sent (rewriteClientCommandVector).
    pub rewrite: Option<Vec<Bytes>>,
    /// Do not propagate the command itself (preventCommandPropagation).
    pub prevent: bool,
    /// Propagate to these targets even though nothing changed (forceCommandPropagation:
    /// FLUSHALL on an empty server still reaches the AOF, PUBLISH reaches the replicas).
    pub force: u8,
}

impl Propagation {
    /// Bytes the AOF text waiting for the host holds (not counted against maxmemory).
    pub fn buffered(&self) -> usize {
        self.buf.capacity()
    }

    /// The targets that have a consumer, of those asked for (shouldPropagate).
    #[inline]
    pub fn live(&self, targets: u8) -> u8 {
        targets & self.allowed & ((self.aof as u8 * AOF) | ((self.repl && !self.replica) as u8 * REPL))
    }

    /// Records one command of the running unit for every live target (alsoPropagate).
    pub fn push(&mut self, db: usize, argv: Vec<Bytes>) {
        self.push_to(db, ALL, argv);
    }

    /// Records one command of the running unit for some targets only.
    pub fn push_to(&mut self, db: usize, targets: u8, argv: Vec<Bytes>) {
        let targets = self.live(targets);
        if targets != 0 {
            self.ops.push((db, targets, argv));
        }
    }

    pub fn has_ops(&self) -> bool {
        !self.ops.is_empty()
    }

    /// Ends the execution unit: its commands go to the stream, in MULTI/EXEC when several
    /// (propagatePendingCommands). `ts` is the time in seconds when commands are annotated
    /// with it (`#TS:<unix>` before the first command of each new second).
    pub fn flush(&mut self, ts: Option<i64>) {
        if self.ops.is_empty() {
            return;
        }
        self.annotate(ts);
        let mut ops = std::mem::take(&mut self.ops);
        let transaction = ops.len() > 1 && !self.no_multi;
        if transaction {
            self.feed(ops[0].0, ALL, &[Bytes::from_static(b"MULTI")]);
        }
        for (db, targets, argv) in &ops {
            self.feed(*db, *targets, argv);
        }
        if transaction {
            self.feed(ops[ops.len() - 1].0, ALL, &[Bytes::from_static(b"EXEC")]);
        }
        // The allocation serves the next unit (one per write otherwise).
        ops.clear();
        self.ops = ops;
    }

    /// A unit of one command (the usual case), written as it ends without being recorded
    /// first.
    pub fn feed_one(&mut self, db: usize, targets: u8, argv: &[Bytes], ts: Option<i64>) {
        if targets & AOF != 0 {
            self.annotate(ts);
        }
        self.feed(db, targets, argv);
    }

    /// `#TS:<unix>` before the first command of each new second (aof-timestamp-enabled).
    fn annotate(&mut self, ts: Option<i64>) {
        if let Some(now) = ts.filter(|&t| t > self.last_ts && self.aof) {
            self.last_ts = now;
            self.buf.extend_from_slice(format!("#TS:{}\r\n", now).as_bytes());
        }
    }

    /// feedAppendOnlyFile and replicationFeedSlaves: SELECT when the database differs from
    /// the last command's in that stream.
    fn feed(&mut self, db: usize, targets: u8, argv: &[Bytes]) {
        if self.aof && targets & AOF != 0 {
            feed_stream(&mut self.buf, &mut self.selected_db, db, argv);
        }
        if self.repl && targets & REPL != 0 {
            feed_stream(&mut self.repl_buf, &mut self.repl_selected_db, db, argv);
        }
    }

    /// The stream so far, for the host to append to its file.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    pub fn pending_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The next command starts a new file: it must say which database it is for.
    pub fn new_file(&mut self) {
        self.selected_db = None;
    }

    /// Turns the AOF's stream on or off; off drops anything not yet taken.
    pub fn set_aof(&mut self, on: bool) {
        self.aof = on;
        if !on {
            self.buf.clear();
            self.selected_db = None;
        }
        self.recompute();
    }

    /// Turns the replication stream on or off; off drops anything not yet handed out.
    pub fn set_repl(&mut self, on: bool) {
        self.repl = on;
        if !on {
            self.repl_buf.clear();
            self.repl_selected_db = None;
        }
        self.recompute();
    }

    fn recompute(&mut self) {
        self.on = self.aof || self.repl;
        if !self.on {
            self.ops.clear();
        }
    }
}

/// One command into one stream, after a SELECT if it is for another database.
fn feed_stream(out: &mut Vec<u8>, selected: &mut Option<usize>, db: usize, argv: &[Bytes]) {
    if *selected != Some(db) {
        let n = db.to_string();
        encode_command(out, &[b"SELECT", n.as_bytes()]);
        *selected = Some(db);
    }
    encode_command(out, argv);
}

/// Keys deleted on expiry since the last look become DELs (propagateDeletion), ahead of
/// whatever the running command records next, so a replay deletes before it rewrites.
pub fn collect_expired(srv: &mut Server) {
    // After every command: most find nothing, and pay only this look.
    if !srv.dbs.iter().any(|d| d.expired_dels.as_ref().is_some_and(|k| !k.is_empty())) {
        return;
    }
    let del: Bytes = if srv.config.hot.lazyfree_lazy_expire { Bytes::from_static(b"UNLINK") } else { Bytes::from_static(b"DEL") };
    for db in 0..srv.dbs.len() {
        if let Some(keys) = srv.dbs[db].expired_dels.as_mut() {
            for key in std::mem::take(keys) {
                srv.prop.push(db, vec![del.clone(), key]);
            }
        }
    }
}

/// Ends an execution unit: what it recorded goes to the stream, wrapped in MULTI/EXEC
/// unless `no_multi`.
pub fn end_unit(srv: &mut Server, no_multi: bool) {
    if !srv.prop.has_ops() {
        return;
    }
    let ts = srv.config.hot.aof_timestamp_enabled.then_some(srv.clock.now_us / 1_000_000);
    srv.prop.no_multi = no_multi;
    srv.prop.flush(ts);
    srv.prop.no_multi = false;
}

/// Ends a unit that ran outside `call()` (active expiry in `tick`, the end of a batch):
/// one DEL per expired key, never wrapped, as Redis's active expire cycle propagates.
pub fn flush_expired(srv: &mut Server) {
    if !srv.prop.on {
        return;
    }
    collect_expired(srv);
    end_unit(srv, true);
}

/// Turns the AOF's stream on or off.
pub fn set_on(srv: &mut Server, on: bool) {
    srv.prop.set_aof(on);
    log_expiries(srv);
}

/// Turns the replication stream on or off (a first replica attached; the backlog freed).
pub fn set_repl(srv: &mut Server, on: bool) {
    srv.prop.set_repl(on);
    log_expiries(srv);
}

/// The databases log expiries only while someone listens.
fn log_expiries(srv: &mut Server) {
    let on = srv.prop.on;
    for db in &mut srv.dbs {
        if on != db.expired_dels.is_some() {
            db.expired_dels = on.then(Vec::new);
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    #[test]
    fn commands_encode_as_resp_with_every_length_in_decimal() {
        for n in [0usize, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12_345, 1 << 20] {
            let arg = vec![b'x'; n];
            let mut out = Vec::new();
            crate::resp::encode_command(&mut out, &[&b"SET"[..], b"k", &arg]);
            let mut want = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", n).into_bytes();
            want.extend_from_slice(&arg);
            want.extend_from_slice(b"\r\n");
            assert_eq!(out, want, "length {}", n);
        }
    }
}
