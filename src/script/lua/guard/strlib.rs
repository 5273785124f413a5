//! Lua's string functions that allocate a result in one go, sized before they allocate
//! (lstrlib.c's str_rep, str_byte, str_format, str_gsub).

use super::*;

/// string.rep(s, n): n as a C int; a result past the heap's room is refused first.
pub fn str_rep(st: &mut LuaState) -> LuaResult<u32> {
    let s = arg(st, 0);
    let len = match s {
        Val::Str(_) | Val::Num(_) => string_len(st, s).unwrap_or(0),
        _ => return Err(st.type_error(1, "string")),
    };
    let n = check_int(st, 2)?;
    if n <= 0 || len == 0 {
        push_string(st, b"");
        return Ok(1);
    }
    let total = len as u64 * n as u64;
    reserve(st, total)?;
    let piece = check_bytes(st, 1)?;
    let mut out = Vec::with_capacity(total as usize);
    for _ in 0..n {
        out.extend_from_slice(&piece);
    }
    push_string(st, &out);
    Ok(1)
}

pub(super) fn posrelat(pos: i64, len: usize) -> i64 {
    let pos = if pos < 0 { pos.saturating_add(len as i64 + 1) } else { pos };
    pos.max(0)
}

/// string.byte(s [, i [, j]]): at most what a C function may push.
pub fn str_byte(st: &mut LuaState) -> LuaResult<u32> {
    let sv = arg(st, 0);
    let Some(l) = string_len(st, sv) else { return Err(st.type_error(1, "string")) };
    let posi = posrelat(opt_integer(st, 2, 1)?, l);
    let pose = posrelat(opt_integer(st, 3, posi)?, l);
    let posi = posi.max(1);
    let pose = pose.min(l as i64);
    if posi > pose {
        return Ok(0);
    }
    let n = pose - posi + 1;
    if n > i64::from(i32::MAX) {
        return Err(runtime_error("string slice too long"));
    }
    if !stack_room(st, n as u64) {
        return Err(runtime_error("stack overflow (string slice too long)"));
    }
    let bytes = match sv {
        Val::Str(r) => st.gc.string_arena.get(r).map(|s| s.data()[(posi - 1) as usize..pose as usize].to_vec()).unwrap_or_default(),
        _ => check_bytes(st, 1)?[(posi - 1) as usize..pose as usize].to_vec(),
    };
    st.ensure_stack(st.top + n as usize + 1);
    for b in bytes {
        st.push(Val::Num(f64::from(b)));
    }
    Ok(n as u32)
}

/// string.format: each conversion checked as C Lua's scanformat does (at most 5 flags, 2
/// digits of width and of precision), and the result's size bounded before rilua builds
/// it.
pub fn str_format(st: &mut LuaState) -> LuaResult<u32> {
    let fmt = check_bytes(st, 1)?;
    let mut bound: u64 = 0;
    let mut argn = 1usize;
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            bound += 1;
            i += 1;
            continue;
        }
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            bound += 1;
            i += 1;
            continue;
        }
        let start = i;
        while i < fmt.len() && b"-+ #0".contains(&fmt[i]) {
            i += 1;
        }
        if i - start >= 6 {
            return Err(runtime_error("invalid format (repeated flags)"));
        }
        let digits = |i: &mut usize| {
            for _ in 0..2 {
                if fmt.get(*i).is_some_and(u8::is_ascii_digit) {
                    *i += 1;
                }
            }
        };
        digits(&mut i);
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
        if fmt.get(i).is_some_and(u8::is_ascii_digit) {
            return Err(runtime_error("invalid format (width or precision too long)"));
        }
        // Width and precision are below 100 now; a conversion's own text is bounded by
        // its argument's length (strings) or by a number's longest form.
        let v = arg(st, argn);
        argn += 1;
        bound += 100
            + match fmt.get(i) {
                Some(b's') => string_len(st, v).unwrap_or(0) as u64,
                Some(b'q') => 2 + 4 * string_len(st, v).unwrap_or(0) as u64,
                _ => 420,
            };
        i += 1;
    }
    reserve(st, bound)?;
    rilua::stdlib::string::str_format(st)
}

