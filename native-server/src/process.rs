//! The process as redis.conf shapes it: `daemonize`, `logfile`, `pidfile`, `supervised`
//! and `oom-score-adj`. Redis does these in main() around initServer; so does main.rs,
//! with the same order: daemonize before anything starts threads, the pid file once the
//! listeners are bound, the supervisor told once the dataset has loaded.

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;

use crate::files::strerror;

/// Where a daemonized server writes its pid when no `pidfile` is set (Redis's
/// CONFIG_DEFAULT_PID_FILE).
const DEFAULT_PID_FILE: &str = "/var/run/redis.pid";

/// Which supervisor to tell when the server is ready (redisIsSupervised): `auto` asks the
/// environment, as Redis does.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Supervisor {
    None,
    Systemd,
    Upstart,
}

pub fn supervisor(mode: &str) -> Supervisor {
    let env = |k: &str| std::env::var_os(k).is_some();
    match mode {
        "systemd" => Supervisor::Systemd,
        "upstart" => Supervisor::Upstart,
        "auto" if env("UPSTART_JOB") => Supervisor::Upstart,
        "auto" if env("NOTIFY_SOCKET") => Supervisor::Systemd,
        _ => Supervisor::None,
    }
}

/// `daemonize yes` (unless supervised): the parent exits, the child leaves the terminal's
/// session and its standard streams go to /dev/null. Must run before any thread starts.
pub fn daemonize() {
    // SAFETY: called from main before the runtime or any other thread exists, so the child
    // is a full copy of a single-threaded process.
    unsafe {
        match libc::fork() {
            -1 => {
                serverlog!(Warning, "fork: {}", std::io::Error::last_os_error());
                std::process::exit(1);
            }
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
    }
    crate::log::server_is_this_process();
    if let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in 0..=2 {
            // SAFETY: dup2 onto the standard descriptors of this process.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

/// `logfile <path>`: the log lines (stdout and stderr) are appended to the file. An empty
/// path keeps standard output (or /dev/null when daemonized), as in Redis. A file that
/// cannot be opened stops startup with Redis's message.
pub fn open_log(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Ok(());
    }
    let f = OpenOptions::new().create(true).append(true).open(path).map_err(|e| format!("Can't open the log file: {}", strerror(&e)))?;
    for fd in [1, 2] {
        // SAFETY: dup2 onto the standard descriptors of this process.
        unsafe { libc::dup2(f.as_raw_fd(), fd) };
    }
    Ok(())
}

/// The pid file to write, if any (createPidFile: the configured one, or the default one
/// when daemonized).
pub fn pid_file(configured: &str, daemonized: bool) -> Option<String> {
    match configured {
        "" if daemonized => Some(DEFAULT_PID_FILE.into()),
        "" => None,
        p => Some(p.into()),
    }
}

/// Writes the pid; failing to is logged, not fatal (as in Redis).
pub fn write_pid_file(path: &str) {
    if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
        serverlog!(Notice, "Failed to write PID file: {}", strerror(&e));
    }
}

/// Tells the supervisor the server is ready: systemd through $NOTIFY_SOCKET (sd_notify's
/// datagram), upstart by stopping the process until it continues it.
pub fn notify_ready(s: Supervisor) {
    match s {
        Supervisor::None => {}
        Supervisor::Upstart => {
            // SAFETY: raising a signal at this process has no memory-safety conditions.
            unsafe { libc::raise(libc::SIGSTOP) };
            std::env::remove_var("UPSTART_JOB");
        }
        Supervisor::Systemd => {
            if let Err(e) = sd_notify("STATUS=Ready to accept connections\nREADY=1\n") {
                serverlog!(Notice, "systemd supervision error: {}", e);
            }
        }
    }
}

fn sd_notify(msg: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "NOTIFY_SOCKET not found"));
    };
    let sock = std::os::unix::net::UnixDatagram::unbound()?;
    let path = path.to_string_lossy().into_owned();
    match path.strip_prefix('@') {
        // An abstract socket (Linux): the name without its leading '@'.
        #[cfg(target_os = "linux")]
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            sock.send_to_addr(msg.as_bytes(), &addr)?;
        }
        _ => {
            sock.send_to(msg.as_bytes(), &path)?;
        }
    }
    Ok(())
}

/// setOOMScoreAdj: `oom-score-adj` and `oom-score-adj-values` (one value per process class:
/// primary, replica, background child). `absolute` writes the class's value, `yes` and
/// `relative` add it to the score the process had when Redis first took control of it, and
/// `no` puts that score back if it ever changed it (never touching the score otherwise).
/// The state is process-wide, so a forked child (a save, a rewrite) adjusts from the same
/// base. Linux only; elsewhere there is nothing to adjust.
#[derive(Default)]
pub struct OomScore {
    applied: Option<(String, String, usize)>,
}

/// Process classes, as indexes into oom-score-adj-values.
pub const OOM_PRIMARY: usize = 0;
pub const OOM_REPLICA: usize = 1;
pub const OOM_CHILD: usize = 2;

/// Whether this process's score is Redis's doing, and the score from before it was.
static OOM_ADJUSTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static OOM_BASE: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

impl OomScore {
    pub fn new() -> OomScore {
        OomScore::default()
    }

    /// Applies the settings for `class` when they differ from what was last applied.
    pub fn apply(&mut self, mode: &str, values: &str, class: usize) {
        let key = (mode.to_string(), values.to_string(), class);
        if self.applied.as_ref() == Some(&key) {
            return;
        }
        set_oom_score_adj(mode, values, class);
        self.applied = Some(key);
    }
}

/// One setOOMScoreAdj call.
pub fn set_oom_score_adj(mode: &str, values: &str, class: usize) {
    use std::sync::atomic::Ordering::Relaxed;
    let path = "/proc/self/oom_score_adj";
    let target = if mode != "no" {
        if !OOM_ADJUSTED.swap(true, Relaxed) {
            match std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok()) {
                Some(base) => OOM_BASE.store(base, Relaxed),
                None => {
                    OOM_ADJUSTED.store(false, Relaxed);
                    return;
                }
            }
        }
        let v: i64 = values.split_whitespace().nth(class).and_then(|v| v.parse().ok()).unwrap_or(0);
        let v = if mode == "absolute" { v } else { v + OOM_BASE.load(Relaxed) };
        v.clamp(-1000, 1000)
    } else if OOM_ADJUSTED.swap(false, Relaxed) {
        OOM_BASE.load(Relaxed)
    } else {
        return;
    };
    if let Err(e) = std::fs::write(path, format!("{}\n", target)) {
        serverlog!(Notice, "Unable to write oom_score_adj: {}", strerror(&e));
    }
}

/// A forked child's class (setOOMScoreAdj(CONFIG_OOM_BGCHILD)), from its copy of the config.
pub fn oom_for_child(engine: &cinnabar::Engine) {
    let cfg = engine.config();
    set_oom_score_adj(cfg.get(cinnabar::param!("oom-score-adj")), cfg.get(cinnabar::param!("oom-score-adj-values")), OOM_CHILD);
}

/// `dir`: the server's working directory, as Redis chdirs into it (relative `logfile`,
/// `pidfile` and `unixsocket` paths are then under it); answers the absolute path that
/// CONFIG GET dir shows.
pub fn change_dir(dir: &str) -> Result<String, String> {
    let dir = if dir.is_empty() { "." } else { dir };
    std::env::set_current_dir(dir).map_err(|e| strerror(&e))?;
    std::env::current_dir().map(|p| p.display().to_string()).map_err(|e| strerror(&e))
}
