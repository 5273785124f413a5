//! The loop: one thread owns the engine and drives it as Redis's ae event loop drives
//! redis-server. Each turn:
//!
//! 1. wait for sockets (or the next timer: the `hz` tick, a blocked client's deadline);
//! 2. accept, then read every connection that has input (the I/O threads share the reads
//!    under `io-threads N`), then run each one's complete commands in event order;
//! 3. timers: blocked clients' deadlines, the tick (active expiry, save points, client
//!    timeouts, the AOF rewrite child);
//! 4. before sleeping (beforeSleep): run the clients a write woke (served waits, messages),
//!    append everything the turn recorded to the AOF (and, under `appendfsync always`, fsync
//!    it once for all of them: group commit), then write every client's replies.
//!
//! So no reply leaves before the write it acknowledges is in the AOF, and one fsync covers
//! every client served in the turn. Work that would stall the loop runs elsewhere: fsync
//! under `everysec` (a background thread, `aof.rs`), CONFIG REWRITE's file, lazy frees,
//! snapshot loads and background saves (a forked child). Other threads reach the loop only
//! through `Notifier` (a closure to run on it, and a wake-up).

use cinnabar::HostReport;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

use cinnabar::session::Session;
use cinnabar::{ClientId, Engine, Event};
use mio::{Events, Interest, Poll, Waker};

use crate::conn::Read;
use crate::host::now_us;
use crate::io_threads::{Done, IoThreads};
use crate::net::{target, Net, Params, SharedNet, Target, SIGNALS, WAKER};

/// Work for the lazyfree thread (Redis's bio lazyfree): values to free, and memory to give
/// back to the system.
enum Background {
    Free(cinnabar::lazyfree::Job),
    Trim,
}

/// Work another thread hands the loop: it runs with the engine, between two turns.
pub type Msg = Box<dyn FnOnce(&mut Server) + Send>;

/// How other threads (a save child's reaper, the loader, CONFIG REWRITE's writer) reach
/// the loop.
#[derive(Clone)]
pub struct Notifier {
    tx: Sender<Msg>,
    waker: Arc<Waker>,
}

impl Notifier {
    pub fn send(&self, msg: Msg) {
        if self.tx.send(msg).is_ok() {
            let _ = self.waker.wake();
        }
    }
}

/// SIGTERM and SIGINT: flags the handlers set, and a socket they write to so the loop
/// wakes (signal-hook's self-pipe).
struct Signals {
    term: Arc<AtomicBool>,
    int: Arc<AtomicBool>,
    pipe: mio::net::UnixStream,
}

impl Signals {
    fn install(poll: &Poll) -> std::io::Result<Signals> {
        let (read, write) = std::os::unix::net::UnixStream::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        let (term, int) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        for (sig, flag) in [(signal_hook::consts::SIGTERM, &term), (signal_hook::consts::SIGINT, &int)] {
            signal_hook::flag::register(sig, flag.clone())?;
            signal_hook::low_level::pipe::register(sig, write.try_clone()?)?;
        }
        let mut pipe = mio::net::UnixStream::from_std(read);
        poll.registry().register(&mut pipe, SIGNALS, Interest::READABLE)?;
        Ok(Signals { term, int, pipe })
    }
}

/// Closes a connection when dropped armed: what a panic unwinding out of running it
/// leaves behind is the connection closed and its client forgotten.
struct Closing<'a> {
    server: &'a mut Server,
    key: usize,
    armed: bool,
}

impl Closing<'_> {
    fn defuse(mut self) {
        self.armed = false;
    }
}

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.server.close(self.key);
        }
    }
}

