//! The replica's side (replication.c's replicaof/readSyncBulkPayload/replicationCron). The
//! host owns the link to the primary: it connects, runs the handshake with what
//! `psync_args` and `handshake` say, reads the payload and then the stream, and hands each
//! to the engine (`full_sync`, `continue_sync`, `feed`); what the engine answers (ACKs) it
//! writes back. The core keeps what a replica is: the primary's address and link state, the
//! master client that applies the stream (no replies, no ACL, READONLY and OOM do not apply,
//! keys do not expire under it), the offset it reached, and the stream proxied unchanged to
//! its own replicas and backlog.

use bytes::{Bytes, BytesMut};

use crate::client::{Client, ClientId, ClientInfo};
use crate::engine::Engine;
use crate::event::Event;
use crate::server::Server;

/// Where the link to the primary stands (ROLE's words).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LinkState {
    /// Not connected; the host is (re)connecting.
    Connect,
    /// Connected, the handshake under way (PING ... PSYNC and its reply).
    Handshake,
    /// Receiving the payload.
    Sync,
    /// Applying the stream.
    Connected,
}

pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// The client that applies the primary's stream, while connected.
    pub client: Option<ClientId>,
    /// When the primary last sent anything (ms), and since when the link is down.
    pub last_io_ms: i64,
    pub down_since_ms: i64,
    /// Stream bytes the parser has not consumed yet.
    query: BytesMut,
    parser: crate::resp::parser::RequestParser,
    /// The same bytes as they came, from the start of the command being parsed: a whole
    /// command's bytes are proxied to our replicas exactly as the primary sent them.
    raw: Vec<u8>,
    /// How many of `raw`'s bytes the parser has consumed.
    raw_used: usize,
}

impl MasterLink {
    fn new(host: String, port: u16, now_ms: i64) -> MasterLink {
        MasterLink {
            host,
            port,
            state: LinkState::Connect,
            client: None,
            last_io_ms: now_ms,
            down_since_ms: now_ms,
            query: BytesMut::new(),
            parser: crate::resp::parser::RequestParser::new(i64::MAX),
            raw: Vec::new(),
            raw_used: 0,
        }
    }

    /// Forgets any half-read command (the link starts over).
    fn reset_stream(&mut self) {
        self.query.clear();
        self.parser = crate::resp::parser::RequestParser::new(i64::MAX);
        self.raw.clear();
        self.raw_used = 0;
    }
}

/// What the host needs for the handshake: `masteruser`/`masterauth`, the port to announce.
pub struct Handshake {
    pub auth: Option<(Option<String>, String)>,
    pub listening_port: u16,
    /// PSYNC's arguments: our history and the next offset we need, or `?`/-1.
    pub replid: String,
    pub offset: i64,
    /// `repl-timeout`: the longest wait for data during the handshake and the payload.
    pub timeout_secs: u64,
}

/// The offset the stream has reached here, what is not yet handed out included.
pub fn current_offset(srv: &Server) -> u64 {
    srv.repl.offset + srv.prop.repl_buf.len() as u64
}

/// REPLICAOF host port: follow that primary (replicationSetMaster). The host is told with
/// `Event::ReplicaOf`; our own replicas are dropped so they resync with the new history.
pub fn set_master(srv: &mut Server, others: &mut hashbrown::HashMap<ClientId, Box<Client>>, host: String, port: u16, by: Option<&str>) {
    let now = srv.now_ms();
    drop_link(srv, others);
    let was_primary = srv.repl.master.is_none();
    srv.repl.master = Some(MasterLink::new(host.clone(), port, now));
    let _ = srv.config.set("replicaof", &format!("{} {}", host, port), false);
    disconnect_replicas(srv);
    keep_expired_keys(srv, true);
    // A REPLICAOF (not the config at startup) says so in the log.
    if let Some(by) = by {
        let by = by.to_string();
        if was_primary {
            srv.log(2, || "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.".to_string());
        }
        srv.log(2, move || format!("REPLICAOF {}:{} enabled ({})", host, port, by));
    }
    let (h, p) = srv.repl.master.as_ref().map(|m| (m.host.clone(), m.port)).expect("set");
    srv.events.push(Event::ReplicaOf { master: Some((h, p)) });
}

/// REPLICAOF NO ONE: a primary again, with a new history that remembers the old one, so
/// replicas of the old primary can continue from us (shiftReplicationId).
pub fn set_no_master(srv: &mut Server, others: &mut hashbrown::HashMap<ClientId, Box<Client>>, by: &str) {
    if srv.repl.master.is_none() {
        return;
    }
    drop_link(srv, others);
    srv.repl.master = None;
    let _ = srv.config.set("replicaof", "", false);
    shift_replid(srv);
    disconnect_replicas(srv);
    keep_expired_keys(srv, false);
    let by = by.to_string();
    srv.log(2, move || format!("MASTER MODE enabled ({})", by));
    srv.events.push(Event::ReplicaOf { master: None });
}

