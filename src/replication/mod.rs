//! The primary's side of replication (Redis: replication.c). A replica attaches with SYNC or
//! PSYNC over an ordinary client connection; it gets the dataset as an RDB payload, taken at
//! the point of the stream where its replication begins, then the replication stream: the
//! commands `propagate` records for the REPL target, with SELECT when the database changes
//! and a PING every `repl-ping-replica-period` seconds. Every byte of that stream advances
//! `master_repl_offset` and is kept in the backlog (`repl-backlog-size`), so a replica that
//! lost its link resumes with `PSYNC <replid> <offset>` and gets only what it missed.
//!
//! The core never writes to a socket: the stream a turn produced is handed out when the host
//! collects its events (`Engine::drain_events`), as a raw reply queued in each replica's
//! outbox with `Event::Deliver`, within `client-output-buffer-limit replica`. The payload is
//! produced in line (Redis forks a child and sends the file, or streams it diskless); the
//! replica sees the same bytes either way.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::client::{Client, ClientId};
use crate::event::Event;
use crate::server::Server;

pub mod replica;

pub use crate::server::replication::{good_replicas, random_id, Announced, ReplicaInfo, Replication, NO_ID};

/// Hands the stream recorded since the last call to the backlog and every replica.
pub fn hand_out(srv: &mut Server, clients: &mut crate::client::ClientTable) {
    if std::mem::take(&mut srv.repl.getack) && !srv.repl.replicas.is_empty() {
        crate::resp::encode_command(&mut srv.prop.repl_buf, &[&b"REPLCONF"[..], b"GETACK", b"*"]);
    }
    if srv.prop.repl_buf.is_empty() {
        return;
    }
    let stream = std::mem::take(&mut srv.prop.repl_buf);
    let r = &mut srv.repl;
    r.offset += stream.len() as u64;
    if let Some(b) = r.backlog.as_mut() {
        let size = srv.config.get_i64(crate::param!("repl-backlog-size")).max(16 * 1024) as usize;
        if stream.len() >= size {
            b.clear();
            b.extend(&stream[stream.len() - size..]);
        } else {
            let over = (b.len() + stream.len()).saturating_sub(size);
            b.drain(..over);
            b.extend(&stream);
        }
    }
    if r.replicas.is_empty() {
        return;
    }
    let bytes = Bytes::from(stream);
    let now = srv.clock.now_us / 1000;
    let ids: Vec<ClientId> = r.replicas.iter().map(|x| x.id).collect();
    r.output_bytes += (bytes.len() * ids.len()) as u64;
    for id in ids {
        let Some(c) = clients.get_mut(&id) else { continue };
        send(srv, c, bytes.clone(), now);
    }
}

/// Queues stream bytes for one replica; past its output limit the link is closed, as Redis
/// closes a replica that cannot keep up (it will resync).
fn send(srv: &mut Server, c: &mut Client, bytes: Bytes, now_ms: i64) {
    if c.conn.close_asap {
        return;
    }
    c.output.outbox_bytes += bytes.len() as u64;
    c.output.outbox.push(crate::reply::Reply::Raw(bytes));
    if c.output_over_limit(&srv.config.hot, now_ms) {
        c.output.outbox.clear();
        c.output.outbox_bytes = 0;
        c.conn.close_asap = true;
        let addr = c.info.addr.clone();
        srv.log(3, || format!("Client id={} addr={} flags=S scheduled to be closed ASAP for overcoming of output buffer limits.", c.id, addr));
        srv.events.push(Event::CloseClient(c.id));
        return;
    }
    srv.events.push(Event::Deliver(c.id));
}

/// The first replica ever, or the first after the backlog was freed: a new history begins
/// (createReplicationBacklog, changeReplicationId, clearReplicationId2).
fn ensure_backlog(srv: &mut Server) {
    if srv.repl.backlog.is_some() {
        return;
    }
    srv.repl.replid = random_id(&mut srv.rng);
    srv.repl.replid2 = NO_ID.into();
    srv.repl.second_replid_offset = -1;
    srv.repl.backlog = Some(VecDeque::new());
    crate::server::propagate::set_repl(srv, true);
}

/// How a replica asked for the data.
pub enum Request<'a> {
    /// SYNC: the payload only, no ids or offsets.
    Sync,
    /// PSYNC <replid> <offset>: `?`/-1 for a full copy, else where it stopped.
    Psync { replid: &'a [u8], offset: &'a [u8] },
}

