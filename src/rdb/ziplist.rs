//! The encodings of Redis before 7.0 that 7.0 still loads: ziplists (lists, small hashes
//! and sorted sets, quicklist nodes of Redis 3.2–6.2) and zipmaps (small hashes of Redis
//! 2.x). Read only, never written: a dump from an older Redis loads, and is saved again in
//! 7.0's encodings. Every length is checked against the blob, so a damaged file is an
//! error, never a panic or an allocation the blob cannot back. Redis: ziplist.c, zipmap.c.

use super::load::LoadResult;

const ZIPLIST_BAD: &str = "Ziplist integrity check failed.";
const ZIPMAP_BAD: &str = "Zipmap integrity check failed.";

/// Every entry of a ziplist, integers as their decimal text (as Redis hands them on).
pub fn decode(blob: &[u8]) -> LoadResult<Vec<Vec<u8>>> {
    let bad = || ZIPLIST_BAD.to_string();
    // zlbytes, zltail, zllen, then entries, then 0xFF.
    if blob.len() < 11 || u32::from_le_bytes(blob[0..4].try_into().expect("4 bytes")) as usize != blob.len() || blob[blob.len() - 1] != 0xFF {
        return Err(bad());
    }
    let count = u16::from_le_bytes([blob[8], blob[9]]);
    let tail = u32::from_le_bytes(blob[4..8].try_into().expect("4 bytes")) as usize;
    let mut out = Vec::new();
    let mut at = 10;
    let end = blob.len() - 1;
    // ziplistValidateIntegrity's deep walk: each entry says how long the one before it is,
    // and zltail points at the last one.
    let (mut prev_size, mut last) = (0usize, None);
    while at < end {
        let start = at;
        // prevlen: one byte, or 0xFE and four more.
        let prevlen = match blob[at] {
            0xFE => u32::from_le_bytes(blob.get(at + 1..at + 5).filter(|_| at + 5 <= end).ok_or_else(bad)?.try_into().expect("4 bytes")) as usize,
            0xFF => return Err(bad()),
            n => n as usize,
        };
        if prevlen != prev_size {
            return Err(bad());
        }
        at += if blob[at] == 0xFE { 5 } else { 1 };
        let e = *blob.get(at).filter(|_| at < end).ok_or_else(bad)?;
        let take = |from: usize, n: usize| blob.get(from..from + n).filter(|_| from + n <= end).ok_or_else(bad);
        let (value, size) = match e >> 6 {
            0 => {
                let n = (e & 0x3F) as usize;
                (take(at + 1, n)?.to_vec(), 1 + n)
            }
            1 => {
                let n = (((e & 0x3F) as usize) << 8) | *take(at + 1, 1)?.first().expect("one byte") as usize;
                (take(at + 2, n)?.to_vec(), 2 + n)
            }
            2 if e == 0x80 => {
                let n = u32::from_be_bytes(take(at + 1, 4)?.try_into().expect("4 bytes")) as usize;
                (take(at + 5, n)?.to_vec(), 5 + n)
            }
            _ => {
                let (n, size): (i64, usize) = match e {
                    0xC0 => (i16::from_le_bytes(take(at + 1, 2)?.try_into().expect("2 bytes")) as i64, 3),
                    0xD0 => (i32::from_le_bytes(take(at + 1, 4)?.try_into().expect("4 bytes")) as i64, 5),
                    0xE0 => (i64::from_le_bytes(take(at + 1, 8)?.try_into().expect("8 bytes")), 9),
                    0xF0 => {
                        let b = take(at + 1, 3)?;
                        // A 24-bit signed integer: shift into the top of an i32 and back.
                        ((i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as i64, 4)
                    }
                    0xFE => (take(at + 1, 1)?[0] as i8 as i64, 2),
                    0xF1..=0xFD => ((e & 0x0F) as i64 - 1, 1),
                    _ => return Err(bad()),
                };
                (n.to_string().into_bytes(), size)
            }
        };
        out.push(value);
        at += size;
        prev_size = at - start;
        last = Some(start);
    }
    // zllen is exact below 65535 (UINT16_MAX means "count them").
    if at != end || (count != u16::MAX && count as usize != out.len()) || last.is_some_and(|l| l != tail) || tail > end {
        return Err(bad());
    }
    Ok(out)
}

/// A ziplist of alternating field and value (small hashes and sorted sets of Redis 3.2–6.2).
pub fn decode_pairs(blob: &[u8]) -> LoadResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let items = decode(blob)?;
    if items.len() % 2 != 0 {
        return Err(ZIPLIST_BAD.to_string());
    }
    let mut it = items.into_iter();
    let mut pairs = Vec::new();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        pairs.push((k, v));
    }
    Ok(pairs)
}

