//! The Lua backend: rilua (Lua 5.1 in Rust, the one Lua 5.1 that builds for
//! wasm32-unknown-unknown) set up as Redis sets up its Lua (script_lua.c, eval.c,
//! function_lua.c): the libraries Redis loads, the `redis` API, Redis's math.random, the
//! error handler that records where an error happened, and globals locked read-only.
//!
//! One `LuaVm` serves EVAL scripts and another FUNCTION libraries, as in Redis. rilua's
//! collector runs whole cycles only (step multiplier 0): an interned string found again
//! while a cycle is half swept is not revived by rilua, so no script may ever see a cycle
//! in progress. Every value Rust keeps is also reachable from the registry, because rilua
//! does not treat Rust-held handles as roots.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

mod api;
mod bridge;
mod guard;
mod ldb;
mod scan;
mod values;

pub use guard::{take_panics, C_CALLS, HEAP_LIMIT, SYNTAX_LEVELS};

/// Tests: the heap limit of the VMs this thread builds from now on (`None`: the default).
#[cfg(test)]
pub fn set_test_heap_limit(limit: Option<usize>) {
    guard::TEST_HEAP_LIMIT.with(|c| c.set(limit));
}

use bytes::Bytes;
use rilua::vm::state::{LuaState, MASK_COUNT, MASK_LINE};
use rilua::vm::table::Table;
use rilua::{Function, Lua, LuaApiMut, LuaError, StdLib, Val};

use crate::reply::Reply;
use crate::script::convert::{self, ScriptValues};
use crate::script::Invocation;
use values::Values;

/// Instructions between two count-hook calls (Redis: the same 100000).
const HOOK_EVERY: i32 = 100_000;

/// The globals Redis 7.0's scripts see (what its allow lists leave after its Lua's own
/// removals); `debug` only until the error handler has captured it.
const ALLOWED_GLOBALS: &[&str] = &[
    "string",
    "cjson",
    "bit",
    "cmsgpack",
    "math",
    "table",
    "struct",
    "redis",
    "xpcall",
    "tostring",
    "next",
    "assert",
    "tonumber",
    "rawequal",
    "collectgarbage",
    "getmetatable",
    "rawset",
    "pcall",
    "coroutine",
    "type",
    "_G",
    "select",
    "unpack",
    "gcinfo",
    "pairs",
    "rawget",
    "loadstring",
    "ipairs",
    "_VERSION",
    "load",
    "error",
    "setmetatable",
    "debug",
];

/// The reply's text when a panic stopped a script (the panic itself goes to the log).
pub const ENGINE_FAILED: &str = "internal error in the Lua engine";

/// A function a library registered during FUNCTION LOAD.
pub struct LoadedFunction {
    pub name: String,
    pub desc: Option<String>,
    pub flags: u8,
    /// Its handle in this VM (see `LuaVm::call_function`).
    pub id: u64,
}

/// How a script run ended.
pub enum Outcome {
    Ok(Reply),
    /// The error reply, and whether errorstats already counted it (it came from a command
    /// the script ran).
    Err(String, bool),
}

pub struct LuaVm {
    lua: Lua,
    eval: bool,
    /// The registry-held table anchoring everything below.
    anchor: Val,
    /// Compiled EVAL scripts (`f_<sha>`) or registered functions (by id).
    funcs: Val,
    /// Callbacks registered while a library loads, until the load succeeds.
    pending: Val,
    /// The real globals (scripts see them through `env`, a read-only proxy).
    globals: Val,
    /// The metatable of `env`: FUNCTION LOAD points its `__index` at the library API.
    env_meta: Val,
    lib_api: Val,
    handler: Val,
    runner: Val,
    hook: Val,
    /// The global cjson module's settings, put back to their defaults before every run.
    cjson_config: Val,
    next_id: u64,
    /// A panic unwound out of the VM: its state cannot be trusted any more, and the owner
    /// must replace it (see `is_poisoned`).
    poisoned: bool,
}

