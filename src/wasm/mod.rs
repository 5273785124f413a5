//! The wasm binding: the same engine, driven from JavaScript. The JS host supplies the clock
//! (milliseconds, as `Date.now()` gives) and the seed; the core does no I/O. This module and
//! `convert.rs` are the only core files that name wasm-bindgen or js-sys.
//!
//! The binding is the host contract (`crate::Engine`) made callable from JS, nothing more:
//! several client sessions (the wrapper opens one per blocking call, one for its pub/sub
//! subscriptions, one per RESP connection), the events the host must act on, and the RDB
//! snapshot as bytes. Waiting, timers and storage live in the JS wrapper (`www/src/core.js`).
//!
//! A panic here is a trap (wasm32 aborts): the instance is lost. The wrapper re-creates the
//! engine from what it keeps outside it (www/src/recovery.js): the last snapshot
//! (`takeBase`), the AOF text every write produced since (`setJournal`, taken through the io
//! words after each call) and the configuration (`configText`, re-applied by `configure`).

mod convert;
mod io;

use crate::engine::HostReport;
use std::collections::HashMap;

use bytes::Bytes;
use wasm_bindgen::prelude::*;

use crate::client::{ClientId, ClientInfo};
use crate::config::Config;
use crate::event::Event;
use crate::reply::Reply;
use crate::session::Session;
use io::{Args, Io, JOURNAL_AOF, JOURNAL_CONFIG};

const MALFORMED: &str = "ERR malformed packed arguments";

/// One engine and its client sessions, as a browser tab or an edge worker uses it.
///
/// Commands and replies cross the boundary as bytes in wasm memory, not as JS values: JS
/// packs a command's arguments straight into the argument area and decodes the reply bytes
/// itself (www/src/wire.js). A value made on this side (a string, a number) costs an
/// imported call and a table entry each, more than a simple command's own work.
#[wasm_bindgen]
pub struct Engine {
    inner: crate::Engine,
    client: ClientId,
    /// The RESP connections (`respOpen`): bytes in, bytes out, through the core's session
    /// (the same as the native server's).
    conns: HashMap<ClientId, Session>,
    io: Box<Io>,
    args: Args,
    out: Vec<u8>,
    /// Reused per call: one command's arguments, and the replies it produced.
    argv: Vec<Bytes>,
    replies: Vec<Reply>,
    /// The configuration's change count (`config_epoch`) when JS last took `configText`.
    config_seen: u64,
}

/// The module's memory, where JS finds the io words, the argument area and the reply bytes.
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Where the last panic's message is: (address, length) as two u32 words, written by the
/// panic hook just before the trap. JS reads it out of the lost instance's memory.
#[repr(C)]
struct PanicNote {
    ptr: std::sync::atomic::AtomicU32,
    len: std::sync::atomic::AtomicU32,
}

static PANIC_NOTE: PanicNote = PanicNote { ptr: std::sync::atomic::AtomicU32::new(0), len: std::sync::atomic::AtomicU32::new(0) };

/// The address of the panic note (see `PanicNote`); installs the hook that writes it.
#[wasm_bindgen(js_name = panicAddress)]
pub fn panic_address() -> u32 {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            // Leaked on purpose: the instance is about to trap and be thrown away.
            let msg: &'static [u8] = info.to_string().into_bytes().leak();
            PANIC_NOTE.ptr.store(msg.as_ptr() as u32, std::sync::atomic::Ordering::Relaxed);
            PANIC_NOTE.len.store(msg.len() as u32, std::sync::atomic::Ordering::Relaxed);
        }));
    });
    &PANIC_NOTE as *const PanicNote as u32
}

fn us(ms: f64) -> i64 {
    (ms * 1000.0) as i64
}

/// A session's client: a RESP connection's replies are written as RESP bytes (so long ones
/// may be encoded as produced); the calls' are decoded into JS values.
fn info(kind: &str) -> ClientInfo {
    ClientInfo { addr: format!("wasm:{kind}"), laddr: String::new(), fd: -1, unix: false, writes_resp: kind == "resp" }
}

fn js_error(msg: &str) -> JsValue {
    js_sys::Error::new(msg).into()
}

#[wasm_bindgen]
impl Engine {
    /// `seed` drives random choices (RANDOMKEY, expiry sampling); `now_ms` is the host's clock.
    #[wasm_bindgen(constructor)]
    pub fn new(seed: f64, now_ms: f64) -> Engine {
        let mut inner = crate::Engine::new(Config::default(), seed as u64, us(now_ms));
        let client = inner.connect(info("default"), us(now_ms));
        let mut e = Engine {
            inner,
            client,
            conns: HashMap::new(),
            io: Box::default(),
            args: Args::default(),
            out: Vec::new(),
            argv: Vec::new(),
            replies: Vec::new(),
            config_seen: 0,
        };
        e.publish();
        e
    }

