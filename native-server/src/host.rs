//! What the server reads of the machine for the engine: the clocks, the process's CPU time
//! and resident memory from /proc, and a seed. The engine reads none of these itself.

use std::time::{SystemTime, UNIX_EPOCH};

/// The wall clock: microseconds since the Unix epoch (every `now_us` the engine gets).
pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// A monotonic clock in microseconds, for command durations (SLOWLOG, commandstats): the
/// vDSO clock, read once per command (the engine chains one command's end to the next's start).
pub fn monotonic_us() -> i64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_micros() as i64
}

/// The process's (system, user) CPU seconds from /proc/self/stat (Linux); zeros elsewhere.
pub fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name: utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (ticks(12), ticks(11))
}

/// A seed for the engine's generator (random sampling, RANDOMKEY), different per process.
pub fn seed() -> u64 {
    now_us() as u64 ^ ((std::process::id() as u64) << 32)
}

/// The process's resident set (INFO used_memory_rss, mem_fragmentation_ratio), from
/// /proc/self/statm; 0 where there is no procfs.
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64;
    pages * page
}

/// MemTotal from /proc/meminfo (INFO total_system_memory); 0 where unknown.
pub fn total_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())))
        .map_or(0, |kb| kb * 1024)
}

/// Whether the log goes to a terminal (Redis shows its logo there).
pub fn stdout_is_tty() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(1) == 1 }
}

/// debugDelay: short sleeps are taken statistically (a negative value sleeps 1 µs once in
/// that many calls), since even the shortest sleep costs a system call.
pub fn debug_delay(usec: i64) {
    let usec = if usec < 0 {
        // SAFETY: rand() has no preconditions; its sequence only paces test delays.
        let r = unsafe { libc::rand() } as i64;
        (r % -usec == 0) as i64
    } else {
        usec
    };
    if usec > 0 {
        std::thread::sleep(std::time::Duration::from_micros(usec as u64));
    }
}
