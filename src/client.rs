//! A client session as the core sees it. Sessions live in the core, not the host, so the
//! native server, the browser terminal and an edge worker behave identically for SELECT,
//! HELLO, AUTH, CLIENT SETNAME and the rest. Redis: the `client` struct in server.h.

use bytes::Bytes;

pub type ClientId = u64;

/// Every connected client by id: the engine's table, and the "others" of a running command.
pub type ClientTable = hashbrown::HashMap<ClientId, Box<Client>>;

/// What the host knows about a connection when it opens it.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The host writes this client's replies as RESP bytes (a socket, a RESP session), so a
    /// long reply may be encoded as it is produced (`reply_stream`).
    pub writes_resp: bool,
    /// Peer address as `ip:port` (CLIENT LIST `addr=`).
    pub addr: String,
    /// Local address as `ip:port` (CLIENT LIST `laddr=`).
    pub laddr: String,
    /// File descriptor or host-specific handle number (CLIENT LIST `fd=`).
    pub fd: i64,
    /// Connected through a Unix socket: local whatever its address (CLIENT LIST flag `U`).
    pub unix: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Internal: the SKIP has been armed by the previous command and applies to this one.
    SkipNext,
}

/// Redis's per-client reply buffer (PROTO_REPLY_CHUNK_BYTES): output up to it is not counted
/// against the output limits.
pub const REPLY_BUFFER: u64 = 16 * 1024;
/// REPLY_BUFFER_SIZE_UNAUTHENTICATED_CLIENT: what a client that never authenticated may hold
/// beyond it.
pub const UNAUTHENTICATED_OUTPUT: u64 = 1024;

#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub info: ClientInfo,
    pub db: usize,
    /// The connection as CLIENT LIST shows it: protocol, names, times, the last command.
    pub conn: Connection,
    pub auth: Auth,
    /// What kind of peer it is: a MONITOR, a replica, our primary's link.
    pub role: Role,
    /// MULTI/EXEC and WATCH.
    pub tx: Transaction,
    /// A command waiting (on keys, a pause, the host, replicas).
    pub wait: Wait,
    /// Pub/sub subscriptions.
    pub pubsub: Subscriptions,
    /// Replies waiting for the host, and what the host holds for the connection.
    pub output: Output,
    /// CLIENT TRACKING is on: its mode (see `tracking.rs`).
    pub tracking: Option<Box<crate::tracking::ClientTracking>>,
}

/// The connection as CLIENT LIST shows it.
#[derive(Debug, Clone)]
pub struct Connection {
    pub resp: u8,
    pub reply_mode: ReplyMode,
    pub name: Option<Bytes>,
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    /// CLIENT NO-EVICT and NO-TOUCH.
    pub no_evict: bool,
    pub no_touch: bool,
    pub created_ms: i64,
    pub last_interaction_ms: i64,
    /// The last command run, as (command, subcommand) names for CLIENT LIST `cmd=`; kept as
    /// static names so recording it costs nothing per command.
    pub last_cmd: Option<(&'static str, Option<&'static str>)>,
    /// Set by QUIT or CLIENT KILL: the host closes after writing pending replies.
    pub close_asap: bool,
    /// SCRIPT DEBUG YES or SYNC: the next EVAL runs in the Lua debugger.
    pub lua_debug: Option<crate::script::ldb::DebugMode>,
}

/// Who the connection runs as.
#[derive(Debug, Clone)]
pub struct Auth {
    pub authenticated: bool,
    /// Authenticated at least once: a client that never was may hold only 1 KB of output
    /// beyond the reply buffer (CVE-2025-21605).
    pub ever_authenticated: bool,
    /// The ACL user the connection runs as (`default` until AUTH/HELLO names another).
    pub user: Bytes,
    /// The ACL generation at which `user` was last seen to have every permission: while it
    /// holds, commands skip the permission check.
    pub acl_unrestricted_at: u64,
}

/// What kind of peer the connection is.
#[derive(Debug, Clone, Default)]
pub struct Role {
    /// In MONITOR mode: every command the server runs is streamed to this client.
    pub monitor: bool,
    /// A replica (it sent SYNC or PSYNC): the replication stream goes to it (`replication`).
    pub replica: bool,
    /// The primary's link on a replica: it applies the replication stream (`replica`).
    pub master: bool,
    /// The replication stream's offset just past this client's last write (WAIT).
    pub woff: u64,
}

