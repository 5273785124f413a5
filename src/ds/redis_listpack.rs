//! Redis's listpack byte format (listpack.c), as RDB files and DUMP payloads carry it. Our own
//! in-memory listpack (`ds/listpack.rs`) has a different layout; these functions convert at the
//! persistence boundary, and `entry_size` lets a stream cut its nodes exactly where Redis would
//! (stream-node-max-bytes counts Redis's bytes).

type LoadResult<T> = Result<T, String>;
use crate::ds::listpack::LpVal;
use crate::util::parse_i64;

/// Header (total bytes u32, element count u16) plus the 0xFF terminator.
pub const OVERHEAD: usize = 7;

/// How many bytes one element takes in a Redis listpack (encoding plus back-length).
pub fn entry_size(v: &[u8]) -> usize {
    match parse_i64(v) {
        Some(n) => int_size(n),
        None => with_backlen(str_enc_size(v.len())),
    }
}

/// `entry_size` of an integer element.
pub fn int_size(n: i64) -> usize {
    with_backlen(match n {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        _ if i32::try_from(n).is_ok() => 5,
        _ => 9,
    })
}

fn str_enc_size(len: usize) -> usize {
    match len {
        0..=63 => 1 + len,
        64..=4095 => 2 + len,
        _ => 5 + len,
    }
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn with_backlen(enc: usize) -> usize {
    enc + backlen_size(enc)
}

/// Encodes elements (integers where they parse as Redis would store them) as a Redis listpack.
pub fn encode<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    encode_vals(items.into_iter().map(LpVal::Str))
}

/// Encodes our in-memory listpack's elements as Redis's: integers stay integers, and a
/// string that is a canonical integer becomes one, as lpAppend's lpStringToInt64 decides.
pub fn encode_vals<'a>(items: impl IntoIterator<Item = LpVal<'a>>) -> Vec<u8> {
    let mut out = vec![0u8; 6];
    let mut count = 0usize;
    for v in items {
        let start = out.len();
        let (int, v) = match v {
            LpVal::Int(n) => (Some(n), &[][..]),
            LpVal::Str(s) => (parse_i64(s), s),
        };
        match int {
            Some(n @ 0..=127) => out.push(n as u8),
            Some(n @ -4096..=4095) => {
                let u = (n as u16) & 0x1FFF;
                out.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
            }
            Some(n @ -32768..=32767) => {
                out.push(0xF1);
                out.extend_from_slice(&(n as i16).to_le_bytes());
            }
            Some(n @ -8388608..=8388607) => {
                out.push(0xF2);
                out.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
            }
            Some(n) if i32::try_from(n).is_ok() => {
                out.push(0xF3);
                out.extend_from_slice(&(n as i32).to_le_bytes());
            }
            Some(n) => {
                out.push(0xF4);
                out.extend_from_slice(&n.to_le_bytes());
            }
            None if v.len() < 64 => {
                out.push(0x80 | v.len() as u8);
                out.extend_from_slice(v);
            }
            None if v.len() < 4096 => {
                out.extend_from_slice(&[0xE0 | (v.len() >> 8) as u8, v.len() as u8]);
                out.extend_from_slice(v);
            }
            None => {
                out.push(0xF0);
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                out.extend_from_slice(v);
            }
        }
        let l = out.len() - start;
        // lpEncodeBacklen: the high group first, every later byte flagged with 0x80.
        let k = backlen_size(l);
        for i in (0..k).rev() {
            let group = ((l >> (7 * i)) & 0x7F) as u8;
            out.push(if i + 1 < k { group | 0x80 } else { group });
        }
        count += 1;
    }
    out.push(0xFF);
    let total = out.len() as u32;
    out[..4].copy_from_slice(&total.to_le_bytes());
    // LP_HDR_NUMELE_UNKNOWN (65535) when the count does not fit the header.
    out[4..6].copy_from_slice(&(count.min(65535) as u16).to_le_bytes());
    out
}

