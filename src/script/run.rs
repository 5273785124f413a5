//! One script run on the server side (Redis: script.c's scriptRunCtx): the script's own
//! client, the checks every command a script runs goes through (scriptCall), the timeout
//! the count hook measures, and the host's watch that lets other clients see BUSY and stop
//! the script with SCRIPT KILL / FUNCTION KILL.

use bytes::Bytes;

use crate::client::{Client, ClientId, ClientInfo};
use crate::command::dispatch::{call, resolve, Ctx};
use crate::command::spec::flags as cmd;
use crate::reply::Reply;
use crate::script::{flags, ScriptHost};

/// The id of the client scripts run their commands as; real clients start at 1.
pub const SCRIPT_CLIENT_ID: u64 = 0;

/// What the host hears about a running script, so its other connections can answer BUSY
/// and act on SCRIPT KILL / FUNCTION KILL while the engine is busy.
pub enum ScriptState<'r> {
    /// A script (or FUNCTION LOAD's code) began running; for a function, what FUNCTION
    /// STATS shows of it while it is busy.
    Started {
        eval: bool,
        function: Option<Box<RunningFunction>>,
    },
    /// It has run past `busy-reply-threshold`; sent again at every count hook until it
    /// ends. `wrote`: a write already happened, so only SHUTDOWN NOSAVE may stop it.
    /// `run` runs a command flagged allow-busy for another client now (AUTH, HELLO, RESET,
    /// WATCH, UNWATCH: processEventsWhileBlocked runs them in Redis), on the engine the
    /// script holds.
    Busy {
        eval: bool,
        wrote: bool,
        elapsed_ms: i64,
        run: &'r mut dyn FnMut(ClientId, &[Bytes]) -> BusyRun,
    },
    Ended,
}

/// A command run while a script is busy: its reply, in the protocol the client speaks
/// after it (HELLO may switch), and whether the connection closes after it.
#[derive(Debug, Clone, PartialEq)]
pub struct BusyRun {
    pub reply: Reply,
    pub resp3: bool,
    pub close: bool,
}

/// `ScriptState::Busy`'s `run`: the command for `id` as processCommand takes it while a
/// script is busy (`Server::busy_script`: refused with BUSY unless flagged allow-busy), with
/// the script's caller out of view (it is the one running the script).
fn run_for_other(ctx: &mut Ctx, id: ClientId, argv: &[Bytes]) -> BusyRun {
    let Some(mut client) = ctx.others.remove(&id) else {
        return BusyRun { reply: Reply::Error("ERR unknown client".into()), resp3: false, close: true };
    };
    let reply = {
        let mut inner = Ctx { srv: &mut *ctx.srv, client: &mut client, others: &mut *ctx.others };
        crate::command::dispatch::call_client(&mut inner, argv)
    };
    let run = BusyRun { reply, resp3: client.conn.resp == 3, close: client.conn.close_asap };
    ctx.others.insert(id, client);
    run
}

/// A running function as FUNCTION STATS describes it (answered by the host while the
/// function keeps the engine busy), with the engine's counts, which cannot change meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningFunction {
    pub name: String,
    pub command: Vec<Bytes>,
    pub libraries: usize,
    pub functions: usize,
}

/// FUNCTION STATS while a script is busy (functionStatsCommand): a running EVAL script is
/// refused with the EVAL flavour of BUSY; a function is described with how long it has run.
pub fn busy_function_stats(eval: bool, running: Option<&RunningFunction>, duration_ms: i64) -> Reply {
    if eval {
        return Reply::Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.".into());
    }
    let s = |t: &str| Reply::bulk_str(t);
    let (script, libraries, functions) = match running {
        Some(f) => (
            Reply::Map(vec![
                (s("name"), s(&f.name)),
                (s("command"), Reply::Array(f.command.iter().cloned().map(Reply::Bulk).collect())),
                (s("duration_ms"), Reply::Int(duration_ms)),
            ]),
            f.libraries,
            f.functions,
        ),
        None => (Reply::Nil, 0, 0),
    };
    let lua = Reply::Map(vec![(s("libraries_count"), Reply::Int(libraries as i64)), (s("functions_count"), Reply::Int(functions as i64))]);
    Reply::Map(vec![(s("running_script"), script), (s("engines"), Reply::Map(vec![(s("LUA"), lua)]))])
}

