//! The loop's sockets: the poller, the listening sockets and the connections, with the
//! lists of connections the loop owes work (to run, to write). They sit behind one mutex
//! that only the loop thread ever takes: the loop, and a script's busy hook called from
//! inside the engine on the same thread (see `busy.rs`), which answers other clients while
//! the script runs, as Redis's processEventsWhileBlocked does. The loop never calls into
//! the engine while holding it.

use std::sync::Arc;

use cinnabar::session::Session;
use cinnabar::{ClientId, ClientInfo};
use hashbrown::HashMap;
use mio::{Interest, Poll, Token};
use slab::Slab;

use crate::conn::{Conn, Stream};
use crate::listener::Listener;

pub const WAKER: Token = Token(0);
pub const SIGNALS: Token = Token(1);
/// Listening sockets are tokens 2.., connections CONNS...
const LISTENERS: usize = 2;
const CONNS: usize = 1 << 20;

pub fn conn_token(key: usize) -> Token {
    Token(CONNS + key)
}

/// What a token names.
pub enum Target {
    Waker,
    Signals,
    Listener(usize),
    Conn(usize),
}

pub fn target(t: Token) -> Target {
    match t.0 {
        0 => Target::Waker,
        1 => Target::Signals,
        n if n >= CONNS => Target::Conn(n - CONNS),
        n => Target::Listener(n - LISTENERS),
    }
}

/// Connection settings from the config, as last read outside a script (a connection
/// accepted while one is busy is judged by these).
#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub max_clients: usize,
    pub protected: bool,
    pub max_bulk: i64,
    pub query_limit: usize,
}

impl Params {
    /// The connection settings as the config has them now.
    pub fn of(e: &cinnabar::Engine) -> Params {
        let c = e.config();
        Params {
            max_clients: c.get_i64(cinnabar::param!("maxclients")).max(0) as usize,
            protected: c.get_bool(cinnabar::param!("protected-mode")) && c.get(cinnabar::param!("requirepass")).is_empty(),
            max_bulk: e.max_bulk_len(),
            query_limit: c.get_i64(cinnabar::param!("client-query-buffer-limit")).max(0) as usize,
        }
    }
}

/// A running script as the busy hook sees it (the engine cannot be asked while it runs).
#[derive(Default)]
pub struct Script {
    pub running: bool,
    pub busy: bool,
    pub eval: bool,
    pub wrote: bool,
    pub kill: bool,
    /// The running function and when it started (FUNCTION STATS while busy).
    pub function: Option<(Box<cinnabar::script::watch::RunningFunction>, std::time::Instant)>,
}

/// The loop's work lists, by connection.
#[derive(Default)]
pub struct Work {
    /// Connections with work for the loop: input read, or a wait that ended.
    pub to_run: Vec<usize>,
    /// Connections with replies to write at the end of the loop turn.
    pub to_write: Vec<usize>,
    /// Connections with input left unread (an event that came while their session was out,
    /// a read cut at its budget): read again at the next turn without waiting for an event.
    pub unread: Vec<usize>,
    /// Clients whose sockets closed while a script ran: the engine forgets them after it.
    pub gone: Vec<ClientId>,
}

pub struct Net {
    pub poll: Poll,
    pub listeners: Vec<Option<Listener>>,
    pub conns: Slab<Conn>,
    pub by_id: HashMap<ClientId, usize>,
    /// What the loop has to do for which connections.
    pub work: Work,
    /// Events the busy hook saw for the loop's own tokens (cross-thread messages, signals).
    pub woken: bool,
    pub signalled: bool,
    pub params: Params,
    pub script: Script,
    /// Connections refused for maxclients since the engine was last told (INFO
    /// rejected_connections).
    pub rejected: u64,
}

impl Net {
    pub fn new(poll: Poll, params: Params) -> Net {
        Net {
            poll,
            listeners: Vec::new(),
            conns: Slab::with_capacity(1024),
            by_id: HashMap::new(),
            work: Work::default(),
            woken: false,
            signalled: false,
            params,
            script: Script::default(),
            rejected: 0,
        }
    }

