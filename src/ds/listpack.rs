//! A listpack: a sequence of small strings and integers packed into one allocation, walked
//! in both directions. Small hashes, sorted sets and the nodes of a list live in these, as in
//! Redis, because a few bytes of header per element beat a pointer-heavy structure by far for
//! the small collections most applications store.
//!
//! The layout is ours, not Redis's byte format (RDB conversion lives with persistence):
//! `[count: u32 LE]` then entries, each `header payload backlen`.
//! - header 0x00..=0x7F: a string of that many bytes follows;
//! - 0x80..=0xBF: the integer `header - 0x80` (0..63), no payload;
//! - 0xC0 / 0xC1 / 0xC2 / 0xC3: an i8 / i16 / i32 / i64 (little-endian) follows;
//! - 0xC4 / 0xC5: a string whose length follows as u16 / u32;
//! - backlen: the size of header + payload, 7 bits a byte, written so that it reads backwards
//!   from the next entry's start (the byte nearest the next entry holds the low bits and a
//!   continuation flag), which is what makes reverse traversal possible.

use bytes::Bytes;

use crate::util::parse_i64;

const HEAD: usize = 4;

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Listpack {
    buf: Vec<u8>,
}

/// One element as stored: integers come back as integers (replies format them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LpVal<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl LpVal<'_> {
    pub fn to_bytes(self) -> Bytes {
        match self {
            LpVal::Int(n) => Bytes::from(n.to_string()),
            LpVal::Str(s) => Bytes::copy_from_slice(s),
        }
    }

    pub fn to_vec(self) -> Vec<u8> {
        match self {
            LpVal::Int(n) => n.to_string().into_bytes(),
            LpVal::Str(s) => s.to_vec(),
        }
    }

    /// Compares with a probe the caller has already classified (see `Probe`).
    pub fn matches(self, p: &Probe) -> bool {
        match (self, p.int) {
            (LpVal::Int(n), Some(m)) => n == m,
            (LpVal::Int(_), None) => false,
            (LpVal::Str(s), None) => s == p.bytes,
            (LpVal::Str(_), Some(_)) => false,
        }
    }

    pub fn len(self) -> usize {
        match self {
            LpVal::Int(n) => crate::resp::writer::fmt_i64(n, &mut [0u8; 20]).len(),
            LpVal::Str(s) => s.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The integer value of a stored element, parsing strings (HINCRBY on a listpack field).
    pub fn as_i64(self) -> Option<i64> {
        match self {
            LpVal::Int(n) => Some(n),
            LpVal::Str(s) => parse_i64(s),
        }
    }
}

/// A value to search for, classified once: a canonical integer is stored as one, so a search
/// compares integers with integers and bytes with bytes.
pub struct Probe<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Probe<'a> {
    pub fn new(bytes: &'a [u8]) -> Probe<'a> {
        Probe { bytes, int: parse_i64(bytes) }
    }
}

fn backlen_size(n: usize) -> usize {
    match n {
        0..=127 => 1,
        128..=16383 => 2,
        16384..=2097151 => 3,
        2097152..=268435455 => 4,
        _ => 5,
    }
}

fn encode(v: &[u8], out: &mut Vec<u8>) {
    encode_val(parse_i64(v), v, out)
}

/// `encode` for a known integer, skipping the parse (stream entry headers are integers).
fn encode_int(n: i64, out: &mut Vec<u8>) {
    encode_val(Some(n), &[], out)
}

fn encode_val(int: Option<i64>, v: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    match int {
        Some(n @ 0..=63) => out.push(0x80 + n as u8),
        Some(n) if i8::try_from(n).is_ok() => out.extend_from_slice(&[0xC0, n as i8 as u8]),
        Some(n) if i16::try_from(n).is_ok() => {
            out.push(0xC1);
            out.extend_from_slice(&(n as i16).to_le_bytes());
        }
        Some(n) if i32::try_from(n).is_ok() => {
            out.push(0xC2);
            out.extend_from_slice(&(n as i32).to_le_bytes());
        }
        Some(n) => {
            out.push(0xC3);
            out.extend_from_slice(&n.to_le_bytes());
        }
        None if v.len() < 128 => {
            out.push(v.len() as u8);
            out.extend_from_slice(v);
        }
        None if v.len() <= u16::MAX as usize => {
            out.push(0xC4);
            out.extend_from_slice(&(v.len() as u16).to_le_bytes());
            out.extend_from_slice(v);
        }
        None => {
            out.push(0xC5);
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.extend_from_slice(v);
        }
    }
    let n = out.len() - start;
    let k = backlen_size(n);
    // Read backwards, group 0 comes first; each group but the last read (k-1) flags that
    // more bytes precede it.
    for i in (0..k).rev() {
        let group = ((n >> (7 * i)) & 0x7F) as u8;
        out.push(if i + 1 < k { group | 0x80 } else { group });
    }
}

impl Default for Listpack {
    fn default() -> Self {
        Listpack::new()
    }
}

impl Listpack {
    pub fn new() -> Listpack {
        Listpack { buf: vec![0; HEAD] }
    }

    pub fn len(&self) -> usize {
        u32::from_le_bytes(self.buf[..HEAD].try_into().unwrap()) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes used, for MEMORY USAGE and the size limits of list nodes.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    fn set_len(&mut self, n: usize) {
        self.buf[..HEAD].copy_from_slice(&(n as u32).to_le_bytes());
    }

    /// Offset of the first entry (== `end()` when empty).
    pub fn first(&self) -> Option<usize> {
        (self.buf.len() > HEAD).then_some(HEAD)
    }

    pub fn end(&self) -> usize {
        self.buf.len()
    }

    pub fn last(&self) -> Option<usize> {
        self.prev(self.buf.len())
    }

    /// (value, header+payload size) of the entry at `off`.
    #[inline]
    fn decode(&self, off: usize) -> (LpVal<'_>, usize) {
        let b = &self.buf;
        let h = b[off];
        let le = |n: usize| &b[off + 1..off + 1 + n];
        match h {
            0x00..=0x7F => (LpVal::Str(&b[off + 1..off + 1 + h as usize]), 1 + h as usize),
            0x80..=0xBF => (LpVal::Int((h - 0x80) as i64), 1),
            0xC0 => (LpVal::Int(b[off + 1] as i8 as i64), 2),
            0xC1 => (LpVal::Int(i16::from_le_bytes(le(2).try_into().unwrap()) as i64), 3),
            0xC2 => (LpVal::Int(i32::from_le_bytes(le(4).try_into().unwrap()) as i64), 5),
            0xC3 => (LpVal::Int(i64::from_le_bytes(le(8).try_into().unwrap())), 9),
            0xC4 => {
                let n = u16::from_le_bytes(le(2).try_into().unwrap()) as usize;
                (LpVal::Str(&b[off + 3..off + 3 + n]), 3 + n)
            }
            _ => {
                let n = u32::from_le_bytes(le(4).try_into().unwrap()) as usize;
                (LpVal::Str(&b[off + 5..off + 5 + n]), 5 + n)
            }
        }
    }

    pub fn get(&self, off: usize) -> LpVal<'_> {
        self.decode(off).0
    }

    fn entry_size(&self, off: usize) -> usize {
        let (_, n) = self.decode(off);
        n + backlen_size(n)
    }

    pub fn next(&self, off: usize) -> Option<usize> {
        let n = off + self.entry_size(off);
        (n < self.buf.len()).then_some(n)
    }

    /// The entry before the one at `off` (or before the end when `off == end()`).
    pub fn prev(&self, off: usize) -> Option<usize> {
        if off <= HEAD {
            return None;
        }
        let mut p = off - 1;
        let mut n = 0usize;
        let mut shift = 0;
        loop {
            let byte = self.buf[p];
            n |= ((byte & 0x7F) as usize) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            p -= 1;
        }
        Some(p - n)
    }

    /// Offset of the `i`th entry (negative from the end), walking from the nearer end.
    pub fn seek(&self, i: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if i < 0 { len + i } else { i };
        if i < 0 || i >= len {
            return None;
        }
        if i < len / 2 {
            let mut off = self.first()?;
            for _ in 0..i {
                off = self.next(off)?;
            }
            Some(off)
        } else {
            let mut off = self.last()?;
            for _ in 0..(len - 1 - i) {
                off = self.prev(off)?;
            }
            Some(off)
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { lp: self, off: self.first() }
    }

    /// Room for `n` more bytes. Nearly exact, as Redis reallocs a listpack to its new size
    /// (doubling would leave a third of every small collection's bytes unused on average),
    /// but by an eighth more at a time once the listpack is big, so a quicklist node filled
    /// by thousands of pushes is not reallocated (and maybe copied) by every one of them.
    fn grow(&mut self, n: usize) {
        if self.buf.capacity() - self.buf.len() < n {
            self.buf.reserve_exact(n.max(self.buf.len() / 8));
        }
    }

    pub fn push_back(&mut self, v: &[u8]) {
        self.grow(v.len() + 16);
        encode(v, &mut self.buf);
        self.set_len(self.len() + 1);
    }

    pub fn push_int(&mut self, n: i64) {
        self.grow(16);
        encode_int(n, &mut self.buf);
        self.set_len(self.len() + 1);
    }

    /// The integer at `off` (0 for a string that is not one: callers store integers there).
    pub fn get_int(&self, off: usize) -> i64 {
        self.get(off).as_i64().unwrap_or(0)
    }

    /// Replaces the entry at `off` with an integer; returns its offset (unchanged).
    pub fn replace_int(&mut self, off: usize, n: i64) -> usize {
        let old = self.entry_size(off);
        let start = self.buf.len();
        encode_int(n, &mut self.buf);
        self.move_into(start, off, old);
        off
    }

    /// Moves the entry just encoded at the end of the buffer (from `start`) to `off`, in place
    /// of the `old` bytes there: one move of the bytes in between, no temporary buffer (an
    /// LPUSH is a head insert into its node every time).
    fn move_into(&mut self, start: usize, off: usize, old: usize) {
        let n = self.buf.len() - start;
        if n == old {
            self.buf.copy_within(start.., off);
            self.buf.truncate(start);
        } else {
            self.buf[off..].rotate_right(n);
            if old > 0 {
                self.buf.drain(off + n..off + n + old);
            }
        }
    }

    pub fn push_front(&mut self, v: &[u8]) {
        self.insert(HEAD, v);
    }

    /// Inserts before the entry at `off` (`off == end()` appends); returns the new entry's offset.
    pub fn insert(&mut self, off: usize, v: &[u8]) -> usize {
        self.grow(v.len() + 16);
        let start = self.buf.len();
        encode(v, &mut self.buf);
        self.move_into(start, off, 0);
        self.set_len(self.len() + 1);
        off
    }

    /// Replaces the entry at `off`; returns its offset (unchanged).
    pub fn replace(&mut self, off: usize, v: &[u8]) -> usize {
        let old = self.entry_size(off);
        self.grow(v.len() + 16);
        let start = self.buf.len();
        encode(v, &mut self.buf);
        self.move_into(start, off, old);
        off
    }

    /// Deletes `count` entries starting at `off`; returns the offset of the entry after them
    /// (or `end()`).
    pub fn delete(&mut self, off: usize, count: usize) -> usize {
        let mut end = off;
        let mut n = 0;
        while n < count && end < self.buf.len() {
            end += self.entry_size(end);
            n += 1;
        }
        self.buf.drain(off..end);
        self.set_len(self.len() - n);
        off
    }

    /// First entry equal to `p`, looking at every `skip`th entry from the start (2 for the
    /// fields of a field/value listpack).
    pub fn find(&self, p: &Probe, skip: usize) -> Option<usize> {
        // The hot loop of every small hash, set and sorted-set lookup: each entry is decoded
        // once (its value and its size together), and entries between probed ones (a hash's
        // values) are only stepped over.
        let b = &self.buf[..];
        let mut off = HEAD;
        let mut i = 0;
        while off < b.len() {
            let h = b[off];
            let (n, hit) = if h <= 0x7F {
                // A short string (most fields and members): length, last byte (names that
                // share a prefix, field1 field2 ..., differ there), then the rest.
                let len = h as usize;
                let hit = i == 0
                    && p.int.is_none()
                    && len == p.bytes.len()
                    && (len == 0 || (b[off + len] == p.bytes[len - 1] && b[off + 1..off + 1 + len] == *p.bytes));
                (1 + len, hit)
            } else {
                let (v, n) = self.decode(off);
                (n, i == 0 && v.matches(p))
            };
            if hit {
                return Some(off);
            }
            off += n + backlen_size(n);
            i += 1;
            if i == skip {
                i = 0;
            }
        }
        None
    }

    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }
}

pub struct Iter<'a> {
    lp: &'a Listpack,
    off: Option<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpVal<'a>;

    fn next(&mut self) -> Option<LpVal<'a>> {
        let o = self.off?;
        self.off = self.lp.next(o);
        Some(self.lp.get(o))
    }
}

