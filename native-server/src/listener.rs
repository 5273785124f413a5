//! Binding and accepting. `bind` takes several addresses; a leading `-` marks one as optional
//! (skipped if the interface does not exist), as in redis.conf's default `127.0.0.1 -::1`.
//! Sockets are made as anetTcpServer makes them: SO_REUSEADDR, IPV6_V6ONLY on IPv6 ones (so
//! `0.0.0.0` and `::` can both be bound on one port), and `tcp-backlog` as the listen queue.

use std::net::SocketAddr;

use mio::net::{TcpListener, UnixListener};
use socket2::{Domain, Socket, Type};

use crate::files::strerror;

pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, String),
}

impl Listener {
    pub fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Listener::Tcp(l) => l,
            Listener::Unix(l, _) => l,
        }
    }
}

/// One listening socket per address of `bind` (`*`, `::*` and a leading `-` as Redis reads
/// them); port 0 means no TCP listener at all, as in Redis.
pub fn bind_all(bind: &str, port: u16, backlog: i32) -> Result<Vec<Listener>, String> {
    if port == 0 {
        return Ok(Vec::new());
    }
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
        let written = a.strip_prefix('-').unwrap_or(a);
        let fatal = |why: String| {
            format!("Warning: Could not create server TCP listening socket {}:{}: {}\nFailed listening on port {} (tcp), aborting.", written, port, why, port)
        };
        let addr: SocketAddr = match format!("{}:{}", host, port).parse().or_else(|_| format!("[{}]:{}", host, port).parse()) {
            Ok(a) => a,
            Err(_) => return Err(fatal("Invalid bind address".into())),
        };
        match listen(addr, backlog) {
            Ok(l) => out.push(Listener::Tcp(l)),
            // listenToPort: an optional address that is not there is skipped, as is one whose
            // protocol the system lacks (an IPv6 address without IPv6); the rest is fatal.
            Err((_, e)) if optional && e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {}
            Err((_, e))
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOPROTOOPT) | Some(libc::EPROTONOSUPPORT) | Some(libc::ESOCKTNOSUPPORT) | Some(libc::EPFNOSUPPORT) | Some(libc::EAFNOSUPPORT)
                ) => {}
            Err((step, e)) => return Err(fatal(format!("{}: {}", step, strerror(&e)))),
        }
    }
    Ok(out)
}

/// anetTcpServer's steps; the failing one names itself in the error, as Redis's does.
fn listen(addr: SocketAddr, backlog: i32) -> Result<TcpListener, (&'static str, std::io::Error)> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).map_err(|e| ("creating socket", e))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).map_err(|e| ("setsockopt", e))?;
    }
    socket.set_reuse_address(true).map_err(|e| ("setsockopt SO_REUSEADDR", e))?;
    socket.bind(&addr.into()).map_err(|e| ("bind", e))?;
    socket.listen(backlog).map_err(|e| ("listen", e))?;
    socket.set_nonblocking(true).map_err(|e| ("fcntl(F_SETFL,O_NONBLOCK)", e))?;
    Ok(TcpListener::from_std(socket.into()))
}

/// `unixsocket`: a stale socket file left by a previous run is replaced (as anetUnixServer
/// does), and `unixsocketperm` (octal, 0 = leave the umask's) applies to the new one.
pub fn bind_unix(path: &str, perm: u32, backlog: i32) -> Result<Listener, String> {
    let fail = |e: std::io::Error| format!("Failed opening Unix socket: {}", strerror(&e));
    let _ = std::fs::remove_file(path);
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(fail)?;
    socket.bind(&socket2::SockAddr::unix(path).map_err(fail)?).map_err(fail)?;
    socket.listen(backlog).map_err(fail)?;
    socket.set_nonblocking(true).map_err(fail)?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm)).map_err(fail)?;
    }
    let std_listener: std::os::unix::net::UnixListener = socket.into();
    Ok(Listener::Unix(UnixListener::from_std(std_listener), path.to_string()))
}
