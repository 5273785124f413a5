//! The host contract, and only that: how a host (tokio server, wasm binding, test harness)
//! drives the core. Commands in, replies and events out; the host supplies the time.
//!
//! ```text
//!   connect(info, now)        -> ClientId
//!   execute(id, argv, now)    -> Outcome { reply, close }
//!   tick(now)                 active expiry and other periodic work
//!   drain_events()            things the host must act on (close a client, sleep, shut down)
//!   disconnect(id)
//! ```
//! Times are microseconds since the Unix epoch (`now_us`), so TIME is exact; the keyspace
//! works in milliseconds as Redis does.

mod batch;
mod blocked;
mod replica;
mod report;

pub(crate) use batch::execute_batch;
pub use report::HostReport;

use bytes::Bytes;
use hashbrown::HashMap;

use crate::client::{Client, ClientId, ClientInfo};
use crate::config::Config;
use crate::db::Db;
use crate::event::Event;
use crate::persistence::Persistence;
use crate::reply::Reply;
use crate::server::{Clients, Clock, DebugSwitches, FileStep, HostInfo, IoCounts, Server, Stats};
use crate::util::Rng;

/// The reply to one command. `reply` is None when the client asked for no replies
/// (CLIENT REPLY OFF/SKIP); `close` asks the host to close after writing (QUIT).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub reply: Option<Reply>,
    pub close: bool,
}

/// A client as its host's session sees it (`Engine::session_status`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStatus {
    /// The parser's pre-auth limits no longer apply.
    pub authenticated: bool,
    /// It waits (on keys, a pause, the host): none of its further commands run until an
    /// `Event::Unblocked` for it.
    pub blocked: bool,
}

pub struct Engine {
    pub(crate) srv: Server,
    pub(crate) clients: crate::client::ClientTable,
    /// The database the next active expiry cycle starts with.
    expire_next_db: usize,
}

impl Engine {
    pub fn new(config: Config, seed: u64, now_us: i64) -> Engine {
        let mut e = Engine::with_rng(config, Rng::new(seed), now_us);
        // Drawn after the databases' seeds, so a seed gives the same engine as it always did.
        crate::ds::dict::set_element_seed(e.srv.rng.next_u64());
        // In wasm the core is the program: its own allocator counts what it holds.
        #[cfg(target_arch = "wasm32")]
        e.set_memory_probe(crate::alloc::live_bytes);
        e
    }

    fn with_rng(config: Config, mut rng: Rng, now_us: i64) -> Engine {
        let n = config.get_i64(crate::param!("databases")).max(1) as usize;
        let dbs = (0..n).map(|i| Db::new(i, rng.next_u64())).collect();
        let repl = crate::replication::Replication::new(&mut rng);
        let mut e = Engine {
            srv: Server {
                dbs,
                config,
                rng,
                clock: Clock { now_us, start_us: now_us, ..Default::default() },
                events: Vec::new(),
                stats: Stats::default(),
                debug: DebugSwitches::default(),
                host: HostInfo::default(),
                clients: Clients { next_id: 1, ..Default::default() },
                repl,
                prop: Default::default(),
                persistence: Persistence::new(now_us),
                aof: Default::default(),
                scripting: Default::default(),
                acl: Default::default(),
                memory: Default::default(),
                migrate_host: None,
                renames: Default::default(),
                loading: false,
            },
            expire_next_db: 0,
            clients: HashMap::new(),
        };
        // requirepass is the default user's password.
        let pass = e.srv.config.get(crate::param!("requirepass")).to_string();
        if !pass.is_empty() {
            e.srv.acl.set_default_password(pass.as_bytes());
        }
        e
    }

    pub fn config(&self) -> &Config {
        &self.srv.config
    }

