//! Bitmap commands: strings addressed bit by bit, and BITFIELD's integers of any width.
//! Redis: bitops.c. Bit 0 is the most significant bit of the first byte; a missing key or
//! a byte past the end reads as zeros.

use bytes::Bytes;

use crate::command::args::int;
use crate::command::spec::{acl::BITMAP, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::object::{Str, Value};
use crate::reply::{Reply, ONE, ZERO};

mod bitfield;
#[cfg(test)]
mod tests;

const G: &str = "bitmap";
const W: u32 = WRITE | DENYOOM;

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("bitcount", -2, READONLY, G, bitcount).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(BITMAP).doc("2.6.0", "Count set bits in a string", "O(N)").args("key index=[start end index_unit=[BYTE|BIT]]"),
    CommandSpec::new("bitfield", -2, W, G, bitfield::bitfield).key_specs("RW access update variable_flags index:1 range:0:1:0 -- This command allows both access and modification of the key").keys(1, 1, 1).getkeys(bitfield::bitfield_keys).acl(BITMAP).doc("3.2.0", "Perform arbitrary bitfield integer operations on strings", "O(1) for each subcommand specified").args("key operation=[GET encoding_offset=(encoding offset)|write=([OVERFLOW wrap_sat_fail=(WRAP|SAT|FAIL)] write_operation=(SET encoding_offset_value=(encoding offset value@integer)|INCRBY encoding_offset_increment=(encoding offset increment@integer)))] ..."),
    CommandSpec::new("bitfield_ro", -2, READONLY | FAST, G, bitfield::bitfield_ro).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(BITMAP).doc("6.0.0", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", "O(1) for each subcommand specified").args("key [GET encoding_offset=(encoding offset) +...]"),
    CommandSpec::new("bitop", -4, W, G, bitop).key_specs("OW update index:2 range:0:1:0; RO access index:3 range:-1:1:0").keys(2, -1, 1).acl(BITMAP).doc("2.6.0", "Perform bitwise operations between strings", "O(N)").args("operation destkey key ..."),
    CommandSpec::new("bitpos", -3, READONLY, G, bitpos).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(BITMAP).doc("2.8.7", "Find first bit set or clear in a string", "O(N)").args("key bit@integer index=[start end_index=[end index_unit=[BYTE|BIT]]]"),
    CommandSpec::new("getbit", 3, READONLY | FAST, G, getbit).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(BITMAP).doc("2.2.0", "Returns the bit value at offset in the string value stored at key", "O(1)").args("key offset"),
    CommandSpec::new("setbit", 4, W, G, setbit).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(BITMAP).doc("2.2.0", "Sets or clears the bit at offset in the string value stored at key", "O(1)").args("key offset value@integer"),
];

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

/// getBitOffsetFromArgument: a bit offset, or with `hash_bits` (BITFIELD) also `#N`, meaning
/// N fields of that width. Offsets addressing a byte at or past proto-max-bulk-len are
/// refused, except when the AOF is replayed (Redis's mustObeyClient): the write was accepted
/// once and must load even if the limit was lowered since.
fn bit_offset(ctx: &Ctx, arg: &[u8], hash_bits: u32) -> Result<u64> {
    let hash = hash_bits > 0 && arg.first() == Some(&b'#');
    let mut n = crate::util::parse_i64(if hash { &arg[1..] } else { arg }).ok_or(Error::Msg(OFFSET_ERR))?;
    if hash {
        // Redis multiplies in a C long long; a product past its range wraps (and is then
        // refused as negative or too large, or, past both, accepted as Redis accepts it).
        n = n.wrapping_mul(hash_bits as i64);
    }
    if n < 0 || (!ctx.srv.loading && (n >> 3) >= ctx.srv.config.hot.proto_max_bulk_len) {
        return Err(Error::Msg(OFFSET_ERR));
    }
    Ok(n as u64)
}

/// A string value's bytes; an int-encoded one is formatted into `buf` (getObjectReadOnlyString).
fn str_bytes<'a>(s: &'a Str, buf: &'a mut [u8; 20]) -> &'a [u8] {
    match s {
        Str::Int(n) => crate::resp::writer::fmt_i64(*n, buf),
        _ => s.as_slice().expect("not an integer"),
    }
}

/// lookupStringForBitCommand: the string at `key` as a raw buffer long enough to hold bit
/// `maxbit`, created zero-filled when missing. Also whether it was created or grown: such a
/// write counts as a change even when the bits written are zeros.
fn string_for_bits<'c>(ctx: &'c mut Ctx, key: &[u8], maxbit: u64) -> Result<(&'c mut Vec<u8>, bool)> {
    // Past what a buffer can address only a replayed AOF could ask (offsets are checked
    // otherwise): refused rather than a capacity panic.
    let len = usize::try_from(maxbit >> 3).ok().and_then(|b| b.checked_add(1)).filter(|&l| l <= isize::MAX as usize).ok_or(Error::StringTooLong)?;
    let grown = match ctx.write_str(key)? {
        Some(s) => {
            let raw = s.make_raw();
            let grow = raw.len() < len;
            if grow {
                raw.resize(len, 0);
            }
            grow
        }
        None => {
            ctx.set_key(key, Value::Str(Str::Raw(vec![0; len])), false);
            true
        }
    };
    let raw = ctx.write_str(key)?.expect("just stored").make_raw();
    Ok((raw, grown))
}

