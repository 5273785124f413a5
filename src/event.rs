//! What the core hands its host to do: the one channel from the engine out to the sockets,
//! files and clock it does not own (`Engine::drain_events`).

use crate::client::ClientId;

/// Something the host must do that the core cannot (it owns no sockets, files or clock).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Close this client's connection once its pending replies are written (CLIENT KILL, QUIT).
    CloseClient(ClientId),
    /// Block the whole server this long (DEBUG SLEEP): the host holds the engine meanwhile.
    Sleep { micros: u64 },
    /// SHUTDOWN: `save` is Some(true) for SAVE, Some(false) for NOSAVE, None for the default;
    /// `force` goes even if the final save fails. `client` waits (a network host's): it gets
    /// no reply if the server goes, and `Engine::shutdown_failed` answers it if it stays up.
    Shutdown { save: Option<bool>, force: bool, client: Option<ClientId> },
    /// A blocked client's wait is over (served, timed out, CLIENT UNBLOCK): its reply is in
    /// `take_replies`, and its pipelined commands after the blocking one may run now.
    Unblocked(ClientId),
    /// Pub/sub messages wait in this client's `take_replies`: write them.
    Deliver(ClientId),
    /// Write `rdb_snapshot()` to the snapshot file now and report with `save_finished`
    /// (SAVE, DEBUG RELOAD; BGSAVE and save points too on a host without fork support).
    Save,
    /// Start a background save (BGSAVE, save points; only with `set_fork_support`): fork
    /// with the engine locked, report the fork with `bgsave_started`, and the child's exit
    /// with `bgsave_finished`. The child writes `rdb_snapshot()` as its copy sees it.
    BackgroundSave,
    /// Kill the background save's child (FLUSHALL: its snapshot is of data now gone), wait
    /// for it, remove its temp file and report with `bgsave_finished`.
    KillBackgroundSave,
    /// CONFIG REWRITE: read the config file (`HostInfo::config_file`), write back
    /// `config_rewrite(old text, absolute dir)`, and report with `config_rewrite_finished`;
    /// `client` waits for that report (None inside MULTI/EXEC, which cannot wait: it was
    /// answered OK).
    RewriteConfig { client: Option<ClientId> },
    /// Rewrite the AOF (BGREWRITEAOF, the automatic rewrite, turning `appendonly` on): start
    /// a new incremental file, write `aof_base()` as the new base, then report with
    /// `aof_rewrite_finished`.
    RewriteAof,
    /// DEBUG LOADAOF: sync the AOF, then replay its files into an emptied dataset
    /// (`empty_data`, `aof_load`, `loading_finished`) and answer with `host_wait_finished`.
    LoadAof { client: ClientId },
    /// A line for the server log (redis.log from a script): level 0 debug, 1 verbose,
    /// 2 notice, 3 warning; already filtered by `loglevel`.
    Log { level: u8, message: String },
    /// CONFIG SET appendonly changed: open the AOF (with a rewrite, so it starts from the
    /// current dataset) or flush and close it.
    AppendOnly { on: bool },
    /// CONFIG SET changed the configuration: a host that applies parameters of its own
    /// (oom-score-adj, loglevel, the AOF's history GC) does it now, before the reply.
    ConfigChanged,
    /// DEBUG RELOAD NOSAVE: read the snapshot file (dir/dbfilename) and hand its bytes to
    /// `rdb_reload_finished` with `merge`; the client waits for that.
    ReloadRdb { client: ClientId, merge: crate::rdb::load::Merge },
    /// CONFIG SET port/bind changed (only where `HostCan::listens`): close the listening
    /// sockets, listen on `bind`/`port` (port 0: no TCP), and report with
    /// `listen_finished`; on failure listen on the previous addresses again. `client`
    /// waits for the report (None inside MULTI/EXEC, which was answered OK).
    Listen { client: Option<ClientId>, bind: String, port: u16, previous: Vec<(String, String)> },
    /// REPLICAOF: follow this primary (connect, run the handshake `replica_handshake` gives,
    /// then `replica_full_sync` or `replica_continue`, then `replica_feed` with the stream),
    /// or, with None, drop the link: the server is a primary again.
    ReplicaOf { master: Option<(String, u16)> },
}
