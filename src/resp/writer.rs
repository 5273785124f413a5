//! Serialises a `Reply` for a client speaking RESP2 or RESP3. The RESP2 downgrade follows
//! Redis: maps flatten to arrays, sets become arrays, doubles become bulk strings, booleans
//! become 1/0, big numbers and verbatim strings become bulks, pushes become arrays.

use crate::reply::Reply;
use crate::util::fmt_double;

pub fn write_reply(r: &Reply, resp3: bool, out: &mut Vec<u8>) {
    match r {
        Reply::Simple(s) => line(out, b'+', s.as_bytes()),
        Reply::Status(s) => line(out, b'+', s.as_bytes()),
        Reply::Error(e) => {
            // Error lines may not carry CR/LF: Redis replaces them with spaces.
            out.push(b'-');
            out.extend(e.bytes().map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
            out.extend_from_slice(b"\r\n");
        }
        Reply::Int(n) => int_line(out, b':', *n),
        Reply::Bulk(b) => bulk(out, b),
        Reply::Raw(b) => out.extend_from_slice(b),
        Reply::Blocked => {}
        Reply::Multi(items) => {
            for i in items {
                write_reply(i, resp3, out);
            }
        }
        Reply::Nil => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        Reply::NilArray => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
        Reply::Array(items) => {
            int_line(out, b'*', items.len() as i64);
            for i in items {
                write_reply(i, resp3, out);
            }
        }
        Reply::Set(items) => {
            int_line(out, if resp3 { b'~' } else { b'*' }, items.len() as i64);
            for i in items {
                write_reply(i, resp3, out);
            }
        }
        Reply::Push(items) => {
            int_line(out, if resp3 { b'>' } else { b'*' }, items.len() as i64);
            for i in items {
                write_reply(i, resp3, out);
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                int_line(out, b'%', pairs.len() as i64);
            } else {
                int_line(out, b'*', 2 * pairs.len() as i64);
            }
            for (k, v) in pairs {
                write_reply(k, resp3, out);
                write_reply(v, resp3, out);
            }
        }
        Reply::Double(d) => {
            if resp3 {
                let s = if d.is_infinite() {
                    if *d > 0.0 {
                        "inf".to_string()
                    } else {
                        "-inf".to_string()
                    }
                } else {
                    fmt_double(*d)
                };
                line(out, b',', s.as_bytes());
            } else {
                bulk(out, fmt_double(*d).as_bytes());
            }
        }
        Reply::HumanDouble(d) => {
            let s = crate::long_double::LongDouble::from_f64(*d).to_human_string();
            if resp3 {
                line(out, b',', s.as_bytes());
            } else {
                bulk(out, s.as_bytes());
            }
        }
        Reply::Bool(b) => {
            if resp3 {
                out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
            } else {
                int_line(out, b':', *b as i64);
            }
        }
        Reply::BigNumber(n) => {
            if resp3 {
                line(out, b'(', n.as_bytes());
            } else {
                bulk(out, n.as_bytes());
            }
        }
        Reply::Verbatim(fmt, b) => {
            if resp3 {
                int_line(out, b'=', b.len() as i64 + 4);
                out.extend_from_slice(fmt.as_bytes());
                out.push(b':');
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            } else {
                bulk(out, b);
            }
        }
    }
}

fn line(out: &mut Vec<u8>, prefix: u8, s: &[u8]) {
    out.push(prefix);
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

fn int_line(out: &mut Vec<u8>, prefix: u8, n: i64) {
    out.push(prefix);
    let mut buf = itoa_buf();
    out.extend_from_slice(fmt_i64(n, &mut buf));
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    int_line(out, b'$', b.len() as i64);
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

/// A command as a RESP array of bulk strings (catAppendOnlyGenericCommand).
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    out.reserve(16 + argv.iter().map(|a| a.as_ref().len() + 16).sum::<usize>());
    let mut digits = [0u8; 20];
    let mut header = |out: &mut Vec<u8>, kind: u8, n: usize| {
        out.push(kind);
        // Argument counts and most lengths are one digit.
        if n < 10 {
            out.push(b'0' + n as u8);
        } else {
            out.extend_from_slice(fmt_i64(n as i64, &mut digits));
        }
        out.extend_from_slice(b"\r\n");
    };
    header(out, b'*', argv.len());
    for a in argv {
        let a = a.as_ref();
        header(out, b'$', a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Formats without allocating: replies are written on the hot path.
pub fn fmt_i64(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let neg = n < 0;
    let mut u = n.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// The common RESP2 encoding of a whole reply, for tests and simple hosts.
pub fn encode(r: &Reply, resp3: bool) -> Vec<u8> {
    let mut v = Vec::new();
    write_reply(r, resp3, &mut v);
    v
}
