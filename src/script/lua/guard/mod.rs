//! The sandbox's limits: what keeps a script from taking the process down. Redis's Lua is
//! C Lua, whose limits are its C stack counter (LUAI_MAXCCALLS, 200), its 8000-slot C
//! function stacks (LUAI_MAXCSTACK) and malloc failing softly; rilua has the first two only
//! in part and aborts the process when an allocation fails. So:
//!
//! - Native recursion. rilua counts nested native calls (`call_depth`: metamethods, pcall,
//!   iterators, sort comparators, ...) against its own LUAI_MAXCCALLS, but each level
//!   costs far more native stack than C Lua's (about 4 KiB in release builds, 30 KiB in
//!   debug ones), coroutines start counting from zero, and the parser's tree is as deep
//!   as the longest `a.b.c...` or `1+1+...` chain. Scripts get `C_CALLS` levels (200 as
//!   in Redis; 40 in debug builds, whose frames are seven times larger) by starting
//!   `call_depth` above zero; a resumed coroutine continues its resumer's count (C Lua's
//!   `lua_setlevel`), and refuses with "C stack overflow" past the limit; chunks are
//!   measured before they are compiled (`scan.rs`), with a budget that shrinks with the
//!   levels already in use (C Lua's parser counts on the same counter).
//! - Memory. The heap has a limit (`heap_limit`), checked by rilua after an allocation as
//!   C Lua's allocator fails, giving "not enough memory"; and what allocates a result in
//!   one go (string.rep, string.format, table.concat, string.gsub, unpack, string.byte,
//!   load's reader) is sized first and refused before it allocates: "too many results to
//!   unpack", "string slice too long" as C Lua 5.1 answers, "not enough memory" where C
//!   Lua's allocation would have failed.
//! - Binary chunks. Every loader compiles source only (`compile`): Redis's Lua parses a
//!   binary chunk as text and fails on its first byte.
//! - Panics. Whatever still panics inside the VM is caught by the caller of `LuaVm::run`
//!   (see `mod.rs`); compiling catches its own, since it touches no VM state.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use rilua::compiler::compile as compile_source;
use rilua::error::SyntaxError;
use rilua::vm::closure::{Closure, LuaClosure, Upvalue};
use rilua::vm::gc::arena::GcRef;
use rilua::vm::proto::{Proto, ProtoRef};
use rilua::vm::state::{LuaState, ThreadStatus, MAXCALLS, MAXCCALLS};
use rilua::vm::table::Table;
use rilua::{runtime_error, LuaError, LuaResult, RustFn, Val};

use super::api::{self, arg, nargs, upvalue};

/// Nested native calls a script may make: LUAI_MAXCCALLS in release builds, as in Redis.
/// Debug builds spend about 30 KiB of native stack per level, and must stay within the
/// 2 MiB of a test thread.
pub const C_CALLS: u16 = if cfg!(debug_assertions) { 40 } else { 200 };

/// Where `call_depth` stands while no native call is open, so that rilua's own check (at
/// its MAXCCALLS) stops a script after `C_CALLS` levels.
pub const DEPTH_BASE: u16 = MAXCCALLS - C_CALLS;

/// The nesting measure (`scan.rs`) a chunk may reach when compiled with no native call
/// open. Release builds need about 2.5 KiB of stack per level of brackets and 0.5 KiB per
/// link of a chain; debug builds 15 and 9 KiB.
pub const SYNTAX_LEVELS: usize = if cfg!(debug_assertions) { 60 } else { 500 };

/// LUAI_MAXCSTACK: the values a native function may push.
pub const MAX_C_STACK: usize = 8000;

/// The Lua heap's default limit (each VM's: EVAL's and FUNCTION's).
pub const HEAP_LIMIT: usize = if cfg!(target_arch = "wasm32") { 256 << 20 } else { 512 << 20 };

