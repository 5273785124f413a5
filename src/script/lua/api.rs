//! The native functions a script sees: the `redis` table (script_lua.c's luaRedis*),
//! Redis's math.random, and the sandbox's replacements for the base functions that could
//! reach past a read-only table (next, pairs, rawset, setmetatable, ...).

use bytes::Bytes;
use rilua::stdlib::base;
use rilua::vm::closure::{Closure, RustClosure};
use rilua::vm::state::LuaState;
use rilua::{LuaError, LuaResult, RuntimeError, RustFn, Val};

use super::bridge;
use super::values::Values;
use crate::script::convert::{self, ScriptValues};
use crate::script::{flags, lua_number_string, number_arg};

pub const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

pub fn nargs(st: &LuaState) -> usize {
    st.top.saturating_sub(st.base)
}

pub fn arg(st: &LuaState, i: usize) -> Val {
    if i < nargs(st) {
        st.stack_get(st.base + i)
    } else {
        Val::Nil
    }
}

/// lua_tolstring: strings as they are, numbers as Lua prints them, anything else nothing.
pub fn to_bytes(st: &LuaState, v: Val) -> Option<Vec<u8>> {
    match v {
        Val::Str(r) => st.gc.string_arena.get(r).map(|s| s.data().to_vec()),
        Val::Num(n) => Some(lua_number_string(n).into_bytes()),
        _ => None,
    }
}

/// lua_tonumber: numbers, and strings that read as numbers; 0 otherwise.
fn to_number(st: &LuaState, v: Val) -> Option<f64> {
    match v {
        Val::Num(n) => Some(n),
        Val::Str(r) => st.gc.string_arena.get(r).and_then(|s| std::str::from_utf8(s.data()).ok()).and_then(|s| s.trim().parse().ok()),
        _ => None,
    }
}

/// The native function's own upvalue `i` (the closure sits just below its arguments).
pub fn upvalue(st: &LuaState, i: usize) -> Val {
    if let Val::Function(r) = st.stack_get(st.base.wrapping_sub(1)) {
        if let Some(Closure::Rust(c)) = st.gc.closures.get(r) {
            return c.upvalues.get(i).copied().unwrap_or(Val::Nil);
        }
    }
    Val::Nil
}

/// coroutine.create: the new thread inherits its creator's count hook, as lua_newthread does
/// in C Lua (rilua's threads start without one), so a loop inside a coroutine is still
/// interrupted by busy-reply-threshold and SCRIPT KILL.
pub fn co_create(st: &mut LuaState) -> LuaResult<u32> {
    let n = rilua::stdlib::coroutine::co_create(st)?;
    if let Val::Thread(t) = st.stack_get(st.top.wrapping_sub(1)) {
        inherit_hook(st, t);
    }
    Ok(n)
}

/// coroutine.wrap: the same, for the thread inside the wrapper, whose calls go through
/// the sandbox's depth check (`guard::guard_wrapper`).
pub fn co_wrap(st: &mut LuaState) -> LuaResult<u32> {
    let n = rilua::stdlib::coroutine::co_wrap(st)?;
    if let Val::Function(f) = st.stack_get(st.top.wrapping_sub(1)) {
        if let Some(Closure::Rust(c)) = st.gc.closures.get(f) {
            if let Some(Val::Thread(t)) = c.upvalues.first().copied() {
                inherit_hook(st, t);
            }
        }
    }
    super::guard::guard_wrapper(st);
    Ok(n)
}

fn inherit_hook(st: &mut LuaState, t: rilua::vm::gc::arena::GcRef<rilua::vm::state::LuaThread>) {
    let mut hook = st.hook.clone();
    hook.hook_count = hook.base_hook_count;
    if let Some(thread) = st.gc.threads.get_mut(t) {
        thread.hook = hook;
    }
}

pub fn closure(st: &mut LuaState, f: RustFn, name: &str, upvalues: Vec<Val>) -> Val {
    let mut c = RustClosure::new(f, name);
    c.upvalues = upvalues;
    Val::Function(st.gc.alloc_closure(Closure::Rust(c)))
}

