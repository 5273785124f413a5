//! The `bit` library of Redis's Lua: LuaBitOp 1.0.2 (Redis: deps/lua/src/lua_bit.c).
//!
//! Every operation works on 32-bit integers and returns a signed 32-bit
//! result as a Lua number, exactly as the C library built for doubles does.

use rilua::vm::state::LuaState;
use rilua::{LuaResult, RustFn, Val};

/// 2^52 + 2^51: adding it to a double leaves the number, rounded to an
/// integer (ties to even) and reduced modulo 2^32, in the low 32 bits of the
/// mantissa. LuaBitOp relies on this rather than on a C cast so that numbers
/// outside the 32-bit range wrap instead of being undefined behaviour; we
/// reproduce the same bits so results agree for fractions, huge values,
/// infinities and NaN alike.
const NORMALISER: f64 = 6_755_399_441_055_744.0;

/// `barg`: argument `n` as a bit field. Non-numbers (and strings that do not
/// convert) fail with luaL_typerror's wording, which `check_number` shares.
fn barg(state: &LuaState, n: usize) -> LuaResult<u32> {
    let x = state.check_number(n)?;
    // Keeping only the low 32 bits is the whole point of the trick.
    Ok((x + NORMALISER).to_bits() as u32)
}

/// `BRET`: results are handed back as signed 32-bit numbers.
fn bret(state: &mut LuaState, b: u32) -> LuaResult<u32> {
    state.push(Val::Num(f64::from(b as i32)));
    Ok(1)
}

fn nargs(state: &LuaState) -> usize {
    state.top.saturating_sub(state.base)
}

fn bit_tobit(state: &mut LuaState) -> LuaResult<u32> {
    let b = barg(state, 1)?;
    bret(state, b)
}

fn bit_bnot(state: &mut LuaState) -> LuaResult<u32> {
    let b = barg(state, 1)?;
    bret(state, !b)
}

/// The C macro folds from the last argument down to the second, so with
/// several bad arguments the error names the highest-numbered one.
fn fold(state: &mut LuaState, op: fn(u32, u32) -> u32) -> LuaResult<u32> {
    let mut b = barg(state, 1)?;
    let mut i = nargs(state);
    while i > 1 {
        b = op(b, barg(state, i)?);
        i -= 1;
    }
    bret(state, b)
}

fn bit_band(state: &mut LuaState) -> LuaResult<u32> {
    fold(state, |a, b| a & b)
}

fn bit_bor(state: &mut LuaState) -> LuaResult<u32> {
    fold(state, |a, b| a | b)
}

fn bit_bxor(state: &mut LuaState) -> LuaResult<u32> {
    fold(state, |a, b| a ^ b)
}

/// Shift counts are taken modulo 32, like `barg(L, 2) & 31` in C.
fn shift(state: &mut LuaState, op: fn(u32, u32) -> u32) -> LuaResult<u32> {
    let b = barg(state, 1)?;
    let n = barg(state, 2)? & 31;
    bret(state, op(b, n))
}

fn bit_lshift(state: &mut LuaState) -> LuaResult<u32> {
    shift(state, |b, n| b << n)
}

fn bit_rshift(state: &mut LuaState) -> LuaResult<u32> {
    shift(state, |b, n| b >> n)
}

fn bit_arshift(state: &mut LuaState) -> LuaResult<u32> {
    fn sar(b: u32, n: u32) -> u32 {
        ((b as i32) >> n) as u32
    }
    shift(state, sar)
}

fn bit_rol(state: &mut LuaState) -> LuaResult<u32> {
    shift(state, u32::rotate_left)
}

fn bit_ror(state: &mut LuaState) -> LuaResult<u32> {
    shift(state, u32::rotate_right)
}

fn bit_bswap(state: &mut LuaState) -> LuaResult<u32> {
    let b = barg(state, 1)?;
    bret(state, b.swap_bytes())
}

/// A negative width asks for upper-case digits; widths beyond 8 are capped.
/// Only an absent second argument means the default of 8: an explicit nil is
/// an error, as `lua_isnone` is what the C code tests.
fn bit_tohex(state: &mut LuaState) -> LuaResult<u32> {
    let mut b = barg(state, 1)?;
    let mut n: i32 = if nargs(state) < 2 { 8 } else { barg(state, 2)? as i32 };
    let mut digits: &[u8; 16] = b"0123456789abcdef";
    if n < 0 {
        // -(-2^31) overflows; the compiled C code still ends up with eight
        // upper-case digits, as if the width had been capped first.
        n = n.checked_neg().unwrap_or(8);
        digits = b"0123456789ABCDEF";
    }
    let n = usize::try_from(n.min(8)).unwrap_or(0);
    let mut buf = [0u8; 8];
    for slot in buf[..n].iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    let s = state.gc.intern_string(&buf[..n]);
    state.push(Val::Str(s));
    Ok(1)
}

