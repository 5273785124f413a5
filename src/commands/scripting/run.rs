//! One script run on the server side (Redis: script.c's scriptRunCtx): the checks every
//! command a script runs goes through (scriptCall), the timeout the count hook measures, and
//! the commands other clients run while it is busy. What the host sees of it is
//! `script::watch`.

use bytes::Bytes;

use crate::client::{Client, ClientId};
use crate::command::dispatch::{call, resolve, Ctx};
use crate::command::spec::flags as cmd;
use crate::reply::Reply;
use crate::script::watch::{script_client, BusyRun, ForOther, RunningFunction, ScriptState};
use crate::script::{flags, ScriptHost};

/// `ScriptState::Busy`'s `run`: the command for `id` as processCommand takes it while a
/// script is busy (`Server::busy_script`: refused with BUSY unless flagged allow-busy), with
/// the script's caller out of view (it is the one running the script).
fn run_for_other(ctx: &mut Ctx, id: ClientId, what: ForOther) -> BusyRun {
    let argv = match what {
        ForOther::Run(argv) => argv,
        ForOther::Gone => {
            crate::commands::connection::forget(ctx.srv, ctx.others, id);
            return BusyRun { reply: Reply::Multi(Vec::new()), resp3: false, close: true };
        }
    };
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
        if let Some(w) = ctx.srv.scripting.host.watch.as_mut() {
            w(ScriptState::Started { eval, function });
        }
        Run { ctx, client, read_only, allow_oom, dirty: false, eval, start_us, timed_out: false, repl: 3, tracked_keys: None }
    }

    /// scriptResetRun: gives the script client back and tells the host the run is over.
    pub fn finish(self) {
        let Run { ctx, client, .. } = self;
        ctx.srv.scripting.client = Some(Box::new(client));
        if let Some(w) = ctx.srv.scripting.host.watch.as_mut() {
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
        let Some(mut watch) = self.ctx.srv.scripting.host.watch.take() else { return false };
        self.ctx.srv.scripting.busy = Some(eval);
        let ctx = &mut *self.ctx;
        let stop = watch(ScriptState::Busy { eval, wrote, elapsed_ms, run: &mut |id, argv| run_for_other(ctx, id, argv) });
        self.ctx.srv.scripting.busy = None;
        self.ctx.srv.scripting.host.watch = Some(watch);
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

/// Whether the command is flagged allow-busy (runs while a script is busy).
pub fn allowed_while_busy(argv: &[Bytes]) -> bool {
    matches!(resolve(argv), Ok((top, sub)) if sub.unwrap_or(top).is(cmd::ALLOW_BUSY))
}
