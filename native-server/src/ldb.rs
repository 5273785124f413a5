//! The Lua debugger's I/O (`cinnabar::script::ldb::DebugChannel`), as Redis does it in
//! eval.c: blocking reads and writes straight on the debugging client's socket from inside
//! the script's line hook, and for SCRIPT DEBUG YES a fork, so the session runs in a child
//! (its changes die with it) while the parent drops the client and goes on serving. SYNC
//! sessions block the loop for as long as the client takes, as they block Redis.

use std::os::fd::RawFd;
use std::sync::Mutex;

use cinnabar::script::ldb::{DebugChannel, Forked};
use cinnabar::ClientId;

use crate::net::SharedNet;

/// Children running forked sessions, killed at shutdown (ldbKillForkedSessions).
static SESSIONS: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

pub struct Debugger {
    net: SharedNet,
    /// The connection of the client being debugged, found once: a forked child must not
    /// take the loop's lock, which another thread may have held when it was forked.
    fd: Option<(ClientId, RawFd)>,
}

impl Debugger {
    pub fn new(net: SharedNet) -> Debugger {
        Debugger { net, fd: None }
    }

    fn fd(&mut self, client: ClientId) -> Option<RawFd> {
        if let Some((id, fd)) = self.fd {
            if id == client {
                return Some(fd);
            }
        }
        let net = self.net.lock();
        let fd = net.conns.iter().find(|(_, c)| c.id == Some(client)).map(|(_, c)| c.stream.fd())?;
        self.fd = Some((client, fd));
        Some(fd)
    }
}

/// Waits until `fd` is ready for `events`, up to `timeout_ms` (-1: forever).
fn wait(fd: RawFd, events: libc::c_short, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    loop {
        // SAFETY: one pollfd that lives across the call.
        let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
        if r >= 0 {
            return r > 0;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

impl DebugChannel for Debugger {
    fn write(&mut self, client: ClientId, mut bytes: &[u8]) {
        let Some(fd) = self.fd(client) else { return };
        while !bytes.is_empty() {
            // Redis's connSendTimeout(5000) while the session holds the connection.
            if !wait(fd, libc::POLLOUT, 5000) {
                return;
            }
            // SAFETY: writes from a live slice to a descriptor the connection owns.
            let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) };
            if n > 0 {
                bytes = &bytes[n as usize..];
            } else if n < 0 && !matches!(std::io::Error::last_os_error().kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) {
                return;
            }
        }
    }

    fn read(&mut self, client: ClientId, buf: &mut Vec<u8>) -> bool {
        let Some(fd) = self.fd(client) else { return false };
        let mut chunk = [0u8; 1024];
        loop {
            if !wait(fd, libc::POLLIN, -1) {
                return false;
            }
            // SAFETY: reads into a live stack buffer of the length given.
            let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
            if n > 0 {
                buf.extend_from_slice(&chunk[..n as usize]);
                return true;
            }
            if n == 0 || !matches!(std::io::Error::last_os_error().kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) {
                return false;
            }
        }
    }

    fn fork(&mut self, client: ClientId) -> Result<Forked, String> {
        self.fd(client).ok_or("the client's connection is gone")?;
        // SAFETY: the child runs the script on its copy of the engine, does I/O on the
        // client's descriptor only, and leaves through `exit_child`'s _exit.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        if pid == 0 {
            // SAFETY: signal dispositions of this process: the parent's handlers would wake
            // the parent's loop, not end this session.
            unsafe {
                libc::signal(libc::SIGTERM, libc::SIG_IGN);
                libc::signal(libc::SIGINT, libc::SIG_IGN);
            }
            serverlog!(Warning, "Redis forked for debugging eval");
            return Ok(Forked::Child);
        }
        SESSIONS.lock().unwrap_or_else(|p| p.into_inner()).push(pid);
        let reaped = std::thread::Builder::new().name("ldb-child".into()).spawn(move || {
            let mut status = 0;
            // SAFETY: waits for our own child.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {}
            SESSIONS.lock().unwrap_or_else(|p| p.into_inner()).retain(|&p| p != pid);
        });
        if let Err(e) = reaped {
            serverlog!(Warning, "Can't watch the debugging session child {}: {}", pid, e);
        }
        Ok(Forked::Parent)
    }

    fn exit_child(&mut self, client: ClientId, reply: &[u8]) {
        self.write(client, reply);
        serverlog!(Warning, "Lua debugging session child exiting");
        // SAFETY: the child ends here, without running the parent's exit handlers.
        unsafe { libc::_exit(0) };
    }
}

/// SHUTDOWN: forked debugging sessions end with the server.
pub fn kill_sessions() {
    for pid in SESSIONS.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
        serverlog!(Warning, "Killing debugging session {}", pid);
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}