    /// Sets a parameter at startup (flags, redis.conf), immutable ones included.
    pub fn config_set_startup(&mut self, name: &str, value: &str) -> crate::error::Result<()> {
        // `rename-command <name> <new-name>`, its two names quoted as `load_conf` gives them.
        if name.eq_ignore_ascii_case("rename-command") {
            let names = crate::resp::inline::split_inline(value.as_bytes())
                .filter(|n| n.len() == 2)
                .ok_or(crate::error::Error::Msg("ERR wrong number of arguments"))?;
            return self.srv.renames.add(&names[0], &names[1]).map_err(|e| crate::error::Error::Dyn(format!("ERR {}", e)));
        }
        // `user <name> <rule> ...` (ACLLoadConfiguredUsers): created from nothing, the
        // default user reset first.
        if name.eq_ignore_ascii_case("user") {
            let args = crate::resp::inline::split_inline(value.as_bytes())
                .filter(|a| !a.is_empty())
                .ok_or(crate::error::Error::Msg("ERR wrong number of arguments"))?;
            let (user, rules) = (&args[0], &args[1..]);
            if crate::acl::selector::has_spaces(user) {
                return Err(crate::error::Error::Msg("ERR Spaces not allowed in ACL usernames"));
            }
            let rules = crate::acl::merge_selector_args(rules).map_err(|_| crate::error::Error::Msg("ERR Unmatched parenthesis in acl selector"))?;
            let all = self.srv.config.get(crate::param!("acl-pubsub-default")) == "allchannels";
            let mut u = if &user[..] == b"default" { self.srv.acl.default_user().clone() } else { crate::acl::User::new(user.clone(), all) };
            if &user[..] == b"default" {
                u.apply(b"reset", all).ok();
            }
            for op in &rules {
                u.apply(op, all).map_err(|e| {
                    crate::error::Error::Dyn(format!(
                        "ERR Error loading ACL rule '{}' for the user named '{}': {}",
                        String::from_utf8_lossy(op),
                        String::from_utf8_lossy(user),
                        e.message()
                    ))
                })?;
            }
            self.srv.acl.users.insert(user.clone(), u);
            self.srv.acl.generation += 1;
            self.srv.acl.users_from_config = true;
            return Ok(());
        }
        self.srv.config.set(name, value, true)?;
        if name.eq_ignore_ascii_case("requirepass") {
            let pass = self.srv.config.get(crate::param!("requirepass")).to_string();
            self.srv.acl.set_default_password(pass.as_bytes());
        }
        if name.eq_ignore_ascii_case("databases") {
            let n = self.srv.config.get_i64(crate::param!("databases")).max(1) as usize;
            let rng = &mut self.srv.rng;
            self.srv.dbs = (0..n).map(|i| Db::new(i, rng.next_u64())).collect();
        }
        Ok(())
    }

    /// From now on big values deleted lazily (UNLINK, FLUSHALL ASYNC) wait in a queue for
    /// the host, which takes them after each batch (`take_lazyfree`) and frees them where it
    /// likes; without this they are freed at once.
    pub fn set_lazyfree_host(&mut self) {
        self.srv.memory.lazyfree.host_frees = true;
    }

    /// Lets MIGRATE reach other servers through the host (see `commands::generic::migrate`).
    pub fn set_migrate_host(&mut self, host: Box<dyn crate::server::MigrateHost>) {
        self.srv.migrate_host = Some(host);
    }

    /// The garbage queued since the last call: free each job with `Job::free`.
    pub fn take_lazyfree(&mut self) -> Vec<crate::lazyfree::Job> {
        self.srv.memory.lazyfree.take()
    }

    /// The dataset as RDB bytes (SHUTDOWN SAVE; the host writes them where `dir` and
    /// `dbfilename` say).
    pub fn rdb_snapshot(&self) -> Vec<u8> {
        crate::persistence::snapshot::dump(&self.srv)
    }

    /// Turns the AOF stream on (`appendonly yes`, once the host has its file open) or off.
    /// While on, every change is recorded as the commands that replay it (`propagate`).
    pub fn set_aof(&mut self, on: bool) {
        crate::server::propagate::set_on(&mut self.srv, on);
        self.srv.aof.enabled = on;
    }