/// SYNC and PSYNC (syncCommand): the reply is what the replica reads before the stream,
/// `+CONTINUE` and the missed part of the backlog, or `+FULLRESYNC <replid> <offset>` (PSYNC
/// only) and `$<len>` with the RDB payload. From then on the client is a replica.
pub fn attach(srv: &mut Server, client: &mut Client, others: &mut crate::client::ClientTable, req: Request, announced: Announced) -> Vec<u8> {
    let now = srv.now_ms();
    // replicationGetSlaveName
    let addr = match announced.port {
        0 => format!("{}:<unknown-replica-port>", client_ip(client, &announced)),
        p => format!("{}:{}", client_ip(client, &announced), p),
    };
    srv.log(2, || format!("Replica {} asks for synchronization", addr));
    if announced.rdb_only {
        client.conn.close_asap = true;
        return payload(srv);
    }
    ensure_backlog(srv);
    // What was recorded before this point is the replicas' already attached, not this one's.
    hand_out(srv, others);
    let mut out = Vec::new();
    let mut full = true;
    if let Request::Psync { replid, offset } = req {
        match try_partial(srv, replid, offset) {
            Ok(from) => {
                full = false;
                srv.repl.sync_partial_ok += 1;
                let line = if announced.psync2 { format!("+CONTINUE {}\r\n", srv.repl.replid) } else { "+CONTINUE\r\n".to_string() };
                out.extend_from_slice(line.as_bytes());
                let b = srv.repl.backlog.as_ref().expect("checked");
                let skip = (from - srv.repl.backlog_first_byte()) as usize;
                out.extend(b.iter().skip(skip));
                let (len, off) = (b.len() - skip, from);
                srv.log(2, || {
                    format!("Partial resynchronization request from {} accepted. Sending {} bytes of backlog starting from offset {}.", addr, len, off)
                });
            }
            Err(why) => {
                if replid != b"?" {
                    srv.repl.sync_partial_err += 1;
                    srv.log(2, || format!("Partial resynchronization not accepted: {}", why));
                }
                srv.log(2, || format!("Full resync requested by replica {}", addr));
                out.extend_from_slice(format!("+FULLRESYNC {} {}\r\n", srv.repl.replid, srv.repl.offset).as_bytes());
            }
        }
    }
    if full {
        // The stream after the payload names its database first (slaveseldb = -1).
        srv.prop.repl_selected_db = None;
        out.extend_from_slice(&payload(srv));
        srv.repl.sync_full += 1;
        srv.log(2, || format!("Synchronization with replica {} succeeded", addr));
    }
    client.role.replica = true;
    if srv.repl.replicas.is_empty() {
        // The first PING comes a whole period after the first replica (the suite sets a
        // period of an hour to read a stream without them).
        srv.repl.last_ping_ms = now;
    }
    let port = announced.port;
    let ip = client_ip(client, &announced);
    srv.repl.replicas.push(ReplicaInfo { id: client.id, ip, port, ack_offset: 0, ack_ms: now });
    out
}

/// The dataset as the bulk a replica reads: `$<len>` and the RDB file's bytes (no CRLF
/// after them, as Redis sends a disk-based payload).
fn payload(srv: &mut Server) -> Vec<u8> {
    srv.log(2, || "Starting BGSAVE for SYNC with target: disk".to_string());
    let rdb = crate::persistence::snapshot::dump(srv);
    let mut out = format!("${}\r\n", rdb.len()).into_bytes();
    out.extend_from_slice(&rdb);
    out
}

/// The replica's address as INFO shows it: what it announced, else its connection's host.
fn client_ip(client: &Client, announced: &Announced) -> String {
    if let Some(ip) = &announced.ip {
        return ip.clone();
    }
    let a = &client.info.addr;
    match a.rfind(':') {
        Some(i) => a[..i].trim_start_matches('[').trim_end_matches(']').to_string(),
        None => a.clone(),
    }
}

/// masterTryPartialResynchronization's checks: the history is ours (or the one we continued)
/// and the backlog still holds everything from the requested offset.
fn try_partial(srv: &Server, replid: &[u8], offset: &[u8]) -> Result<u64, String> {
    let r = &srv.repl;
    let Some(off) = std::str::from_utf8(offset).ok().and_then(|s| s.parse::<i64>().ok()) else {
        return Err("invalid offset".into());
    };
    let replid = String::from_utf8_lossy(replid);
    if replid != r.replid && (replid != r.replid2 || off > r.second_replid_offset) {
        return Err(format!("Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')", replid, r.replid, r.replid2));
    }
    if r.backlog.is_none() || off < r.backlog_first_byte() as i64 || off > r.offset as i64 + 1 {
        return Err(format!("Unable to partial resync with replica for lack of backlog (Replica request was: {}).", off));
    }
    Ok(off as u64)
}

/// A replica's connection closed.
pub fn detach(srv: &mut Server, c: &Client) {
    srv.repl.announced.remove(&c.id);
    srv.repl.waiting.retain(|w| w.0 != c.id);
    if !c.role.replica {
        return;
    }
    srv.repl.replicas.retain(|r| r.id != c.id);
    let addr = c.info.addr.clone();
    srv.log(2, || format!("Connection with replica {} lost.", addr));
    if srv.repl.replicas.is_empty() {
        srv.repl.no_replicas_since_ms = srv.now_ms();
    }
}

