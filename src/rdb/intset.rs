//! Redis's intset byte format (intset.c), as RDB_TYPE_SET_INTSET and DUMP payloads carry it:
//! `encoding: u32 LE` (bytes per element: 2, 4 or 8), `length: u32 LE`, then the elements
//! little-endian in ascending order. Our in-memory `ds::IntSet` is converted at this boundary.

use super::load::LoadResult;

/// The blob of sorted, distinct integers, at the narrowest width that holds them all (as
/// intsetAdd would have grown it).
pub fn encode(sorted: &[i64]) -> Vec<u8> {
    let fits = |w: u32| sorted.iter().all(|&v| if w == 2 { i16::try_from(v).is_ok() } else { i32::try_from(v).is_ok() });
    let width: u32 = if fits(2) {
        2
    } else if fits(4) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + sorted.len() * width as usize);
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &v in sorted {
        match width {
            2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
            4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
            _ => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    out
}

/// The members of an intset blob, checked as intsetValidateIntegrity's deep mode checks
/// them: a known width, a length that matches the size, not empty, strictly ascending.
pub fn decode(blob: &[u8]) -> LoadResult<Vec<i64>> {
    let bad = || "Intset integrity check failed.".to_string();
    if blob.len() < 8 {
        return Err(bad());
    }
    let w = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let n = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if !matches!(w, 2 | 4 | 8) || n == 0 || n.checked_mul(w).and_then(|s| s.checked_add(8)) != Some(blob.len()) {
        return Err(bad());
    }
    let items: Vec<i64> = blob[8..]
        .chunks_exact(w)
        .map(|s| match s {
            [a, b] => i16::from_le_bytes([*a, *b]) as i64,
            [a, b, c, d] => i32::from_le_bytes([*a, *b, *c, *d]) as i64,
            s => i64::from_le_bytes(s.try_into().unwrap_or([0; 8])),
        })
        .collect();
    if items.windows(2).any(|p| p[0] >= p[1]) {
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
    fn widths_grow_at_the_same_boundaries_as_intset_c() {
        for (vals, width) in [
            (vec![-32768, 32767], 2u32),
            (vec![-32769, 0], 4),
            (vec![0, 32768], 4),
            (vec![i32::MIN as i64, i32::MAX as i64], 4),
            (vec![0, i32::MAX as i64 + 1], 8),
            (vec![i64::MIN, i64::MAX], 8),
        ] {
            let blob = encode(&vals);
            assert_eq!(u32::from_le_bytes(blob[..4].try_into().unwrap()), width, "{:?}", vals);
            assert_eq!(decode(&blob).unwrap(), vals);
        }
    }

    #[test]
    fn matches_the_bytes_redis_writes() {
        // The intset inside redis-server 7.0's DUMP of `SADD s 1 2 3`.
        assert_eq!(encode(&[1, 2, 3]), vec![2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 3, 0]);
    }

    #[test]
    fn malformed_blobs_are_errors() {
        assert!(decode(&[2, 0, 0, 0, 1, 0, 0]).is_err()); // short header
        assert!(decode(&[3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]).is_err()); // width 3
        assert!(decode(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0]).is_err()); // length past the end
        assert!(decode(&[2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]).is_err()); // 4G elements claimed
        assert!(decode(&encode(&[])).is_err()); // empty, which intset.c never saves
        assert!(decode(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0]).is_err()); // a duplicate
        assert!(decode(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0]).is_err()); // out of order
    }
}
