//! One RESP connection as every host drives it: bytes in, commands parsed and run in
//! order, reply bytes out. Redis: networking.c's query buffer, processInputBuffer and the
//! client's reply buffer. The native server keeps one per socket (its I/O threads may run
//! `parse`, never `run`); the wasm binding keeps one per `respOpen`.
//!
//! What a host still owns: reading into `input`, writing `output[sent..]` and calling
//! `wrote`, deciding when to call `run` (after a read, and after the engine's `Unblocked` or
//! `Deliver` event for the client), and closing once `closing` is set and the output is
//! written.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::client::ClientId;
use crate::engine::Engine;
use crate::reply::Reply;
use crate::resp::parser::{ProtocolError, RequestParser};
use crate::resp::writer::write_reply;

/// A connection's protocol state and buffers.
pub struct Session {
    pub id: ClientId,
    parser: RequestParser,
    /// Bytes read and not yet parsed (the query buffer).
    pub input: BytesMut,
    /// Commands parsed and not yet run: the rest of a pipeline behind a blocked command, or
    /// what arrived while a script kept the engine busy.
    pending: VecDeque<Vec<Bytes>>,
    /// The argument bytes `pending` holds (the query buffer limit counts them).
    pending_bytes: usize,
    /// Reply bytes not yet written; the host has written `output[..sent]`.
    pub output: Vec<u8>,
    pub sent: usize,
    /// Whether the client had authenticated when last run: until it has, commands are parsed
    /// one at a time, because an AUTH inside a pipeline lifts the parser's pre-auth limits
    /// for the commands after it.
    authenticated: bool,
    /// A protocol error met in the input: answered once everything before it has run.
    error: Option<ProtocolError>,
    /// The connection ends once `output` is written (QUIT, a protocol error, CLIENT KILL of
    /// itself, client eviction).
    pub closing: bool,
    /// The client waits on keys (or for a pause, or for the host): nothing more runs until
    /// the engine's `Unblocked` event.
    pub blocked: bool,
    /// The client spoke RESP3 after its last reply (for replies the host gives while a
    /// script keeps the engine busy).
    pub resp3: bool,
}

/// Output buffers shrink back to this after a big reply is written; reads grow the input by it.
pub const IO_CHUNK: usize = 16 * 1024;

impl Session {
    /// A session for a client the engine has registered (`Engine::connect`).
    pub fn new(id: ClientId, engine: &Engine) -> Session {
        Session {
            id,
            parser: RequestParser::new(engine.max_bulk_len()),
            input: BytesMut::with_capacity(IO_CHUNK),
            pending: VecDeque::new(),
            pending_bytes: 0,
            output: Vec::new(),
            sent: 0,
            authenticated: engine.is_authenticated(id),
            error: None,
            closing: false,
            blocked: false,
            resp3: false,
        }
    }

    /// A session whose client is not registered yet (a connection accepted while a script
    /// keeps the engine busy): it can be answered for (`answer_while_busy`) until `register`.
    pub fn unregistered(max_bulk_len: i64) -> Session {
        Session {
            id: 0,
            parser: RequestParser::new(max_bulk_len),
            input: BytesMut::with_capacity(IO_CHUNK),
            pending: VecDeque::new(),
            pending_bytes: 0,
            output: Vec::new(),
            sent: 0,
            authenticated: false,
            error: None,
            closing: false,
            blocked: false,
            resp3: false,
        }
    }

    /// Gives an unregistered session its client (see `unregistered`).
    pub fn register(&mut self, id: ClientId, engine: &Engine) {
        self.id = id;
        self.authenticated = engine.is_authenticated(id);
    }

    /// Parses the complete commands in `input` into the pending queue (one only while the
    /// client owes AUTH); true when it parsed something. Needs no engine, so an I/O thread
    /// may run it. After a protocol error nothing more is parsed.
    pub fn parse(&mut self) -> bool {
        let mut parsed = false;
        while self.error.is_none() && !self.closing {
            if !self.authenticated && !self.pending.is_empty() {
                break;
            }
            match self.parser.next(&mut self.input, self.authenticated) {
                Ok(Some(argv)) => {
                    self.pending_bytes += argv.iter().map(|a| a.len()).sum::<usize>();
                    self.pending.push_back(argv);
                    parsed = true;
                }
                Ok(None) => break,
                Err(e) => {
                    self.error = Some(e);
                    self.input.clear();
                }
            }
        }
        parsed
    }

