//! The replica's link to its primary (REPLICAOF, `replicaof` in the config). A thread per
//! link does the blocking part as replication.c's state machine does it: connect, PING,
//! AUTH, REPLCONF listening-port and capa, PSYNC, the payload (`$<len>` or diskless
//! `$EOF:<mark>`), then the stream; each piece goes to the loop as a message and is applied
//! there with the engine (`replica_full_sync`, `replica_continue`, `replica_feed`). The loop
//! writes what goes back (ACKs) on a clone of the socket. A link that fails is tried again a
//! second later, asking to continue from where this server got to.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::host::now_us;
use crate::server::{Notifier, Server};

pub struct Link {
    generation: u64,
    stop: Arc<AtomicBool>,
    /// The connected socket: the loop writes ACKs on it, and shuts it down to end the link.
    socket: Arc<parking_lot::Mutex<Option<TcpStream>>>,
    last_ack_us: i64,
}

static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Follows `host:port` from now on (a link to another primary ends first).
pub fn start(server: &mut Server, host: String, port: u16) {
    stop(server);
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed);
    let link = Link { generation, stop: Arc::new(AtomicBool::new(false)), socket: Default::default(), last_ack_us: 0 };
    let (stop, socket, notifier) = (link.stop.clone(), link.socket.clone(), server.notifier());
    server.replica = Some(link);
    std::thread::Builder::new()
        .name("replica-link".into())
        .spawn(move || run(&host, port, generation, &stop, &socket, &notifier))
        .expect("spawn the replica link thread");
}