fn table_ref(v: Val) -> Option<rilua::vm::gc::arena::GcRef<Table>> {
    match v {
        Val::Table(r) => Some(r),
        _ => None,
    }
}

impl LuaVm {
    /// A VM for EVAL scripts (`eval`) or for FUNCTION libraries.
    pub fn new(eval: bool) -> Result<LuaVm, String> {
        Self::build(eval).map_err(|e| e.to_string())
    }

    fn build(eval: bool) -> Result<LuaVm, LuaError> {
        let mut lua = Lua::new_with(StdLib::BASE | StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG | StdLib::COROUTINE)?;
        let st = lua.state_mut();
        st.gc.gc_state.gc_stepmul = 0;
        let g = Val::Table(st.global);
        // Drop what Redis's Lua does not offer (print, dofile, loadfile, ...).
        let names: Vec<Val> = Values(st).pairs(g).into_iter().map(|(k, _)| k).collect();
        for k in names {
            let keep = api::to_bytes(st, k).is_some_and(|n| ALLOWED_GLOBALS.iter().any(|a| a.as_bytes() == n.as_slice()));
            if !keep {
                api::raw_set(st, g, k, Val::Nil);
            }
        }
        cjson::open(st)?;
        let cjson_config = cjson::global_config(st).unwrap_or(Val::Nil);
        structlib::open(st)?;
        cmsgpack::open(st)?;
        bit::open(st)?;

        let anchor = Values(st).table(0, 8);
        let reg = Val::Table(st.registry);
        api::set_field(st, reg, "cinnabar", anchor);
        let ro_map = Values(st).table(0, 0);
        api::set_field(st, anchor, "ro", ro_map);
        let funcs = Values(st).table(0, 0);
        api::set_field(st, anchor, "funcs", funcs);
        let pending = Values(st).table(0, 0);
        api::set_field(st, anchor, "pending", pending);

        let redis = Values(st).table(0, 32);
        Self::redis_common(st, redis);
        let f = api::closure(st, api::redis_call, "call", vec![]);
        api::set_field(st, redis, "call", f);
        let f = api::closure(st, api::redis_pcall, "pcall", vec![]);
        api::set_field(st, redis, "pcall", f);
        for (name, func) in [
            ("setresp", api::setresp as rilua::RustFn),
            ("sha1hex", api::sha1hex),
            ("error_reply", api::error_reply),
            ("status_reply", api::status_reply),
            ("set_repl", api::set_repl),
            ("acl_check_cmd", api::acl_check_cmd),
        ] {
            let f = api::closure(st, func, name, vec![]);
            api::set_field(st, redis, name, f);
        }
        for (name, v) in [("REPL_NONE", 0.0), ("REPL_AOF", 1.0), ("REPL_SLAVE", 2.0), ("REPL_REPLICA", 2.0), ("REPL_ALL", 3.0)] {
            api::set_field(st, redis, name, Val::Num(v));
        }
        if eval {
            for (name, func) in [("breakpoint", ldb::breakpoint as rilua::RustFn), ("debug", ldb::debug_log), ("replicate_commands", api::replicate_commands)] {
                let f = api::closure(st, func, name, vec![]);
                api::set_field(st, redis, name, f);
            }
        }
        api::set_field(st, g, "redis", redis);

        let next = api::closure(st, api::next, "next", vec![ro_map]);
        api::set_field(st, g, "next", next);
        let f = api::closure(st, api::pairs, "pairs", vec![ro_map, next]);
        api::set_field(st, g, "pairs", f);
        for (name, func) in [
            ("ipairs", api::ipairs as rilua::RustFn),
            ("rawget", api::rawget),
            ("rawset", api::rawset),
            ("setmetatable", api::setmetatable),
            ("pcall", api::pcall),
            ("xpcall", api::xpcall),
            ("collectgarbage", api::collectgarbage),
            ("loadstring", guard::loadstring),
            ("load", guard::load),
            ("unpack", guard::unpack),
        ] {
            let f = api::closure(st, func, name, vec![ro_map]);
            api::set_field(st, g, name, f);
        }
        let co = api::raw_get(st, g, "coroutine");
        for (name, func) in [("create", api::co_create as rilua::RustFn), ("wrap", api::co_wrap), ("resume", guard::co_resume)] {
            let f = api::closure(st, func, name, vec![]);
            api::set_field(st, co, name, f);
        }
        // What could exhaust the stack or the heap in one call is sized first (guard/).
        for (lib, funcs) in [
            ("string", &[("rep", guard::str_rep as rilua::RustFn), ("byte", guard::str_byte), ("format", guard::str_format), ("gsub", guard::str_gsub)][..]),
            ("table", &[("concat", guard::tab_concat as rilua::RustFn), ("insert", guard::tab_insert), ("remove", guard::tab_remove)][..]),
        ] {
            let t = api::raw_get(st, g, lib);
            for (name, func) in funcs {
                let f = api::closure(st, *func, name, vec![]);
                api::set_field(st, t, name, f);
            }
        }
        let math = api::raw_get(st, g, "math");
        let f = api::closure(st, api::math_random, "random", vec![]);
        api::set_field(st, math, "random", f);
        let f = api::closure(st, api::math_randomseed, "randomseed", vec![]);
        api::set_field(st, math, "randomseed", f);
        Self::error_metatable(st, g);
        // Tests reach a panic inside the VM through this (never built otherwise).
        #[cfg(test)]
        {
            let f = api::closure(st, api::test_panic, "__panic__", vec![]);
            api::set_field(st, g, "__panic__", f);
        }

        if !eval {
            // What a library's top level sees while FUNCTION LOAD runs it.
            let lib = Values(st).table(0, 1);
            let lredis = Values(st).table(0, 8);
            let f = api::closure(st, api::register_function, "register_function", vec![pending]);
            api::set_field(st, lredis, "register_function", f);
            Self::redis_common(st, lredis);
            Self::error_metatable(st, lredis);
            api::set_field(st, lib, "redis", lredis);
            Self::error_metatable(st, lib);
            #[cfg(test)]
            {
                let f = api::closure(st, api::test_panic, "__panic__", vec![]);
                api::set_field(st, lib, "__panic__", f);
            }
            api::set_field(st, g, "__library_api__", lib);
        }

        let readonly = api::closure(st, api::readonly, "readonly", vec![]);
        let sandbox = lua.load_bytes(include_bytes!("sandbox.lua"), "=sandbox")?;
        let out = lua.call_function(&sandbox, &[ro_map, readonly, Val::Bool(eval)])?;
        let (env, handler, lib_api) =
            (out.first().copied().unwrap_or(Val::Nil), out.get(1).copied().unwrap_or(Val::Nil), out.get(2).copied().unwrap_or(Val::Nil));
        let st = lua.state_mut();
        let Some(env_ref) = table_ref(env) else { return Err(rilua::runtime_error("sandbox setup failed")) };
        let env_meta = st.gc.tables.get(env_ref).and_then(|t| t.metatable()).map_or(Val::Nil, Val::Table);
        st.global = env_ref;
        api::set_field(st, anchor, "env", env);
        api::set_field(st, anchor, "handler", handler);
        api::set_field(st, anchor, "lib", lib_api);
        let hook = api::closure(st, api::count_hook, "hook", vec![]);
        api::set_field(st, anchor, "hook", hook);
        let runner = lua.load_bytes(b"local xpcall = xpcall\nreturn function(f, h, k, a) return xpcall(function() return f(k, a) end, h) end", "=runner")?;
        let runner = lua.call_function(&runner, &[])?.first().copied().unwrap_or(Val::Nil);
        let st = lua.state_mut();
        api::set_field(st, anchor, "runner", runner);
        st.full_gc()?;
        guard::set_heap_limit(st, guard::heap_limit());
        st.call_depth = guard::DEPTH_BASE;
        Ok(LuaVm { lua, eval, anchor, funcs, pending, globals: g, env_meta, lib_api, handler, runner, hook, cjson_config, next_id: 1, poisoned: false })
    }

