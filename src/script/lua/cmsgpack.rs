//! The `cmsgpack` library of Redis's Lua: lua-cmsgpack 0.4.0 (Redis:
//! deps/lua/src/lua_cmsgpack.c), MessagePack for Lua 5.1 values.
//!
//! Besides the encoding choices, Redis scripts can observe where the C code
//! runs out of Lua stack (`luaL_checkstack` against LUAI_MAXCSTACK), since
//! those limits surface as "stack overflow (...)" errors for big argument
//! lists, long streams and deep nesting. We track the stack depth the C code
//! would have at each check and fail at exactly the same points.

use rilua::vm::gc::arena::GcRef;
use rilua::vm::state::LuaState;
use rilua::vm::table::Table as RawTable;
use rilua::{LuaError, LuaResult, RustFn, Table, Val};

use super::structlib::{c_double_to_i64, double_to_float, float_to_double};

const NAME: &str = "cmsgpack";
const VERSION: &str = "lua-cmsgpack 0.4.0";
const COPYRIGHT: &str = "Copyright (C) 2012, Salvatore Sanfilippo";
const DESCRIPTION: &str = "MessagePack C implementation for Lua";

/// Tables nested deeper than this are encoded as nil, which is what keeps
/// self-referencing tables from recursing forever.
const MAX_NESTING: usize = 16;
/// `LUAI_MAXCSTACK`: the most stack slots one C call may hold.
const MAXCSTACK: usize = 8000;

fn nargs(state: &LuaState) -> usize {
    state.top.saturating_sub(state.base)
}

/// `luaL_checkstack(L, space, msg)` for a C frame that currently holds
/// `used` slots.
fn checkstack(used: usize, space: usize, msg: &str) -> LuaResult<()> {
    if used.saturating_add(space) > MAXCSTACK {
        Err(rilua::runtime_error(format!("stack overflow ({msg})")))
    } else {
        Ok(())
    }
}

/// `(int)d` as x86-64 compiles it: out of range gives INT_MIN.
fn c_double_to_i32(d: f64) -> i32 {
    if d.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&d) {
        i32::MIN
    } else {
        d as i32
    }
}

