//! Binding and accepting. `bind` takes several addresses; a leading `-` marks one as optional
//! (skipped if the interface does not exist), as in redis.conf's default `127.0.0.1 -::1`.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::shared::Shared;

pub async fn bind_all(bind: &str, port: u16) -> Result<Vec<TcpListener>, String> {
    let mut out = vec![];
    let addrs: Vec<&str> = if bind.trim().is_empty() { vec!["*", "-::*"] } else { bind.split_whitespace().collect() };
    for a in addrs {
        let (optional, host) = match a.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, a),
        };
        let host = match host {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        let addr: SocketAddr = match format!("{}:{}", host, port).parse().or_else(|_| format!("[{}]:{}", host, port).parse()) {
            Ok(a) => a,
            Err(_) => return Err(format!("Invalid bind address '{}'", a)),
        };
        match TcpListener::bind(addr).await {
            Ok(l) => out.push(l),
            Err(e) if optional => tracing_skip(&addr, &e),
            Err(e) => return Err(format!("Warning: Could not create server TCP listening socket {}: {}", addr, e)),
        }
    }
    if out.is_empty() {
        return Err("Failed listening on port (tcp), aborting.".into());
    }
    Ok(out)
}

fn tracing_skip(addr: &SocketAddr, e: &std::io::Error) {
    tracing::debug!("optional bind address {} skipped: {}", addr, e);
}

/// The accept loops of the current listening sockets. Dropping the sockets (CONFIG SET
/// port/bind) means stopping the loops that own them and waiting for them to end.
pub struct Listening {
    stop: watch::Sender<bool>,
    loops: Vec<tokio::task::JoinHandle<()>>,
}

impl Listening {
    pub fn start(listeners: Vec<TcpListener>, shared: &Arc<Shared>) -> Listening {
        let stop = watch::channel(false).0;
        let loops = listeners.into_iter().map(|l| tokio::spawn(accept_loop(l, shared.clone(), stop.subscribe()))).collect();
        Listening { stop, loops }
    }

    /// Closes the sockets: returns once every loop has ended and dropped its listener.
    pub async fn close(self) {
        let _ = self.stop.send(true);
        for l in self.loops {
            let _ = l.await;
        }
    }
}

/// CONFIG SET port/bind (changeListener): the old sockets close, the new ones open; when
/// they cannot, the old addresses are bound again. Reported to the engine either way.
pub async fn rebind(shared: Arc<Shared>, client: Option<cinnabar::ClientId>, bind: String, port: u16, previous: Vec<(String, String)>) {
    if let Some(old) = shared.take_listening() {
        old.close().await;
    }
    let result = match open(&bind, port).await {
        Ok(ls) => {
            shared.set_listening(Listening::start(ls, &shared));
            Ok(())
        }
        Err(e) => {
            let prev = |n: &str| previous.iter().find(|(k, _)| k == n).map_or("", |(_, v)| v.as_str()).to_string();
            let old_port = prev("port").parse::<u16>().unwrap_or(0);
            match open(&prev("bind"), old_port).await {
                Ok(ls) => shared.set_listening(Listening::start(ls, &shared)),
                Err(e) => eprintln!("Could not listen again on the previous addresses: {}", e),
            }
            eprintln!("{}", e);
            Err(e)
        }
    };
    let mut engine = shared.engine();
    engine.listen_finished(client, result, &previous);
    shared.handle_events(&mut engine);
}

/// `bind_all`, except that port 0 means no TCP listener at all, as in Redis.
async fn open(bind: &str, port: u16) -> Result<Vec<TcpListener>, String> {
    if port == 0 {
        return Ok(Vec::new());
    }
    bind_all(bind, port).await
}

async fn accept_loop(l: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let mut shutdown = shared.shutdown_rx();
        tokio::select! {
            _ = stop.changed() => return,
            r = l.accept() => match r {
                Ok((stream, peer)) => {
                    let shared = shared.clone();
                    tokio::spawn(async move { crate::connection::serve_tcp(stream, peer, shared).await });
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("accept failed: {}", e);
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            },
            _ = shutdown.changed() => return,
        }
    }
}

/// `unixsocket`: a stale socket file left by a previous run is replaced (as anetUnixServer
/// does), and `unixsocketperm` (octal, 0 = leave the umask's) applies to the new one.
pub fn bind_unix(path: &str, perm: u32) -> Result<tokio::net::UnixListener, String> {
    let _ = std::fs::remove_file(path);
    let l = tokio::net::UnixListener::bind(path).map_err(|e| format!("Failed opening Unix socket: {}", e))?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm)).map_err(|e| format!("Failed opening Unix socket: {}", e))?;
    }
    Ok(l)
}

/// Accepts on the Unix socket until shutdown; the socket file goes with the server.
pub fn start_unix(l: tokio::net::UnixListener, path: String, shared: Arc<Shared>) {
    tokio::spawn(async move {
        let mut shutdown = shared.shutdown_rx();
        loop {
            tokio::select! {
                r = l.accept() => match r {
                    Ok((stream, _)) => {
                        let (shared, path) = (shared.clone(), path.clone());
                        tokio::spawn(async move { crate::connection::serve_unix(stream, path, shared).await });
                    }
                    Err(e) => {
                        tracing::warn!("accept failed: {}", e);
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                },
                _ = shutdown.changed() => return,
            }
        }
    });
}