pub struct Server {
    pub engine: Engine,
    pub net: SharedNet,
    events: Events,
    pub aof: Option<crate::aof::Aof>,
    pub children: Arc<crate::persist::Children>,
    lazyfree: Sender<Background>,
    /// When memory was last given back to the system (`Background::Trim`), µs.
    last_trim_us: i64,
    migrator: crate::migrate::Migrator,
    notifier: Notifier,
    msgs: Receiver<Msg>,
    signals: Signals,
    /// Blocked clients' deadlines (Unix ms) by connection.
    deadlines: BTreeSet<(i64, usize)>,
    next_tick_us: i64,
    hz: u32,
    oom: crate::process::OomScore,
    io: Option<IoThreads>,
    /// `io-threads-do-reads yes`: the I/O threads read and parse too (else they only write).
    io_reads: bool,
    /// What the sockets did this turn, and whether the I/O threads took part (INFO stats).
    io_counts: cinnabar::server::IoCounts,
    threads_active: bool,
    /// Set once the server is to stop: the process's exit code.
    pub exit: Option<i32>,
    /// The link to the primary while this server is a replica (REPLICAOF).
    pub replica: Option<crate::replica::Link>,
    /// Scratch lists reused every turn.
    to_read: Vec<usize>,
    listeners_ready: Vec<usize>,
}