/// Ends the link (REPLICAOF NO ONE, another primary, shutdown).
pub fn stop(server: &mut Server) {
    if let Some(l) = server.replica.take() {
        l.stop.store(true, Ordering::Relaxed);
        if let Some(s) = l.socket.lock().take() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Drops the connection but keeps following (CLIENT KILL of the master client, a silent
/// primary past `repl-timeout`): the thread reconnects.
pub fn reconnect(server: &mut Server) {
    if let Some(l) = server.replica.as_ref() {
        if let Some(s) = l.socket.lock().as_ref() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// replicationCron's replica part: an ACK every second, and the link dropped when the
/// primary has been silent past `repl-timeout`.
pub fn cron(server: &mut Server, now: i64) {
    let Some(l) = server.replica.as_mut() else { return };
    if server.engine.replica_timed_out(now) {
        crate::log::write(crate::log::Level::Warning, "MASTER timeout: no data nor PING received...");
        reconnect(server);
        return;
    }
    if now - l.last_ack_us >= 1_000_000 {
        l.last_ack_us = now;
        if let Some(ack) = server.engine.replica_ack() {
            write(server, &ack);
        }
    }
}

/// Writes to the primary (ACKs); a failure ends the connection, which the thread notices.
fn write(server: &Server, bytes: &[u8]) {
    let Some(l) = server.replica.as_ref() else { return };
    let guard = l.socket.lock();
    if let Some(mut s) = guard.as_ref() {
        if s.write_all(bytes).is_err() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn current(server: &Server, generation: u64) -> bool {
    server.replica.as_ref().is_some_and(|l| l.generation == generation)
}

/// Runs `f` on the loop and waits for its result (None if the loop is gone).
fn ask<T: Send + 'static>(notifier: &Notifier, f: impl FnOnce(&mut Server) -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    notifier.send(Box::new(move |srv| {
        let _ = tx.send(f(srv));
    }));
    rx.recv().ok()
}

fn log(notifier: &Notifier, level: crate::log::Level, line: String) {
    notifier.send(Box::new(move |_| crate::log::write(level, &line)));
}

fn run(host: &str, port: u16, generation: u64, stop: &AtomicBool, socket: &parking_lot::Mutex<Option<TcpStream>>, notifier: &Notifier) {
    while !stop.load(Ordering::Relaxed) {
        let result = session(host, port, generation, stop, socket, notifier);
        if let Some(s) = socket.lock().take() {
            let _ = s.shutdown(Shutdown::Both);
        }
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let why = result.err().unwrap_or_else(|| "connection closed".into());
        notifier.send(Box::new(move |srv| {
            if current(srv, generation) {
                srv.engine.replica_link_lost(&why, now_us());
                srv.handle_events();
            }
        }));
        for _ in 0..10 {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// One connection to the primary, from connect to the end of the stream.
fn session(
    host: &str,
    port: u16,
    generation: u64,
    stop: &AtomicBool,
    socket: &parking_lot::Mutex<Option<TcpStream>>,
    notifier: &Notifier,
) -> Result<(), String> {
    use crate::log::Level::{Notice, Warning};
    log(notifier, Notice, format!("Connecting to MASTER {}:{}", host, port));
    log(notifier, Notice, "MASTER <-> REPLICA sync started".into());
    let addr = (host, port).to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or_else(|| format!("Unable to resolve {}", host))?;
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| {
        let why = format!("Error condition on socket for SYNC: {}", crate::files::strerror(&e));
        log(notifier, Warning, why.clone());
        why
    })?;
    let _ = s.set_nodelay(true);
    *socket.lock() = Some(s.try_clone().map_err(|e| e.to_string())?);
    if stop.load(Ordering::Relaxed) {
        return Ok(());
    }
    let Some(hs) = ask(notifier, move |srv| {
        current(srv, generation).then(|| {
            srv.engine.replica_syncing(now_us());
            srv.engine.replica_handshake()
        })
    })
    .flatten() else {
        return Ok(());
    };
    log(notifier, Notice, "Non blocking connect for SYNC fired the event.".into());
    // A primary silent for `repl-timeout` during the handshake or the payload ends the try.
    let _ = s.set_read_timeout(Some(Duration::from_secs(hs.timeout_secs)));
    // The loop writes ACKs on this socket: a primary that stops reading must not hold the
    // loop for long (a write that times out ends the link).
    let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
    let mut w = s.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s);
    let command = |w: &mut TcpStream, argv: &[&str]| -> Result<(), String> {
        let mut out = Vec::new();
        cinnabar::resp::encode_command(&mut out, argv);
        w.write_all(&out).map_err(|e| e.to_string())
    };
    let handshake = |e: String| {
        if e == TIMED_OUT {
            log(notifier, Warning, "Timeout connecting to the MASTER...".into());
        }
        e
    };
    command(&mut w, &["PING"])?;
    let pong = line(&mut r).map_err(handshake)?;
    if pong.starts_with('-') && !pong.starts_with("-NOAUTH") && !pong.starts_with("-NOPERM") && !pong.starts_with("-ERR operation not permitted") {
        let why = format!("Error reply to PING from master: '{}'", pong);
        log(notifier, Warning, why.clone());
        return Err(why);
    }
    log(notifier, Notice, "Master replied to PING, replication can continue...".into());
    if let Some((user, pass)) = &hs.auth {
        match user {
            Some(u) => command(&mut w, &["AUTH", u, pass])?,
            None => command(&mut w, &["AUTH", pass])?,
        }
        let reply = line(&mut r)?;
        if reply.starts_with('-') {
            let why = format!("Unable to AUTH to MASTER: {}", reply);
            log(notifier, Warning, why.clone());
            return Err(why);
        }
    }
    command(&mut w, &["REPLCONF", "listening-port", &hs.listening_port.to_string()])?;
    if line(&mut r)?.starts_with('-') {
        log(notifier, Notice, "(Non critical) Master does not understand REPLCONF listening-port".into());
    }
    command(&mut w, &["REPLCONF", "capa", "eof", "capa", "psync2"])?;
    if line(&mut r)?.starts_with('-') {
        log(notifier, Notice, "(Non critical) Master does not understand REPLCONF capa".into());
    }
    if hs.replid == "?" {
        log(notifier, Notice, "Partial resynchronization not possible (no cached master)".into());
    } else {
        log(notifier, Notice, format!("Trying a partial resynchronization (request {}:{}).", hs.replid, hs.offset));
    }
    command(&mut w, &["PSYNC", &hs.replid, &hs.offset.to_string()])?;
    let reply = loop {
        let l = line(&mut r).map_err(handshake)?;
        if !l.is_empty() {
            break l;
        }
    };
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut parts = rest.split_whitespace();
        let (Some(replid), Some(offset)) = (parts.next().map(str::to_string), parts.next().and_then(|o| o.parse::<u64>().ok())) else {
            return Err(format!("Master replied with wrong +FULLRESYNC syntax: {}", reply));
        };
        log(notifier, Notice, format!("Full resync from master: {}:{}", replid, offset));
        notifier.send(Box::new(move |srv| {
            if current(srv, generation) {
                srv.engine.replica_transfer(now_us());
            }
        }));
        let rdb = payload(&mut r, notifier).map_err(|e| {
            if e == TIMED_OUT {
                log(notifier, Warning, "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.".into());
            }
            e
        })?;
        let loaded = ask(notifier, move |srv| {
            if !current(srv, generation) {
                return Ok(());
            }
            let r = srv.engine.replica_full_sync(&replid, offset, &rdb, now_us());
            srv.handle_events();
            r
        });
        if let Some(Err(e)) = loaded {
            return Err(e);
        }
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let id = rest.trim().to_string();
        log(notifier, Notice, "Successful partial resynchronization with master.".into());
        ask(notifier, move |srv| {
            if current(srv, generation) {
                srv.engine.replica_continue((!id.is_empty()).then_some(id.as_str()), now_us());
                srv.handle_events();
            }
        });
    } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        let why = format!("Master is currently unable to PSYNC but should be in the future: {}", reply);
        log(notifier, Notice, why.clone());
        return Err(why);
    } else {
        let why = format!("Unexpected reply to PSYNC from master: {}", reply);
        log(notifier, Warning, why.clone());
        return Err(why);
    }
    // The stream, chunk by chunk, applied on the loop in order; its silences are the loop's
    // to judge (PINGs come every repl-ping-replica-period).
    let _ = r.get_ref().set_read_timeout(None);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed by the master".into());
        }
        let bytes = buf[..n].to_vec();
        notifier.send(Box::new(move |srv| {
            if !current(srv, generation) {
                return;
            }
            let answer = srv.engine.replica_feed(&bytes, now_us());
            if !answer.is_empty() {
                write(srv, &answer);
            }
            srv.handle_events();
        }));
    }
}

