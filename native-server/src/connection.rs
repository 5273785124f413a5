//! One client connection. Reads into a buffer, parses every complete command, runs the whole
//! pipelined batch under one engine lock, and writes all replies with one write. Protocol
//! errors get Redis's error line and close only this connection.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use cinnabar::resp::{write_reply, RequestParser};
use cinnabar::ClientInfo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::shared::{now_us, Shared};

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
    let killed = shared.register(id);
    run(&mut stream, id, &shared, &killed, timeout_s, max_bulk).await;
    shared.unregister(id);
    shared.engine().disconnect(id);
    shared.connections.fetch_sub(1, Ordering::Relaxed);
}

async fn run(stream: &mut TcpStream, id: cinnabar::ClientId, shared: &Shared, killed: &tokio::sync::Notify, timeout_s: i64, max_bulk: i64) {
    let mut shutdown = shared.shutdown_rx();
    let mut parser = RequestParser::new(max_bulk);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut authenticated = shared.engine().is_authenticated(id);
    let idle = if timeout_s > 0 { Duration::from_secs(timeout_s as u64) } else { Duration::from_secs(365 * 24 * 3600) };
    loop {
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            r = stream.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = killed.notified() => return,
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(idle) => return,
        }
        let mut close = false;
        // Unauthenticated clients are parsed one command at a time, because AUTH in the
        // middle of a pipeline lifts the parser's limits for the commands after it. Keep
        // going until the buffer holds no complete command.
        loop {
            let mut batch: Vec<Vec<Bytes>> = Vec::new();
            let mut proto_err = None;
            loop {
                match parser.next(&mut buf, authenticated) {
                    Ok(Some(argv)) => {
                        batch.push(argv);
                        if !authenticated {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        proto_err = Some(e);
                        break;
                    }
                }
            }
            let parsed_any = !batch.is_empty();
            if parsed_any {
                let mut engine = shared.engine();
                close = engine.execute_batch(id, batch, now_us(), |reply, resp3| write_reply(&reply, resp3, &mut out));
                authenticated = engine.is_authenticated(id);
                shared.handle_events(&mut engine);
            }
            if let Some(e) = proto_err {
                out.extend_from_slice(format!("-{}\r\n", e).as_bytes());
                close = true;
            }
            if close || !parsed_any || buf.is_empty() {
                break;
            }
        }
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
            if out.capacity() > 4 * READ_CHUNK {
                out.shrink_to(READ_CHUNK);
            }
        }
        if close {
            let _ = stream.shutdown().await;
            return;
        }
        if buf.is_empty() && buf.capacity() > 4 * READ_CHUNK && parser.wants(0) == 0 {
            buf = BytesMut::with_capacity(READ_CHUNK);
        }
    }
}
