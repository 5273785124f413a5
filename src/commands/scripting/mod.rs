//! Scripting commands: EVAL and the script cache (eval.rs, Redis's eval.c), FUNCTION and
//! FCALL (function.rs, Redis's functions.c). The Lua environment itself is `crate::script`.

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::command::spec::{acl::SCRIPTING, flags::*};
use crate::command::CommandSpec;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::script::lua::{LuaVm, Outcome};
use crate::script::{flags, Invocation};
use run::Run;

mod debugging;
mod eval;
mod function;
pub mod run;

pub use function::{dump_libraries, flush_all, merged_codes, rebuild};
#[cfg(test)]
mod hardening_tests;
#[cfg(test)]
mod ldb_tests;
#[cfg(test)]
mod tests;

const G: &str = "scripting";
const RUN: u32 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS;

static SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("debug", 3, NOSCRIPT, G, script_debug)
        .acl(SCRIPTING)
        .doc("3.2.0", "Set the debug mode for executed scripts.", "O(1)")
        .args("mode=(YES|SYNC|NO)"),
    CommandSpec::new("exists", -3, NOSCRIPT, G, eval::script_exists)
        .tips("request_policy:all_shards response_policy:agg_logical_and")
        .acl(SCRIPTING)
        .doc(
            "2.6.0",
            "Check existence of scripts in the script cache.",
            "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        )
        .args("sha1 ..."),
    CommandSpec::new("flush", -2, NOSCRIPT, G, eval::script_flush)
        .tips("request_policy:all_nodes response_policy:all_succeeded")
        .acl(SCRIPTING)
        .doc("2.6.0", "Remove all the scripts from the script cache.", "O(N) with N being the number of scripts in cache")
        .args("[ASYNC|SYNC]"),
    CommandSpec::new("help", 2, LOADING | STALE, G, eval::script_help).acl(SCRIPTING).doc("5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("kill", 2, NOSCRIPT | ALLOW_BUSY, G, eval::script_kill)
        .tips("request_policy:all_shards response_policy:one_succeeded")
        .acl(SCRIPTING)
        .doc("2.6.0", "Kill the script currently in execution.", "O(1)"),
    CommandSpec::new("load", 3, NOSCRIPT | STALE, G, eval::script_load)
        .tips("request_policy:all_nodes response_policy:all_succeeded")
        .acl(SCRIPTING)
        .doc("2.6.0", "Load the specified Lua script into the script cache.", "O(N) with N being the length in bytes of the script body.")
        .args("script"),
];

static FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("delete", 3, WRITE | NOSCRIPT, G, function::delete)
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .acl(SCRIPTING)
        .doc("7.0.0", "Delete a function by name", "O(1)")
        .args("library-name"),
    CommandSpec::new("dump", 2, NOSCRIPT, G, function::dump).acl(SCRIPTING).doc(
        "7.0.0",
        "Dump all functions into a serialized binary payload",
        "O(N) where N is the number of functions",
    ),
    CommandSpec::new("flush", -2, WRITE | NOSCRIPT, G, function::flush)
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .acl(SCRIPTING)
        .doc("7.0.0", "Deleting all functions", "O(N) where N is the number of functions deleted")
        .args("[ASYNC|SYNC]"),
    CommandSpec::new("help", 2, LOADING | STALE, G, function::help).acl(SCRIPTING).doc("7.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("kill", 2, NOSCRIPT | ALLOW_BUSY, G, function::kill).tips("request_policy:all_shards response_policy:one_succeeded").acl(SCRIPTING).doc(
        "7.0.0",
        "Kill the function currently in execution.",
        "O(1)",
    ),
    CommandSpec::new("list", -2, NOSCRIPT, G, function::list)
        .tips("nondeterministic_output_order")
        .acl(SCRIPTING)
        .doc("7.0.0", "List information about all the functions", "O(N) where N is the number of functions")
        .args("[LIBRARYNAME library-name-pattern] [WITHCODE]"),
    CommandSpec::new("load", -3, WRITE | DENYOOM | NOSCRIPT, G, function::load)
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .acl(SCRIPTING)
        .doc("7.0.0", "Create a function with the given arguments (name, code, description)", "O(1) (considering compilation time is redundant)")
        .args("[REPLACE] function-code"),
    CommandSpec::new("restore", -3, WRITE | DENYOOM | NOSCRIPT, G, function::restore)
        .tips("request_policy:all_shards response_policy:all_succeeded")
        .acl(SCRIPTING)
        .doc("7.0.0", "Restore all the functions on the given payload", "O(N) where N is the number of functions on the payload")
        .args("serialized-value policy=[FLUSH|APPEND|REPLACE]"),
    CommandSpec::new("stats", 2, NOSCRIPT | ALLOW_BUSY, G, function::stats)
        .tips("nondeterministic_output request_policy:all_shards response_policy:special")
        .acl(SCRIPTING)
        .doc("7.0.0", "Return information about the function currently running (name, description, duration)", "O(1)"),
];

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, RUN | MAY_REPLICATE, G, eval::eval)
        .key_specs("RW access update index:2 keynum:0:1:1 -- We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")
        .numkeys(2, 1, 1)
        .acl(SCRIPTING)
        .doc("2.6.0", "Execute a Lua script server side", "Depends on the script that is executed.")
        .args("script numkeys [key ...] [arg ...]"),
    CommandSpec::new("eval_ro", -3, RUN | READONLY, G, eval::eval_ro)
        .key_specs("RO access index:2 keynum:0:1:1 -- We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")
        .numkeys(2, 1, 1)
        .acl(SCRIPTING)
        .doc("7.0.0", "Execute a read-only Lua script server side", "Depends on the script that is executed.")
        .args("script numkeys [key ...] [arg ...]"),
    CommandSpec::new("evalsha", -3, RUN | MAY_REPLICATE, G, eval::evalsha)
        .key_specs("RW access update index:2 keynum:0:1:1")
        .numkeys(2, 1, 1)
        .acl(SCRIPTING)
        .doc("2.6.0", "Execute a Lua script server side", "Depends on the script that is executed.")
        .args("sha1 numkeys [key ...] [arg ...]"),
    CommandSpec::new("evalsha_ro", -3, RUN | READONLY, G, eval::evalsha_ro)
        .key_specs("RO access index:2 keynum:0:1:1")
        .numkeys(2, 1, 1)
        .acl(SCRIPTING)
        .doc("7.0.0", "Execute a read-only Lua script server side", "Depends on the script that is executed.")
        .args("sha1 numkeys [key ...] [arg ...]"),
    CommandSpec::new("fcall", -3, RUN | MAY_REPLICATE, G, function::fcall)
        .key_specs("RW access update index:2 keynum:0:1:1 -- We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")
        .numkeys(2, 1, 1)
        .acl(SCRIPTING)
        .doc("7.0.0", "Invoke a function", "Depends on the function that is executed.")
        .args("function numkeys [key ...] [arg ...]"),
    CommandSpec::new("fcall_ro", -3, RUN | READONLY, G, function::fcall_ro)
        .key_specs("RO access index:2 keynum:0:1:1 -- We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")
        .numkeys(2, 1, 1)
        .acl(SCRIPTING)
        .doc("7.0.0", "Invoke a read-only function", "Depends on the function that is executed.")
        .args("function numkeys [key ...] [arg ...]"),
    CommandSpec::container("function", G, FUNCTION_SUBCOMMANDS).doc("7.0.0", "A container for function commands", "Depends on subcommand."),
    CommandSpec::container("script", G, SCRIPT_SUBCOMMANDS).doc("2.6.0", "A container for Lua scripts management commands", "Depends on subcommand."),
];

