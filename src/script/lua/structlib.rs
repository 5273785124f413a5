//! The `struct` library of Redis's Lua (Redis: deps/lua/src/lua_struct.c,
//! Roberto Ierusalimschy's struct.c 1.7 with Redis's offset check).
//!
//! Scripts written for Redis see the C sizes of an x86-64 Linux build
//! (`long` and `size_t` are 8 bytes, `int` 4, native order little-endian,
//! maximum alignment 8) whatever the host we run on, so those are constants
//! here rather than `size_of` of Rust types.

use rilua::vm::closure::Closure;
use rilua::vm::state::LuaState;
use rilua::{LuaError, LuaResult, RustFn, Val};

/// Largest `i`/`I` size accepted (MAXINTSIZE).
const MAXINTSIZE: i32 = 32;
/// Default of `!` without a number: the alignment of a double after a char.
const MAXALIGN: i32 = 8;
/// `LUAI_MAXCSTACK`: lua_checkstack refuses to let one C call use more
/// stack slots than this, which is where "too many results" comes from.
const MAXCSTACK: usize = 8000;

/// C's `size_t` of that build. Offsets and sizes wrap at 2^64 even when we
/// run on a 32-bit host such as wasm32.
type SizeT = u64;

const SIZE_INT: SizeT = 4;
const SIZE_SHORT: SizeT = 2;
const SIZE_LONG: SizeT = 8;
const SIZE_SIZE_T: SizeT = 8;
const SIZE_FLOAT: SizeT = 4;
const SIZE_DOUBLE: SizeT = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endian {
    Big,
    Little,
}

struct Header {
    endian: Endian,
    align: SizeT,
}

impl Header {
    fn new() -> Self {
        Header { endian: Endian::Little, align: 1 }
    }
}

/// The format as C sees it: a NUL-terminated string, so anything after an
/// embedded `\0` is never read.
struct Format {
    bytes: Vec<u8>,
    pos: usize,
}

impl Format {
    fn new(mut bytes: Vec<u8>) -> Self {
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            bytes.truncate(nul);
        }
        Format { bytes, pos: 0 }
    }

    fn next(&mut self) -> Option<u8> {
        let opt = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(opt)
    }

    fn peek_digit(&self) -> Option<i32> {
        self.bytes.get(self.pos).filter(|b| b.is_ascii_digit()).map(|b| i32::from(b - b'0'))
    }

    /// `getnum`: an optional decimal count, refusing anything past INT_MAX.
    fn getnum(&mut self, default: i32) -> LuaResult<i32> {
        if self.peek_digit().is_none() {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(d) = self.peek_digit() {
            a = a.checked_mul(10).and_then(|x| x.checked_add(d)).ok_or_else(|| rilua::runtime_error("integral size overflow"))?;
            self.pos += 1;
        }
        Ok(a)
    }

    /// `optsize`: the size of option `opt`, consuming its count if any.
    /// Options that need no alignment (and unknown ones) have size 0.
    fn optsize(&mut self, opt: u8) -> LuaResult<SizeT> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => SIZE_SHORT,
            b'L' | b'l' => SIZE_LONG,
            b'T' => SIZE_SIZE_T,
            b'f' => SIZE_FLOAT,
            b'd' => SIZE_DOUBLE,
            b'x' => 1,
            b'c' => SizeT::try_from(self.getnum(1)?).unwrap_or(0),
            b'i' | b'I' => {
                let sz = self.getnum(SIZE_INT as i32)?;
                if sz > MAXINTSIZE {
                    return Err(rilua::runtime_error(format!("integral size {sz} is larger than limit of {MAXINTSIZE}")));
                }
                SizeT::try_from(sz).unwrap_or(0)
            }
            _ => 0,
        })
    }
}

/// `gettoalign`: padding before an item of `size` bytes at offset `len`.
/// The arithmetic is C's `size_t` arithmetic, wrap-around included, because
/// sizes that are not powers of two (`i3` under `!4`) give odd but
/// well-defined paddings that scripts may depend on.
fn gettoalign(len: SizeT, h: &Header, opt: u8, size: SizeT) -> SizeT {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    let mask = size.wrapping_sub(1);
    size.wrapping_sub(len & mask) & mask
}

/// `controloptions`: endianness, alignment, spaces; anything else is an
/// invalid option, reported against argument 1.
fn controloptions(state: &mut LuaState, opt: u8, fmt: &mut Format, h: &mut Header) -> LuaResult<()> {
    match opt {
        b' ' => Ok(()),
        b'>' => {
            h.endian = Endian::Big;
            Ok(())
        }
        b'<' => {
            h.endian = Endian::Little;
            Ok(())
        }
        b'!' => {
            let a = fmt.getnum(MAXALIGN)?;
            if a <= 0 || a & (a - 1) != 0 {
                return Err(rilua::runtime_error(format!("alignment {a} is not a power of 2")));
            }
            h.align = SizeT::try_from(a).unwrap_or(1);
            Ok(())
        }
        _ => {
            let mut msg = b"invalid format option '".to_vec();
            msg.push(opt);
            msg.push(b'\'');
            Err(arg_error_bytes(state, 1, &msg))
        }
    }
}