    /// The new base of a rewritten AOF: the dataset as RDB (`aof-use-rdb-preamble yes`)
    /// or as the commands that rebuild it.
    pub fn aof_base(&self) -> Vec<u8> {
        if self.srv.config.get(crate::param!("aof-use-rdb-preamble")) == "no" {
            crate::persistence::aof::base_commands(&self.srv)
        } else {
            crate::persistence::snapshot::dump(&self.srv)
        }
    }

    /// Asks for an AOF rewrite (the host turned the AOF on and needs a base): it starts as
    /// BGREWRITEAOF's would, with an `Event::RewriteAof`.
    pub fn request_aof_rewrite(&mut self) {
        let child = self.srv.persistence.child != crate::persistence::ChildType::None;
        if self.srv.aof.rewrite_in_progress || child || std::mem::take(&mut self.srv.aof.start_deferred) {
            self.srv.aof.rewrite_scheduled = true;
        } else {
            crate::persistence::aof::start_rewrite(&mut self.srv);
        }
    }

    /// A rewrite to start once nothing else runs (serverCron's aof_rewrite_scheduled): the
    /// host's retry after a failed rewrite while the AOF waits for its first base.
    pub fn schedule_aof_rewrite(&mut self) {
        self.srv.aof.rewrite_scheduled = true;
    }

    /// Every database emptied, nothing propagated or notified (DEBUG LOADAOF's emptyData).
    pub fn empty_data(&mut self) {
        for db in &mut self.srv.dbs {
            db.clear();
        }
    }

    /// The AOF text recorded since the last call: the host appends it to its file (and,
    /// under `appendfsync always`, syncs it) before it sends the replies of that batch.
    pub fn take_aof(&mut self) -> Vec<u8> {
        self.srv.prop.take()
    }

    /// The AOF text recorded since the last call, appended to `out` (whose allocation is
    /// reused turn after turn).
    pub fn take_aof_into(&mut self, out: &mut Vec<u8>) {
        if out.is_empty() {
            std::mem::swap(out, &mut self.srv.prop.buf);
        } else {
            out.extend_from_slice(&self.srv.prop.buf);
            self.srv.prop.buf.clear();
        }
    }

    /// Replays one AOF file (base or incremental part, in manifest order). Keys do not
    /// expire until `HostReport::LoadingFinished`; see `persistence::aof::load` for what a
    /// short file reports.
    pub fn aof_load(&mut self, bytes: &[u8], now_us: i64) -> Result<crate::aof::Loaded, crate::aof::LoadError> {
        crate::persistence::aof::set_loading(&mut self.srv, true);
        crate::persistence::aof::load(&mut self.srv, &mut self.clients, bytes, now_us)
    }

    /// Declares that the host forks for background saves (`Event::BackgroundSave`) and
    /// answers every save request at once, so SAVE and BGSAVE can wait for its report.
    pub fn set_fork_support(&mut self, yes: bool) {
        self.srv.host.can.forks = yes;
    }

    /// Starts loading a dataset of `total_bytes`: from now on commands without the
    /// `loading` flag answer LOADING, and the returned empty engine (same configuration) is
    /// for the loader to fill (`rdb_load`, or commands replayed) without holding this one;
    /// `end_loading` moves its contents in.
    pub fn begin_loading(&mut self, total_bytes: u64, now_us: i64) -> Engine {
        self.srv.persistence.loading = Some(crate::persistence::Loading { start_unix: now_us / 1_000_000, total_bytes, loaded_bytes: 0 });
        self.sibling(now_us)
    }

