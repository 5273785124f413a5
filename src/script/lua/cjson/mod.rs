//! The `cjson` library Redis's Lua carries (Redis: deps/lua/src/lua_cjson.c, with
//! strbuf.c and fpconv.c), rewritten for rilua.
//!
//! Scripts depend on its exact output and on the exact text of its errors (they reach
//! scripts through `pcall` and clients through `EVAL` errors), so this follows the C
//! code step by step rather than being a general JSON library: the same token order,
//! the same error positions, `%.14g` number formatting, glibc `strtod` number parsing
//! (hex, `inf`, `nan`), and even the C int conversions that decide when a table with
//! huge integer keys is an array.
//!
//! Two C limits are emulated because they change results: the Lua C stack limit
//! (`lua_checkstack` fails at 8000 slots, so nesting errors appear before the
//! configured maximum depth when it is raised), and the NUL terminator (decoding stops
//! at the first NUL byte, as the C parser reads a C string). Encoding and decoding use
//! explicit stacks instead of recursion so deep nesting cannot overflow the native
//! stack (wasm has only 1 MiB).

use rilua::vm::closure::{Closure, RustClosure};
use rilua::vm::gc::arena::GcRef;
use rilua::vm::state::LuaState;
use rilua::vm::table::Table as RawTable;
use rilua::vm::value::{Userdata, Val};
use rilua::{runtime_error, LuaResult, RustFn, Table};

const MODNAME: &str = "cjson";
const VERSION: &str = "2.1.0";

/// Lua 5.1's `LUAI_MAXCSTACK`: `lua_checkstack` refuses to grow a C function's frame
/// past this many slots, which is what bounds nesting when the depth limits are raised.
const LUAI_MAXCSTACK: i64 = 8000;

/// The settings one module table shares among its functions (the C `json_config_t`,
/// kept in a userdata upvalue so that `cjson.new()` instances stay independent).
#[derive(Clone, Copy, Debug)]
struct Config {
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0 = error, 1 = emit `inf`/`nan`, 2 = emit `null`.
    encode_invalid_numbers: i32,
    number_precision: i32,
    /// Only reported back: Rust needs no persistent encode buffer.
    keep_buffer: i32,
    decode_invalid_numbers: i32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            sparse_convert: 0,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            number_precision: 14,
            keep_buffer: 1,
            decode_invalid_numbers: 1,
        }
    }
}

/// Registers the global `cjson` table, as Redis does when it builds its Lua state.
pub fn open(state: &mut LuaState) -> LuaResult<()> {
    let module = new_module(state)?;
    let key = str_val(state, MODNAME.as_bytes());
    Table::from_gc_ref(state.global).raw_set(state, key, Val::Table(module.gc_ref()))
}

/// Builds one module table with its own configuration (`lua_cjson_new`).
fn new_module(state: &mut LuaState) -> LuaResult<Table> {
    const FUNCS: [(&str, RustFn); 10] = [
        ("encode", json_encode),
        ("decode", json_decode),
        ("encode_sparse_array", cfg_encode_sparse_array),
        ("encode_max_depth", cfg_encode_max_depth),
        ("decode_max_depth", cfg_decode_max_depth),
        ("encode_number_precision", cfg_encode_number_precision),
        ("encode_keep_buffer", cfg_encode_keep_buffer),
        ("encode_invalid_numbers", cfg_encode_invalid_numbers),
        ("decode_invalid_numbers", cfg_decode_invalid_numbers),
        ("new", cjson_new),
    ];
    let module = Table::from_gc_ref(state.gc.alloc_table(RawTable::new()));
    let config = state.gc.alloc_userdata(Userdata::new(Box::new(Config::default())));
    for (name, func) in FUNCS {
        let mut closure = RustClosure::new(func, name);
        closure.upvalues.push(Val::Userdata(config));
        let closure = state.gc.alloc_closure(Closure::Rust(closure));
        let key = str_val(state, name.as_bytes());
        module.raw_set(state, key, Val::Function(closure))?;
    }
    // JSON null: C uses a NULL lightuserdata, and so does this, so that it compares
    // equal to what decode returns and encodes back as `null`.
    let key = str_val(state, b"null");
    module.raw_set(state, key, Val::LightUserdata(0))?;
    let key = str_val(state, b"_NAME");
    let val = str_val(state, MODNAME.as_bytes());
    module.raw_set(state, key, val)?;
    let key = str_val(state, b"_VERSION");
    let val = str_val(state, VERSION.as_bytes());
    module.raw_set(state, key, val)?;
    Ok(module)
}