/// MULTI/EXEC and WATCH (Redis's mstate and watched_keys).
#[derive(Debug, Clone, Default)]
pub struct Transaction {
    /// Inside MULTI: the queued commands (CLIENT LIST `multi=`).
    pub multi: Option<Vec<Vec<Bytes>>>,
    /// A queued command was refused (unknown, wrong arity): EXEC answers EXECABORT.
    pub multi_error: bool,
    /// A watched key changed: EXEC answers the null array.
    pub dirty_cas: bool,
    /// The (db, key) pairs this client WATCHes, and whether each was already expired then
    /// (an expired key that stays expired does not fail EXEC).
    pub watched: Vec<(usize, Bytes, bool)>,
}

/// A command waiting, and whether this client may wait at all.
#[derive(Debug, Clone, Default)]
pub struct Wait {
    /// Waiting on keys (BLPOP and friends); its later reply lands in `outbox`.
    pub blocked: Option<Box<crate::blocking::Blocked>>,
    /// Inside MULTI/EXEC or a script: blocking commands answer at once instead of waiting.
    pub deny_blocking: bool,
    /// Set while a blocked stream read is re-run because this key got data: the command then
    /// serves that key alone, as Redis serves a woken XREAD (blocked.c).
    pub unblocked_on: Option<bytes::Bytes>,
}

/// Pub/sub subscriptions: channels, patterns (in subscription order, as Redis lists them)
/// and shard channels.
#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    pub subs: hashbrown::HashSet<Bytes>,
    pub psubs: Vec<Bytes>,
    pub ssubs: hashbrown::HashSet<Bytes>,
}

/// Replies waiting for the host, and the host's own buffers for the connection.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Replies produced while the host was not running this client's commands (a blocked
    /// command served by another client's write, a timeout); the host drains them.
    pub outbox: Vec<crate::reply::Reply>,
    /// Bytes queued in `outbox` and not yet taken by the host.
    pub outbox_bytes: u64,
    /// Bytes the host holds for this connection (query buffer, replies not yet written),
    /// as it last reported them: client eviction (`maxmemory-clients`) and CLIENT LIST.
    pub host_mem: u64,
    /// Of `host_mem`, the replies not yet written (CLIENT LIST omem, the output limits).
    pub host_obuf: u64,
    /// Since when (ms) the output has been over the soft limit.
    pub over_soft_since: Option<i64>,
}

impl Client {
    pub fn new(id: ClientId, info: ClientInfo, now_ms: i64, authenticated: bool) -> Client {
        Client {
            id,
            info,
            db: 0,
            conn: Connection {
                resp: 2,
                reply_mode: ReplyMode::On,
                name: None,
                lib_name: None,
                lib_ver: None,
                no_evict: false,
                no_touch: false,
                created_ms: now_ms,
                last_interaction_ms: now_ms,
                last_cmd: None,
                close_asap: false,
                lua_debug: None,
            },
            auth: Auth { authenticated, ever_authenticated: authenticated, user: Bytes::from_static(b"default"), acl_unrestricted_at: 0 },
            role: Role::default(),
            tx: Transaction::default(),
            wait: Wait::default(),
            pubsub: Subscriptions::default(),
            output: Output::default(),
            tracking: None,
        }
    }

    /// Channel plus pattern subscriptions (the count SUBSCRIBE replies carry).
    pub fn subscriptions(&self) -> usize {
        self.pubsub.subs.len() + self.pubsub.psubs.len()
    }

    /// Whether a RESP2 client is in subscribed mode (any kind of subscription).
    pub fn in_pubsub(&self) -> bool {
        !self.pubsub.subs.is_empty() || !self.pubsub.psubs.is_empty() || !self.pubsub.ssubs.is_empty()
    }

    /// `client-output-buffer-limit`'s class (getClientType).
    pub fn class(&self) -> crate::config::ClientClass {
        if self.role.replica {
            crate::config::ClientClass::Replica
        } else if self.in_pubsub() {
            crate::config::ClientClass::PubSub
        } else {
            crate::config::ClientClass::Normal
        }
    }

    /// Output bytes as the limits count them (getClientOutputBufferMemoryUsage): what waits
    /// past the 16 KB reply buffer, including messages still in the engine's outbox.
    pub fn output_usage(&self) -> u64 {
        self.output.outbox_bytes + self.output.host_obuf.saturating_sub(REPLY_BUFFER)
    }

