//! The replication side of the server's state: a primary's history (ids, offset, backlog)
//! and attached replicas, and a replica's link to its primary. The logic is `replication`'s.

use std::collections::VecDeque;

use bytes::BytesMut;
use hashbrown::HashMap;

use crate::client::ClientId;

/// What a primary knows of its replicas and its own history.
pub struct Replication {
    /// This history's id (master_replid): 40 hex digits, new whenever the history starts
    /// over (the backlog is created again).
    pub(crate) replid: String,
    /// The previous history's id and where it ended (master_replid2, second_replid_offset):
    /// none on a server that was never a replica.
    pub(crate) replid2: String,
    pub(crate) second_replid_offset: i64,
    /// Bytes of replication stream produced so far (master_repl_offset).
    pub(crate) offset: u64,
    /// The last `repl-backlog-size` bytes of the stream, ending at `offset`; none until the
    /// first replica attaches, and again after `repl-backlog-ttl` seconds without one.
    pub(crate) backlog: Option<VecDeque<u8>>,
    pub(crate) replicas: Vec<ReplicaInfo>,
    /// The primary this server follows (REPLICAOF), if any.
    pub(crate) master: Option<MasterLink>,
    /// What connections announced with REPLCONF before they sent SYNC/PSYNC.
    pub(crate) announced: HashMap<ClientId, Announced>,
    /// When the last replica left (ms), for `repl-backlog-ttl`.
    pub(crate) no_replicas_since_ms: i64,
    /// When the last PING went out (ms).
    pub(crate) last_ping_ms: i64,
    /// Clients in WAIT: (client, the stream offset its writes reach, replicas wanted).
    pub(crate) waiting: Vec<(ClientId, u64, usize)>,
    /// A WAIT began: the next hand-out asks every replica for its offset (GETACK).
    pub(crate) getack: bool,
    /// INFO stats: full copies sent, PSYNCs continued and refused, stream bytes sent.
    pub(crate) sync_full: u64,
    pub(crate) sync_partial_ok: u64,
    pub(crate) sync_partial_err: u64,
    pub(crate) output_bytes: u64,
}

/// One attached replica, as INFO and ROLE show it.
pub struct ReplicaInfo {
    pub id: ClientId,
    /// The address the replica announced (REPLCONF ip-address / listening-port), or its
    /// connection's.
    pub ip: String,
    pub port: u16,
    /// The offset it last acknowledged (REPLCONF ACK) and when (ms).
    pub ack_offset: u64,
    pub ack_ms: i64,
}

/// What a replica announced before it asked for the data (REPLCONF before SYNC/PSYNC).
#[derive(Default, Clone)]
pub struct Announced {
    pub port: u16,
    pub ip: Option<String>,
    pub psync2: bool,
    /// REPLCONF rdb-only 1 (redis-cli --rdb): the payload, then the link closes.
    pub rdb_only: bool,
}

pub const NO_ID: &str = "0000000000000000000000000000000000000000";

impl Replication {
    pub fn new(rng: &mut crate::util::Rng) -> Replication {
        Replication {
            replid: random_id(rng),
            replid2: NO_ID.into(),
            second_replid_offset: -1,
            offset: 0,
            backlog: None,
            replicas: Vec::new(),
            master: None,
            announced: HashMap::new(),
            no_replicas_since_ms: 0,
            last_ping_ms: 0,
            waiting: Vec::new(),
            getack: false,
            sync_full: 0,
            sync_partial_ok: 0,
            sync_partial_err: 0,
            output_bytes: 0,
        }
    }

    /// The stream offset of the backlog's first byte (repl_backlog_first_byte_offset).
    pub fn backlog_first_byte(&self) -> u64 {
        self.backlog.as_ref().map_or(0, |b| self.offset + 1 - b.len() as u64)
    }
}

/// 40 random hex digits (getRandomHexChars), as Redis's run and replication ids.
pub fn random_id(rng: &mut crate::util::Rng) -> String {
    let mut s = String::with_capacity(40);
    while s.len() < 40 {
        s.push_str(&format!("{:016x}", rng.next_u64()));
    }
    s.truncate(40);
    s
}

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
    pub(crate) query: BytesMut,
    pub(crate) parser: crate::resp::parser::RequestParser,
    /// The same bytes as they came, from the start of the command being parsed: a whole
    /// command's bytes are proxied to our replicas exactly as the primary sent them.
    pub(crate) raw: Vec<u8>,
    /// How many of `raw`'s bytes the parser has consumed.
    pub(crate) raw_used: usize,
}

impl MasterLink {
    pub(crate) fn new(host: String, port: u16, now_ms: i64) -> MasterLink {
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
    pub(crate) fn reset_stream(&mut self) {
        self.query.clear();
        self.parser = crate::resp::parser::RequestParser::new(i64::MAX);
        self.raw.clear();
        self.raw_used = 0;
    }
}

/// Replicas that acknowledged within `min-replicas-max-lag` seconds (refreshGoodSlavesCount).
pub fn good_replicas(srv: &super::Server) -> usize {
    let lag = srv.config.get_i64(crate::param!("min-replicas-max-lag"));
    let now = srv.now_ms();
    srv.repl.replicas.iter().filter(|r| (now - r.ack_ms) / 1000 <= lag).count()
}