/// string.gsub: a string replacement's result is bounded before it is built (each `%d`
/// adds at most the subject's length over all matches); a function's or a table's
/// replacements are counted as they come.
pub fn str_gsub(st: &mut LuaState) -> LuaResult<u32> {
    let s_len = match arg(st, 0) {
        v @ (Val::Str(_) | Val::Num(_)) => string_len(st, v).unwrap_or(0) as u64,
        _ => return rilua::stdlib::string::str_gsub(st),
    };
    let anchored = match arg(st, 1) {
        Val::Str(r) => st.gc.string_arena.get(r).is_some_and(|s| s.data().first() == Some(&b'^')),
        _ => false,
    };
    let max_n = match arg(st, 3) {
        Val::Nil => u64::MAX,
        v => match v {
            Val::Num(n) if n >= 0.0 => n as u64,
            Val::Num(_) => 0,
            _ => u64::MAX,
        },
    };
    let matches = if anchored { 1 } else { max_n.min(s_len + 1) };
    let repl = arg(st, 2);
    match repl {
        Val::Str(_) | Val::Num(_) => {
            let r = check_bytes(st, 3)?;
            let (mut lit, mut caps) = (0u64, 0u64);
            let mut i = 0;
            while i < r.len() {
                if r[i] == b'%' && r.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    caps += 1;
                    i += 2;
                } else {
                    lit += 1;
                    i += 1;
                }
            }
            let bound = s_len.saturating_add(matches.saturating_mul(lit + 20 * caps)).saturating_add(caps.saturating_mul(s_len));
            reserve(st, bound)?;
        }
        Val::Table(_) | Val::Function(_) => {
            reserve(st, s_len)?;
            let room = heap_room(st).saturating_sub(s_len);
            let counter = api::closure(st, gsub_repl, "gsub_repl", vec![repl, Val::Num(room as f64), Val::Nil]);
            let (ci, base) = (st.ci, st.base);
            st.stack_set(base + 2, counter);
            let out = rilua::stdlib::string::str_gsub(st);
            // A replacement that is not a string: raised from gsub's own frame, as
            // lstrlib's add_value raises it.
            if out.is_err() {
                if let Val::Function(c) = counter {
                    let bad = match st.gc.closures.get(c) {
                        Some(Closure::Rust(rc)) => rc.upvalues.get(2).copied().unwrap_or(Val::Nil),
                        _ => Val::Nil,
                    };
                    if let Val::Str(r) = bad {
                        let kind = st.gc.string_arena.get(r).map(|s| String::from_utf8_lossy(s.data()).into_owned()).unwrap_or_default();
                        st.ci = ci;
                        st.base = base;
                        st.error_object = None;
                        return Err(runtime_error(format!("invalid replacement value (a {kind})")));
                    }
                }
            }
            return out;
        }
        _ => {}
    }
    rilua::stdlib::string::str_gsub(st)
}

/// Stands in for gsub's function or table (upvalue 0), counting the replacements' bytes
/// against the heap's room (upvalue 1, counted down). A replacement of the wrong type is
/// noted in upvalue 2 for `str_gsub` to raise.
pub(super) fn gsub_repl(st: &mut LuaState) -> LuaResult<u32> {
    let repl = upvalue(st, 0);
    let n = nargs(st);
    let v = match repl {
        Val::Table(_) => {
            let key = arg(st, 0);
            st.gettable(repl, key)?
        }
        _ => {
            let base = st.base;
            let call = st.top;
            st.ensure_stack(call + n + 2);
            st.stack_set(call, repl);
            for i in 0..n {
                let a = st.stack_get(base + i);
                st.stack_set(call + 1 + i, a);
            }
            st.top = call + 1 + n;
            st.call_function(call, 1)?;
            let v = st.stack_get(call);
            st.top = call;
            v
        }
    };
    let len = match v {
        Val::Nil | Val::Bool(false) => 0,
        Val::Str(_) | Val::Num(_) => string_len(st, v).unwrap_or(0),
        other => {
            let kind = Val::Str(st.gc.intern_string(other.type_name().as_bytes()));
            set_own_upvalue(st, 2, kind);
            return Err(runtime_error("invalid replacement value"));
        }
    };
    let room = match upvalue(st, 1) {
        Val::Num(r) => r,
        _ => 0.0,
    };
    let left = room - len as f64;
    if left < 0.0 {
        return Err(LuaError::Memory);
    }
    set_own_upvalue(st, 1, Val::Num(left));
    st.push(v);
    Ok(1)
}

/// Sets upvalue `i` of the running native closure.
pub(super) fn set_own_upvalue(st: &mut LuaState, i: usize, v: Val) {
    if let Val::Function(f) = st.stack_get(st.base - 1) {
        if let Some(Closure::Rust(c)) = st.gc.closures.get_mut(f) {
            if let Some(slot) = c.upvalues.get_mut(i) {
                *slot = v;
            }
        }
    }
}