/// The host's watch: told about the running script, answers whether to stop it now.
pub type ScriptWatch = Box<dyn for<'r> FnMut(ScriptState<'r>) -> bool + Send>;

/// A new client for scripts' commands: authenticated, never blocking, shown as `lua` by
/// MONITOR.
pub fn script_client() -> Client {
    let mut c = Client::new(SCRIPT_CLIENT_ID, ClientInfo { addr: "lua".into(), laddr: String::new(), fd: -1, unix: false, writes_resp: false }, 0, true);
    c.wait.deny_blocking = true;
    c
}

/// Per-run flags (scriptRunCtx.flags).
pub struct Run<'c, 'a> {
    pub ctx: &'c mut Ctx<'a>,
    pub client: Client,
    pub read_only: bool,
    pub allow_oom: bool,
    pub dirty: bool,
    pub eval: bool,
    pub start_us: i64,
    pub timed_out: bool,
    pub repl: u8,
    /// The keys the script declared, while its caller tracks keys and no read-only
    /// command has run yet (then the caller tracks them all).
    pub tracked_keys: Option<Vec<Bytes>>,
}

impl<'c, 'a> Run<'c, 'a> {
    /// scriptPrepareForRun: the script's client takes the caller's database; RESP 2 until
    /// the script says otherwise.
    pub fn new(ctx: &'c mut Ctx<'a>, script_flags: u8, ro: bool, eval: bool, function: Option<Box<RunningFunction>>) -> Run<'c, 'a> {
        let mut client = ctx.srv.scripting.client.take().map(|b| *b).unwrap_or_else(script_client);
        client.db = ctx.client.db;
        // The script's commands run as its caller (SORT's ACL test, CLIENT LIST user=).
        client.auth.user = ctx.client.auth.user.clone();
        client.auth.acl_unrestricted_at = 0;
        client.conn.resp = 2;
        client.info.addr = "lua".into();
        let compat = script_flags & flags::EVAL_COMPAT != 0;
        let read_only = ro || (!compat && script_flags & flags::NO_WRITES != 0);
        let allow_oom = !compat && script_flags & flags::ALLOW_OOM != 0;
        let start_us = now_us(ctx);
        if let Some(w) = ctx.srv.scripting.watch.as_mut() {
            w(ScriptState::Started { eval, function });
        }
        Run { ctx, client, read_only, allow_oom, dirty: false, eval, start_us, timed_out: false, repl: 3, tracked_keys: None }
    }

    /// scriptResetRun: gives the script client back and tells the host the run is over.
    pub fn finish(self) {
        let Run { ctx, client, .. } = self;
        ctx.srv.scripting.client = Some(Box::new(client));
        if let Some(w) = ctx.srv.scripting.watch.as_mut() {
            w(ScriptState::Ended);
        }
    }
}

/// The host's monotonic clock when it has one, the command's start time otherwise.
fn now_us(ctx: &Ctx) -> i64 {
    ctx.srv.host.calls.clock.map_or(ctx.srv.clock.now_us, |c| c())
}