impl Server {
    /// The loop around `engine`, listening on `listeners`.
    pub fn new(mut engine: Engine, listeners: Vec<crate::listener::Listener>) -> std::io::Result<Server> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let signals = Signals::install(&poll)?;
        let mut net = Net::new(poll, Params::of(&engine));
        net.add_listeners(listeners)?;
        let net: SharedNet = Arc::new(parking_lot::Mutex::new(net));
        let children = Arc::new(crate::persist::Children::default());
        engine.set_script_watch(crate::busy::watch(net.clone(), children.clone()));
        engine.set_script_debugger(Box::new(crate::ldb::Debugger::new(net.clone())));
        engine.set_lazyfree_host();
        let migrator = crate::migrate::Migrator::default();
        engine.set_migrate_host(Box::new(migrator.clone()));
        let (lazyfree, jobs) = channel::<Background>();
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                for job in jobs {
                    match job {
                        Background::Free(job) => job.free(),
                        // SAFETY: malloc_trim has no preconditions; glibc's allocator is
                        // thread-safe, so it may run beside the loop's allocations.
                        Background::Trim => unsafe {
                            libc::malloc_trim(0);
                        },
                    }
                }
            })
            .expect("spawn the lazyfree thread");
        let (tx, msgs) = channel();
        let hz = engine.config().hz();
        let io = IoThreads::start(engine.config().get_i64(cinnabar::param!("io-threads")).max(1) as usize);
        let engine_io_reads = engine.config().get_bool(cinnabar::param!("io-threads-do-reads"));
        Ok(Server {
            engine,
            net,
            events: Events::with_capacity(1024),
            aof: None,
            children,
            lazyfree,
            last_trim_us: 0,
            migrator,
            notifier: Notifier { tx, waker },
            msgs,
            signals,
            deadlines: BTreeSet::new(),
            next_tick_us: now_us(),
            hz,
            oom: crate::process::OomScore::new(),
            io,
            io_reads: engine_io_reads,
            io_counts: Default::default(),
            threads_active: false,
            exit: None,
            replica: None,
            to_read: Vec::new(),
            listeners_ready: Vec::new(),
        })
    }

    pub fn notifier(&self) -> Notifier {
        self.notifier.clone()
    }

    /// Turns until something stops the server; its exit code. A bug that unwinds out of a
    /// turn (the engine contains its own) has been reported by the panic hook (`bug.rs`)
    /// and cost the connection it was running; the loop goes on.
    pub fn run(&mut self) -> i32 {
        loop {
            if let Some(code) = self.exit {
                return code;
            }
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.turn()));
        }
    }

    fn turn(&mut self) {
        let timeout = self.timeout();
        let (mut woken, mut signalled) = (false, false);
        let mut to_read = std::mem::take(&mut self.to_read);
        let mut listeners = std::mem::take(&mut self.listeners_ready);
        {
            let mut net = self.net.lock();
            if let Err(e) = net.poll.poll(&mut self.events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    serverlog!(Warning, "epoll_wait: {}", crate::files::strerror(&e));
                }
            }
            woken |= std::mem::take(&mut net.woken);
            signalled |= std::mem::take(&mut net.signalled);
            to_read.append(&mut net.work.unread);
            for ev in self.events.iter() {
                match target(ev.token()) {
                    Target::Waker => woken = true,
                    Target::Signals => signalled = true,
                    Target::Listener(i) => listeners.push(i),
                    Target::Conn(k) => {
                        // One read per turn: a connection left unread is in the list already.
                        if (ev.is_readable() || ev.is_read_closed() || ev.is_error()) && !net.conns.get(k).is_some_and(|c| c.unread) {
                            to_read.push(k);
                        }
                        if ev.is_writable() && net.conns.get(k).is_some_and(|c| c.session.as_ref().is_some_and(|s| s.wants_write())) {
                            net.queue_write(k);
                        }
                    }
                }
            }
        }
        if !listeners.is_empty() {
            self.accept(&listeners);
            listeners.clear();
        }
        self.listeners_ready = listeners;
        if !to_read.is_empty() {
            self.read(&to_read);
            for &k in &to_read {
                self.run_conn(k);
            }
            to_read.clear();
        }
        self.to_read = to_read;
        if woken {
            while let Ok(msg) = self.msgs.try_recv() {
                msg(self);
            }
            self.handle_events();
        }
        if signalled {
            self.signalled();
        }
        self.timers();
        self.before_sleep();
    }

    /// How long the loop may wait: until the next tick or the nearest deadline, or not at
    /// all when work is already waiting.
    fn timeout(&self) -> Option<Duration> {
        let now = now_us();
        let net = self.net.lock();
        if !net.work.to_run.is_empty() || !net.work.unread.is_empty() || net.woken || net.signalled || self.engine.eviction_running() {
            return Some(Duration::ZERO);
        }
        drop(net);
        let mut until = self.next_tick_us;
        if let Some(&(d, _)) = self.deadlines.first() {
            until = until.min(d * 1000);
        }
        Some(Duration::from_micros((until - now).max(0) as u64))
    }

    fn accept(&mut self, listeners: &[usize]) {
        let now = now_us();
        let engine = &mut self.engine;
        let mut net = self.net.lock();
        net.params = Params::of(engine);
        for &i in listeners {
            net.accept(
                i,
                Some(&mut |info: &cinnabar::ClientInfo| {
                    let id = engine.connect(info.clone(), now);
                    Session::new(id, engine)
                }),
            );
        }
        let rejected = std::mem::take(&mut net.rejected);
        drop(net);
        self.engine.report(HostReport::ConnectionsRejected { n: rejected });
    }

    /// Reads every connection in `keys` (sharing them out under `io-threads`); closes those
    /// whose peer is gone, and those over `client-query-buffer-limit`.
    fn read(&mut self, keys: &[usize]) {
        let mut gone = Vec::new();
        let io_counts = &mut self.io_counts;
        {
            let mut net = self.net.lock();
            let limit = net.params.query_limit;
            let mut check = |net: &mut Net, k: usize, r: Read, threaded: bool| {
                let Some(conn) = net.conns.get_mut(k) else {
                    return;
                };
                io_counts.reads += 1;
                io_counts.threaded_reads += threaded as u64;
                match r {
                    Read::Gone => gone.push(k),
                    Read::Data { bytes, more } => {
                        io_counts.net_input_bytes += bytes as u64;
                        let over = limit > 0 && conn.session.as_ref().is_some_and(|s| s.query_bytes() > limit);
                        if over {
                            let head = conn
                                .session
                                .as_ref()
                                .map(|s| s.input.iter().take(64).flat_map(|b| std::ascii::escape_default(*b)).map(char::from).collect::<String>())
                                .unwrap_or_default();
                            serverlog!(
                                Warning,
                                "Closing client that reached max query buffer length: addr={} (qbuf initial bytes: \"{}\")",
                                conn.info.addr,
                                head
                            );
                            gone.push(k);
                        } else if more {
                            net.work.unread.push(k);
                        }
                    }
                }
            };
            match &self.io {
                Some(io) if self.io_reads && io.worth_it(keys.len()) => {
                    self.threads_active = true;
                    let jobs: Vec<_> = keys
                        .iter()
                        .filter_map(|&k| {
                            let c = net.conns.get_mut(k)?;
                            c.unread = false;
                            Some((k, c.fd(), c.session.take()?))
                        })
                        .collect();
                    for ((k, _, session), done) in io.read(jobs) {
                        if let Some(c) = net.conns.get_mut(k) {
                            c.session = Some(session);
                            if let Done::Read(r) = done {
                                c.unread = matches!(r, Read::Data { more: true, .. });
                                check(&mut net, k, r, true);
                            }
                        }
                    }
                }
                _ => {
                    for &k in keys {
                        let Some(conn) = net.conns.get_mut(k) else {
                            continue;
                        };
                        let r = conn.read(true);
                        check(&mut net, k, r, false);
                    }
                }
            }
        }
        for k in gone {
            self.close(k);
        }
    }

    /// Runs a connection's ready commands (after input, a served wait, a message), then
    /// queues its replies for the end of the turn.
    fn run_conn(&mut self, k: usize) {
        let now = now_us();
        let (mut session, id) = {
            let mut net = self.net.lock();
            let Some(conn) = net.conns.get_mut(k) else { return };
            conn.queued_run = false;
            let Some(session) = conn.session.take() else { return };
            (session, conn.id)
        };
        let id = match id {
            Some(id) => id,
            None => {
                // Accepted while a script kept the engine: the engine meets it now.
                let info = self.net.lock().conns.get(k).map(|c| c.info.clone()).unwrap_or_default();
                let id = self.engine.connect(info, now);
                session.register(id, &self.engine);
                let mut net = self.net.lock();
                net.by_id.insert(id, k);
                if let Some(conn) = net.conns.get_mut(k) {
                    conn.id = Some(id);
                }
                id
            }
        };
        // Should a bug unwind from here, the connection goes with it and its client is
        // forgotten (its waits, WATCHes and subscriptions freed, its slot given back).
        let guard = Closing { server: self, key: k, armed: true };
        session.run(&mut guard.server.engine, now);
        let deadline = if session.blocked { guard.server.engine.block_deadline_ms(id) } else { None };
        guard.defuse();
        {
            let mut net = self.net.lock();
            let Some(conn) = net.conns.get_mut(k) else { return };
            let queue = session.wants_write() || session.closing;
            conn.session = Some(session);
            if conn.deadline != deadline {
                if let Some(old) = conn.deadline.take() {
                    self.deadlines.remove(&(old, k));
                }
                if let Some(d) = deadline {
                    self.deadlines.insert((d, k));
                }
                conn.deadline = deadline;
            }
            if queue {
                net.queue_write(k);
            }
        }
        if self.engine.has_events() {
            self.handle_events();
        }
    }

    /// Closes a connection now (its unwritten replies are dropped) and forgets its client.
    fn close(&mut self, k: usize) {
        let conn = self.net.lock().remove(k);
        if let Some(conn) = conn {
            if let Some(d) = conn.deadline {
                self.deadlines.remove(&(d, k));
            }
            if let Some(id) = conn.id {
                self.engine.disconnect(id);
            }
        }
    }

    fn key_of(&self, id: ClientId) -> Option<usize> {
        self.net.lock().by_id.get(&id).copied()
    }

    /// Acts on the engine's events. Acting on one may raise more (a rewritten config file
    /// wakes its client): loop until none are left.
    pub fn handle_events(&mut self) {
        while self.engine.has_events() {
            for e in self.engine.drain_events() {
                self.handle_event(e);
            }
        }
        for job in self.engine.take_lazyfree() {
            // The thread lives as long as the process; should it be gone, free here.
            if let Err(std::sync::mpsc::SendError(Background::Free(job))) = self.lazyfree.send(Background::Free(job)) {
                job.free();
            }
        }
    }

    fn handle_event(&mut self, e: Event) {
        match e {
            Event::CloseClient(id) => {
                // The master client has no connection of ours: killing it drops the link.
                if self.engine.master_client() == Some(id) {
                    crate::replica::reconnect(self);
                    return;
                }
                let Some(k) = self.key_of(id) else { return };
                // A client closing itself (QUIT, CLIENT KILL of itself) gets its reply
                // first; any other goes now, as freeClient does.
                let own = self.net.lock().conns.get(k).is_some_and(|c| c.session.as_ref().is_some_and(|s| s.closing));
                if !own {
                    self.close(k);
                }
            }
            Event::Unblocked(id) | Event::Deliver(id) => {
                if let Some(k) = self.key_of(id) {
                    self.net.lock().queue_run(k);
                }
            }
            Event::Sleep { micros } => std::thread::sleep(Duration::from_micros(micros)),
            Event::Save => {
                let ok = crate::persist::save(&self.engine).inspect_err(|e| serverlog!(Warning, "{}", e)).is_ok();
                self.engine.report(HostReport::SaveFinished { ok, now_us: now_us() });
            }
            Event::BackgroundSave => crate::persist::bgsave(self),
            Event::KillBackgroundSave => crate::persist::kill_child(&self.children, &mut self.engine),
            Event::RewriteConfig { client } => crate::persist::rewrite_config(self, client),
            // Already filtered by the engine's loglevel.
            Event::Log { level, message } => {
                let level =
                    [crate::log::Level::Debug, crate::log::Level::Verbose, crate::log::Level::Notice, crate::log::Level::Warning][level.min(3) as usize];
                crate::log::write(level, &message);
            }
            Event::LoadAof { client } => {
                let reply = match crate::aof::reload(&mut self.engine, self.aof.as_mut()) {
                    Ok(()) => cinnabar::reply::OK,
                    Err(e) => cinnabar::reply::Reply::Error(format!("ERR {}", e.lines().last().unwrap_or(&e))),
                };
                self.engine.report(HostReport::HostWaitFinished { id: client, reply });
            }
            Event::RewriteAof => match self.aof.as_mut() {
                Some(a) => a.begin_rewrite(&mut self.engine),
                None => self.aof = Some(crate::aof::rewrite_while_off(&mut self.engine)),
            },
            Event::AppendOnly { on: true } => match crate::aof::Aof::enable(&mut self.engine) {
                Ok(a) => {
                    self.aof = Some(a);
                    self.engine.request_aof_rewrite();
                }
                Err(e) => serverlog!(Warning, "Unable to turn on AOF: {}", e),
            },
            Event::ConfigChanged => self.apply_config(),
            Event::AppendOnly { on: false } => {
                if let Some(a) = self.aof.take() {
                    a.disable(&mut self.engine);
                }
            }
            Event::ReloadRdb { client, merge } => {
                let path = crate::persist::snapshot_paths(&self.engine).1;
                let file = std::fs::read(&path).map_err(|e| format!("{}: {}", path.display(), e));
                self.engine.report(HostReport::RdbReloadFinished { client, file, merge });
            }
            Event::Listen { client, bind, port, previous } => {
                self.rebind(client, &bind, port, &previous);
                // A failed re-bind rolls the whole CONFIG SET back: what was applied goes too.
                self.apply_config();
            }
            Event::ReplicaOf { master: Some((host, port)) } => {
                crate::replica::start(self, host, port);
                self.apply_config();
            }
            Event::ReplicaOf { master: None } => {
                crate::replica::stop(self);
                self.apply_config();
            }
            Event::Shutdown { save, force, client } => {
                // As redis-server (finishShutdown): the AOF's last writes synced, a save
                // child killed, then SAVE saves, NOSAVE does not, and a plain SHUTDOWN
                // saves when save points are configured. A failed save keeps the server
                // up and the client is told; otherwise it gets no reply at all.
                self.sync_aof();
                if crate::persist::shutdown(&self.children, &mut self.engine, save) || force {
                    self.exit = Some(0);
                } else {
                    self.engine.report(HostReport::ShutdownFailed { client });
                }
            }
        }
    }

    /// CONFIG SET port/bind (changeListener): the old TCP sockets close, the new ones open;
    /// when they cannot, the old addresses are bound again. Reported to the engine either way.
    fn rebind(&mut self, client: Option<ClientId>, bind: &str, port: u16, previous: &[(String, String)]) {
        let backlog = self.engine.config().get_i64(cinnabar::param!("tcp-backlog")) as i32;
        let mut net = self.net.lock();
        net.close_tcp_listeners();
        let result = match crate::listener::bind_all(bind, port, backlog) {
            Ok(ls) => net.add_listeners(ls).map_err(|e| crate::files::strerror(&e)),
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            let prev = |n: &str| previous.iter().find(|(k, _)| k == n).map_or("", |(_, v)| v.as_str()).to_string();
            let old_port = prev("port").parse::<u16>().unwrap_or(0);
            match crate::listener::bind_all(&prev("bind"), old_port, backlog) {
                Ok(ls) => {
                    let _ = net.add_listeners(ls);
                }
                Err(e) => serverlog!(Warning, "Could not listen again on the previous addresses: {}", e),
            }
            serverlog!(Warning, "{}", e);
        }
        drop(net);
        self.engine.report(HostReport::ListenFinished { client, result, previous: previous.to_vec() });
    }

    /// Blocked clients whose deadline passed, then the tick when it is due.
    fn timers(&mut self) {
        let now = now_us();
        while let Some(&(d, k)) = self.deadlines.first() {
            if d * 1000 > now {
                break;
            }
            self.deadlines.pop_first();
            let id = {
                let mut net = self.net.lock();
                let Some(conn) = net.conns.get_mut(k) else {
                    continue;
                };
                conn.deadline = None;
                conn.session.as_ref().map(|s| s.id)
            };
            if let Some(id) = id {
                self.engine.expire_blocked(now, Some(id));
            }
        }
        if now >= self.next_tick_us {
            self.cron(now);
            self.next_tick_us = now + 1_000_000 / self.hz.max(1) as i64;
        }
        self.handle_events();
    }

    /// The parameters the host applies itself: at every cron turn and on CONFIG SET
    /// (`Event::ConfigChanged`), before the client hears OK.
    fn apply_config(&mut self) {
        let cfg = self.engine.config();
        // oom-score-adj applies at startup and whenever CONFIG SET changes it.
        let class = if self.engine.is_replica() { crate::process::OOM_REPLICA } else { crate::process::OOM_PRIMARY };
        self.oom.apply(cfg.get(cinnabar::param!("oom-score-adj")), cfg.get(cinnabar::param!("oom-score-adj-values")), class);
        self.hz = cfg.hz();
        crate::log::set_level(cfg.get(cinnabar::param!("loglevel")));
        self.net.lock().params = Params::of(&self.engine);
        if let Some(a) = self.aof.as_mut() {
            a.collect_history(&self.engine);
        }
    }

    /// serverCron: the engine's tick, client timeouts, idle MIGRATE sockets,
    /// oom-score-adj, the AOF's background work.
    fn cron(&mut self, now: i64) {
        let rss = crate::host::resident_bytes();
        self.engine.host_info_mut().memory.used_memory_rss = rss;
        // Memory freed inside glibc's heap (a big client buffer, a huge transaction queue,
        // a flushed dataset) stays in the process until something hands it back; jemalloc
        // does that by itself, glibc on malloc_trim. At most once a second, off the loop,
        // when the process holds far more than it uses.
        let used = crate::alloc::live_bytes();
        if rss > used.saturating_mul(3) / 2 && rss - used > 32 << 20 && now - self.last_trim_us > 1_000_000 {
            self.last_trim_us = now;
            let _ = self.lazyfree.send(Background::Trim);
        }
        self.engine.tick(now);
        self.migrator.close_idle();
        self.apply_config();
        for id in self.engine.idle_clients(now) {
            if let Some(k) = self.key_of(id) {
                self.close(k);
            }
        }
        if let Some(a) = self.aof.as_mut() {
            a.poll_rewrite(&mut self.engine);
        }
        crate::replica::cron(self, now);
    }

    /// beforeSleep: the clients a write woke, the eviction timer, then the AOF (group
    /// commit), then every reply of the turn.
    fn before_sleep(&mut self) {
        loop {
            if self.engine.eviction_running() {
                // A pass that ran out of time goes on between turns (Redis's eviction timer).
                self.engine.continue_eviction(now_us());
                self.handle_events();
            }
            let (to_run, gone) = {
                let mut net = self.net.lock();
                (std::mem::take(&mut net.work.to_run), std::mem::take(&mut net.work.gone))
            };
            for id in gone {
                self.engine.disconnect(id);
            }
            if to_run.is_empty() {
                break;
            }
            for k in to_run {
                self.run_conn(k);
            }
        }
        self.flush_aof();
        self.write();
        if self.io_counts != Default::default() {
            self.engine.report(HostReport::CountIo { delta: std::mem::take(&mut self.io_counts), threads_active: std::mem::take(&mut self.threads_active) });
        }
    }

    /// Appends what the turn recorded to the AOF; under `appendfsync always` it is on disk
    /// when this returns, before any reply of the turn is written.
    fn flush_aof(&mut self) {
        if let Some(a) = self.aof.as_mut() {
            let child = a.rewriting() || self.children.active();
            a.flush(&mut self.engine, false, child);
        }
    }

    /// The AOF's last writes on disk (shutdown).
    fn sync_aof(&mut self) {
        if let Some(a) = self.aof.as_mut() {
            a.kill_rewrite(&mut self.engine);
            a.sync(&mut self.engine);
        }
    }

    /// Writes every queued connection's replies (sharing them out under `io-threads`);
    /// closes those that asked to close once written, and those whose peer is gone.
    fn write(&mut self) {
        let mut close = Vec::new();
        {
            let mut net = self.net.lock();
            let keys = std::mem::take(&mut net.work.to_write);
            if keys.is_empty() {
                return;
            }
            let io_counts = &mut self.io_counts;
            let mut done = |net: &mut Net, k: usize, wrote: crate::conn::Wrote, threaded: bool| {
                let Some(conn) = net.conns.get_mut(k) else {
                    return;
                };
                conn.queued_write = false;
                io_counts.writes += 1;
                io_counts.threaded_writes += threaded as u64;
                io_counts.net_output_bytes += wrote.unwrap_or(0) as u64;
                let s = conn.session.as_ref().expect("in place");
                if wrote.is_none() || (s.closing && !s.wants_write()) {
                    close.push(k);
                }
            };
            match &self.io {
                Some(io) if io.worth_it(keys.len()) => {
                    self.threads_active = true;
                    let jobs: Vec<_> = keys.iter().filter_map(|&k| net.conns.get_mut(k).and_then(|c| Some((k, c.fd(), c.session.take()?)))).collect();
                    for ((k, _, session), d) in io.write(jobs) {
                        if let Some(c) = net.conns.get_mut(k) {
                            c.session = Some(session);
                        }
                        done(&mut net, k, if let Done::Wrote(w) = d { w } else { None }, true);
                    }
                }
                _ => {
                    for &k in &keys {
                        let Some(conn) = net.conns.get_mut(k) else {
                            continue;
                        };
                        let wrote = conn.write();
                        done(&mut net, k, wrote, false);
                    }
                }
            }
        }
        for k in close {
            self.close(k);
        }
    }

    /// SIGTERM / SIGINT: shut down as SHUTDOWN with the flags shutdown-on-sig* gives
    /// (default: saving when save points are configured); a failed save keeps the server
    /// up unless `force`.
    fn signalled(&mut self) {
        let mut buf = [0u8; 64];
        while matches!(std::io::Read::read(&mut self.signals.pipe, &mut buf), Ok(n) if n > 0) {}
        for (flag, setting, line) in [
            (self.signals.int.clone(), "shutdown-on-sigint", "Received SIGINT scheduling shutdown..."),
            (self.signals.term.clone(), "shutdown-on-sigterm", "Received SIGTERM scheduling shutdown..."),
        ] {
            if !flag.swap(false, Ordering::SeqCst) {
                continue;
            }
            serverlog!(Notice, "{}", line);
            let flags = self.engine.config().get_named(setting).unwrap_or("default").to_string();
            let save = if flags.contains("nosave") {
                Some(false)
            } else if flags.split(' ').any(|f| f == "save") {
                Some(true)
            } else {
                None
            };
            self.sync_aof();
            if crate::persist::shutdown(&self.children, &mut self.engine, save) || flags.contains("force") {
                self.exit = Some(0);
                return;
            }
            serverlog!(Notice, "Errors trying to shut down the server. Check the logs for more information.");
        }
    }

    /// Runs the messages already sent (startup: a small dataset's load, before any client).
    pub fn drain_messages(&mut self) {
        while let Ok(msg) = self.msgs.try_recv() {
            msg(self);
        }
        self.handle_events();
    }
}