/// The keys and args of EVAL / FCALL after numkeys, or Redis's errors for a bad count.
fn split_keys(argv: &[Bytes], bad_count: Error) -> Result<(&[Bytes], &[Bytes])> {
    let numkeys = crate::util::parse_i64(&argv[2]).ok_or(bad_count)?;
    let rest = &argv[3..];
    if numkeys > rest.len() as i64 {
        return Err(Error::Msg("ERR Number of keys can't be greater than number of args"));
    }
    if numkeys < 0 {
        return Err(Error::Msg("ERR Number of keys can't be negative"));
    }
    Ok(rest.split_at(numkeys as usize))
}

/// scriptPrepareForRun's refusals for scripts that declare flags.
fn check_flags(ctx: &Ctx, script_flags: u8, ro: bool) -> Result<()> {
    let stale = crate::server::refusals::stale_replica(ctx.srv);
    if script_flags & flags::EVAL_COMPAT != 0 {
        // A script without a shebang cannot say it may run stale: refused on a stale replica
        // before it runs.
        return match stale {
            true => Err(Error::Msg("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")),
            false => Ok(()),
        };
    }
    if stale && script_flags & flags::ALLOW_STALE == 0 {
        return Err(Error::Msg(
            "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.",
        ));
    }
    // A script that may write is a write command (scriptFlagsToCmdFlags), so Redis's
    // processCommand refuses it with the plain MISCONF before scriptPrepareForRun would.
    if script_flags & flags::NO_WRITES == 0 {
        let denial = crate::persistence::write_denial(ctx.srv)
            .or_else(|| crate::persistence::replicas_denial(ctx.srv))
            .or_else(|| crate::persistence::read_only_replica(ctx.srv));
        if let Some(e) = denial {
            return Err(e);
        }
    }
    if script_flags & flags::NO_WRITES == 0 && ro {
        return Err(Error::Msg("ERR Can not execute a script with write flag using *_ro command."));
    }
    if script_flags & (flags::ALLOW_OOM | flags::NO_WRITES) == 0 && ctx.srv.over_maxmemory() {
        return Err(Error::Msg("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"));
    }
    Ok(())
}

