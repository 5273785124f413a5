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

/// `char2escape`: control characters, `"`, `\`, `/` and DEL are escaped; every other
/// byte (including invalid UTF-8) passes through.
fn append_string(out: &mut Vec<u8>, s: &[u8]) -> LuaResult<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    reserve(out, s.len().checked_mul(6).and_then(|n| n.checked_add(2)).unwrap_or(usize::MAX))?;
    out.push(b'"');
    for &c in s {
        match c {
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            0x00..=0x1f | 0x7f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0x0f)]);
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
    Ok(())
}

/// Grows the output or fails with Lua's memory error: a script can ask for a huge
/// document (a sparse array with ratio 0 and index 2^31-1 is 10 GB), and that must
/// not abort the server.
fn reserve(out: &mut Vec<u8>, additional: usize) -> LuaResult<()> {
    out.try_reserve(additional).map_err(|_| rilua::LuaError::Memory)
}

/// Room for everything one encoder step writes besides string contents: separators,
/// brackets, a number key and a number value (each at most 24 bytes with `%.14g`).
const STEP_RESERVE: usize = 64;

/// C's `printf("%.<precision>g")` for finite and infinite doubles.
fn format_g(num: f64, precision: i32) -> String {
    if num.is_nan() {
        return if num.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if num.is_infinite() {
        return if num < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let p = usize::try_from(precision.max(1)).unwrap_or(1);
    if num == 0.0 {
        return if num.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Rust's exact formatting rounds half to even on the exact binary value, as glibc does.
    let sci = format!("{:.*e}", p - 1, num);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let p_i32 = i32::try_from(p).unwrap_or(14);
    let mut out = String::with_capacity(32);
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= p_i32 {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        let rest = rest.trim_end_matches('0');
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let mag = exp.unsigned_abs();
        if mag < 10 {
            out.push('0');
        }
        out.push_str(&mag.to_string());
    } else if exp >= 0 {
        let split = usize::try_from(exp).unwrap_or(0).saturating_add(1).min(digits.len());
        let (int_part, frac) = digits.split_at(split);
        out.push_str(int_part);
        let frac = frac.trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
    } else {
        let zeros = usize::try_from(-exp - 1).unwrap_or(0);
        let frac = digits.trim_end_matches('0');
        out.push_str("0.");
        out.push_str(&"0".repeat(zeros));
        out.push_str(frac);
    }
    out
}

fn serialise_error(type_name: &str, reason: &str) -> rilua::LuaError {
    runtime_error(format!("Cannot serialise {type_name}: {reason}"))
}

/// `json_append_number`.
fn append_number(out: &mut Vec<u8>, cfg: &Config, num: f64) -> LuaResult<()> {
    match cfg.encode_invalid_numbers {
        0 => {
            if !num.is_finite() {
                return Err(serialise_error("number", "must not be NaN or Inf"));
            }
        }
        1 => {
            if num.is_nan() {
                out.extend_from_slice(b"nan");
                return Ok(());
            }
        }
        _ => {
            if !num.is_finite() {
                out.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    out.extend_from_slice(format_g(num, cfg.number_precision).as_bytes());
    Ok(())
}

/// A C `int` assigned from a double on x86: out-of-range values become `INT_MIN`.
/// Only called with `k >= 1`.
fn c_int_from_double(k: f64) -> i32 {
    if k < 2_147_483_648.0 {
        k as i32
    } else {
        i32::MIN
    }
}

fn raw_table(state: &LuaState, t: GcRef<RawTable>) -> LuaResult<&RawTable> {
    state.gc.tables.get(t).ok_or_else(|| runtime_error("table has been collected"))
}

/// `lua_array_length`: the array length, or `None` when the table must be encoded
/// as an object.
fn array_length(state: &LuaState, cfg: &Config, t: GcRef<RawTable>) -> LuaResult<Option<i32>> {
    let table = raw_table(state, t)?;
    let mut max: i32 = 0;
    let mut items: i32 = 0;
    let mut key = Val::Nil;
    while let Some((k, _)) = table.next(key, &state.gc.string_arena)? {
        key = k;
        match k {
            Val::Num(n) if n != 0.0 && n.floor() == n && n >= 1.0 => {
                if n > f64::from(max) {
                    max = c_int_from_double(n);
                }
                items = items.wrapping_add(1);
            }
            _ => return Ok(None),
        }
    }
    if cfg.sparse_ratio > 0 && max > items.wrapping_mul(cfg.sparse_ratio) && max > cfg.sparse_safe {
        if cfg.sparse_convert == 0 {
            return Err(serialise_error("table", "excessively sparse array"));
        }
        return Ok(None);
    }
    Ok(Some(max))
}

enum EncodeFrame {
    Array { table: GcRef<RawTable>, next: i64, len: i64 },
    Object { table: GcRef<RawTable>, key: Val, first: bool },
}

impl EncodeFrame {
    /// Lua stack slots the C encoder holds while inside this container: the array
    /// element, or the object key and value.
    fn slots(&self) -> i64 {
        match self {
            Self::Array { .. } => 1,
            Self::Object { .. } => 2,
        }
    }
}

struct Encoder<'a> {
    state: &'a LuaState,
    cfg: Config,
    out: Vec<u8>,
    frames: Vec<EncodeFrame>,
    /// Slots in use on the C function's Lua stack (starting with its argument).
    slots: i64,
    /// The heap's room when encoding began: the same string may be encoded any number of
    /// times, and past this the result could not be kept anyway.
    room: usize,
}

impl Encoder<'_> {
    /// `json_append_data` for one value; tables open a frame instead of recursing.
    fn value(&mut self, v: Val) -> LuaResult<()> {
        if self.out.len() > self.room {
            return Err(rilua::LuaError::Memory);
        }
        reserve(&mut self.out, STEP_RESERVE)?;
        match v {
            Val::Str(r) => {
                let bytes = self.state.gc.string_arena.get(r).map(|s| s.data()).unwrap_or_default();
                append_string(&mut self.out, bytes)?;
            }
            Val::Num(n) => append_number(&mut self.out, &self.cfg, n)?,
            Val::Bool(true) => self.out.extend_from_slice(b"true"),
            Val::Bool(false) => self.out.extend_from_slice(b"false"),
            Val::Nil | Val::LightUserdata(0) => self.out.extend_from_slice(b"null"),
            Val::Table(t) => {
                let depth = i64::try_from(self.frames.len()).unwrap_or(i64::MAX).saturating_add(1);
                if depth > i64::from(self.cfg.encode_max_depth) || self.slots.saturating_add(3) > LUAI_MAXCSTACK {
                    return Err(runtime_error(format!("Cannot serialise, excessive nesting ({depth})")));
                }
                let frame = match array_length(self.state, &self.cfg, t)? {
                    Some(len) if len > 0 => {
                        self.out.push(b'[');
                        EncodeFrame::Array { table: t, next: 1, len: i64::from(len) }
                    }
                    _ => {
                        self.out.push(b'{');
                        EncodeFrame::Object { table: t, key: Val::Nil, first: true }
                    }
                };
                self.slots = self.slots.saturating_add(frame.slots());
                self.frames.push(frame);
            }
            other => return Err(serialise_error(other.type_name(), "type not supported")),
        }
        Ok(())
    }

    fn run(&mut self, root: Val) -> LuaResult<()> {
        self.value(root)?;
        while let Some(frame) = self.frames.last_mut() {
            reserve(&mut self.out, STEP_RESERVE)?;
            let next = match frame {
                EncodeFrame::Array { table, next, len } => {
                    if *next > *len {
                        None
                    } else {
                        let i = *next;
                        *next = i + 1;
                        if i > 1 {
                            self.out.push(b',');
                        }
                        Some(raw_table(self.state, *table)?.get_int(i))
                    }
                }
                EncodeFrame::Object { table, key, first } => {
                    let t = raw_table(self.state, *table)?;
                    match t.next(*key, &self.state.gc.string_arena)? {
                        None => None,
                        Some((k, v)) => {
                            *key = k;
                            if !*first {
                                self.out.push(b',');
                            }
                            *first = false;
                            match k {
                                Val::Num(n) => {
                                    self.out.push(b'"');
                                    append_number(&mut self.out, &self.cfg, n)?;
                                    self.out.extend_from_slice(b"\":");
                                }
                                Val::Str(r) => {
                                    let bytes = self.state.gc.string_arena.get(r).map(|s| s.data()).unwrap_or_default();
                                    append_string(&mut self.out, bytes)?;
                                    reserve(&mut self.out, 1)?;
                                    self.out.push(b':');
                                }
                                other => return Err(serialise_error(other.type_name(), "table key must be a number or string")),
                            }
                            Some(v)
                        }
                    }
                }
            };
            match next {
                Some(v) => self.value(v)?,
                None => {
                    if let Some(done) = self.frames.pop() {
                        self.slots -= done.slots();
                        self.out.push(match done {
                            EncodeFrame::Array { .. } => b']',
                            EncodeFrame::Object { .. } => b'}',
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

fn json_encode(state: &mut LuaState) -> LuaResult<u32> {
    let cfg = fetch_config(state)?;
    if nargs(state) != 1 {
        return Err(state.arg_error(1, "expected 1 argument"));
    }
    let room = usize::try_from(super::guard::heap_room(state)).unwrap_or(usize::MAX);
    let mut encoder = Encoder { state, cfg, out: Vec::new(), frames: Vec::new(), slots: 1, room };
    encoder.run(arg(state, 1))?;
    let json = std::mem::take(&mut encoder.out);
    let val = str_val(state, &json);
    state.push(val);
    Ok(1)
}

// ===== Decoding =====

#[derive(Clone, Copy, PartialEq, Debug)]
enum TokenKind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl TokenKind {
    /// How a parse error names the token it found (`json_token_type_name`).
    fn describe(self) -> &'static str {
        match self {
            Self::ObjBegin => "T_OBJ_BEGIN",
            Self::ObjEnd => "T_OBJ_END",
            Self::ArrBegin => "T_ARR_BEGIN",
            Self::ArrEnd => "T_ARR_END",
            Self::Str => "T_STRING",
            Self::Number(_) => "T_NUMBER",
            Self::Boolean(_) => "T_BOOLEAN",
            Self::Null => "T_NULL",
            Self::Colon => "T_COLON",
            Self::Comma => "T_COMMA",
            Self::End => "T_END",
            Self::Error(what) => what,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: TokenKind,
    /// 0-based offset reported (plus one) in parse errors.
    index: usize,
}

fn hex_digit(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'f' => Some(u32::from(c - b'a') + 10),
        b'A'..=b'F' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

fn push_utf8(out: &mut Vec<u8>, cp: u32) {
    // Code points come from \u escapes, so they are at most 0x10FFFF.
    let b = |v: u32| u8::try_from(v & 0xff).unwrap_or(0);
    if cp <= 0x7f {
        out.push(b(cp));
    } else if cp <= 0x7ff {
        out.extend_from_slice(&[b((cp >> 6) | 0xc0), b((cp & 0x3f) | 0x80)]);
    } else if cp <= 0xffff {
        out.extend_from_slice(&[b((cp >> 12) | 0xe0), b(((cp >> 6) & 0x3f) | 0x80), b((cp & 0x3f) | 0x80)]);
    } else {
        out.extend_from_slice(&[b((cp >> 18) | 0xf0), b(((cp >> 12) & 0x3f) | 0x80), b(((cp >> 6) & 0x3f) | 0x80), b((cp & 0x3f) | 0x80)]);
    }
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    cfg: Config,
    /// The decoded text of the last string token.
    text: Vec<u8>,
}

impl Parser<'_> {
    /// The byte at `i`, with 0 past the end: the C parser reads a NUL-terminated
    /// string, so an embedded NUL ends the input just like the real end does.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn starts_with(&self, i: usize, word: &[u8]) -> bool {
        word.iter().enumerate().all(|(k, &w)| self.at(i.saturating_add(k)) == w)
    }

    fn starts_with_ignore_case(&self, i: usize, word: &[u8]) -> bool {
        word.iter().enumerate().all(|(k, &w)| self.at(i.saturating_add(k)).eq_ignore_ascii_case(&w))
    }

    fn error_here(&self, what: &'static str) -> Token {
        Token { kind: TokenKind::Error(what), index: self.pos }
    }

    /// `json_next_token`.
    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let single = |kind| Token { kind, index };
        let ch = self.at(self.pos);
        let kind = match ch {
            b'{' => TokenKind::ObjBegin,
            b'}' => TokenKind::ObjEnd,
            b'[' => TokenKind::ArrBegin,
            b']' => TokenKind::ArrEnd,
            b',' => TokenKind::Comma,
            b':' => TokenKind::Colon,
            0 => return single(TokenKind::End),
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    return self.error_here("invalid number");
                }
                return self.number_token();
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if self.starts_with(self.pos, b"true") {
                    self.pos += 4;
                    return single(TokenKind::Boolean(true));
                }
                if self.starts_with(self.pos, b"false") {
                    self.pos += 5;
                    return single(TokenKind::Boolean(false));
                }
                if self.starts_with(self.pos, b"null") {
                    self.pos += 4;
                    return single(TokenKind::Null);
                }
                if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
                    return self.number_token();
                }
                return self.error_here("invalid token");
            }
            _ => return self.error_here("invalid token"),
        };
        self.pos += 1;
        single(kind)
    }

    /// `json_next_string_token`: the decoded bytes go to `self.text`.
    fn string_token(&mut self) -> Token {
        let index = self.pos;
        self.pos += 1;
        self.text.clear();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error_here("unexpected end of string");
            }
            let mut byte = ch;
            if ch == b'\\' {
                byte = match self.at(self.pos + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => b'\x08',
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => b'\x0c',
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error_here("invalid unicode escape code");
                    }
                    _ => return self.error_here("invalid escape code"),
                };
                self.pos += 1;
            }
            self.text.push(byte);
            self.pos += 1;
        }
        self.pos += 1;
        Token { kind: TokenKind::Str, index }
    }

    fn hex4(&self, i: usize) -> Option<u32> {
        let mut value = 0;
        for k in 0..4 {
            value = (value << 4) | hex_digit(self.at(i + k))?;
        }
        Some(value)
    }

    /// `json_append_unicode_escape`, at a `\u`: appends the UTF-8 and advances past
    /// the escape (two escapes for a surrogate pair). False on a malformed escape.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut escape_len = 6;
        if cp & 0xf800 == 0xd800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xfc00 != 0xdc00 {
                return false;
            }
            cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
            escape_len = 12;
        }
        push_utf8(&mut self.text, cp);
        self.pos += escape_len;
        true
    }

    /// `json_is_invalid_number`: what strict JSON forbids but `strtod` accepts
    /// (a leading `+`, hex, leading zeros, inf and nan).
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        }
        // C compares a plain (signed) char, so bytes >= 0x80 count as "ordinary".
        if c <= b'9' || c >= 0x80 {
            return false;
        }
        self.starts_with_ignore_case(p, b"inf") || self.starts_with_ignore_case(p, b"nan")
    }

    /// `json_next_number_token`.
    fn number_token(&mut self) -> Token {
        let index = self.pos;
        match strtod(self.data, self.pos) {
            Some((value, end)) => {
                self.pos = end;
                Token { kind: TokenKind::Number(value), index }
            }
            None => self.error_here("invalid number"),
        }
    }
}

/// glibc `strtod` in the C locale, on the NUL-terminated text from `start`: the value
/// and the end of the longest number prefix, or `None` when nothing converts.
fn strtod(data: &[u8], start: usize) -> Option<(f64, usize)> {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let ci = |i: usize, word: &[u8]| word.iter().enumerate().all(|(k, &w)| at(i.saturating_add(k)).eq_ignore_ascii_case(&w));
    let mut i = start;
    let negative = match at(i) {
        b'-' => {
            i += 1;
            true
        }
        b'+' => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if negative { -v } else { v };
    if ci(i, b"inf") {
        let end = if ci(i + 3, b"inity") { i + 8 } else { i + 3 };
        return Some((sign(f64::INFINITY), end));
    }
    if ci(i, b"nan") {
        let mut end = i + 3;
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        return Some((sign(f64::NAN), end));
    }
    if at(i) == b'0' && (at(i + 1) | 0x20) == b'x' {
        return Some(match hex_float(data, i + 2) {
            Some((v, end)) => (sign(v), end),
            // "0x" without hex digits converts just the "0".
            None => (sign(0.0), i + 1),
        });
    }
    let digits_start = i;
    let mut digits = 0usize;
    while at(i).is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if at(i) == b'.' {
        i += 1;
        while at(i).is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if at(i) | 0x20 == b'e' {
        let mut j = i + 1;
        if at(j) == b'+' || at(j) == b'-' {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    // The prefix is ASCII by construction, and Rust's parser rounds correctly as glibc does.
    let text = std::str::from_utf8(data.get(digits_start..i)?).ok()?;
    let value = text.parse::<f64>().ok()?;
    Some((sign(value), i))
}

/// The hex digits (with an optional point and `p` exponent) after `0x`: the value and
/// where it ends, or `None` without a single hex digit.
fn hex_float(data: &[u8], start: usize) -> Option<(f64, usize)> {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut i = start;
    let mut mantissa: u64 = 0;
    let mut kept = 0u32;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut any = false;
    while let Some(d) = hex_digit(at(i)) {
        any = true;
        if mantissa == 0 && d == 0 {
            // leading zero: no value
        } else if kept < 16 {
            mantissa = (mantissa << 4) | u64::from(d);
            kept += 1;
        } else {
            exp = exp.saturating_add(4);
            sticky |= d != 0;
        }
        i += 1;
    }
    if at(i) == b'.' {
        let mut j = i + 1;
        while let Some(d) = hex_digit(at(j)) {
            any = true;
            if mantissa == 0 && d == 0 {
                exp = exp.saturating_sub(4);
            } else if kept < 16 {
                mantissa = (mantissa << 4) | u64::from(d);
                kept += 1;
                exp = exp.saturating_sub(4);
            } else {
                sticky |= d != 0;
            }
            j += 1;
        }
        if any {
            i = j;
        }
    }
    if !any {
        return None;
    }
    if at(i) | 0x20 == b'p' {
        let mut j = i + 1;
        let negative = match at(j) {
            b'-' => {
                j += 1;
                true
            }
            b'+' => {
                j += 1;
                false
            }
            _ => false,
        };
        if at(j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(j).is_ascii_digit() {
                // Clamped: far beyond any double's range either way.
                e = (e * 10 + i64::from(at(j) - b'0')).min(1_000_000_000);
                j += 1;
            }
            exp = exp.saturating_add(if negative { -e } else { e });
            i = j;
        }
    }
    Some((scale_binary(mantissa, sticky, exp), i))
}

/// `mantissa * 2^exp` rounded to nearest-even, where `sticky` marks nonzero bits
/// below the mantissa.
fn scale_binary(mantissa: u64, sticky: bool, exp: i64) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    let bits = i64::from(64 - mantissa.leading_zeros());
    let top = exp.saturating_add(bits - 1);
    if top > 1023 {
        return f64::INFINITY;
    }
    // Bits the result can hold: 53 when normal, fewer as a subnormal (lsb is 2^-1074).
    let keep = if top >= -1022 { 53 } else { top + 1075 };
    if keep <= 0 {
        // At most half the smallest subnormal: exactly half rounds to even (zero).
        let exactly_half = keep == 0 && mantissa.is_power_of_two() && !sticky;
        return if keep == 0 && !exactly_half { f64::from_bits(1) } else { 0.0 };
    }
    let drop = bits - keep;
    let (rounded, lsb_exp) = if drop <= 0 {
        (mantissa, exp)
    } else {
        let drop_u = u32::try_from(drop).unwrap_or(63);
        let kept_bits = mantissa >> drop_u;
        let rest = mantissa & ((1u64 << drop_u) - 1);
        let half = 1u64 << (drop_u - 1);
        let up = rest > half || (rest == half && (sticky || kept_bits & 1 == 1));
        (kept_bits + u64::from(up), exp + drop)
    };
    // `rounded` fits in 54 bits, so the conversion is exact and only scaling remains;
    // it is done in steps that stay exact until the final, representable result.
    #[allow(clippy::cast_precision_loss)]
    let mut value = rounded as f64;
    let mut k = lsb_exp;
    while k > 1000 {
        value *= pow2(1000);
        k -= 1000;
    }
    while k < -1000 {
        value *= pow2(-1000);
        k += 1000;
    }
    value * pow2(k)
}

/// 2^k for -1022 <= k <= 1023.
fn pow2(k: i64) -> f64 {
    let biased = u64::try_from(k + 1023).unwrap_or(1023);
    f64::from_bits(biased << 52)
}

enum DecodeFrame {
    Array { table: Table, next: i64 },
    Object { table: Table, key: Val },
}

impl DecodeFrame {
    /// Lua stack slots the C decoder holds while parsing a value in this container:
    /// the table, plus the key for objects.
    fn slots(&self) -> i64 {
        match self {
            Self::Array { .. } => 1,
            Self::Object { .. } => 2,
        }
    }
}

fn parse_error(expected: &str, token: Token) -> rilua::LuaError {
    runtime_error(format!("Expected {expected} but found {} at character {}", token.kind.describe(), token.index.saturating_add(1)))
}

/// Parses the document with an explicit stack, checking tokens in the same order as
/// the C recursive descent so that the first error reported is the same.
fn decode_document(state: &mut LuaState, data: &[u8], cfg: Config) -> LuaResult<Val> {
    let mut p = Parser { data, pos: 0, cfg, text: Vec::new() };
    let mut frames: Vec<DecodeFrame> = Vec::new();
    // The decode function's own argument occupies the first slot.
    let mut slots: i64 = 1;
    let mut token = p.next_token();
    loop {
        // Value context (`json_process_value`).
        let mut value = match token.kind {
            TokenKind::Str => str_val(state, &p.text),
            TokenKind::Number(n) => Val::Num(n),
            TokenKind::Boolean(b) => Val::Bool(b),
            TokenKind::Null => Val::LightUserdata(0),
            TokenKind::ObjBegin | TokenKind::ArrBegin => {
                let is_object = token.kind == TokenKind::ObjBegin;
                let depth = i64::try_from(frames.len()).unwrap_or(i64::MAX).saturating_add(1);
                let needed = if is_object { 3 } else { 2 };
                if depth > i64::from(cfg.decode_max_depth) || slots.saturating_add(needed) > LUAI_MAXCSTACK {
                    return Err(runtime_error(format!("Found too many nested data structures ({depth}) at character {}", p.pos)));
                }
                let table = Table::from_gc_ref(state.gc.alloc_table(RawTable::new()));
                token = p.next_token();
                let empty_end = if is_object { TokenKind::ObjEnd } else { TokenKind::ArrEnd };
                if token.kind == empty_end {
                    Val::Table(table.gc_ref())
                } else if is_object {
                    let key = object_key(state, &mut p, &mut token)?;
                    let frame = DecodeFrame::Object { table, key };
                    slots += frame.slots();
                    frames.push(frame);
                    continue;
                } else {
                    let frame = DecodeFrame::Array { table, next: 1 };
                    slots += frame.slots();
                    frames.push(frame);
                    continue;
                }
            }
            _ => return Err(parse_error("value", token)),
        };
        // Store the finished value and read what follows it, closing containers.
        loop {
            let Some(frame) = frames.last_mut() else {
                token = p.next_token();
                if token.kind != TokenKind::End {
                    return Err(parse_error("the end", token));
                }
                return Ok(value);
            };
            let (table, close, expected) = match frame {
                DecodeFrame::Array { table, next } => {
                    #[allow(clippy::cast_precision_loss)]
                    let index = Val::Num(*next as f64);
                    *next = next.saturating_add(1);
                    table.raw_set(state, index, value)?;
                    (*table, TokenKind::ArrEnd, "comma or array end")
                }
                DecodeFrame::Object { table, key } => {
                    table.raw_set(state, *key, value)?;
                    (*table, TokenKind::ObjEnd, "comma or object end")
                }
            };
            token = p.next_token();
            if token.kind == close {
                if let Some(done) = frames.pop() {
                    slots -= done.slots();
                }
                value = Val::Table(table.gc_ref());
                continue;
            }
            if token.kind != TokenKind::Comma {
                return Err(parse_error(expected, token));
            }
            token = p.next_token();
            if close == TokenKind::ObjEnd {
                let key = object_key(state, &mut p, &mut token)?;
                if let Some(DecodeFrame::Object { key: slot, .. }) = frames.last_mut() {
                    *slot = key;
                }
            }
            break;
        }
    }
}

/// Reads `"key" :` starting at `token` and leaves the value's first token in `token`.
fn object_key(state: &mut LuaState, p: &mut Parser<'_>, token: &mut Token) -> LuaResult<Val> {
    if token.kind != TokenKind::Str {
        return Err(parse_error("object key string", *token));
    }
    let key = str_val(state, &p.text);
    *token = p.next_token();
    if token.kind != TokenKind::Colon {
        return Err(parse_error("colon", *token));
    }
    *token = p.next_token();
    Ok(key)
}

fn json_decode(state: &mut LuaState) -> LuaResult<u32> {
    if nargs(state) != 1 {
        return Err(state.arg_error(1, "expected 1 argument"));
    }
    let cfg = fetch_config(state)?;
    let data = state.check_string(1)?;
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(runtime_error("JSON parser does not support UTF-16 or UTF-32"));
    }
    let value = decode_document(state, &data, cfg)?;
    state.push(value);
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rilua::{Lua, LuaApiMut, StdLib};

    /// Helpers shared by every case, kept on one line so that error positions read
    /// `user_script:1:` as they do in Redis: `E` escapes non-printable bytes, `S`
    /// renders any value (tables with sorted keys, numbers with `%.17g`, null as
    /// `NULL`), `P` renders everything `pcall` returns, `N(n)` nests `n` arrays.
    const PRELUDE: &str = r#"local function E(s) return (string.gsub(s, '[^\32-\126]', function(c) return string.format('\\x%02x', string.byte(c)) end)) end local function S(v) local t = type(v) if v == cjson.null then return 'NULL' elseif t == 'number' then if v ~= v then return 'NaN' end return string.format('%.17g', v) elseif t == 'string' then return '"' .. E(v) .. '"' elseif t == 'table' then local ks = {} for k in pairs(v) do ks[#ks+1] = k end table.sort(ks, function(a, b) return S(a) < S(b) end) local o = {} for i = 1, #ks do o[i] = S(ks[i]) .. '=' .. S(v[ks[i]]) end return '{' .. table.concat(o, ',') .. '}' else return tostring(v) end end local function pk(...) return select('#', ...), {...} end local function P(...) local n, r = pk(pcall(...)) local o = {} for i = 1, n do o[i] = S(r[i]) end return table.concat(o, ' | ') end local function N(n) local t = {} for i = 1, n do t = {t} end return t end "#;

    fn run_with(libs: StdLib, snippet: &str) -> String {
        let mut lua = Lua::new_with(libs).expect("lua state");
        open(lua.state_mut()).expect("open cjson");
        let source = format!("{PRELUDE}{snippet}");
        let func = lua.load_bytes(source.as_bytes(), "@user_script").expect("snippet compiles");
        let results = lua.call_function(&func, &[]).expect("snippet runs");
        let first = results.first().copied().unwrap_or(Val::Nil);
        match first {
            Val::Num(n) => format_g(n, 14),
            other => String::from_utf8_lossy(lua.val_as_bytes(other).expect("string result")).into_owned(),
        }
    }

    /// Runs `snippet` (a Redis script body) and compares its result with the reply
    /// the real redis-server 7.0.15 gave for the same script.
    fn check(snippet: &str, expected: &str) {
        let got = run_with(StdLib::BASE | StdLib::STRING | StdLib::TABLE | StdLib::MATH, snippet);
        assert_eq!(got, expected, "script: {snippet}");
    }

    #[test]
    fn encode_nested_mixed() {
        check(r##"return cjson.encode({1,2,3,{a=1}})"##, r##"[1,2,3,{"a":1}]"##);
    }

    #[test]
    fn encode_empty_table() {
        check(r##"return cjson.encode({})"##, r##"{}"##);
    }

    #[test]
    fn encode_nested_empty() {
        check(r##"return cjson.encode({{},{{}}})"##, r##"[{},[{}]]"##);
    }

    #[test]
    fn encode_scalars() {
        check(
            r##"return cjson.encode(nil) .. ' ' .. cjson.encode(cjson.null) .. ' ' .. cjson.encode(true) .. ' ' .. cjson.encode(false)"##,
            r##"null null true false"##,
        );
    }

    #[test]
    fn encode_string_escapes() {
        check(r##"return E(cjson.encode('a/b"c\\d\n\t\r\b\f\0\1\31\127 \128\255'))"##, r##""a\/b\"c\\d\n\t\r\b\f\u0000\u0001\u001f\u007f \x80\xff""##);
    }

    #[test]
    fn encode_all_control_bytes() {
        check(
            r##"local s = {} for i = 0, 40 do s[#s+1] = string.char(i) end return E(cjson.encode(table.concat(s)))"##,
            r##""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f !\"#$%&'(""##,
        );
    }

    #[test]
    fn encode_utf8_passthrough() {
        check(r##"return E(cjson.encode('h\195\169llo \226\130\172'))"##, r##""h\xc3\xa9llo \xe2\x82\xac""##);
    }

    #[test]
    fn encode_integers() {
        check(r##"return cjson.encode({1, -1, 0, 42, 123456, 2^31, 2^53, -2^40})"##, r##"[1,-1,0,42,123456,2147483648,9.007199254741e+15,-1099511627776]"##);
    }

    #[test]
    fn encode_fractions() {
        check(r##"return cjson.encode({0.1, 1/3, -2.5, 3.14159265358979, 0.0001, 0.00001})"##, r##"[0.1,0.33333333333333,-2.5,3.1415926535898,0.0001,1e-05]"##);
    }

    #[test]
    fn encode_large_numbers() {
        check(
            r##"return cjson.encode({1e14, 1e15, 123456789012345678, 1e100, -1e300, 5e-324, 1.7976931348623157e308})"##,
            r##"[1e+14,1e+15,1.2345678901235e+17,1e+100,-1e+300,4.9406564584125e-324,1.7976931348623e+308]"##,
        );
    }

    #[test]
    fn encode_negative_zero() {
        check(r##"return cjson.encode(-0)"##, r##"-0"##);
    }

    #[test]
    fn encode_rounding() {
        check(r##"return cjson.encode({0.5, 1.5, 2.5, 0.125, 1e21, 99999999999999.5, 999999999999995})"##, r##"[0.5,1.5,2.5,0.125,1e+21,1e+14,1e+15]"##);
    }

    #[test]
    fn encode_inf_error() {
        check(
            r##"return P(cjson.encode, 1/0) .. ' ; ' .. P(cjson.encode, -1/0) .. ' ; ' .. P(cjson.encode, {0/0})"##,
            r##"false | "Cannot serialise number: must not be NaN or Inf" ; false | "Cannot serialise number: must not be NaN or Inf" ; false | "Cannot serialise number: must not be NaN or Inf""##,
        );
    }

    #[test]
    fn encode_function_error() {
        check(
            r##"return P(cjson.encode, {a = cjson.new}) .. ' ; ' .. P(cjson.encode, {cjson.encode})"##,
            r##"false | "Cannot serialise function: type not supported" ; false | "Cannot serialise function: type not supported""##,
        );
    }

    #[test]
    fn encode_bad_key_error() {
        check(r##"return P(cjson.encode, {[true] = 1})"##, r##"false | "Cannot serialise boolean: table key must be a number or string""##);
    }

    #[test]
    fn encode_table_key_error() {
        check(r##"return P(cjson.encode, {[{}] = 1})"##, r##"false | "Cannot serialise table: table key must be a number or string""##);
    }

    #[test]
    fn encode_sparse_holes() {
        check(
            r##"return cjson.encode({[1]=1, [3]=3}) .. ' ' .. cjson.encode({[10]='x'}) .. ' ' .. cjson.encode({1, nil, 3, nil, 5})"##,
            r##"[1,null,3] [null,null,null,null,null,null,null,null,null,"x"] [1,null,3,null,5]"##,
        );
    }

    #[test]
    fn encode_sparse_error() {
        check(
            r##"return P(cjson.encode, {[20] = 1}) .. ' ; ' .. P(cjson.encode, {{[11] = 1}})"##,
            r##"false | "Cannot serialise table: excessively sparse array" ; false | "Cannot serialise table: excessively sparse array""##,
        );
    }

    #[test]
    fn encode_non_array_keys() {
        check(
            r##"return cjson.encode({[0] = 'z'}) .. ' ' .. cjson.encode({[1.5] = 'f'}) .. ' ' .. cjson.encode({[-1] = 'n'}) .. ' ' .. cjson.encode({x = {}})"##,
            r##"{"0":"z"} {"1.5":"f"} {"-1":"n"} {"x":{}}"##,
        );
    }

    #[test]
    fn encode_huge_integer_keys() {
        check(
            r##"return cjson.encode({[2^31] = 1}) .. ' ' .. cjson.encode({[1e20] = 2}) .. ' ' .. P(cjson.encode, {[2^31 - 1] = 3}) .. ' ; ' .. P(cjson.encode, {[1/0] = 4})"##,
            r##"{"2147483648":1} {"1e+20":2} false | "Cannot serialise table: excessively sparse array" ; false | "Cannot serialise number: must not be NaN or Inf""##,
        );
    }

    #[test]
    fn encode_mixed_keys_roundtrip() {
        check(r##"return S(cjson.decode(cjson.encode({1, 2, a = 3, [5.5] = 4})))"##, r##"{"1"=1,"2"=2,"5.5"=4,"a"=3}"##);
    }

    #[test]
    fn encode_depth_default_ok() {
        check(r##"return #cjson.encode(N(999))"##, r##"2000"##);
    }

    #[test]
    fn encode_depth_default_error() {
        check(r##"return P(cjson.encode, N(1000))"##, r##"false | "Cannot serialise, excessive nesting (1001)""##);
    }

    #[test]
    fn encode_depth_object_error() {
        check(r##"local t = {} for i = 1, 1001 do t = {a = t} end return P(cjson.encode, t)"##, r##"false | "Cannot serialise, excessive nesting (1001)""##);
    }

    #[test]
    fn encode_max_depth_option() {
        check(
            r##"return S(cjson.encode_max_depth()) .. ' ' .. S(cjson.encode_max_depth(2)) .. ' ' .. cjson.encode({{1}}) .. ' ' .. P(cjson.encode, {{{1}}})"##,
            r##"1000 2 [[1]] false | "Cannot serialise, excessive nesting (3)""##,
        );
    }

    #[test]
    fn encode_depth_stack_limit_array() {
        check(r##"cjson.encode_max_depth(100000) return P(cjson.encode, N(10000))"##, r##"false | "Cannot serialise, excessive nesting (7998)""##);
    }

    #[test]
    fn encode_depth_stack_limit_object() {
        check(
            r##"cjson.encode_max_depth(100000) local t = {} for i = 1, 10000 do t = {a = t} end return P(cjson.encode, t)"##,
            r##"false | "Cannot serialise, excessive nesting (4000)""##,
        );
    }

    #[test]
    fn encode_depth_stack_limit_ok() {
        check(
            r##"cjson.encode_max_depth(100000) return #cjson.encode(N(7996)) .. ' ' .. P(cjson.encode, N(7997))"##,
            r##"15994 false | "Cannot serialise, excessive nesting (7998)""##,
        );
    }

    #[test]
    fn encode_arg_count() {
        check(
            r##"return P(cjson.encode) .. ' ; ' .. P(cjson.encode, 1, 2)"##,
            r##"false | "bad argument #1 to '?' (expected 1 argument)" ; false | "bad argument #1 to '?' (expected 1 argument)""##,
        );
    }

    #[test]
    fn encode_arg_count_named() {
        check(r##"return P(function() return cjson.encode() end)"##, r##"false | "user_script:1: bad argument #1 to 'encode' (expected 1 argument)""##);
    }

    #[test]
    fn encode_error_position() {
        check(r##"return P(function() return cjson.encode(cjson.new) end)"##, r##"false | "user_script:1: Cannot serialise function: type not supported""##);
    }

    #[test]
    fn encode_method_call() {
        check(r##"return P(function() return cjson:encode(1) end)"##, r##"false | "user_script:1: calling 'encode' on bad self (expected 1 argument)""##);
    }

    #[test]
    fn encode_thread_error() {
        let libs = StdLib::BASE | StdLib::STRING | StdLib::TABLE | StdLib::MATH | StdLib::COROUTINE;
        let got = run_with(libs, r##"return P(cjson.encode, coroutine.create(function() end))"##);
        assert_eq!(got, r##"false | "Cannot serialise thread: type not supported""##);
    }

    #[test]
    fn defaults() {
        check(
            r##"return P(cjson.encode_sparse_array) .. ' ; ' .. P(cjson.encode_max_depth) .. ' ; ' .. P(cjson.decode_max_depth) .. ' ; ' .. P(cjson.encode_number_precision) .. ' ; ' .. P(cjson.encode_keep_buffer) .. ' ; ' .. P(cjson.encode_invalid_numbers) .. ' ; ' .. P(cjson.decode_invalid_numbers)"##,
            r##"true | false | 2 | 10 ; true | 1000 ; true | 1000 ; true | 14 ; true | true ; true | false ; true | true"##,
        );
    }

    #[test]
    fn number_precision() {
        check(
            r##"local r = {} for _, p in ipairs({1, 3, 6, 10, 14}) do cjson.encode_number_precision(p) r[#r+1] = cjson.encode({1/3, 12345, 0.000012345, 2^60, 100}) end return table.concat(r, ' ')"##,
            r##"[0.3,1e+04,1e-05,1e+18,1e+02] [0.333,1.23e+04,1.23e-05,1.15e+18,100] [0.333333,12345,1.2345e-05,1.15292e+18,100] [0.3333333333,12345,1.2345e-05,1.152921505e+18,100] [0.33333333333333,12345,1.2345e-05,1.1529215046068e+18,100]"##,
        );
    }

    #[test]
    fn number_precision_ties() {
        check(
            r##"cjson.encode_number_precision(1) local a = cjson.encode({2.5, 3.5, 0.5, 0.25, 95, 0.0000095, -7.5}) cjson.encode_number_precision(2) return a .. ' ' .. cjson.encode({0.125, 0.375, 1.25, 99.5, 1e-5, 123456})"##,
            r##"[2,4,0.5,0.2,1e+02,1e-05,-8] [0.12,0.38,1.2,1e+02,1e-05,1.2e+05]"##,
        );
    }

    #[test]
    fn number_keys_precision() {
        check(
            r##"cjson.encode_number_precision(4) return cjson.encode({[1/3] = 1}) .. ' ' .. cjson.encode({[-1e10] = 'x'})"##,
            r##"{"0.3333":1} {"-1e+10":"x"}"##,
        );
    }

    #[test]
    fn number_precision_errors() {
        check(
            r##"return P(cjson.encode_number_precision, 0) .. ' ; ' .. P(cjson.encode_number_precision, 15) .. ' ; ' .. P(cjson.encode_number_precision, 'x') .. ' ; ' .. P(cjson.encode_number_precision, '7') .. ' ; ' .. P(cjson.encode_number_precision, 5.9) .. ' ; ' .. P(cjson.encode_number_precision, 1, 2)"##,
            r##"false | "bad argument #1 to '?' (expected integer between 1 and 14)" ; false | "bad argument #1 to '?' (expected integer between 1 and 14)" ; false | "bad argument #1 to '?' (number expected, got string)" ; true | 7 ; true | 5 ; false | "bad argument #2 to '?' (found too many arguments)""##,
        );
    }

    #[test]
    fn number_precision_named_error() {
        check(
            r##"return P(function() return cjson.encode_number_precision(99) end)"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)""##,
        );
    }

    #[test]
    fn integer_option_truncation() {
        check(
            r##"return P(cjson.encode_max_depth, 4294967297) .. ' ; ' .. P(cjson.encode_max_depth, 2^31) .. ' ; ' .. P(cjson.encode_max_depth, -1) .. ' ; ' .. P(cjson.encode_max_depth, 1e300)"##,
            r##"true | 1 ; false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)" ; false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)" ; false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)""##,
        );
    }

    #[test]
    fn invalid_numbers_on() {
        check(
            r##"cjson.encode_invalid_numbers(true) return cjson.encode({1/0, -1/0, 0/0, 1}) .. ' ' .. cjson.encode({[1/0] = 1})"##,
            r##"[inf,-inf,nan,1] {"inf":1}"##,
        );
    }

    #[test]
    fn invalid_numbers_null() {
        check(
            r##"local r = S(cjson.encode_invalid_numbers('null')) return r .. ' ' .. cjson.encode({1/0, -1/0, 0/0, 1}) .. ' ' .. S(cjson.encode_invalid_numbers())"##,
            r##""null" [null,null,null,1] "null""##,
        );
    }

    #[test]
    fn invalid_numbers_options() {
        check(
            r##"return P(cjson.encode_invalid_numbers, 'on') .. ' ; ' .. P(cjson.encode_invalid_numbers, 'off') .. ' ; ' .. P(cjson.encode_invalid_numbers, false) .. ' ; ' .. P(cjson.encode_invalid_numbers, 'maybe') .. ' ; ' .. P(cjson.encode_invalid_numbers, 1) .. ' ; ' .. P(cjson.encode_invalid_numbers, {})"##,
            r##"true | true ; true | false ; true | false ; false | "bad argument #1 to '?' (invalid option 'maybe')" ; false | "bad argument #1 to '?' (invalid option '1')" ; false | "bad argument #1 to '?' (string expected, got table)""##,
        );
    }

    #[test]
    fn keep_buffer() {
        check(
            r##"return P(cjson.encode_keep_buffer, false) .. ' ; ' .. cjson.encode({1}) .. ' ; ' .. P(cjson.encode_keep_buffer, 'on') .. ' ; ' .. P(cjson.encode_keep_buffer, 'x') .. ' ; ' .. P(cjson.encode_keep_buffer, true, 1)"##,
            r##"true | false ; [1] ; true | true ; false | "bad argument #1 to '?' (invalid option 'x')" ; false | "bad argument #2 to '?' (found too many arguments)""##,
        );
    }

    #[test]
    fn sparse_convert() {
        check(
            r##"return P(cjson.encode_sparse_array, true) .. ' ; ' .. cjson.encode({[20] = 1}) .. ' ; ' .. cjson.encode({[1] = 1, [2] = 2})"##,
            r##"true | true | 2 | 10 ; {"20":1} ; [1,2]"##,
        );
    }

    #[test]
    fn sparse_ratio_zero() {
        check(r##"cjson.encode_sparse_array(false, 0) return #cjson.encode({[1000] = 1})"##, r##"4998"##);
    }

    #[test]
    fn sparse_ratio_one() {
        check(
            r##"return P(cjson.encode_sparse_array, nil, 1, 0) .. ' ; ' .. P(cjson.encode, {[1] = 1, [3] = 1}) .. ' ; ' .. cjson.encode({1, 2, 3})"##,
            r##"true | false | 1 | 0 ; false | "Cannot serialise table: excessively sparse array" ; [1,2,3]"##,
        );
    }

    #[test]
    fn sparse_safe() {
        check(
            r##"cjson.encode_sparse_array(false, 2, 100) return #cjson.encode({[100] = 1}) .. ' ' .. P(cjson.encode, {[101] = 1})"##,
            r##"498 false | "Cannot serialise table: excessively sparse array""##,
        );
    }

    #[test]
    fn sparse_errors() {
        check(
            r##"return P(cjson.encode_sparse_array, 'x') .. ' ; ' .. P(cjson.encode_sparse_array, nil, -1) .. ' ; ' .. P(cjson.encode_sparse_array, nil, nil, -5) .. ' ; ' .. P(cjson.encode_sparse_array, nil, 'a') .. ' ; ' .. P(cjson.encode_sparse_array, 1, 2, 3, 4)"##,
            r##"false | "bad argument #1 to '?' (invalid option 'x')" ; false | "bad argument #1 to '?' (expected integer between 0 and 2147483647)" ; false | "bad argument #1 to '?' (expected integer between 0 and 2147483647)" ; false | "bad argument #2 to '?' (number expected, got string)" ; false | "bad argument #4 to '?' (found too many arguments)""##,
        );
    }

    #[test]
    fn sparse_ratio_overflow() {
        check(
            r##"cjson.encode_sparse_array(false, 2147483647, 0) return P(cjson.encode, {1, 2, [5] = 5}) .. ' ; ' .. P(cjson.encode, {[3] = 1})"##,
            r##"true | "[1,2,null,null,5]" ; true | "[null,null,1]""##,
        );
    }

    #[test]
    fn max_depth_errors() {
        check(
            r##"return P(cjson.encode_max_depth, 0) .. ' ; ' .. P(cjson.decode_max_depth, 0) .. ' ; ' .. P(cjson.decode_max_depth, true)"##,
            r##"false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)" ; false | "bad argument #1 to '?' (expected integer between 1 and 2147483647)" ; false | "bad argument #1 to '?' (number expected, got boolean)""##,
        );
    }

    #[test]
    fn decode_max_depth_option() {
        check(
            r##"return S(cjson.decode_max_depth(2)) .. ' ' .. S(cjson.decode('[[1]]')) .. ' ' .. P(cjson.decode, '[[[1]]]') .. ' ; ' .. P(cjson.decode, '{"a":{"b":{}}}')"##,
            r##"2 {1={1=1}} false | "Found too many nested data structures (3) at character 3" ; false | "Found too many nested data structures (3) at character 11""##,
        );
    }

    #[test]
    fn decode_invalid_numbers_off() {
        check(
            r##"local r = {S(cjson.decode_invalid_numbers(false))} for _, s in ipairs({'inf', '-inf', 'nan', 'NaN', '0x10', '-0x10', '01', '-01', '+1', '1e5', '-0', '0', '-1.5', 'Infinity', '1.5x'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
            r##"false ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid token at character 1" ; true | 100000 ; true | -0 ; true | 0 ; true | -1.5 ; false | "Expected value but found invalid token at character 1" ; false | "Expected the end but found invalid token at character 4""##,
        );
    }

    #[test]
    fn decode_invalid_numbers_options() {
        check(
            r##"return P(cjson.decode_invalid_numbers, 'off') .. ' ; ' .. P(cjson.decode_invalid_numbers, 'on') .. ' ; ' .. P(cjson.decode_invalid_numbers, 'null')"##,
            r##"true | false ; true | true ; false | "bad argument #1 to '?' (invalid option 'null')""##,
        );
    }

    #[test]
    fn module_fields() {
        check(
            r##"return cjson._NAME .. ' ' .. cjson._VERSION .. ' ' .. type(cjson.null) .. ' ' .. tostring(cjson.null == cjson.decode('null')) .. ' ' .. tostring(cjson.decode('[null]')[1] == cjson.null) .. ' ' .. type(cjson.new)"##,
            r##"cjson 2.1.0 userdata true true function"##,
        );
    }

    #[test]
    fn module_function_names() {
        check(
            r##"local ks = {} for k, v in pairs(cjson) do ks[#ks+1] = k .. ':' .. type(v) end table.sort(ks) return table.concat(ks, ',')"##,
            r##"_NAME:string,_VERSION:string,decode:function,decode_invalid_numbers:function,decode_max_depth:function,encode:function,encode_invalid_numbers:function,encode_keep_buffer:function,encode_max_depth:function,encode_number_precision:function,encode_sparse_array:function,new:function,null:userdata"##,
        );
    }

    #[test]
    fn new_instance_independent() {
        check(
            r##"local c = cjson.new() c.encode_number_precision(3) c.encode_invalid_numbers(true) return c.encode(1/3) .. ' ' .. cjson.encode(1/3) .. ' ' .. c.encode(1/0) .. ' ' .. P(cjson.encode, 1/0) .. ' ' .. tostring(c.null == cjson.null) .. ' ' .. c._NAME .. ' ' .. tostring(c.new ~= cjson.new) .. ' ' .. tostring(c.encode ~= cjson.encode)"##,
            r##"0.333 0.33333333333333 inf false | "Cannot serialise number: must not be NaN or Inf" true cjson true true"##,
        );
    }

    #[test]
    fn new_instance_from_instance() {
        check(r##"local c = cjson.new().new() return c.encode({x = {1, 2}}) .. ' ' .. S(c.encode_sparse_array())"##, r##"{"x":[1,2]} false"##);
    }

    #[test]
    fn option_names_end_at_nul() {
        check(
            r##"return P(cjson.new().encode_keep_buffer, 'on\0junk') .. ' ; ' .. P(cjson.new().encode_keep_buffer, 'x\0junk')"##,
            r##"true | true ; false | "bad argument #1 to '?' (invalid option 'x')""##,
        );
    }

    #[test]
    fn survives_garbage_collection() {
        check(
            r##"local c = cjson.new() c.encode_number_precision(3) collectgarbage() collectgarbage() local t = cjson.decode('[{"a":[1,2,"x"]},null]') local parts = {} for i = 1, 200 do parts[i] = cjson.encode(cjson.decode('{"k":[' .. i .. ']}')) end collectgarbage() collectgarbage() return cjson.encode(t) .. ' ' .. c.encode(1/3) .. ' ' .. parts[200] .. ' ' .. cjson.encode_max_depth()"##,
            r##"[{"a":[1,2,"x"]},null] 0.333 {"k":[200]} 1000"##,
        );
    }

    #[test]
    fn decode_array() {
        check(r##"return S(cjson.decode('[1,2,3]'))"##, r##"{1=1,2=2,3=3}"##);
    }

    #[test]
    fn decode_object_nested() {
        check(r##"return S(cjson.decode('{"a":{"b":[true,false,null]},"c":"d"}'))"##, r##"{"a"={"b"={1=true,2=false,3=NULL}},"c"="d"}"##);
    }

    #[test]
    fn decode_scalars() {
        check(
            r##"return S(cjson.decode('true')) .. ' ' .. S(cjson.decode('false')) .. ' ' .. S(cjson.decode('null')) .. ' ' .. S(cjson.decode('"s"')) .. ' ' .. S(cjson.decode('12'))"##,
            r##"true false NULL "s" 12"##,
        );
    }

    #[test]
    fn decode_empty_containers() {
        check(r##"return S(cjson.decode('[]')) .. ' ' .. S(cjson.decode('{}')) .. ' ' .. S(cjson.decode('[[],{}]'))"##, r##"{} {} {1={},2={}}"##);
    }

    #[test]
    fn decode_whitespace() {
        check(
            r##"return S(cjson.decode(' \t\n\r[ 1 ,\n2 ] \r\n')) .. ' ' .. P(cjson.decode, '\f1')"##,
            r##"{1=1,2=2} false | "Expected value but found invalid token at character 1""##,
        );
    }

    #[test]
    fn decode_string_escapes() {
        check(r##"return S(cjson.decode('"\\"\\\\\\/\\b\\f\\n\\r\\t"'))"##, r##"""\/\x08\x0c\x0a\x0d\x09""##);
    }

    #[test]
    fn decode_unicode_escapes() {
        check(
            r##"return S(cjson.decode('"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\u0000x\\uFFFF\\uDBFF\\uDFFF"'))"##,
            r##""A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x00x\xef\xbf\xbf\xf4\x8f\xbf\xbf""##,
        );
    }

    #[test]
    fn decode_unicode_errors() {
        check(
            r##"local r = {} for _, s in ipairs({'"\\u12"', '"\\u12g4"', '"\\udc00"', '"\\ud800"', '"\\ud800x"', '"\\ud800\\u0041"', '"\\ud800\\udbff"', '"ab\\u"', '"\\ud800\\u12"'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
            r##"false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 2" ; false | "Expected value but found invalid unicode escape code at character 4" ; false | "Expected value but found invalid unicode escape code at character 2""##,
        );
    }

    #[test]
    fn decode_string_errors() {
        check(
            r##"return P(cjson.decode, '"abc') .. ' ; ' .. P(cjson.decode, '"a\\xb"') .. ' ; ' .. P(cjson.decode, '"a\\') .. ' ; ' .. P(cjson.decode, '["a", "b\\q"]') .. ' ; ' .. P(cjson.decode, '"\\\'"')"##,
            r##"false | "Expected value but found unexpected end of string at character 5" ; false | "Expected value but found invalid escape code at character 3" ; false | "Expected value but found invalid escape code at character 3" ; false | "Expected value but found invalid escape code at character 9" ; false | "Expected value but found invalid escape code at character 2""##,
        );
    }

    #[test]
    fn decode_raw_control_chars() {
        check(r##"return S(cjson.decode('"a\tb\1\127\255"'))"##, r##""a\x09b\x01\x7f\xff""##);
    }

    #[test]
    fn decode_syntax_errors() {
        check(
            r##"local r = {} for _, s in ipairs({'', '[1,', '[1 2]', '{1:2}', '{"a" 1}', '{"a":1 "b"}', '{"a":1,}', '[1,]', '[1] x', ']', ':', ',', '{"a":}', '.5', 'tru', 'nul', 'fals', 'truex', '[true false]', '{"a":1}}', '  ', '[', '{', '{"a"', '{"a":', 'x', '\128'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
            r##"false | "Expected value but found T_END at character 1" ; false | "Expected value but found T_END at character 4" ; false | "Expected comma or array end but found T_NUMBER at character 4" ; false | "Expected object key string but found T_NUMBER at character 2" ; false | "Expected colon but found T_NUMBER at character 6" ; false | "Expected comma or object end but found T_STRING at character 8" ; false | "Expected object key string but found T_OBJ_END at character 8" ; false | "Expected value but found T_ARR_END at character 4" ; false | "Expected the end but found invalid token at character 5" ; false | "Expected value but found T_ARR_END at character 1" ; false | "Expected value but found T_COLON at character 1" ; false | "Expected value but found T_COMMA at character 1" ; false | "Expected value but found T_OBJ_END at character 6" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected the end but found invalid token at character 5" ; false | "Expected comma or array end but found T_BOOLEAN at character 7" ; false | "Expected the end but found T_OBJ_END at character 8" ; false | "Expected value but found T_END at character 3" ; false | "Expected value but found T_END at character 2" ; false | "Expected object key string but found T_END at character 2" ; false | "Expected colon but found T_END at character 5" ; false | "Expected value but found T_END at character 6" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1""##,
        );
    }

    #[test]
    fn decode_numbers() {
        check(
            r##"local r = {} for _, s in ipairs({'0', '-0', '1.5', '-1.5E-3', '1e5', '1E+2', '01', '+1', '1.', '0x10', '-0x1F', '0x1.8p1', '0X1P-2', '0xA.8', '1e400', '-1e400', '1e-400', '4.9e-324', '2.4703282292062327e-324', '123456789012345678901234567890', '0.1', '9007199254740993', '1.7976931348623157e308', '1.7976931348623159e308', '0x1p1024', '0x1p-1074', '0x1p-1075', '0x1.8p-1074', '0xfffffffffffffffff', '0x1.fffffffffffff8p0'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
            r##"true | 0 ; true | -0 ; true | 1.5 ; true | -0.0015 ; true | 100000 ; true | 100 ; true | 1 ; true | 1 ; true | 1 ; true | 16 ; true | -31 ; true | 3 ; true | 0.25 ; true | 10.5 ; true | inf ; true | -inf ; true | 0 ; true | 4.9406564584124654e-324 ; true | 0 ; true | 1.2345678901234568e+29 ; true | 0.10000000000000001 ; true | 9007199254740992 ; true | 1.7976931348623157e+308 ; true | inf ; true | inf ; true | 4.9406564584124654e-324 ; true | 0 ; true | 9.8813129168249309e-324 ; true | 2.9514790517935283e+20 ; true | 2"##,
        );
    }

    #[test]
    fn decode_inf_nan() {
        check(
            r##"local r = {} for _, s in ipairs({'inf', '-inf', 'INF', 'Infinity', '-infinity', 'infinit', 'nan', 'NaN', '-nan', 'nan(123)', 'nan(', 'nan(a_b)x', '+inf', 'in', 'i', 'N', 'n'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
            r##"true | inf ; true | -inf ; true | inf ; true | inf ; true | -inf ; false | "Expected the end but found invalid token at character 4" ; true | NaN ; true | NaN ; true | NaN ; true | NaN ; false | "Expected the end but found invalid token at character 4" ; false | "Expected the end but found invalid token at character 9" ; true | inf ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1" ; false | "Expected value but found invalid token at character 1""##,
        );
    }

    #[test]
    fn decode_number_errors() {
        check(
            r##"local r = {} for _, s in ipairs({'-', '- 1', '+', '+x', '-x', '1e', '1e+', '0x', '1.5.3', '-.5', '.5', '0x.8', '0xg', '1ee5', '[1e]', '[-]'}) do r[#r+1] = P(cjson.decode, s) end return table.concat(r, ' ; ')"##,
            r##"false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected value but found invalid number at character 1" ; false | "Expected the end but found invalid token at character 2" ; false | "Expected the end but found invalid token at character 2" ; false | "Expected the end but found invalid token at character 2" ; false | "Expected the end but found invalid token at character 4" ; true | -0.5 ; false | "Expected value but found invalid token at character 1" ; true | 0.5 ; false | "Expected the end but found invalid token at character 2" ; false | "Expected the end but found invalid token at character 2" ; false | "Expected comma or array end but found invalid token at character 3" ; false | "Expected value but found invalid number at character 2""##,
        );
    }

    #[test]
    fn decode_nul_bytes() {
        check(
            r##"return P(cjson.decode, '\0a') .. ' ; ' .. P(cjson.decode, 'a\0') .. ' ; ' .. P(cjson.decode, '[1]\0junk') .. ' ; ' .. P(cjson.decode, '"a\0b"') .. ' ; ' .. P(cjson.decode, '1') .. ' ; ' .. P(cjson.decode, '[1,\0]')"##,
            r##"false | "JSON parser does not support UTF-16 or UTF-32" ; false | "JSON parser does not support UTF-16 or UTF-32" ; true | {1=1} ; false | "Expected value but found unexpected end of string at character 3" ; true | 1 ; false | "Expected value but found T_END at character 4""##,
        );
    }

    #[test]
    fn decode_depth_default() {
        check(
            r##"return S(#cjson.encode(cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)))) .. ' ' .. P(cjson.decode, string.rep('[', 1001) .. string.rep(']', 1001)) .. ' ; ' .. P(cjson.decode, string.rep('{"a":', 1001))"##,
            r##"2000 false | "Found too many nested data structures (1001) at character 1001" ; false | "Found too many nested data structures (1001) at character 5001""##,
        );
    }

    #[test]
    fn decode_depth_stack_limit() {
        check(
            r##"cjson.decode_max_depth(100000) return P(cjson.decode, string.rep('[', 10000)) .. ' ; ' .. P(cjson.decode, string.rep('{"a":', 10000)) .. ' ; ' .. P(cjson.decode, string.rep('[{"a":', 5000))"##,
            r##"false | "Found too many nested data structures (7999) at character 7999" ; false | "Found too many nested data structures (4000) at character 19996" ; false | "Found too many nested data structures (5333) at character 15997""##,
        );
    }

    #[test]
    fn decode_arg_errors() {
        check(
            r##"return P(cjson.decode) .. ' ; ' .. P(cjson.decode, '1', 2) .. ' ; ' .. P(cjson.decode, {}) .. ' ; ' .. P(cjson.decode, nil) .. ' ; ' .. P(cjson.decode, 123) .. ' ; ' .. P(cjson.decode, true)"##,
            r##"false | "bad argument #1 to '?' (expected 1 argument)" ; false | "bad argument #1 to '?' (expected 1 argument)" ; false | "bad argument #1 to '?' (string expected, got table)" ; false | "bad argument #1 to '?' (string expected, got nil)" ; true | 123 ; false | "bad argument #1 to '?' (string expected, got boolean)""##,
        );
    }

    #[test]
    fn decode_error_position() {
        check(
            r##"return P(function() return cjson.decode('[') end) .. ' ; ' .. P(function() return cjson.decode() end) .. ' ; ' .. P(function() return cjson.decode('\0\0') end)"##,
            r##"false | "user_script:1: Expected value but found T_END at character 2" ; false | "user_script:1: bad argument #1 to 'decode' (expected 1 argument)" ; false | "user_script:1: JSON parser does not support UTF-16 or UTF-32""##,
        );
    }

    #[test]
    fn decode_duplicate_keys() {
        check(r##"return S(cjson.decode('{"a":1,"a":2,"b":null}'))"##, r##"{"a"=2,"b"=NULL}"##);
    }

    #[test]
    fn decode_array_with_nulls() {
        check(r##"local t = cjson.decode('[null,1,null]') return #t .. ' ' .. S(t)"##, r##"3 {1=NULL,2=1,3=NULL}"##);
    }

    #[test]
    fn decode_large_array() {
        check(r##"local t = cjson.decode('[' .. string.rep('7,', 999) .. '7]') return #t .. ' ' .. t[1000]"##, r##"1000 7"##);
    }

    #[test]
    fn roundtrip_strings() {
        check(
            r##"local s = '' for i = 0, 255 do s = s .. string.char(i) end return tostring(cjson.decode(cjson.encode(s)) == s) .. ' ' .. #cjson.encode(s)"##,
            r##"true 406"##,
        );
    }

    #[test]
    fn roundtrip_numbers() {
        check(
            r##"local r = {} for _, n in ipairs({0.1, 1/3, 2^53, 1e-300, 123.456, -7}) do r[#r+1] = S(cjson.decode(cjson.encode(n))) end return table.concat(r, ' ')"##,
            r##"0.10000000000000001 0.33333333333332998 9007199254741000 1e-300 123.456 -7"##,
        );
    }

    #[test]
    fn encode_decoded_structure() {
        check(r##"return cjson.encode(cjson.decode('[{"k":[1,2.5,"x",null,true]}]'))"##, r##"[{"k":[1,2.5,"x",null,true]}]"##);
    }

    #[test]
    fn encode_escaped_keys() {
        check(r##"return cjson.encode({['a"/\n'] = {[0.1] = 'v/'}})"##, r##"{"a\"\/\n":{"0.1":"v\/"}}"##);
    }

    #[test]
    fn encode_string_numbers() {
        check(r##"return cjson.encode({'1', '1.5', ''})"##, r##"["1","1.5",""]"##);
    }
}

// Property tests need proptest, which the wasm build does not carry.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;
    use rilua::{Lua, LuaApiMut, StdLib};

    /// Decodes `input` with both number modes and re-encodes what decoded; returns
    /// a report string so that any Lua-level failure of the checks shows up.
    fn decode_reencode(input: &[u8]) -> String {
        let mut lua = Lua::new_with(StdLib::BASE | StdLib::STRING | StdLib::TABLE | StdLib::MATH).expect("lua state");
        open(lua.state_mut()).expect("open cjson");
        lua.set_global("input", input).expect("set input");
        let script = r#"
            local out = {}
            for _, strict in ipairs({false, true}) do
                local c = cjson.new()
                c.decode_invalid_numbers(not strict)
                c.encode_invalid_numbers(true)
                local ok, v = pcall(c.decode, input)
                if ok then
                    local eok, e = pcall(c.encode, v)
                    if not eok then out[#out + 1] = 'encode failed: ' .. e end
                elseif type(v) ~= 'string' then
                    out[#out + 1] = 'non-string error'
                end
            end
            result = table.concat(out, ';')
        "#;
        lua.exec(script).expect("script runs");
        lua.global::<String>("result").expect("result string")
    }

    proptest! {
        /// Nothing a script can pass to decode panics, and whatever decodes encodes.
        #[test]
        fn decode_any_bytes(input in proptest::collection::vec(
            prop_oneof![
                Just(b'['), Just(b']'), Just(b'{'), Just(b'}'), Just(b','), Just(b':'),
                Just(b'"'), Just(b'\\'), Just(b'u'), Just(b'd'), Just(b'8'), Just(b'0'),
                Just(b'-'), Just(b'+'), Just(b'.'), Just(b'e'), Just(b'x'), Just(b'p'),
                Just(b'n'), Just(b'i'), Just(b't'), Just(b' '), any::<u8>(),
            ],
            0..40,
        )) {
            prop_assert_eq!(decode_reencode(&input), "");
        }

        /// Generated documents always decode and re-encode.
        #[test]
        fn decode_documents(doc in r#"(\[|\{"k[0-9]":|[0-9]{1,20}(\.[0-9]{1,5})?(e-?[0-9]{1,3})?,|"[a-z\\/]{0,4}",|null,|true,|0x[0-9a-f]{1,20}(p-?[0-9]{1,4})?,|\]|\}){0,30}"#) {
            prop_assert_eq!(decode_reencode(doc.as_bytes()), "");
        }
    }

    /// Huge scaled hex floats land on the right side of the overflow and underflow edges.
    #[test]
    fn hex_float_edges() {
        let at = |s: &str| strtod(s.as_bytes(), 0).map(|(v, _)| v);
        assert_eq!(at("0x1p1023"), Some(f64::from_bits(0x7fe0_0000_0000_0000)));
        assert_eq!(at("0x1.fffffffffffff8p1023"), Some(f64::INFINITY));
        assert_eq!(at("0x1.fffffffffffff7p1023"), Some(f64::MAX));
        assert_eq!(at("0x1p-1074"), Some(f64::from_bits(1)));
        assert_eq!(at("0x1.0000000000001p-1075"), Some(f64::from_bits(1)));
        assert_eq!(at("0x1p999999999999999999999"), Some(f64::INFINITY));
        assert_eq!(at("0x1p-999999999999999999999"), Some(0.0));
        assert_eq!(at("0x0000000000000000000000001p0"), Some(1.0));
        assert_eq!(at("0x10000000000000000000001p-88"), Some(f64::from_bits(0x3ff0_0000_0000_0000)));
    }
}