fn shift_replid(srv: &mut Server) {
    let offset = current_offset(srv) as i64 + 1;
    let new = super::random_id(&mut srv.rng);
    let r = &mut srv.repl;
    r.replid2 = std::mem::replace(&mut r.replid, new);
    r.second_replid_offset = offset;
    let (id, id2, off) = (srv.repl.replid.clone(), srv.repl.replid2.clone(), srv.repl.second_replid_offset);
    srv.log(2, move || format!("Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}", id2, off, id));
}

/// On a replica, keys past their deadline stay (the primary's DEL removes them) but read as
/// missing (`Server::set_pause` knows); the master client sees them (see `run_as_master`).
/// Nothing it records goes to replicas: they get the primary's stream as it came.
fn keep_expired_keys(srv: &mut Server, replica: bool) {
    srv.prop.replica = replica;
    let pause = srv.clients.pause;
    srv.set_pause(pause);
}

fn disconnect_replicas(srv: &mut Server) {
    for r in std::mem::take(&mut srv.repl.replicas) {
        srv.events.push(Event::CloseClient(r.id));
    }
}

/// Forgets the master client (its link closed or is being replaced).
fn drop_link(srv: &mut Server, others: &mut hashbrown::HashMap<ClientId, Box<Client>>) {
    let Some(m) = srv.repl.master.as_mut() else { return };
    m.state = LinkState::Connect;
    m.reset_stream();
    if let Some(id) = m.client.take() {
        others.remove(&id);
    }
}

impl Engine {
    /// The primary to follow, if `replicaof` is configured (read at startup).
    pub fn replica_start(&mut self) -> Option<(String, u16)> {
        let v = self.srv.config.get("replicaof").unwrap_or("").to_string();
        let mut w = v.split_whitespace();
        let (host, port) = (w.next()?, w.next()?.parse::<u16>().ok()?);
        let mut none = hashbrown::HashMap::new();
        set_master(&mut self.srv, &mut none, host.to_string(), port, None);
        self.srv.events.retain(|e| !matches!(e, Event::ReplicaOf { .. }));
        Some((host.to_string(), port))
    }

    /// What the host sends in the handshake.
    pub fn replica_handshake(&self) -> Handshake {
        let c = &self.srv.config;
        let pass = c.get("masterauth").unwrap_or("");
        let user = c.get("masteruser").unwrap_or("");
        let announced = c.get_i64("replica-announce-port");
        let (replid, offset) =
            if self.srv.repl.backlog.is_some() { (self.srv.repl.replid.clone(), current_offset(&self.srv) as i64 + 1) } else { ("?".to_string(), -1) };
        Handshake {
            auth: (!pass.is_empty()).then(|| ((!user.is_empty()).then(|| user.to_string()), pass.to_string())),
            listening_port: if announced > 0 { announced as u16 } else { self.srv.host.tcp_port },
            replid,
            offset,
            timeout_secs: c.get_i64("repl-timeout").max(1) as u64,
        }
    }

    /// The host connected and starts the handshake.
    pub fn replica_syncing(&mut self, now_us: i64) {
        self.replica_state(LinkState::Handshake, now_us);
    }

    /// The primary answered +FULLRESYNC: the payload is on its way (INFO
    /// master_sync_in_progress, ROLE `sync`).
    pub fn replica_transfer(&mut self, now_us: i64) {
        self.replica_state(LinkState::Sync, now_us);
    }

    fn replica_state(&mut self, state: LinkState, now_us: i64) {
        if let Some(m) = self.srv.repl.master.as_mut() {
            m.state = state;
            m.last_io_ms = now_us / 1000;
        }
    }