    /// What both the full `redis` table and FUNCTION LOAD's reduced one carry.
    fn redis_common(st: &mut LuaState, redis: Val) {
        let f = api::closure(st, api::log, "log", vec![]);
        api::set_field(st, redis, "log", f);
        for (name, v) in [("LOG_DEBUG", 0.0), ("LOG_VERBOSE", 1.0), ("LOG_NOTICE", 2.0), ("LOG_WARNING", 3.0)] {
            api::set_field(st, redis, name, Val::Num(v));
        }
        api::set_field(st, redis, "REDIS_VERSION_NUM", Val::Num(version_num() as f64));
        let v = api::string(st, crate::REDIS_VERSION.as_bytes());
        api::set_field(st, redis, "REDIS_VERSION", v);
    }

    /// luaSetErrorMetatable: reading a missing field is an error.
    fn error_metatable(st: &mut LuaState, t: Val) {
        let mt = Values(st).table(0, 1);
        let f = api::closure(st, api::missing_global, "__index", vec![]);
        api::set_field(st, mt, "__index", f);
        if let (Some(t), Some(mt)) = (table_ref(t), table_ref(mt)) {
            if let Some(t) = st.gc.tables.get_mut(t) {
                t.set_metatable(Some(mt));
            }
        }
    }

    fn state(&mut self) -> &mut LuaState {
        self.lua.state_mut()
    }

