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
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::shared::{now_us, Shared, Signals};

const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Read buffers start small (idle clients cost little) and shrink back after a big request.
const READ_CHUNK: usize = 16 * 1024;

pub async fn serve(mut stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let (max_clients, protected, timeout_s, max_bulk) = {
        let e = shared.engine();
        let c = e.config();
        (c.get_i64("maxclients") as usize, c.get_bool("protected-mode") && c.get("requirepass").unwrap_or("").is_empty(), c.get_i64("timeout"), e.max_bulk_len())
    };
    if protected && !peer.ip().is_loopback() {
        let _ = stream.write_all(DENIED.as_bytes()).await;
        return;
    }
    if shared.connections.fetch_add(1, Ordering::Relaxed) >= max_clients {
        shared.connections.fetch_sub(1, Ordering::Relaxed);
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
        return;
    }
    let fd = {
        use std::os::fd::AsRawFd;
        stream.as_raw_fd() as i64
    };
    let id = shared.engine().connect(ClientInfo { addr: peer.to_string(), laddr: local, fd }, now_us());
    let signals = shared.register(id);
    run(&mut stream, id, &shared, &signals, timeout_s, max_bulk).await;
    shared.unregister(id);
    shared.engine().disconnect(id);
    shared.connections.fetch_sub(1, Ordering::Relaxed);
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

async fn run(stream: &mut TcpStream, id: cinnabar::ClientId, shared: &Shared, signals: &Signals, timeout_s: i64, max_bulk: i64) {
    // Reading and writing are independent, as in Redis: a client that pipelines many
    // commands before reading any reply (redis-py's pipeline does) must not stall the
    // connection when its receive window fills, so input keeps being read and run while
    // replies wait in `out` for the socket to drain.
    let (mut rd, mut wr) = stream.split();
    let mut written = 0;
    let mut shutdown = shared.shutdown_rx();
    let mut parser = RequestParser::new(max_bulk);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    // Parsed commands not yet run: the rest of a pipeline behind a blocked command.
    let mut pending: VecDeque<Vec<Bytes>> = VecDeque::new();
    let mut authenticated = shared.engine().is_authenticated(id);
    let (mut blocked, mut deadline) = (false, None);
    // A blocked client waits for its keys, not for the idle timeout (as in Redis).
    // Without a `timeout` no timer is armed at all: registering one per read costs the
    // runtime's timer wheel a lock and an entry on every pipelined batch.
    let idle = (timeout_s > 0).then(|| Duration::from_secs(timeout_s as u64));
    let mut proto_err = None;
    loop {
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(READ_CHUNK);
        }
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
            {
                let mut engine = shared.engine();
                // Pub/sub messages stay in the engine while the socket is backed up, so its
                // output limit (client-output-buffer-limit pubsub) sees them.
                if written == out.len() {
                    engine.take_replies(id, |reply, resp3| write_reply(&reply, resp3, &mut out));
                }
                if !engine.is_blocked(id) && !pending.is_empty() {
                    close = engine.execute_batch(id, &mut pending, now_us(), |reply, resp3| write_reply(&reply, resp3, &mut out));
                    authenticated = engine.is_authenticated(id);
                    shared.handle_events(&mut engine);
                }
                blocked = engine.is_blocked(id);
                deadline = engine.block_deadline_ms(id);
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
        while written < out.len() {
            match wr.try_write(&out[written..]) {
                Ok(0) => return,
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return,
            }
        }
        if written == out.len() {
            out.clear();
            written = 0;
            if out.capacity() > 4 * READ_CHUNK {
                out.shrink_to(READ_CHUNK);
            }
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
