//! What every connection task shares: the engine behind one lock, the registry that lets the
//! engine's `CloseClient` and `Unblocked` events reach a connection's task, the shutdown signal, and the
//! host's clock. Host events (DEBUG SLEEP, CLIENT KILL, SHUTDOWN) are acted on here; saves
//! and loads are `persist`'s.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cinnabar::{ClientId, Engine, Event};
use hashbrown::HashMap;
use tokio::sync::{watch, Notify};

/// How the engine's events reach one connection's task.
#[derive(Default)]
pub struct Signals {
    /// CLIENT KILL, QUIT from elsewhere: close the connection.
    pub killed: Notify,
    /// The client's wait on keys ended: take its replies and run its pending commands.
    pub wake: Notify,
}

/// A running script as the other connections see it, outside the engine lock: whether one
/// runs, whether it has timed out (then they answer BUSY), what SCRIPT KILL needs to know,
/// and the kill request the script's count hook picks up.
#[derive(Default)]
pub struct ScriptStatus {
    pub running: AtomicBool,
    /// Connections about to run a batch with a script: others stop waiting on the lock
    /// blindly from this moment, before the script itself starts.
    pub queued: AtomicUsize,
    pub busy: AtomicBool,
    pub eval: AtomicBool,
    pub wrote: AtomicBool,
    pub kill: AtomicBool,
    /// When this run last handed its worker's core to another thread (ms since the script
    /// started; see the Busy arm below).
    handed_off_ms: std::sync::atomic::AtomicI64,
    /// The running function and when it started (FUNCTION STATS while busy).
    pub function: Mutex<Option<(Box<cinnabar::script::run::RunningFunction>, std::time::Instant)>>,
}

impl ScriptStatus {
    /// The engine's watch over its scripts (`Engine::set_script_watch`).
    pub fn watch(self: &Arc<Self>) -> cinnabar::script::run::ScriptWatch {
        use cinnabar::script::run::ScriptState;
        let me = self.clone();
        Box::new(move |state| match state {
            ScriptState::Started { eval, function } => {
                *me.function.lock().unwrap_or_else(|p| p.into_inner()) = function.map(|f| (f, std::time::Instant::now()));
                me.eval.store(eval, Ordering::SeqCst);
                me.wrote.store(false, Ordering::SeqCst);
                me.kill.store(false, Ordering::SeqCst);
                me.handed_off_ms.store(-1_000_000, Ordering::SeqCst);
                me.running.store(true, Ordering::SeqCst);
                false
            }
            ScriptState::Busy { eval, wrote, elapsed_ms } => {
                // Scripts run inline on their worker (a hand-off per script would cost more
                // than most scripts take). One that times out gives the worker's core (its
                // queue of connections, and the I/O driver if no other worker polls it) to a
                // fresh thread, so the others get their BUSY replies: block_in_place hands the
                // core over, and the pause lets the new thread take it before this one could
                // take it back. A loaded machine can lose that race, so it is tried again
                // every 50 ms while the script runs (a no-op hand-off once the core is gone).
                let last = me.handed_off_ms.load(Ordering::SeqCst);
                if elapsed_ms - last >= 50 && tokio::runtime::Handle::try_current().is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread) {
                    me.handed_off_ms.store(elapsed_ms, Ordering::SeqCst);
                    tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(1)));
                }
                me.eval.store(eval, Ordering::SeqCst);
                me.wrote.store(wrote, Ordering::SeqCst);
                me.busy.store(true, Ordering::SeqCst);
                me.kill.load(Ordering::SeqCst)
            }
            ScriptState::Ended => {
                me.busy.store(false, Ordering::SeqCst);
                me.running.store(false, Ordering::SeqCst);
                false
            }
        })
    }
}

pub struct Shared {
    pub script: Arc<ScriptStatus>,
    /// The connection settings last read, for connections that open while a script is busy.
    params: Mutex<(usize, bool, i64, i64)>,
    /// parking_lot's mutex for its timed lock (see `engine_unless_busy`); it does not
    /// poison, so a panic inside a command leaves the engine usable, as each command's
    /// state is consistent on its own.
    engine: parking_lot::Mutex<Engine>,
    clients: Mutex<HashMap<ClientId, Arc<Signals>>>,
    shutdown: watch::Sender<bool>,
    pub connections: AtomicUsize,
    /// The background save child, if one runs (see `persist`).
    pub children: crate::persist::Children,
    /// This `Shared` itself, for threads that outlive the call that starts them (the
    /// reaper of a save child, the loader).
    me: Weak<Shared>,
    /// The append-only file (always taken with the engine locked first).
    aof: Mutex<Option<crate::aof::Aof>>,
    /// The listening sockets' accept loops (replaced by CONFIG SET port/bind).
    listening: Mutex<Option<crate::listener::Listening>>,
    /// The lazyfree thread's queue: big values UNLINK and FLUSHALL ASYNC let go of are
    /// dropped there, off every connection's path (Redis's bio lazyfree thread).
    lazyfree: std::sync::mpsc::Sender<cinnabar::lazyfree::Job>,
    /// MIGRATE's cached connections (the engine holds the same cache as its migrate host).
    pub migrator: crate::migrate::Migrator,
}