    /// The default session's id.
    #[wasm_bindgen(js_name = defaultClient)]
    pub fn default_client(&self) -> f64 {
        self.client as f64
    }

    /// A new session (its own db, RESP version, subscriptions, wait).
    pub fn connect(&mut self, kind: &str, now_ms: f64) -> f64 {
        self.inner.connect(info(kind), us(now_ms)) as f64
    }

    /// Forgets a session, its subscriptions and its wait.
    pub fn disconnect(&mut self, id: f64) {
        self.conns.remove(&(id as ClientId));
        self.inner.disconnect(id as ClientId);
    }

    /// The address of the u32 words JS reads to talk to this engine without a boundary call
    /// per value: the argument area (address, capacity), the reply bytes of the last call
    /// (address, length), and whether there are events. The words stay at this address;
    /// what they say changes after every call.
    #[wasm_bindgen(js_name = ioAddress)]
    pub fn io_address(&self) -> u32 {
        &*self.io as *const Io as u32
    }

    /// Makes the argument area at least `n` bytes (it may move: read the io words again).
    pub fn reserve(&mut self, n: u32) {
        self.args.reserve(n as usize);
        self.tell();
    }

    /// Runs one command for a session: its arguments are the first `len` bytes of the
    /// argument area, packed as (u32 little-endian length, bytes)*. Its reply is encoded in
    /// the reply bytes (see convert.rs); a Redis error is a reply like any other. A command
    /// that blocks its session answers `undefined` with `isBlocked(id)` true: its reply comes
    /// later through `take`. Messages the session published to itself (RESP3 pushes) wait in
    /// `take` too. Returns the number of replies (1).
    pub fn call(&mut self, id: f64, len: u32, now_ms: f64, raw: bool) -> u32 {
        self.out.clear();
        let mut argv = std::mem::take(&mut self.argv);
        if self.args.take(len).is_some_and(|all| convert::unpack(all, &mut argv)) {
            self.run(id as ClientId, &argv, now_ms, raw);
        } else {
            self.malformed();
        }
        // The arguments go before the area is made ready again, which reuses it if nothing
        // kept a slice of it.
        argv.clear();
        self.argv = argv;
        self.publish();
        1
    }

    /// Many commands for one session in one call (a pipeline): each packed as for `call`
    /// and preceded by its packed length (u32 little-endian). Their replies in order, an
    /// error reply in its place. A command that blocks the session is the last one run (its
    /// reply, `undefined`, comes later through `take`); the caller sends the rest once the
    /// wait is over. Returns the number of replies.
    pub fn pipeline(&mut self, id: f64, len: u32, now_ms: f64, raw: bool) -> u32 {
        self.out.clear();
        let mut n = 0;
        let mut argv = std::mem::take(&mut self.argv);
        match self.args.take(len) {
            Some(all) => {
                for cmd in convert::frames(&all) {
                    n += 1;
                    argv.clear();
                    if !cmd.is_some_and(|c| convert::unpack(c, &mut argv)) {
                        self.malformed();
                        break;
                    }
                    if self.run(id as ClientId, &argv, now_ms, raw) {
                        break;
                    }
                }
            }
            None => {
                n = 1;
                self.malformed();
            }
        }
        argv.clear();
        self.argv = argv;
        self.publish();
        n
    }

    /// Replies queued for a session: a blocked command's late reply, pub/sub messages
    /// (RESP3 pushes as arrays).
    /// Returns their number; they are in the reply bytes.
    pub fn take(&mut self, id: f64, raw: bool) -> u32 {
        self.out.clear();
        let mut n = 0;
        let out = &mut self.out;
        self.inner.take_replies(id as ClientId, |r, resp3| {
            n += 1;
            convert::encode(&r, raw, resp3, out);
        });
        self.publish();
        n
    }

    #[wasm_bindgen(js_name = isBlocked)]
    pub fn is_blocked(&self, id: f64) -> bool {
        self.inner.is_blocked(id as ClientId)
    }

    /// When the session's wait times out (Unix ms), if it has a timeout.
    #[wasm_bindgen(js_name = blockDeadline)]
    pub fn block_deadline(&self, id: f64) -> Option<f64> {
        self.inner.block_deadline_ms(id as ClientId).map(|d| d as f64)
    }