    /// Ends the LOADING state with what the loader filled: its keys, expiries, function
    /// libraries and scripts move in. Without a loaded engine (the load failed) the dataset
    /// stays as it was.
    pub fn end_loading(&mut self, loaded: Option<Engine>) {
        if self.srv.persistence.loading.take().is_none() {
            return;
        }
        let Some(mut loaded) = loaded else { return };
        let mut keys = 0;
        for (mine, theirs) in self.srv.dbs.iter_mut().zip(loaded.srv.dbs.iter_mut()) {
            std::mem::swap(&mut mine.keys, &mut theirs.keys);
            std::mem::swap(&mut mine.expires, &mut theirs.expires);
            mine.avg_ttl = theirs.avg_ttl;
            keys += mine.len() as u64;
        }
        std::mem::swap(&mut self.srv.scripting, &mut loaded.srv.scripting);
        self.srv.persistence.last_load_keys = keys;
        self.srv.persistence.last_load_keys_expired = loaded.srv.persistence.last_load_keys_expired;
        // What the load logged (skipped keys, "Done loading RDB") reaches the host's log.
        self.srv.events.extend(loaded.srv.events.drain(..).filter(|e| matches!(e, Event::Log { .. })));
    }

    pub fn is_loading(&self) -> bool {
        self.srv.persistence.loading.is_some()
    }

    /// An empty engine like this one (configuration, host facts, clocks), for a loader.
    pub(crate) fn sibling(&mut self, now_us: i64) -> Engine {
        let rng = Rng::new(self.srv.rng.next_u64());
        let mut e = Engine::with_rng(self.srv.config.clone(), rng, now_us);
        e.srv.clock.start_us = self.srv.clock.start_us;
        e.srv.host = self.srv.host.clone();
        e
    }

    /// Replaces the dataset with an RDB file's (startup, DEBUG RELOAD later): the number of
    /// keys loaded, or Redis's reason for refusing the file. Nothing changes on error.
    pub fn rdb_load(&mut self, bytes: &[u8]) -> Result<usize, String> {
        crate::persistence::snapshot::load_into(&mut self.srv, bytes)
    }

    /// CONFIG REWRITE's new config file text from the old one (a pure function; see
    /// `Config::rewrite`). `dir` is the absolute directory the server works in.
    pub fn config_rewrite(&self, old: &str, dir: &str) -> String {
        self.srv.config.rewrite_with_users(old, dir, &self.config_users())
    }

    /// The `user` lines CONFIG REWRITE writes: none when an ACL file keeps the users
    /// (rewriteConfigUserOption), which also drops the file's old ones.
    fn config_users(&self) -> Vec<String> {
        if !self.srv.config.get(crate::param!("aclfile")).is_empty() {
            return vec![];
        }
        self.srv.acl.users.values().map(crate::commands::server::acl::config_line).collect()
    }

