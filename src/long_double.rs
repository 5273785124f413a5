//! x87 extended precision (C `long double` on x86-64), in software. Redis's INCRBYFLOAT
//! computes in long double and stores `%.17Lf` with trailing zeros trimmed, so the text users
//! see (`12345.67799999999999994`) depends on 64-bit-mantissa rounding; f64 would print other
//! digits. Values are exact `mantissa × 2^exp` with a 64-bit mantissa; parsing, addition and
//! printing go through exact big integers and round half-to-even, as strtold, the FPU and
//! glibc's printf do. Redis: util.c string2ld / ld2string (LD_STR_HUMAN).

use num_bigint::{BigInt, BigUint, Sign};

/// Exponent range of the 80-bit format (beyond it: infinity or zero).
const MAX_EXP: i64 = 16383;
const MIN_EXP: i64 = -16445;

#[derive(Debug, Clone, PartialEq)]
pub enum LongDouble {
    /// `(-1)^neg × mant × 2^exp`, mant < 2^64 (normalised to 64 bits unless zero).
    Finite {
        neg: bool,
        mant: u64,
        exp: i64,
    },
    Inf {
        neg: bool,
    },
}

/// Rounds a non-negative exact value `n × 2^exp` to a 64-bit mantissa, half to even.
fn round_to_64(n: BigUint, exp: i64, neg: bool) -> LongDouble {
    let bits = n.bits() as i64;
    if bits == 0 {
        return LongDouble::Finite { neg, mant: 0, exp: 0 };
    }
    let (mant, exp) = if bits <= 64 {
        let shift = 64 - bits;
        ((n << shift as usize).iter_u64_digits().next().unwrap_or(0), exp - shift)
    } else {
        let shift = (bits - 64) as usize;
        let q: BigUint = &n >> shift;
        let r: BigUint = &n - (&q << shift);
        let half = BigUint::from(1u8) << (shift - 1);
        let mut q = q.iter_u64_digits().next().unwrap_or(0) as u128;
        if r > half || (r == half && q & 1 == 1) {
            q += 1;
        }
        if q == 1u128 << 64 {
            ((q >> 1) as u64, exp + shift as i64 + 1)
        } else {
            (q as u64, exp + shift as i64)
        }
    };
    if exp + 63 > MAX_EXP {
        return LongDouble::Inf { neg };
    }
    if exp + 63 < MIN_EXP {
        return LongDouble::Finite { neg, mant: 0, exp: 0 };
    }
    LongDouble::Finite { neg, mant, exp }
}

fn pow10(n: u32) -> BigUint {
    BigUint::from(10u8).pow(n)
}

impl LongDouble {
    pub fn from_i64(n: i64) -> LongDouble {
        round_to_64(BigUint::from(n.unsigned_abs()), 0, n < 0)
    }