    /// Ends the session's wait if its deadline has passed (its timeout reply goes to `take`).
    #[wasm_bindgen(js_name = expireBlocked)]
    pub fn expire_blocked(&mut self, id: f64, now_ms: f64) {
        self.inner.expire_blocked(us(now_ms), Some(id as ClientId));
        self.tell();
    }

    /// A RESP connection: bytes in with `respFeed`, bytes out.
    #[wasm_bindgen(js_name = respOpen)]
    pub fn resp_open(&mut self, now_ms: f64) -> f64 {
        let id = self.inner.connect(info("resp"), us(now_ms));
        self.conns.insert(id, Session::new(id, &self.inner));
        id as f64
    }

    /// Feeds request bytes (any split: a frame may arrive in pieces) and returns the reply
    /// bytes ready now. A blocking command holds the rest of the pipeline until its wait
    /// ends (`Unblocked` event, then `respPump`). A protocol error answers the error and
    /// closes the connection (`respClosed`), as Redis does.
    #[wasm_bindgen(js_name = respFeed)]
    pub fn resp_feed(&mut self, id: f64, bytes: &[u8], now_ms: f64) -> Vec<u8> {
        let Some(session) = self.conns.get_mut(&(id as ClientId)) else {
            return Vec::new();
        };
        if !session.closing {
            session.input.extend_from_slice(bytes);
        }
        self.resp_pump(id, now_ms)
    }

    /// Reply bytes that became ready without new input (a wait ended, pub/sub messages),
    /// then the commands that waited behind a blocked one.
    #[wasm_bindgen(js_name = respPump)]
    pub fn resp_pump(&mut self, id: f64, now_ms: f64) -> Vec<u8> {
        let Some(session) = self.conns.get_mut(&(id as ClientId)) else {
            return Vec::new();
        };
        session.run(&mut self.inner, us(now_ms));
        let out = session.take_output();
        self.tell();
        out
    }

    /// Whether the connection is over (QUIT, CLIENT KILL, a protocol error).
    #[wasm_bindgen(js_name = respClosed)]
    pub fn resp_closed(&self, id: f64) -> bool {
        self.conns.get(&(id as ClientId)).is_none_or(|c| c.closing)
    }

    /// Periodic work (active expiry, save points, wait timeouts); call it `hz` times a second.
    pub fn tick(&mut self, now_ms: f64) {
        self.inner.tick(us(now_ms));
        self.tell();
    }

