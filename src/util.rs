//! Redis's number conversions and glob matching, shared by every command family.
//! Redis: util.c (string2ll, ld2string, stringmatchlen), the `%.17g` of addReplyDouble.

/// Redis's string2ll: optional `-`, no `+`, no leading zeros, no spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' { (true, &s[1..]) } else { (false, s) };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Redis's strtod-based parsing for scores and float increments: no spaces, no trailing
/// garbage, no NaN; `inf`/`-inf`/`+inf` accepted.
/// C's atoi: leading blanks, a sign, then digits up to the first non-digit; garbage reads
/// as 0. For the DEBUG switches Redis reads this way.
pub fn atoi(s: &[u8]) -> i64 {
    let s = &s[s.iter().take_while(|c| c.is_ascii_whitespace()).count()..];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits.iter().take_while(|c| c.is_ascii_digit()).fold(0i64, |n, &c| n.saturating_mul(10).saturating_add((c - b'0') as i64));
    if neg {
        -n
    } else {
        n
    }
}

pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(s).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) || s.ends_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        l if l.contains("inf") || l.contains("nan") => return None,
        _ => s.parse().ok()?,
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// C's `%.17g`, which Redis 7.0 uses for doubles in replies (`1.1` → `1.1000000000000001`).
pub fn fmt_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    const P: i32 = 17;
    let sci = format!("{:.*e}", (P - 1) as usize, d);
    let (mant, exp) = sci.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    if !(-4..P).contains(&exp) {
        let mant = trim_zeros(mant);
        format!("{}e{}{:02}", mant, if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let s = format!("{:.*}", (P - 1 - exp).max(0) as usize, d);
        trim_zeros(&s).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Redis's stringmatchlen: `*`, `?`, `[...]` with ranges and `^`, backslash escapes,
/// optionally case-insensitive. Every token but `*` matches exactly one byte, so the classic
/// single-backtrack-point algorithm is exact and runs in O(pattern × string), never
/// exponentially as a naive recursion does on `*a*a*a*b`.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let (mut p, mut s) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while s < string.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, s));
            p += 1;
            continue;
        }
        if p < pattern.len() {
            let (ok, len) = match_token(&pattern[p..], string[s], nocase);
            if ok {
                p += len;
                s += 1;
                continue;
            }
        }
        match star {
            Some((sp, ss)) => {
                p = sp + 1;
                s = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Matches one non-`*` token at the start of `p` against `c`; returns (matched, token length).
fn match_token(p: &[u8], c: u8, nocase: bool) -> (bool, usize) {
    let eq = |a: u8, b: u8| if nocase { a.eq_ignore_ascii_case(&b) } else { a == b };
    match p[0] {
        b'?' => (true, 1),
        b'\\' if p.len() >= 2 => (eq(p[1], c), 2),
        b'[' => {
            let mut i = 1;
            let not = i < p.len() && p[i] == b'^';
            if not {
                i += 1;
            }
            let mut matched = false;
            while i < p.len() && p[i] != b']' {
                if p[i] == b'\\' && i + 1 < p.len() {
                    i += 1;
                    matched |= eq(p[i], c);
                } else if i + 2 < p.len() && p[i + 1] == b'-' {
                    let (mut lo, mut hi) = (p[i], p[i + 2]);
                    if lo > hi {
                        std::mem::swap(&mut lo, &mut hi);
                    }
                    let (lo, hi, x) = if nocase { (lo.to_ascii_lowercase(), hi.to_ascii_lowercase(), c.to_ascii_lowercase()) } else { (lo, hi, c) };
                    matched |= x >= lo && x <= hi;
                    i += 2;
                } else {
                    matched |= eq(p[i], c);
                }
                i += 1;
            }
            // An unterminated class ends at the pattern's end, as in Redis.
            let len = if i < p.len() { i + 1 } else { i };
            (matched != not, len)
        }
        x => (eq(x, c), 1),
    }
}

/// A small seeded generator (splitmix64): the host sets the seed, so tests are
/// deterministic and the core needs no OS entropy on wasm.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

/// How many elements `random_picks(len, count)` gives.
pub fn random_count(len: usize, count: i64) -> usize {
    if len == 0 {
        0
    } else if count < 0 {
        count.unsigned_abs() as usize
    } else {
        (count as usize).min(len)
    }
}

/// `random_picks` one position at a time to `f`, which answers whether to go on: picks
/// with repetition (`count < 0`) are drawn as they are used, never held in a list.
pub fn for_random_picks(rng: &mut Rng, len: usize, count: i64, mut f: impl FnMut(usize) -> bool) {
    if len == 0 || count == 0 {
        return;
    }
    if count < 0 || count == 1 {
        for _ in 0..count.unsigned_abs() {
            if !f(rng.below(len as u64) as usize) {
                return;
            }
        }
        return;
    }
    for i in random_picks(rng, len, count) {
        if !f(i) {
            return;
        }
    }
}

/// Positions for the RANDMEMBER/RANDFIELD family over `len` elements: with `count < 0`,
/// |count| picks with repetition; with `count >= len`, every position in order; otherwise
/// `count` distinct positions. The caller bounds |count| (see `RAND_COUNT_MAX`).
pub fn random_picks(rng: &mut Rng, len: usize, count: i64) -> Vec<usize> {
    if len == 0 || count == 0 {
        return vec![];
    }
    if count < 0 || count == 1 {
        return (0..count.unsigned_abs()).map(|_| rng.below(len as u64) as usize).collect();
    }
    let count = count as usize;
    if count >= len {
        return (0..len).collect();
    }
    // Partial Fisher-Yates over the positions: `count` distinct, uniformly chosen.
    let mut pos: Vec<usize> = (0..len).collect();
    for i in 0..count {
        let j = i + rng.below((len - i) as u64) as usize;
        pos.swap(i, j);
    }
    pos.truncate(count);
    pos
}

/// Redis answers any count and lets the output buffer limit cut the client off; a reply of
/// more picks than this would exhaust memory first, so larger counts are refused.
pub const RAND_COUNT_MAX: u64 = 1 << 28;

/// Redis's sdscatrepr: a quoted string with C escapes (MONITOR lines, CONFIG REWRITE
/// values), which sdssplitargs reads back.
pub fn repr(out: &mut String, a: &[u8]) {
    out.push('"');
    for &b in a {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{:02x}", b)),
        }
    }
    out.push('"');
}

/// C's `%.<prec>g`: the shortest of fixed and scientific notation for `prec` significant
/// digits, trailing zeros dropped (Lua prints numbers with `%.14g`, redis.call sends them
/// with `%.17g`).
pub fn fmt_g(n: f64, prec: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let prec = prec.max(1);
    // The exponent after rounding to `prec` digits decides the notation, as C does.
    let sci = format!("{:.*e}", prec - 1, n);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp < -4 || exp >= prec as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", strip(mantissa), sign, exp.unsigned_abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip(&format!("{:.*}", decimals, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    #[test]
    fn string2ll_rejects_what_redis_rejects() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        for bad in [&b"9223372036854775808"[..], b"01", b"-0", b"+1", b" 1", b"1 ", b"", b"-", b"1a"] {
            assert_eq!(parse_i64(bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }

    #[test]
    fn doubles_print_like_percent_17g() {
        assert_eq!(fmt_double(1.1), "1.1000000000000001");
        assert_eq!(fmt_double(1.5), "1.5");
        assert_eq!(fmt_double(100.0), "100");
        assert_eq!(fmt_double(1e20), "1e+20");
        assert_eq!(fmt_double(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(fmt_double(-3.0), "-3");
        assert_eq!(fmt_double(f64::INFINITY), "inf");
    }

    #[test]
    fn float_parsing_rejects_nan_and_spaces() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1x"), None);
    }

    #[test]
    fn glob_matches_like_stringmatchlen() {
        assert!(glob_match(b"h?llo", b"hello", false));
        assert!(glob_match(b"h*llo", b"heeeello", false));
        assert!(glob_match(b"h[ae]llo", b"hallo", false));
        assert!(!glob_match(b"h[^e]llo", b"hello", false));
        assert!(glob_match(b"h[a-b]llo", b"hbllo", false));
        assert!(glob_match(b"h\\*llo", b"h*llo", false));
        assert!(!glob_match(b"h\\*llo", b"hello", false));
        assert!(glob_match(b"*", b"", false));
        assert!(!glob_match(b"a*", b"", false));
        assert!(glob_match(b"HELLO", b"hello", true));
        assert!(!glob_match(b"*a*a*a*a*a*a*a*a*a*b", &[b'a'; 40], false));
    }
}
