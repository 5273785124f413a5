//! The snapshot side of the server's state (server.child_type, dirty counters, save times,
//! loading): what INFO persistence shows and `persistence` acts on.

use crate::client::ClientId;

/// The child process a host runs for the dataset (server.child_type). One at a time: each
/// is a copy-on-write image of the whole dataset, and two would double that cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChildType {
    #[default]
    None,
    /// A background save (BGSAVE, save points).
    Rdb,
    /// An AOF rewrite (BGREWRITEAOF, the automatic rewrite): BGSAVE SCHEDULE waits for it.
    Aof,
}

/// How a background save's child ended, as the host saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// Exit status 0: the snapshot is on disk. `cow_bytes` is the memory copy-on-write cost
    /// (the child's private dirty pages), 0 when the host cannot tell.
    Saved { cow_bytes: u64 },
    /// A non-zero exit status: the child could not write the snapshot.
    Failed,
    /// Killed by a signal. `on_purpose` when the host killed it itself (SHUTDOWN), which is
    /// no error (Redis kills with SIGUSR1 for this reason).
    Killed { on_purpose: bool },
}

/// A successful fork, as the host reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forked {
    pub pid: u32,
    /// How long the fork call took: the pause every client saw (INFO latest_fork_usec).
    pub fork_usec: u64,
}

/// What an `Event::Save` stands for, so its report updates the right state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveKind {
    /// SAVE, DEBUG RELOAD: rdbSave, whose failure does not change rdb_last_bgsave_status.
    Foreground,
    /// BGSAVE or a save point on a host that cannot fork: a background save done in place.
    Background,
}

/// A dataset being read (startup's RDB file; later an AOF), for INFO's loading fields.
#[derive(Debug, Clone, Default)]
pub struct Loading {
    pub start_unix: i64,
    pub total_bytes: u64,
    /// Bytes read so far, when the loader can tell (0 until the end otherwise).
    pub loaded_bytes: u64,
}

/// Snapshot bookkeeping (the persistence half of Redis's `server` struct). `stats.dirty`
/// only grows here, so "changes since the last save" is a difference of two readings.
#[derive(Debug, Clone)]
pub struct Persistence {
    /// LASTSAVE: when the last successful save ended.
    pub(crate) last_save_unix: i64,
    /// `stats.dirty` covered by the last successful save.
    pub(crate) dirty_at_save: u64,
    /// `stats.dirty` when the save in flight started (dirty_before_bgsave): what it covers.
    pub(crate) dirty_at_start: u64,
    /// rdb_last_bgsave_status is `err`.
    pub(crate) last_save_failed: bool,
    /// When the last background save was tried (lastbgsave_try), for the retry delay.
    pub(crate) last_try_unix: i64,
    /// rdb_saves: SAVE commands and background saves started.
    pub(crate) saves: u64,
    /// An `Event::Save` awaits the host's `save_finished`: ask once, not every tick.
    pub(crate) pending: Option<SaveKind>,
    /// The SAVE or BGSAVE client waiting for the host's report, and which command it sent.
    pub(crate) waiter: Option<(ClientId, &'static str)>,
    pub(crate) child: ChildType,
    pub(crate) child_pid: u32,
    /// When the running background save started, -1 without one (rdb_save_time_start).
    pub(crate) bgsave_start_unix: i64,
    /// How long the last background save took, -1 before the first (rdb_save_time_last).
    pub(crate) last_bgsave_secs: i64,
    /// BGSAVE SCHEDULE (or BGSAVE inside MULTI): start one when no child runs.
    pub(crate) bgsave_scheduled: bool,
    /// The fork in flight is the scheduled save (kept scheduled if the fork fails).
    pub(crate) forking_scheduled: bool,
    /// rdb_last_cow_size: copy-on-write bytes of the last successful background save.
    pub(crate) cow_bytes: u64,
    pub(crate) total_forks: u64,
    pub(crate) latest_fork_usec: u64,
    pub(crate) loading: Option<Loading>,
    /// rdb_last_load_keys_loaded.
    pub(crate) last_load_keys: u64,
    /// rdb_last_load_keys_expired: keys the last load found past their deadline.
    pub(crate) last_load_keys_expired: u64,
}

impl Persistence {
    pub fn new(now_us: i64) -> Persistence {
        Persistence {
            last_save_unix: now_us / 1_000_000,
            dirty_at_save: 0,
            dirty_at_start: 0,
            last_save_failed: false,
            last_try_unix: 0,
            saves: 0,
            pending: None,
            waiter: None,
            child: ChildType::None,
            child_pid: 0,
            bgsave_start_unix: -1,
            last_bgsave_secs: -1,
            bgsave_scheduled: false,
            forking_scheduled: false,
            cow_bytes: 0,
            total_forks: 0,
            latest_fork_usec: 0,
            loading: None,
            last_load_keys: 0,
            last_load_keys_expired: 0,
        }
    }

    /// rdb_changes_since_last_save.
    pub fn changes(&self, dirty: u64) -> u64 {
        dirty.saturating_sub(self.dirty_at_save)
    }
}