pub fn string(st: &mut LuaState, s: &[u8]) -> Val {
    Val::Str(st.gc.intern_string(s))
}

pub fn raw_get(st: &mut LuaState, t: Val, key: &str) -> Val {
    let k = string(st, key.as_bytes());
    match t {
        Val::Table(r) => st.gc.tables.get(r).map_or(Val::Nil, |t| t.get(k, &st.gc.string_arena)),
        _ => Val::Nil,
    }
}

pub fn raw_set(st: &mut LuaState, t: Val, key: Val, v: Val) {
    if let Val::Table(r) = t {
        if let Some(tab) = st.gc.tables.get_mut(r) {
            let _ = tab.raw_set(key, v, &st.gc.string_arena);
        }
    }
}

pub fn set_field(st: &mut LuaState, t: Val, key: &str, v: Val) {
    let k = string(st, key.as_bytes());
    raw_set(st, t, k, v);
}

/// Raises `v` as the error object, unchanged (no position is prepended to a thrown object).
pub fn throw(st: &mut LuaState, v: Val) -> LuaError {
    let message = match v {
        Val::Str(r) => st.gc.string_arena.get(r).map(|s| String::from_utf8_lossy(s.data()).into_owned()).unwrap_or_default(),
        _ => "error object".into(),
    };
    st.error_object = Some(v);
    LuaError::Runtime(RuntimeError { message, level: 0, traceback: vec![] })
}

/// Raises Redis's error table (luaPushError + luaError).
pub fn throw_table(st: &mut LuaState, err: &str) -> LuaError {
    let t = convert::error_table(&mut Values(st), err, false);
    throw(st, t)
}

/// Raises a plain string without the caller's position (an error from inside the VM).
fn throw_plain(st: &mut LuaState, msg: &str) -> LuaError {
    let v = string(st, msg.as_bytes());
    throw(st, v)
}

fn push_error_table(st: &mut LuaState, err: &str) -> LuaResult<u32> {
    let t = convert::error_table(&mut Values(st), err, false);
    st.push(t);
    Ok(1)
}

fn killed() -> bool {
    bridge::with(|inv| inv.killed).unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// redis.*
// ---------------------------------------------------------------------------------------

pub fn redis_call(st: &mut LuaState) -> LuaResult<u32> {
    redis_generic(st, true)
}

pub fn redis_pcall(st: &mut LuaState) -> LuaResult<u32> {
    redis_generic(st, false)
}

/// The argv a redis.* call passes: strings and numbers (`%.17g`) only.
fn argv_of(st: &LuaState) -> Result<Vec<Bytes>, &'static str> {
    let n = nargs(st);
    if n == 0 {
        return Err("Please specify at least one argument for this redis lib call");
    }
    let mut argv = Vec::with_capacity(n);
    for i in 0..n {
        match arg(st, i) {
            Val::Num(x) => argv.push(Bytes::from(number_arg(x))),
            Val::Str(r) => argv.push(Bytes::copy_from_slice(st.gc.string_arena.get(r).map(|s| s.data()).unwrap_or_default())),
            _ => return Err("Lua redis lib command arguments must be strings or integers"),
        }
    }
    Ok(argv)
}

/// luaRedisGenericCommand: redis.call raises a command's error, redis.pcall returns it.
fn redis_generic(st: &mut LuaState, raise: bool) -> LuaResult<u32> {
    let argv = match argv_of(st) {
        Ok(a) => a,
        Err(e) => {
            return if raise { Err(throw_table(st, e)) } else { push_error_table(st, e) };
        }
    };
    super::ldb::log_call(&argv);
    let Some((result, resp)) = bridge::with(|inv| (inv.host.call(argv, inv.resp), inv.resp)) else {
        return Err(throw_table(st, "redis.call/pcall can only be called inside a script invocation"));
    };
    super::ldb::log_result(&result, resp);
    let v = match result {
        Err(msg) => convert::error_table(&mut Values(st), &msg, true),
        Ok(reply) => convert::reply_to_value(&mut Values(st), &reply, resp == 3),
    };
    let is_err = matches!(v, Val::Table(_)) && {
        let f = raw_get(st, v, "err");
        matches!(f, Val::Str(_))
    };
    if raise && is_err {
        return Err(throw(st, v));
    }
    st.push(v);
    Ok(1)
}

