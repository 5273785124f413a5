//! The replica link's side of the host contract (see `replication::replica`): the host
//! connects to the primary, runs the handshake the engine gives, and hands over the payload
//! and the stream; what the engine answers it writes back.

use super::*;
use bytes::Bytes;

use crate::replication::replica::*;

impl Engine {
    /// Whether the server follows a primary (REPLICAOF host port), link up or not.
    pub fn is_replica(&self) -> bool {
        self.srv.repl.master.is_some()
    }

    /// The primary to follow, if `replicaof` is configured (read at startup).
    pub fn replica_start(&mut self) -> Option<(String, u16)> {
        let v = self.srv.config.get(crate::param!("replicaof")).to_string();
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
        let pass = c.get(crate::param!("masterauth"));
        let user = c.get(crate::param!("masteruser"));
        let announced = c.get_i64(crate::param!("replica-announce-port"));
        let (replid, offset) =
            if self.srv.repl.backlog.is_some() { (self.srv.repl.replid.clone(), current_offset(&self.srv) as i64 + 1) } else { ("?".to_string(), -1) };
        Handshake {
            auth: (!pass.is_empty()).then(|| ((!user.is_empty()).then(|| user.to_string()), pass.to_string())),
            listening_port: if announced > 0 { announced as u16 } else { self.srv.host.tcp_port },
            replid,
            offset,
            timeout_secs: c.get_i64(crate::param!("repl-timeout")).max(1) as u64,
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
        match crate::persistence::snapshot::load_prefix(&mut self.srv, rdb) {
            Ok(_) => {}
            Err(e) => {
                let e = format!("{:?}", e);
                self.srv.log(3, || format!("Failed trying to load the MASTER synchronization DB from socket: {}", e));
                return Err(e);
            }
        };
        keep_expired_keys(&mut self.srv, true);
        let r = &mut self.srv.repl;
        r.replid = replid.to_string();
        r.replid2 = crate::replication::NO_ID.into();
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
            crate::persistence::aof::start_rewrite(&mut self.srv);
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
            c.role.master = true;
            c.auth.authenticated = true;
            // Blocking commands answer at once, and the per-client checks (ACL, OOM,
            // READONLY, MISCONF) are skipped, as for Redis's master client.
            c.wait.deny_blocking = true;
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
            c.wait.deny_blocking = true;
        }
        crate::engine::execute_batch(self, id, || one.take(), now_us, |_, _| {});
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
        let timeout = self.srv.config.get_i64(crate::param!("repl-timeout")) * 1000;
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
