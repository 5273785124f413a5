//! Binding and accepting. `bind` takes several addresses; a leading `-` marks one as optional
//! (skipped if the interface does not exist), as in redis.conf's default `127.0.0.1 -::1`.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

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

pub async fn accept_loop(l: TcpListener, shared: Arc<Shared>) {
    loop {
        let mut shutdown = shared.shutdown_rx();
        tokio::select! {
            r = l.accept() => match r {
                Ok((stream, peer)) => {
                    let shared = shared.clone();
                    tokio::spawn(async move { crate::connection::serve(stream, peer, shared).await });
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