/// REPLCONF ACK <offset>: how far the replica has processed the stream. Clients in WAIT
/// that now have enough replicas are answered.
pub fn ack(srv: &mut Server, others: &mut crate::client::ClientTable, id: ClientId, offset: u64) {
    let now = srv.now_ms();
    if let Some(r) = srv.repl.replicas.iter_mut().find(|r| r.id == id) {
        r.ack_offset = r.ack_offset.max(offset);
        r.ack_ms = now;
    }
    let mut i = 0;
    while i < srv.repl.waiting.len() {
        let (waiter, woff, wanted) = srv.repl.waiting[i];
        let acked = acked_at(srv, woff);
        if acked < wanted {
            i += 1;
            continue;
        }
        srv.repl.waiting.remove(i);
        let Some(c) = others.get_mut(&waiter) else { continue };
        if let Some(b) = c.wait.blocked.take() {
            srv.clients.blocking.remove(waiter, &b);
            c.output.outbox.push(crate::reply::Reply::Int(acked as i64));
            srv.events.push(Event::Unblocked(waiter));
        }
    }
}

/// How many replicas acknowledged the stream up to `offset` (replicationCountAcksByOffset).
pub fn acked_at(srv: &Server, offset: u64) -> usize {
    srv.repl.replicas.iter().filter(|r| r.ack_offset >= offset).count()
}

/// WAIT's answer when its wait ends without enough replicas (timeout, CLIENT UNBLOCK): how
/// many acknowledged so far.
pub fn wait_ended(srv: &mut Server, id: ClientId) -> crate::reply::Reply {
    let woff = srv.repl.waiting.iter().find(|w| w.0 == id).map_or(0, |w| w.1);
    srv.repl.waiting.retain(|w| w.0 != id);
    crate::reply::Reply::Int(acked_at(srv, woff) as i64)
}

/// replicationCron's primary part: a PING into the stream every `repl-ping-replica-period`
/// seconds while replicas are attached (they time the link out on silence), and the
/// backlog freed after `repl-backlog-ttl` seconds without any.
pub fn cron(srv: &mut Server) {
    let now = srv.now_ms();
    if srv.repl.backlog.is_none() {
        return;
    }
    // A replica keeps its backlog and passes on its primary's PINGs.
    if srv.repl.master.is_some() {
        return;
    }
    if srv.repl.replicas.is_empty() {
        let ttl = srv.config.get_i64(crate::param!("repl-backlog-ttl"));
        if ttl > 0 && now - srv.repl.no_replicas_since_ms > ttl * 1000 {
            srv.repl.backlog = None;
            srv.repl.replid = random_id(&mut srv.rng);
            srv.repl.replid2 = NO_ID.into();
            srv.repl.second_replid_offset = -1;
            crate::server::propagate::set_repl(srv, false);
            srv.log(2, || format!("Replication backlog freed after {} seconds without connected replicas.", ttl));
        }
        return;
    }
    let period = srv.config.get_i64(crate::param!("repl-ping-replica-period")).max(1) * 1000;
    if now - srv.repl.last_ping_ms >= period {
        srv.repl.last_ping_ms = now;
        // In whatever database the stream is (no SELECT), as replicationFeedSlaves with
        // server.slaveseldb.
        crate::resp::encode_command(&mut srv.prop.repl_buf, &[&b"PING"[..]]);
    }
}

/// INFO's replication section for a primary.
pub fn info(srv: &Server, f: &mut dyn FnMut(&str, String)) {
    let r = &srv.repl;
    let now = srv.now_ms();
    match &r.master {
        Some(m) => replica::info(srv, m, f),
        None => f("role", "master".into()),
    }
    f("connected_slaves", r.replicas.len().to_string());
    if srv.config.hot.min_replicas {
        f("min_slaves_good_slaves", good_replicas(srv).to_string());
    }
    for (i, x) in r.replicas.iter().enumerate() {
        f(&format!("slave{}", i), format!("ip={},port={},state=online,offset={},lag={}", x.ip, x.port, x.ack_offset, (now - x.ack_ms).max(0) / 1000));
    }
    f("master_failover_state", "no-failover".into());
    f("master_replid", r.replid.clone());
    f("master_replid2", r.replid2.clone());
    f("master_repl_offset", replica::current_offset(srv).to_string());
    f("second_repl_offset", r.second_replid_offset.to_string());
    f("repl_backlog_active", (r.backlog.is_some() as u8).to_string());
    f("repl_backlog_size", srv.config.get_i64(crate::param!("repl-backlog-size")).to_string());
    f("repl_backlog_first_byte_offset", r.backlog_first_byte().to_string());
    f("repl_backlog_histlen", r.backlog.as_ref().map_or(0, |b| b.len()).to_string());
}