// Property tests need proptest, which the wasm build does not carry.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|v| v.to_vec()).collect()
    }

    fn all_rev(lp: &Listpack) -> Vec<Vec<u8>> {
        let mut out = vec![];
        let mut off = lp.last();
        while let Some(o) = off {
            out.push(lp.get(o).to_vec());
            off = lp.prev(o);
        }
        out.reverse();
        out
    }

    #[test]
    fn integers_are_stored_as_integers() {
        let mut lp = Listpack::new();
        for v in ["5", "-1", "300", "70000", "9223372036854775807", "-9223372036854775808", "007", "1.5", ""] {
            lp.push_back(v.as_bytes());
        }
        assert_eq!(lp.get(lp.first().unwrap()), LpVal::Int(5));
        assert_eq!(lp.get(lp.seek(6).unwrap()), LpVal::Str(b"007"));
        assert_eq!(all(&lp), all_rev(&lp));
        assert_eq!(lp.len(), 9);
        assert!(lp.find(&Probe::new(b"300"), 1).is_some());
        assert!(lp.find(&Probe::new(b"0300"), 1).is_none());
    }

    proptest! {
        /// Every operation agrees with a Vec model, and backward walks see what forward ones do
        /// (strings long enough to need 2- and 3-byte backlens included).
        #[test]
        fn behaves_like_a_vec(ops in proptest::collection::vec((0u8..5, any::<u16>(), prop_oneof![
            "[a-z0-9-]{0,8}".prop_map(|s| s.into_bytes()),
            (0usize..20000).prop_map(|n| vec![b'x'; n]),
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        ]), 0..40)) {
            let mut lp = Listpack::new();
            let mut model: Vec<Vec<u8>> = vec![];
            for (op, pos, v) in ops {
                let at = if model.is_empty() { 0 } else { pos as usize % (model.len() + 1) };
                match op {
                    0 => { lp.push_back(&v); model.push(v); }
                    1 => { lp.push_front(&v); model.insert(0, v); }
                    2 => {
                        let off = if at == model.len() { lp.end() } else { lp.seek(at as i64).unwrap() };
                        lp.insert(off, &v);
                        model.insert(at, v);
                    }
                    3 if !model.is_empty() => {
                        let i = at % model.len();
                        lp.replace(lp.seek(i as i64).unwrap(), &v);
                        model[i] = v;
                    }
                    4 if !model.is_empty() => {
                        let i = at % model.len();
                        let n = 1 + pos as usize % 3;
                        lp.delete(lp.seek(i as i64).unwrap(), n);
                        model.drain(i..(i + n).min(model.len()));
                    }
                    _ => {}
                }
                prop_assert_eq!(lp.len(), model.len());
                prop_assert_eq!(&all(&lp), &model);
                prop_assert_eq!(&all_rev(&lp), &model);
            }
        }
    }
}