    /// The output bytes past which this client is closed at once, if any.
    pub fn output_hard_limit(&self, hot: &crate::config::Hot) -> Option<u64> {
        if !self.auth.authenticated && !self.auth.ever_authenticated {
            return Some(UNAUTHENTICATED_OUTPUT);
        }
        let l = hot.output_limits[self.class() as usize].hard;
        (l > 0).then_some(l)
    }

    /// checkClientOutputBufferLimits: past the hard limit, or past the soft limit for longer
    /// than its seconds (the clock starts the first time it is seen over).
    pub fn output_over_limit(&mut self, hot: &crate::config::Hot, now_ms: i64) -> bool {
        let used = self.output_usage();
        if !self.auth.authenticated && !self.auth.ever_authenticated && used > UNAUTHENTICATED_OUTPUT {
            return true;
        }
        let l = hot.output_limits[self.class() as usize];
        let hard = l.hard > 0 && used >= l.hard;
        let soft = l.soft > 0 && used >= l.soft;
        if !soft {
            self.output.over_soft_since = None;
            return hard;
        }
        match self.output.over_soft_since {
            None => {
                self.output.over_soft_since = Some(now_ms);
                hard
            }
            Some(t) => hard || now_ms - t > l.soft_seconds as i64 * 1000,
        }
    }

    /// The memory this client costs, as client eviction weighs it: what the host buffers
    /// for it, replies queued in the engine, a transaction's queued commands.
    pub fn memory(&self) -> u64 {
        let multi: usize = self.tx.multi.as_ref().map_or(0, |q| q.iter().map(|a| a.iter().map(|b| b.len() + 16).sum::<usize>()).sum());
        self.output.host_mem + self.output.outbox_bytes + multi as u64
    }

    /// One CLIENT LIST / CLIENT INFO line, fields in Redis 7.0's order. `qbuf` is the bytes
    /// of unprocessed input: for the client running CLIENT LIST, its own command.
    pub fn info_line(&self, now_ms: i64, qbuf: usize) -> String {
        let s = |b: &Option<Bytes>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
        let mut flags = String::new();
        // Redis's order: x b t R B d A e T (catClientInfoString).
        if self.role.monitor {
            flags.push('O');
        } else if self.role.replica {
            flags.push('S');
        }
        if self.role.master {
            flags.push('M');
        }
        if self.in_pubsub() {
            flags.push('P');
        }
        if self.tx.multi.is_some() {
            flags.push('x');
        }
        if self.wait.blocked.is_some() {
            flags.push('b');
        }
        if let Some(t) = &self.tracking {
            flags.push('t');
            if t.broken_redirect {
                flags.push('R');
            }
            if t.bcast {
                flags.push('B');
            }
        }
        if self.tx.dirty_cas {
            flags.push('d');
        }
        if self.conn.close_asap {
            flags.push('A');
        }
        if self.info.unix {
            flags.push('U');
        }
        if self.conn.no_evict {
            flags.push('e');
        }
        if self.conn.no_touch {
            flags.push('T');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem={} rbs=1024 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir={} resp={} lib-name={} lib-ver={}",
            self.id,
            self.info.addr,
            self.info.laddr,
            self.info.fd,
            s(&self.conn.name),
            (now_ms - self.conn.created_ms).max(0) / 1000,
            (now_ms - self.conn.last_interaction_ms).max(0) / 1000,
            flags,
            self.db,
            self.pubsub.subs.len(),
            self.pubsub.psubs.len(),
            self.pubsub.ssubs.len(),
            self.tx.multi.as_ref().map_or(-1, |q| q.len() as i64),
            qbuf,
            self.memory() - self.output.host_mem - self.output.outbox_bytes,
            self.output_usage(),
            self.memory(),
            match self.conn.last_cmd {
                None => "NULL".to_string(),
                Some((c, None)) => c.to_string(),
                Some((c, Some(s))) => format!("{}|{}", c, s),
            },
            String::from_utf8_lossy(&self.auth.user),
            self.tracking.as_ref().map_or(-1, |t| t.redirect as i64),
            self.conn.resp,
            s(&self.conn.lib_name),
            s(&self.conn.lib_ver),
        )
    }
}