/// A zipmap's field/value pairs (hashes of Redis 2.x): a count byte, then per pair a
/// length, the field, a length, a free byte, the value and its free bytes; 0xFF ends it.
pub fn decode_zipmap(blob: &[u8]) -> LoadResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let bad = || ZIPMAP_BAD.to_string();
    if blob.len() < 2 || blob[blob.len() - 1] != 0xFF {
        return Err(bad());
    }
    let end = blob.len() - 1;
    let len_at = |at: usize| -> LoadResult<(usize, usize)> {
        match *blob.get(at).filter(|_| at < end).ok_or_else(bad)? {
            254 => {
                let b = blob.get(at + 1..at + 5).filter(|_| at + 5 <= end).ok_or_else(bad)?;
                Ok((u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize, 5))
            }
            255 => Err(bad()),
            n => Ok((n as usize, 1)),
        }
    };
    let take = |from: usize, n: usize| blob.get(from..from.saturating_add(n)).filter(|_| from.saturating_add(n) <= end).ok_or_else(bad);
    let mut pairs = Vec::new();
    let mut at = 1;
    while at < end {
        let (klen, h) = len_at(at)?;
        let key = take(at + h, klen)?.to_vec();
        at += h + klen;
        let (vlen, h) = len_at(at)?;
        let free = *take(at + h, 1)?.first().expect("one byte") as usize;
        let value = take(at + h + 1, vlen)?.to_vec();
        at += h + 1 + vlen + free;
        pairs.push((key, value));
    }
    // zipmapValidateIntegrity: never empty, and the count byte exact below 254 (ZIPMAP_BIGLEN).
    if at != end || pairs.is_empty() || (blob[0] != 254 && blob[0] as usize != pairs.len()) {
        return Err(bad());
    }
    Ok(pairs)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    /// A ziplist as Redis 6 lays it out, from entries given as their encoded bytes.
    pub fn ziplist(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = 10;
        for e in entries {
            tail = 10 + body.len();
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(0xFE);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(e);
            prev = body.len() - start;
        }
        let mut out = Vec::new();
        out.extend_from_slice(&((11 + body.len()) as u32).to_le_bytes());
        out.extend_from_slice(&(tail as u32).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(0xFF);
        out
    }

    pub fn zstr(s: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        if s.len() < 64 {
            e.push(s.len() as u8);
        } else if s.len() < 16384 {
            e.push(0x40 | (s.len() >> 8) as u8);
            e.push(s.len() as u8);
        } else {
            e.push(0x80);
            e.extend_from_slice(&(s.len() as u32).to_be_bytes());
        }
        e.extend_from_slice(s);
        e
    }

    #[test]
    fn every_entry_encoding_decodes() {
        let long = vec![b'x'; 300];
        let huge = vec![b'y'; 20000];
        let entries: Vec<Vec<u8>> = vec![
            zstr(b"a"),
            zstr(&long),
            zstr(&huge),
            vec![0xF1],       // 0
            vec![0xFD],       // 12
            vec![0xFE, 0x80], // -128
            [&[0xC0][..], &(-30000i16).to_le_bytes()].concat(),
            [&[0xF0][..], &[0xFF, 0xFF, 0x7F][..]].concat(), // 8388607
            [&[0xF0][..], &[0x00, 0x00, 0x80][..]].concat(), // -8388608
            [&[0xD0][..], &(-2_000_000_000i32).to_le_bytes()].concat(),
            [&[0xE0][..], &6_000_000_000i64.to_le_bytes()].concat(),
        ];
        let refs: Vec<&[u8]> = entries.iter().map(|e| e.as_slice()).collect();
        let got = decode(&ziplist(&refs)).unwrap();
        let want: Vec<Vec<u8>> = vec![
            b"a".to_vec(),
            long.clone(),
            huge.clone(),
            b"0".to_vec(),
            b"12".to_vec(),
            b"-128".to_vec(),
            b"-30000".to_vec(),
            b"8388607".to_vec(),
            b"-8388608".to_vec(),
            b"-2000000000".to_vec(),
            b"6000000000".to_vec(),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn damaged_ziplists_and_zipmaps_are_errors() {
        let good = ziplist(&[&zstr(b"abc"), &[0xF2]]);
        assert!(decode(&good).is_ok());
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut {}", cut);
        }
        let mut wrong_count = good.clone();
        wrong_count[8] = 5;
        assert!(decode(&wrong_count).is_err());
        let mut long_claim = good.clone();
        long_claim[11] = 0x80; // a 5-byte length running past the end
        assert!(decode(&long_claim).is_err());
        assert!(decode_pairs(&ziplist(&[&zstr(b"odd")])).is_err());
        // zipmap: 2 pairs, the second with 2 free bytes.
        let zm = [&[2u8, 1, b'a', 1, 0, b'1', 2, b'b', b'b', 3, 2, b'x', b'y', b'z', 0, 0][..], &[0xFF]].concat();
        assert_eq!(decode_zipmap(&zm).unwrap(), vec![(b"a".to_vec(), b"1".to_vec()), (b"bb".to_vec(), b"xyz".to_vec())]);
        for cut in 0..zm.len() {
            assert!(decode_zipmap(&zm[..cut]).is_err(), "cut {}", cut);
        }
        // ziplistValidateIntegrity's deep walk: prevlen must be the entry before's size, and
        // zltail the last entry's offset; a zipmap is never empty and its count exact.
        let mut prevlen = good.clone();
        prevlen[15] = 9;
        assert_eq!(decode(&prevlen), Err(ZIPLIST_BAD.to_string()));
        let mut tail = good.clone();
        tail[4] = 10;
        assert_eq!(decode(&tail), Err(ZIPLIST_BAD.to_string()));
        assert_eq!(decode_zipmap(&[0, 0xFF]), Err(ZIPMAP_BAD.to_string()));
        let mut count = zm.clone();
        count[0] = 3;
        assert_eq!(decode_zipmap(&count), Err(ZIPMAP_BAD.to_string()));
    }

    /// A Redis 6 style dump of every pre-7.0 encoding loads into the same data.
    #[test]
    fn a_dump_in_older_encodings_loads() {
        fn string(out: &mut Vec<u8>, s: &[u8]) {
            assert!(s.len() < 16384);
            if s.len() < 64 {
                out.push(s.len() as u8);
            } else {
                out.push(0x40 | (s.len() >> 8) as u8);
                out.push(s.len() as u8);
            }
            out.extend_from_slice(s);
        }
        let mut f = b"REDIS0009".to_vec();
        f.extend_from_slice(&[0xFE, 0]);
        let pairs = |kv: &[&[u8]]| ziplist(&kv.iter().map(|e| zstr(e)).collect::<Vec<_>>().iter().map(|v| v.as_slice()).collect::<Vec<_>>());
        for (ty, key, blob) in [
            (10u8, &b"l"[..], ziplist(&[&zstr(b"a"), &[0xF2], &[0xFE, 0x9C]])),
            (12, b"z", pairs(&[b"m", b"1.5", b"n", b"2"])),
            (13, b"h", pairs(&[b"f", b"v", b"g", b"w"])),
            (9, b"old", [&[1u8, 1, b'k', 1, 0, b'v'][..], &[0xFF]].concat()),
        ] {
            f.push(ty);
            string(&mut f, key);
            string(&mut f, &blob);
        }
        // A Redis 3.2–6.2 quicklist: two ziplist nodes.
        f.push(14);
        string(&mut f, b"q");
        f.push(2);
        string(&mut f, &ziplist(&[&zstr(b"x")]));
        string(&mut f, &ziplist(&[&zstr(b"y"), &[0xF3]]));
        f.push(0xFF);
        f.extend_from_slice(&[0; 8]);
        let mut t = crate::testing::TestEngine::new();
        assert_eq!(t.engine.rdb_load(&f), Ok(5));
        use crate::testing::{arr, bulk};
        assert_eq!(t.run(&["LRANGE", "l", "0", "-1"]), arr(&["a", "1", "-100"]));
        assert_eq!(t.run(&["ZSCORE", "z", "m"]), crate::reply::Reply::Double(1.5));
        assert_eq!(t.run(&["ZRANGE", "z", "0", "-1"]), arr(&["m", "n"]));
        assert_eq!(t.run(&["HGET", "h", "g"]), bulk("w"));
        assert_eq!(t.run(&["HGET", "old", "k"]), bulk("v"));
        assert_eq!(t.run(&["LRANGE", "q", "0", "-1"]), arr(&["x", "y", "2"]));
        assert_eq!(t.run(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod fuzz {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn random_and_mutated_blobs_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6)) {
            let _ = super::decode(&bytes);
            let _ = super::decode_zipmap(&bytes);
            let _ = super::decode_pairs(&bytes);
            // Mutations of a valid ziplist with every kind of entry.
            let mut good = vec![0x1d, 0, 0, 0, 0x16, 0, 0, 0, 4, 0, 0, 1, b'a', 1, 0xF2, 2, 0xC0, 0x10, 0x27, 4, 0xE0, 1, 0, 0, 0, 0, 0, 0, 0, 0xFF];
            good[0] = good.len() as u8;
            for (at, b) in flips {
                let i = at % good.len();
                good[i] = b;
            }
            let _ = super::decode(&good);
        }
    }
}
