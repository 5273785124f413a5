//! HyperLogLog, byte for byte Redis's representation (hyperloglog.c), because an HLL is a
//! plain string value: GET, DUMP, RDB and replication carry these bytes between Redis and
//! Cinnabar, so the layout, the sparse opcodes Redis emits, the hash and the estimator all
//! have to be Redis's exactly.
//!
//! Layout: a 16-byte header ("HYLL", encoding, 3 unused bytes, the cached cardinality as 8
//! little-endian bytes whose top bit marks it stale) then the registers, either dense (16384
//! registers of 6 bits, packed from the least significant bit) or sparse (run-length
//! opcodes: ZERO `00xxxxxx` 1..64 zero registers, XZERO `01xxxxxx yyyyyyyy` 1..16384 zero
//! registers, VAL `1vvvvvxx` 1..4 registers of value 1..32).
//!
//! Values arrive from anywhere (SET, RESTORE, an RDB), so every walk over the opcodes is
//! bounds-checked. A sparse run total must be exactly 16384: like the redis-server Debian
//! ships (with the CVE-2025-32023 fix), a run that would pass the end is a corrupt value,
//! not something to stop at.

/// Registers are addressed by the hash's low 14 bits (HLL_P).
const P: u32 = 14;
/// The hash bits left for counting leading zeroes (HLL_Q).
const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
pub const HDR_SIZE: usize = 16;
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
/// 0.5/ln(2), the estimator's constant for m → ∞ (HLL_ALPHA_INF).
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// MurmurHash64A's seed in hllPatLen.
const SEED: u32 = 0xadc8_3b19;

/// The value is not a usable HLL although its header looked right (INVALIDOBJ).
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt;

/// The header check every command does first (isHLLObjectOrReply, after the type check).
pub fn is_valid(s: &[u8]) -> bool {
    s.len() >= HDR_SIZE && &s[..4] == b"HYLL" && s[4] <= MAX_ENCODING && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

pub fn encoding(s: &[u8]) -> u8 {
    s[4]
}

/// A new, empty HLL: sparse, one XZERO opcode covering every register (createHLLObject).
pub fn new_sparse() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR_SIZE + 2 + 3);
    s.extend_from_slice(b"HYLL");
    s.extend_from_slice(&[SPARSE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(XZERO_MAX_LEN);
        s.extend_from_slice(&xzero(n));
        left -= n;
    }
    s
}

/// The cached cardinality, if it is valid (HLL_VALID_CACHE).
pub fn cached_card(s: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(s[8..16].try_into().expect("header is 16 bytes"));
    (s[15] & 0x80 == 0).then_some(card)
}

pub fn set_cached_card(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

/// HLL_INVALIDATE_CACHE: any register change makes the cached count stale.
pub fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// MurmurHash2, 64-bit version for 64-bit platforms, as Redis has it (little-endian reads).
pub fn murmur64a(key: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h: u64 = seed as u64 ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its "000..1" pattern (hllPatLen).
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & P_MASK) as usize;
    // The forced bit makes the count at most Q+1.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---- dense registers -------------------------------------------------------------------

/// HLL_DENSE_GET_REGISTER over the register bytes. The last register's second byte is one
/// past the registers (Redis reads the string's terminator there); its bits are masked off.
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs[byte] as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

/// HLL_DENSE_SET_REGISTER (`val` < 64).
pub fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = val as u32;
    regs[byte] &= !((REGISTER_MAX as u32) << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(b1) = regs.get_mut(byte + 1) {
        *b1 &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *b1 |= (v >> (8 - fb)) as u8;
    }
}

/// Raises a dense register to `count` if it is lower (hllDenseSet); true if it changed.
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

// ---- sparse opcodes ----------------------------------------------------------------------

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}
fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}
fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}
fn zero_len(b: u8) -> usize {
    (b & 0x3f) as usize + 1
}
fn xzero_len(b0: u8, b1: u8) -> usize {
    ((((b0 & 0x3f) as usize) << 8) | b1 as usize) + 1
}
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}
fn val_len(b: u8) -> usize {
    (b & 0x3) as usize + 1
}
fn val(value: u8, len: usize) -> u8 {
    ((value - 1) << 2 | (len as u8 - 1)) | 0x80
}
fn zero(len: usize) -> u8 {
    (len - 1) as u8
}
fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | 0x40, (l & 0xff) as u8]
}

/// One decoded opcode: (registers covered, value, bytes taken).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

/// The opcodes of a sparse body, in order. An XZERO cut short by the end of the string reads
/// its second byte as zero, as Redis reads the string's terminator.
pub fn ops(body: &[u8]) -> impl Iterator<Item = Op> + '_ {
    let mut p = 0;
    std::iter::from_fn(move || {
        let b = *body.get(p)?;
        Some(if is_zero(b) {
            p += 1;
            Op::Zero(zero_len(b))
        } else if is_xzero(b) {
            let b1 = body.get(p + 1).copied().unwrap_or(0);
            p += 2;
            Op::XZero(xzero_len(b, b1))
        } else {
            p += 1;
            Op::Val(val_value(b), val_len(b))
        })
    })
}