#[cfg(test)]
thread_local! {
    /// Tests lower the limit of the VMs their thread builds.
    pub static TEST_HEAP_LIMIT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The heap limit a new VM gets.
pub fn heap_limit() -> usize {
    #[cfg(test)]
    if let Some(l) = TEST_HEAP_LIMIT.with(|c| c.get()) {
        return l;
    }
    HEAP_LIMIT
}

/// Sets a VM's heap limit (rilua's `alloc_limit`, checked as its allocations happen).
pub fn set_heap_limit(st: &mut LuaState, limit: usize) {
    st.gc.set_alloc_limit(limit);
}

// ---------------------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------------------

thread_local! {
    /// Panics caught since the caller last asked (`take_panics`), for its log.
    static PANICS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// A caught panic's message, and a note of it for the log.
pub fn record_panic(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    PANICS.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < 16 {
            p.push(msg.clone());
        }
    });
    msg
}

/// The panics caught since the last call.
pub fn take_panics() -> Vec<String> {
    PANICS.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

// ---------------------------------------------------------------------------------------
// C conversions
// ---------------------------------------------------------------------------------------

/// lua_tointeger on x86-64: a C cast to `long`, where NaN and out-of-range values give
/// LONG_MIN.
pub fn c_integer(d: f64) -> i64 {
    // [-2^63, 2^63): `i64::MAX as f64` is 2^63.
    if d.is_nan() || !(i64::MIN as f64..i64::MAX as f64).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// luaL_checkint: lua_tointeger truncated to a C `int` (2^32 + 5 is 5, 1e300 is 0).
pub fn c_int(d: f64) -> i32 {
    c_integer(d) as i32
}

pub(super) fn check_int(st: &LuaState, n: usize) -> LuaResult<i32> {
    Ok(c_int(st.check_number(n)?))
}

/// luaL_optint: the default when the argument is absent or nil.
pub(super) fn opt_int(st: &LuaState, n: usize, def: i32) -> LuaResult<i32> {
    if arg(st, n - 1).is_nil() {
        Ok(def)
    } else {
        check_int(st, n)
    }
}

pub(super) fn opt_integer(st: &LuaState, n: usize, def: i64) -> LuaResult<i64> {
    if arg(st, n - 1).is_nil() {
        Ok(def)
    } else {
        Ok(c_integer(st.check_number(n)?))
    }
}

/// luaL_checkstack for a native function that pushes `n` values.
pub(super) fn stack_room(st: &LuaState, n: u64) -> bool {
    nargs(st) as u64 + n <= MAX_C_STACK as u64
}

/// luaL_where: "chunk:line: " of the Lua function `level` calls up, if it is one.
pub fn where_(st: &LuaState, level: usize) -> String {
    if st.ci < level {
        return String::new();
    }
    let ci = &st.call_stack[st.ci - level];
    if let Val::Function(r) = st.stack_get(ci.func) {
        if let Some(Closure::Lua(l)) = st.gc.closures.get(r) {
            let proto = &l.proto;
            let pc = ci.saved_pc;
            let line = if pc > 0 && pc <= proto.line_info.len() {
                proto.line_info[pc - 1]
            } else if let Some(first) = proto.line_info.first() {
                *first
            } else {
                return String::new();
            };
            return format!("{}:{}: ", rilua::error::chunkid(&proto.source), line);
        }
    }
    String::new()
}

/// The bytes of a string argument (numbers as Lua writes them), or luaL_checklstring's
/// error.
pub(super) fn check_bytes(st: &LuaState, n: usize) -> LuaResult<Vec<u8>> {
    st.check_string(n)
}

/// The length of a string argument without copying it (numbers as written).
pub(super) fn string_len(st: &LuaState, v: Val) -> Option<usize> {
    match v {
        Val::Str(r) => st.gc.string_arena.get(r).map(|s| s.data().len()),
        Val::Num(_) => Some(format!("{v}").len()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

/// Bytes the heap may still grow by.
pub fn heap_room(st: &LuaState) -> u64 {
    st.gc.gc_state.alloc_limit.saturating_sub(st.gc.gc_state.total_bytes) as u64
}

/// Refuses, as a failed allocation would, a result of `bytes` that would take the heap
/// past its limit, after a full collection has freed what it can.
pub fn reserve(st: &mut LuaState, bytes: u64) -> LuaResult<()> {
    if bytes <= heap_room(st) {
        return Ok(());
    }
    st.full_gc()?;
    if bytes <= heap_room(st) {
        Ok(())
    } else {
        Err(LuaError::Memory)
    }
}

/// t[i] = v, raw, with the table's growth counted against the heap (lua_rawseti).
pub(super) fn set_int(st: &mut LuaState, t: GcRef<Table>, i: i64, v: Val) -> LuaResult<()> {
    let strings = &st.gc.string_arena;
    let Some(tab) = st.gc.tables.get_mut(t) else { return Ok(()) };
    let before = tab.estimated_memory();
    tab.raw_set(Val::Num(i as f64), v, strings)?;
    let after = tab.estimated_memory();
    st.gc.gc_state.total_bytes += after.saturating_sub(before);
    st.gc.barrier_back(t);
    st.gc.check_alloc_limit()
}

pub(super) fn get_int(st: &LuaState, t: GcRef<Table>, i: i64) -> Val {
    st.gc.tables.get(t).map_or(Val::Nil, |t| t.get_int(i))
}

pub(super) fn check_table(st: &LuaState, n: usize) -> LuaResult<GcRef<Table>> {
    match arg(st, n - 1) {
        Val::Table(t) => Ok(t),
        _ => Err(st.type_error(n, "table")),
    }
}

pub(super) fn table_len(st: &LuaState, t: GcRef<Table>) -> i64 {
    st.gc.tables.get(t).map_or(0, |t| t.len(&st.gc.string_arena)) as i64
}

pub(super) fn push_string(st: &mut LuaState, bytes: &[u8]) {
    let r = st.gc.intern_string(bytes);
    st.push(Val::Str(r));
}

// ---------------------------------------------------------------------------------------
// Base library
// ---------------------------------------------------------------------------------------

/// unpack(t [, i [, j]]) (luaB_unpack): at most what a C function may push.
pub fn unpack(st: &mut LuaState) -> LuaResult<u32> {
    let t = check_table(st, 1)?;
    let i = opt_int(st, 2, 1)?;
    let e = if arg(st, 2).is_nil() { table_len(st, t) as i32 } else { check_int(st, 3)? };
    if i > e {
        return Ok(0);
    }
    let n = i64::from(e) - i64::from(i) + 1;
    if n >= i64::from(i32::MAX) || !stack_room(st, n as u64) {
        return Err(runtime_error("too many results to unpack"));
    }
    st.ensure_stack(st.top + n as usize + 1);
    for k in i64::from(i)..=i64::from(e) {
        let v = get_int(st, t, k);
        st.push(v);
    }
    Ok(n as u32)
}

/// loadstring(s [, chunkname]): source only.
pub fn loadstring(st: &mut LuaState) -> LuaResult<u32> {
    let src = check_bytes(st, 1)?;
    let name = match arg(st, 1) {
        Val::Nil => src.clone(),
        _ => check_bytes(st, 2)?,
    };
    load_result(st, &src, &name)
}

/// load(reader [, chunkname]): the reader's pieces, gathered, then compiled as source.
pub fn load(st: &mut LuaState) -> LuaResult<u32> {
    let reader = arg(st, 0);
    if !matches!(reader, Val::Function(_)) {
        return Err(st.type_error(1, "function"));
    }
    let name = match arg(st, 1) {
        Val::Nil => b"=(load)".to_vec(),
        _ => check_bytes(st, 2)?,
    };
    let mut src = Vec::new();
    loop {
        let piece = match call_reader(st, reader) {
            Ok(p) => p,
            Err(e) => {
                st.push(Val::Nil);
                st.push(e);
                return Ok(2);
            }
        };
        let Some(piece) = piece else { break };
        if reserve(st, (src.len() + piece.len()) as u64).is_err() {
            st.push(Val::Nil);
            push_string(st, b"not enough memory");
            return Ok(2);
        }
        src.extend_from_slice(&piece);
    }
    load_result(st, &src, &name)
}

/// Calls load's reader once: `None` at the end (nil or an empty string), the error value
/// if it failed or returned something else than a string.
pub(super) fn call_reader(st: &mut LuaState, reader: Val) -> Result<Option<Vec<u8>>, Val> {
    let (ci, n_ccalls, call_depth, top) = (st.ci, st.n_ccalls, st.call_depth, st.top);
    st.error_object = None;
    st.ensure_stack(top + 2);
    st.stack_set(top, reader);
    st.top = top + 1;
    let result = st.call_function(top, 1);
    let out = match result {
        Ok(()) => match st.stack_get(top) {
            Val::Nil => Ok(None),
            v @ (Val::Str(_) | Val::Num(_)) => {
                let b = match v {
                    Val::Str(r) => st.gc.string_arena.get(r).map(|s| s.data().to_vec()).unwrap_or_default(),
                    _ => format!("{v}").into_bytes(),
                };
                Ok((!b.is_empty()).then_some(b))
            }
            _ => {
                let msg = format!("{}reader function must return a string", where_(st, 1));
                Err(Val::Str(st.gc.intern_string(msg.as_bytes())))
            }
        },
        Err(e) => {
            // As pcall does: back to this frame.
            st.ci = ci;
            st.base = st.call_stack[ci].base;
            st.n_ccalls = n_ccalls;
            st.call_depth = call_depth;
            if st.ci < MAXCALLS {
                st.ci_overflow = false;
            }
            st.close_upvalues(top);
            Err(st.error_object.take().unwrap_or_else(|| Val::Str(st.gc.intern_string(e.to_string().as_bytes()))))
        }
    };
    st.top = top;
    out
}

/// What loadstring and load return: the function, or nil and the message.
pub(super) fn load_result(st: &mut LuaState, src: &[u8], name: &[u8]) -> LuaResult<u32> {
    // The chunk name is a C string in C Lua: it ends at the first NUL.
    let name = name.split(|&b| b == 0).next().unwrap_or_default();
    let name = String::from_utf8_lossy(name).into_owned();
    match compile(st, src, &name) {
        Ok(f) => {
            st.push(f);
            Ok(1)
        }
        Err(e) => {
            st.push(Val::Nil);
            let msg = match &e {
                LuaError::Syntax(s) => s.to_lua_bytes(),
                e => e.to_string().into_bytes(),
            };
            push_string(st, &msg);
            Ok(2)
        }
    }
}

/// The syntax budget of a chunk compiled now: C Lua's parser counts its levels on the
/// native call counter, so fewer are left inside nested calls.
pub(super) fn syntax_budget(st: &LuaState) -> usize {
    let used = st.call_depth.saturating_sub(DEPTH_BASE).min(C_CALLS);
    SYNTAX_LEVELS * usize::from(C_CALLS - used) / usize::from(C_CALLS)
}

/// Compiles Lua source (never a binary chunk) into a function with the VM's globals as
/// its environment: what every loader goes through (EVAL, FUNCTION LOAD, loadstring,
/// load). A chunk nested beyond the syntax budget fails as C Lua's parser does.
pub fn compile(st: &mut LuaState, src: &[u8], chunkname: &str) -> LuaResult<Val> {
    // C Lua's luaL_loadbuffer reads a leading '#' line as code (only luaL_loadfile skips
    // it); rilua's lexer skips it unless something comes first.
    let spaced;
    let src = if src.first() == Some(&b'#') {
        spaced = [b" ", src].concat();
        &spaced[..]
    } else {
        src
    };
    if let Some(line) = super::scan::too_deep(src, syntax_budget(st)) {
        return Err(LuaError::Syntax(SyntaxError {
            message: "chunk has too many syntax levels".into(),
            source: chunkname.to_string(),
            line,
            raw_message: None,
        }));
    }
    let proto = match catch_unwind(AssertUnwindSafe(|| compile_source(src, chunkname))) {
        Ok(p) => p?,
        Err(payload) => {
            let msg = record_panic(&*payload);
            return Err(runtime_error(format!("{}: internal error in the Lua compiler ({})", rilua::error::chunkid(chunkname), msg)));
        }
    };
    let mut proto = ProtoRef::try_unwrap(proto).unwrap_or_else(|rc| (*rc).clone());
    intern_constants(st, &mut proto);
    let proto = ProtoRef::new(proto);
    let mut closure = LuaClosure::new(proto.clone(), st.global);
    for _ in 0..proto.num_upvalues {
        closure.upvalues.push(st.gc.alloc_upvalue(Upvalue::new_closed(Val::Nil)));
    }
    Ok(Val::Function(st.gc.alloc_closure(Closure::Lua(closure))))
}

/// The compiler leaves string constants as bytes; they become the VM's strings here (what
/// rilua's own loaders do).
pub(super) fn intern_constants(st: &mut LuaState, proto: &mut Proto) {
    for (idx, bytes) in proto.string_pool.drain(..) {
        let r = st.gc.intern_string(&bytes);
        if let Some(c) = proto.constants.get_mut(idx as usize) {
            *c = Val::Str(r);
        }
    }
    for child in &mut proto.protos {
        intern_constants(st, ProtoRef::make_mut(child));
    }
}

// ---------------------------------------------------------------------------------------
// Coroutines
// ---------------------------------------------------------------------------------------

/// The call depth a coroutine may start at. Release builds follow C Lua (a coroutine may
/// start at the limit, its calls then having rilua's headroom of 25 levels); debug builds
/// stop one short, as that headroom would not fit their stack.
pub(super) const CO_START_MAX: u16 = if cfg!(debug_assertions) { MAXCCALLS - 1 } else { MAXCCALLS };

/// Before a coroutine runs: "C stack overflow" past the limit (lua_resume), and the
/// coroutine's count continues its resumer's (lua_setlevel).
pub(super) fn enter_coroutine(st: &mut LuaState, t: GcRef<rilua::vm::state::LuaThread>) -> Result<(), &'static str> {
    let resumable = st.gc.threads.get(t).is_some_and(|th| matches!(th.status, ThreadStatus::Initial | ThreadStatus::Suspended));
    if !resumable {
        // rilua answers for dead and running coroutines.
        return Ok(());
    }
    if st.call_depth >= CO_START_MAX {
        return Err("C stack overflow");
    }
    let depth = st.call_depth + 1;
    if let Some(th) = st.gc.threads.get_mut(t) {
        th.call_depth = depth;
    }
    Ok(())
}

/// coroutine.resume(co, ...).
pub fn co_resume(st: &mut LuaState) -> LuaResult<u32> {
    if let Val::Thread(t) = arg(st, 0) {
        if let Err(msg) = enter_coroutine(st, t) {
            st.push(Val::Bool(false));
            push_string(st, msg.as_bytes());
            return Ok(2);
        }
    }
    rilua::stdlib::coroutine::co_resume(st)
}

/// rilua's function behind a coroutine.wrap wrapper, which `wrap_guard` calls.
pub(super) static WRAP_AUX: OnceLock<RustFn> = OnceLock::new();

/// Makes a wrapper coroutine.wrap returned (on the stack top) go through `wrap_guard`.
pub fn guard_wrapper(st: &mut LuaState) {
    if let Val::Function(f) = st.stack_get(st.top.wrapping_sub(1)) {
        if let Some(Closure::Rust(c)) = st.gc.closures.get_mut(f) {
            let orig = c.func;
            if orig as usize != wrap_guard as RustFn as usize {
                WRAP_AUX.get_or_init(|| orig);
                c.func = wrap_guard;
            }
        }
    }
}

/// A coroutine.wrap wrapper: the same checks as resume, raised as auxwrap raises them.
pub(super) fn wrap_guard(st: &mut LuaState) -> LuaResult<u32> {
    if let Val::Thread(t) = upvalue(st, 0) {
        if let Err(msg) = enter_coroutine(st, t) {
            return Err(runtime_error(msg));
        }
    }
    match WRAP_AUX.get() {
        Some(f) => f(st),
        None => Err(runtime_error("invalid wrap closure")),
    }
}

mod strlib;
mod tablib;

pub use strlib::{str_byte, str_format, str_gsub, str_rep};
pub use tablib::{tab_concat, tab_insert, tab_remove};