    /// What the host must act on, as `[kind, ...]` arrays: `['unblocked', id]`,
    /// `['deliver', id]`, `['close', id]`, `['save']` (write `snapshot()` and report with
    /// `saveFinished`), `['shutdown', save]`, `['log', level, message]`. Requests a wasm
    /// host cannot serve (CONFIG REWRITE without a file, the AOF) are answered here.
    pub fn events(&mut self, now_ms: f64) -> js_sys::Array {
        let out = js_sys::Array::new();
        let ev = |parts: &[JsValue]| parts.iter().collect::<js_sys::Array>();
        for e in self.inner.drain_events() {
            match e {
                Event::Unblocked(id) => {
                    out.push(&ev(&["unblocked".into(), (id as f64).into()]));
                }
                Event::Deliver(id) => {
                    out.push(&ev(&["deliver".into(), (id as f64).into()]));
                }
                Event::CloseClient(id) => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.closing = true;
                    }
                    out.push(&ev(&["close".into(), (id as f64).into()]));
                }
                Event::Save => {
                    out.push(&ev(&["save".into()]));
                }
                Event::Shutdown { save, .. } => {
                    out.push(&ev(&["shutdown".into(), save.map_or(JsValue::NULL, JsValue::from_bool)]));
                }
                Event::Log { level, message } => {
                    out.push(&ev(&["log".into(), (level as f64).into(), message.into()]));
                }
                Event::RewriteConfig { client } => {
                    self.inner.report(HostReport::ConfigRewriteFinished { client, result: Err("The server is running without a config file".into()) })
                }
                Event::LoadAof { client } => {
                    self.inner.report(HostReport::HostWaitFinished { id: client, reply: Reply::Error("ERR the wasm host keeps no AOF".into()) })
                }
                Event::RewriteAof | Event::AppendOnly { on: true } => self.inner.report(HostReport::AofRewriteFinished { ok: false, now_us: us(now_ms) }),
                Event::AppendOnly { on: false } | Event::Sleep { .. } | Event::BackgroundSave | Event::KillBackgroundSave | Event::ConfigChanged => {}
                Event::ReloadRdb { client, .. } => self.inner.report(HostReport::HostWaitFinished {
                    id: client,
                    reply: Reply::Error("ERR the wasm host keeps no RDB file (DEBUG RELOAD NOSAVE)".into()),
                }),
                // Not raised here (no `HostCan::replicates`): REPLICAOF is refused.
                Event::ReplicaOf { .. } => {}
                // Not raised here (no `HostCan::listens`): nothing to re-bind.
                Event::Listen { client, previous, .. } => self.inner.report(HostReport::ListenFinished { client, result: Ok(()), previous }),
            }
        }
        out
    }

    /// Whether `events` has anything (a cheap check before building its array).
    #[wasm_bindgen(js_name = hasEvents)]
    pub fn has_events(&self) -> bool {
        self.inner.has_events()
    }

    /// The dataset as RDB bytes (Redis 7.0's format, with its CRC64 checksum).
    pub fn snapshot(&self) -> Vec<u8> {
        self.inner.rdb_snapshot()
    }

    /// Replaces the dataset with an RDB file's; returns the number of keys. A corrupt or
    /// truncated file (bad checksum, short read) is refused with Redis's reason and the
    /// dataset is left as it was.
    pub fn load(&mut self, bytes: &[u8]) -> Result<u32, JsValue> {
        self.inner.rdb_load(bytes).map(|n| n as u32).map_err(|e| js_error(&format!("ERR bad RDB snapshot: {e}")))
    }

    /// The host's report on a `save` event.
    #[wasm_bindgen(js_name = saveFinished)]
    pub fn save_finished(&mut self, ok: bool, now_ms: f64) {
        self.inner.report(HostReport::SaveFinished { ok, now_us: us(now_ms) });
    }

    /// Changes since the last successful save (INFO's rdb_changes_since_last_save).
    #[wasm_bindgen(js_name = changesSinceSave)]
    pub fn changes_since_save(&self) -> f64 {
        self.inner.srv.persistence.changes(self.inner.srv.stats.dirty) as f64
    }

    /// Keys in a database (for hosts that show status without running a command).
    pub fn dbsize(&self, db: u32) -> u32 {
        self.inner.dbsize(db as usize) as u32
    }

    /// Applies configuration text as redis.conf's is read at startup: immutable directives
    /// included (`enable-debug-command`, `databases`), `rename-command` and `user` lines;
    /// `save` lines add up as in a config file. The first refused line is the error.
    pub fn configure(&mut self, text: &str) -> Result<(), JsValue> {
        let directives = crate::config::load_conf(text, &mut |_| Err("include is not supported in the wasm host".into())).map_err(|e| {
            js_error(&match e {
                crate::config::ConfError::Line { line, text, reason } => format!("ERR config line {line} ('{text}'): {reason}"),
                crate::config::ConfError::Include(msg) => format!("ERR {msg}"),
            })
        })?;
        let mut save: Option<String> = None;
        for (name, value) in &directives {
            if name == "save" {
                let points = save.get_or_insert_with(String::new);
                points.push(' ');
                points.push_str(value);
                continue;
            }
            self.inner.config_set_startup(name, value).map_err(|e| js_error(&e.to_string()))?;
        }
        if let Some(points) = save {
            self.inner.config_set_startup("save", points.trim()).map_err(|e| js_error(&e.to_string()))?;
        }
        self.tell();
        Ok(())
    }

    /// The configuration as `configure` takes it back: every parameter that differs from
    /// its default, the save points and the ACL users (CONFIG REWRITE's lines, without
    /// `dir`). Taking it clears `JOURNAL_CONFIG` until the configuration changes again.
    #[wasm_bindgen(js_name = configText)]
    pub fn config_text(&mut self) -> String {
        self.config_seen = self.config_epoch();
        let text = self.inner.config_rewrite("", "");
        let mut out = String::with_capacity(text.len());
        for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("dir ")) {
            out.push_str(line);
            out.push('\n');
        }
        self.tell();
        out
    }

    /// Records (on) every change as the AOF commands that replay it, for the host's journal
    /// (the io words say when there are some); off drops what was not taken.
    #[wasm_bindgen(js_name = setJournal)]
    pub fn set_journal(&mut self, on: bool) {
        crate::server::propagate::set_on(&mut self.inner.srv, on);
        self.tell();
    }

    /// The dataset as RDB bytes, from which the host's journal starts over: AOF text not
    /// yet taken is dropped (the snapshot holds its effects) and the next write names its
    /// database.
    #[wasm_bindgen(js_name = takeBase)]
    pub fn take_base(&mut self) -> Vec<u8> {
        let prop = &mut self.inner.srv.prop;
        prop.buf.clear();
        prop.new_file();
        self.io.aof_taken = 0;
        let bytes = self.inner.rdb_snapshot();
        self.tell();
        bytes
    }

    /// Replays a base (RDB bytes, loaded as an AOF preamble: keys past their deadline are
    /// kept until `loadingFinished`) or journal text, as an AOF file is replayed; returns
    /// the number of writes it held (SELECT, MULTI and EXEC not counted). A journal that
    /// ends inside a command is refused.
    #[wasm_bindgen(js_name = aofLoad)]
    pub fn aof_load(&mut self, bytes: &[u8], now_ms: f64) -> Result<f64, JsValue> {
        let loaded = self.inner.aof_load(bytes, us(now_ms)).map_err(|e| js_error(&format!("ERR the journal could not be replayed: {e}")))?;
        self.tell();
        if let Some(at) = loaded.truncated_at {
            return Err(js_error(&format!("ERR the journal could not be replayed: it ends inside a command at byte {at}")));
        }
        Ok(convert::count_writes(bytes) as f64)
    }

    /// Every base and journal is in: keys may expire again.
    #[wasm_bindgen(js_name = loadingFinished)]
    pub fn loading_finished(&mut self) {
        self.inner.report(HostReport::LoadingFinished);
        self.tell();
    }
}