    /// Bytes the Lua heap holds (INFO used_memory_lua, FUNCTION STATS).
    pub fn used_memory(&self) -> usize {
        use rilua::LuaApi;
        self.lua.state().gc.gc_state.total_bytes
    }

    fn script_key(sha: &str) -> String {
        format!("f_{}", sha)
    }

    /// Whether `sha` is compiled in this VM.
    pub fn has_script(&mut self, sha: &str) -> bool {
        let funcs = self.funcs;
        let st = self.state();
        !api::raw_get(st, funcs, &Self::script_key(sha)).is_nil()
    }

    /// Compiles an EVAL body as `f_<sha>` (luaCreateFunction). The error is Lua's message.
    pub fn compile_script(&mut self, sha: &str, body: &[u8]) -> Result<(), String> {
        let funcs = self.funcs;
        let st = self.state();
        let f = guard::compile(st, body, "@user_script").map_err(|e| e.to_string())?;
        api::set_field(st, funcs, &Self::script_key(sha), f);
        Ok(())
    }

    /// Whether a panic left this VM untrustworthy: its owner drops it and builds another.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Runs a compiled EVAL script with KEYS and ARGV (luaCallFunction in eval mode).
    pub fn call_script(&mut self, sha: &str, keys: &[Bytes], args: &[Bytes], inv: &mut Invocation, hook: bool) -> Outcome {
        let funcs = self.funcs;
        let globals = self.globals;
        let st = self.state();
        let f = api::raw_get(st, funcs, &Self::script_key(sha));
        let k = Self::array(st, keys);
        api::set_field(st, globals, "KEYS", k);
        let a = Self::array(st, args);
        api::set_field(st, globals, "ARGV", a);
        self.run(f, None, inv, hook, sha)
    }

