//! The AOF side of the server's state: what INFO persistence shows about the append-only
//! file and its rewrites, and what `persistence::aof` decides from.

/// The AOF as INFO persistence and BGREWRITEAOF see it; the host reports what happens to
/// its files (`Engine::aof_*`).
#[derive(Debug, Clone)]
pub struct Status {
    pub(crate) enabled: bool,
    pub(crate) rewrite_in_progress: bool,
    /// Asked for while a snapshot was being saved: starts when that ends.
    pub(crate) rewrite_scheduled: bool,
    /// The AOF was turned on inside EXEC: its first rewrite is scheduled, not started.
    pub(crate) start_deferred: bool,
    pub(crate) rewrite_started_ms: i64,
    pub(crate) last_rewrite_secs: i64,
    pub(crate) last_rewrite_ok: bool,
    pub(crate) rewrites: u64,
    pub(crate) consecutive_failures: u64,
    /// The last write to the file failed: why.
    pub(crate) write_error: Option<String>,
    /// Bytes in the base and incremental files, and in the base at the last rewrite
    /// (auto-aof-rewrite-percentage grows from it).
    pub(crate) current_size: u64,
    pub(crate) base_size: u64,
    /// The host's background fsync is queued or running (INFO aof_pending_bio_fsync).
    pub(crate) pending_bio_fsync: bool,
    /// Writes that went ahead without waiting for a slow background fsync.
    pub(crate) delayed_fsync: u64,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            enabled: false,
            rewrite_in_progress: false,
            rewrite_scheduled: false,
            start_deferred: false,
            rewrite_started_ms: 0,
            last_rewrite_secs: -1,
            last_rewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            write_error: None,
            current_size: 0,
            base_size: 0,
            pending_bio_fsync: false,
            delayed_fsync: 0,
        }
    }
}
