//! Lua's table functions with C Lua's int positions and sized results (ltablib.c's concat,
//! insert, remove).

use super::*;

/// table.concat(t [, sep [, i [, j]]]) (tconcat): positions as C ints, the result sized
/// before it is built.
pub fn tab_concat(st: &mut LuaState) -> LuaResult<u32> {
    let sep = match arg(st, 1) {
        Val::Nil => Vec::new(),
        _ => check_bytes(st, 2)?,
    };
    let t = check_table(st, 1)?;
    let i = opt_int(st, 3, 1)?;
    let last = if arg(st, 3).is_nil() { table_len(st, t) as i32 } else { check_int(st, 4)? };
    let mut total: u64 = 0;
    let mut k = i64::from(i);
    let last = i64::from(last);
    while k <= last {
        let v = get_int(st, t, k);
        let Some(len) = string_len(st, v) else { return Err(runtime_error(format!("invalid value ({}) at index {} in table for 'concat'", v.type_name(), k))) };
        total += len as u64 + if k < last { sep.len() as u64 } else { 0 };
        k += 1;
    }
    reserve(st, total)?;
    let mut out = Vec::with_capacity(total as usize);
    let mut k = i64::from(i);
    while k <= last {
        match get_int(st, t, k) {
            Val::Str(r) => out.extend_from_slice(st.gc.string_arena.get(r).map(|s| s.data()).unwrap_or_default()),
            v => out.extend_from_slice(format!("{v}").as_bytes()),
        }
        if k < last {
            out.extend_from_slice(&sep);
        }
        k += 1;
    }
    push_string(st, &out);
    Ok(1)
}

/// Spans past which table.insert moves only the entries that exist.
pub(super) const SPARSE_SHIFT: i64 = 1 << 16;

/// table.insert(t, [pos,] v) (tinsert): positions as C ints. A shift over a span far
/// larger than the table (a position like -2^31) moves only the entries that exist, with
/// the same result as C Lua's loop over every index.
pub fn tab_insert(st: &mut LuaState) -> LuaResult<u32> {
    let t = check_table(st, 1)?;
    let mut e = table_len(st, t) + 1;
    let (pos, v) = match nargs(st) {
        2 => (e, arg(st, 1)),
        3 => {
            let pos = i64::from(check_int(st, 2)?);
            if pos > e {
                e = pos;
            }
            if e - pos > SPARSE_SHIFT {
                shift_sparse(st, t, pos, e)?;
            } else {
                let mut i = e;
                while i > pos {
                    let prev = get_int(st, t, i - 1);
                    set_int(st, t, i, prev)?;
                    i -= 1;
                }
            }
            (pos, arg(st, 2))
        }
        _ => return Err(runtime_error("wrong number of arguments to 'insert'")),
    };
    set_int(st, t, pos, v)?;
    Ok(0)
}

/// for i = e, pos + 1, -1 do t[i] = t[i-1] end, visiting only the entries that exist.
pub(super) fn shift_sparse(st: &mut LuaState, t: GcRef<Table>, pos: i64, e: i64) -> LuaResult<()> {
    let mut moved = Vec::new();
    let mut cleared = Vec::new();
    if let Some(tab) = st.gc.tables.get(t) {
        let mut k = Val::Nil;
        while let Ok(Some((nk, v))) = tab.next(k, &st.gc.string_arena) {
            if let Val::Num(n) = nk {
                if n.fract() == 0.0 && n >= pos as f64 && n <= e as f64 {
                    let n = n as i64;
                    if n < e {
                        moved.push((n + 1, v));
                    }
                    if n > pos {
                        cleared.push(n);
                    }
                }
            }
            k = nk;
        }
    }
    for n in cleared {
        set_int(st, t, n, Val::Nil)?;
    }
    for (n, v) in moved {
        set_int(st, t, n, v)?;
    }
    Ok(())
}

/// table.remove(t [, pos]) (tremove): nothing happens outside 1..#t.
pub fn tab_remove(st: &mut LuaState) -> LuaResult<u32> {
    let t = check_table(st, 1)?;
    let e = table_len(st, t);
    let pos = i64::from(opt_int(st, 2, e as i32)?);
    if !(1 <= pos && pos <= e) {
        return Ok(0);
    }
    let removed = get_int(st, t, pos);
    let mut p = pos;
    while p < e {
        let next = get_int(st, t, p + 1);
        set_int(st, t, p, next)?;
        p += 1;
    }
    set_int(st, t, e, Val::Nil)?;
    st.push(removed);
    Ok(1)
}