/// Calls `f(first, runlen, value)` for each run; Corrupt unless the runs cover exactly the
/// 16384 registers (the patched overflow checks: a run past the end is corrupt at once).
fn walk_sparse(body: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    for op in ops(body) {
        let (run, v) = match op {
            Op::Zero(n) | Op::XZero(n) => (n, 0),
            Op::Val(v, n) => (n, v),
        };
        if idx + run > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, run, v);
        idx += run;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Converts a sparse HLL to dense in place, keeping the header (hllSparseToDense). A dense
/// one is left alone.
pub fn sparse_to_dense(s: &mut Vec<u8>) -> Result<(), Corrupt> {
    if s[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&s[..HDR_SIZE]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    walk_sparse(&s[HDR_SIZE..], |first, run, v| {
        if v != 0 {
            for i in first..first + run {
                dense_set(regs, i, v);
            }
        }
    })?;
    *s = dense;
    Ok(())
}

/// Raises register `index` to `count` in a sparse HLL, splitting the run that covers it and
/// re-merging neighbours as Redis does, promoting to dense when the value does not fit a VAL
/// opcode or the string would grow past `max_bytes` (hllSparseSet). Ok(true) if the register
/// changed; Corrupt where Redis answers -1.
pub fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    let mut end = s.len();
    let byte = |s: &Vec<u8>, i: usize| s.get(i).copied().unwrap_or(0);

    // Find the opcode covering `index`.
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let b = s[p];
        let oplen;
        if is_zero(b) {
            span = zero_len(b);
            oplen = 1;
        } else if is_val(b) {
            span = val_len(b);
            oplen = 1;
        } else {
            span = xzero_len(b, byte(s, p + 1));
            oplen = 2;
        }
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }

    let b = s[p];
    let (op_zero, op_xzero, op_val) = (is_zero(b), is_xzero(b), is_val(b));
    let runlen = if op_zero {
        zero_len(b)
    } else if op_xzero {
        xzero_len(b, byte(s, p + 1))
    } else {
        val_len(b)
    };

    let mut in_place = false;
    if op_val {
        if val_value(b) >= count {
            return Ok(false);
        }
        if runlen == 1 {
            s[p] = val(count, 1);
            in_place = true;
        }
    }
    if !in_place && op_zero && runlen == 1 {
        s[p] = val(count, 1);
        in_place = true;
    }

    if !in_place {
        // Replace the opcode with up to three: the part before `index`, `index` itself, the
        // part after.
        let last = first + span - 1;
        let mut seq = [0u8; 5];
        let mut n = 0;
        let mut push = |bytes: &[u8]| {
            seq[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        };
        let zero_run = |len: usize| if len > ZERO_MAX_LEN { (xzero(len), 2) } else { ([zero(len), 0], 1) };
        if op_zero || op_xzero {
            if index != first {
                let (op, len) = zero_run(index - first);
                push(&op[..len]);
            }
            push(&[val(count, 1)]);
            if index != last {
                let (op, len) = zero_run(last - index);
                push(&op[..len]);
            }
        } else {
            let cur = val_value(b);
            if index != first {
                push(&[val(cur, index - first)]);
            }
            push(&[val(count, 1)]);
            if index != last {
                push(&[val(cur, last - index)]);
            }
        }
        let oldlen = if op_xzero { 2 } else { 1 };
        let delta = n as isize - oldlen as isize;
        if delta > 0 && end + delta as usize > max_bytes {
            return promote(s, index, count);
        }
        // An opcode cut short by the end (a truncated XZERO) only owns the bytes there are;
        // what Redis writes past the new length is dropped with it.
        let old_end = (p + oldlen).min(end);
        s.splice(p..old_end, seq[..n].iter().copied());
        end = (end as isize + delta) as usize;
        s.truncate(end);
    }

    // Merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from the previous.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scanlen = 5;
    while p < end && scanlen > 0 {
        scanlen -= 1;
        if is_xzero(s[p]) {
            p += 2;
            continue;
        } else if is_zero(s[p]) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(s[p + 1]) {
            let v1 = val_value(s[p]);
            let v2 = val_value(s[p + 1]);
            if v1 == v2 {
                let len = val_len(s[p]) + val_len(s[p + 1]);
                if len <= VAL_MAX_LEN {
                    s[p + 1] = val(v1, len);
                    s.remove(p);
                    end -= 1;
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(s);
    Ok(true)
}

/// The sparse form cannot take this change: go dense, then set the register.
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(s)?;
    dense_raise(&mut s[HDR_SIZE..], index, count);
    Ok(true)
}

/// PFADD of one element (hllAdd): Ok(true) if a register changed. Does not invalidate the
/// cache for the dense encoding (the command does, once).
pub fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    match s[4] {
        DENSE => Ok(dense_raise(&mut s[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(s, index, count, max_bytes),
        _ => Err(Corrupt),
    }
}

/// Raises `max` (one byte per register) to this HLL's registers (hllMerge).
pub fn merge_into(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), Corrupt> {
    if s[4] == DENSE {
        let regs = &s[HDR_SIZE..];
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        Ok(())
    } else {
        walk_sparse(&s[HDR_SIZE..], |first, run, v| {
            for m in &mut max[first..first + run] {
                *m = (*m).max(v);
            }
        })
    }
}

/// Writes merged registers into an HLL, register by register as PFMERGE does, so a sparse
/// target ends with the opcodes Redis would produce (and promotes where Redis would).
pub fn store_registers(s: &mut Vec<u8>, max: &[u8; REGISTERS], max_bytes: usize) {
    for (j, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if s[4] == DENSE {
            dense_raise(&mut s[HDR_SIZE..], j, m);
        } else {
            // Redis ignores the result here: the sources were all checked already.
            let _ = sparse_set(s, j, m, max_bytes);
        }
    }
}

/// The cardinality estimate of an HLL string (hllCount); Corrupt for a sparse body whose runs
/// do not cover the registers exactly.
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    if s[4] == DENSE {
        let regs = &s[HDR_SIZE..];
        for i in 0..REGISTERS {
            histo[dense_get(regs, i) as usize] += 1;
        }
    } else {
        walk_sparse(&s[HDR_SIZE..], |_, run, v| histo[v as usize] += run as u32)?;
    }
    Ok(estimate(&histo))
}

/// The estimate over plain byte registers (PFCOUNT of several keys, Redis's HLL_RAW).
pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u32; 64];
    for &m in max.iter() {
        histo[(m & REGISTER_MAX) as usize] += 1;
    }
    estimate(&histo)
}

/// Otmar Ertl's improved estimator over the register histogram (Redis 5+, hllCount).
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    llround_to_u64(ALPHA_INF * m * m / z)
}

/// `(uint64_t)(double)llroundl(x)` as it runs on x86-64: values out of range (an infinite
/// estimate when every register is saturated) become i64::MIN, seen as 2^63.
fn llround_to_u64(x: f64) -> u64 {
    if x.is_finite() && x.abs() < (1u64 << 63) as f64 {
        x.round() as i64 as u64
    } else {
        i64::MIN as u64
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// PFDEBUG DECODE's text for a sparse body: `z:len`, `Z:len`, `v:value,len`.
pub fn decode(s: &[u8]) -> String {
    let parts: Vec<String> = ops(&s[HDR_SIZE..])
        .map(|op| match op {
            Op::Zero(n) => format!("z:{}", n),
            Op::XZero(n) => format!("Z:{}", n),
            Op::Val(v, n) => format!("v:{},{}", v, n),
        })
        .collect();
    parts.join(" ")
}

/// All registers of a dense HLL (PFDEBUG GETREG).
pub fn dense_registers(s: &[u8]) -> Vec<u8> {
    (0..REGISTERS).map(|i| dense_get(&s[HDR_SIZE..], i)).collect()
}

/// PFSELFTEST: the register packing round-trips, and sparse and dense agree with each other
/// and stay within the expected error, at checkpoints 1, 10, ... up to `elements`. `rand`
/// stands for libc's rand(). Err carries Redis's TESTFAILED message.
pub fn selftest(mut rand: impl FnMut() -> u32, elements: u64, max_bytes: usize) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut bytes = [0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = (rand() & REGISTER_MAX as u32) as u8;
            *b = r;
            dense_set(&mut dense[HDR_SIZE..], i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let v = dense_get(&dense[HDR_SIZE..], i);
            if v != b {
                return Err(format!("TESTFAILED Register {} should be {} but is {}", i, b, v));
            }
        }
    }
    dense[HDR_SIZE..].fill(0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rand() as u64 | (rand() as u64) << 32;
    for j in 1..=elements {
        let ele = (j ^ seed).to_le_bytes();
        let (index, cnt) = pattern(&ele);
        dense_raise(&mut dense[HDR_SIZE..], index, cnt);
        // A fresh HLL cannot be corrupt.
        let _ = add(&mut sparse, &ele, max_bytes);
        if j != checkpoint {
            continue;
        }
        if j < (max_bytes / 2) as u64 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).unwrap_or(0);
        if card != count(&sparse).unwrap_or(u64::MAX) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - card as i64).unsigned_abs();
        let maxerr = if j == 10 { 1 } else { (relerr * 6.0 * checkpoint as f64).ceil() as u64 };
        if abserr > maxerr {
            return Err(format!("TESTFAILED Too big error. card:{} abserr:{}", checkpoint, abserr));
        }
        checkpoint *= 10;
    }
    Ok(())
}