/// `luaL_argerror` with a message that may not be UTF-8 (an invalid option
/// byte is echoed as is). rilua's error text is a `String`, so such a
/// message travels as the error object, which pcall hands to the script
/// unchanged; that path skips rilua's automatic position prefix, so the
/// prefix `luaL_error` would add is put in here.
fn arg_error_bytes(state: &mut LuaState, narg: usize, msg: &[u8]) -> LuaError {
    match std::str::from_utf8(msg) {
        Ok(text) => state.arg_error(narg, text),
        Err(_) => {
            let shell = state.arg_error(narg, "").to_string();
            let head = shell.strip_suffix(')').unwrap_or(&shell);
            let mut full = where_prefix(state).into_bytes();
            full.extend_from_slice(head.as_bytes());
            full.extend_from_slice(msg);
            full.push(b')');
            let s = state.gc.intern_string(&full);
            state.error_object = Some(Val::Str(s));
            rilua::runtime_error(String::from_utf8_lossy(&full).into_owned())
        }
    }
}

/// `luaL_where(L, 1)`: "chunk:line: " of the Lua function calling us, or
/// nothing when the caller is not Lua code (e.g. pcall).
fn where_prefix(state: &LuaState) -> String {
    let Some(ci) = state.ci.checked_sub(1).and_then(|i| state.call_stack.get(i)) else {
        return String::new();
    };
    let Val::Function(f) = state.stack_get(ci.func) else {
        return String::new();
    };
    let Some(Closure::Lua(cl)) = state.gc.closures.get(f) else {
        return String::new();
    };
    let lines = &cl.proto.line_info;
    let line = match ci.saved_pc.checked_sub(1).and_then(|pc| lines.get(pc)) {
        Some(l) => *l,
        None => match lines.first() {
            Some(l) => *l,
            None => return String::new(),
        },
    };
    format!("{}:{line}: ", rilua::error::chunkid(&cl.proto.source))
}

/// `(lua_Integer)d` as x86-64 compiles it (cvttsd2si): NaN and anything
/// outside the i64 range become i64::MIN rather than saturating.
pub(super) fn c_double_to_i64(d: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if d.is_nan() || !(-LIMIT..LIMIT).contains(&d) {
        i64::MIN
    } else {
        // In range, so truncation toward zero is exactly C's.
        d as i64
    }
}

/// `(unsigned long)d` as gcc compiles it for x86-64: below 2^63 (or NaN) a
/// signed conversion, otherwise a signed conversion of `d - 2^63` with the
/// top bit flipped. Out-of-range inputs therefore give 2^63 or 0, which is
/// what Redis produces for e.g. `struct.pack('L', 2^64)`.
fn c_double_to_u64(d: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if d >= TWO63 {
        (c_double_to_i64(d - TWO63) as u64) ^ (1 << 63)
    } else {
        c_double_to_i64(d) as u64
    }
}

/// `(float)d` with x86's NaN rule (keep sign and the top payload bits, set
/// the quiet bit) spelled out, since Rust leaves NaN payloads unspecified.
pub(super) fn double_to_float(d: f64) -> f32 {
    if d.is_nan() {
        let bits = d.to_bits();
        let sign = ((bits >> 63) as u32) << 31;
        let payload = ((bits >> 29) as u32) & 0x003f_ffff;
        f32::from_bits(sign | 0x7fc0_0000 | payload)
    } else {
        // Round to nearest even, as C's conversion does.
        d as f32
    }
}

/// `(double)f`, with the NaN rule of x86 made explicit for the same reason.
pub(super) fn float_to_double(f: f32) -> f64 {
    if f.is_nan() {
        let bits = f.to_bits();
        let sign = u64::from(bits >> 31) << 63;
        let payload = u64::from(bits & 0x003f_ffff) << 29;
        f64::from_bits(sign | 0x7ff8_0000_0000_0000 | payload)
    } else {
        f64::from(f)
    }
}

fn nargs(state: &LuaState) -> usize {
    state.top.saturating_sub(state.base)
}