    /// `config_rewrite` as a function to run elsewhere: the config and the ACL users as they
    /// are now, so the host can read and write the file away from its loop.
    pub fn config_rewriter(&mut self) -> impl FnOnce(&str, &str) -> String + Send + 'static {
        let users = self.config_users();
        let config = self.srv.config.clone();
        let force = std::mem::take(&mut self.srv.debug.rewrite_force_all);
        move |old, dir| config.rewrite_forcing(old, dir, &users, force)
    }

    pub fn host_info(&self) -> &HostInfo {
        &self.srv.host
    }

    /// Lets INFO cpu report the host process's CPU time.
    pub fn set_cpu_probe(&mut self, probe: fn() -> (f64, f64)) {
        self.srv.host.calls.cpu_probe = Some(probe);
    }

    /// See `HostCalls::change_dir`.
    pub fn set_change_dir(&mut self, change_dir: fn(&str) -> Result<String, String>) {
        self.srv.host.calls.change_dir = Some(change_dir);
    }

    /// See `HostCalls::read_file` and `HostCalls::replace_file`.
    pub fn set_file_access(&mut self, read: fn(&str) -> Result<Vec<u8>, String>, replace: fn(&str, &[u8]) -> Result<(), (FileStep, String)>) {
        self.srv.host.calls.read_file = Some(read);
        self.srv.host.calls.replace_file = Some(replace);
    }

    /// The ACL file named by `aclfile`, loaded once the configuration is (ACLLoadUsersAtStartup):
    /// Err is the line to log before exiting. Users come from the ACL file or from `user`
    /// lines in the configuration, never both.
    pub fn load_acl_file_at_startup(&mut self) -> Result<(), String> {
        if self.srv.config.get(crate::param!("aclfile")).is_empty() {
            return Ok(());
        }
        if self.srv.acl.users_from_config {
            return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
        }
        crate::commands::server::acl::load_file(&mut self.srv).map(|_| ()).map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))
    }

    /// Lets the core time commands (SLOWLOG, INFO commandstats) with the host's clock.
    pub fn set_clock(&mut self, clock: fn() -> i64) {
        self.srv.host.calls.clock = Some(clock);
    }

    /// Lets rdb-key-save-delay and key-load-delay slow saves and loads down (see
    /// `HostCalls::delay`).
    pub fn set_delay(&mut self, delay: fn(i64)) {
        self.srv.host.calls.delay = Some(delay);
    }

    /// Lets the host follow a running script (see `script::watch::ScriptState`): a threaded host
    /// answers BUSY to other clients and acts on SCRIPT KILL while the engine is busy; a
    /// single-threaded one can stop a script that runs too long.
    pub fn set_script_watch(&mut self, watch: crate::script::watch::ScriptWatch) {
        self.srv.scripting.host.watch = Some(watch);
    }

    /// Lends the Lua debugger I/O on a client's connection (and, for SCRIPT DEBUG YES, a
    /// fork): without it SCRIPT DEBUG YES and SYNC are refused (see `script::ldb`).
    pub fn set_script_debugger(&mut self, channel: Box<dyn crate::script::ldb::DebugChannel>) {
        self.srv.scripting.host.debugger = Some(channel);
    }

    /// Lets the core read the host allocator's live bytes whenever it needs them; what it
    /// reads now counts as startup memory.
    pub fn set_memory_probe(&mut self, probe: fn() -> u64) {
        self.srv.host.calls.memory_probe = Some(probe);
        self.srv.memory.evict.startup = probe();
    }

    pub fn host_info_mut(&mut self) -> &mut HostInfo {
        &mut self.srv.host
    }

    pub fn connect(&mut self, info: ClientInfo, now_us: i64) -> ClientId {
        let id = self.srv.clients.next_id;
        self.srv.clients.next_id += 1;
        self.srv.stats.total_connections_received += 1;
        let authenticated = self.srv.acl.default_user().needs_no_auth();
        self.clients.insert(id, Box::new(Client::new(id, info, now_us / 1000, authenticated)));
        id
    }

    /// Forgets a client; a blocked one leaves its queues (Redis unblocks on disconnect).
    pub fn disconnect(&mut self, id: ClientId) {
        crate::commands::connection::forget(&mut self.srv, &mut self.clients, id);
    }

    /// What a host's session needs to know of its client after a batch, in one lookup.
    pub fn session_status(&self, id: ClientId) -> SessionStatus {
        self.clients.get(&id).map_or(SessionStatus::default(), |c| SessionStatus { authenticated: c.auth.authenticated, blocked: c.wait.blocked.is_some() })
    }

    /// Clients idle for longer than `timeout` seconds, which the host closes (clientsCron's
    /// clientsCronHandleTimeout): never a blocked client (its wait has its own timeout) or a
    /// subscriber, as in Redis.
    pub fn idle_clients(&self, now_us: i64) -> Vec<ClientId> {
        let timeout = self.srv.config.get_i64(crate::param!("timeout"));
        if timeout <= 0 {
            return Vec::new();
        }
        let now_ms = now_us / 1000;
        self.clients
            .values()
            .filter(|c| c.wait.blocked.is_none() && !c.in_pubsub() && !c.role.replica && now_ms - c.conn.last_interaction_ms > timeout * 1000)
            .map(|c| c.id)
            .collect()
    }

    /// Whether the client waits on keys: the host runs none of its further commands until
    /// an `Event::Unblocked` for it.
    pub fn is_blocked(&self, id: ClientId) -> bool {
        self.clients.get(&id).is_some_and(|c| c.wait.blocked.is_some())
    }

    /// When the blocked client's wait ends (Unix ms), if it has a timeout.
    pub fn block_deadline_ms(&self, id: ClientId) -> Option<i64> {
        self.clients.get(&id)?.wait.blocked.as_ref().map(|b| b.deadline_ms).filter(|&d| d > 0)
    }

    /// Ends the waits whose deadline has passed (every blocked client, or just `only`): each
    /// gets its timeout reply and an `Event::Unblocked`.
    pub fn expire_blocked(&mut self, now_us: i64, only: Option<ClientId>) {
        if self.srv.clients.blocking.count == 0 {
            return;
        }
        let now_ms = now_us / 1000;
        let due: Vec<ClientId> = match only {
            Some(id) => vec![id],
            None => self.clients.iter().filter(|(_, c)| c.wait.blocked.is_some()).map(|(id, _)| *id).collect(),
        };
        for id in due {
            let Some(c) = self.clients.get_mut(&id) else {
                continue;
            };
            if !c.wait.blocked.as_ref().is_some_and(|b| b.deadline_ms > 0 && b.deadline_ms <= now_ms) {
                continue;
            }
            let b = c.wait.blocked.take().expect("checked");
            let reply = if b.btype == crate::blocking::BlockType::Wait { crate::replication::wait_ended(&mut self.srv, id) } else { b.timeout_reply.clone() };
            let c = self.clients.get_mut(&id).expect("looked up");
            c.output.outbox.push(reply);
            self.srv.clients.blocking.remove(id, &b);
            self.srv.events.push(Event::Unblocked(id));
        }
    }

    /// Hands the replies queued for a client while it was blocked to `emit`.
    pub fn take_replies(&mut self, id: ClientId, mut emit: impl FnMut(Reply, bool)) {
        if let Some(c) = self.clients.get_mut(&id) {
            let resp3 = c.conn.resp == 3;
            for r in c.output.outbox.drain(..) {
                emit(r, resp3);
            }
            c.output.outbox_bytes = 0;
            c.output.over_soft_since = None;
        }
    }

    /// Runs one command for a client (see `command::dispatch`).
    pub fn execute(&mut self, id: ClientId, argv: Vec<Bytes>, now_us: i64) -> Outcome {
        batch::execute(self, id, &argv, now_us)
    }

    /// Runs a pipelined batch (see `batch::execute_batch`): replies go to `emit`
    /// with the client's RESP3 flag; returns true when the connection must close. Commands
    /// are taken from the front of `cmds`; if one blocks the client, the rest stay there.
    pub fn execute_batch(&mut self, id: ClientId, cmds: &mut std::collections::VecDeque<Vec<Bytes>>, now_us: i64, emit: impl FnMut(Reply, bool)) -> bool {
        batch::execute_batch(self, id, || cmds.pop_front(), now_us, emit)
    }

    /// One command given by reference (the wasm binding's arguments are slices of its
    /// argument buffer): replies go to `emit` as for `execute_batch`; true when the
    /// connection must close.
    pub fn execute_args(&mut self, id: ClientId, argv: &[Bytes], now_us: i64, emit: impl FnMut(Reply, bool)) -> bool {
        let mut one = Some(argv);
        batch::execute_batch(self, id, || one.take(), now_us, emit)
    }

    /// Periodic work the host drives `hz` times a second: active expiry, and blocked clients'
    /// timeouts for hosts that do not watch each deadline themselves.
    pub fn tick(&mut self, now_us: i64) {
        self.srv.clock.now_us = now_us;
        self.srv.clock.sleep_debt_us = 0;
        if self.srv.debug.pause_cron {
            return;
        }
        let st = &mut self.srv.stats;
        st.ops.sample(now_us, st.total_commands_processed);
        st.net_in.sample(now_us, st.io.net_input_bytes);
        st.net_out.sample(now_us, st.io.net_output_bytes);
        if self.srv.clients.pause.is_some_and(|(end, _)| now_us / 1000 >= end) {
            self.srv.set_pause(None);
        }
        blocked::resume_paused(self);
        crate::persistence::cron(&mut self.srv, now_us);
        crate::persistence::aof::cron(&mut self.srv);
        self.expire_blocked(now_us, None);
        self.active_expire();
        crate::server::propagate::flush_expired(&mut self.srv);
        crate::replication::cron(&mut self.srv);
        for db in &mut self.srv.dbs {
            db.shrink_if_sparse();
        }
        self.evict_now();
        self.evict_clients(None);
        // What the cycle deleted fails watchers and notifies now, not at the next command.
        if self.srv.dbs.iter().any(|d| !d.expired_log.is_empty()) || self.srv.clients.tracking.clients > 0 {
            let mut nobody = Client::new(0, ClientInfo::default(), now_us / 1000, true);
            batch::touch_expired(self, &mut nobody);
            if self.srv.clients.tracking.clients > 0 {
                // The table's size limit also holds for an idle server (a CONFIG SET lowered it).
                batch::limit_tracking_table(self, &mut nobody);
                // BCAST clients hear of keys the cycle expired.
                batch::broadcast_invalidations(self, &mut nobody);
            }
        }
    }

    /// The host's bytes for a connection (query buffer, unwritten replies), for client
    /// eviction and CLIENT LIST; reported after each batch it runs.
    /// True when that made the client one `maxmemory-clients` evicts: close it.
    pub fn report_client_memory(&mut self, id: ClientId, bytes: u64) -> bool {
        self.report_client_buffers(id, bytes, 0)
    }

    /// What the host holds for a client after a batch: `held` in all (client eviction,
    /// CLIENT LIST tot-mem), `output` of it unwritten replies (omem). True when the client
    /// must go now, its unwritten replies dropped: its output is past
    /// `client-output-buffer-limit` for its class (checkClientOutputBufferLimits; logged as
    /// Redis logs it), or `maxmemory-clients` evicts it.
    pub fn report_client_buffers(&mut self, id: ClientId, held: u64, output: u64) -> bool {
        let now_ms = self.srv.now_ms();
        let Some(c) = self.clients.get_mut(&id) else {
            return false;
        };
        c.output.host_mem = held;
        c.output.host_obuf = output;
        if c.output_over_limit(&self.srv.config.hot, now_ms) {
            c.conn.close_asap = true;
            let line = c.info_line(now_ms, 0);
            self.srv.log(3, || format!("Client {} scheduled to be closed ASAP for overcoming of output buffer limits.", line));
            return true;
        }
        if self.srv.config.hot.client_limit == 0 {
            return false;
        }
        self.evict_clients(None);
        self.clients.get(&id).is_some_and(|c| c.conn.close_asap)
    }

    /// Reply bytes past which the host stops running a client's batch (Redis stops
    /// processing a client once it is to be closed): its class's hard output limit, or for a
    /// client that never authenticated, 1 KB (CVE-2025-21605's fix); past Redis's 16 KB
    /// reply buffer in both cases.
    pub fn output_cap(&self, id: ClientId) -> usize {
        self.clients.get(&id).and_then(|c| c.output_hard_limit(&self.srv.config.hot)).map_or(usize::MAX, |l| (l + crate::client::REPLY_BUFFER) as usize)
    }

    /// Closes the clients `maxmemory-clients` says must go (see `evict::clients_to_evict`);
    /// true when `current` (a client taken out of the table to run its batch) is one.
    pub(crate) fn evict_clients(&mut self, current: Option<&Client>) -> bool {
        let victims = crate::server::evict::clients_to_evict(&mut self.srv, self.clients.values().map(|c| &**c).chain(current));
        let mut me = false;
        for id in victims {
            if current.is_some_and(|c| c.id == id) {
                me = true;
            } else if let Some(c) = self.clients.get_mut(&id) {
                c.conn.close_asap = true;
                self.srv.events.push(Event::CloseClient(id));
            }
        }
        me
    }

    /// Whether an eviction pass ran out of time over the limit: the host should call
    /// `continue_eviction` again soon (Redis's eviction timer runs every event loop turn).
    pub fn eviction_running(&self) -> bool {
        self.srv.memory.evict.running
    }

    /// One more eviction pass, between clients' batches (the host's eviction timer).
    pub fn continue_eviction(&mut self, now_us: i64) {
        self.srv.clock.now_us = now_us;
        self.evict_now();
    }

    /// An eviction pass outside any command (the tick, the end of a batch while a pass is
    /// still running): memory comes down even when no client writes.
    pub(crate) fn evict_now(&mut self) {
        if self.srv.config.hot.maxmemory == 0 {
            if self.srv.host.calls.memory_probe.is_some() {
                self.srv.memory.evict.peak = self.srv.memory.evict.peak.max(crate::server::evict::used_memory(&self.srv));
            }
            return;
        }
        crate::server::evict::perform_evictions(&mut self.srv);
        // Evicting frees slots for reuse; when the process is still over the limit, give
        // the spare slab back so used_memory (and RSS) come down too.
        if crate::server::evict::used_memory(&self.srv) > self.srv.config.hot.maxmemory {
            for db in &mut self.srv.dbs {
                db.shrink_spare();
            }
        }
        if !self.srv.memory.evict.log.is_empty() {
            let mut nobody = Client::new(0, ClientInfo::default(), self.srv.now_ms(), true);
            let mut ctx = crate::command::dispatch::Ctx { srv: &mut self.srv, client: &mut nobody, others: &mut self.clients };
            crate::command::dispatch::announce_evicted(&mut ctx);
        }
    }

    fn active_expire(&mut self) {
        // While clients are paused the dataset stays as it is (activeExpireCycle's
        // checkClientPauseTimeoutAndReturnIfPaused); expired keys go once the pause ends.
        if !self.srv.debug.active_expire || self.srv.clients.pause.is_some() || self.srv.repl.master.is_some() {
            return;
        }
        let effort = self.srv.config.get_i64(crate::param!("active-expire-effort")).clamp(1, 10) as usize;
        // Redis samples 20 keys per loop and gives the cycle ~25% of one tick of CPU; a budget
        // of keys per database per tick gives the same bounded work without a clock.
        let mut budget = 200 * effort * self.srv.dbs.len().max(1);
        let now_ms = self.srv.now_ms();
        let expire_next_db = &mut self.expire_next_db;
        let Server { dbs, rng, .. } = &mut self.srv;
        // Start where the last tick stopped (Redis's static current_db), so a busy db0
        // cannot spend every tick's budget and starve the others.
        let n = dbs.len();
        for i in 0..n {
            let d = (*expire_next_db + i) % n;
            let deleted = crate::db::expire::active_expire_cycle(&mut dbs[d], now_ms, rng, &mut budget);
            if let Some(dels) = dbs[d].expired_dels.as_mut() {
                dels.extend(deleted.iter().cloned());
            }
            dbs[d].expired_log.extend(deleted);
            if budget == 0 {
                *expire_next_db = d;
                return;
            }
        }
    }

    /// What the host must act on. The replication stream recorded since the last call goes
    /// to the replicas first, as deliveries among these events.
    pub fn drain_events(&mut self) -> Vec<Event> {
        crate::replication::hand_out(&mut self.srv, &mut self.clients);
        std::mem::take(&mut self.srv.events)
    }

    pub fn has_events(&self) -> bool {
        !self.srv.events.is_empty() || !self.srv.prop.repl_buf.is_empty()
    }

    /// Whether this client speaks RESP3 (the host picks the writer's dialect from it).
    pub fn is_resp3(&self, id: ClientId) -> bool {
        self.clients.get(&id).is_some_and(|c| c.conn.resp == 3)
    }

    /// Whether the client may send large frames yet (the parser's unauthenticated limits).
    pub fn is_authenticated(&self, id: ClientId) -> bool {
        self.clients.get(&id).is_some_and(|c| c.auth.authenticated)
    }

    pub fn max_bulk_len(&self) -> i64 {
        self.srv.config.hot.proto_max_bulk_len
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    pub fn dbsize(&self, db: usize) -> usize {
        self.srv.dbs.get(db).map_or(0, |d| d.len())
    }
}