/// The host's clock: microseconds since the Unix epoch.
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
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return (0.0, 0.0) };
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

impl Shared {
    pub fn new(mut engine: Engine) -> Arc<Shared> {
        let script = Arc::new(ScriptStatus::default());
        engine.set_script_watch(script.watch());
        let params = Mutex::new(Self::read_params(&engine));
        engine.set_lazyfree_host();
        let migrator = crate::migrate::Migrator::default();
        engine.set_migrate_host(Box::new(migrator.clone()));
        let (lazyfree, jobs) = std::sync::mpsc::channel::<cinnabar::lazyfree::Job>();
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                for job in jobs {
                    job.free();
                }
            })
            .expect("spawn the lazyfree thread");
        Arc::new_cyclic(|me| Shared {
            script,
            params,
            engine: parking_lot::Mutex::new(engine),
            clients: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            connections: AtomicUsize::new(0),
            children: Default::default(),
            me: me.clone(),
            aof: Mutex::new(None),
            listening: Mutex::new(None),
            lazyfree,
            migrator,
        })
    }

    pub fn set_listening(&self, l: crate::listener::Listening) {
        *self.listening.lock().unwrap_or_else(|p| p.into_inner()) = Some(l);
    }

    pub fn take_listening(&self) -> Option<crate::listener::Listening> {
        self.listening.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    pub fn me(&self) -> Weak<Shared> {
        self.me.clone()
    }

    /// Hands over the AOF opened at startup.
    pub fn set_aof(&self, aof: Option<crate::aof::Aof>) {
        *self.aof() = aof;
    }

    fn aof(&self) -> MutexGuard<'_, Option<crate::aof::Aof>> {
        self.aof.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes what the engine recorded to the AOF and finishes a rewrite whose base is
    /// done. Runs with the engine locked after every batch and tick, before any reply of
    /// the batch is sent.
    fn flush_aof(&self, engine: &mut Engine) {
        if let Some(a) = self.aof().as_mut() {
            a.flush(engine);
            a.poll_rewrite(engine);
        }
    }

    /// The AOF's last writes on disk (shutdown).
    fn sync_aof(&self, engine: &mut Engine) {
        if let Some(a) = self.aof().as_mut() {
            a.kill_rewrite(engine);
            a.sync(engine);
        }
    }

    /// The engine lock.
    pub fn engine(&self) -> parking_lot::MutexGuard<'_, Engine> {
        self.engine.lock()
    }

    /// The engine lock, unless a script holds it past `busy-reply-threshold`: then `None`,
    /// and the caller answers for the engine (BUSY, SCRIPT KILL). While a script may run,
    /// the wait is a series of short timed waits that look at the busy flag in between:
    /// the lock passes on the moment the script ends (no polling delay added to every
    /// scripted command) and a busy script is still noticed within a few milliseconds.
    pub async fn engine_unless_busy(&self) -> Option<parking_lot::MutexGuard<'_, Engine>> {
        loop {
            if !self.script.running.load(Ordering::SeqCst) && self.script.queued.load(Ordering::SeqCst) == 0 {
                return Some(self.engine());
            }
            if let Some(g) = self.engine.try_lock_for(Duration::from_millis(2)) {
                return Some(g);
            }
            if self.script.busy.load(Ordering::SeqCst) {
                return None;
            }
        }
    }

    fn read_params(e: &Engine) -> (usize, bool, i64, i64) {
        let c = e.config();
        (c.get_i64("maxclients") as usize, c.get_bool("protected-mode") && c.get("requirepass").unwrap_or("").is_empty(), c.get_i64("timeout"), e.max_bulk_len())
    }

    /// maxclients, protected mode, the idle timeout and the bulk limit as the config has them
    /// now (as last seen, while a script keeps the engine).
    pub async fn connection_params(&self) -> crate::connection::Params {
        let p = match self.engine_unless_busy().await {
            Some(e) => {
                let p = Self::read_params(&e);
                *self.params.lock().unwrap_or_else(|p| p.into_inner()) = p;
                p
            }
            None => *self.params.lock().unwrap_or_else(|p| p.into_inner()),
        };
        crate::connection::Params { max_clients: p.0, protected: p.1, timeout_s: p.2, max_bulk: p.3 }
    }

    /// SCRIPT KILL / FUNCTION KILL while a script is timed out: the reply, and the request
    /// its next count hook honours.
    pub fn kill_script(&self, eval_cmd: bool) -> Result<(), String> {
        let s = &self.script;
        let running = s.running.load(Ordering::SeqCst).then(|| (s.eval.load(Ordering::SeqCst), s.wrote.load(Ordering::SeqCst)));
        cinnabar::script::run::kill_reply(running, eval_cmd)?;
        s.kill.store(true, Ordering::SeqCst);
        Ok(())
    }

    pub fn register(&self, id: ClientId) -> Arc<Signals> {
        let n = Arc::new(Signals::default());
        self.clients.lock().unwrap_or_else(|p| p.into_inner()).insert(id, n.clone());
        n
    }

    pub fn unregister(&self, id: ClientId) {
        self.clients.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    fn signals(&self, id: ClientId) -> Option<Arc<Signals>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned()
    }

    pub fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Acts on the engine's events. Called with the engine locked, right after a batch, so
    /// DEBUG SLEEP holds the whole server as it does in Redis. Acting on one may raise more
    /// (a rewritten config file wakes its client): loop until none are left.
    pub fn handle_events(&self, engine: &mut Engine) {
        for job in engine.take_lazyfree() {
            // The thread lives as long as the process; should it be gone, free here.
            if let Err(std::sync::mpsc::SendError(job)) = self.lazyfree.send(job) {
                job.free();
            }
        }
        self.flush_aof(engine);
        while engine.has_events() {
            self.handle_batch_of_events(engine);
            self.flush_aof(engine);
        }
    }

    fn handle_batch_of_events(&self, engine: &mut Engine) {
        for e in engine.drain_events() {
            match e {
                Event::CloseClient(id) => {
                    if let Some(n) = self.signals(id) {
                        n.killed.notify_one();
                    }
                }
                Event::Unblocked(id) | Event::Deliver(id) => {
                    if let Some(n) = self.signals(id) {
                        n.wake.notify_one();
                    }
                }
                Event::Sleep { micros } => std::thread::sleep(Duration::from_micros(micros)),
                Event::Save => {
                    let ok = crate::persist::save(engine).inspect_err(|e| eprintln!("{}", e)).is_ok();
                    engine.save_finished(ok, now_us());
                }
                Event::BackgroundSave => crate::persist::bgsave(self, engine),
                Event::KillBackgroundSave => crate::persist::kill_child(self, engine),
                Event::RewriteConfig { client } => {
                    let result = rewrite_config(engine).map_err(|e| {
                        eprintln!("CONFIG REWRITE failed: {}", e);
                        e
                    });
                    engine.config_rewrite_finished(client, result);
                }
                Event::Log { level, message } => {
                    // Redis's log line marks: . debug, - verbose, * notice, # warning.
                    let mark = ['.', '-', '*', '#'][level.min(3) as usize];
                    println!("{}:M {} {}", std::process::id(), mark, message);
                }
                Event::LoadAof { client } => {
                    let reply = match crate::aof::reload(engine, self.aof().as_mut()) {
                        Ok(()) => cinnabar::reply::OK,
                        Err(e) => cinnabar::reply::Reply::Error(format!("ERR {}", e.lines().last().unwrap_or(&e))),
                    };
                    engine.host_wait_finished(client, reply);
                }
                Event::RewriteAof => {
                    let mut aof = self.aof();
                    match aof.as_mut() {
                        Some(a) => a.begin_rewrite(engine),
                        None => *aof = Some(crate::aof::rewrite_while_off(engine)),
                    }
                }
                Event::AppendOnly { on: true } => {
                    let mut aof = self.aof();
                    match crate::aof::Aof::enable(engine) {
                        Ok(a) => {
                            *aof = Some(a);
                            engine.request_aof_rewrite();
                        }
                        Err(e) => eprintln!("Unable to turn on AOF: {}", e),
                    }
                }
                Event::ReloadRdb { client, merge } => {
                    let path = crate::persist::snapshot_paths(engine).1;
                    let file = std::fs::read(&path).map_err(|e| format!("{}: {}", path.display(), e));
                    engine.rdb_reload_finished(client, file, merge);
                }
                Event::Listen { client, bind, port, previous } => match self.me.upgrade() {
                    Some(me) => {
                        tokio::spawn(crate::listener::rebind(me, client, bind, port, previous));
                    }
                    None => engine.listen_finished(client, Err("shutting down".into()), &previous),
                },
                Event::AppendOnly { on: false } => {
                    if let Some(a) = self.aof().take() {
                        a.disable(engine);
                    }
                }
                Event::Shutdown { save, force, client } => {
                    // As redis-server (finishShutdown): the AOF's last writes synced, a save
                    // child killed, then SAVE saves, NOSAVE does not, and a plain SHUTDOWN
                    // saves when save points are configured. A failed save keeps the server
                    // up and the client is told; otherwise it gets no reply at all.
                    self.sync_aof(engine);
                    if crate::persist::shutdown(self, engine, save) || force {
                        let _ = self.shutdown.send(true);
                    } else {
                        engine.shutdown_failed(client);
                    }
                }
            }
        }
    }

    pub async fn wait_for_shutdown(&self) {
        let mut rx = self.shutdown_rx();
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).expect("SIGINT handler");
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        loop {
            let setting = tokio::select! {
                _ = int.recv() => {
                    println!("Received SIGINT scheduling shutdown...");
                    "shutdown-on-sigint"
                }
                _ = term.recv() => {
                    println!("Received SIGTERM scheduling shutdown...");
                    "shutdown-on-sigterm"
                }
                _ = rx.wait_for(|v| *v) => break,
            };
            // A signal shuts down as SHUTDOWN with the flags shutdown-on-sig* gives (default:
            // saving when save points are configured); a failed save keeps the server up
            // unless `force`.
            let mut engine = self.engine();
            let flags = engine.config().get(setting).unwrap_or("default").to_string();
            let save = if flags.contains("nosave") { Some(false) } else if flags.split(' ').any(|f| f == "save") { Some(true) } else { None };
            self.sync_aof(&mut engine);
            if crate::persist::shutdown(self, &mut engine, save) || flags.contains("force") {
                break;
            }
            println!("Errors trying to shut down the server. Check the logs for more information.");
        }
        let _ = self.shutdown.send(true);
        println!("Cinnabar is now ready to exit, bye bye...");
    }
}