/// Functions in the order of the C `bit_funcs` table.
const FUNCS: [(&str, RustFn); 12] = [
    ("tobit", bit_tobit),
    ("bnot", bit_bnot),
    ("band", bit_band),
    ("bor", bit_bor),
    ("bxor", bit_bxor),
    ("lshift", bit_lshift),
    ("rshift", bit_rshift),
    ("arshift", bit_arshift),
    ("rol", bit_rol),
    ("ror", bit_ror),
    ("bswap", bit_bswap),
    ("tohex", bit_tohex),
];

/// Creates the global `bit` table (what `luaL_register(L, "bit", ...)` does).
pub fn open(state: &mut LuaState) -> LuaResult<()> {
    super::open_library(state, "bit", &FUNCS, &[])
}

#[cfg(test)]
mod tests {

    fn run(case: &str) -> String {
        super::super::libtest::run(super::open, case)
    }

    #[rustfmt::skip]
    const CASES: &[(&str, &str)] = &[
        (r#"bit.tobit(0), bit.tobit(1), bit.tobit(-1), bit.tobit(2^31), bit.tobit(2^32), bit.tobit(2^32 + 5)"#, r#"0 1 -1 -2147483648 0 5"#),
        (r#"bit.tobit(0xffffffff), bit.tobit(2^31 - 1), bit.tobit(-2^31), bit.tobit(-2^31 - 1), bit.tobit(2^52), bit.tobit(2^53 + 3)"#, r#"-1 2147483647 -2147483648 2147483647 0 2"#),
        (r#"bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit(0.5), bit.tobit(-0.5), bit.tobit(3.49999)"#, r#"2 2 -2 0 0 3"#),
        (r#"bit.tobit(1/0), bit.tobit(-1/0), bit.tobit(0/0), bit.tobit(1e300), bit.tobit(-1e300), bit.tobit(2^63)"#, r#"0 0 0 -2013235812 -2013235812 0"#),
        (r#"bit.tobit("10"), bit.tobit("0x10"), bit.tobit(" 7 "), bit.tobit("1e3"), bit.tobit("-3")"#, r#"10 16 7 1000 -3"#),
        (r#"pcall(bit.tobit, "abc")"#, r#"false "bad argument #1 to '?' (number expected, got string)""#),
        (r#"pcall(bit.tobit, {})"#, r#"false "bad argument #1 to '?' (number expected, got table)""#),
        (r#"pcall(bit.tobit)"#, r#"false "bad argument #1 to '?' (number expected, got no value)""#),
        (r#"pcall(bit.tobit, nil)"#, r#"false "bad argument #1 to '?' (number expected, got nil)""#),
        (r#"pcall(bit.tobit, true)"#, r#"false "bad argument #1 to '?' (number expected, got boolean)""#),
        (r#"pcall(function() return bit.tobit("x") end)"#, r#"false "user_script:23: bad argument #1 to 'tobit' (number expected, got string)""#),
        (r#"pcall(function() return bit.band(1, 2, "x") end)"#, r#"false "user_script:23: bad argument #3 to 'band' (number expected, got string)""#),
        (r#"pcall(bit.band, {}, "y", "z")"#, r#"false "bad argument #1 to '?' (number expected, got table)""#),
        (r#"pcall(bit.bor, 1, {}, 2)"#, r#"false "bad argument #2 to '?' (number expected, got table)""#),
        (r#"bit.bnot(0), bit.bnot(-1), bit.bnot(0x12345678), bit.bnot(2^31), bit.bnot(1.5)"#, r#"-1 0 -305419897 2147483647 -3"#),
        (r#"bit.band(0xff00ff00, 0x0ff0), bit.band(-1), bit.band(-1, -1, 0x7fffffff), bit.band(0xffffffff, 2^32 + 3)"#, r#"3840 -1 2147483647 3"#),
        (r#"bit.bor(1, 2, 4, 8, 16), bit.bor(0x80000000), bit.bor(0xf0000000, 0x0f), bit.bor(2^32)"#, r#"31 -2147483648 -268435441 0"#),
        (r#"bit.bxor(0xff, 0x0f), bit.bxor(1, 1, 1), bit.bxor(-1, 0x55555555), bit.bxor(0)"#, r#"240 1 -1431655766 0"#),
        (r#"bit.lshift(1, 0), bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.lshift(0xff, 28), bit.lshift(1, -1)"#, r#"1 -2147483648 1 2 -268435456 -2147483648"#),
        (r#"bit.rshift(-1, 1), bit.rshift(0x80000000, 31), bit.rshift(256, 4), bit.rshift(1, 32), bit.rshift(-256, -28)"#, r#"2147483647 1 16 1 268435440"#),
        (r#"bit.arshift(-256, 4), bit.arshift(0x80000000, 31), bit.arshift(256, 4), bit.arshift(-1, 40), bit.arshift(0x7fffffff, 1)"#, r#"-16 -1 16 -1 1073741823"#),
        (r#"bit.rol(0x12345678, 4), bit.rol(0x12345678, 0), bit.rol(0x80000001, 1), bit.rol(1, 32), bit.rol(1, 63)"#, r#"591751041 305419896 3 1 -2147483648"#),
        (r#"bit.ror(0x12345678, 4), bit.ror(0x12345678, 0), bit.ror(1, 1), bit.ror(0x80000001, 33), bit.ror(1, -1)"#, r#"-2128394905 305419896 -2147483648 -1073741824 2"#),
        (r#"bit.bswap(0x12345678), bit.bswap(0), bit.bswap(-1), bit.bswap(0xff), bit.bswap(0x80)"#, r#"2018915346 0 -1 -16777216 -2147483648"#),
        (r#"bit.tohex(1), bit.tohex(-1), bit.tohex(0x12345678), bit.tohex(65535, -4), bit.tohex(65535, 4)"#, r#""00000001" "ffffffff" "12345678" "FFFF" "ffff""#),
        (r#"bit.tohex(0xabcdef, 2), bit.tohex(0xabcdef, -2), bit.tohex(0x1234, 12), bit.tohex(0x1234, -12), bit.tohex(5, 0)"#, r#""ef" "EF" "00001234" "00001234" """#),
        (r#"bit.tohex(255, 1), bit.tohex(255, -1), bit.tohex(-1, 2^32 + 3), bit.tohex(2^31, 8.6), bit.tohex(0xfedcba98, -8)"#, r#""f" "F" "fff" "80000000" "FEDCBA98""#),
        (r#"pcall(bit.tohex, 1, nil)"#, r#"false "bad argument #2 to '?' (number expected, got nil)""#),
        (r#"pcall(bit.tohex, 1, "z")"#, r#"false "bad argument #2 to '?' (number expected, got string)""#),
        (r#"pcall(bit.lshift, 1)"#, r#"false "bad argument #2 to '?' (number expected, got no value)""#),
        (r#"pcall(bit.rol, nil, 2)"#, r#"false "bad argument #1 to '?' (number expected, got nil)""#),
        (r#"pcall(bit.bswap)"#, r#"false "bad argument #1 to '?' (number expected, got no value)""#),
        (r#"pcall(function() return bit.rshift(1, {}) end)"#, r#"false "user_script:23: bad argument #2 to 'rshift' (number expected, got table)""#),
        (r#"pcall(function() return bit.arshift() end)"#, r#"false "user_script:23: bad argument #1 to 'arshift' (number expected, got no value)""#),
        (r#"type(bit), type(bit.tobit), type(bit.tohex), bit.nope"#, r#""table" "function" "function" nil"#),
        (r#"bit.tobit(1437217655), bit.band(12.7, 7), bit.bor(-0.0), bit.tobit(4294967295.5), bit.tobit(-4294967296.5)"#, r#"1437217655 5 0 0 0"#),
        (r#"bit.lshift(3, 1.5), bit.rshift(3, 2.5), bit.lshift(1, 31.4), bit.tohex(10, 2.5), bit.tohex(10, -3.5)"#, r#"12 0 -2147483648 "0a" "000A""#),
        (r#"bit.lshift(1, 1/0), bit.rol(5, 0/0), nil"#, r#"1 5 nil"#),
        (r#"pcall(bit.band)"#, r#"false "bad argument #1 to '?' (number expected, got no value)""#),
        (r#"pcall(function() return bit.bxor(1, 2, 3, {}, 5) end)"#, r#"false "user_script:23: bad argument #4 to 'bxor' (number expected, got table)""#),
        (r#"local ok, e = pcall(function() return bit.tohex("z") end) return R(ok, e)"#, r#"false "user_script:23: bad argument #1 to 'tohex' (number expected, got string)""#),
        (r#"bit.tohex(0xfedcba98, -2^31), bit.tohex(0xfedcba98, 2^31), bit.tohex(0xfedcba98, -2^31 + 1), bit.tohex(0xfedcba98, -9)"#, r#""FEDCBA98" "FEDCBA98" "FEDCBA98" "FEDCBA98""#),
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
