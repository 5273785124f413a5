//! LZF, the compression RDB files use for strings longer than 20 bytes (`rdbcompression`).
//! Both directions, ported from the liblzf 3.6 that Redis vendors (lzf_c.c with its defaults:
//! HLOG 16, VERY_FAST, CHECK_INPUT; lzf_d.c), so a string compresses to the bytes Redis
//! writes for it and anything Redis writes decompresses here.
//!
//! Why our own and not a crate: the `lzf` crate is deprecated and the younger ones are
//! unproven; this is ~150 lines whose every step follows lzf_c.c. One difference on purpose:
//! lzf_c.c leaves its hash table uninitialised (stale slots are harmless, every candidate
//! match is checked), which makes its output depend on what ran before. `Compressor` keeps one
//! table per save and tags each slot with the call that wrote it, so stale slots read as
//! empty: the output is a function of the input alone, and the table is not cleared per call.
//!
//! Stream format (lzf_c.c's comment):
//! `000LLLLL <L+1 bytes>` a literal run of 1..32 bytes;
//! `LLLooooo oooooooo` a back-reference of L+2 (3..8) bytes at distance o+1 (1..8192);
//! `111ooooo LLLLLLLL oooooooo` the same with length L+9 (9..264).

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// The most one input byte of a valid stream can yield: a 3-byte back-reference of 264.
const MAX_RATIO: usize = 88;

/// lzf_c.c's hash of the three bytes at `p` (FRST/NEXT build them up, IDX folds them).
fn first(b: &[u8], p: usize) -> u32 {
    ((b[p] as u32) << 8) | b[p + 1] as u32
}

fn next(v: u32, b: &[u8], p: usize) -> u32 {
    (v << 8) | b[p + 2] as u32
}

fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// An LZF compressor whose hash table lives across calls (one per RDB save or DUMP).
pub struct Compressor {
    /// Input position + `base` of the call that wrote the slot; below `base` means empty.
    table: Vec<u64>,
    base: u64,
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor { table: vec![0; HSIZE], base: 1 }
    }
}

impl Compressor {
    pub fn new() -> Compressor {
        Compressor::default()
    }

    /// lzf_compress: the compressed form of `input` if it fits in `max_out` bytes, else None
    /// (Redis asks for at least 4 bytes saved: `max_out` = len - 4).
    pub fn compress(&mut self, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
        let in_len = input.len();
        if in_len == 0 || max_out == 0 {
            return None;
        }
        let base = self.base;
        // Every slot this call writes is at least `base`; the next call starts above them.
        self.base = base.checked_add(in_len as u64 + 1)?;
        let htab = &mut self.table;
        // Slack past `max_out` so the conservative checks below, not indexing, decide.
        let mut out = vec![0u8; max_out + 4];
        let (mut ip, mut op, mut lit) = (0usize, 1usize, 0usize); // op 1: a literal run starts
        let mut hval = if in_len >= 2 { first(input, 0) } else { 0 };
        while ip + 2 < in_len {
            hval = next(hval, input, ip);
            let slot = idx(hval);
            let stored = htab[slot];
            htab[slot] = base + ip as u64;
            // ref > in_data in lzf_c.c: position 0 is never referenced, so 0 also means empty.
            let rf = if stored > base { Some((stored - base) as usize) } else { None };
            let found = rf.filter(|&r| {
                let off = ip.wrapping_sub(r).wrapping_sub(1);
                off < MAX_OFF && input[r + 2] == input[ip + 2] && input[r] == input[ip] && input[r + 1] == input[ip + 1]
            });
            if let Some(r) = found {
                let off = ip - r - 1;
                let mut len = 2;
                let maxlen = (in_len - ip - len).min(MAX_REF);
                if op + 3 + 1 >= max_out && op - usize::from(lit == 0) + 3 + 1 >= max_out {
                    return None;
                }
                out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop the literal run
                op -= usize::from(lit == 0); // undo the run if it is empty
                                             // lzf_c.c compares 16 bytes unrolled before its loop when maxlen > 16; the
                                             // unrolled part may run past maxlen (safely), and the output shows it.
                let mut more = true;
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            more = false;
                            break;
                        }
                    }
                }
                if more {
                    loop {
                        len += 1;
                        if !(len < maxlen && input[r + len] == input[ip + len]) {
                            break;
                        }
                    }
                }
                len -= 2; // the encoded length: bytes matched - 2
                ip += 1;
                if len < 7 {
                    out[op] = ((off >> 8) + (len << 5)) as u8;
                    op += 1;
                } else {
                    out[op] = ((off >> 8) + (7 << 5)) as u8;
                    out[op + 1] = (len - 7) as u8;
                    op += 2;
                }
                out[op] = off as u8;
                op += 2; // the offset byte, then room for the next run's header
                lit = 0;
                ip += len + 1;
                if ip + 2 >= in_len {
                    break;
                }
                // VERY_FAST: hash the two positions before the new ip as well.
                ip -= 2;
                hval = first(input, ip);
                hval = next(hval, input, ip);
                htab[idx(hval)] = base + ip as u64;
                ip += 1;
                hval = next(hval, input, ip);
                htab[idx(hval)] = base + ip as u64;
                ip += 1;
            } else {
                if op >= max_out {
                    return None;
                }
                lit += 1;
                out[op] = input[ip];
                op += 1;
                ip += 1;
                if lit == MAX_LIT {
                    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
                    lit = 0;
                    op += 1;
                }
            }
        }
        if op + 3 > max_out {
            return None;
        }
        while ip < in_len {
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit as u8).wrapping_sub(1);
                lit = 0;
                op += 1;
            }
        }
        out[op - lit - 1] = (lit as u8).wrapping_sub(1); // end the run
        op -= usize::from(lit == 0);
        out.truncate(op);
        Some(out)
    }
}