/// The elements of a Redis listpack blob, checked as lpValidateIntegrity's deep mode checks
/// them: the header's size, every entry's encoding and back-length inside the blob, the
/// terminator as the last byte, and the element count when the header knows it.
pub fn decode(blob: &[u8]) -> LoadResult<Vec<Vec<u8>>> {
    let bad = || "Listpack integrity check failed.".to_string();
    if blob.len() < OVERHEAD || u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize != blob.len() {
        return Err(bad());
    }
    // `n` bytes at `p + skip`, if the blob has them (checked: n comes from the data).
    let get =
        |p: usize, skip: usize, n: usize| p.checked_add(skip).and_then(|a| Some((a, a.checked_add(n)?))).and_then(|(a, z)| blob.get(a..z)).ok_or_else(bad);
    let int = |p: usize, w: usize| -> LoadResult<Vec<u8>> {
        let mut buf = [0u8; 8];
        buf[..w].copy_from_slice(get(p, 1, w)?);
        let shift = 64 - 8 * w as u32;
        Ok(((i64::from_le_bytes(buf) << shift) >> shift).to_string().into_bytes())
    };
    let mut items = vec![];
    let mut p = 6;
    loop {
        let b = *blob.get(p).ok_or_else(bad)?;
        if b == 0xFF {
            break;
        }
        let (item, size): (Vec<u8>, usize) = if b & 0x80 == 0 {
            ((b & 0x7F).to_string().into_bytes(), 1)
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3F) as usize;
            (get(p, 1, n)?.to_vec(), 1 + n)
        } else if b & 0xE0 == 0xC0 {
            let v = (((b & 0x1F) as i64) << 8) | get(p, 1, 1)?[0] as i64;
            let v = if v >= 1 << 12 { v - (1 << 13) } else { v };
            (v.to_string().into_bytes(), 2)
        } else if b & 0xF0 == 0xE0 {
            let n = (((b & 0x0F) as usize) << 8) | get(p, 1, 1)?[0] as usize;
            (get(p, 2, n)?.to_vec(), 2 + n)
        } else {
            match b {
                0xF1 => (int(p, 2)?, 3),
                0xF2 => (int(p, 3)?, 4),
                0xF3 => (int(p, 4)?, 5),
                0xF4 => (int(p, 8)?, 9),
                0xF0 => {
                    let l = get(p, 1, 4)?;
                    let n = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
                    (get(p, 5, n)?.to_vec(), n.checked_add(5).ok_or_else(bad)?)
                }
                _ => return Err(bad()),
            }
        };
        // The back-length must say the entry's size, as lpDecodeBacklen would read it.
        let k = backlen_size(size);
        let back = get(p, size, k)?;
        if (0..k).rev().zip(back).any(|(i, &byte)| {
            let group = ((size >> (7 * i)) & 0x7F) as u8;
            byte != if i + 1 < k { group | 0x80 } else { group }
        }) {
            return Err(bad());
        }
        p = p.checked_add(size + k).filter(|&q| q < blob.len()).ok_or_else(bad)?;
        items.push(item);
    }
    let count = u16::from_le_bytes([blob[4], blob[5]]) as usize;
    if p != blob.len() - 1 || (count != 65535 && count != items.len()) {
        return Err(bad());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    use super::*;

    #[test]
    fn encode_then_decode_round_trips_every_encoding() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let items: Vec<&[u8]> = vec![
            b"0",
            b"127",
            b"128",
            b"-1",
            b"-4096",
            b"4095",
            b"30000",
            b"-8000000",
            b"2000000000",
            b"-9223372036854775808",
            b"abc",
            b"",
            b"007",
            &mid,
            &long,
        ];
        let blob = encode(items.iter().copied());
        let back = decode(&blob).unwrap();
        assert_eq!(back, items.iter().map(|v| v.to_vec()).collect::<Vec<_>>());
        let sum: usize = items.iter().map(|v| entry_size(v)).sum();
        assert_eq!(blob.len(), OVERHEAD + sum, "entry_size agrees with the encoder");
    }

    #[test]
    fn matches_the_bytes_redis_writes() {
        // The listpack inside redis-server 7.0's DUMP of `HSET h a 1`.
        assert_eq!(encode([&b"a"[..], b"1"]), vec![12, 0, 0, 0, 2, 0, 0x81, b'a', 2, 1, 1, 0xFF]);
    }

    #[test]
    fn damaged_blobs_are_refused() {
        let good = encode([&b"a"[..], b"1", &[b'x'; 200]]);
        assert!(decode(&good).is_ok());
        let mut wrong_count = good.clone();
        wrong_count[4] = 2;
        let mut wrong_backlen = good.clone();
        wrong_backlen[8] = 7; // the back-length of "a" says 7 bytes, not 2
        let mut trailing = good.clone();
        trailing.push(0);
        let n = trailing.len() as u32;
        trailing[..4].copy_from_slice(&n.to_le_bytes());
        let mut no_end = good.clone();
        let last = no_end.len() - 1;
        no_end[last] = 0x01;
        for (what, blob) in [("count", wrong_count), ("back-length", wrong_backlen), ("bytes after the end", trailing), ("no terminator", no_end)] {
            assert_eq!(decode(&blob), Err("Listpack integrity check failed.".to_string()), "{}", what);
        }
        // An unknown count (65535) is accepted, as Redis writes it past 65534 elements.
        let mut unknown = good.clone();
        unknown[4..6].copy_from_slice(&[0xFF, 0xFF]);
        assert!(decode(&unknown).is_ok());
        // A 4 GB string length inside a small blob.
        let mut huge = vec![0u8; 6];
        huge.extend_from_slice(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0x05, 0xFF]);
        let n = huge.len() as u32;
        huge[..4].copy_from_slice(&n.to_le_bytes());
        assert!(decode(&huge).is_err());
    }
}