/// The flags a script call's script declared (scriptFlagsToCmdFlags: they replace the
/// command's WRITE, MAY_REPLICATE and DENYOOM); None for commands that are not script calls
/// and for EVAL scripts without a shebang, which keep the command's own flags. CLIENT PAUSE
/// WRITE lets `no-writes` scripts run; the OOM check spares `allow-oom` ones.
pub fn declared_flags(srv: &crate::server::Server, spec: &crate::command::CommandSpec, argv: &[Bytes]) -> Option<u8> {
    let script_flags = match spec.name {
        "eval" | "eval_ro" => crate::script::extract_shebang(argv.get(1)?).ok()?.0,
        "evalsha" | "evalsha_ro" => srv.scripting.scripts.get(&String::from_utf8_lossy(argv.get(1)?).to_ascii_lowercase())?.flags,
        "fcall" | "fcall_ro" => srv.scripting.function(&String::from_utf8_lossy(argv.get(1)?))?.flags,
        _ => return None,
    };
    (script_flags & crate::script::flags::EVAL_COMPAT == 0).then_some(script_flags)
}

/// Whether a script call writes, by its declared flags (see `declared_flags`).
pub fn declared_writes(srv: &crate::server::Server, spec: &crate::command::CommandSpec, argv: &[Bytes]) -> Option<bool> {
    declared_flags(srv, spec, argv).map(|f| f & crate::script::flags::NO_WRITES == 0)
}

/// Whether a script call may run on a stale replica, by its declared flags (`allow-stale`).
pub fn declared_allow_stale(srv: &crate::server::Server, spec: &crate::command::CommandSpec, argv: &[Bytes]) -> Option<bool> {
    declared_flags(srv, spec, argv).map(|f| f & crate::script::flags::ALLOW_STALE != 0)
}

/// Whether a script call is refused when out of memory, by its declared flags.
pub fn declared_denyoom(srv: &crate::server::Server, spec: &crate::command::CommandSpec, argv: &[Bytes]) -> Option<bool> {
    declared_flags(srv, spec, argv).map(|f| f & (crate::script::flags::ALLOW_OOM | crate::script::flags::NO_WRITES) == 0)
}

/// Logs, once per distinct message, the panics the Lua engine contained since the last call
/// and the libraries a rebuilt FUNCTION VM could not load again (at warning level).
pub(crate) fn log_engine_failures(ctx: &mut Ctx) {
    let panics = crate::script::lua::take_panics();
    let sc = &mut ctx.srv.scripting;
    let mut lines = std::mem::take(&mut sc.failures);
    for p in panics {
        if sc.logged_panics.len() < 1024 && sc.logged_panics.insert(p.clone()) {
            lines.push(format!("Lua engine panic contained (the script failed, its Lua VM was discarded): {}", p));
        }
    }
    if lines.is_empty() || ctx.srv.config.get(crate::param!("loglevel")) == "nothing" {
        return;
    }
    for message in lines {
        ctx.srv.events.push(crate::event::Event::Log { level: 3, message });
    }
}