    /// Runs a registered function with its keys and args tables (luaEngineCall).
    pub fn call_function(&mut self, id: u64, name: &str, keys: &[Bytes], args: &[Bytes], inv: &mut Invocation, hook: bool) -> Outcome {
        let funcs = self.funcs;
        let st = self.state();
        let f = match st.gc.tables.get(table_ref(funcs).expect("funcs is a table")) {
            Some(t) => t.get(Val::Num(id as f64), &st.gc.string_arena),
            None => Val::Nil,
        };
        let k = Self::array(st, keys);
        let a = Self::array(st, args);
        self.run(f, Some((k, a)), inv, hook, name)
    }

    fn array(st: &mut LuaState, items: &[Bytes]) -> Val {
        let t = Values(st).table(items.len(), 0);
        for (i, b) in items.iter().enumerate() {
            let s = api::string(st, b);
            Values(st).set_index(t, i + 1, s);
        }
        t
    }

    /// One run, with any panic from inside the VM contained: the script fails as a script
    /// error would (what it wrote stays written) and the VM is marked poisoned.
    fn run(&mut self, f: Val, fargs: Option<(Val, Val)>, inv: &mut Invocation, hook: bool, funcname: &str) -> Outcome {
        if self.poisoned {
            return Outcome::Err(format!("ERR Error running script {}, {} ", funcname, ENGINE_FAILED), false);
        }
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_inner(f, fargs, inv, hook, funcname))) {
            Ok(outcome) => outcome,
            Err(payload) => {
                guard::record_panic(&*payload);
                self.poisoned = true;
                Outcome::Err(format!("ERR Error running script {}, {} ", funcname, ENGINE_FAILED), false)
            }
        }
    }

    fn run_inner(&mut self, f: Val, fargs: Option<(Val, Val)>, inv: &mut Invocation, hook: bool, funcname: &str) -> Outcome {
        let (handler, runner, hook_fn, globals, cjson_config) = (self.handler, self.runner, self.hook, self.globals, self.cjson_config);
        let st = self.lua.state_mut();
        st.error_object = None;
        st.call_depth = guard::DEPTH_BASE;
        cjson::reset_config(st, cjson_config);
        if hook {
            st.hook.hook_func = hook_fn;
            // A debugged script stops at lines (and, stepping or not, at the count hook's
            // timeout), as luaLdbLineHook is installed for LINE|COUNT.
            st.hook.hook_mask = if inv.ldb.is_some() { MASK_COUNT | MASK_LINE } else { MASK_COUNT };
            st.hook.base_hook_count = HOOK_EVERY;
            st.hook.hook_count = HOOK_EVERY;
        }
        let (top, base, ci) = (st.top, st.base, st.ci);
        let xpcall = api::raw_get(st, globals, "xpcall");
        let lua = &mut self.lua;
        let result = bridge::enter(inv, || {
            let (func, args) = match fargs {
                // EVAL: the chunk itself, called with no arguments, under the handler.
                None => (xpcall, vec![f, handler]),
                Some((k, a)) => (runner, vec![f, handler, k, a]),
            };
            let Val::Function(r) = func else { return Err(rilua::runtime_error("scripting VM not initialised")) };
            lua.call_function(&Function::from_gc_ref(r), &args)
        });
        let st = self.lua.state_mut();
        st.hook.hook_mask = 0;
        st.hook.hook_func = Val::Nil;
        let outcome = match result {
            Ok(vals) => {
                if vals.first() == Some(&Val::Bool(true)) {
                    let v = vals.get(1).copied().unwrap_or(Val::Nil);
                    match convert::uncounted_error(&mut Values(st), v) {
                        Some(msg) => Outcome::Err(msg, true),
                        None => Outcome::Ok(convert::value_to_reply(&mut Values(st), v, inv.resp == 3)),
                    }
                } else {
                    let e = vals.get(1).copied().unwrap_or(Val::Nil);
                    Self::failure(st, e, inv.killed, funcname)
                }
            }
            Err(e) => {
                // The run itself failed outside any handler (rilua's own limits): put the
                // stack back as it was so the VM stays usable.
                st.top = top;
                st.base = base;
                st.ci = ci;
                st.close_upvalues(top);
                st.ci_overflow = false;
                if inv.killed {
                    Outcome::Err(format!("{} script: {}, on @user_script:0.", api::KILLED, funcname), false)
                } else {
                    Outcome::Err(format!("ERR Error running script {}, {:.100} ", funcname, e.to_string().replace(['\r', '\n'], " ")), false)
                }
            }
        };
        st.error_object = None;
        st.call_depth = guard::DEPTH_BASE;
        // Pace the collector by what this run allocated (host allocations included).
        st_gc(st);
        outcome
    }

    /// The error reply of a failed run (luaCallFunction's error branch).
    fn failure(st: &mut LuaState, e: Val, killed: bool, funcname: &str) -> Outcome {
        if !matches!(e, Val::Table(_)) {
            let msg = api::to_bytes(st, e).map_or("execution failure".to_string(), |b| String::from_utf8_lossy(&b).into_owned());
            let msg: String = msg.chars().take(100).collect();
            return Outcome::Err(format!("ERR Error running script {}, {} ", funcname, msg).replace(['\r', '\n'], " "), false);
        }
        let mut info = convert::extract_error(&mut Values(st), e);
        if killed && !info.msg.starts_with(api::KILLED) {
            info.msg = api::KILLED.to_string();
        }
        let mut msg = info.msg.replace(['\r', '\n'], " ");
        if let (Some(source), Some(line)) = (&info.source, &info.line) {
            msg.push_str(&format!(" script: {}, on {}:{}.", funcname, source, line));
        }
        Outcome::Err(msg, info.ignore_stats)
    }

    /// Runs a library's code so it registers its functions (luaEngineCreate). The
    /// registered callbacks are kept under fresh ids; on failure nothing is kept.
    pub fn load_library(&mut self, code: &[u8], inv: &mut Invocation) -> Result<Vec<LoadedFunction>, String> {
        if self.poisoned {
            return Err(format!("Error registering functions: {}", ENGINE_FAILED));
        }
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.load_library_inner(code, inv))) {
            Ok(outcome) => outcome,
            Err(payload) => {
                guard::record_panic(&*payload);
                api::LOADING.with(|l| *l.borrow_mut() = None);
                self.poisoned = true;
                Err(format!("Error registering functions: {}", ENGINE_FAILED))
            }
        }
    }

    fn load_library_inner(&mut self, code: &[u8], inv: &mut Invocation) -> Result<Vec<LoadedFunction>, String> {
        let st = self.lua.state_mut();
        st.call_depth = guard::DEPTH_BASE;
        let cjson_config = self.cjson_config;
        cjson::reset_config(st, cjson_config);
        let f = guard::compile(st, code, "@user_function").map_err(|e| format!("Error compiling function: {}", e))?;
        let (env_meta, lib_api, globals, pending, handler, runner) = (self.env_meta, self.lib_api, self.globals, self.pending, self.handler, self.runner);
        let st = self.state();
        api::set_field(st, env_meta, "__index", lib_api);
        api::LOADING.with(|l| *l.borrow_mut() = Some(Vec::new()));
        let hook_fn = self.hook;
        let st = self.lua.state_mut();
        st.error_object = None;
        st.hook.hook_func = hook_fn;
        st.hook.hook_mask = MASK_COUNT;
        st.hook.base_hook_count = HOOK_EVERY;
        st.hook.hook_count = HOOK_EVERY;
        let (top, base, ci) = (st.top, st.base, st.ci);
        let lua = &mut self.lua;
        let result = bridge::enter(inv, || {
            let Val::Function(r) = runner else { return Err(rilua::runtime_error("no runner")) };
            lua.call_function(&Function::from_gc_ref(r), &[f, handler, Val::Nil, Val::Nil])
        });
        let registered = api::LOADING.with(|l| l.borrow_mut().take()).unwrap_or_default();
        let st = self.lua.state_mut();
        st.hook.hook_mask = 0;
        st.hook.hook_func = Val::Nil;
        api::set_field(st, env_meta, "__index", globals);
        let outcome = match result {
            Ok(vals) if vals.first() == Some(&Val::Bool(true)) => Ok(()),
            Ok(vals) => {
                let e = vals.get(1).copied().unwrap_or(Val::Nil);
                let info = convert::extract_error(&mut Values(st), e);
                Err(format!("Error registering functions: {}", if inv.killed { "FUNCTION LOAD timeout".to_string() } else { info.msg }))
            }
            Err(e) => {
                st.top = top;
                st.base = base;
                st.ci = ci;
                st.close_upvalues(top);
                st.ci_overflow = false;
                // The hook's stop can surface here rather than through the runner's xpcall.
                let why = if inv.killed { "FUNCTION LOAD timeout".to_string() } else { e.to_string() };
                Err(format!("Error registering functions: {}", why))
            }
        };
        let mut out = Vec::new();
        if outcome.is_ok() {
            let funcs = self.funcs;
            for r in registered {
                let cb = Values(st).index(pending, r.pending_index);
                let id = self.next_id;
                self.next_id += 1;
                api::raw_set(st, funcs, Val::Num(id as f64), cb);
                out.push(LoadedFunction { name: r.name, desc: r.desc, flags: r.flags, id });
            }
        }
        let st = self.lua.state_mut();
        let fresh = Values(st).table(0, 0);
        let anchor = self.anchor;
        api::set_field(st, anchor, "pending", fresh);
        self.pending = fresh;
        // register_function's upvalue points at the old pending table: refresh it.
        self.refresh_pending();
        let st = self.lua.state_mut();
        st.call_depth = guard::DEPTH_BASE;
        st_gc(st);
        outcome.map(|()| out)
    }

    /// Points redis.register_function at the current pending table.
    fn refresh_pending(&mut self) {
        let (lib_api, pending) = (self.lib_api, self.pending);
        let st = self.lua.state_mut();
        // lib_api is a proxy: read through to the real library API table and its redis.
        let real_lib = Self::unproxy(st, lib_api);
        let lredis = api::raw_get(st, real_lib, "redis");
        let lredis = Self::unproxy(st, lredis);
        let f = api::raw_get(st, lredis, "register_function");
        if let Val::Function(r) = f {
            if let Some(rilua::vm::closure::Closure::Rust(c)) = st.gc.closures.get_mut(r) {
                c.upvalues = vec![pending];
            }
        }
    }

    fn unproxy(st: &mut LuaState, v: Val) -> Val {
        let Some(r) = table_ref(v) else { return v };
        match st.gc.tables.get(r).and_then(|t| t.metatable()) {
            Some(mt) => {
                let idx = api::raw_get(st, Val::Table(mt), "__index");
                if matches!(idx, Val::Table(_)) {
                    idx
                } else {
                    v
                }
            }
            None => v,
        }
    }

    /// Forgets registered functions (FUNCTION DELETE, a replaced library).
    pub fn drop_functions(&mut self, ids: &[u64]) {
        let funcs = self.funcs;
        let st = self.state();
        for id in ids {
            api::raw_set(st, funcs, Val::Num(*id as f64), Val::Nil);
        }
    }

    pub fn is_eval(&self) -> bool {
        self.eval
    }
}