/// Redis's pcall: an error table from redis.call comes back as its message, as in
/// Redis 6, and a killed script cannot be caught.
pub fn pcall(st: &mut LuaState) -> LuaResult<u32> {
    let n = base::lua_pcall(st)?;
    let first = st.top - n as usize;
    if st.stack_get(first) == Val::Bool(false) {
        if killed() {
            return Err(throw_table(st, KILLED));
        }
        let e = st.stack_get(first + 1);
        if let Val::Table(_) = e {
            let m = raw_get(st, e, "err");
            if let Val::Str(_) = m {
                st.stack_set(first + 1, m);
            }
        }
    }
    Ok(n)
}

pub fn xpcall(st: &mut LuaState) -> LuaResult<u32> {
    let n = base::lua_xpcall(st)?;
    let first = st.top - n as usize;
    if st.stack_get(first) == Val::Bool(false) && killed() {
        return Err(throw_table(st, KILLED));
    }
    Ok(n)
}

pub fn sha1hex(st: &mut LuaState) -> LuaResult<u32> {
    if nargs(st) != 1 {
        return Err(throw_table(st, "wrong number of arguments"));
    }
    let b = to_bytes(st, arg(st, 0)).unwrap_or_default();
    let v = string(st, crate::script::sha1hex(&b).as_bytes());
    st.push(v);
    Ok(1)
}

pub fn error_reply(st: &mut LuaState) -> LuaResult<u32> {
    let v = arg(st, 0);
    if nargs(st) != 1 || !matches!(v, Val::Str(_)) {
        return push_error_table(st, "wrong number or type of arguments");
    }
    let s = String::from_utf8_lossy(&to_bytes(st, v).unwrap_or_default()).into_owned();
    let s = if s.starts_with('-') { s } else { format!("-{}", s) };
    push_error_table(st, &s)
}

pub fn status_reply(st: &mut LuaState) -> LuaResult<u32> {
    let v = arg(st, 0);
    if nargs(st) != 1 || !matches!(v, Val::Str(_)) {
        return push_error_table(st, "wrong number or type of arguments");
    }
    let t = Values(st).table(0, 1);
    set_field(st, t, "ok", v);
    st.push(t);
    Ok(1)
}