/// Which script a run executes.
enum Target<'a> {
    Eval(&'a str),
    Function(u64, &'a str),
}

/// Runs a script or function as the calling client (luaCallFunction), with the VM taken
/// out of the server while it runs so the script's commands can reach the server.
#[allow(clippy::too_many_arguments)]
fn run_script(
    ctx: &mut Ctx,
    target: Target,
    script_flags: u8,
    ro: bool,
    keys: &[Bytes],
    args: &[Bytes],
    ldb: Option<&mut crate::script::ldb::Session>,
) -> Result<Reply> {
    let eval = matches!(target, Target::Eval(_));
    let slot = |ctx: &mut Ctx| if eval { ctx.srv.scripting.eval_vm.take() } else { ctx.srv.scripting.fn_vm.take() };
    let mut vm = match slot(ctx) {
        Some(vm) => vm,
        None => LuaVm::new(eval).map_err(|e| Error::Dyn(format!("ERR {}", e)))?,
    };
    // A VM rebuilt after a panic has none of the cached scripts yet.
    if let Target::Eval(sha) = target {
        if !vm.has_script(sha) {
            if let Some(script) = ctx.srv.scripting.scripts.get(sha) {
                let body = script.body.clone();
                let shebang = crate::script::extract_shebang(&body).map_or(0, |(_, len)| len);
                if let Err(e) = vm.compile_script(sha, &body[shebang..]) {
                    ctx.srv.scripting.eval_vm = Some(vm);
                    return Err(Error::Dyn(format!("ERR Error compiling script (new function): {}", e)));
                }
            }
        }
    }
    let mut rng = ctx.srv.scripting.rng;
    // What FUNCTION STATS shows while the function is busy (only a watching host asks).
    let running = match target {
        Target::Function(_, name) if ctx.srv.scripting.host.watch.is_some() => {
            let mut command =
                vec![Bytes::from_static(if ro { b"fcall_ro" } else { b"fcall" }), Bytes::from(name.to_string()), Bytes::from(keys.len().to_string())];
            command.extend(keys.iter().chain(args).cloned());
            let sc = &ctx.srv.scripting;
            Some(Box::new(crate::script::watch::RunningFunction {
                name: name.to_string(),
                command,
                libraries: sc.libraries.len(),
                functions: sc.functions.len(),
            }))
        }
        _ => None,
    };
    let outcome = {
        let mut run = Run::new(ctx, script_flags, ro, eval, running);
        if run.ctx.client.tracking.is_some() {
            run.tracked_keys = Some(keys.to_vec());
        }
        let mut inv = Invocation { host: &mut run, resp: 2, rng: &mut rng, killed: false, ldb };
        let out = match target {
            Target::Eval(sha) => vm.call_script(sha, keys, args, &mut inv, true),
            Target::Function(id, name) => vm.call_function(id, name, keys, args, &mut inv, true),
        };
        run.finish();
        out
    };
    ctx.srv.scripting.rng = rng;
    // The script's effects were recorded command by command; the script itself is not
    // replayed (Redis 7 propagates effects only).
    ctx.prevent_propagation();
    // A VM a panic went through is not trusted again: EVAL's is built anew on next use
    // (its scripts recompiled as they run), FUNCTION's with every library loaded again.
    let poisoned = vm.is_poisoned();
    if eval {
        ctx.srv.scripting.eval_vm = (!poisoned).then_some(vm);
    } else if poisoned {
        drop(vm);
        let clock = ctx.srv.host.calls.clock;
        function::reload_libraries(&mut ctx.srv.scripting, clock);
    } else {
        ctx.srv.scripting.fn_vm = Some(vm);
    }
    log_engine_failures(ctx);
    match outcome {
        Outcome::Ok(r) => Ok(r),
        Outcome::Err(msg, counted) => {
            ctx.srv.stats.error_counted = counted;
            Err(Error::Dyn(msg))
        }
    }
}

/// SCRIPT DEBUG YES|SYNC|NO: the mode the client's next EVALs run in (see `debugging`).
fn script_debug(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    use crate::script::ldb::DebugMode;
    if ctx.client.tx.multi.is_some() {
        return Err(Error::Msg("ERR SCRIPT DEBUG must be called outside MULTI"));
    }
    let mode = &argv[2];
    let mode = if mode.eq_ignore_ascii_case(b"no") {
        None
    } else if mode.eq_ignore_ascii_case(b"yes") {
        Some(DebugMode::Fork)
    } else if mode.eq_ignore_ascii_case(b"sync") {
        Some(DebugMode::Sync)
    } else {
        return Err(Error::Msg("ERR Use SCRIPT DEBUG YES/SYNC/NO"));
    };
    if mode.is_some() && ctx.srv.scripting.host.debugger.is_none() {
        return Err(Error::Msg("ERR this host has no connection to lend the Lua debugger: SCRIPT DEBUG YES and SYNC need the native server"));
    }
    ctx.client.conn.lua_debug = mode;
    Ok(crate::reply::OK)
}