/// Builds a library table of native functions and string fields and makes it the global
/// `name` (luaL_register), as the libraries Redis's Lua carries are opened.
pub(crate) fn open_library(st: &mut LuaState, name: &str, funcs: &[(&str, rilua::RustFn)], fields: &[(&str, &str)]) -> rilua::LuaResult<()> {
    let lib = Values(st).table(0, funcs.len() + fields.len());
    for (n, f) in funcs {
        let f = api::closure(st, *f, n, vec![]);
        api::set_field(st, lib, n, f);
    }
    for (n, v) in fields {
        let v = api::string(st, v.as_bytes());
        api::set_field(st, lib, n, v);
    }
    let g = Val::Table(st.global);
    api::set_field(st, g, name, lib);
    Ok(())
}

fn st_gc(st: &mut LuaState) {
    let _ = st.gc_check();
    pace_collector(st);
}

/// Keeps the collector's next cycle within twice the live heap. rilua counts a new string
/// or a grown table at its real size but takes back only a fixed size when it frees one,
/// and sets the next threshold from that running estimate: garbage's unreturned bytes
/// raise each threshold, the cycles grow further apart, and a server running scripts
/// would hold ever more dead Lua objects. After any cycle the arenas say what is live.
pub(crate) fn pace_collector(st: &mut LuaState) {
    /// The smallest heap a cycle waits for, so tiny heaps do not collect on every run.
    const FLOOR: usize = 256 * 1024;
    let live = st.gc.estimate_memory();
    let gs = &mut st.gc.gc_state;
    let target = (live / 100).saturating_mul(gs.gc_pause as usize).max(FLOOR);
    if gs.gc_threshold != usize::MAX && gs.gc_threshold > target {
        gs.estimate = gs.estimate.min(live);
        gs.gc_threshold = target;
    }
    // A cycle comes before the heap limit's "not enough memory", so garbage never counts
    // against the limit.
    if gs.gc_threshold > gs.alloc_limit {
        gs.gc_threshold = gs.alloc_limit;
    }
}