/// CONFIG REWRITE's file work (rewriteConfigOverwriteFile): read the config file the server
/// started with (a missing one reads as empty), let the engine produce the new text, write it
/// to a temporary file beside it, fsync, and rename it over the old one. The error is the
/// system's reason, as Redis reports it (strerror).
fn rewrite_config(engine: &Engine) -> Result<(), String> {
    let path = std::path::PathBuf::from(&engine.host_info().config_file);
    let reason = |e: std::io::Error| {
        let s = e.to_string();
        // std appends " (os error N)"; Redis prints strerror's text alone.
        s.split(" (os error").next().unwrap_or(&s).to_string()
    };
    let old = match std::fs::read(&path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(reason(e)),
    };
    let dir = engine.config().get("dir").filter(|d| !d.is_empty()).unwrap_or(".").to_string();
    let dir = std::fs::canonicalize(&dir).map(|p| p.display().to_string()).unwrap_or(dir);
    let text = engine.config_rewrite(&old, &dir);
    let tmp = path.with_file_name(format!("{}.{}.tmp", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), std::process::id()));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        reason(e)
    })
}

/// The process's resident set (INFO used_memory_rss, mem_fragmentation_ratio), from
/// /proc/self/statm; 0 where there is no procfs.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64;
    pages * page
}