/// What a read that waited `repl-timeout` for nothing reports.
const TIMED_OUT: &str = "timeout";

fn io_error(e: std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => TIMED_OUT.into(),
        _ => e.to_string(),
    }
}

/// One reply line without its CRLF; newlines alone (the primary's keepalives while it
/// prepares the payload) come back empty.
fn line(r: &mut BufReader<TcpStream>) -> Result<String, String> {
    let mut l = Vec::new();
    let n = r.by_ref().take(64 * 1024).read_until(b'\n', &mut l).map_err(io_error)?;
    if n == 0 {
        return Err("connection closed by the master".into());
    }
    while l.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
        l.pop();
    }
    Ok(String::from_utf8_lossy(&l).into_owned())
}

/// The payload after +FULLRESYNC: `$<len>` and that many bytes, or `$EOF:<40-byte mark>`
/// and bytes until the mark (diskless).
fn payload(r: &mut BufReader<TcpStream>, notifier: &Notifier) -> Result<Vec<u8>, String> {
    let head = loop {
        let l = line(r)?;
        if !l.is_empty() {
            break l;
        }
    };
    if let Some(err) = head.strip_prefix('-') {
        return Err(format!("MASTER aborted replication with an error: {}", err));
    }
    let Some(spec) = head.strip_prefix('$') else {
        return Err(format!("Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?", head));
    };
    if let Some(mark) = spec.strip_prefix("EOF:") {
        let mark = mark.as_bytes().to_vec();
        log(notifier, crate::log::Level::Notice, "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk".into());
        // The stream follows the mark at once: take only what comes before it.
        let mut data = Vec::new();
        loop {
            let chunk = r.fill_buf().map_err(io_error)?;
            if chunk.is_empty() {
                return Err("connection closed during the payload".into());
            }
            let n = chunk.len();
            let from = data.len().saturating_sub(mark.len());
            data.extend_from_slice(chunk);
            if let Some(at) = data[from..].windows(mark.len()).position(|w| w == mark.as_slice()) {
                let end = from + at + mark.len();
                // Of this chunk, only the bytes up to the mark's end are the payload's.
                r.consume(n - (data.len() - end));
                data.truncate(end - mark.len());
                return Ok(data);
            }
            r.consume(n);
        }
    }
    let len: usize = spec.parse().map_err(|_| format!("Bad payload length from MASTER: {}", spec))?;
    log(notifier, crate::log::Level::Notice, format!("MASTER <-> REPLICA sync: receiving {} bytes from master to disk", len));
    let mut data = vec![0u8; len];
    r.read_exact(&mut data).map_err(io_error)?;
    Ok(data)
}
