//! Inline commands (`SET a "b c"` typed into telnet): Redis's sdssplitargs quoting rules.
//! Double quotes take `\n \r \t \b \a \\ \"` and `\xHH`; single quotes take only `\'`; a
//! closing quote must be followed by a space or the end, otherwise the quotes are unbalanced.

use bytes::Bytes;

/// `None` means unbalanced quotes.
pub fn split_inline(line: &[u8]) -> Option<Vec<Bytes>> {
    // sdssplitargs walks a C string: a NUL byte ends the line.
    let line = &line[..line.iter().position(|&c| c == 0).unwrap_or(line.len())];
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\' && i + 3 < n && line[i + 1] == b'x' && is_hex(line[i + 2]) && is_hex(line[i + 3]) {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if line[i] == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if line[i] == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if line[i] == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(Bytes::from(cur));
    }
}

/// C's isspace: includes vertical tab and form feed.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap() as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    #[test]
    fn quotes_and_escapes_follow_sdssplitargs() {
        let a = split_inline(br#"set "a\x41\n" 'it\'s' plain"#).unwrap();
        assert_eq!(a, vec![Bytes::from("set"), Bytes::from("aA\n"), Bytes::from("it's"), Bytes::from("plain")]);
        assert!(split_inline(br#"get "a"b"#).is_none());
        assert!(split_inline(br#"get 'a"#).is_none());
        assert_eq!(split_inline(b"   ").unwrap().len(), 0);
    }

    #[test]
    fn a_nul_byte_ends_the_line_from_fuzz() {
        assert_eq!(split_inline(b"get\0junk").unwrap(), vec![Bytes::from("get")]);
        assert_eq!(split_inline(b"\0").unwrap().len(), 0);
    }
}