impl Shared {
    /// Eviction passes back to back, yielding between them, until one ends under the limit
    /// (or with nothing left to evict).
    async fn continue_eviction(&self) {
        loop {
            tokio::task::yield_now().await;
            let running = match self.engine_unless_busy().await {
                Some(mut e) => {
                    e.continue_eviction(now_us());
                    self.handle_events(&mut e);
                    e.eviction_running()
                }
                None => false,
            };
            if !running {
                return;
            }
        }
    }
}

/// Drives `Engine::tick` `hz` times a second (active expiry, save points, timeouts); a
/// CONFIG SET hz takes effect from the next tick, as in Redis.
pub fn spawn_ticker(shared: Arc<Shared>, mut hz: u32) {
    let interval = |hz: u32| {
        let mut every = tokio::time::interval(Duration::from_micros(1_000_000 / hz.max(1) as u64));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every
    };
    tokio::spawn(async move {
        let mut every = interval(hz);
        let mut oom = crate::process::OomScore::new();
        loop {
            every.tick().await;
            if shared.is_shutting_down() {
                return;
            }
            // A busy script holds the engine: skip the tick rather than wait for it.
            let rss = resident_bytes();
            let running = match shared.engine_unless_busy().await {
                Some(mut e) => {
                    e.host_info_mut().used_memory_rss = rss;
                    e.tick(now_us());
                    shared.handle_events(&mut e);
                    shared.migrator.close_idle();
                    // oom-score-adj applies at startup and whenever CONFIG SET changes it.
                    oom.apply(e.config().get("oom-score-adj").unwrap_or("no"), e.config().get("oom-score-adj-values").unwrap_or(""));
                    if e.config().hot.hz != hz {
                        hz = e.config().hot.hz;
                        every = interval(hz);
                        every.reset();
                    }
                    e.eviction_running()
                }
                None => continue,
            };
            // Over maxmemory with a pass cut short by its time budget: go on as soon as
            // other connections have had their turn, as Redis's eviction timer does.
            if running {
                shared.continue_eviction().await;
            }
        }
    });
}