/// `putinteger`: two's complement for negatives, C's unsigned conversion
/// otherwise; sizes beyond 8 bytes pad with zeros, as shifting a 64-bit
/// value does in C.
fn putinteger(state: &LuaState, out: &mut Vec<u8>, arg: usize, endian: Endian, size: usize) -> LuaResult<()> {
    let n = state.check_number(arg)?;
    let mut value = if n < 0.0 { c_double_to_i64(n) as u64 } else { c_double_to_u64(n) };
    let mut buff = [0u8; MAXINTSIZE as usize];
    let buff = buff.get_mut(..size).unwrap_or_default();
    let mut put = |slot: &mut u8| {
        *slot = (value & 0xff) as u8;
        value >>= 8;
    };
    match endian {
        Endian::Little => buff.iter_mut().for_each(&mut put),
        Endian::Big => buff.iter_mut().rev().for_each(&mut put),
    }
    out.extend_from_slice(buff);
    Ok(())
}

/// Native order is little-endian, so only big-endian needs a reversal.
fn ordered<const N: usize>(mut bytes: [u8; N], endian: Endian) -> [u8; N] {
    if endian == Endian::Big {
        bytes.reverse();
    }
    bytes
}

fn b_pack(state: &mut LuaState) -> LuaResult<u32> {
    let mut fmt = Format::new(state.check_string(1)?);
    let mut h = Header::new();
    let mut arg = 2;
    let mut totalsize: SizeT = 0;
    let mut out = Vec::new();
    // The C code pushes a nil to separate the arguments from its string
    // buffer; the first missing argument is that nil, so the error says
    // "got nil", not "got no value".
    state.push(Val::Nil);
    while let Some(opt) = fmt.next() {
        let mut size = fmt.optsize(opt)?;
        let toalign = gettoalign(totalsize, &h, opt, size);
        totalsize = totalsize.wrapping_add(toalign);
        // Less than the alignment, itself at most 32 here.
        out.resize(out.len() + toalign as usize, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                // Integer sizes are at most MAXINTSIZE.
                putinteger(state, &mut out, arg, h.endian, size as usize)?;
                arg += 1;
            }
            b'x' => out.push(0),
            b'f' => {
                let f = double_to_float(state.check_number(arg)?);
                arg += 1;
                out.extend_from_slice(&ordered(f.to_le_bytes(), h.endian));
            }
            b'd' => {
                let d = state.check_number(arg)?;
                arg += 1;
                out.extend_from_slice(&ordered(d.to_le_bytes(), h.endian));
            }
            b'c' | b's' => {
                let s = state.check_string(arg)?;
                arg += 1;
                let l = s.len() as SizeT;
                if size == 0 {
                    size = l;
                }
                if l < size {
                    // The C code has already advanced `arg` here, so the
                    // message names the argument after the short string.
                    return Err(state.arg_error(arg, "string too short"));
                }
                out.extend_from_slice(field(&s, 0, size));
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => controloptions(state, opt, &mut fmt, &mut h)?,
        }
        totalsize = totalsize.wrapping_add(size);
    }
    let s = state.gc.intern_string(&out);
    state.push(Val::Str(s));
    Ok(1)
}

