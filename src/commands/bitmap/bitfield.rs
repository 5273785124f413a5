//! BITFIELD and BITFIELD_RO: signed and unsigned integers of 1 to 64 bits (u63 at most, so
//! every value fits a RESP integer) at any bit offset, read, written or incremented with
//! the chosen overflow behaviour. Redis: bitops.c bitfieldGeneric.

use bytes::Bytes;

use super::{bit_offset, str_bytes, string_for_bits};
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::reply::Reply;

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Get,
    Set,
    IncrBy,
}

#[derive(Clone, Copy)]
struct Op {
    kind: Kind,
    offset: u64,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
    bits: u32,
    signed: bool,
}

/// BITFIELD's key flags depend on its subcommands (bitfieldGetKeys): only GETs read it.
pub(super) fn bitfield_keys(argv: &[Bytes]) -> Vec<(usize, u16)> {
    use crate::command::keyspec::flags::*;
    let mut readonly = true;
    let mut i = 2;
    while i < argv.len() {
        let (arg, rem) = (&argv[i], argv.len() - i - 1);
        if arg.eq_ignore_ascii_case(b"get") && rem >= 2 {
            i += 2;
        } else if (arg.eq_ignore_ascii_case(b"set") || arg.eq_ignore_ascii_case(b"incrby")) && rem >= 3 {
            readonly = false;
            break;
        } else if arg.eq_ignore_ascii_case(b"overflow") && rem >= 1 {
            i += 1;
        } else {
            // A syntax error: safer to assume a write.
            readonly = false;
            break;
        }
        i += 1;
    }
    vec![(1, if readonly { RO | ACCESS } else { RW | ACCESS | UPDATE })]
}

/// getBitfieldTypeFromArgument: `i1`..`i64` or `u1`..`u63` (case-sensitive, as in Redis).
fn field_type(arg: &[u8]) -> Result<(bool, u32)> {
    const TYPE_ERR: Error = Error::Msg("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(TYPE_ERR),
    };
    let bits = crate::util::parse_i64(&arg[1..]).ok_or(TYPE_ERR)?;
    if bits < 1 || bits > if signed { 64 } else { 63 } {
        return Err(TYPE_ERR);
    }
    Ok((signed, bits as u32))
}

