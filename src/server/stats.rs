//! The counters behind INFO stats, commandstats, errorstats and SLOWLOG.

use bytes::Bytes;

/// Counters behind INFO stats.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub(crate) total_connections_received: u64,
    pub(crate) total_commands_processed: u64,
    pub(crate) expired_keys: u64,
    pub(crate) evicted_keys: u64,
    pub(crate) evicted_clients: u64,
    pub(crate) keyspace_hits: u64,
    pub(crate) keyspace_misses: u64,
    pub(crate) rejected_connections: u64,
    pub(crate) dirty: u64,
    pub(crate) unexpected_error_replies: u64,
    pub(crate) total_error_replies: u64,
    /// INFO commandstats, by stat id (`command::table::Table::names`).
    pub(crate) commands: Vec<CommandStat>,
    /// INFO errorstats: error replies by their first word (ERR, WRONGTYPE, ...).
    pub(crate) errors: std::collections::BTreeMap<String, u64>,
    /// instantaneous_ops_per_sec, instantaneous_input_kbps / output_kbps.
    pub(crate) ops: Instantaneous,
    pub(crate) net_in: Instantaneous,
    pub(crate) net_out: Instantaneous,
    /// The host's reads and writes (INFO total_net_*_bytes, total_*_processed).
    pub(crate) io: IoCounts,
    /// The next error reply was already counted in errorstats (a script's error that came
    /// from a command it ran): `call` counts the command as failed, not the error again.
    pub(crate) error_counted: bool,
    pub(crate) slowlog: Slowlog,
    /// Latency monitor events (LATENCY LATEST/HISTORY/GRAPH/DOCTOR).
    pub(crate) latency: crate::latency::Monitor,
}

/// SLOWLOG, newest first, and the next entry's id.
#[derive(Debug, Clone, Default)]
pub struct Slowlog {
    pub entries: std::collections::VecDeque<SlowEntry>,
    pub next_id: u64,
}

/// Redis's trackInstantaneousMetric: one rate sample per tick, averaged over the last 16.
#[derive(Debug, Clone, Default)]
pub struct Instantaneous {
    samples: [u64; 16],
    idx: usize,
    last: (i64, u64),
}

impl Instantaneous {
    /// A sample of the rate of `total` since the last one (per second).
    pub fn sample(&mut self, now_us: i64, total: u64) {
        let (t, n) = self.last;
        let dt = now_us - t;
        if t > 0 && dt > 0 {
            self.samples[self.idx % 16] = total.saturating_sub(n) * 1_000_000 / dt as u64;
            self.idx += 1;
        }
        self.last = (now_us, total);
    }

    pub fn rate(&self) -> u64 {
        self.samples.iter().sum::<u64>() / 16
    }
}

/// What the host's sockets did, as it reports it after each loop turn (`Engine::count_io`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoCounts {
    pub reads: u64,
    pub writes: u64,
    /// Of those, done by I/O threads (`io-threads`).
    pub threaded_reads: u64,
    pub threaded_writes: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
}

impl std::ops::AddAssign for IoCounts {
    fn add_assign(&mut self, o: IoCounts) {
        self.reads += o.reads;
        self.writes += o.writes;
        self.threaded_reads += o.threaded_reads;
        self.threaded_writes += o.threaded_writes;
        self.net_input_bytes += o.net_input_bytes;
        self.net_output_bytes += o.net_output_bytes;
    }
}

#[derive(Debug, Clone, Default)]
pub struct CommandStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
    /// Durations (LATENCY HISTOGRAM, INFO latencystats), when `latency-tracking` is on.
    pub latency: Option<Box<crate::latency::Histogram>>,
}

/// One SLOWLOG entry.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    pub id: u64,
    pub unix_secs: i64,
    pub micros: i64,
    pub argv: Vec<Bytes>,
    pub addr: String,
    pub name: Bytes,
}
