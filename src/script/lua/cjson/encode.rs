//! Encoding: Lua values to JSON text (`json_encode` and its helpers in lua_cjson.c).

use super::*;

/// `char2escape`: control characters, `"`, `\`, `/` and DEL are escaped; every other
/// byte (including invalid UTF-8) passes through.
pub(super) fn append_string(out: &mut Vec<u8>, s: &[u8]) -> LuaResult<()> {
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
pub(super) fn reserve(out: &mut Vec<u8>, additional: usize) -> LuaResult<()> {
    out.try_reserve(additional).map_err(|_| rilua::LuaError::Memory)
}

/// Room for everything one encoder step writes besides string contents: separators,
/// brackets, a number key and a number value (each at most 24 bytes with `%.14g`).
pub(super) const STEP_RESERVE: usize = 64;

/// C's `printf("%.<precision>g")` for finite and infinite doubles.
pub(super) fn format_g(num: f64, precision: i32) -> String {
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

pub(super) fn serialise_error(type_name: &str, reason: &str) -> rilua::LuaError {
    runtime_error(format!("Cannot serialise {type_name}: {reason}"))
}

/// `json_append_number`.
pub(super) fn append_number(out: &mut Vec<u8>, cfg: &Config, num: f64) -> LuaResult<()> {
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
pub(super) fn c_int_from_double(k: f64) -> i32 {
    if k < 2_147_483_648.0 {
        k as i32
    } else {
        i32::MIN
    }
}

pub(super) fn raw_table(state: &LuaState, t: GcRef<RawTable>) -> LuaResult<&RawTable> {
    state.gc.tables.get(t).ok_or_else(|| runtime_error("table has been collected"))
}

/// `lua_array_length`: the array length, or `None` when the table must be encoded
/// as an object.
pub(super) fn array_length(state: &LuaState, cfg: &Config, t: GcRef<RawTable>) -> LuaResult<Option<i32>> {
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

pub(super) enum EncodeFrame {
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

pub(super) struct Encoder<'a> {
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

pub(super) fn json_encode(state: &mut LuaState) -> LuaResult<u32> {
    let cfg = fetch_config(state)?;
    if nargs(state) != 1 {
        return Err(state.arg_error(1, "expected 1 argument"));
    }
    let room = usize::try_from(crate::script::lua::guard::heap_room(state)).unwrap_or(usize::MAX);
    let mut encoder = Encoder { state, cfg, out: Vec::new(), frames: Vec::new(), slots: 1, room };
    encoder.run(arg(state, 1))?;
    let json = std::mem::take(&mut encoder.out);
    let val = str_val(state, &json);
    state.push(val);
    Ok(1)
}
