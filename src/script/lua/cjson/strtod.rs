//! glibc's `strtod` as cjson's decoder calls it: decimal and hex floats, `inf` and `nan`,
//! correctly rounded.

use super::decode::hex_digit;

pub(super) fn strtod(data: &[u8], start: usize) -> Option<(f64, usize)> {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let ci = |i: usize, word: &[u8]| word.iter().enumerate().all(|(k, &w)| at(i.saturating_add(k)).eq_ignore_ascii_case(&w));
    let mut i = start;
    let negative = match at(i) {
        b'-' => {
            i += 1;
            true
        }
        b'+' => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if negative { -v } else { v };
    if ci(i, b"inf") {
        let end = if ci(i + 3, b"inity") { i + 8 } else { i + 3 };
        return Some((sign(f64::INFINITY), end));
    }
    if ci(i, b"nan") {
        let mut end = i + 3;
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        return Some((sign(f64::NAN), end));
    }
    if at(i) == b'0' && (at(i + 1) | 0x20) == b'x' {
        return Some(match hex_float(data, i + 2) {
            Some((v, end)) => (sign(v), end),
            // "0x" without hex digits converts just the "0".
            None => (sign(0.0), i + 1),
        });
    }
    let digits_start = i;
    let mut digits = 0usize;
    while at(i).is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if at(i) == b'.' {
        i += 1;
        while at(i).is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if at(i) | 0x20 == b'e' {
        let mut j = i + 1;
        if at(j) == b'+' || at(j) == b'-' {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    // The prefix is ASCII by construction, and Rust's parser rounds correctly as glibc does.
    let text = std::str::from_utf8(data.get(digits_start..i)?).ok()?;
    let value = text.parse::<f64>().ok()?;
    Some((sign(value), i))
}

/// The hex digits (with an optional point and `p` exponent) after `0x`: the value and
/// where it ends, or `None` without a single hex digit.
pub(super) fn hex_float(data: &[u8], start: usize) -> Option<(f64, usize)> {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut i = start;
    let mut mantissa: u64 = 0;
    let mut kept = 0u32;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut any = false;
    while let Some(d) = hex_digit(at(i)) {
        any = true;
        if mantissa == 0 && d == 0 {
            // leading zero: no value
        } else if kept < 16 {
            mantissa = (mantissa << 4) | u64::from(d);
            kept += 1;
        } else {
            exp = exp.saturating_add(4);
            sticky |= d != 0;
        }
        i += 1;
    }
    if at(i) == b'.' {
        let mut j = i + 1;
        while let Some(d) = hex_digit(at(j)) {
            any = true;
            if mantissa == 0 && d == 0 {
                exp = exp.saturating_sub(4);
            } else if kept < 16 {
                mantissa = (mantissa << 4) | u64::from(d);
                kept += 1;
                exp = exp.saturating_sub(4);
            } else {
                sticky |= d != 0;
            }
            j += 1;
        }
        if any {
            i = j;
        }
    }
    if !any {
        return None;
    }
    if at(i) | 0x20 == b'p' {
        let mut j = i + 1;
        let negative = match at(j) {
            b'-' => {
                j += 1;
                true
            }
            b'+' => {
                j += 1;
                false
            }
            _ => false,
        };
        if at(j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(j).is_ascii_digit() {
                // Clamped: far beyond any double's range either way.
                e = (e * 10 + i64::from(at(j) - b'0')).min(1_000_000_000);
                j += 1;
            }
            exp = exp.saturating_add(if negative { -e } else { e });
            i = j;
        }
    }
    Some((scale_binary(mantissa, sticky, exp), i))
}

/// `mantissa * 2^exp` rounded to nearest-even, where `sticky` marks nonzero bits
/// below the mantissa.
pub(super) fn scale_binary(mantissa: u64, sticky: bool, exp: i64) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    let bits = i64::from(64 - mantissa.leading_zeros());
    let top = exp.saturating_add(bits - 1);
    if top > 1023 {
        return f64::INFINITY;
    }
    // Bits the result can hold: 53 when normal, fewer as a subnormal (lsb is 2^-1074).
    let keep = if top >= -1022 { 53 } else { top + 1075 };
    if keep <= 0 {
        // At most half the smallest subnormal: exactly half rounds to even (zero).
        let exactly_half = keep == 0 && mantissa.is_power_of_two() && !sticky;
        return if keep == 0 && !exactly_half { f64::from_bits(1) } else { 0.0 };
    }
    let drop = bits - keep;
    let (rounded, lsb_exp) = if drop <= 0 {
        (mantissa, exp)
    } else {
        let drop_u = u32::try_from(drop).unwrap_or(63);
        let kept_bits = mantissa >> drop_u;
        let rest = mantissa & ((1u64 << drop_u) - 1);
        let half = 1u64 << (drop_u - 1);
        let up = rest > half || (rest == half && (sticky || kept_bits & 1 == 1));
        (kept_bits + u64::from(up), exp + drop)
    };
    // `rounded` fits in 54 bits, so the conversion is exact and only scaling remains;
    // it is done in steps that stay exact until the final, representable result.
    #[allow(clippy::cast_precision_loss)]
    let mut value = rounded as f64;
    let mut k = lsb_exp;
    while k > 1000 {
        value *= pow2(1000);
        k -= 1000;
    }
    while k < -1000 {
        value *= pow2(-1000);
        k += 1000;
    }
    value * pow2(k)
}

/// 2^k for -1022 <= k <= 1023.
pub(super) fn pow2(k: i64) -> f64 {
    let biased = u64::try_from(k + 1023).unwrap_or(1023);
    f64::from_bits(biased << 52)
}