impl Run<'_, '_> {
    /// scriptCall's checks before a script's command runs: arity, NOSCRIPT, read-only
    /// scripts, MISCONF, OOM. A write marks the run dirty (no kill, no later OOM).
    fn admit(&mut self, argv: &[Bytes]) -> Result<&'static crate::command::CommandSpec, String> {
        let spec = match resolve(argv) {
            Ok((top, sub)) => sub.unwrap_or(top),
            Err(crate::error::Error::WrongArity(_)) => return Err("Wrong number of args calling Redis command from script".into()),
            Err(_) => return Err("Unknown Redis command called from script".into()),
        };
        if spec.is(cmd::NOSCRIPT) && !self.ctx.srv.debug.allow_noscript_in_scripts {
            return Err("This Redis command is not allowed from script".into());
        }
        // scriptVerifyACL: as the script's caller.
        if let Ok((top, sub, id)) = crate::command::dispatch::resolve_or_reject(argv) {
            if let Some((denied, _)) = crate::command::dispatch::acl_denied(self.ctx, top, sub, id, argv, crate::acl::LogContext::Lua) {
                return Err(format!("The user executing the script {}", crate::acl::Denied::message(denied)));
            }
        }
        if self.read_only && (spec.is(cmd::WRITE) || spec.is(cmd::MAY_REPLICATE)) {
            return Err("Write commands are not allowed from read-only scripts.".into());
        }
        // scriptVerifyAllowStale
        if !spec.is(cmd::STALE) && crate::persistence::stale_replica(self.ctx.srv) {
            return Err("Can not execute the command on a stale replica".into());
        }
        // scriptVerifyWriteCommandAllow: a read-only replica's scripts may not write.
        if spec.is(cmd::WRITE) && crate::persistence::read_only_replica(self.ctx.srv).is_some() {
            return Err("-READONLY You can't write against a read only replica.".into());
        }
        if spec.is(cmd::WRITE) {
            if let Some(e) = crate::persistence::script_write_denied(self.ctx.srv, self.dirty) {
                // With its leading '-' the error keeps its code (MISCONF), as Redis's does.
                return Err(format!("-{}", e));
            }
        }
        if !self.allow_oom && !self.dirty && spec.is(cmd::DENYOOM) && self.ctx.srv.over_maxmemory() {
            // With its code (shared.oomerr), not as a plain ERR.
            return Err(format!("-{}", crate::error::Error::Oom));
        }
        if spec.is(cmd::WRITE) {
            self.dirty = true;
        }
        Ok(spec)
    }
}

impl ScriptHost for Run<'_, '_> {
    /// scriptCall: the checks, then the command through the shared `call` as the script's
    /// client.
    fn call(&mut self, argv: Vec<Bytes>, resp: u8) -> Result<Reply, String> {
        // Scripts call commands by the names `rename-command` gave, as clients do.
        let argv = match self.ctx.srv.renames.translate(&argv) {
            Ok(None) => argv,
            Ok(Some(renamed)) => renamed,
            Err(_) => {
                let e = "Unknown Redis command called from script".to_string();
                crate::command::dispatch::count_script_refusal(self.ctx, &argv, &e);
                return Err(e);
            }
        };
        let spec = match self.admit(&argv) {
            Ok(spec) => spec,
            Err(e) => {
                crate::command::dispatch::count_script_refusal(self.ctx, &argv, &e);
                return Err(e);
            }
        };
        self.client.conn.resp = resp;
        // redis.set_repl: what the script does from here on goes only to the targets it
        // left on (REPL_AOF, REPL_REPLICA), or nowhere.
        let allowed = std::mem::replace(&mut self.ctx.srv.prop.allowed, self.repl & crate::server::propagate::ALL);
        let mut inner = Ctx { srv: &mut *self.ctx.srv, client: &mut self.client, others: &mut *self.ctx.others };
        let reply = call(&mut inner, &argv);
        self.ctx.srv.prop.allowed = allowed;
        if spec.is(cmd::READONLY) {
            if let Some(keys) = self.tracked_keys.take() {
                crate::command::tracking::remember_script_keys(self.ctx, &keys);
            }
        }
        Ok(reply)
    }

