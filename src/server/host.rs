//! What the host tells the core about itself, and what it lends it: facts for INFO, the
//! things it does when asked through an `Event`, functions (probes, a clock, files), and
//! MIGRATE's connections to other servers.

use bytes::Bytes;

/// What the host tells the core about itself, for INFO and for what the core may ask of it.
#[derive(Debug, Clone, Default)]
pub struct HostInfo {
    pub process_id: u64,
    pub tcp_port: u16,
    pub executable: String,
    pub config_file: String,
    pub os: String,
    pub arch_bits: u32,
    /// The host's event loop, INFO's `multiplexing_api`.
    pub multiplexing_api: String,
    /// The host's I/O threads took part in its last loop turn (INFO io_threads_active).
    pub io_threads_active: bool,
    pub memory: HostMemory,
    pub can: HostCan,
    pub calls: HostCalls,
}

/// Memory as the host measures it.
#[derive(Debug, Clone, Default)]
pub struct HostMemory {
    /// Bytes the host's allocator reports in use; 0 when unknown (then the core estimates).
    pub used_memory: u64,
    pub used_memory_rss: u64,
    /// The machine's physical memory (INFO total_system_memory); 0 when unknown.
    pub total_system_memory: u64,
}

/// What the host does when asked through an `Event`.
#[derive(Debug, Clone, Default)]
pub struct HostCan {
    /// The host forks for background saves and reports every save (`set_fork_support`).
    pub forks: bool,
    /// The host owns TCP listeners and re-binds them on `Event::Listen`; elsewhere `port`
    /// and `bind` are plain values.
    pub listens: bool,
    /// The host connects to a primary on `Event::ReplicaOf` (REPLICAOF host port).
    pub replicates: bool,
}

/// Functions the host lends the core (`Engine::set_*`): probes, a clock, files.
#[derive(Debug, Clone, Default)]
pub struct HostCalls {
    /// Asks the host's allocator for its live bytes at the moment (INFO, maxmemory);
    /// preferred over `HostMemory::used_memory` when set.
    pub memory_probe: Option<fn() -> u64>,
    /// The process's CPU time so far, (system, user) seconds, for INFO cpu.
    pub cpu_probe: Option<fn() -> (f64, f64)>,
    /// A monotonic microsecond clock for command durations (SLOWLOG, commandstats); without
    /// one every command takes 0 µs.
    pub clock: Option<fn() -> i64>,
    /// Makes a directory the working one and answers its absolute path, or the system's
    /// reason it cannot (CONFIG SET dir, as Redis's chdir); without it `dir` is a plain value.
    pub change_dir: Option<fn(&str) -> Result<String, String>>,
    /// Reads a whole file by path (`aclfile` at startup, ACL LOAD); Err is the system's
    /// reason. Without it there are no files to read.
    pub read_file: Option<fn(&str) -> Result<Vec<u8>, String>>,
    /// Replaces a file whole, so a crash leaves the old or the new one (ACL SAVE); Err is
    /// the step that failed and the system's reason.
    pub replace_file: Option<fn(&str, &[u8]) -> Result<(), (FileStep, String)>>,
    /// debugDelay: waits that many µs (a negative value: 1 µs once in that many calls), for
    /// the hidden rdb-key-save-delay and key-load-delay with which tests slow saves and loads
    /// down key by key; without it they do nothing.
    pub delay: Option<fn(i64)>,
}

/// The step of `HostCalls::replace_file` that failed, for the caller's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStep {
    Open,
    Write,
    Rename,
}

/// What the host is asked to do on the target.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrateRequest {
    pub host: String,
    /// As typed: Redis reads it with atoi.
    pub port: String,
    pub db: i64,
    pub timeout_ms: i64,
    /// AUTH [username] password, sent first when given.
    pub auth: Option<(Option<Bytes>, Bytes)>,
    /// One RESTORE command per key, in order.
    pub restores: Vec<Vec<Bytes>>,
}

/// What came back: for each RESTORE whether the target acknowledged it (with AUTH and SELECT
/// also fine), and the error to answer if any (the target's first error line, or an I/O
/// failure), in Redis's words.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrateOutcome {
    pub acked: Vec<bool>,
    pub error: Option<String>,
}

/// The host side of MIGRATE (the native server's `migrate.rs`).
pub trait MigrateHost: Send {
    fn migrate(&mut self, req: &MigrateRequest) -> MigrateOutcome;
    /// Connections kept for later MIGRATEs (INFO `migrate_cached_sockets`).
    fn cached_sockets(&self) -> usize;
}
