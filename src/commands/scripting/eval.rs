//! EVAL, EVALSHA (and their _RO forms) and SCRIPT: scripts are cached by the SHA1 of their
//! body and compiled once into the EVAL VM as `f_<sha>`. Redis: eval.c.

use bytes::Bytes;

use super::{check_flags, run_script, split_keys, Target};
use crate::command::dispatch::Ctx;
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::reply::{Reply, OK};
use crate::script::ldb::Session;
use crate::script::lua::LuaVm;
use crate::script::{extract_shebang, sha1hex, EvalScript};

pub fn eval(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    match ctx.client.conn.lua_debug {
        Some(mode) => super::debugging::eval(ctx, argv, false, mode),
        None => eval_generic(ctx, argv, false, false, None),
    }
}

pub fn eval_ro(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    match ctx.client.conn.lua_debug {
        Some(mode) => super::debugging::eval(ctx, argv, true, mode),
        None => eval_generic(ctx, argv, false, true, None),
    }
}

pub fn evalsha(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    eval_generic(ctx, argv, true, false, None)
}

pub fn evalsha_ro(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    eval_generic(ctx, argv, true, true, None)
}

/// evalGenericCommand, inside a debugging session when `ldb` is given.
pub(super) fn eval_generic(ctx: &mut Ctx, argv: &[Bytes], evalsha: bool, ro: bool, ldb: Option<&mut Session>) -> Result<Reply> {
    // Scripts' own commands follow the script in MONITOR, so it is fed first.
    if !ctx.srv.clients.monitors.is_empty() {
        crate::commands::server::monitor::feed(ctx, argv);
    }
    if evalsha && argv[1].len() != 40 {
        return Err(Error::NoScript);
    }
    if evalsha && ctx.client.conn.lua_debug.is_some() {
        return Err(Error::Msg("ERR Please use EVAL instead of EVALSHA for debugging"));
    }
    let (keys, args) = split_keys(argv, Error::NotInteger)?;
    let sha = if evalsha { String::from_utf8_lossy(&argv[1]).to_ascii_lowercase() } else { sha1hex(&argv[1]) };
    if !ctx.srv.scripting.scripts.contains_key(&sha) {
        if evalsha {
            return Err(Error::NoScript);
        }
        let created = create_script(ctx, &argv[1], &sha);
        super::log_engine_failures(ctx);
        created?;
    }
    let script_flags = ctx.srv.scripting.scripts[&sha].flags;
    check_flags(ctx, script_flags, ro)?;
    run_script(ctx, Target::Eval(&sha), script_flags, ro, keys, args, ldb)
}

/// luaCreateFunction: caches and compiles a body (a known SHA is left as it is).
fn create_script(ctx: &mut Ctx, body: &Bytes, sha: &str) -> Result<()> {
    if ctx.srv.scripting.scripts.contains_key(sha) {
        return Ok(());
    }
    let (script_flags, shebang_len) = extract_shebang(body).map_err(|e| Error::Dyn(format!("ERR {}", e)))?;
    let vm = match ctx.srv.scripting.eval_vm.as_mut() {
        Some(vm) => vm,
        None => ctx.srv.scripting.eval_vm.insert(LuaVm::new(true).map_err(|e| Error::Dyn(format!("ERR {}", e)))?),
    };
    vm.compile_script(sha, &body[shebang_len..]).map_err(|e| Error::Dyn(format!("ERR Error compiling script (new function): {}", e)))?;
    ctx.srv.scripting.scripts_mem += sha.len() + body.len();
    // A copy: the argument is a slice of the host's input buffer, which it would keep whole.
    ctx.srv.scripting.scripts.insert(sha.to_string(), EvalScript { body: Bytes::copy_from_slice(body), flags: script_flags });
    Ok(())
}

/// SCRIPT LOAD script
pub fn script_load(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let sha = sha1hex(&argv[2]);
    let created = create_script(ctx, &argv[2], &sha);
    super::log_engine_failures(ctx);
    created?;
    Ok(Reply::bulk(sha.into_bytes()))
}

/// SCRIPT EXISTS sha1 [sha1 ...]
pub fn script_exists(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let scripts = &ctx.srv.scripting.scripts;
    Ok(Reply::Array(argv[2..].iter().map(|s| Reply::from_bool(scripts.contains_key(&String::from_utf8_lossy(s).to_ascii_lowercase()))).collect()))
}

/// SCRIPT FLUSH [ASYNC|SYNC]: forgets every script and starts a fresh VM.
pub fn script_flush(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let ok = match argv.len() {
        2 => true,
        3 => argv[2].eq_ignore_ascii_case(b"sync") || argv[2].eq_ignore_ascii_case(b"async"),
        _ => false,
    };
    if !ok {
        return Err(Error::Msg("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    let s = &mut ctx.srv.scripting;
    s.scripts.clear();
    s.scripts_mem = 0;
    s.eval_vm = None;
    Ok(OK)
}

/// SCRIPT KILL run as a command: the engine runs one command at a time, so no script is
/// running now. While one is, the host answers SCRIPT KILL itself (see `script::watch`).
pub fn script_kill(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    crate::script::watch::kill_reply(None, true).map(|()| OK).map_err(Error::Dyn)
}

const HELP: &[&str] = &[
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
];

pub fn script_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("SCRIPT", HELP))
}