    /// A double's exact value (a long double holds every double): what C's implicit
    /// promotion does when Redis passes a double to addReplyHumanLongDouble.
    pub fn from_f64(d: f64) -> LongDouble {
        if d.is_infinite() {
            return LongDouble::Inf { neg: d < 0.0 };
        }
        let bits = d.to_bits();
        let neg = bits >> 63 == 1;
        let e = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, exp) = if e == 0 { (frac, -1074) } else { (frac | (1u64 << 52), e - 1075) };
        round_to_64(BigUint::from(m), exp, neg)
    }

    /// Redis's string2ld: no leading space, nothing after the number, no NaN, no overflow or
    /// underflow to zero, at most 5k characters; `inf`/`infinity` accepted, as strtold does.
    pub fn parse(b: &[u8]) -> Option<LongDouble> {
        if b.is_empty() || b.len() >= 5 * 1024 || b[0].is_ascii_whitespace() {
            return None;
        }
        let s = std::str::from_utf8(b).ok()?;
        let (neg, body) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = body.to_ascii_lowercase();
        if lower == "inf" || lower == "infinity" {
            return Some(LongDouble::Inf { neg });
        }
        let (mantissa, exp10) = match lower.find('e') {
            Some(i) => (&body[..i], lower[i + 1..].parse::<i64>().ok()?),
            None => (body, 0),
        };
        let (int, frac) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        if (int.is_empty() && frac.is_empty()) || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
            return None;
        }
        let digits: String = format!("{}{}", int, frac);
        let d: BigUint = digits.parse().unwrap_or_default();
        let e = exp10 - frac.len() as i64;
        if d.bits() == 0 {
            return Some(LongDouble::Finite { neg, mant: 0, exp: 0 });
        }
        // Out of any representable range: strtold reports ERANGE and string2ld rejects the
        // overflow (±HUGE_VAL) and the underflow to zero alike. Decided without building
        // astronomic numbers.
        let magnitude = e + digits.trim_start_matches('0').len() as i64;
        if !(-4952..=4933).contains(&magnitude) {
            return None;
        }
        Some(if e >= 0 {
            round_to_64(d * pow10(e as u32), 0, neg)
        } else {
            let den = pow10((-e) as u32);
            // Scale so the quotient has at least 66 bits, then let the remainder break ties.
            let s = (66 + den.bits() as i64 - d.bits() as i64).max(0) as usize;
            let num = d << s;
            let q = &num / &den;
            let r = &num - &q * &den;
            // A non-zero remainder is a sticky bit below the quotient's last bit.
            let q = (q << 1usize) | BigUint::from((r.bits() > 0) as u8);
            round_to_64(q, -(s as i64) - 1, neg)
        })
    }

    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    fn exact(&self) -> Option<(BigInt, i64)> {
        match *self {
            LongDouble::Finite { neg, mant, exp } => {
                let m = BigInt::from(mant);
                Some((if neg { -m } else { m }, exp))
            }
            LongDouble::Inf { .. } => None,
        }
    }

    /// IEEE addition at 64-bit precision, round half to even.
    pub fn add(&self, other: &LongDouble) -> LongDouble {
        match (self.exact(), other.exact()) {
            (Some((a, ea)), Some((b, eb))) => {
                let e = ea.min(eb);
                let sum = (a << (ea - e) as usize) + (b << (eb - e) as usize);
                let neg = sum.sign() == Sign::Minus;
                round_to_64(sum.magnitude().clone(), e, neg)
            }
            (None, Some(_)) => self.clone(),
            (Some(_), None) => other.clone(),
            (None, None) => match (self, other) {
                (LongDouble::Inf { neg: a }, LongDouble::Inf { neg: b }) if a == b => self.clone(),
                // inf + -inf is NaN; callers reject non-finite results either way.
                _ => LongDouble::Inf { neg: false },
            },
        }
    }

    /// `(long long) ceill(x * 1000.0)` as Redis turns a timeout in seconds into milliseconds
    /// (getTimeoutFromObjectOrReply): the product rounds to 64 bits first, so `-0.001` gives
    /// 0, not -1. Out-of-range and infinite values give i64::MIN, as x87's conversion does.
    pub fn times_1000_ceil(&self) -> i64 {
        let LongDouble::Finite { neg, mant, exp } = *self else { return i64::MIN };
        let LongDouble::Finite { mant, exp, .. } = round_to_64(BigUint::from(mant) * BigUint::from(1000u16), exp, neg) else { return i64::MIN };
        // |x| = mant × 2^exp; ceil of a negative value is minus the floor of its magnitude.
        let (whole, frac) = if exp >= 0 {
            if exp >= 64 || (mant as u128) << exp > i64::MAX as u128 {
                return i64::MIN;
            }
            (((mant as u128) << exp) as i64, false)
        } else if exp <= -64 {
            (0, mant != 0)
        } else {
            ((mant >> (-exp)) as i64, mant & ((1u64 << (-exp)) - 1) != 0)
        };
        if neg {
            -whole
        } else {
            whole + frac as i64
        }
    }

    /// `%.17Lf`, then trailing zeros and a trailing dot removed, `-0` printed as `0`
    /// (ld2string's LD_STR_HUMAN).
    pub fn to_human_string(&self) -> String {
        let LongDouble::Finite { neg, mant, exp } = *self else {
            return match self {
                LongDouble::Inf { neg: true } => "-inf".into(),
                _ => "inf".into(),
            };
        };
        let scaled = BigUint::from(mant) * pow10(17);
        let x: BigUint = if exp >= 0 {
            scaled << exp as usize
        } else {
            let sh = (-exp) as usize;
            let q: BigUint = &scaled >> sh;
            let r: BigUint = &scaled - (&q << sh);
            let half = BigUint::from(1u8) << (sh - 1);
            if r > half || (r == half && q.bit(0)) {
                q + 1u8
            } else {
                q
            }
        };
        let digits = x.to_string();
        let digits = format!("{:0>18}", digits);
        let (int, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let mut out = String::new();
        if neg && x.bits() > 0 {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    /// Sequences of INCRBYFLOAT steps and the text redis-server 7.0.15 stored after each.
    const REDIS: &[&[(&str, &str)]] = &[
        &[("10.5", "10.5"), ("0.1", "10.6"), ("-10.6", "0"), ("5.0e3", "5000"), ("1e20", "100000000000000005000")],
        &[("0.1", "0.1"), ("0.2", "0.3")],
        &[("1.1", "1.1"), ("1.0000000000000002", "2.1000000000000002")],
        &[("12345.678", "12345.67799999999999994"), ("0.001", "12345.67900000000000027")],
        &[("3.0e-10", "0.0000000003")],
        &[("1e-20", "0")],
        &[("123456789012345678", "123456789012345678")],
    ];

    #[test]
    fn incrbyfloat_sequences_match_redis_server() {
        for seq in REDIS {
            let mut cur = LongDouble::from_i64(0);
            for (incr, want) in *seq {
                let next = cur.add(&LongDouble::parse(incr.as_bytes()).unwrap());
                assert_eq!(next.to_human_string(), *want, "after +{}", incr);
                // The stored text is what the next step parses back.
                cur = LongDouble::parse(next.to_human_string().as_bytes()).unwrap();
            }
        }
    }

    #[test]
    fn timeouts_round_like_x87() {
        let ms = |s: &str| LongDouble::parse(s.as_bytes()).unwrap().times_1000_ceil();
        assert_eq!(ms("-0.001"), 0);
        assert_eq!(ms("-0.5"), -500);
        assert_eq!(ms("0.0001"), 1);
        assert_eq!(ms("1.5"), 1500);
        assert_eq!(ms("0"), 0);
        assert_eq!(ms("inf"), i64::MIN);
    }

    #[test]
    fn parsing_follows_string2ld() {
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"abc", b"1e", b".", b"--1"] {
            assert!(LongDouble::parse(bad).is_none(), "{:?}", std::str::from_utf8(bad));
        }
        assert!(!LongDouble::parse(b"inf").unwrap().is_finite());
        // Overflow and underflow to zero are ERANGE, which string2ld rejects.
        assert!(LongDouble::parse(b"1e5000").is_none());
        assert!(LongDouble::parse(b"1e-5000").is_none());
        assert_eq!(LongDouble::parse(b"-0").unwrap().to_human_string(), "0");
        assert_eq!(LongDouble::parse(b"-2.5").unwrap().to_human_string(), "-2.5");
        assert_eq!(LongDouble::parse(b".5").unwrap().to_human_string(), "0.5");
    }
}
