//! A resumable request parser. It keeps its position inside a multibulk between reads, so a
//! command with a million arguments or a 512 MB bulk arriving in small reads is parsed in
//! linear time, and bulk payloads are split off the read buffer without copying.
//! `Ok(None)` means "need more bytes"; `Err` is a protocol error after which Redis replies
//! and closes the connection.

use bytes::{Buf, Bytes, BytesMut};

use super::inline::split_inline;

/// Longest header line (`*N` / `$N`) or inline request Redis accepts (PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub &'static str, pub Option<u8>);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(c) => write!(f, "ERR Protocol error: {}'{}'", self.0, c as char),
            None => write!(f, "ERR Protocol error: {}", self.0),
        }
    }
}

#[derive(Debug, Default)]
pub struct RequestParser {
    /// Arguments still expected by the current multibulk, if one is open.
    pending: Option<usize>,
    /// Length of the bulk whose `$len` line has been read but whose payload has not.
    bulk_len: Option<usize>,
    args: Vec<Bytes>,
    pub max_bulk_len: i64,
}

impl RequestParser {
    pub fn new(max_bulk_len: i64) -> Self {
        RequestParser { max_bulk_len, ..Default::default() }
    }

    /// Parses the next complete command from `buf`, consuming its bytes. Empty commands
    /// (`*0`, blank inline lines) are skipped as Redis does. `authenticated` selects Redis's
    /// tighter limits for clients that still owe AUTH.
    pub fn next(&mut self, buf: &mut BytesMut, authenticated: bool) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if self.pending.is_none() {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] != b'*' {
                    match self.inline(buf)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(args)),
                    }
                }
                let Some(n) = read_line_int(buf, "too big mbulk count string")? else { return Ok(None) };
                let n = n.ok_or(ProtocolError("invalid multibulk length", None))?;
                // Redis takes up to INT_MAX arguments (an RPUSH of millions of elements); the
                // argument vector grows as they arrive, never from the count alone.
                if n > i32::MAX as i64 {
                    return Err(ProtocolError("invalid multibulk length", None));
                }
                if n > 10 && !authenticated {
                    return Err(ProtocolError("unauthenticated multibulk length", None));
                }
                if n <= 0 {
                    continue;
                }
                self.pending = Some(n as usize);
                // Don't trust the count for preallocation: a client may lie.
                self.args = Vec::with_capacity((n as usize).min(1024));
            }
            while self.pending.unwrap() > 0 {
                let len = match self.bulk_len {
                    Some(l) => l,
                    None => {
                        if buf.is_empty() {
                            return Ok(None);
                        }
                        if buf[0] != b'$' {
                            return Err(ProtocolError("expected '$', got ", Some(buf[0])));
                        }
                        let Some(l) = read_line_int(buf, "too big bulk count string")? else { return Ok(None) };
                        let l = l.ok_or(ProtocolError("invalid bulk length", None))?;
                        if l < 0 || l > self.max_bulk_len {
                            return Err(ProtocolError("invalid bulk length", None));
                        }
                        if !authenticated && l > 16384 {
                            return Err(ProtocolError("unauthenticated bulk length", None));
                        }
                        self.bulk_len = Some(l as usize);
                        l as usize
                    }
                };
                if buf.len() < len + 2 {
                    // Large payloads: grow in bounded steps rather than trusting the declared
                    // length, so a client announcing 512 MB cannot make us allocate it up front.
                    if len >= 32 * 1024 {
                        buf.reserve((len + 2 - buf.len()).min(1 << 20));
                    }
                    return Ok(None);
                }
                let arg = buf.split_to(len).freeze();
                buf.advance(2);
                self.args.push(arg);
                self.bulk_len = None;
                *self.pending.as_mut().unwrap() -= 1;
            }
            self.pending = None;
            return Ok(Some(std::mem::take(&mut self.args)));
        }
    }

    /// Bytes the parser knows it still needs, for hosts sizing their next read.
    pub fn wants(&self, buffered: usize) -> usize {
        self.bulk_len.map(|l| (l + 2).saturating_sub(buffered)).unwrap_or(0)
    }

    fn inline(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(nl) = memchr(b'\n', buf) else {
            if buf.len() > INLINE_MAX {
                return Err(ProtocolError("too big inline request", None));
            }
            return Ok(None);
        };
        let line = buf.split_to(nl + 1);
        let mut end = nl;
        if end > 0 && line[end - 1] == b'\r' {
            end -= 1;
        }
        split_inline(&line[..end]).map(Some).ok_or(ProtocolError("unbalanced quotes in request", None))
    }
}