    /// +FULLRESYNC and its payload: the dataset is replaced by the primary's and our history
    /// becomes its history (readSyncBulkPayload). Err leaves the link to be retried.
    pub fn replica_full_sync(&mut self, replid: &str, offset: u64, rdb: &[u8], now_us: i64) -> Result<(), String> {
        self.srv.clock.now_us = now_us;
        let (host, port) = match self.srv.repl.master.as_ref() {
            Some(m) => (m.host.clone(), m.port),
            None => return Err("not a replica".into()),
        };
        self.srv.log(2, || "MASTER <-> REPLICA sync: Flushing old data".to_string());
        self.srv.log(2, || "MASTER <-> REPLICA sync: Loading DB in memory".to_string());
        // Kept as loaded, deadlines passed or not: the primary decides when keys go.
        let keys = match crate::rdb::load::load_prefix(&mut self.srv, rdb) {
            Ok((keys, _)) => keys,
            Err(e) => {
                let e = format!("{:?}", e);
                self.srv.log(3, || format!("Failed trying to load the MASTER synchronization DB from socket: {}", e));
                return Err(e);
            }
        };
        keep_expired_keys(&mut self.srv, true);
        self.srv.log(2, move || format!("Done loading RDB, keys loaded: {}, keys expired: 0.", keys));
        let r = &mut self.srv.repl;
        r.replid = replid.to_string();
        r.replid2 = super::NO_ID.into();
        r.second_replid_offset = -1;
        r.offset = offset;
        r.backlog = Some(std::collections::VecDeque::new());
        self.srv.prop.repl_buf.clear();
        crate::server::propagate::set_repl(&mut self.srv, true);
        self.srv.prop.repl_selected_db = None;
        disconnect_replicas(&mut self.srv);
        self.attach_master_client(&host, port, now_us);
        self.srv.log(2, || "MASTER <-> REPLICA sync: Finished with success".to_string());
        if self.srv.aof.enabled {
            crate::aof::start_rewrite(&mut self.srv);
        }
        Ok(())
    }

    /// +CONTINUE: the stream goes on from where we are; a new id (the primary failed over)
    /// becomes ours, the old one kept as the second.
    pub fn replica_continue(&mut self, replid: Option<&str>, now_us: i64) {
        self.srv.clock.now_us = now_us;
        let Some((host, port)) = self.srv.repl.master.as_ref().map(|m| (m.host.clone(), m.port)) else { return };
        if let Some(new) = replid.filter(|id| *id != self.srv.repl.replid) {
            let offset = current_offset(&self.srv) as i64 + 1;
            let r = &mut self.srv.repl;
            r.replid2 = std::mem::replace(&mut r.replid, new.to_string());
            r.second_replid_offset = offset;
            disconnect_replicas(&mut self.srv);
        }
        self.srv.log(2, || "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.".to_string());
        self.attach_master_client(&host, port, now_us);
    }

    fn attach_master_client(&mut self, host: &str, port: u16, now_us: i64) {
        let info = ClientInfo { addr: format!("{}:{}", host, port), ..Default::default() };
        let id = self.connect(info, now_us);
        if let Some(c) = self.clients.get_mut(&id) {
            c.master = true;
            c.authenticated = true;
            // Blocking commands answer at once, and the per-client checks (ACL, OOM,
            // READONLY, MISCONF) are skipped, as for Redis's master client.
            c.deny_blocking = true;
        }
        let m = self.srv.repl.master.as_mut().expect("checked");
        m.client = Some(id);
        m.state = LinkState::Connected;
        m.last_io_ms = now_us / 1000;
        m.reset_stream();
    }

    /// Stream bytes from the primary: every whole command runs as the master client; its
    /// bytes go on unchanged to our replicas and backlog. Returns what to send back (the
    /// ACK that REPLCONF GETACK asks for).
    pub fn replica_feed(&mut self, bytes: &[u8], now_us: i64) -> Vec<u8> {
        let mut out = Vec::new();
        let Some(m) = self.srv.repl.master.as_mut() else { return out };
        let Some(id) = m.client else { return out };
        m.last_io_ms = now_us / 1000;
        m.query.extend_from_slice(bytes);
        m.raw.extend_from_slice(bytes);
        loop {
            let m = self.srv.repl.master.as_mut().expect("checked");
            let before = m.query.len();
            let parsed = m.parser.next(&mut m.query, true);
            m.raw_used += before - m.query.len();
            let argv = match parsed {
                Ok(Some(argv)) => argv,
                Ok(None) => break,
                Err(e) => {
                    let e = format!("{:?}", e);
                    self.srv.log(3, move || format!("Protocol error from master: {}; dropping the link", e));
                    self.srv.events.push(Event::CloseClient(id));
                    break;
                }
            };
            let raw: Vec<u8> = m.raw.drain(..m.raw_used).collect();
            m.raw_used = 0;
            if argv.len() >= 2 && argv[0].eq_ignore_ascii_case(b"replconf") && argv[1].eq_ignore_ascii_case(b"getack") {
                // The offset before this command, as Redis answers it.
                crate::resp::encode_command(&mut out, &[&b"REPLCONF"[..], b"ACK", current_offset(&self.srv).to_string().as_bytes()]);
            } else {
                self.run_as_master(id, argv, now_us);
            }
            self.srv.prop.repl_buf.extend_from_slice(&raw);
        }
        out
    }