/// `getinteger`: only the last eight bytes read survive in the 64-bit
/// accumulator, and the sign mask is `~0 << (size*8 - 1)` with the shift
/// count taken modulo 64 as the x86 shift instruction does, which is what
/// Redis returns for the (undefined in C) sizes above 8.
fn getinteger(buff: &[u8], endian: Endian, issigned: bool) -> f64 {
    let mut l: u64 = 0;
    let mut take = |b: &u8| l = (l << 8) | u64::from(*b);
    match endian {
        Endian::Big => buff.iter().for_each(&mut take),
        Endian::Little => buff.iter().rev().for_each(&mut take),
    }
    if !issigned {
        return l as f64;
    }
    let bits = i32::try_from(buff.len()).unwrap_or(0).wrapping_mul(8).wrapping_sub(1);
    let mask = u64::MAX.wrapping_shl(bits as u32);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

/// `size` bytes of `data` from `pos`, a range the caller has checked.
fn field(data: &[u8], pos: SizeT, size: SizeT) -> &[u8] {
    let range = usize::try_from(pos).ok().and_then(|p| Some(p..p.checked_add(usize::try_from(size).ok()?)?));
    range.and_then(|r| data.get(r)).unwrap_or_default()
}

fn data_too_short(state: &LuaState) -> LuaError {
    state.arg_error(2, "data string too short")
}

fn b_unpack(state: &mut LuaState) -> LuaResult<u32> {
    let mut fmt = Format::new(state.check_string(1)?);
    let data = state.check_string(2)?;
    let ld = data.len() as SizeT;
    let offset = if nargs(state) < 3 || matches!(state.stack_get(state.base + 2), Val::Nil) { 1 } else { c_double_to_i64(state.check_number(3)?) };
    // size_t in C: a negative offset passes the "> 0" test as a huge number
    // and then fails as "data string too short" (or, with an empty format,
    // comes back unchanged).
    let mut pos = offset as SizeT;
    if pos == 0 {
        return Err(state.arg_error(3, "offset must be 1 or greater"));
    }
    pos -= 1;
    let mut h = Header::new();
    let args = nargs(state);
    let mut n: usize = 0;
    while let Some(opt) = fmt.next() {
        let mut size = fmt.optsize(opt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if size > ld || pos > ld - size {
            return Err(data_too_short(state));
        }
        if args + n + 2 > MAXCSTACK {
            return Err(rilua::runtime_error("stack overflow (too many results)"));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let v = getinteger(field(&data, pos, size), h.endian, opt.is_ascii_lowercase());
                state.push(Val::Num(v));
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let b = <[u8; 4]>::try_from(field(&data, pos, SIZE_FLOAT)).unwrap_or_default();
                let f = f32::from_le_bytes(ordered(b, h.endian));
                state.push(Val::Num(float_to_double(f)));
                n += 1;
            }
            b'd' => {
                let b = <[u8; 8]>::try_from(field(&data, pos, SIZE_DOUBLE)).unwrap_or_default();
                state.push(Val::Num(f64::from_le_bytes(ordered(b, h.endian))));
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    // The previous result is the length; lua_isnumber also
                    // accepts a numeric string, so check_number decides.
                    let prev = state.top.saturating_sub(state.base);
                    let len = if n == 0 { None } else { state.check_number(prev).ok() };
                    let Some(len) = len else {
                        return Err(rilua::runtime_error("format 'c0' needs a previous size"));
                    };
                    size = c_double_to_u64(len);
                    state.pop();
                    n -= 1;
                    if size > ld || pos > ld - size {
                        return Err(data_too_short(state));
                    }
                }
                let s = state.gc.intern_string(field(&data, pos, size));
                state.push(Val::Str(s));
                n += 1;
            }
            b's' => {
                let rest = field(&data, pos, ld - pos);
                let Some(len) = rest.iter().position(|&b| b == 0) else {
                    return Err(rilua::runtime_error("unfinished string in data"));
                };
                size = len as SizeT + 1;
                let s = state.gc.intern_string(&rest[..len]);
                state.push(Val::Str(s));
                n += 1;
            }
            _ => controloptions(state, opt, &mut fmt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    // lua_pushinteger of a size_t: reinterpreted as signed, then a double.
    let next = pos.wrapping_add(1) as i64 as f64;
    state.push(Val::Num(next));
    u32::try_from(n + 1).map_err(|_| rilua::runtime_error("stack overflow (too many results)"))
}

fn b_size(state: &mut LuaState) -> LuaResult<u32> {
    let mut fmt = Format::new(state.check_string(1)?);
    let mut h = Header::new();
    let mut pos: SizeT = 0;
    while let Some(opt) = fmt.next() {
        let size = fmt.optsize(opt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if opt == b's' {
            return Err(state.arg_error(1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(state.arg_error(1, "option 'c0' has no fixed size"));
        }
        // Unknown letters and digits are silently worth nothing here.
        if !opt.is_ascii_alphanumeric() {
            controloptions(state, opt, &mut fmt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    let total = pos as i64 as f64;
    state.push(Val::Num(total));
    Ok(1)
}

const FUNCS: [(&str, RustFn); 3] = [("pack", b_pack), ("unpack", b_unpack), ("size", b_size)];

/// Creates the global `struct` table (what `luaL_register(L, "struct", ...)` does).
pub fn open(state: &mut LuaState) -> LuaResult<()> {
    super::open_library(state, "struct", &FUNCS, &[])
}

#[cfg(test)]
mod tests {

    fn run(case: &str) -> String {
        super::super::libtest::run(super::open, case)
    }

    #[rustfmt::skip]
    const CASES: &[(&str, &str)] = &[
        (r#"type(struct), type(struct.pack), type(struct.unpack), type(struct.size), struct.nope"#, r#""table" "function" "function" "function" nil"#),
        (r#"hex(struct.pack('b', -1)), hex(struct.pack('B', 255)), hex(struct.pack('b', 128)), hex(struct.pack('B', -1)), hex(struct.pack('B', 256)), hex(struct.pack('b', 1.9)), hex(struct.pack('b', -1.9))"#, r#""ff" "ff" "80" "ff" "00" "01" "ff""#),
        (r#"hex(struct.pack('h', 0x1234)), hex(struct.pack('>h', 0x1234)), hex(struct.pack('<H', 65535)), hex(struct.pack('>H', -2))"#, r#""3412" "1234" "ffff" "fffe""#),
        (r#"pcall(struct.pack, '=h', 1)"#, r#"false "bad argument #1 to '?' (invalid format option '=')""#),
        (r#"hex(struct.pack('l', 1)), hex(struct.pack('>l', -2)), hex(struct.pack('>L', 2^53)), hex(struct.pack('T', 300)), hex(struct.pack('>T', 2^40))"#, r#""0100000000000000" "fffffffffffffffe" "0020000000000000" "2c01000000000000" "0000010000000000""#),
        (r#"hex(struct.pack('i', 1)), hex(struct.pack('>i', -1)), hex(struct.pack('>I', 0xdeadbeef)), hex(struct.pack('i1', 300)), hex(struct.pack('>i3', 0x123456)), hex(struct.pack('<I5', 2^33 + 1))"#, r#""01000000" "ffffffff" "deadbeef" "2c" "123456" "0100000002""#),
        (r#"hex(struct.pack('>L', 2^64)), hex(struct.pack('>L', 2^63)), hex(struct.pack('>L', 0/0)), hex(struct.pack('>L', 1/0)), hex(struct.pack('>L', -1/0)), hex(struct.pack('>L', 2^64 + 2^13))"#, r#""0000000000000000" "8000000000000000" "8000000000000000" "0000000000000000" "8000000000000000" "0000000000000000""#),
        (r#"hex(struct.pack('>l', -2^63)), hex(struct.pack('>l', -2^64)), hex(struct.pack('>L', 2^63 + 2^11)), hex(struct.pack('>L', 1.9e19))"#, r#""8000000000000000" "8000000000000000" "8000000000000800" "0000000000000000""#),
        (r#"hex(struct.pack('<i12', -1)), hex(struct.pack('>i10', -2)), hex(struct.pack('>I10', 2^64)), hex(struct.pack('<i32', 7)), hex(struct.pack('i0', 5))"#, r#""ffffffffffffffff00000000" "0000fffffffffffffffe" "00000000000000000000" "0700000000000000000000000000000000000000000000000000000000000000" """#),
        (r#"hex(struct.pack('f', 1.5)), hex(struct.pack('>f', 1.5)), hex(struct.pack('d', 1.5)), hex(struct.pack('>d', -2.25)), hex(struct.pack('<d', 1/0))"#, r#""0000c03f" "3fc00000" "000000000000f83f" "c002000000000000" "000000000000f07f""#),
        (r#"hex(struct.pack('f', 1/3)), struct.unpack('f', struct.pack('f', 1/3)), hex(struct.pack('f', 1e39)), hex(struct.pack('>f', -1e-46)), hex(struct.pack('f', 2^-149 * 1.5))"#, r#""abaaaa3e" 0.3333333432674408 "0000807f" "80000000" "02000000""#),
        (r#"hex(struct.pack('>d', -(0/0))), hex(struct.pack('>f', -(0/0))), hex(struct.pack('f', -tonumber('0'))), hex(struct.pack('d', -tonumber('0')))"#, r#""7ff8000000000000" "7fc00000" "00000080" "0000000000000080""#),
        (r#"struct.unpack('f', '\1\0\192\127'), hex(struct.pack('d', struct.unpack('f', '\1\0\128\255'))), hex(struct.pack('f', struct.unpack('d', '\1\0\0\0\0\0\240\127'))), hex(struct.pack('>d', struct.unpack('>f', '\127\160\0\3')))"#, r#"nan "000000200000f8ff" "0000c07f" "7ffc000060000000""#),
        (r#"hex(struct.pack('s', 'abc')), hex(struct.pack('s', '')), hex(struct.pack('s', 'a\0b')), hex(struct.pack('c', 'xyz')), hex(struct.pack('c2', 'xyz')), hex(struct.pack('c0', 'xyz')), hex(struct.pack('c0', ''))"#, r#""61626300" "00" "61006200" "78" "7879" "78797a" """#),
        (r#"hex(struct.pack('s', 12)), hex(struct.pack('c0', 1.5)), hex(struct.pack('c2s', 'hello', 'w'))"#, r#""313200" "312e35" "68657700""#),
        (r#"hex(struct.pack('bxh', 1, 2)), hex(struct.pack('xxx')), hex(struct.pack('')), hex(struct.pack('  b  ', 5)), hex(struct.pack('<h>h<h', 1, 2, 3))"#, r#""01000200" "000000" "" "05" "010000020300""#),
        (r#"hex(struct.pack('!bh', 1, 2)), hex(struct.pack('!4bi', 1, 2)), hex(struct.pack('!2bi', 1, 2)), hex(struct.pack('!bd', 1, 2)), hex(struct.pack('!1bd', 1, 2)), hex(struct.pack('!16bd', 1, 2))"#, r#""01000200" "0100000002000000" "010002000000" "01000000000000000000000000000040" "010000000000000040" "01000000000000000000000000000040""#),
        (r#"hex(struct.pack('!4bi3', 1, 2)), hex(struct.pack('!8bi3bi5', 1, 2, 3, 4)), hex(struct.pack('!4bc3h', 1, 'abc', 2)), hex(struct.pack('!4bsh', 1, 'ab', 2)), hex(struct.pack('!bf', 1, 1)), hex(struct.pack('!bxh', 1, 2))"#, r#""010000020000" "010000020000030400000000" "016162630200" "016162000200" "010000000000803f" "01000200""#),
        (r#"hex(struct.pack('b\0garbage', 1)), struct.size('b\0zz'), struct.unpack('b\0#', 'a')"#, r#""01" 1 97 2"#),
        (r#"pcall(struct.pack, 'i33', 1)"#, r#"false "integral size 33 is larger than limit of 32""#),
        (r#"pcall(struct.pack, 'i99999999999', 1)"#, r#"false "integral size overflow""#),
        (r#"pcall(struct.pack, 'c2147483648', 'a')"#, r#"false "integral size overflow""#),
        (r#"pcall(struct.pack, 'z', 1)"#, r#"false "bad argument #1 to '?' (invalid format option 'z')""#),
        (r#"pcall(struct.pack, 'b#', 1)"#, r#"false "bad argument #1 to '?' (invalid format option '#')""#),
        (r#"pcall(struct.pack, 'i3\255', 1)"#, r#"false x62616420617267756d656e7420233120746f20273f272028696e76616c696420666f726d6174206f7074696f6e2027ff2729"#),
        (r#"pcall(struct.pack, '!3b', 1)"#, r#"false "alignment 3 is not a power of 2""#),
        (r#"pcall(struct.pack, '!0b', 1)"#, r#"false "alignment 0 is not a power of 2""#),
        (r#"pcall(struct.pack, '!2147483648b', 1)"#, r#"false "integral size overflow""#),
        (r#"pcall(struct.pack, 'b', 'x')"#, r#"false "bad argument #2 to '?' (number expected, got string)""#),
        (r#"pcall(struct.pack, 'bb', 1)"#, r#"false "bad argument #3 to '?' (number expected, got nil)""#),
        (r#"pcall(struct.pack, 'd', {})"#, r#"false "bad argument #2 to '?' (number expected, got table)""#),
        (r#"pcall(struct.pack, 'f')"#, r#"false "bad argument #2 to '?' (number expected, got nil)""#),
        (r#"pcall(struct.pack, 'bbc3', 1)"#, r#"false "bad argument #3 to '?' (number expected, got nil)""#),
        (r#"pcall(struct.pack, 'b' .. string.rep('c0', 3000) .. 'b', 1, unpack((function() local t = {} for i = 1, 3000 do t[i] = string.rep('x', 100) end return t end)()))"#, r#"false "bad argument #3003 to '?' (number expected, got nil)""#),
        (r#"pcall(struct.pack, 'c3', 'ab')"#, r#"false "bad argument #3 to '?' (string too short)""#),
        (r#"pcall(struct.pack, 'bc3', 1, 'ab')"#, r#"false "bad argument #4 to '?' (string too short)""#),
        (r#"pcall(struct.pack, 's', {})"#, r#"false "bad argument #2 to '?' (string expected, got table)""#),
        (r#"pcall(struct.pack)"#, r#"false "bad argument #1 to '?' (string expected, got no value)""#),
        (r#"pcall(struct.pack, {})"#, r#"false "bad argument #1 to '?' (string expected, got table)""#),
        (r#"pcall(function() return struct.pack('q') end)"#, r#"false "user_script:23: bad argument #1 to 'pack' (invalid format option 'q')""#),
        (r#"pcall(function() return struct.pack('i40', 1) end)"#, r#"false "user_script:23: integral size 40 is larger than limit of 32""#),
        (r#"pcall(function() return struct.pack('s', nil) end)"#, r#"false "user_script:23: bad argument #2 to 'pack' (string expected, got nil)""#),
        (r#"pcall(function() return struct.unpack('>I2', 'a') end)"#, r#"false "user_script:23: bad argument #2 to 'unpack' (data string too short)""#),
        (r#"pcall(struct.unpack, '>I2', 'a')"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"struct.unpack('b', '\255'), struct.unpack('B', '\255'), struct.unpack('>h', '\255\254'), struct.unpack('<H', '\255\254'), struct.unpack('>i', '\128\0\0\0'), struct.unpack('>I', '\128\0\0\0')"#, r#"-1 255 -2 65279 -2147483648 2147483648 5"#),
        (r#"struct.unpack('<l', '\1\2\3\4\5\6\7\8'), struct.unpack('>L', '\255\255\255\255\255\255\255\255'), struct.unpack('>l', '\255\255\255\255\255\255\255\254'), struct.unpack('T', '\0\0\0\0\0\0\0\128')"#, r#"5.784376957523072e+17 1.8446744073709552e+19 -2 9.2233720368547758e+18 9"#),
        (r#"struct.unpack('<i3', '\255\255\127'), struct.unpack('<i3', '\0\0\128'), struct.unpack('>I3', '\1\2\3'), struct.unpack('i1', '\200'), struct.unpack('I7', '\255\255\255\255\255\255\255')"#, r#"8388607 -8388608 66051 -56 72057594037927936 8"#),
        (r#"struct.unpack('<i9', '\255\0\0\0\0\0\0\0\0'), struct.unpack('<i9', '\0\0\0\0\0\0\0\0\255'), struct.unpack('>i9', '\255\0\0\0\0\0\0\0\128')"#, r#"-1 0 -128 10"#),
        (r#"struct.unpack('<i16', ('\255'):rep(16)), struct.unpack('<i12', ('\0'):rep(11)..'\128'), struct.unpack('>i12', '\128' .. ('\0'):rep(11)), struct.unpack('>i12', ('\0'):rep(4) .. '\128' .. ('\0'):rep(7))"#, r#"-1 0 0 -2147483648 13"#),
        (r#"struct.unpack('i0', ''), struct.unpack('I0', 'a'), struct.unpack('<i10', '\1\0\0\0\0\0\0\128\0\0'), struct.unpack('<i10', '\1\0\0\0\0\0\0\0\0\1'), struct.unpack('>I9', '\1\255\255\255\255\255\255\255\255')"#, r#"0 0 -32767 1 1.8446744073709552e+19 10"#),
        (r#"struct.unpack('f', struct.pack('f', 0.1)), struct.unpack('>d', struct.pack('>d', 0.1)), struct.unpack('<d', struct.pack('>d', 1)), struct.unpack('d', struct.pack('d', -1/0))"#, r#"0.10000000149011612 0.10000000000000001 3.0386519416174186e-319 -inf 9"#),
        (r#"struct.unpack('s', 'abc\0def\0'), struct.unpack('ss', 'abc\0def\0'), struct.unpack('s', '\0'), struct.unpack('c3', 'abcdef'), struct.unpack('c', 'abc'), struct.unpack('bc0', '\3abcd')"#, r#""abc" "abc" "" "abc" "a" "abc" 5"#),
        (r#"struct.unpack('c1c0', '3abcd'), pcall(struct.unpack, 'c1c0', 'xabcd')"#, r#""abc" false "format 'c0' needs a previous size""#),
        (r#"struct.unpack('Bc0Bc0', '\2ab\1c'), struct.unpack('bxxb', '\1\2\3\4'), struct.unpack('!bi', '\1\0\0\0\2\0\0\0'), struct.unpack('!2bh', '\1\0\2\0'), struct.unpack('!bd', ('\0'):rep(16))"#, r#""ab" 1 1 1 0 0 17"#),
        (r#"struct.unpack('dc0', struct.pack('d', -0.5) .. 'abc'), struct.unpack('dc0', struct.pack('d', 2.9) .. 'abc')"#, r#""" "ab" 11"#),
        (r#"pcall(struct.unpack, 'dc0', struct.pack('d', 0/0) .. 'abc')"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"pcall(struct.unpack, 'dc0', struct.pack('d', -1) .. 'abc')"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"pcall(struct.unpack, 'dc0', struct.pack('d', 2^64) .. 'abc')"#, r#"true "" 9"#),
        (r#"pcall(struct.unpack, 'dc0', struct.pack('d', 1/0) .. 'abc')"#, r#"true "" 9"#),
        (r#"pcall(struct.unpack, 'bc0', '\5abc')"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"pcall(struct.unpack, 'c0', 'abc')"#, r#"false "format 'c0' needs a previous size""#),
        (r#"pcall(struct.unpack, 'xc0', 'abc')"#, r#"false "format 'c0' needs a previous size""#),
        (r#"pcall(struct.unpack, 's', 'abc')"#, r#"false "unfinished string in data""#),
        (r#"pcall(struct.unpack, 'bs', 'a')"#, r#"false "unfinished string in data""#),
        (r#"pcall(struct.unpack, 'i', 'abc')"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"pcall(struct.unpack, 'c4', 'abc')"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"pcall(struct.unpack, 'x', '')"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"pcall(struct.unpack, 'z', 'abc')"#, r#"false "bad argument #1 to '?' (invalid format option 'z')""#),
        (r#"pcall(struct.unpack, '!5', 'abc')"#, r#"false "alignment 5 is not a power of 2""#),
        (r#"pcall(struct.unpack, 'b')"#, r#"false "bad argument #2 to '?' (string expected, got no value)""#),
        (r#"pcall(struct.unpack, nil, 'a')"#, r#"false "bad argument #1 to '?' (string expected, got nil)""#),
        (r#"pcall(struct.unpack, 'b', 'a', 'x')"#, r#"false "bad argument #3 to '?' (number expected, got string)""#),
        (r#"struct.unpack('b', 'ab', 2), struct.unpack('bb', 'abc', 2), struct.unpack('', 'abc', 3), struct.unpack('', 'abc', 4), struct.unpack('', 'abc', 10), struct.unpack('b', 'ab', nil), struct.unpack('b', 'ab', '2')"#, r#"98 98 3 4 10 97 98 3"#),
        (r#"pcall(struct.unpack, 'b', 'a', 0), pcall(struct.unpack, 'b', 'a', -1), struct.unpack('', 'a', -5), struct.unpack('', 'a', 1e19), struct.unpack('', 'a', 0/0)"#, r#"false false -5 -9.2233720368547758e+18 -9.2233720368547758e+18"#),
        (r#"pcall(struct.unpack, 'b', 'a', 0)"#, r#"false "bad argument #3 to '?' (offset must be 1 or greater)""#),
        (r#"pcall(struct.unpack, 'b', 'ab', 3)"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"pcall(struct.unpack, 'b', 'ab', -1)"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"pcall(struct.unpack, '!4bi', '\1\0\0\0\2\0\0', 1)"#, r#"false "bad argument #2 to '?' (data string too short)""#),
        (r#"struct.unpack('!4bi', 'z\1\0\0\0\2\0\0\0', 2), struct.unpack('<!4i', '\0\0\0\0\9\0\0\0', 2)"#, r#"1 9 9"#),
        (r#"select('#', struct.unpack(string.rep('b', 7997), string.rep('a', 7997)))"#, r#"7998"#),
        (r#"pcall(struct.unpack, string.rep('b', 7998), string.rep('a', 7998))"#, r#"false "stack overflow (too many results)""#),
        (r#"select('#', struct.unpack(string.rep('b', 7995), string.rep('a', 7995), 1, 2))"#, r#"7996"#),
        (r#"pcall(struct.unpack, string.rep('b', 7996), string.rep('a', 7996), 1, 2)"#, r#"false "stack overflow (too many results)""#),
        (r#"pcall(struct.unpack, string.rep('b', 7997) .. '     ', string.rep('a', 7997))"#, r#"false "stack overflow (too many results)""#),
        (r#"select('#', struct.unpack(string.rep('b', 7996) .. ' ', string.rep('a', 7996)))"#, r#"7997"#),
        (r#"pcall(struct.unpack, string.rep('b', 7997) .. 'x', string.rep('a', 7998))"#, r#"false "stack overflow (too many results)""#),
        (r#"struct.size(''), struct.size('b'), struct.size('bhlT'), struct.size('i'), struct.size('i7'), struct.size('fd'), struct.size('c10'), struct.size('x'), struct.size('<>  ')"#, r#"0 1 19 4 7 12 10 1 0"#),
        (r#"pcall(struct.size, '=')"#, r#"false "bad argument #1 to '?' (invalid format option '=')""#),
        (r#"struct.size('!bhl'), struct.size('!bd'), struct.size('!4bd'), struct.size('!bi3'), struct.size('!bc5h'), struct.size('zqwe'), struct.size('b9'), struct.size('!'), struct.size('!2bh!8bd')"#, r#"16 16 12 6 8 0 1 0 16"#),
        (r#"struct.size('c2147483647c2147483647c2147483647c2147483647c2147483647'), struct.size(string.rep('c2147483647', 5000))"#, r#"10737418235 10737418235000"#),
        (r#"pcall(struct.size, 's')"#, r#"false "bad argument #1 to '?' (option 's' has no fixed size)""#),
        (r#"pcall(struct.size, 'bc0')"#, r#"false "bad argument #1 to '?' (option 'c0' has no fixed size)""#),
        (r#"pcall(struct.size, 'b#')"#, r#"false "bad argument #1 to '?' (invalid format option '#')""#),
        (r#"pcall(struct.size, '!6')"#, r#"false "alignment 6 is not a power of 2""#),
        (r#"pcall(struct.size, 'i33')"#, r#"false "integral size 33 is larger than limit of 32""#),
        (r#"pcall(struct.size, 'c99999999999')"#, r#"false "integral size overflow""#),
        (r#"pcall(struct.size)"#, r#"false "bad argument #1 to '?' (string expected, got no value)""#),
        (r#"pcall(struct.size, 12)"#, r#"true 0"#),
        (r#"pcall(function() return struct.size('s') end)"#, r#"false "user_script:23: bad argument #1 to 'size' (option 's' has no fixed size)""#),
        (r#"pcall(function() local a = struct.size('\200') return a end)"#, r#"false x757365725f7363726970743a32333a2062616420617267756d656e7420233120746f202773697a65272028696e76616c696420666f726d6174206f7074696f6e2027c82729"#),
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