impl Engine {
    /// Runs one command and encodes the reply it answers with; true if it blocked the
    /// session (nothing more runs for it until the wait ends).
    fn run(&mut self, id: ClientId, argv: &[Bytes], now_ms: f64, raw: bool) -> bool {
        if argv.is_empty() {
            convert::encode(&Reply::Error("ERR empty command".into()), false, false, &mut self.out);
            return false;
        }
        let mut replies = std::mem::take(&mut self.replies);
        let mut resp3 = false;
        self.inner.execute_args(id, argv, us(now_ms), |r, r3| {
            resp3 = r3;
            replies.push(r)
        });
        // The command's own reply is its last non-push one (pushes it caused to itself come
        // first; invalidations follow). Pub/sub confirmations are pushes and are the reply
        // when nothing else is.
        let pos = replies.iter().rposition(|r| !matches!(r, Reply::Push(_))).or(replies.len().checked_sub(1));
        let blocked = pos.is_none() && self.inner.is_blocked(id);
        match pos {
            Some(pos) => {
                let reply = replies.remove(pos);
                convert::encode(&reply, raw, resp3, &mut self.out);
            }
            None => convert::encode(&Reply::Blocked, raw, resp3, &mut self.out),
        }
        if !replies.is_empty() {
            if let Some(c) = self.inner.clients.get_mut(&id) {
                let rest: Vec<Reply> = std::mem::take(&mut c.output.outbox);
                c.output.outbox = replies.drain(..).chain(rest).collect();
            }
        }
        self.replies = replies;
        blocked
    }

    /// After a call: the argument area ready for the next command, and JS told where things
    /// are now.
    fn publish(&mut self) {
        self.args.ready();
        self.out.shrink_to(io::KEEP);
        self.tell();
    }

    /// The reply to argument bytes whose lengths overrun what was written.
    fn malformed(&mut self) {
        convert::encode(&Reply::Error(MALFORMED.into()), false, false, &mut self.out);
    }

    fn tell(&mut self) {
        let (arg_ptr, arg_cap) = self.args.area();
        // The AOF text JS copied out since the last call goes; what it has not stays.
        let buf = &mut self.inner.srv.prop.buf;
        let taken = self.io.aof_taken as usize;
        if taken >= buf.len() {
            buf.clear();
        } else if taken > 0 {
            buf.drain(..taken);
        }
        if buf.is_empty() && buf.capacity() > io::KEEP {
            buf.shrink_to(io::KEEP);
        }
        let (aof_ptr, aof_len) = (buf.as_ptr() as u32, buf.len() as u32);
        let mut journal = if aof_len > 0 { JOURNAL_AOF } else { 0 };
        if self.config_epoch() != self.config_seen {
            journal |= JOURNAL_CONFIG;
        }
        *self.io = Io {
            arg_ptr,
            arg_cap,
            out_ptr: self.out.as_ptr() as u32,
            out_len: self.out.len() as u32,
            events: self.inner.has_events() as u32,
            journal,
            aof_ptr,
            aof_len,
            aof_taken: 0,
        };
    }

    /// Moves whenever a parameter is set or the ACL users change.
    fn config_epoch(&self) -> u64 {
        self.inner.srv.config.changes().wrapping_add(self.inner.srv.acl.generation)
    }
}
