//! The Lua side of Redis's debugger (eval.c's luaLdbLineHook and ldbRepl): the line hook
//! that stops a debugged script, the commands that look into the VM (print, trace, eval,
//! redis), redis.debug() and redis.breakpoint(). The session itself, its log and its I/O
//! are `script::ldb`; this file reaches it through the running invocation (`bridge`), in
//! short borrows, never across a call back into Lua.

use rilua::stdlib::{base, debug};
use rilua::vm::state::LuaState;
use rilua::{LuaResult, RustFn, Val};

use super::api::{self, arg, nargs};
use super::bridge;
use crate::script::ldb::{ReadEnd, Session};

/// The stack level, as `debug.getinfo` counts it when called from the hook, of the function
/// whose line is running (0 is getinfo itself, 1 the hook).
const SCRIPT_LEVEL: usize = 2;
/// LDB_MAX_VALUES_DEPTH (LUA_MINSTACK / 2).
const MAX_DEPTH: usize = 10;

/// The running session, for a short borrow; `None` outside a debugged run.
fn session<R>(f: impl FnOnce(&mut Session) -> R) -> Option<R> {
    bridge::with(|inv| inv.ldb.as_deref_mut().map(f)).flatten()
}

/// Whether a debugging session is running (redis.call logs then).
pub fn active() -> bool {
    session(|_| ()).is_some()
}

/// Calls `f` with `args` and `nres` results; an error propagates as Lua's.
fn call(st: &mut LuaState, f: Val, args: &[Val], nres: usize) -> LuaResult<Vec<Val>> {
    let base = st.top;
    st.ensure_stack(base + args.len() + 1 + rilua::vm::state::LUA_MINSTACK);
    st.stack_set(base, f);
    for (i, a) in args.iter().enumerate() {
        st.stack_set(base + 1 + i, *a);
    }
    st.top = base + 1 + args.len();
    let result = st.call_function(base, nres as i32);
    let out = match result {
        Ok(()) => Ok((0..nres).map(|i| st.stack_get(base + i)).collect()),
        Err(e) => Err(e),
    };
    st.top = base;
    out
}

fn native(st: &mut LuaState, f: RustFn, name: &str) -> Val {
    api::closure(st, f, name, vec![])
}

/// Calls `f` under pcall: its first result, or the error as text.
fn protected(st: &mut LuaState, f: Val, args: &[Val]) -> Result<Val, Vec<u8>> {
    let pcall = native(st, base::lua_pcall, "pcall");
    let mut all = vec![f];
    all.extend_from_slice(args);
    match call(st, pcall, &all, 2) {
        Ok(r) if r[0] == Val::Bool(true) => Ok(r[1]),
        Ok(r) => Err(error_text(st, r[1])),
        Err(e) => Err(e.to_string().into_bytes()),
    }
}

/// lua_tostring of an error object; Redis's error tables by their `err` field.
fn error_text(st: &mut LuaState, e: Val) -> Vec<u8> {
    if let Val::Table(_) = e {
        let err = api::raw_get(st, e, "err");
        return api::to_bytes(st, err).unwrap_or_default();
    }
    api::to_bytes(st, e).unwrap_or_else(|| b"(null)".to_vec())
}

/// What `debug.getinfo(level, "Snl")` says of a frame: its source, current line and name.
struct Frame {
    user_script: bool,
    line: i32,
    name: Option<Vec<u8>>,
}

fn frame(st: &mut LuaState, level: usize) -> Option<Frame> {
    let getinfo = native(st, debug::db_getinfo, "getinfo");
    let what = api::string(st, b"Snl");
    // One more level: the call adds getinfo's own frame below the hook's.
    let info = call(st, getinfo, &[Val::Num(level as f64), what], 1).ok()?.pop()?;
    if !matches!(info, Val::Table(_)) {
        return None;
    }
    let src = api::raw_get(st, info, "short_src");
    let line = api::raw_get(st, info, "currentline");
    let name = api::raw_get(st, info, "name");
    Some(Frame {
        user_script: api::to_bytes(st, src).is_some_and(|s| s.windows(11).any(|w| w == b"user_script")),
        line: if let Val::Num(n) = line { n as i32 } else { -1 },
        name: api::to_bytes(st, name),
    })
}

/// `debug.getlocal(level, i)`: the name and value of a frame's local, if there is one.
fn local(st: &mut LuaState, level: usize, i: usize) -> Option<(Vec<u8>, Val)> {
    let getlocal = native(st, debug::db_getlocal, "getlocal");
    let r = call(st, getlocal, &[Val::Num(level as f64), Val::Num(i as f64)], 2).ok()?;
    Some((api::to_bytes(st, r[0])?, r[1]))
}