/// REDIS_VERSION_NUM: 0x00MMmmpp.
fn version_num() -> u32 {
    let mut parts = crate::REDIS_VERSION.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a << 16) | (b << 8) | c
}

/// The libraries' shared test harness: a snippet run in a fresh Lua with one library open,
/// its results serialised the way the expectations were taken from redis-server.
#[cfg(test)]
pub(crate) mod libtest {
    use rilua::vm::state::LuaState;
    use rilua::{Lua, LuaApiMut, LuaResult, StdLib};

    /// Serialises results identically in both engines; every expectation in
    /// `CASES` is what redis-server 7.0.15 answered to `EVAL PRELUDE..case 0`.
    /// Kept line for line as sent so that positions in messages agree.
    const PRELUDE: &str = r#"local function hex(s) return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end)) end
local function ser(v)
  local t = type(v)
  if t == 'string' then
    if string.find(v, '^[ -~]*$') then return '"' .. v .. '"' end
    return 'x' .. hex(v)
  elseif t == 'number' then
    if v ~= v then return 'nan' elseif v == 1/0 then return 'inf' elseif v == -1/0 then return '-inf' end
    return string.format('%.17g', v)
  elseif t == 'table' then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = ser(k) .. '=' .. ser(x) end
    table.sort(parts)
    return '{' .. table.concat(parts, ',') .. '}'
  end
  return tostring(v)
end
local function R(...)
  local out = {}
  for i = 1, select('#', ...) do out[i] = ser((select(i, ...))) end
  return table.concat(out, ' ')
end
"#;

    pub fn run(open: fn(&mut LuaState) -> LuaResult<()>, case: &str) -> String {
        let mut lua = Lua::new_with(StdLib::BASE | StdLib::STRING | StdLib::TABLE | StdLib::MATH).expect("lua state");
        open(lua.state_mut()).expect("open library");
        let starts = ["return", "local", "do "];
        let body = if starts.iter().any(|s| case.trim_start().starts_with(s)) { case.to_string() } else { format!("return R({case})") };
        let src = format!("{PRELUDE}{body}\n");
        let f = lua.load_bytes(src.as_bytes(), "@user_script").expect("compile");
        match lua.call_function(&f, &[]) {
            Ok(vals) => vals.first().and_then(|v| lua.val_as_bytes(*v)).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default(),
            Err(e) => format!("ERR {e}"),
        }
    }
}