    /// scriptInterrupt: past `busy-reply-threshold` the run is timed out, and from then on
    /// the host's watch decides at every hook whether it stops.
    fn interrupted(&mut self) -> bool {
        let elapsed_ms = (now_us(self.ctx) - self.start_us) / 1000;
        if !self.timed_out {
            let threshold = self.ctx.srv.config.get_i64(crate::param!("busy-reply-threshold"));
            if threshold <= 0 || elapsed_ms < threshold {
                return false;
            }
            self.timed_out = true;
        }
        let (eval, wrote) = (self.eval, self.dirty);
        // Out of the server while it runs: what it runs for other clients needs the server.
        let Some(mut watch) = self.ctx.srv.scripting.watch.take() else { return false };
        self.ctx.srv.scripting.busy = Some(eval);
        let ctx = &mut *self.ctx;
        let stop = watch(ScriptState::Busy { eval, wrote, elapsed_ms, run: &mut |id, argv| run_for_other(ctx, id, argv) });
        self.ctx.srv.scripting.busy = None;
        self.ctx.srv.scripting.watch = Some(watch);
        stop
    }

    /// redis.log: lines at or above `loglevel` go to the host's log (serverLogRaw).
    fn log(&mut self, level: u8, msg: &[u8]) {
        self.ctx.srv.log(level, || String::from_utf8_lossy(msg).into_owned());
    }

    fn set_repl(&mut self, flags: u8) {
        self.repl = flags;
    }

    fn acl_allows(&mut self, argv: &[Bytes]) -> Result<bool, &'static str> {
        let (spec, id, is_sub) = crate::commands::server::acl::resolve(argv).ok_or("Invalid command passed to redis.acl_check_cmd()")?;
        let ctx = &*self.ctx;
        if ctx.client.auth.acl_unrestricted_at == ctx.srv.acl.generation {
            return Ok(true);
        }
        Ok(ctx.srv.acl.user(&ctx.client.auth.user).is_some_and(|u| u.check(spec, id, is_sub, argv).is_ok()))
    }
}

/// scriptKill's answer to SCRIPT KILL (`eval_cmd`) or FUNCTION KILL, from what the host
/// knows of the running script (`None`: nothing runs). `Ok` means: stop it.
pub fn kill_reply(running: Option<(bool, bool)>, eval_cmd: bool) -> Result<(), String> {
    let Some((eval, wrote)) = running else { return Err("NOTBUSY No scripts in execution right now.".into()) };
    if wrote {
        return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.".into());
    }
    if eval_cmd && !eval {
        return Err(crate::error::busy_script(false).into());
    }
    if !eval_cmd && eval {
        return Err(crate::error::busy_script(true).into());
    }
    Ok(())
}

/// What a host does with a command that arrives while a script is timed out (Redis runs
/// only commands flagged allow-busy then, from inside the script's hook).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhileBusy {
    /// SCRIPT KILL (`true`) or FUNCTION KILL: answer with `kill_reply`.
    Kill(bool),
    /// SHUTDOWN NOSAVE: stop the server without saving, script or not.
    ShutdownNoSave,
    /// FUNCTION STATS: answered from what `Started` said (`busy_function_stats`).
    FunctionStats,
    /// Everything else goes to the engine the script holds (`ScriptState::Busy`'s `run`),
    /// which runs what is flagged allow-busy and refuses the rest with BUSY.
    Engine,
}

/// Whether the command is flagged allow-busy (runs while a script is busy).
pub fn allowed_while_busy(argv: &[Bytes]) -> bool {
    matches!(resolve(argv), Ok((top, sub)) if sub.unwrap_or(top).is(cmd::ALLOW_BUSY))
}

pub fn while_busy(argv: &[Bytes]) -> WhileBusy {
    let Some(name) = argv.first() else { return WhileBusy::Engine };
    let sub = |s: &str| argv.len() == 2 && argv[1].eq_ignore_ascii_case(s.as_bytes());
    if name.eq_ignore_ascii_case(b"script") && sub("kill") {
        return WhileBusy::Kill(true);
    }
    if name.eq_ignore_ascii_case(b"function") && sub("kill") {
        return WhileBusy::Kill(false);
    }
    if name.eq_ignore_ascii_case(b"function") && sub("stats") {
        return WhileBusy::FunctionStats;
    }
    if name.eq_ignore_ascii_case(b"shutdown") && argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave")) {
        return WhileBusy::ShutdownNoSave;
    }
    WhileBusy::Engine
}