/// luaLdbLineHook, for both the line and the count events.
pub fn hook(st: &mut LuaState) -> LuaResult<u32> {
    let count_event = api::to_bytes(st, arg(st, 0)).is_some_and(|e| e == b"count");
    let Some(f) = frame(st, SCRIPT_LEVEL) else { return Ok(0) };
    let stop = session(|s| {
        s.currentline = f.line;
        let bp = s.is_breakpoint(f.line) || s.luabp;
        if !f.user_script {
            return None;
        }
        let mut timeout = false;
        if count_event && !s.step && !bp {
            if !s.timed_out() {
                return None;
            }
            timeout = true;
            s.step = true;
        }
        if !s.step && !bp {
            return None;
        }
        let reason = match (bp, s.luabp, timeout) {
            (true, true, _) => "redis.breakpoint() called",
            (true, false, _) => "break point",
            (false, _, true) => "timeout reached, infinite loop?",
            _ => "step over",
        };
        s.step = false;
        s.luabp = false;
        s.stopped(reason);
        Some(timeout)
    })
    .flatten();
    let Some(timeout) = stop else { return Ok(0) };
    let gone = repl(st)?;
    if gone && timeout {
        // Nobody can stop the script any more: end it rather than block forever.
        return Err(api::throw_table(st, "timeout during Lua debugging with client closing connection"));
    }
    session(Session::resume);
    Ok(0)
}

/// ldbRepl: debugger commands until one resumes the script; true when the client left.
fn repl(st: &mut LuaState) -> LuaResult<bool> {
    loop {
        let Some(next) = session(Session::read_command) else { return Ok(false) };
        let argv = match next {
            Ok(argv) => argv,
            Err(ReadEnd::Closed) => return Ok(true),
            Err(ReadEnd::Raise(msg)) => return Err(api::throw_table(st, msg)),
        };
        let name = argv[0].to_ascii_lowercase();
        match &name[..] {
            b"h" | b"help" => {
                session(Session::help);
            }
            b"s" | b"step" | b"n" | b"next" => {
                session(|s| s.step = true);
                return Ok(false);
            }
            b"c" | b"continue" => return Ok(false),
            b"t" | b"trace" => trace(st),
            b"m" | b"maxlen" => {
                session(|s| s.maxlen_command(&argv));
            }
            b"b" | b"break" => {
                session(|s| s.break_command(&argv));
            }
            b"e" | b"eval" => eval(st, &argv),
            b"a" | b"abort" => return Err(api::throw_table(st, "script aborted for user request")),
            b"r" | b"redis" if argv.len() > 1 => redis(st, &argv),
            b"p" | b"print" => {
                if argv.len() == 2 {
                    print(st, &argv[1]);
                } else {
                    print_all(st);
                }
            }
            b"l" | b"list" => {
                session(|s| s.list_command(&argv));
            }
            b"w" | b"whole" => {
                session(|s| s.list(1, 1_000_000));
            }
            _ => {
                session(|s| s.log("<error> Unknown Redis Lua debugger command or wrong number of arguments."));
            }
        }
        session(Session::send_logs);
    }
}

/// ldbCatStackValueRec: a value as the debugger shows it.
fn value(st: &LuaState, v: Val, out: &mut String, depth: usize) {
    if depth == MAX_DEPTH {
        out.push_str("<max recursion level reached! Nested table?>");
        return;
    }
    match v {
        Val::Str(r) => crate::util::repr(out, st.gc.string_arena.get(r).map(|s| s.data()).unwrap_or_default()),
        Val::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Val::Num(n) => out.push_str(&crate::util::fmt_g(n, 6)),
        Val::Nil => out.push_str("nil"),
        Val::Table(r) => {
            let Some(t) = st.gc.tables.get(r) else { return };
            let (mut as_array, mut as_map) = (String::new(), String::new());
            let mut is_array = true;
            let mut expected = 1.0;
            let mut key = Val::Nil;
            while let Ok(Some((k, item))) = t.next(key, &st.gc.string_arena) {
                if is_array && k != Val::Num(expected) {
                    is_array = false;
                }
                value(st, item, &mut as_array, depth + 1);
                as_array.push_str("; ");
                as_map.push('[');
                value(st, k, &mut as_map, depth + 1);
                as_map.push_str("]=");
                value(st, item, &mut as_map, depth + 1);
                as_map.push_str("; ");
                expected += 1.0;
                key = k;
            }
            let mut chosen = if is_array { as_array } else { as_map };
            chosen.truncate(chosen.len().saturating_sub(2));
            out.push('{');
            out.push_str(&chosen);
            out.push('}');
        }
        Val::Function(r) => out.push_str(&format!("\"function@0x{:x}\"", r.index())),
        Val::Thread(r) => out.push_str(&format!("\"thread@0x{:x}\"", r.index())),
        Val::Userdata(r) => out.push_str(&format!("\"userdata@0x{:x}\"", r.index())),
        Val::LightUserdata(p) => out.push_str(&format!("\"light-userdata@0x{:x}\"", p)),
    }
}

/// ldbLogStackValue: `prefix` and the value, cut at maxlen.
fn log_value(st: &LuaState, prefix: &str, v: Val) {
    let mut s = prefix.to_string();
    value(st, v, &mut s, 0);
    session(|ses| ses.log_with_max_len(s));
}