/// SETBIT key offset value — the bit's previous value. Nothing is signalled when the bit
/// already had that value and the string did not grow (Redis counts no change then).
fn setbit(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    const BIT_ERR: Error = Error::Msg("ERR bit is not an integer or out of range");
    let offset = bit_offset(ctx, &argv[2], 0)?;
    let on = crate::util::parse_i64(&argv[3]).ok_or(BIT_ERR)?;
    if on & !1 != 0 {
        return Err(BIT_ERR);
    }
    let key = &argv[1];
    let (raw, grown) = string_for_bits(ctx, key, offset)?;
    let byte = &mut raw[(offset >> 3) as usize];
    let mask = 1u8 << (7 - (offset & 7));
    let old = *byte & mask != 0;
    if grown || old != (on == 1) {
        *byte = (*byte & !mask) | if on == 1 { mask } else { 0 };
        ctx.modified(key, "setbit");
    }
    Ok(if old { ONE } else { ZERO })
}

/// GETBIT key offset — 0 past the end and for a missing key (the offset is checked first).
fn getbit(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let offset = bit_offset(ctx, &argv[2], 0)?;
    let Some(s) = ctx.read_str(&argv[1])? else { return Ok(ZERO) };
    let mut buf = [0u8; 20];
    let p = str_bytes(s, &mut buf);
    let set = usize::try_from(offset >> 3).ok().and_then(|b| p.get(b)).is_some_and(|b| b & (1 << (7 - (offset & 7))) != 0);
    Ok(if set { ONE } else { ZERO })
}

/// The BIT|BYTE unit word of BITCOUNT and BITPOS: true for BIT.
fn bit_unit(arg: &[u8]) -> Result<bool> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(Error::Syntax)
    }
}

/// A range in bits turned into bytes plus masks of the edge bits outside it
/// (first_byte_neg_mask / last_byte_neg_mask): `start`, `end` are already clamped bits.
fn bit_range_to_bytes(start: i64, end: i64) -> (i64, i64, u8, u8) {
    let first = !((1u32 << (8 - (start & 7))) - 1) as u8;
    let last = ((1u32 << (7 - (end & 7))) - 1) as u8;
    (start >> 3, end >> 3, first, last)
}

/// Resolves negative indexes and clamps as BITCOUNT and BITPOS do: (start, end), with
/// `end` possibly below `start` for an empty range.
fn clamp_range(mut start: i64, mut end: i64, total: i64) -> (i64, i64) {
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    (start, end)
}

fn popcount(b: &[u8]) -> i64 {
    let mut words = b.chunks_exact(8);
    let mut n: u64 = words.by_ref().map(|w| u64::from_ne_bytes(w.try_into().expect("8 bytes")).count_ones() as u64).sum();
    n += words.remainder().iter().map(|b| b.count_ones() as u64).sum::<u64>();
    n as i64
}

/// BITCOUNT key [start end [BYTE|BIT]] — set bits in the range (inclusive, negative from the
/// end). A missing key is 0 whatever the arguments; an inverted negative range is 0 before
/// the unit word is even read, as in Redis.
fn bitcount(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let Some(s) = ctx.read_str(&argv[1])? else { return Ok(ZERO) };
    let mut buf = [0u8; 20];
    let p = str_bytes(s, &mut buf);
    let len = p.len() as i64;
    let (mut first, mut last) = (0u8, 0u8);
    let (start, end) = match argv.len() {
        4 | 5 => {
            let start = int(&argv[2])?;
            let end = int(&argv[3])?;
            if start < 0 && end < 0 && start > end {
                return Ok(ZERO);
            }
            let is_bit = argv.len() == 5 && bit_unit(&argv[4])?;
            let (s, e, f, l) = covered_bytes(start, end, len, is_bit);
            (first, last) = (f, l);
            (s, e)
        }
        2 => (0, len - 1),
        _ => return Err(Error::Syntax),
    };
    if start > end {
        return Ok(ZERO);
    }
    let (s, e) = (start as usize, end as usize);
    let mut n = popcount(&p[s..=e]);
    // The edge bits outside a BIT range were counted with their bytes: take them back.
    n -= (p[s] & first).count_ones() as i64 + (p[e] & last).count_ones() as i64;
    Ok(Reply::Int(n))
}

/// The bytes a BYTE or BIT range covers, clamped to the string, with the masks of the edge
/// bits outside a BIT range in its first and last byte (BITCOUNT, BITPOS).
fn covered_bytes(start: i64, end: i64, len: i64, is_bit: bool) -> (i64, i64, u8, u8) {
    let (start, end) = clamp_range(start, end, if is_bit { len << 3 } else { len });
    if is_bit && start <= end {
        bit_range_to_bytes(start, end)
    } else {
        (start, end, 0, 0)
    }
}

