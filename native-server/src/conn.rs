//! One client connection as the loop holds it: its socket and the core's RESP session
//! (`cinnabar::session::Session`: query buffer, parsed commands, reply buffer). Reading and
//! writing touch only the connection, never the engine, so an I/O thread may do either
//! (Valkey's io_threads.c rule: the main thread runs commands, I/O threads move bytes).

use std::io::{ErrorKind, Write};
use std::os::fd::{AsRawFd, RawFd};

use bytes::BufMut;
use cinnabar::session::Session;
use cinnabar::{ClientId, ClientInfo};
use mio::net::{TcpStream, UnixStream};

/// A client's socket: TCP (`bind`/`port`) or a Unix socket (`unixsocket`).
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    pub fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    pub fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
}

/// What a read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// `bytes` arrived (maybe none); `more`: the read filled the room it had, so the socket
    /// may hold more: the loop reads again at its next turn without waiting for an event.
    Data { bytes: usize, more: bool },
    /// The peer closed, or the socket failed.
    Gone,
}

/// What a write did: how many bytes the socket took, or None when the peer is gone.
pub type Wrote = Option<usize>;

pub struct Conn {
    pub stream: Stream,
    /// None while the loop runs this connection's commands (the engine has it); a script's
    /// busy handler then leaves the connection alone.
    pub session: Option<Box<Session>>,
    /// The engine's client: None for a connection accepted while a script kept the engine
    /// busy, until the loop registers it.
    pub id: Option<ClientId>,
    pub info: ClientInfo,
    /// Queued in the loop's list of connections to run, or to write.
    pub queued_run: bool,
    pub queued_write: bool,
    /// Input arrived that has not been read yet (an event seen while the session was out,
    /// or a read cut at its budget).
    pub unread: bool,
    /// The deadline of the wait registered in the loop's timers (Unix ms), if any.
    pub deadline: Option<i64>,
}

impl Conn {
    pub fn new(stream: Stream, session: Session, id: Option<ClientId>, info: ClientInfo) -> Conn {
        Conn { stream, session: Some(Box::new(session)), id, info, queued_run: false, queued_write: false, unread: false, deadline: None }
    }

    pub fn session(&mut self) -> &mut Session {
        self.session.as_mut().expect("the session is in place outside the loop's run")
    }

    /// Reads what the socket has into the query buffer (see `read`).
    pub fn read(&mut self, parse: bool) -> Read {
        let fd = self.stream.fd();
        let Some(session) = self.session.as_mut() else {
            return Read::Data { bytes: 0, more: false };
        };
        let r = read(fd, session, parse);
        self.unread = matches!(r, Read::Data { more: true, .. });
        r
    }

    /// Writes what the socket takes of the pending replies.
    pub fn write(&mut self) -> Wrote {
        let fd = self.stream.fd();
        match self.session.as_mut() {
            Some(s) => write(fd, s),
            None => Some(0),
        }
    }

    pub fn fd(&self) -> RawFd {
        self.stream.fd()
    }
}

/// One read of what socket `fd` has into the session's query buffer (and a parse of it when
/// `parse`), as Redis reads a client once per event-loop turn (16 KB, or the rest of a big
/// argument), so a client streaming a long pipeline takes turns with the others and its
/// buffer stays small. A read shorter than the room offered means the socket was drained
/// (edge-triggered readiness fires again when more arrives); a full one may have left more.
/// Touches only the session, so an I/O thread may run it.
pub fn read(fd: RawFd, session: &mut Session, parse: bool) -> Read {
    let result = loop {
        let room = session.read_room();
        let input = &mut session.input;
        // recv rather than read: a socket's own entry point, without the file layer's checks.
        // SAFETY: recv(2) writes at most `room` bytes into the buffer's spare capacity,
        // which `read_room` made at least that large; only the bytes it reports written
        // are then marked initialised.
        let n = unsafe { libc::recv(fd, input.chunk_mut().as_mut_ptr().cast(), room, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            match e.kind() {
                ErrorKind::Interrupted => continue,
                ErrorKind::WouldBlock => break Read::Data { bytes: 0, more: false },
                _ => break Read::Gone,
            }
        }
        if n == 0 {
            break Read::Gone;
        }
        // SAFETY: the kernel initialised these `n` bytes.
        unsafe { input.advance_mut(n as usize) };
        break Read::Data { bytes: n as usize, more: n as usize == room };
    };
    if parse && matches!(result, Read::Data { bytes: 1.., .. }) {
        session.parse();
    }
    result
}

/// Writes what socket `fd` takes of the session's pending replies. Touches only the
/// session, so an I/O thread may run it.
pub fn write(fd: RawFd, session: &mut Session) -> Wrote {
    let mut total = 0;
    while session.wants_write() {
        let pending = &session.output[session.sent..];
        // send rather than write (see `read`); MSG_NOSIGNAL: a peer gone is an error here,
        // never a SIGPIPE.
        // SAFETY: send(2) reads at most `pending.len()` bytes from a live slice.
        let n = unsafe { libc::send(fd, pending.as_ptr().cast(), pending.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            match std::io::Error::last_os_error().kind() {
                ErrorKind::WouldBlock => break,
                ErrorKind::Interrupted => continue,
                _ => return None,
            }
        }
        if n == 0 {
            return None;
        }
        session.wrote(n as usize);
        total += n as usize;
    }
    Some(total)
}