/// One-off compression (tests, tools); saves keep a `Compressor` for all their strings.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    Compressor::new().compress(input, max_out)
}

/// lzf_decompress with CHECK_INPUT: exactly `out_len` bytes or None. A forged `out_len` costs
/// nothing: more than the input could possibly expand to is refused before any allocation,
/// and the output grows only with what the input really yields.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    if out_len > input.len().saturating_mul(MAX_RATIO) {
        return None;
    }
    let mut out = Vec::with_capacity(out_len.min(input.len().saturating_mul(4)));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            out.extend_from_slice(input.get(ip..ip + run)?);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1F) << 8) + *input.get(ip)? as usize + 1;
            ip += 1;
            let start = out.len().checked_sub(back)?;
            // Byte by byte: the source may overlap what this copy appends (runs).
            for i in 0..len + 2 {
                let c = out[start + i];
                out.push(c);
            }
        }
        if out.len() > out_len {
            return None;
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    use super::*;

    #[test]
    fn repetitive_text_compresses_and_comes_back() {
        let s = "abc".repeat(1000);
        let c = compress(s.as_bytes(), s.len() - 4).unwrap();
        assert!(c.len() < 100, "{} bytes", c.len());
        assert_eq!(decompress(&c, s.len()).unwrap(), s.as_bytes());
        // The wrong expected length is an error, not a short or long string.
        assert_eq!(decompress(&c, s.len() - 1), None);
        assert_eq!(decompress(&c, s.len() + 1), None);
    }

    /// Reads the LZF body out of a DUMP payload of a string (00 C3 clen ulen body).
    fn body_of_dump(hex: &str) -> (Vec<u8>, usize) {
        let p: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        assert_eq!(&p[..2], &[0x00, 0xC3]);
        let mut at = 2;
        let mut len = || {
            let b = p[at];
            at += 1;
            if b < 0x40 {
                b as usize
            } else {
                at += 1;
                (((b & 0x3F) as usize) << 8) | p[at - 1] as usize
            }
        };
        let (clen, ulen) = (len(), len());
        (p[at..at + clen].to_vec(), ulen)
    }

    #[test]
    fn matches_the_bytes_redis_writes() {
        // DUMP payloads from redis-server 7.0.15 (rdbcompression yes) of these strings.
        let cases = [
            ("a".repeat(40), "00c30928016161e01b000161610a00cf092faaae25831d"),
            ("abc".repeat(1000), "00c32c4bb80361626361e0ff02e1ff07e1ff07e1ff07e1ff07e1ff07e1ff07e1ff07e1ff07e1ff07e1ff07e151070162630a00db0e043794c72732"),
            ("hello world, hello world, hello world".to_string(), "00c315250d68656c6c6f20776f726c642c2068e00c0c016c640a00a8bec18e27b98196"),
            (
                "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Lorem ipsum dolor sit amet, consectetur adipiscing elit".repeat(3),
                "00c3408f42191f4c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7315656374657475722061646970697363696e6720656c69201c0273656420300c20656975736d6f642074656d70203c10696e6369646964756e74207574206c6162205e022065742029205a1065206d61676e6120616c697175612e204c2012e02a7be02e36e0ffb2e11ce10169740a00d1ef9f089958b8fd",
            ),
        ];
        for (s, hex) in cases {
            let (body, ulen) = body_of_dump(hex);
            assert_eq!(ulen, s.len());
            assert_eq!(compress(s.as_bytes(), s.len() - 4).unwrap(), body, "{:?}", &s[..10]);
            assert_eq!(decompress(&body, ulen).unwrap(), s.as_bytes());
        }
    }

    #[test]
    fn incompressible_input_is_refused_within_the_budget() {
        let noise: Vec<u8> = (0..200u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        assert_eq!(compress(&noise, noise.len() - 4), None);
        assert_eq!(compress(b"", 10), None);
        assert_eq!(compress(b"x", 0), None);
    }

    #[test]
    fn forged_lengths_are_refused_without_allocating() {
        assert_eq!(decompress(&[0x00, b'a'], usize::MAX), None);
        assert_eq!(decompress(&[0xE0, 0xFF, 0x00], 264), None); // a reference before the start
        assert_eq!(decompress(&[0x05, b'a'], 6), None); // a literal run past the end
    }

    #[test]
    fn a_reused_compressor_gives_the_same_bytes_as_a_fresh_one() {
        let mut c = Compressor::new();
        let a = "hello world, hello world, hello world".as_bytes();
        let b = "another string that repeats: another string".as_bytes();
        let first = c.compress(a, a.len() - 4);
        let second = c.compress(b, b.len() - 4);
        assert_eq!(first, compress(a, a.len() - 4));
        assert_eq!(second, compress(b, b.len() - 4));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Bytes with runs and repeats, so matches of every length and distance occur.
    fn texty() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..3000),
            proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'c')], 0..20000),
            (proptest::collection::vec(any::<u8>(), 1..40), 1usize..400).prop_map(|(unit, n)| unit.repeat(n)),
        ]
    }

    proptest! {
        #[test]
        fn compress_then_decompress_is_the_identity(data in texty(), slack in 0usize..64) {
            let budget = (data.len() + slack).saturating_sub(4);
            if let Some(c) = compress(&data, budget) {
                prop_assert!(c.len() <= budget);
                prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn any_budget_is_respected_or_refused(data in texty(), budget in 0usize..5000) {
            if let Some(c) = compress(&data, budget) {
                prop_assert!(c.len() <= budget);
                prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600), len in 0usize..100_000) {
            if let Some(out) = decompress(&data, len) {
                prop_assert_eq!(out.len(), len);
            }
        }
    }
}