/// The configuration of the global `cjson` module (the upvalue its functions share),
/// looked up in `globals` before they are locked.
pub fn global_config(state: &mut LuaState) -> Option<Val> {
    let key = str_val(state, MODNAME.as_bytes());
    let module = state.gc.tables.get(state.global)?.get(key, &state.gc.string_arena);
    let Val::Table(m) = module else { return None };
    let key = str_val(state, b"encode");
    let Val::Function(f) = state.gc.tables.get(m)?.get(key, &state.gc.string_arena) else { return None };
    match state.gc.closures.get(f)? {
        Closure::Rust(rc) => rc.upvalues.first().copied(),
        Closure::Lua(_) => None,
    }
}

/// Puts a module's settings back to their defaults. Redis keeps what a script set with
/// `cjson.encode_max_depth` and the like for every later script of every user; each run
/// starts from the defaults here instead, so no script changes how another's encodes.
pub fn reset_config(state: &mut LuaState, config: Val) {
    if let Val::Userdata(ud) = config {
        if let Some(cfg) = state.gc.userdata.get_mut(ud).and_then(|u| u.downcast_mut::<Config>()) {
            *cfg = Config::default();
        }
    }
}

fn cjson_new(state: &mut LuaState) -> LuaResult<u32> {
    let module = new_module(state)?;
    state.push(Val::Table(module.gc_ref()));
    Ok(1)
}

// ===== Helpers over the rilua stack =====

fn str_val(state: &mut LuaState, bytes: &[u8]) -> Val {
    Val::Str(state.gc.intern_string(bytes))
}

fn nargs(state: &LuaState) -> usize {
    state.top.saturating_sub(state.base)
}

/// Argument `n` (1-based), nil when absent.
fn arg(state: &LuaState, n: usize) -> Val {
    if n >= 1 && n <= nargs(state) {
        state.stack_get(state.base + n - 1)
    } else {
        Val::Nil
    }
}

/// The userdata holding the running closure's configuration (its first upvalue).
fn config_ref(state: &LuaState) -> LuaResult<GcRef<Userdata>> {
    let func = state.call_stack.get(state.ci).map(|ci| state.stack_get(ci.func));
    if let Some(Val::Function(f)) = func {
        if let Some(Closure::Rust(rc)) = state.gc.closures.get(f) {
            if let Some(Val::Userdata(ud)) = rc.upvalues.first() {
                return Ok(*ud);
            }
        }
    }
    Err(runtime_error("BUG: Unable to fetch CJSON configuration"))
}

fn fetch_config(state: &LuaState) -> LuaResult<Config> {
    let ud = config_ref(state)?;
    state.gc.userdata.get(ud).and_then(|u| u.downcast_ref::<Config>()).copied().ok_or_else(|| runtime_error("BUG: Unable to fetch CJSON configuration"))
}

fn store_config(state: &mut LuaState, cfg: Config) -> LuaResult<()> {
    let ud = config_ref(state)?;
    match state.gc.userdata.get_mut(ud).and_then(|u| u.downcast_mut::<Config>()) {
        Some(slot) => {
            *slot = cfg;
            Ok(())
        }
        None => Err(runtime_error("BUG: Unable to fetch CJSON configuration")),
    }
}

// ===== Configuration functions =====

/// `json_arg_init`: rejects extra arguments and pads missing ones with nil, so that
/// the results pushed afterwards never land in an argument slot.
fn arg_init(state: &mut LuaState, args: usize) -> LuaResult<Config> {
    if nargs(state) > args {
        return Err(state.arg_error(args + 1, "found too many arguments"));
    }
    while nargs(state) < args {
        state.push(Val::Nil);
    }
    fetch_config(state)
}

/// `luaL_checkinteger` stored into a C `int`: the double is truncated to a 64-bit
/// integer (x86 yields `INT64_MIN` when out of range) and then cut to 32 bits, so
/// `4294967297` sets 1, as in Redis.
fn check_c_int(state: &LuaState, n: usize) -> LuaResult<i32> {
    let d = state.check_number(n)?;
    let wide = if d > -9_223_372_036_854_775_808.0 && d < 9_223_372_036_854_775_808.0 { d as i64 } else { i64::MIN };
    Ok(wide as i32)
}

