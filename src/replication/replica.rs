//! The replica's side (replication.c's replicaof/readSyncBulkPayload/replicationCron). The
//! host owns the link to the primary: it connects, runs the handshake with what
//! `psync_args` and `handshake` say, reads the payload and then the stream, and hands each
//! to the engine (`full_sync`, `continue_sync`, `feed`); what the engine answers (ACKs) it
//! writes back. The core keeps what a replica is: the primary's address and link state, the
//! master client that applies the stream (no replies, no ACL, READONLY and OOM do not apply,
//! keys do not expire under it), the offset it reached, and the stream proxied unchanged to
//! its own replicas and backlog.

use crate::event::Event;
use crate::server::Server;

pub use crate::server::replication::{LinkState, MasterLink};

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
pub fn set_master(srv: &mut Server, others: &mut crate::client::ClientTable, host: String, port: u16, by: Option<&str>) {
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
pub fn set_no_master(srv: &mut Server, others: &mut crate::client::ClientTable, by: &str) {
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

pub(crate) fn shift_replid(srv: &mut Server) {
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
pub(crate) fn keep_expired_keys(srv: &mut Server, replica: bool) {
    srv.prop.replica = replica;
    let pause = srv.clients.pause;
    srv.set_pause(pause);
}

pub(crate) fn disconnect_replicas(srv: &mut Server) {
    for r in std::mem::take(&mut srv.repl.replicas) {
        srv.events.push(Event::CloseClient(r.id));
    }
}

/// Forgets the master client (its link closed or is being replaced).
pub(crate) fn drop_link(srv: &mut Server, others: &mut crate::client::ClientTable) {
    let Some(m) = srv.repl.master.as_mut() else { return };
    m.state = LinkState::Connect;
    m.reset_stream();
    if let Some(id) = m.client.take() {
        others.remove(&id);
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
    f("slave_priority", srv.config.get_i64(crate::param!("replica-priority")).to_string());
    f("slave_read_only", (srv.config.get_bool(crate::param!("replica-read-only")) as u8).to_string());
    f("replica_announced", (srv.config.get_bool(crate::param!("replica-announced")) as u8).to_string());
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