    /// Listens on these sockets (after the ones it has).
    pub fn add_listeners(&mut self, ls: Vec<Listener>) -> std::io::Result<()> {
        for mut l in ls {
            let token = Token(LISTENERS + self.listeners.len());
            self.poll.registry().register(l.source(), token, Interest::READABLE)?;
            self.listeners.push(Some(l));
        }
        Ok(())
    }

    /// Closes the TCP listening sockets (CONFIG SET port/bind); the Unix one stays.
    pub fn close_tcp_listeners(&mut self) {
        for slot in self.listeners.iter_mut() {
            if let Some(l @ Listener::Tcp(_)) = slot {
                let _ = self.poll.registry().deregister(l.source());
                *slot = None;
            }
        }
    }

    /// Accepts what waits on listener `i` (at most 1000 a turn, as Redis's
    /// MAX_ACCEPTS_PER_CALL). `connect` registers each new client with the engine, or None
    /// while a script keeps the engine busy (the connection is registered later).
    pub fn accept(&mut self, i: usize, mut connect: Option<&mut dyn FnMut(&ClientInfo) -> Session>) {
        for _ in 0..1000 {
            let Some(Some(l)) = self.listeners.get_mut(i) else {
                break;
            };
            let (stream, info, local) = match l {
                Listener::Tcp(l) => match l.accept() {
                    Ok((s, peer)) => {
                        let _ = s.set_nodelay(true);
                        let laddr = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                        let fd = std::os::fd::AsRawFd::as_raw_fd(&s) as i64;
                        (Stream::Tcp(s), ClientInfo { addr: peer.to_string(), laddr, fd, unix: false, writes_resp: true }, peer.ip().is_loopback())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        // EMFILE and friends: try again at the next event.
                        serverlog!(Warning, "Accepting client connection: {}", crate::files::strerror(&e));
                        break;
                    }
                },
                Listener::Unix(l, path) => match l.accept() {
                    Ok((s, _)) => {
                        let addr = format!("{}:0", path);
                        let fd = std::os::fd::AsRawFd::as_raw_fd(&s) as i64;
                        (Stream::Unix(s), ClientInfo { addr: addr.clone(), laddr: addr, fd, unix: true, writes_resp: true }, true)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        serverlog!(Warning, "Accepting client connection: {}", crate::files::strerror(&e));
                        break;
                    }
                },
            };
            let mut stream = stream;
            // acceptCommonHandler: protected mode, then maxclients; the refusal is written
            // once, without waiting, and the socket closed.
            if self.params.protected && !local {
                let _ = stream.write(DENIED.as_bytes());
                continue;
            }
            if self.conns.len() >= self.params.max_clients {
                let _ = stream.write(b"-ERR max number of clients reached\r\n");
                self.rejected += 1;
                continue;
            }
            let (session, id) = match connect.as_mut() {
                Some(connect) => {
                    let s = connect(&info);
                    let id = s.id;
                    (s, Some(id))
                }
                None => (Session::unregistered(self.params.max_bulk), None),
            };
            let key = self.conns.vacant_key();
            if self.poll.registry().register(stream.source(), conn_token(key), Interest::READABLE | Interest::WRITABLE).is_err() {
                continue;
            }
            self.conns.insert(Conn::new(stream, session, id, info));
            if let Some(id) = id {
                self.by_id.insert(id, key);
            }
        }
    }

    /// Drops a connection: its socket closes now, whatever it had not written.
    pub fn remove(&mut self, key: usize) -> Option<Conn> {
        let mut conn = self.conns.try_remove(key)?;
        let _ = self.poll.registry().deregister(conn.stream.source());
        if let Some(id) = conn.id {
            self.by_id.remove(&id);
        }
        Some(conn)
    }

    /// Queues a connection for the loop to run (once).
    pub fn queue_run(&mut self, key: usize) {
        if let Some(c) = self.conns.get_mut(key) {
            if !c.queued_run {
                c.queued_run = true;
                self.work.to_run.push(key);
            }
        }
    }

    /// Queues a connection's replies for the end of the loop turn (once).
    pub fn queue_write(&mut self, key: usize) {
        if let Some(c) = self.conns.get_mut(key) {
            if !c.queued_write {
                c.queued_write = true;
                self.work.to_write.push(key);
            }
        }
    }
}

/// The shared handle: the loop's and the busy hook's.
pub type SharedNet = Arc<parking_lot::Mutex<Net>>;

const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