/// redisBitpos: the first bit equal to `bit`; when there is none, -1 looking for a 1 and the
/// first bit past the bytes looking for a 0 (the string reads as zero-padded).
fn first_bit(p: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0 } else { 0xff };
    match p.iter().position(|&b| b != skip) {
        Some(i) => {
            let b = if bit { p[i] } else { !p[i] };
            (i as i64) * 8 + b.leading_zeros() as i64
        }
        None if bit => -1,
        None => p.len() as i64 * 8,
    }
}

/// BITPOS key bit [start [end [BYTE|BIT]]] — the first bit set (or clear) in the range, -1
/// if none; looking for 0 without an explicit end, the bit after the string counts.
fn bitpos(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let bit = int(&argv[2])?;
    if bit != 0 && bit != 1 {
        return Err(Error::Msg("ERR The bit argument must be 1 or 0."));
    }
    let bit = bit == 1;
    let Some(s) = ctx.read_str(&argv[1])? else { return Ok(Reply::Int(if bit { -1 } else { 0 })) };
    let mut buf = [0u8; 20];
    let p = str_bytes(s, &mut buf);
    let len = p.len() as i64;
    let mut end_given = false;
    let (mut first, mut last) = (0u8, 0u8);
    let (mut start, end) = match argv.len() {
        4..=6 => {
            let start = int(&argv[3])?;
            let is_bit = argv.len() == 6 && bit_unit(&argv[5])?;
            let end = if argv.len() >= 5 {
                end_given = true;
                int(&argv[4])?
            } else if is_bit {
                (len << 3) + 7
            } else {
                len - 1
            };
            let (s, e, f, l) = covered_bytes(start, end, len, is_bit);
            (first, last) = (f, l);
            (s, e)
        }
        3 => (0, len - 1),
        _ => return Err(Error::Syntax),
    };
    if start > end {
        return Ok(Reply::Int(-1));
    }
    // Masked edge bytes are searched alone, each edge bit outside the range forced to the
    // value not looked for.
    let edge = |b: u8, mask: u8| if bit { b & !mask } else { b | mask };
    let mut bytes = end - start + 1;
    let pos = 'found: {
        if first != 0 {
            let mut c = edge(p[start as usize], first);
            if last != 0 && bytes == 1 {
                c = edge(c, last);
            }
            let pos = first_bit(&[c], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        let whole = bytes - (last != 0) as i64;
        if whole > 0 {
            let pos = first_bit(&p[start as usize..(start + whole) as usize], bit);
            if bytes == whole || (pos != -1 && pos != whole << 3) {
                break 'found pos;
            }
            start += whole;
            bytes -= whole;
        }
        first_bit(&[edge(p[end as usize], last)], bit)
    };
    // With an explicit end the range is not zero-padded: no 0 found means -1.
    if end_given && !bit && pos == bytes << 3 {
        return Ok(Reply::Int(-1));
    }
    Ok(Reply::Int(if pos == -1 { -1 } else { pos + (start << 3) }))
}

#[derive(Clone, Copy, PartialEq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...] — the length of the result, the longest
/// source (shorter ones and missing keys read as zeros). An empty result deletes destkey.
fn bitop(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let name = &argv[1];
    let op = [("and", BitOp::And), ("or", BitOp::Or), ("xor", BitOp::Xor), ("not", BitOp::Not)]
        .iter()
        .find(|(w, _)| name.eq_ignore_ascii_case(w.as_bytes()))
        .map(|(_, op)| *op)
        .ok_or(Error::Syntax)?;
    if op == BitOp::Not && argv.len() != 4 {
        return Err(Error::Msg("ERR BITOP NOT must be called with a single source key."));
    }
    // Folded source by source, so no source is copied but the first; each is looked up (and
    // type-checked) in order, as Redis does before computing.
    let mut res: Vec<u8> = Vec::new();
    for (i, key) in argv[3..].iter().enumerate() {
        let mut buf = [0u8; 20];
        let src: &[u8] = match ctx.read_str(key)? {
            Some(s) => str_bytes(s, &mut buf),
            None => &[],
        };
        if i == 0 {
            res.extend_from_slice(src);
            if op == BitOp::Not {
                res.iter_mut().for_each(|b| *b = !*b);
            }
            continue;
        }
        if res.len() < src.len() {
            res.resize(src.len(), 0);
        }
        match op {
            BitOp::And => {
                let n = src.len();
                res[..n].iter_mut().zip(src).for_each(|(r, s)| *r &= s);
                res[n..].fill(0);
            }
            BitOp::Or => res.iter_mut().zip(src).for_each(|(r, s)| *r |= s),
            BitOp::Xor => res.iter_mut().zip(src).for_each(|(r, s)| *r ^= s),
            BitOp::Not => unreachable!("NOT has one source"),
        }
    }
    let dest = &argv[2];
    let n = res.len();
    if n > 0 {
        // setKey looks the key up for writing first (an expired destkey expires here).
        ctx.lookup_write(dest);
        ctx.set_key(dest, Value::Str(Str::Raw(res)), false);
        ctx.modified(dest, "set");
    } else if ctx.db().remove(dest).is_some() {
        ctx.modified(dest, "del");
    }
    Ok(Reply::Int(n as i64))
}