/// ldbPrint: the innermost local of that name from the running line outwards, then the
/// globals KEYS and ARGV.
fn print(st: &mut LuaState, name: &[u8]) {
    let mut level = SCRIPT_LEVEL;
    while frame(st, level).is_some() {
        let mut i = 1;
        while let Some((n, v)) = local(st, level, i) {
            if n == name {
                log_value(st, "<value> ", v);
                return;
            }
            i += 1;
        }
        level += 1;
    }
    if name == b"ARGV" || name == b"KEYS" {
        // As the script sees them (they live behind the globals' read-only proxy).
        let code = [&b"return "[..], name].concat();
        let v = super::guard::compile(st, &code, "@ldb_eval").ok().and_then(|f| protected(st, f, &[]).ok()).unwrap_or(Val::Nil);
        log_value(st, "<value> ", v);
    } else {
        session(|s| s.log("No such variable."));
    }
}

/// ldbPrintAll: every local of the running function.
fn print_all(st: &mut LuaState) {
    let mut shown = 0;
    let mut i = 1;
    while let Some((n, v)) = local(st, SCRIPT_LEVEL, i) {
        i += 1;
        if n.windows(12).any(|w| w == b"(*temporary)") {
            continue;
        }
        log_value(st, &format!("<value> {} = ", String::from_utf8_lossy(&n)), v);
        shown += 1;
    }
    if shown == 0 {
        session(|s| s.log("No local variables in the current context."));
    }
}

/// ldbTrace: each of the script's frames from the running one out.
fn trace(st: &mut LuaState) {
    let mut level = SCRIPT_LEVEL;
    while let Some(f) = frame(st, level) {
        if f.user_script {
            let name = f.name.map_or_else(|| "top level".to_string(), |n| String::from_utf8_lossy(&n).into_owned());
            let first = level == SCRIPT_LEVEL;
            session(|s| {
                s.log(format!("{} {}:", if first { "In" } else { "From" }, name));
                s.log_source_line(f.line);
            });
        }
        level += 1;
    }
    if level == SCRIPT_LEVEL {
        session(|s| s.log("<error> Can't retrieve Lua stack."));
    }
}

/// ldbEval: the arguments joined as code, tried first as an expression, run in a frame of
/// its own.
fn eval(st: &mut LuaState, argv: &[Vec<u8>]) {
    let code = argv[1..].join(&b' ');
    let expr = [&b"return "[..], &code].concat();
    let compiled = super::guard::compile(st, &expr, "@ldb_eval").or_else(|_| super::guard::compile(st, &code, "@ldb_eval"));
    let f = match compiled {
        Ok(f) => f,
        Err(e) => {
            session(|s| s.log(format!("<error> {}", e)));
            return;
        }
    };
    match protected(st, f, &[]) {
        Ok(v) => log_value(st, "<retval> ", v),
        Err(e) => {
            let mut entry = b"<error> ".to_vec();
            entry.extend_from_slice(&e);
            session(|s| s.log(entry));
        }
    }
}

/// ldbRedis: the command through redis.call, stepping on so the call and its reply are
/// logged as a stepped line's would be.
fn redis(st: &mut LuaState, argv: &[Vec<u8>]) {
    let call_fn = native(st, api::redis_call, "call");
    let args: Vec<Val> = argv[1..].iter().map(|a| api::string(st, a)).collect();
    session(|s| s.step = true);
    let _ = protected(st, call_fn, &args);
    session(|s| s.step = false);
}

/// redis.debug(...): its arguments in the debugger's log, when a session runs.
pub fn debug_log(st: &mut LuaState) -> LuaResult<u32> {
    if !active() {
        return Ok(0);
    }
    let line = session(|s| s.currentline).unwrap_or(0);
    let mut s = format!("<debug> line {}: ", line);
    let n = nargs(st);
    for i in 0..n {
        value(st, arg(st, i), &mut s, 0);
        if i + 1 != n {
            s.push_str(", ");
        }
    }
    session(|ses| ses.log(s));
    Ok(0)
}

/// redis.breakpoint(): stop at the next line; false outside a session.
pub fn breakpoint(st: &mut LuaState) -> LuaResult<u32> {
    let on = session(|s| s.luabp = true).is_some();
    st.push(Val::Bool(on));
    Ok(1)
}

/// redis.call's lines in the log while stepping: the command (ten arguments at most).
pub fn log_call(argv: &[bytes::Bytes]) {
    session(|s| {
        if !s.step {
            return;
        }
        let mut entry = b"<redis>".to_vec();
        for (j, a) in argv.iter().enumerate() {
            if j == 10 {
                entry.extend_from_slice(format!(" ... ({} more)", argv.len() - j - 1).as_bytes());
                break;
            }
            entry.push(b' ');
            entry.extend_from_slice(a);
        }
        s.log(entry);
    });
}

/// ... and what it answered: the reply as the script's client got it, or the refusal.
pub fn log_result(result: &Result<crate::reply::Reply, String>, resp: u8) {
    session(|s| {
        if !s.step {
            return;
        }
        match result {
            Ok(reply) => {
                let wire = crate::resp::writer::encode(reply, resp == 3);
                let mut entry = "<reply> ".to_string();
                crate::script::ldb::reply_to_human(&mut entry, &wire);
                s.log_with_max_len(entry);
            }
            Err(msg) => s.log(format!("<error> {}", msg)),
        }
    });
}
