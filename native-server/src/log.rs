//! The server's log, as redis-server writes it (serverLog): one line per message,
//! `<pid>:<role> <day> <mon> <year> <hh:mm:ss.mmm> <mark> <message>`, where the mark is the
//! level (`.` debug, `-` verbose, `*` notice, `#` warning) and only messages at `loglevel` or
//! above are written. The destination is standard output, which `logfile` redirects (as
//! `process::open_log` arranges), so tools and test harnesses that read Redis's log read
//! this one.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 0,
    Verbose = 1,
    Notice = 2,
    Warning = 3,
}

/// The lowest level written (`loglevel`); notice until the config says otherwise.
static THRESHOLD: AtomicU8 = AtomicU8::new(Level::Notice as u8);

/// The server's own pid (0 until the first line or `daemonize` sets it): lines from any
/// other process are a forked child's.
static SERVER_PID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The server is this process from now on (after `daemonize` forked it away).
pub fn server_is_this_process() {
    SERVER_PID.store(std::process::id(), Ordering::Relaxed);
}

/// `loglevel` as the config has it now (startup, and after CONFIG SET).
pub fn set_level(name: &str) {
    let l = match name {
        "debug" => Level::Debug,
        "verbose" => Level::Verbose,
        "warning" => Level::Warning,
        "nothing" => {
            THRESHOLD.store(u8::MAX, Ordering::Relaxed);
            return;
        }
        _ => Level::Notice,
    };
    THRESHOLD.store(l as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 >= THRESHOLD.load(Ordering::Relaxed)
}

/// Writes one line (serverLogRaw): the caller has checked `enabled`, or must not be
/// filtered (the engine's Event::Log is filtered by the engine).
pub fn write(level: Level, message: &str) {
    let mark = ['.', '-', '*', '#'][level as usize];
    // Redis's role mark: `C` in a forked child (a save, a debugging session), `M` in the
    // server, whose pid the first line written records.
    let pid = std::process::id();
    let server = match SERVER_PID.compare_exchange(0, pid, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => pid,
        Err(p) => p,
    };
    let role = if server == pid { 'M' } else { 'C' };
    let line = format!("{}:{} {} {} {}\n", pid, role, timestamp(), mark, message);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// `07 Dec 2026 14:00:00.123` in local time, as Redis's strftime("%d %b %Y %H:%M:%S") plus
/// milliseconds.
fn timestamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: localtime_r fills the zeroed struct it is given from a valid time_t.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

/// `serverlog!(Notice, "DB loaded from disk: {:.3} seconds", t)`.
#[macro_export]
macro_rules! serverlog {
    ($level:ident, $($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::$level) {
            $crate::log::write($crate::log::Level::$level, &format!($($arg)*));
        }
    };
}