// ------------------------------------------------------------------ encoding

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        // Lengths past 4 GiB are truncated in the header, as in C.
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// Single precision whenever it represents the number exactly, which makes
/// infinities floats and NaN a double.
fn encode_double(out: &mut Vec<u8>, d: f64) {
    let f = double_to_float(d);
    if d == f64::from(f) {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

/// The smallest MessagePack integer form; non-negative values always use
/// the unsigned forms.
fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&n.to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Array and map headers share a layout: fix form, 16-bit, 32-bit.
fn encode_header(out: &mut Vec<u8>, n: usize, fix: u8, wide16: u8, wide32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(wide16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(wide32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Lua 5.1 has only doubles: a number goes out as an integer when the
/// int64 conversion round-trips, otherwise as a float or double.
fn encode_number(out: &mut Vec<u8>, n: f64) {
    let i = c_double_to_i64(n);
    if !n.is_infinite() && i as f64 == n {
        encode_int(out, i);
    } else {
        encode_double(out, n);
    }
}

/// The pairs in `lua_next` order, gathered once: the C code walks the
/// table twice (to count, then to encode) and nothing can change it between.
fn entries(state: &LuaState, t: GcRef<RawTable>) -> LuaResult<Vec<(Val, Val)>> {
    let Some(table) = state.gc.tables.get(t) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut key = Val::Nil;
    while let Some((k, v)) = table.next(key, &state.gc.string_arena)? {
        out.push((k, v));
        key = k;
    }
    Ok(out)
}

/// `table_is_an_array`: only positive integer keys (within C int range)
/// with no holes, i.e. the largest key equals the number of keys. An empty
/// table qualifies and is sent as an empty array.
fn is_array(entries: &[(Val, Val)]) -> bool {
    let mut count: i64 = 0;
    let mut max: i32 = 0;
    for (k, _) in entries {
        let Val::Num(n) = *k else { return false };
        if n <= 0.0 || f64::from(c_double_to_i32(n)) != n {
            return false;
        }
        max = max.max(c_double_to_i32(n));
        count += 1;
    }
    i64::from(max) == count
}

/// `mp_encode_lua_type` for `v`, which sits at stack depth `used` (slots the
/// C frame holds, `v` included) and `level` tables deep.
fn encode(state: &LuaState, out: &mut Vec<u8>, v: Val, level: usize, used: usize, room: usize) -> LuaResult<()> {
    // The same string may be packed any number of times: past the heap's room the
    // result could not be kept anyway (a failed allocation in C).
    if out.len() > room {
        return Err(LuaError::Memory);
    }
    match v {
        Val::Str(r) => {
            let bytes = state.gc.string_arena.get(r).map_or(&[][..], |s| s.data());
            encode_bytes(out, bytes);
        }
        Val::Bool(b) => out.push(if b { 0xc3 } else { 0xc2 }),
        Val::Num(n) => encode_number(out, n),
        Val::Table(t) if level < MAX_NESTING => {
            checkstack(used, 2, "in function table_is_an_array")?;
            let all = entries(state, t)?;
            if is_array(&all) {
                // lua_objlen; with keys exactly 1..n it can only be n.
                let len = state.gc.tables.get(t).map_or(0, |tb| tb.len(&state.gc.string_arena));
                encode_header(out, len, 0x90, 0xdc, 0xdd);
                checkstack(used, 1, "in function mp_encode_lua_table_as_array")?;
                let table = Table::from_gc_ref(t);
                for j in 1..=len {
                    let item = table.raw_get(state, Val::Num(j as f64))?;
                    encode(state, out, item, level + 1, used + 1, room)?;
                }
            } else {
                checkstack(used, 3, "in function mp_encode_lua_table_as_map")?;
                encode_header(out, all.len(), 0x80, 0xde, 0xdf);
                for (k, item) in all {
                    encode(state, out, k, level + 1, used + 3, room)?;
                    encode(state, out, item, level + 1, used + 2, room)?;
                }
            }
        }
        // nil, functions, userdata, threads, and tables past the limit.
        _ => out.push(0xc0),
    }
    Ok(())
}

fn mp_pack(state: &mut LuaState) -> LuaResult<u32> {
    let n = nargs(state);
    if n == 0 {
        return Err(state.arg_error(0, "MessagePack pack needs input."));
    }
    // lua_checkstack(L, nargs) on top of the nargs arguments.
    if n.saturating_mul(2) > MAXCSTACK {
        return Err(state.arg_error(0, "Too many arguments for MessagePack pack."));
    }
    let room = usize::try_from(super::guard::heap_room(state)).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for i in 1..=n {
        // Earlier arguments' encodings stay on the C stack until the final
        // lua_concat, so each argument is encoded a little higher up.
        let used = n + i - 1;
        checkstack(used, 1, "in function mp_check")?;
        let v = state.stack_get(state.base + i - 1);
        encode(state, &mut out, v, 0, used + 1, room)?;
    }
    let s = state.gc.intern_string(&out);
    state.push(Val::Str(s));
    Ok(1)
}

// ------------------------------------------------------------------ decoding

/// Why decoding stopped: the C cursor's error codes, plus errors that the C
/// code raises on the spot.
enum DecodeError {
    Eof,
    BadFormat,
    Lua(LuaError),
}

impl From<LuaError> for DecodeError {
    fn from(e: LuaError) -> Self {
        DecodeError::Lua(e)
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    /// `mp_cur_need` followed by reading: `n` bytes after the current one
    /// (the type byte), or EOF.
    fn peek(&self, from: usize, n: usize) -> Result<&[u8], DecodeError> {
        let start = self.pos.checked_add(from).ok_or(DecodeError::Eof)?;
        let end = start.checked_add(n).ok_or(DecodeError::Eof)?;
        self.data.get(start..end).ok_or(DecodeError::Eof)
    }

    fn be(&self, from: usize, n: usize) -> Result<u64, DecodeError> {
        Ok(self.peek(from, n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn consume(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.data.len());
    }
}

/// What one type byte starts: a complete value or a container to fill.
enum Item {
    Value(Val),
    Array(u64),
    Map(u64),
}

fn read_string(state: &mut LuaState, c: &mut Cursor<'_>, hdr: usize, len: usize) -> Result<Item, DecodeError> {
    let bytes = c.peek(hdr, len)?;
    let s = state.gc.intern_string(bytes);
    c.consume(hdr + len);
    Ok(Item::Value(Val::Str(s)))
}

/// One step of `mp_decode_to_lua_type`: the type byte and its payload.
fn read_item(state: &mut LuaState, c: &mut Cursor<'_>) -> Result<Item, DecodeError> {
    let Some(&b) = c.data.get(c.pos) else {
        return Err(DecodeError::Eof);
    };
    let num = |x: f64| Item::Value(Val::Num(x));
    let item = match b {
        0xcc => num(c.be(1, 1)? as f64),
        0xd0 => num(f64::from(c.be(1, 1)? as u8 as i8)),
        0xcd => num(c.be(1, 2)? as f64),
        0xd1 => num(f64::from(c.be(1, 2)? as u16 as i16)),
        0xce => num(c.be(1, 4)? as f64),
        0xd2 => num(f64::from(c.be(1, 4)? as u32 as i32)),
        // lua_pushinteger takes a signed ptrdiff_t, so the top half of the
        // uint64 range comes back negative.
        0xcf => num(c.be(1, 8)? as i64 as f64),
        0xd3 => num(c.be(1, 8)? as i64 as f64),
        0xc0 => Item::Value(Val::Nil),
        0xc3 => Item::Value(Val::Bool(true)),
        0xc2 => Item::Value(Val::Bool(false)),
        0xca => num(float_to_double(f32::from_bits(c.be(1, 4)? as u32))),
        0xcb => num(f64::from_bits(c.be(1, 8)?)),
        0xd9 => {
            let len = c.be(1, 1)? as usize;
            return read_string(state, c, 2, len);
        }
        0xda => {
            let len = c.be(1, 2)? as usize;
            return read_string(state, c, 3, len);
        }
        0xdb => {
            let len = usize::try_from(c.be(1, 4)?).map_err(|_| DecodeError::Eof)?;
            return read_string(state, c, 5, len);
        }
        0xdc => {
            let len = c.be(1, 2)?;
            c.consume(3);
            return Ok(Item::Array(len));
        }
        0xdd => {
            let len = c.be(1, 4)?;
            c.consume(5);
            return Ok(Item::Array(len));
        }
        0xde => {
            let len = c.be(1, 2)?;
            c.consume(3);
            return Ok(Item::Map(len));
        }
        0xdf => {
            let len = c.be(1, 4)?;
            c.consume(5);
            return Ok(Item::Map(len));
        }
        _ if b & 0x80 == 0 => {
            c.consume(1);
            return Ok(num(f64::from(b)));
        }
        _ if b & 0xe0 == 0xe0 => {
            c.consume(1);
            return Ok(num(f64::from(b as i8)));
        }
        _ if b & 0xe0 == 0xa0 => return read_string(state, c, 1, usize::from(b & 0x1f)),
        _ if b & 0xf0 == 0x90 => {
            c.consume(1);
            return Ok(Item::Array(u64::from(b & 0x0f)));
        }
        _ if b & 0xf0 == 0x80 => {
            c.consume(1);
            return Ok(Item::Map(u64::from(b & 0x0f)));
        }
        // 0xc1 and the bin/ext families, which this version predates.
        _ => return Err(DecodeError::BadFormat),
    };
    let width = match b {
        0xc0 | 0xc2 | 0xc3 => 1,
        0xcc | 0xd0 => 2,
        0xcd | 0xd1 => 3,
        0xce | 0xd2 | 0xca => 5,
        _ => 9,
    };
    c.consume(width);
    Ok(item)
}

/// A container being filled. `used` is the C stack depth once the table
/// itself has been pushed.
enum Frame {
    Array { t: GcRef<RawTable>, left: u64, index: f64, used: usize },
    Map { t: GcRef<RawTable>, left: u64, key: Option<Val>, used: usize },
}

fn new_table(state: &mut LuaState) -> GcRef<RawTable> {
    state.gc.alloc_table(RawTable::new())
}

/// `lua_settable` on a fresh table: a nil or NaN key is an error raised
/// from inside the C function, so, unlike luaL_error, without a position.
fn settable(state: &mut LuaState, t: GcRef<RawTable>, k: Val, v: Val) -> Result<(), DecodeError> {
    let msg: &[u8] = match k {
        Val::Nil => b"table index is nil",
        Val::Num(n) if n.is_nan() => b"table index is NaN",
        _ => {
            Table::from_gc_ref(t).raw_set(state, k, v)?;
            state.gc.barrier_back(t);
            return Ok(());
        }
    };
    let s = state.gc.intern_string(msg);
    state.error_object = Some(Val::Str(s));
    Err(DecodeError::Lua(rilua::runtime_error(String::from_utf8_lossy(msg).into_owned())))
}

/// Decodes one complete value whose slot would be pushed at C stack depth
/// `used`. Iterative so that hostile nesting cannot exhaust the Rust stack;
/// the depth bookkeeping reproduces where the recursive C code would stop.
fn decode_value(state: &mut LuaState, c: &mut Cursor<'_>, mut used: usize) -> Result<Val, DecodeError> {
    let mut frames: Vec<Frame> = Vec::new();
    loop {
        if c.left() == 0 {
            return Err(DecodeError::Eof);
        }
        checkstack(used, 1, "too many return values at once; use unpack_one or unpack_limit instead.")?;
        let mut v = match read_item(state, c)? {
            Item::Value(v) => v,
            Item::Array(len) => {
                let t = new_table(state);
                checkstack(used + 1, 1, "in function mp_decode_to_lua_array")?;
                if len > 0 {
                    frames.push(Frame::Array { t, left: len, index: 1.0, used: used + 1 });
                    // The element goes on top of the table and its index.
                    used += 2;
                    continue;
                }
                Val::Table(t)
            }
            Item::Map(len) => {
                let t = new_table(state);
                if len > 0 {
                    frames.push(Frame::Map { t, left: len, key: None, used: used + 1 });
                    used += 1;
                    continue;
                }
                Val::Table(t)
            }
        };
        // Hand the finished value to its container, closing every container
        // it completes, until one still wants more or the top is reached.
        loop {
            match frames.last_mut() {
                None => return Ok(v),
                Some(Frame::Array { t, left, index, used: depth }) => {
                    let (t, k) = (*t, Val::Num(*index));
                    *index += 1.0;
                    *left -= 1;
                    let (more, depth) = (*left > 0, *depth);
                    settable(state, t, k, v)?;
                    if more {
                        used = depth + 1;
                        break;
                    }
                    frames.pop();
                    v = Val::Table(t);
                }
                Some(Frame::Map { t, left, key, used: depth }) => {
                    let depth = *depth;
                    let Some(k) = key.take() else {
                        *key = Some(v);
                        used = depth + 1;
                        break;
                    };
                    let t = *t;
                    *left -= 1;
                    let more = *left > 0;
                    settable(state, t, k, v)?;
                    if more {
                        used = depth;
                        break;
                    }
                    frames.pop();
                    v = Val::Table(t);
                }
            }
        }
    }
}

/// `mp_unpack_full`. `used` is how many argument slots the C frame still
/// holds (all of them for `unpack`, just the string for the other two).
fn unpack_full(state: &mut LuaState, limit: i64, offset: i64, used: usize) -> LuaResult<u32> {
    let data = state.check_string(1)?;
    let len = data.len();
    if offset < 0 || limit < 0 {
        // The C message prints the input length where it means the limit.
        return Err(rilua::runtime_error(format!("Invalid request to unpack with offset of {} and limit of {}.", offset as i32, len as i32)));
    }
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    if start > len {
        return Err(rilua::runtime_error(format!("Start offset {} greater than input length {}.", offset as i32, len as i32)));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { i64::from(i32::MAX) } else { limit };

    let mut c = Cursor { data: &data, pos: start };
    let mut values = Vec::new();
    let mut cnt: i64 = 0;
    while c.left() > 0 && cnt < limit {
        match decode_value(state, &mut c, used + values.len()) {
            Ok(v) => values.push(v),
            Err(DecodeError::Eof) => return Err(rilua::runtime_error("Missing bytes in input.")),
            Err(DecodeError::BadFormat) => return Err(rilua::runtime_error("Bad data format in input.")),
            Err(DecodeError::Lua(e)) => return Err(e),
        }
        cnt += 1;
    }

    let mut results = values.len();
    if !decode_all {
        checkstack(used + values.len(), 1, "in function mp_unpack_full")?;
        // -1 once the whole input has been consumed, else where to resume.
        let next = if c.left() == 0 { -1.0 } else { c.pos as f64 };
        state.push(Val::Num(next));
        results += 1;
    }
    for v in values {
        state.push(v);
    }
    u32::try_from(results).map_err(|_| rilua::runtime_error("stack overflow"))
}

fn mp_unpack(state: &mut LuaState) -> LuaResult<u32> {
    let used = nargs(state);
    unpack_full(state, 0, 0, used)
}

/// `luaL_optinteger`: absent or nil gives the default.
fn opt_integer(state: &LuaState, n: usize, default: i64) -> LuaResult<i64> {
    if nargs(state) < n || state.stack_get(state.base + n - 1).is_nil() {
        Ok(default)
    } else {
        Ok(c_double_to_i64(state.check_number(n)?))
    }
}

fn mp_unpack_one(state: &mut LuaState) -> LuaResult<u32> {
    let offset = opt_integer(state, 2, 0)?;
    let used = nargs(state).min(1);
    unpack_full(state, 1, offset, used)
}

fn mp_unpack_limit(state: &mut LuaState) -> LuaResult<u32> {
    let limit = c_double_to_i64(state.check_number(2)?);
    let offset = opt_integer(state, 3, 0)?;
    let used = nargs(state).min(1);
    unpack_full(state, limit, offset, used)
}

const FUNCS: [(&str, RustFn); 4] = [("pack", mp_pack), ("unpack", mp_unpack), ("unpack_one", mp_unpack_one), ("unpack_limit", mp_unpack_limit)];

/// Creates the global `cmsgpack` table with its functions and metadata.
pub fn open(state: &mut LuaState) -> LuaResult<()> {
    super::open_library(state, NAME, &FUNCS, &[("_NAME", NAME), ("_VERSION", VERSION), ("_COPYRIGHT", COPYRIGHT), ("_DESCRIPTION", DESCRIPTION)])
}

#[cfg(test)]
mod tests {

    fn run(case: &str) -> String {
        super::super::libtest::run(super::open, case)
    }

    /// Maps are written in `next` order. For string keys rilua agrees with
    /// Lua 5.1.5, but it hashes numbers the Lua 5.1.1 way, so maps mixing in
    /// numeric (or table) keys may come out in another order than Redis's;
    /// such cases are checked through their header, length and round trip.
    #[rustfmt::skip]
    const CASES: &[(&str, &str)] = &[
        (r#"type(cmsgpack), type(cmsgpack.pack), type(cmsgpack.unpack), type(cmsgpack.unpack_one), type(cmsgpack.unpack_limit), cmsgpack.nope"#, r#""table" "function" "function" "function" "function" nil"#),
        (r#"cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION"#, r#""cmsgpack" "lua-cmsgpack 0.4.0" "Copyright (C) 2012, Salvatore Sanfilippo" "MessagePack C implementation for Lua""#),
        (r#"hex(cmsgpack.pack(0)), hex(cmsgpack.pack(1)), hex(cmsgpack.pack(127)), hex(cmsgpack.pack(128)), hex(cmsgpack.pack(255)), hex(cmsgpack.pack(256)), hex(cmsgpack.pack(65535)), hex(cmsgpack.pack(65536))"#, r#""00" "01" "7f" "cc80" "ccff" "cd0100" "cdffff" "ce00010000""#),
        (r#"hex(cmsgpack.pack(2^32 - 1)), hex(cmsgpack.pack(2^32)), hex(cmsgpack.pack(2^53)), hex(cmsgpack.pack(2^63 - 2^10)), hex(cmsgpack.pack(2^63)), hex(cmsgpack.pack(2^64))"#, r#""ceffffffff" "cf0000000100000000" "cf0020000000000000" "cf7ffffffffffffc00" "ca5f000000" "ca5f800000""#),
        (r#"hex(cmsgpack.pack(-1)), hex(cmsgpack.pack(-32)), hex(cmsgpack.pack(-33)), hex(cmsgpack.pack(-128)), hex(cmsgpack.pack(-129)), hex(cmsgpack.pack(-32768)), hex(cmsgpack.pack(-32769))"#, r#""ff" "e0" "d0df" "d080" "d1ff7f" "d18000" "d2ffff7fff""#),
        (r#"hex(cmsgpack.pack(-2^31)), hex(cmsgpack.pack(-2^31 - 1)), hex(cmsgpack.pack(-2^53)), hex(cmsgpack.pack(-2^63)), hex(cmsgpack.pack(-2^63 - 2^11)), hex(cmsgpack.pack(-tonumber('0')))"#, r#""d280000000" "d3ffffffff7fffffff" "d3ffe0000000000000" "d38000000000000000" "cbc3e0000000000001" "00""#),
        (r#"hex(cmsgpack.pack(0.5)), hex(cmsgpack.pack(-1.5)), hex(cmsgpack.pack(0.1)), hex(cmsgpack.pack(1/3)), hex(cmsgpack.pack(1e300)), hex(cmsgpack.pack(3.4028234663852886e38)), hex(cmsgpack.pack(1e39)), hex(cmsgpack.pack(2^-149))"#, r#""ca3f000000" "cabfc00000" "cb3fb999999999999a" "cb3fd5555555555555" "cb7e37e43c8800759c" "ca7f7fffff" "cb48078287f49c4a1d" "ca00000001""#),
        (r#"hex(cmsgpack.pack(1/0)), hex(cmsgpack.pack(-1/0)), hex(cmsgpack.pack(0/0)), hex(cmsgpack.pack(-(0/0))), hex(cmsgpack.pack(2^-1074))"#, r#""ca7f800000" "caff800000" "cbfff8000000000000" "cb7ff8000000000000" "cb0000000000000001""#),
        (r#"hex(cmsgpack.pack('')), hex(cmsgpack.pack('a')), hex(cmsgpack.pack('a\0b')), hex(cmsgpack.pack(string.rep('x', 31))), string.sub(hex(cmsgpack.pack(string.rep('x', 32))), 1, 8)"#, r#""a0" "a161" "a3610062" "bf78787878787878787878787878787878787878787878787878787878787878" "d9207878""#),
        (r#"#cmsgpack.pack(string.rep('x', 32)), string.sub(hex(cmsgpack.pack(string.rep('x', 255))), 1, 6), string.sub(hex(cmsgpack.pack(string.rep('x', 256))), 1, 8), string.sub(hex(cmsgpack.pack(string.rep('x', 65535))), 1, 8), string.sub(hex(cmsgpack.pack(string.rep('x', 65536))), 1, 12), #cmsgpack.pack(string.rep('x', 65536))"#, r#"34 "d9ff78" "da010078" "daffff78" "db0001000078" 65541"#),
        (r#"hex(cmsgpack.pack(true)), hex(cmsgpack.pack(false)), hex(cmsgpack.pack(nil)), hex(cmsgpack.pack(tostring)), hex(cmsgpack.pack(cmsgpack.pack))"#, r#""c3" "c2" "c0" "c0" "c0""#),
        (r#"hex(cmsgpack.pack({})), hex(cmsgpack.pack({1, 2, 3})), hex(cmsgpack.pack({'a', {true}, {}})), hex(cmsgpack.pack({1, nil, 3})), hex(cmsgpack.pack({[2] = 1})), hex(cmsgpack.pack({[0] = 1}))"#, r#""90" "93010203" "93a16191c390" "8201010303" "810201" "810001""#),
        (r#"hex(cmsgpack.pack({a = 1})), hex(cmsgpack.pack({[1.5] = 1})), hex(cmsgpack.pack({[-1] = 1})), hex(cmsgpack.pack({[2^31] = 1})), hex(cmsgpack.pack({[true] = false}))"#, r#""81a16101" "81ca3fc0000001" "81ff01" "81ce8000000001" "81c3c2""#),
        (r#"local s = cmsgpack.pack({[1] = 'x', [2] = 'y', n = 2}) return R(#s, string.sub(hex(s), 1, 2), cmsgpack.unpack(s))"#, r#"10 "83" {"n"=2,1="x",2="y"}"#),
        (r#"hex(cmsgpack.pack({a=1, b=2, c=3, d=4, e=5}))"#, r#""85a16101a16303a16202a16505a16404""#),
        (r#"local s = cmsgpack.pack({x=1, [1.5]=2, [true]=3, [10]=4, foo={1}}) return R(#s, string.sub(hex(s), 1, 2), cmsgpack.unpack(s))"#, r#"20 "85" {"foo"={1=1},"x"=1,1.5=2,10=4,true=3}"#),
        (r#"hex(cmsgpack.pack({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})), hex(cmsgpack.pack({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))"#, r#""9f0102030405060708090a0b0c0d0e0f" "dc00100102030405060708090a0b0c0d0e0f10""#),
        (r#"string.sub(hex(cmsgpack.pack((function() local t = {} for i = 1, 65535 do t[i] = 0 end return t end)())), 1, 10), string.sub(hex(cmsgpack.pack((function() local t = {} for i = 1, 65536 do t[i] = 0 end return t end)())), 1, 14)"#, r#""dcffff0000" "dd000100000000""#),
        (r#"string.sub(hex(cmsgpack.pack((function() local t = {} for i = 1, 16 do t['k' .. i] = 0 end return t end)())), 1, 6), string.sub(hex(cmsgpack.pack((function() local t = {} for i = 1, 65536 do t[-i] = 0 end return t end)())), 1, 10)"#, r#""de0010" "df00010000""#),
        (r#"local t = {} t[1] = t return R(hex(cmsgpack.pack(t)))"#, r#""91919191919191919191919191919191c0""#),
        (r#"local t = {} t.a = t return R(hex(cmsgpack.pack(t)))"#, r#""81a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a161c0""#),
        (r#"local t = {} t[t] = 1 return R(#cmsgpack.pack(t), string.sub(hex(cmsgpack.pack(t)), 1, 12))"#, r#"33 "818181818181""#),
        (r#"local t = {{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}} return R(hex(cmsgpack.pack(t)), hex(cmsgpack.pack({t})))"#, r#""91919191919191919191919191919191c0" "91919191919191919191919191919191c0""#),
        (r#"hex(cmsgpack.pack(1, 'a', {}, nil, true)), hex(cmsgpack.pack(nil, nil))"#, r#""01a16190c0c3" "c0c0""#),
        (r#"local mt = setmetatable({}, {__index = function() return 1 end}) return R(hex(cmsgpack.pack(mt)), hex(cmsgpack.pack(setmetatable({5}, {__len = function() return 9 end}))))"#, r#""90" "9105""#),
        (r#"pcall(cmsgpack.pack)"#, r#"false "bad argument #0 to '?' (MessagePack pack needs input.)""#),
        (r#"pcall(function() return cmsgpack.pack() end)"#, r#"false "user_script:23: bad argument #0 to 'pack' (MessagePack pack needs input.)""#),
        (r#"pcall(cmsgpack.pack, unpack((function() local t = {} for i = 1, 4001 do t[i] = i end return t end)()))"#, r#"false "bad argument #0 to '?' (Too many arguments for MessagePack pack.)""#),
        (r#"#cmsgpack.pack(unpack((function() local t = {} for i = 1, 4000 do t[i] = i end return t end)()))"#, r#"11618"#),
        (r#"pcall(cmsgpack.pack, unpack((function() local t = {} for i = 1, 4000 do t[i] = i end t[4000] = {} return t end)()))"#, r#"false "stack overflow (in function table_is_an_array)""#),
        (r#"pcall(cmsgpack.pack, unpack((function() local t = {} for i = 1, 4000 do t[i] = i end t[3998] = {{}} return t end)()))"#, r#"false "stack overflow (in function table_is_an_array)""#),
        (r#"#cmsgpack.pack(unpack((function() local t = {} for i = 1, 4000 do t[i] = i end t[3998] = {1} return t end)()))"#, r#"11617"#),
        (r#"local ok, s = pcall(cmsgpack.pack, unpack((function() local t = {} for i = 1, 4000 do t[i] = i end t[3997] = {x = 1} return t end)())) return R(ok, #s, hex(string.sub(s, -20)))"#, r#"true 11619 "9acd0f9bcd0f9c81a17801cd0f9ecd0f9fcd0fa0""#),
        (r#"local ok, s = pcall(cmsgpack.pack, unpack((function() local t = {} for i = 1, 4000 do t[i] = i end t[3995] = {x = {1}} return t end)())) return R(ok, #s, hex(string.sub(s, -20)))"#, r#"true 11620 "81a1789101cd0f9ccd0f9dcd0f9ecd0f9fcd0fa0""#),
        (r#"cmsgpack.unpack('\0'), cmsgpack.unpack('\127'), cmsgpack.unpack('\255'), cmsgpack.unpack('\224'), cmsgpack.unpack('\204\200'), cmsgpack.unpack('\208\200'), cmsgpack.unpack('\205\1\2'), cmsgpack.unpack('\209\255\254')"#, r#"0 127 -1 -32 200 -56 258 -2"#),
        (r#"cmsgpack.unpack('\206\255\255\255\255'), cmsgpack.unpack('\210\128\0\0\0'), cmsgpack.unpack('\207\0\0\0\1\0\0\0\0'), cmsgpack.unpack('\207\255\255\255\255\255\255\255\255'), cmsgpack.unpack('\207\128\0\0\0\0\0\0\0'), cmsgpack.unpack('\211\128\0\0\0\0\0\0\0'), cmsgpack.unpack('\211\0\32\0\0\0\0\0\1')"#, r#"4294967295 -2147483648 4294967296 -1 -9.2233720368547758e+18 -9.2233720368547758e+18 9007199254740992"#),
        (r#"cmsgpack.unpack('\192'), cmsgpack.unpack('\195'), cmsgpack.unpack('\194'), cmsgpack.unpack('\202\63\192\0\0'), cmsgpack.unpack('\203\63\185\153\153\153\153\153\154'), cmsgpack.unpack('\202\127\128\0\0'), cmsgpack.unpack('\202\255\192\0\0')"#, r#"nil true false 1.5 0.10000000000000001 inf nan"#),
        (r#"hex(cmsgpack.pack(cmsgpack.unpack('\202\255\160\0\1'))), hex(cmsgpack.pack(cmsgpack.unpack('\203\127\240\0\0\0\0\0\1')))"#, r#""cbfffc000020000000" "cb7ff0000000000001""#),
        (r#"cmsgpack.unpack('\160'), cmsgpack.unpack('\163abc'), cmsgpack.unpack('\217\3abc'), cmsgpack.unpack('\218\0\2ab'), cmsgpack.unpack('\219\0\0\0\1z'), cmsgpack.unpack('\217\0')"#, r#""" "abc" "abc" "ab" "z" """#),
        (r#"cmsgpack.unpack('\144'), cmsgpack.unpack('\147\1\2\3'), cmsgpack.unpack('\220\0\2\1\2'), cmsgpack.unpack('\221\0\0\0\1\1'), cmsgpack.unpack('\145\145\145\1')"#, r#"{} {1=1,2=2,3=3} {1=1,2=2} {1=1} {1={1={1=1}}}"#),
        (r#"cmsgpack.unpack('\128'), cmsgpack.unpack('\129\161a\1'), cmsgpack.unpack('\222\0\1\1\2'), cmsgpack.unpack('\223\0\0\0\1\195\194'), cmsgpack.unpack('\130\1\2\1\3'), cmsgpack.unpack('\129\1\192'), cmsgpack.unpack('\129\145\1\2')"#, r#"{} {"a"=1} {1=2} {true=false} {1=3} {} {{1=1}=2}"#),
        (r#"cmsgpack.unpack('\147\1\192\3'), cmsgpack.unpack('\129\129\1\2\3')"#, r#"{1=1,3=3} {{1=2}=3}"#),
        (r#"cmsgpack.unpack('\1\2\3'), cmsgpack.unpack(''), select('#', cmsgpack.unpack('')), select('#', cmsgpack.unpack('\192\192'))"#, r#"1 nil 0 2"#),
        (r#"cmsgpack.unpack(cmsgpack.pack({1, 2, {a = 'b', c = {true, false}}}, 'str', -1.5, 2^40))"#, r#"{1=1,2=2,3={"a"="b","c"={1=true,2=false}}} "str" -1.5 1099511627776"#),
        (r#"cmsgpack.unpack(5), cmsgpack.unpack(123), cmsgpack.unpack('\1', 'ignored')"#, r#"53 49 1"#),
        (r#"pcall(cmsgpack.unpack, '\193')"#, r#"false "Bad data format in input.""#),
        (r#"pcall(cmsgpack.unpack, '\196\1a')"#, r#"false "Bad data format in input.""#),
        (r#"pcall(cmsgpack.unpack, '\1\212')"#, r#"false "Bad data format in input.""#),
        (r#"pcall(cmsgpack.unpack, '\204')"#, r#"false "Missing bytes in input.""#),
        (r#"pcall(cmsgpack.unpack, '\163ab')"#, r#"false "Missing bytes in input.""#),
        (r#"pcall(cmsgpack.unpack, '\219\0\0\0\5ab')"#, r#"false "Missing bytes in input.""#),
        (r#"pcall(cmsgpack.unpack, '\147\1\2')"#, r#"false "Missing bytes in input.""#),
        (r#"pcall(cmsgpack.unpack, '\130\1\2\1')"#, r#"false "Missing bytes in input.""#),
        (r#"pcall(cmsgpack.unpack, '\221\255\255\255\255')"#, r#"false "Missing bytes in input.""#),
        (r#"pcall(cmsgpack.unpack, '\146\1\193')"#, r#"false "Bad data format in input.""#),
        (r#"pcall(cmsgpack.unpack, '\146\193')"#, r#"false "Bad data format in input.""#),
        (r#"pcall(cmsgpack.unpack, '\1\2\193\1')"#, r#"false "Bad data format in input.""#),
        (r#"pcall(cmsgpack.unpack)"#, r#"false "bad argument #1 to '?' (string expected, got no value)""#),
        (r#"pcall(cmsgpack.unpack, {})"#, r#"false "bad argument #1 to '?' (string expected, got table)""#),
        (r#"pcall(function() return cmsgpack.unpack('\193') end)"#, r#"false "user_script:23: Bad data format in input.""#),
        (r#"pcall(function() return cmsgpack.unpack('\129\192\1') end)"#, r#"false "table index is nil""#),
        (r#"pcall(cmsgpack.unpack, '\129\192\1')"#, r#"false "table index is nil""#),
        (r#"pcall(cmsgpack.unpack, '\129\203\255\248\0\0\0\0\0\0\1')"#, r#"false "table index is NaN""#),
        (r#"pcall(cmsgpack.unpack, '\145\129\192\1\193')"#, r#"false "table index is nil""#),
        (r#"pcall(cmsgpack.unpack, '\129\1\193')"#, r#"false "Bad data format in input.""#),
        (r#"pcall(cmsgpack.unpack, string.rep('\145', 5000) .. '\1')"#, r#"false "stack overflow (in function mp_decode_to_lua_array)""#),
        (r#"local ok, v = pcall(cmsgpack.unpack, string.rep('\145', 3997) .. '\1') local d = 0 while type(v) == 'table' do v = v[1] d = d + 1 end return R(ok, d, v)"#, r#"true 3997 1"#),
        (r#"select('#', cmsgpack.unpack(string.rep('\145', 3996) .. '\1'))"#, r#"1"#),
        (r#"pcall(cmsgpack.unpack, string.rep('\129', 7998) .. '\1' .. string.rep('\1', 7998))"#, r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#),
        (r#"pcall(cmsgpack.unpack, string.rep('\129', 7999) .. '\1' .. string.rep('\1', 7999))"#, r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#),
        (r#"pcall(cmsgpack.unpack, string.rep('\129\1', 7998) .. '\1' .. string.rep('\1', 7998))"#, r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#),
        (r#"select('#', cmsgpack.unpack(string.rep('\1', 7999)))"#, r#"7999"#),
        (r#"pcall(cmsgpack.unpack, string.rep('\1', 8000))"#, r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#),
        (r#"pcall(cmsgpack.unpack, string.rep('\1', 7999), 'x')"#, r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#),
        (r#"pcall(cmsgpack.unpack, string.rep('\1', 7998) .. '\144', 'x')"#, r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#),
        (r#"pcall(cmsgpack.unpack, string.rep('\1', 7997) .. '\144', 'x')"#, r#"false "stack overflow (in function mp_decode_to_lua_array)""#),
        (r#"pcall(cmsgpack.unpack_limit, string.rep('\1', 8000), 7999)"#, r#"false "stack overflow (in function mp_unpack_full)""#),
        (r#"select('#', cmsgpack.unpack_limit(string.rep('\1', 8000), 7998))"#, r#"7999"#),
        (r#"pcall(cmsgpack.unpack_limit, string.rep('\1', 8000), 7999, 0)"#, r#"false "stack overflow (in function mp_unpack_full)""#),
        (r#"pcall(cmsgpack.unpack_limit, string.rep('\1', 8000), 0, 0)"#, r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#),
        (r#"cmsgpack.unpack_one('\1\2\3'), cmsgpack.unpack_one('\1\2\3', 1), cmsgpack.unpack_one('\1\2\3', 2), cmsgpack.unpack_one('\1\2\3', 3), cmsgpack.unpack_one('\1\2\3', nil)"#, r#"1 2 -1 -1 1 1"#),
        (r#"cmsgpack.unpack_one('\147\1\2\3\161x'), cmsgpack.unpack_one('\147\1\2\3\161x', 4), cmsgpack.unpack_one('\147\1\2\3\161x', 1.9), cmsgpack.unpack_one('\147\1\2\3\161x', '4')"#, r#"4 -1 2 -1 "x""#),
        (r#"cmsgpack.unpack_one(''), cmsgpack.unpack_one('\1', 1), select('#', cmsgpack.unpack_one('', 0))"#, r#"-1 -1 1"#),
        (r#"pcall(cmsgpack.unpack_one, '\1\2', 3)"#, r#"false "Start offset 3 greater than input length 2.""#),
        (r#"pcall(cmsgpack.unpack_one, '\1\2', -1)"#, r#"false "Invalid request to unpack with offset of -1 and limit of 2.""#),
        (r#"pcall(cmsgpack.unpack_one, '\1\2', -2^32 - 5)"#, r#"false "Invalid request to unpack with offset of -5 and limit of 2.""#),
        (r#"pcall(cmsgpack.unpack_one, '\1\2', 2^32 + 3)"#, r#"false "Start offset 3 greater than input length 2.""#),
        (r#"pcall(cmsgpack.unpack_one, '\1\2', 'x')"#, r#"false "bad argument #2 to '?' (number expected, got string)""#),
        (r#"pcall(cmsgpack.unpack_one)"#, r#"false "bad argument #1 to '?' (string expected, got no value)""#),
        (r#"pcall(cmsgpack.unpack_one, nil, 1)"#, r#"false "bad argument #1 to '?' (string expected, got nil)""#),
        (r#"pcall(cmsgpack.unpack_one, {}, 'x')"#, r#"false "bad argument #2 to '?' (number expected, got string)""#),
        (r#"pcall(cmsgpack.unpack_one, '\204')"#, r#"false "Missing bytes in input.""#),
        (r#"pcall(cmsgpack.unpack_one, '\1\193')"#, r#"true 1 1"#),
        (r#"pcall(cmsgpack.unpack_one, '\1\193', 1)"#, r#"false "Bad data format in input.""#),
        (r#"cmsgpack.unpack_limit('\1\2\3\4', 2), cmsgpack.unpack_limit('\1\2\3\4', 2, 2), cmsgpack.unpack_limit('\1\2\3\4', 9), cmsgpack.unpack_limit('\1\2\3\4', 1, 3)"#, r#"2 -1 -1 -1 4"#),
        (r#"cmsgpack.unpack_limit('\1\2\3\4', 0, 0), cmsgpack.unpack_limit('\1\2\3\4', 0, 2), cmsgpack.unpack_limit('\1\2\3\4', 0, 4), cmsgpack.unpack_limit('', 5), cmsgpack.unpack_limit('\1\2', 2.7, nil)"#, r#"1 2 -1 -1 -1 1 2"#),
        (r#"cmsgpack.unpack_limit('\1\2\3\4', 3, 1), cmsgpack.unpack_limit('\1\2\3\4', 2^40)"#, r#"-1 -1 1 2 3 4"#),
        (r#"pcall(cmsgpack.unpack_limit, '\1\2', -1)"#, r#"false "Invalid request to unpack with offset of 0 and limit of 2.""#),
        (r#"pcall(cmsgpack.unpack_limit, '\1\2', -1, 7)"#, r#"false "Invalid request to unpack with offset of 7 and limit of 2.""#),
        (r#"pcall(cmsgpack.unpack_limit, '\1\2', 1, 5)"#, r#"false "Start offset 5 greater than input length 2.""#),
        (r#"pcall(cmsgpack.unpack_limit, '\1\2')"#, r#"false "bad argument #2 to '?' (number expected, got no value)""#),
        (r#"pcall(cmsgpack.unpack_limit, '\1\2', nil, 1)"#, r#"false "bad argument #2 to '?' (number expected, got nil)""#),
        (r#"pcall(cmsgpack.unpack_limit, '\1\2', 1, {})"#, r#"false "bad argument #3 to '?' (number expected, got table)""#),
        (r#"pcall(cmsgpack.unpack_limit)"#, r#"false "bad argument #2 to '?' (number expected, got no value)""#),
        (r#"pcall(cmsgpack.unpack_limit, nil, 1)"#, r#"false "bad argument #1 to '?' (string expected, got nil)""#),
        (r#"pcall(cmsgpack.unpack_limit, '\1\204', 5)"#, r#"false "Missing bytes in input.""#),
        (r#"pcall(cmsgpack.unpack_limit, '\1\2', 0/0)"#, r#"false "Invalid request to unpack with offset of 0 and limit of 2.""#),
        (r#"pcall(cmsgpack.unpack_limit, '\1\2', 1, 0/0)"#, r#"false "Invalid request to unpack with offset of 0 and limit of 2.""#),
        (r#"pcall(function() return cmsgpack.unpack_limit('\1\2', 1, 9) end)"#, r#"false "user_script:23: Start offset 9 greater than input length 2.""#),
        (r#"pcall(function() return cmsgpack.unpack_one('\1\2', 'q') end)"#, r#"false "user_script:23: bad argument #2 to 'unpack_one' (number expected, got string)""#),
        (r#"local ok, v = pcall(cmsgpack.unpack, string.rep('\129', 7997) .. '\1' .. string.rep('\1', 7997)) local d = 0 while type(v) == 'table' do local k = next(v) d = d + 1 v = k end return R(ok, d, v)"#, r#"true 7997 1"#),
        (r#"local ok, v = pcall(cmsgpack.unpack, string.rep('\129\1', 3999) .. '\1') local d = 0 while type(v) == 'table' do v = v[1] d = d + 1 end return R(ok, d, v)"#, r#"true 3999 1"#),
        (r#"pcall(cmsgpack.unpack, string.rep('\129\1', 4000) .. '\1')"#, r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#),
        (r#"local ok, v = pcall(cmsgpack.unpack, string.rep('\129\1', 3997) .. '\1' .. string.rep('\1', 3997)) local d = 0 while type(v) == 'table' do v = v[1] d = d + 1 end return R(ok, d, v)"#, r#"true 3997 1"#),
        (r#"pcall(cmsgpack.unpack, string.rep('\1', 7997) .. '\145\145\1')"#, r#"false "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""#),
        (r#"pcall(cmsgpack.unpack, string.rep('\1', 7996) .. '\145\145\1')"#, r#"false "stack overflow (in function mp_decode_to_lua_array)""#),
        (r#"hex(cmsgpack.pack(cmsgpack.unpack(cmsgpack.pack({[1] = 1, [2] = 2, [3] = 3, x = {y = {z = 1}}}))))"#, r#""84010102020303a17881a17981a17a01""#),
        (r#"cmsgpack.unpack(cmsgpack.pack(0.1, 1/3, -2^63, 2^63, 1e300, 2^-1074))"#, r#"0.10000000000000001 0.33333333333333331 -9.2233720368547758e+18 9.2233720368547758e+18 1.0000000000000001e+300 4.9406564584124654e-324"#),
    ];

    #[test]
    fn matches_redis_7_0_15() {
        let failures: Vec<String> = CASES
            .iter()
            .filter_map(|(case, want)| {
                let got = run(case);
                (got != *want).then(|| format!("{case}\n   want {want}\n    got {got}"))
            })
            .collect();
        assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), CASES.len(), failures.join("\n"));
    }
}