pub fn set_repl(st: &mut LuaState) -> LuaResult<u32> {
    let n = nargs(st);
    let f = to_number(st, arg(st, n.saturating_sub(1))).unwrap_or(0.0) as i64;
    let r = bridge::with(|inv| {
        if n != 1 {
            return Err("redis.set_repl() requires two arguments.");
        }
        if f & !3 != 0 {
            return Err("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
        }
        inv.host.set_repl(f as u8);
        Ok(())
    });
    match r {
        None => Err(throw_table(st, "redis.set_repl can only be called inside a script invocation")),
        Some(Err(e)) => Err(throw_table(st, e)),
        Some(Ok(())) => Ok(0),
    }
}

pub fn log(st: &mut LuaState) -> LuaResult<u32> {
    let n = nargs(st);
    if n < 2 {
        return Err(throw_table(st, "redis.log() requires two arguments or more."));
    }
    let Some(level) = to_number(st, arg(st, 0)) else { return Err(throw_table(st, "First argument must be a number (log level).")) };
    let level = level as i64;
    if !(0..=3).contains(&level) {
        return Err(throw_table(st, "Invalid debug level."));
    }
    let mut msg = Vec::new();
    for i in 1..n {
        if let Some(b) = to_bytes(st, arg(st, i)) {
            if i != 1 {
                msg.push(b' ');
            }
            msg.extend_from_slice(&b);
        }
    }
    bridge::with(|inv| inv.host.log(level as u8, &msg));
    Ok(0)
}

pub fn setresp(st: &mut LuaState) -> LuaResult<u32> {
    let n = nargs(st);
    let v = to_number(st, arg(st, 0)).unwrap_or(0.0) as i64;
    let r = bridge::with(|inv| {
        if n != 1 {
            return Err("redis.setresp() requires one argument.");
        }
        if v != 2 && v != 3 {
            return Err("RESP version must be 2 or 3.");
        }
        inv.resp = v as u8;
        Ok(())
    });
    match r {
        None => Err(throw_table(st, "redis.setresp can only be called inside a script invocation")),
        Some(Err(e)) => Err(throw_table(st, e)),
        Some(Ok(())) => Ok(0),
    }
}

/// redis.acl_check_cmd: whether the script's caller may run the command with these
/// arguments (an unknown command is an error).
pub fn acl_check_cmd(st: &mut LuaState) -> LuaResult<u32> {
    let argv = match argv_of(st) {
        Ok(a) => a,
        Err(e) => {
            if bridge::with(|_| ()).is_none() {
                return Err(throw_table(st, "redis.acl_check_cmd can only be called inside a script invocation"));
            }
            return Err(throw_table(st, e));
        }
    };
    match bridge::with(|inv| inv.host.acl_allows(&argv)) {
        None => Err(throw_table(st, "redis.acl_check_cmd can only be called inside a script invocation")),
        Some(Err(e)) => Err(throw_table(st, e)),
        Some(Ok(ok)) => {
            st.push(Val::Bool(ok));
            Ok(1)
        }
    }
}

pub fn replicate_commands(st: &mut LuaState) -> LuaResult<u32> {
    st.push(Val::Bool(true));
    Ok(1)
}

// ---------------------------------------------------------------------------------------
// math.random / math.randomseed on redisLrand48
// ---------------------------------------------------------------------------------------

pub fn math_random(st: &mut LuaState) -> LuaResult<u32> {
    let Some(r) = bridge::with(|inv| inv.rng.next()) else {
        return Err(rilua::runtime_error("math.random can only be called inside a script invocation"));
    };
    let r = (r % crate::script::Lrand48::MAX) as f64 / crate::script::Lrand48::MAX as f64;
    let v = match nargs(st) {
        0 => r,
        1 => {
            let u = st.check_number(1)? as i32 as f64;
            if u < 1.0 {
                return Err(st.arg_error(1, "interval is empty"));
            }
            (r * u).floor() + 1.0
        }
        2 => {
            let l = st.check_number(1)? as i32 as f64;
            let u = st.check_number(2)? as i32 as f64;
            if l > u {
                return Err(st.arg_error(2, "interval is empty"));
            }
            (r * (u - l + 1.0)).floor() + l
        }
        _ => return Err(rilua::runtime_error("wrong number of arguments")),
    };
    st.push(Val::Num(v));
    Ok(1)
}

pub fn math_randomseed(st: &mut LuaState) -> LuaResult<u32> {
    let seed = st.check_number(1)? as i32;
    match bridge::with(|inv| inv.rng.seed(seed)) {
        Some(()) => Ok(0),
        None => Err(rilua::runtime_error("math.randomseed can only be called inside a script invocation")),
    }
}

// ---------------------------------------------------------------------------------------
// The sandbox: read-only tables are empty proxies (see `sandbox.lua`); upvalue 0 of these
// functions maps each proxy to the table it guards.
// ---------------------------------------------------------------------------------------

/// The table a read-only proxy guards, if `v` is one.
fn guarded(st: &LuaState, v: Val) -> Option<Val> {
    let map = upvalue(st, 0);
    let (Val::Table(m), Val::Table(_)) = (map, v) else { return None };
    let real = st.gc.tables.get(m)?.get(v, &st.gc.string_arena);
    (!real.is_nil()).then_some(real)
}

/// Lets a read function see through a proxy to the real table, then calls it.
fn see_through(st: &mut LuaState, f: RustFn) -> LuaResult<u32> {
    if let Some(real) = guarded(st, arg(st, 0)) {
        let base = st.base;
        st.stack_set(base, real);
    }
    f(st)
}

pub fn next(st: &mut LuaState) -> LuaResult<u32> {
    see_through(st, base::lua_next)
}
/// pairs returns the sandbox's own `next` (upvalue 1): rilua's pairs would read `next`
/// from the raw globals, which for a script is an empty proxy.
pub fn pairs(st: &mut LuaState) -> LuaResult<u32> {
    let t = arg(st, 0);
    if nargs(st) < 1 {
        return Err(rilua::runtime_error("bad argument #1 to 'pairs' (table expected, got no value)"));
    }
    let Val::Table(_) = t else {
        return Err(rilua::runtime_error(format!("bad argument #1 to 'pairs' (table expected, got {})", t.type_name())));
    };
    let real = guarded(st, t).unwrap_or(t);
    let next = upvalue(st, 1);
    st.push(next);
    st.push(real);
    st.push(Val::Nil);
    Ok(3)
}
pub fn ipairs(st: &mut LuaState) -> LuaResult<u32> {
    see_through(st, base::lua_ipairs)
}
pub fn rawget(st: &mut LuaState) -> LuaResult<u32> {
    see_through(st, base::lua_rawget)
}

pub const READONLY: &str = "Attempt to modify a readonly table";

pub fn rawset(st: &mut LuaState) -> LuaResult<u32> {
    if guarded(st, arg(st, 0)).is_some() {
        return Err(throw_plain(st, READONLY));
    }
    base::lua_rawset(st)
}

pub fn setmetatable(st: &mut LuaState) -> LuaResult<u32> {
    if guarded(st, arg(st, 0)).is_some() {
        return Err(throw_plain(st, READONLY));
    }
    base::lua_setmetatable(st)
}

/// The proxies' `__newindex`.
pub fn readonly(_st: &mut LuaState) -> LuaResult<u32> {
    Err(rilua::runtime_error(READONLY))
}

/// The globals' `__index`: reading an undeclared global is an error, as in Redis.
pub fn missing_global(st: &mut LuaState) -> LuaResult<u32> {
    let name = to_bytes(st, arg(st, 1)).unwrap_or_default();
    Err(rilua::runtime_error(format!("Script attempted to access nonexistent global variable '{}'", String::from_utf8_lossy(&name))))
}

/// `__panic__(msg)`, in test builds only: a panic from inside the VM.
#[cfg(test)]
pub fn test_panic(st: &mut LuaState) -> LuaResult<u32> {
    let msg = to_bytes(st, arg(st, 0)).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    panic!("{}", msg);
}

/// collectgarbage, kept from leaving a collection cycle half done: the engine only ever
/// collects in whole cycles (an interned string revived mid-sweep would be freed under the
/// script), so "step" runs a full cycle and the tuning options report without changing.
pub fn collectgarbage(st: &mut LuaState) -> LuaResult<u32> {
    let opt = to_bytes(st, arg(st, 0)).unwrap_or_else(|| b"collect".to_vec());
    match opt.as_slice() {
        b"step" => {
            st.full_gc()?;
            st.push(Val::Bool(true));
            Ok(1)
        }
        b"setpause" | b"setstepmul" | b"stop" | b"restart" => {
            st.push(Val::Num(0.0));
            Ok(1)
        }
        _ => base::lua_collectgarbage(st),
    }
}

// ---------------------------------------------------------------------------------------
// The count hook
// ---------------------------------------------------------------------------------------

/// Every 100k instructions: asks the host whether to stop (SCRIPT KILL, FUNCTION KILL, a
/// budget). Once stopped, the error is raised again at every hook, so a script's own pcall
/// cannot swallow it.
pub fn count_hook(st: &mut LuaState) -> LuaResult<u32> {
    if super::ldb::active() {
        return super::ldb::hook(st);
    }
    let stop = bridge::with(|inv| {
        if !inv.killed && inv.host.interrupted() {
            inv.killed = true;
        }
        inv.killed
    });
    if stop == Some(true) {
        st.hook.base_hook_count = 1000;
        return Err(throw_table(st, KILLED));
    }
    // A long script's garbage is collected while it runs, not only after it.
    super::pace_collector(st);
    Ok(0)
}

// ---------------------------------------------------------------------------------------
// redis.register_function (FUNCTION LOAD only)
// ---------------------------------------------------------------------------------------

/// A function a library registers while it loads; its callback waits in the `pending`
/// table (upvalue 0) so the collector keeps it.
pub struct Registered {
    pub name: String,
    pub desc: Option<String>,
    pub flags: u8,
    pub pending_index: usize,
}

thread_local! {
    /// The functions registered by the library now loading; `None` outside FUNCTION LOAD.
    pub static LOADING: std::cell::RefCell<Option<Vec<Registered>>> = const { std::cell::RefCell::new(None) };
}

pub fn register_function(st: &mut LuaState) -> LuaResult<u32> {
    if LOADING.with(|l| l.borrow().is_none()) {
        return Err(throw_table(st, "redis.register_function can only be called on FUNCTION LOAD command"));
    }
    let (name, desc, flags, callback) = match register_args(st) {
        Ok(a) => a,
        Err(e) => return Err(throw_table(st, e)),
    };
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        // Redis's text says "Library" here too (functionLibCreateFunction).
        return Err(throw_table(st, "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
    }
    if LOADING.with(|l| l.borrow().as_ref().is_some_and(|v| v.iter().any(|r| r.name == name))) {
        return Err(throw_table(st, "Function already exists in the library"));
    }
    let pending = upvalue(st, 0);
    let len = match pending {
        Val::Table(r) => st.gc.tables.get(r).map_or(0, |t| t.len(&st.gc.string_arena)),
        _ => 0,
    };
    raw_set(st, pending, Val::Num((len + 1) as f64), callback);
    LOADING.with(|l| {
        if let Some(v) = l.borrow_mut().as_mut() {
            v.push(Registered { name, desc, flags, pending_index: len + 1 });
        }
    });
    Ok(0)
}

type RegisterArgs = (String, Option<String>, u8, Val);

fn register_args(st: &mut LuaState) -> Result<RegisterArgs, &'static str> {
    match nargs(st) {
        1 => register_named(st),
        2 => {
            let Some(name) = string_arg(st, arg(st, 0)) else { return Err("first argument to redis.register_function must be a string") };
            let f = arg(st, 1);
            if !matches!(f, Val::Function(_)) {
                return Err("second argument to redis.register_function must be a function");
            }
            Ok((name, None, 0, f))
        }
        _ => Err("wrong number of arguments to redis.register_function"),
    }
}

fn string_arg(st: &LuaState, v: Val) -> Option<String> {
    to_bytes(st, v).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn register_named(st: &mut LuaState) -> Result<RegisterArgs, &'static str> {
    let t = arg(st, 0);
    if !matches!(t, Val::Table(_)) {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    }
    let (mut name, mut desc, mut flags, mut callback) = (None, None, 0u8, None);
    for (k, v) in Values(st).pairs(t) {
        let Some(key) = string_arg(st, k) else { return Err("named argument key given to redis.register_function is not a string") };
        match key.to_ascii_lowercase().as_str() {
            "function_name" => name = Some(string_arg(st, v).ok_or("function_name argument given to redis.register_function must be a string")?),
            "description" => desc = Some(string_arg(st, v).ok_or("description argument given to redis.register_function must be a string")?),
            "callback" => {
                if !matches!(v, Val::Function(_)) {
                    return Err("callback argument given to redis.register_function must be a function");
                }
                callback = Some(v);
            }
            "flags" => {
                if !matches!(v, Val::Table(_)) {
                    return Err("flags argument to redis.register_function must be a table representing function flags");
                }
                let mut i = 1;
                loop {
                    let f = Values(st).index(v, i);
                    if f.is_nil() {
                        break;
                    }
                    let Val::Str(_) = f else { return Err("unknown flag given") };
                    let b = to_bytes(st, f).unwrap_or_default();
                    flags |= flags::parse(&b).ok_or("unknown flag given")?;
                    i += 1;
                }
            }
            _ => return Err("unknown argument given to redis.register_function"),
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let callback = callback.ok_or("redis.register_function must get a callback argument")?;
    Ok((name, desc, flags, callback))
}