/// `json_integer_option`. The range error names argument 1 whatever the position,
/// as the C does.
fn integer_option(state: &mut LuaState, n: usize, setting: &mut i32, min: i32, max: i32) -> LuaResult<()> {
    if !matches!(arg(state, n), Val::Nil) {
        let value = check_c_int(state, n)?;
        if !(min <= value && value <= max) {
            return Err(state.arg_error(1, &format!("expected integer between {min} and {max}")));
        }
        *setting = value;
    }
    state.push(Val::Num(f64::from(*setting)));
    Ok(())
}

/// `json_enum_option` with `bool_true` = 1: booleans map to 0/1, strings must name
/// an option; the result is a boolean for 0/1 and the option's name otherwise.
fn enum_option(state: &mut LuaState, n: usize, setting: &mut i32, options: &[&str]) -> LuaResult<()> {
    match arg(state, n) {
        Val::Nil => {}
        Val::Bool(b) => *setting = i32::from(b),
        _ => {
            let mut name = state.check_string(n)?;
            // luaL_checkoption compares C strings: the name ends at its first NUL.
            if let Some(nul) = name.iter().position(|&c| c == 0) {
                name.truncate(nul);
            }
            match options.iter().position(|o| o.as_bytes() == name.as_slice()) {
                Some(i) => *setting = i32::try_from(i).unwrap_or(0),
                None => {
                    let msg = format!("invalid option '{}'", String::from_utf8_lossy(&name));
                    return Err(state.arg_error(n, &msg));
                }
            }
        }
    }
    let result = match *setting {
        0 => Val::Bool(false),
        1 => Val::Bool(true),
        other => {
            let name = usize::try_from(other).ok().and_then(|i| options.get(i)).copied().unwrap_or("");
            str_val(state, name.as_bytes())
        }
    };
    state.push(result);
    Ok(())
}

const BOOL_OPTIONS: [&str; 2] = ["off", "on"];

fn cfg_encode_sparse_array(state: &mut LuaState) -> LuaResult<u32> {
    let mut cfg = arg_init(state, 3)?;
    let result = (|| {
        enum_option(state, 1, &mut cfg.sparse_convert, &BOOL_OPTIONS)?;
        integer_option(state, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?;
        integer_option(state, 3, &mut cfg.sparse_safe, 0, i32::MAX)
    })();
    // Settings parsed before an error stick, as they do in C.
    store_config(state, cfg)?;
    result.map(|()| 3)
}

fn cfg_encode_max_depth(state: &mut LuaState) -> LuaResult<u32> {
    let mut cfg = arg_init(state, 1)?;
    integer_option(state, 1, &mut cfg.encode_max_depth, 1, i32::MAX)?;
    store_config(state, cfg)?;
    Ok(1)
}

fn cfg_decode_max_depth(state: &mut LuaState) -> LuaResult<u32> {
    let mut cfg = arg_init(state, 1)?;
    integer_option(state, 1, &mut cfg.decode_max_depth, 1, i32::MAX)?;
    store_config(state, cfg)?;
    Ok(1)
}

fn cfg_encode_number_precision(state: &mut LuaState) -> LuaResult<u32> {
    let mut cfg = arg_init(state, 1)?;
    integer_option(state, 1, &mut cfg.number_precision, 1, 14)?;
    store_config(state, cfg)?;
    Ok(1)
}

fn cfg_encode_keep_buffer(state: &mut LuaState) -> LuaResult<u32> {
    let mut cfg = arg_init(state, 1)?;
    enum_option(state, 1, &mut cfg.keep_buffer, &BOOL_OPTIONS)?;
    store_config(state, cfg)?;
    Ok(1)
}

fn cfg_encode_invalid_numbers(state: &mut LuaState) -> LuaResult<u32> {
    let mut cfg = arg_init(state, 1)?;
    enum_option(state, 1, &mut cfg.encode_invalid_numbers, &["off", "on", "null"])?;
    store_config(state, cfg)?;
    Ok(1)
}

fn cfg_decode_invalid_numbers(state: &mut LuaState) -> LuaResult<u32> {
    let mut cfg = arg_init(state, 1)?;
    enum_option(state, 1, &mut cfg.decode_invalid_numbers, &BOOL_OPTIONS)?;
    store_config(state, cfg)?;
    Ok(1)
}

// ===== Encoding =====

mod decode;
mod encode;
mod strtod;
#[cfg(test)]
mod tests;
// Property tests need proptest, which the wasm build does not carry.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod props;

use decode::*;
use encode::*;
#[cfg(test)]
use strtod::strtod;