    fn run_as_master(&mut self, id: ClientId, argv: Vec<Bytes>, now_us: i64) {
        // The primary's commands see keys as it does: nothing expires under them.
        for db in &mut self.srv.dbs {
            db.loading = true;
        }
        let mut one = Some(argv);
        // EXEC clears `deny_blocking` when it ends: the master client gets it back before
        // every command (it is what skips the per-client checks).
        if let Some(c) = self.clients.get_mut(&id) {
            c.deny_blocking = true;
        }
        crate::command::dispatch::execute_batch(self, id, || one.take(), now_us, |_, _| {});
        for db in &mut self.srv.dbs {
            db.loading = false;
        }
    }

    /// REPLCONF ACK <offset>, sent every second while connected (replicationSendAck).
    pub fn replica_ack(&self) -> Option<Vec<u8>> {
        let m = self.srv.repl.master.as_ref()?;
        (m.state == LinkState::Connected).then(|| {
            let mut out = Vec::new();
            crate::resp::encode_command(&mut out, &[&b"REPLCONF"[..], b"ACK", current_offset(&self.srv).to_string().as_bytes()]);
            out
        })
    }

    /// The primary has been silent past `repl-timeout` while streaming: the host should drop
    /// the link. (During the handshake and the payload the host's reads time out instead,
    /// each after `repl-timeout` without data: `Handshake::timeout_secs`.)
    pub fn replica_timed_out(&self, now_us: i64) -> bool {
        let timeout = self.srv.config.get_i64("repl-timeout") * 1000;
        self.srv.repl.master.as_ref().is_some_and(|m| m.state == LinkState::Connected && now_us / 1000 - m.last_io_ms > timeout)
    }

    /// The link closed (or failed during the handshake): the master client goes; the host
    /// reconnects and asks to continue from where we are.
    pub fn replica_link_lost(&mut self, why: &str, now_us: i64) {
        let Some(m) = self.srv.repl.master.as_mut() else { return };
        let was = m.state;
        m.down_since_ms = now_us / 1000;
        if let Some(id) = m.client {
            self.disconnect(id);
        }
        let m = self.srv.repl.master.as_mut().expect("checked");
        m.client = None;
        m.state = LinkState::Connect;
        m.reset_stream();
        if was == LinkState::Connected {
            let why = why.to_string();
            self.srv.log(2, move || format!("Connection with master lost ({}).", why));
            self.srv.log(2, || "Caching the disconnected master state.".to_string());
        }
    }

    /// The master client's id, if connected (CLIENT KILL of it drops the link).
    pub fn master_client(&self) -> Option<ClientId> {
        self.srv.repl.master.as_ref().and_then(|m| m.client)
    }
}

/// INFO's replication section for a replica (the lines before connected_slaves).
pub fn info(srv: &Server, m: &MasterLink, f: &mut dyn FnMut(&str, String)) {
    let now = srv.now_ms();
    let up = m.state == LinkState::Connected;
    f("role", "slave".into());
    f("master_host", m.host.clone());
    f("master_port", m.port.to_string());
    f("master_link_status", if up { "up" } else { "down" }.into());
    f("master_last_io_seconds_ago", if up { ((now - m.last_io_ms).max(0) / 1000).to_string() } else { "-1".into() });
    f("master_sync_in_progress", ((m.state == LinkState::Sync) as u8).to_string());
    let off = current_offset(srv).to_string();
    f("slave_read_repl_offset", off.clone());
    f("slave_repl_offset", off);
    if !up {
        f("master_link_down_since_seconds", ((now - m.down_since_ms).max(0) / 1000).to_string());
    }
    f("slave_priority", srv.config.get_i64("replica-priority").to_string());
    f("slave_read_only", (srv.config.get_bool("replica-read-only") as u8).to_string());
    f("replica_announced", (srv.config.get_bool("replica-announced") as u8).to_string());
}

/// ROLE for a replica: ["slave", host, port, state, offset].
pub fn role(srv: &Server, m: &MasterLink) -> crate::reply::Reply {
    use crate::reply::Reply;
    let state = match m.state {
        LinkState::Connect => "connect",
        LinkState::Handshake => "handshake",
        LinkState::Sync => "sync",
        LinkState::Connected => "connected",
    };
    Reply::Array(vec![
        Reply::bulk_str("slave"),
        Reply::bulk_str(&m.host),
        Reply::Int(m.port as i64),
        Reply::bulk_str(state),
        Reply::Int(current_offset(srv) as i64),
    ])
}