    /// Whether parsed commands wait to run.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.error.is_some()
    }

    /// Bytes the host buffers for this client (unparsed input, parsed commands waiting,
    /// unwritten replies): CLIENT LIST's qbuf/omem and `maxmemory-clients` weigh them.
    pub fn held_bytes(&self) -> usize {
        self.input.capacity() + self.pending_bytes + (self.output.len() - self.sent)
    }

    /// The query buffer as Redis's `client-query-buffer-limit` measures it: what was read
    /// and not yet run.
    pub fn query_bytes(&self) -> usize {
        self.input.len() + self.pending_bytes
    }

    /// Room for the next read, made in `input`: the rest of a bulk whose length is known
    /// (up to 1 MB at a time), else one chunk (Redis's PROTO_IOBUF_LEN).
    pub fn read_room(&mut self) -> usize {
        let want = self.parser.wants(self.input.len()).clamp(IO_CHUNK, 1 << 20);
        if self.input.capacity() - self.input.len() < want / 2 {
            self.input.reserve(want);
        }
        (self.input.capacity() - self.input.len()).min(want)
    }

    /// Runs what is ready, replies into `output`: replies the engine queued for the client
    /// (a served wait, messages), then the pending commands, parsing more as it goes, until
    /// the input holds no complete command, the client blocks, or the connection must close.
    /// A protocol error is answered after the commands before it, then the session closes.
    pub fn run(&mut self, engine: &mut Engine, now_us: i64) {
        if self.closing {
            return;
        }
        let id = self.id;
        let mut first = true;
        loop {
            let parsed = self.parse();
            if !first && !parsed && self.error.is_none() {
                break;
            }
            first = false;
            // Messages stay in the engine while the socket is backed up, so the pub/sub
            // output limit (client-output-buffer-limit pubsub) sees them there.
            let output = &mut self.output;
            if self.sent == output.len() {
                engine.take_replies(id, |reply, resp3| write_reply(&reply, resp3, output));
            }
            if !self.pending.is_empty() && !engine.is_blocked(id) {
                // The batch stops at the command whose reply takes the unwritten output past
                // the client's hard limit, as Redis stops processing a client it is to close.
                let cap = engine.output_cap(id).saturating_add(self.sent);
                let (pending, output) = (&mut self.pending, &mut self.output);
                let over = std::cell::Cell::new(false);
                let resp3 = std::cell::Cell::new(self.resp3);
                let mut taken = 0;
                let next = || {
                    if over.get() {
                        return None;
                    }
                    let argv = pending.pop_front()?;
                    taken += argv.iter().map(|a| a.len()).sum::<usize>();
                    Some(argv)
                };
                let close = crate::engine::execute_batch(engine, id, next, now_us, |reply, r3| {
                    resp3.set(r3);
                    let resp3 = r3;
                    match reply {
                        // A long streamed reply becomes the output buffer itself when nothing
                        // else waits in it, instead of being copied into it.
                        Reply::Raw(bytes) if output.is_empty() => *output = Vec::from(bytes),
                        reply => write_reply(&reply, resp3, output),
                    }
                    if output.len() > cap {
                        over.set(true);
                    }
                });
                self.pending_bytes -= taken;
                self.closing |= close;
                self.resp3 = resp3.get();
            }
            if engine.report_client_buffers(id, self.held_bytes() as u64, (self.output.len() - self.sent) as u64) {
                // Past its output limit, or the client eviction's choice: it goes now, and
                // what it did not read goes with it.
                self.output.truncate(self.sent);
                self.closing = true;
                break;
            }
            let status = engine.session_status(id);
            self.authenticated = status.authenticated;
            self.blocked = status.blocked;
            if self.closing || self.blocked {
                break;
            }
            if let Some(e) = self.error.take() {
                // Everything before the bad frame has run; now the error, then close.
                write_reply(&Reply::Error(e.to_string()), false, &mut self.output);
                self.closing = true;
                break;
            }
        }
    }

    /// Answers the pending commands while a script keeps the engine busy, in order, as Redis
    /// does from its script hook: `answer` gives each command's reply, whether it is RESP3
    /// and whether the connection closes after it (QUIT), or None for one that must wait
    /// for the engine (it and everything after it stay queued).
    pub fn answer_while_busy(&mut self, mut answer: impl FnMut(&[Bytes], bool) -> Option<(Reply, bool, bool)>) {
        while let Some(argv) = self.pending.front() {
            let Some((reply, resp3, close)) = answer(argv, self.resp3) else {
                break;
            };
            self.resp3 = resp3;
            let argv = self.pending.pop_front().expect("checked");
            self.pending_bytes -= argv.iter().map(|a| a.len()).sum::<usize>();
            write_reply(&reply, resp3, &mut self.output);
            if close {
                self.closing = true;
                self.pending.clear();
                self.pending_bytes = 0;
                break;
            }
        }
    }

    /// Whether replies wait to be written.
    pub fn wants_write(&self) -> bool {
        self.sent < self.output.len()
    }

    /// Records that the host wrote `n` more bytes of `output`; a drained buffer starts over
    /// (and gives back what a big reply made it grow to).
    pub fn wrote(&mut self, n: usize) {
        self.sent += n;
        if self.sent == self.output.len() {
            self.output.clear();
            self.sent = 0;
            if self.output.capacity() > 4 * IO_CHUNK {
                self.output = Vec::new();
            }
        }
    }

    /// The unwritten output, taken whole (hosts that hand bytes over rather than write them).
    pub fn take_output(&mut self) -> Vec<u8> {
        let out = if self.sent == 0 { std::mem::take(&mut self.output) } else { self.output.split_off(self.sent) };
        self.output.clear();
        self.sent = 0;
        out
    }

    /// After a big request: give back a grown input buffer once it is empty.
    pub fn shrink_input(&mut self) {
        if self.input.is_empty() && self.input.capacity() > 4 * IO_CHUNK && self.parser.wants(0) == 0 {
            self.input = BytesMut::with_capacity(IO_CHUNK);
        }
    }
}
