//! One client connection. Reads into a buffer, parses every complete command, runs the whole
//! pipelined batch under one engine lock, and writes all replies with one write. Protocol
//! errors get Redis's error line and close only this connection. A client blocked on keys
//! (BLPOP ...) keeps reading but runs nothing until the engine wakes it or its deadline
//! passes; then its reply and the rest of its pipeline go out.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use cinnabar::resp::{write_reply, RequestParser};
use cinnabar::ClientInfo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::shared::{now_us, Shared, Signals};

const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Read buffers start small (idle clients cost little) and shrink back after a big request.
const READ_CHUNK: usize = 16 * 1024;

/// What a connection needs of its socket: TCP (`bind`/`port`) or a Unix socket
/// (`unixsocket`), split into halves that read and write independently.
pub trait Socket: AsyncRead + AsyncWrite + Unpin + Send + std::os::fd::AsRawFd {
    type Reader<'a>: AsyncRead + Unpin + Send
    where
        Self: 'a;
    type Writer<'a>: AsyncWrite + TryWrite + Unpin + Send
    where
        Self: 'a;
    fn halves(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>);
}

/// A write that never waits (the halves' own `try_write`).
pub trait TryWrite {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize>;
}

impl Socket for TcpStream {
    type Reader<'a> = tokio::net::tcp::ReadHalf<'a>;
    type Writer<'a> = tokio::net::tcp::WriteHalf<'a>;
    fn halves(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>) {
        self.split()
    }
}

impl TryWrite for tokio::net::tcp::WriteHalf<'_> {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
        tokio::net::tcp::WriteHalf::try_write(self, buf)
    }
}

impl Socket for UnixStream {
    type Reader<'a> = tokio::net::unix::ReadHalf<'a>;
    type Writer<'a> = tokio::net::unix::WriteHalf<'a>;
    fn halves(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>) {
        self.split()
    }
}

impl TryWrite for tokio::net::unix::WriteHalf<'_> {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
        tokio::net::unix::WriteHalf::try_write(self, buf)
    }
}

/// A TCP connection: protected mode turns away peers that are not on the loopback.
pub async fn serve_tcp(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
    serve(stream, peer.to_string(), local, peer.ip().is_loopback(), false, shared).await
}

/// A Unix-socket connection: local by nature, shown as `path:0` in CLIENT LIST (as Redis
/// shows it).
pub async fn serve_unix(stream: UnixStream, path: String, shared: Arc<Shared>) {
    let addr = format!("{}:0", path);
    serve(stream, addr.clone(), addr, true, true, shared).await
}

async fn serve<S: Socket>(mut stream: S, peer: String, local: String, is_local: bool, unix: bool, shared: Arc<Shared>) {
    let Params { max_clients, protected, timeout_s, max_bulk } = shared.connection_params().await;
    if protected && !is_local {
        let _ = stream.write_all(DENIED.as_bytes()).await;
        return;
    }
    if shared.connections.fetch_add(1, Ordering::Relaxed) >= max_clients {
        shared.connections.fetch_sub(1, Ordering::Relaxed);
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
        return;
    }
    let fd = stream.as_raw_fd() as i64;
    let mut start = Start { parser: RequestParser::new(max_bulk), buf: BytesMut::with_capacity(READ_CHUNK), pending: VecDeque::new(), tx: Default::default() };
    // A new connection registers with the engine; while a script keeps the engine busy it
    // is answered the way a registered one is (BUSY, SCRIPT KILL, ...) until it can.
    let (id, authenticated) = loop {
        if let Some(mut e) = shared.engine_unless_busy().await {
            let id = e.connect(ClientInfo { addr: peer.clone(), laddr: local.clone(), fd, unix }, now_us());
            break (id, e.is_authenticated(id));
        }
        if !serve_while_busy(&mut stream, &shared, &mut start).await {
            shared.connections.fetch_sub(1, Ordering::Relaxed);
            return;
        }
    };
    let signals = shared.register(id);
    run(&mut stream, id, &shared, &signals, timeout_s, authenticated, start).await;
    shared.unregister(id);
    shared.engine().disconnect(id);
    shared.connections.fetch_sub(1, Ordering::Relaxed);
}

/// What a connection has read before it could register: its parser, unparsed bytes and
/// parsed commands.
struct Start {
    parser: RequestParser,
    buf: BytesMut,
    pending: VecDeque<Vec<Bytes>>,
    /// MULTI/EXEC/DISCARD answered while a script was busy (see `BusyTx`).
    tx: cinnabar::script::run::BusyTx,
}

/// One round of a not-yet-registered connection while a script is timed out: answers what
/// it sent, then waits for more input or a moment. False when the connection is over.
async fn serve_while_busy<S: Socket>(stream: &mut S, shared: &Shared, start: &mut Start) -> bool {
    while let Ok(Some(argv)) = start.parser.next(&mut start.buf, false) {
        start.pending.push_back(argv);
    }
    let mut out = Vec::new();
    let outcome = answer_while_busy(shared, &mut start.pending, &mut out, &mut start.tx);
    if stream.write_all(&out).await.is_err() {
        return false;
    }
    if let BusyOutcome::Close = outcome {
        return false;
    }
    if start.buf.capacity() - start.buf.len() < 1024 {
        start.buf.reserve(READ_CHUNK);
    }
    tokio::select! {
        r = stream.read_buf(&mut start.buf) => matches!(r, Ok(n) if n > 0),
        _ = tokio::time::sleep(Duration::from_millis(5)) => true,
    }
}

