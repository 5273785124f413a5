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
//! The output is the AOF's byte stream (RESP commands, SELECT when the database changes);
//! the host takes it after each batch and appends it to its file. When no host consumes it
//! (`on` is false) nothing is recorded and `call()` pays one branch.

use bytes::Bytes;

use crate::engine::Server;

#[derive(Default)]
pub struct Propagation {
    /// Whether a host consumes the stream (the AOF is on).
    pub on: bool,
    /// The running execution unit's commands (server.also_propagate), with their database.
    ops: Vec<(usize, Vec<Bytes>)>,
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
    /// The last `#TS:` annotation's second (aof-timestamp-enabled).
    last_ts: i64,
}

/// What the running command asked of its own propagation.
#[derive(Default)]
pub struct Frame {
    /// Propagate this instead of the command as sent (rewriteClientCommandVector).
    pub rewrite: Option<Vec<Bytes>>,
    /// Do not propagate the command itself (preventCommandPropagation).
    pub prevent: bool,
    /// Propagate even though nothing changed (forceCommandPropagation: FLUSHALL on an empty
    /// server still reaches the AOF).
    pub force: bool,
}

impl Propagation {
    /// Bytes the AOF text waiting for the host holds (not counted against maxmemory).
    pub fn buffered(&self) -> usize {
        self.buf.capacity()
    }

    /// Records one command of the running unit (alsoPropagate).
    pub fn push(&mut self, db: usize, argv: Vec<Bytes>) {
        self.ops.push((db, argv));
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
            self.feed(ops[0].0, &[Bytes::from_static(b"MULTI")]);
        }
        for (db, argv) in &ops {
            self.feed(*db, argv);
        }
        if transaction {
            self.feed(ops[ops.len() - 1].0, &[Bytes::from_static(b"EXEC")]);
        }
        // The allocation serves the next unit (one per write otherwise).
        ops.clear();
        self.ops = ops;
    }

    /// A unit of one command (the usual case), written as it ends without being recorded
    /// first.
    pub fn feed_one(&mut self, db: usize, argv: &[Bytes], ts: Option<i64>) {
        self.annotate(ts);
        self.feed(db, argv);
    }

    /// `#TS:<unix>` before the first command of each new second (aof-timestamp-enabled).
    fn annotate(&mut self, ts: Option<i64>) {
        if let Some(now) = ts.filter(|&t| t > self.last_ts) {
            self.last_ts = now;
            self.buf.extend_from_slice(format!("#TS:{}\r\n", now).as_bytes());
        }
    }

    /// feedAppendOnlyFile: SELECT when the database differs from the last command's.
    fn feed(&mut self, db: usize, argv: &[Bytes]) {
        if self.selected_db != Some(db) {
            let n = db.to_string();
            encode_command(&mut self.buf, &[b"SELECT", n.as_bytes()]);
            self.selected_db = Some(db);
        }
        encode_command(&mut self.buf, argv);
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

    /// Turns the stream on or off; off drops anything not yet taken.
    pub fn set_on(&mut self, on: bool) {
        self.on = on;
        if !on {
            self.ops.clear();
            self.buf.clear();
            self.selected_db = None;
        }
    }
}

/// A command as a RESP array of bulk strings (catAppendOnlyGenericCommand).
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    out.reserve(16 + argv.iter().map(|a| a.as_ref().len() + 16).sum::<usize>());
    out.push(b'*');
    push_decimal(out, argv.len());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        let a = a.as_ref();
        out.push(b'$');
        push_decimal(out, a.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// `n` in decimal, without the String `to_string` would allocate (this runs for every
/// argument of every write while the stream is on).
fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    // Argument counts and most lengths.
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    if n < 100 {
        out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
        return;
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
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
    let ts = srv.config.hot.aof_timestamp_enabled.then_some(srv.now_us / 1_000_000);
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

/// Turns propagation on or off for the whole server: the databases log expiries only
/// while someone listens.
pub fn set_on(srv: &mut Server, on: bool) {
    srv.prop.set_on(on);
    for db in &mut srv.dbs {
        db.expired_dels = on.then(Vec::new);
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
            super::encode_command(&mut out, &[&b"SET"[..], b"k", &arg]);
            let mut want = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", n).into_bytes();
            want.extend_from_slice(&arg);
            want.extend_from_slice(b"\r\n");
            assert_eq!(out, want, "length {}", n);
        }
    }
}