/// Every operation, validated before any runs (one bad argument and nothing happens), plus
/// the last bit a write reaches.
fn parse(ctx: &Ctx, argv: &[Bytes]) -> Result<(Vec<Op>, Option<u64>)> {
    let mut ops = vec![];
    let mut overflow = Overflow::Wrap;
    let mut highest_write: Option<u64> = None;
    let mut j = 2;
    while j < argv.len() {
        let rem = argv.len() - j - 1;
        let sub = &argv[j];
        let kind = if sub.eq_ignore_ascii_case(b"get") && rem >= 2 {
            Kind::Get
        } else if sub.eq_ignore_ascii_case(b"set") && rem >= 3 {
            Kind::Set
        } else if sub.eq_ignore_ascii_case(b"incrby") && rem >= 3 {
            Kind::IncrBy
        } else if sub.eq_ignore_ascii_case(b"overflow") && rem >= 1 {
            let w = &argv[j + 1];
            overflow = if w.eq_ignore_ascii_case(b"wrap") {
                Overflow::Wrap
            } else if w.eq_ignore_ascii_case(b"sat") {
                Overflow::Sat
            } else if w.eq_ignore_ascii_case(b"fail") {
                Overflow::Fail
            } else {
                return Err(Error::Msg("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(Error::Syntax);
        };
        let (signed, bits) = field_type(&argv[j + 1])?;
        let offset = bit_offset(ctx, &argv[j + 2], bits)?;
        let mut value = 0;
        if kind != Kind::Get {
            let last = offset + bits as u64 - 1;
            highest_write = Some(highest_write.map_or(last, |h| h.max(last)));
            value = crate::command::args::int(&argv[j + 3])?;
        }
        ops.push(Op { kind, offset, value, overflow, bits, signed });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok((ops, highest_write))
}

/// The `bits`-wide unsigned integer at bit `offset`, most significant bit first; bits past
/// the end of `p` read as zeros.
fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..bits as u64 {
        let at = offset + i;
        let byte = usize::try_from(at >> 3).ok().and_then(|b| p.get(b)).copied().unwrap_or(0);
        v = (v << 1) | ((byte >> (7 - (at & 7))) & 1) as u64;
    }
    v
}

/// The same, sign-extended from its top bit.
fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(p, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` of `v` at bit `offset`; `p` already holds them.
fn set_bits(p: &mut [u8], offset: u64, bits: u32, v: u64) {
    for i in 0..bits as u64 {
        let at = offset + i;
        let bit = (v >> (bits as u64 - 1 - i)) & 1;
        let byte = &mut p[(at >> 3) as usize];
        let shift = 7 - (at & 7);
        *byte = (*byte & !(1 << shift)) | ((bit as u8) << shift);
    }
}

/// checkUnsignedBitfieldOverflow: whether `value + incr` leaves the `bits`-wide unsigned
/// range, and if so what to store instead (None for FAIL). A SET checks its value with a
/// zero increment, so a negative value is an overflow (wrapped, or saturated to the max).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<Option<u64>> {
    let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    let limit = |sat: u64| match ow {
        Overflow::Wrap => Some(wrapped()),
        Overflow::Sat => Some(sat),
        Overflow::Fail => None,
    };
    if value > max || (incr > 0 && incr > max_incr) {
        Some(limit(max))
    } else if incr < 0 && incr < min_incr {
        Some(limit(0))
    } else {
        None
    }
}

/// checkSignedBitfieldOverflow, likewise for the signed range; WRAP wraps two's-complement.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<Option<i64>> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    let limit = |sat: i64| match ow {
        Overflow::Wrap => Some(wrapped()),
        Overflow::Sat => Some(sat),
        Overflow::Fail => None,
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        Some(limit(max))
    } else if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        Some(limit(min))
    } else {
        None
    }
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
/// [OVERFLOW WRAP|SAT|FAIL] ...
pub(super) fn bitfield(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    generic(ctx, argv, false)
}

/// BITFIELD_RO key [GET type offset ...]
pub(super) fn bitfield_ro(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    generic(ctx, argv, true)
}

/// One reply per GET/SET/INCRBY: the value read, the old value (SET), the new value
/// (INCRBY), or nil where OVERFLOW FAIL refused the write. Only GETs never create the key.
fn generic(ctx: &mut Ctx, argv: &[Bytes], ro_command: bool) -> Result<Reply> {
    let (ops, highest_write) = parse(ctx, argv)?;
    let key = &argv[1];
    let Some(highest) = highest_write else {
        let mut buf = [0u8; 20];
        let p: &[u8] = match ctx.read_str(key)? {
            Some(s) => str_bytes(s, &mut buf),
            None => &[],
        };
        let read = |op: &Op| if op.signed { get_signed(p, op.offset, op.bits) } else { get_unsigned(p, op.offset, op.bits) as i64 };
        return Ok(Reply::Array(ops.iter().map(|op| Reply::Int(read(op))).collect()));
    };
    if ro_command {
        return Err(Error::Msg("ERR BITFIELD_RO only supports the GET subcommand"));
    }
    let (p, grown) = string_for_bits(ctx, key, highest)?;
    let mut changes = 0u64;
    let mut out = Vec::with_capacity(ops.len());
    for op in &ops {
        let (bits, offset) = (op.bits, op.offset);
        // (reply, value to store, whether it differs from the stored one), None for FAIL.
        let done: Option<(i64, u64, bool)> = if op.signed {
            let old = get_signed(p, offset, bits);
            match op.kind {
                Kind::Get => {
                    out.push(Reply::Int(old));
                    continue;
                }
                Kind::IncrBy => match signed_overflow(old, op.value, bits, op.overflow) {
                    Some(limit) => limit.map(|new| (new, new as u64, new != old)),
                    None => {
                        let new = old.wrapping_add(op.value);
                        Some((new, new as u64, new != old))
                    }
                },
                Kind::Set => match signed_overflow(op.value, 0, bits, op.overflow) {
                    Some(limit) => limit.map(|new| (old, new as u64, new != old)),
                    None => Some((old, op.value as u64, op.value != old)),
                },
            }
        } else {
            let old = get_unsigned(p, offset, bits);
            match op.kind {
                Kind::Get => {
                    out.push(Reply::Int(old as i64));
                    continue;
                }
                Kind::IncrBy => {
                    let new = match unsigned_overflow(old, op.value, bits, op.overflow) {
                        Some(limit) => limit,
                        None => Some(old.wrapping_add(op.value as u64)),
                    };
                    new.map(|new| (new as i64, new, new != old))
                }
                Kind::Set => {
                    let new = match unsigned_overflow(op.value as u64, 0, bits, op.overflow) {
                        Some(limit) => limit,
                        None => Some(op.value as u64),
                    };
                    new.map(|new| (old as i64, new, new != old))
                }
            }
        };
        match done {
            Some((reply, store, differs)) => {
                out.push(Reply::Int(reply));
                set_bits(p, offset, bits, store);
                changes += (grown || differs) as u64;
            }
            None => out.push(Reply::Nil),
        }
    }
    if changes > 0 {
        ctx.modified(key, "setbit");
        // Redis counts each changed field as a change (server.dirty += changes).
        ctx.srv.stats.dirty += changes - 1;
    }
    Ok(Reply::Array(out))
}