/// Connection settings read from the config when a connection opens.
pub struct Params {
    pub max_clients: usize,
    pub protected: bool,
    pub timeout_s: i64,
    pub max_bulk: i64,
}

/// Sleeps for the idle timeout (forever without one).
async fn idle_timeout(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Sleeps until a blocked client's deadline (forever without one).
async fn until(deadline_ms: Option<i64>) {
    match deadline_ms {
        Some(d) => tokio::time::sleep(Duration::from_micros(((d * 1000) - now_us()).max(0) as u64)).await,
        None => std::future::pending().await,
    }
}

async fn run<S: Socket>(stream: &mut S, id: cinnabar::ClientId, shared: &Shared, signals: &Signals, timeout_s: i64, mut authenticated: bool, start: Start) {
    // Reading and writing are independent, as in Redis: a client that pipelines many
    // commands before reading any reply (redis-py's pipeline does) must not stall the
    // connection when its receive window fills, so input keeps being read and run while
    // replies wait in `out` for the socket to drain.
    let (mut rd, mut wr) = stream.halves();
    let mut written = 0;
    let mut shutdown = shared.shutdown_rx();
    // Parsed commands not yet run: the rest of a pipeline behind a blocked command.
    let Start { mut parser, mut buf, mut pending, mut tx } = start;
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let (mut blocked, mut deadline) = (false, None);
    // A blocked client waits for its keys, not for the idle timeout (as in Redis).
    // Without a `timeout` no timer is armed at all: registering one per read costs the
    // runtime's timer wheel a lock and an entry on every pipelined batch.
    let idle = (timeout_s > 0).then(|| Duration::from_secs(timeout_s as u64));
    let mut proto_err = None;
    // What arrived before the connection could register is run before waiting for more.
    let mut ready = !buf.is_empty() || !pending.is_empty();
    loop {
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(READ_CHUNK);
        }
        if !std::mem::take(&mut ready) {
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            r = wr.write(&out[written..]), if written < out.len() => {
                match r {
                    Ok(0) | Err(_) => return,
                    Ok(n) => written += n,
                }
                if written < out.len() {
                    continue;
                }
                // Drained: collect what waited in the engine meanwhile (below).
                out.clear();
                written = 0;
                if out.capacity() > 4 * READ_CHUNK {
                    out.shrink_to(READ_CHUNK);
                }
            }
            _ = signals.killed.notified() => return,
            _ = shutdown.changed() => return,
            _ = signals.wake.notified() => {}
            _ = until(deadline), if blocked => shared.engine().expire_blocked(now_us(), Some(id)),
            _ = idle_timeout(idle), if !blocked => return,
        }
        }
        let mut close = false;
        // Parse, then run under one engine lock, until the buffer holds no complete command
        // or the client blocks. The first round always takes the lock: a wake-up has replies
        // to collect. Unauthenticated clients are parsed one command at a time, because AUTH
        // in the middle of a pipeline lifts the parser's limits for the commands after it.
        let mut first = true;
        loop {
            let mut parsed = false;
            while !blocked && proto_err.is_none() {
                match parser.next(&mut buf, authenticated) {
                    Ok(Some(argv)) => {
                        pending.push_back(argv);
                        parsed = true;
                        if !authenticated {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => proto_err = Some(e),
                }
            }
            if !first && !parsed && proto_err.is_none() {
                break;
            }
            first = false;
            // A timed-out script holds the engine: answer for it (BUSY, SCRIPT KILL) and
            // retry shortly for what must wait until the script ends.
            let scripted = pending.iter().any(|a| runs_script(&a[0]));
            if scripted {
                shared.script.queued.fetch_add(1, Ordering::SeqCst);
            }
            let Some(mut engine) = shared.engine_unless_busy().await else {
                if scripted {
                    shared.script.queued.fetch_sub(1, Ordering::SeqCst);
                }
                match answer_while_busy(shared, &mut pending, &mut out, &mut tx) {
                    BusyOutcome::Close => {
                        close = true;
                        break;
                    }
                    BusyOutcome::Wait => {
                        if !write_out(&mut wr, &mut out, &mut written) {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        first = true;
                        continue;
                    }
                    BusyOutcome::Done => break,
                }
            };
            {
                // Pub/sub messages stay in the engine while the socket is backed up, so its
                // output limit (client-output-buffer-limit pubsub) sees them.
                if written == out.len() {
                    engine.take_replies(id, |reply, resp3| write_reply(&reply, resp3, &mut out));
                }
                // What the client did to its transaction while a script was busy.
                engine.apply_busy_transaction(id, std::mem::take(&mut tx));
                // What this connection holds (unparsed input, parsed commands waiting,
                // unwritten replies), for maxmemory-clients and CLIENT LIST.
                let held = buf.capacity() + pending.iter().map(|a| a.iter().map(|b| b.len()).sum::<usize>()).sum::<usize>() + (out.len() - written);
                let evicted = engine.report_client_memory(id, held as u64);
                close |= evicted;
                if engine.has_events() {
                    // Connections client eviction closed hear of it now.
                    shared.handle_events(&mut engine);
                }
                if !evicted && !engine.is_blocked(id) && !pending.is_empty() {
                    // A script that runs long hands this worker's other connections to
                    // another thread once it times out (see `ScriptStatus::watch`).
                    close = engine.execute_batch(id, &mut pending, now_us(), |reply, resp3| write_reply(&reply, resp3, &mut out));
                    authenticated = engine.is_authenticated(id);
                    shared.handle_events(&mut engine);
                }
                blocked = engine.is_blocked(id);
                deadline = engine.block_deadline_ms(id);
                tx.in_multi = engine.in_multi(id);
                drop(engine);
                if scripted {
                    shared.script.queued.fetch_sub(1, Ordering::SeqCst);
                }
            }
            if close || blocked {
                break;
            }
            if let Some(e) = proto_err.take() {
                // Everything before the bad frame has run; now the error, then close.
                out.extend_from_slice(format!("-{}\r\n", e).as_bytes());
                close = true;
                break;
            }
        }
        // The usual case: the whole batch's replies leave in one non-blocking write. What
        // the socket does not take now is written by the select above as it drains.
        if !write_out(&mut wr, &mut out, &mut written) {
            return;
        }
        if close {
            // A peer that stops reading must not pin this task: CLIENT KILL and shutdown
            // end it even mid-write.
            tokio::select! {
                _ = wr.write_all(&out[written..]) => {},
                _ = signals.killed.notified() => return,
                _ = shutdown.changed() => return,
            }
            let _ = wr.shutdown().await;
            return;
        }
        if buf.is_empty() && buf.capacity() > 4 * READ_CHUNK && parser.wants(0) == 0 {
            buf = BytesMut::with_capacity(READ_CHUNK);
        }
    }
}

/// Commands that run Lua (and may hold the engine for long).
fn runs_script(name: &[u8]) -> bool {
    ["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "function"].iter().any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}

enum BusyOutcome {
    /// Every pending command was answered.
    Done,
    /// The head command needs the engine: retry once the script ends.
    Wait,
    Close,
}

/// Answers pending commands while a script is timed out, in order, as Redis does from its
/// script hook: SCRIPT KILL / FUNCTION KILL, SHUTDOWN NOSAVE, QUIT; BUSY for the rest;
/// commands allowed while busy that need the engine wait at the head of the queue.
fn answer_while_busy(shared: &Shared, pending: &mut VecDeque<Vec<Bytes>>, out: &mut Vec<u8>, tx: &mut cinnabar::script::run::BusyTx) -> BusyOutcome {
    use cinnabar::reply::Reply;
    use cinnabar::script::run::{busy_error, while_busy, WhileBusy};
    while let Some(argv) = pending.front() {
        let reply = match while_busy(argv) {
            WhileBusy::Wait => return BusyOutcome::Wait,
            WhileBusy::Kill(eval_cmd) => match shared.kill_script(eval_cmd) {
                Ok(()) => Reply::Simple("OK"),
                Err(e) => Reply::Error(e),
            },
            WhileBusy::ShutdownNoSave => {
                println!("User requested shutdown while a script was running, exiting without saving");
                crate::persist::kill_child_now(shared);
                std::process::exit(0);
            }
            WhileBusy::Quit => {
                pending.clear();
                write_reply(&Reply::Simple("OK"), false, out);
                return BusyOutcome::Close;
            }
            WhileBusy::FunctionStats => {
                let f = shared.script.function.lock().unwrap_or_else(|p| p.into_inner());
                let running = f.as_ref().map(|(f, since)| (f.as_ref(), since.elapsed().as_millis() as i64));
                cinnabar::script::run::busy_function_stats(shared.script.eval.load(Ordering::SeqCst), running.map(|r| r.0), running.map_or(0, |r| r.1))
            }
            WhileBusy::Transaction(cmd) => tx.answer(cmd, busy_error(shared.script.eval.load(Ordering::SeqCst))),
            WhileBusy::Busy => {
                tx.refused();
                Reply::Error(busy_error(shared.script.eval.load(Ordering::SeqCst)).to_string())
            }
        };
        pending.pop_front();
        write_reply(&reply, false, out);
    }
    BusyOutcome::Done
}

/// Writes what the socket takes now without waiting; false when the peer is gone.
fn write_out(wr: &mut impl TryWrite, out: &mut Vec<u8>, written: &mut usize) -> bool {
    while *written < out.len() {
        match wr.try_write(&out[*written..]) {
            Ok(0) => return false,
            Ok(n) => *written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => return false,
        }
    }
    if *written == out.len() {
        out.clear();
        *written = 0;
        if out.capacity() > 4 * READ_CHUNK {
            out.shrink_to(READ_CHUNK);
        }
    }
    true
}