/// Reads a `*N\r\n` / `$N\r\n` header line. Outer `None`: incomplete; inner `None`: not a number.
fn read_line_int(buf: &mut BytesMut, too_big: &'static str) -> Result<Option<Option<i64>>, ProtocolError> {
    let Some(cr) = memchr(b'\r', buf) else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError(too_big, None));
        }
        return Ok(None);
    };
    if cr > INLINE_MAX {
        return Err(ProtocolError(too_big, None));
    }
    if buf.len() < cr + 2 {
        return Ok(None);
    }
    let n = crate::util::parse_i64(&buf[1..cr]);
    buf.advance(cr + 2);
    Ok(Some(n))
}

fn memchr(c: u8, b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == c)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut p = RequestParser::new(512 * 1024 * 1024);
        let mut buf = BytesMut::from(input);
        let mut out = vec![];
        while let Some(c) = p.next(&mut buf, true)? {
            out.push(c);
        }
        Ok(out)
    }

    #[test]
    fn pipelined_multibulk_and_inline_commands_parse_in_order() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n\r\nset a \"b c\"\n").unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(cmds[1], vec![Bytes::from("PING")]);
        assert_eq!(cmds[2], vec![Bytes::from("set"), Bytes::from("a"), Bytes::from("b c")]);
    }

    #[test]
    fn a_frame_split_at_every_byte_parses_the_same() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        let mut p = RequestParser::new(1 << 29);
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in input.iter() {
            assert!(got.is_none());
            buf.extend_from_slice(&[b]);
            got = p.next(&mut buf, true).unwrap();
        }
        assert_eq!(got.unwrap()[2], Bytes::from("value"));
        assert!(buf.is_empty());
    }

    #[test]
    fn protocol_errors_use_redis_wording() {
        let e = |i: &[u8]| parse_all(i).unwrap_err().to_string();
        assert_eq!(e(b"*x\r\n"), "ERR Protocol error: invalid multibulk length");
        assert_eq!(e(b"*1\r\nfoo\r\n"), "ERR Protocol error: expected '$', got 'f'");
        assert_eq!(e(b"*1\r\n$-5\r\n"), "ERR Protocol error: invalid bulk length");
        assert_eq!(e(b"*1\r\n$600000000\r\n"), "ERR Protocol error: invalid bulk length");
        assert_eq!(e(b"set \"a\n"), "ERR Protocol error: unbalanced quotes in request");
        assert_eq!(e(b"*2147483648\r\n"), "ERR Protocol error: invalid multibulk length");
        // Up to INT_MAX arguments are taken, as by Redis; the count alone allocates nothing.
        assert!(parse_all(b"*2147483647\r\n").is_ok());
    }

    #[test]
    fn unauthenticated_clients_get_tight_limits() {
        let mut p = RequestParser::new(1 << 29);
        let mut buf = BytesMut::from(&b"*100\r\n"[..]);
        assert_eq!(p.next(&mut buf, false).unwrap_err().to_string(), "ERR Protocol error: unauthenticated multibulk length");
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        assert_eq!(parse_all(b"*0\r\n*-1\r\nPING\r\n").unwrap().len(), 1);
    }
}
