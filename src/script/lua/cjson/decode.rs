//! Decoding: JSON text to Lua values (the tokenizer and parser of lua_cjson.c).

use super::strtod::*;
use super::*;

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum TokenKind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl TokenKind {
    /// How a parse error names the token it found (`json_token_type_name`).
    fn describe(self) -> &'static str {
        match self {
            Self::ObjBegin => "T_OBJ_BEGIN",
            Self::ObjEnd => "T_OBJ_END",
            Self::ArrBegin => "T_ARR_BEGIN",
            Self::ArrEnd => "T_ARR_END",
            Self::Str => "T_STRING",
            Self::Number(_) => "T_NUMBER",
            Self::Boolean(_) => "T_BOOLEAN",
            Self::Null => "T_NULL",
            Self::Colon => "T_COLON",
            Self::Comma => "T_COMMA",
            Self::End => "T_END",
            Self::Error(what) => what,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    kind: TokenKind,
    /// 0-based offset reported (plus one) in parse errors.
    index: usize,
}

pub(super) fn hex_digit(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'f' => Some(u32::from(c - b'a') + 10),
        b'A'..=b'F' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

pub(super) fn push_utf8(out: &mut Vec<u8>, cp: u32) {
    // Code points come from \u escapes, so they are at most 0x10FFFF.
    let b = |v: u32| u8::try_from(v & 0xff).unwrap_or(0);
    if cp <= 0x7f {
        out.push(b(cp));
    } else if cp <= 0x7ff {
        out.extend_from_slice(&[b((cp >> 6) | 0xc0), b((cp & 0x3f) | 0x80)]);
    } else if cp <= 0xffff {
        out.extend_from_slice(&[b((cp >> 12) | 0xe0), b(((cp >> 6) & 0x3f) | 0x80), b((cp & 0x3f) | 0x80)]);
    } else {
        out.extend_from_slice(&[b((cp >> 18) | 0xf0), b(((cp >> 12) & 0x3f) | 0x80), b(((cp >> 6) & 0x3f) | 0x80), b((cp & 0x3f) | 0x80)]);
    }
}

pub(super) struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    cfg: Config,
    /// The decoded text of the last string token.
    text: Vec<u8>,
}

impl Parser<'_> {
    /// The byte at `i`, with 0 past the end: the C parser reads a NUL-terminated
    /// string, so an embedded NUL ends the input just like the real end does.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn starts_with(&self, i: usize, word: &[u8]) -> bool {
        word.iter().enumerate().all(|(k, &w)| self.at(i.saturating_add(k)) == w)
    }

    fn starts_with_ignore_case(&self, i: usize, word: &[u8]) -> bool {
        word.iter().enumerate().all(|(k, &w)| self.at(i.saturating_add(k)).eq_ignore_ascii_case(&w))
    }

    fn error_here(&self, what: &'static str) -> Token {
        Token { kind: TokenKind::Error(what), index: self.pos }
    }

    /// `json_next_token`.
    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let single = |kind| Token { kind, index };
        let ch = self.at(self.pos);
        let kind = match ch {
            b'{' => TokenKind::ObjBegin,
            b'}' => TokenKind::ObjEnd,
            b'[' => TokenKind::ArrBegin,
            b']' => TokenKind::ArrEnd,
            b',' => TokenKind::Comma,
            b':' => TokenKind::Colon,
            0 => return single(TokenKind::End),
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    return self.error_here("invalid number");
                }
                return self.number_token();
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if self.starts_with(self.pos, b"true") {
                    self.pos += 4;
                    return single(TokenKind::Boolean(true));
                }
                if self.starts_with(self.pos, b"false") {
                    self.pos += 5;
                    return single(TokenKind::Boolean(false));
                }
                if self.starts_with(self.pos, b"null") {
                    self.pos += 4;
                    return single(TokenKind::Null);
                }
                if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
                    return self.number_token();
                }
                return self.error_here("invalid token");
            }
            _ => return self.error_here("invalid token"),
        };
        self.pos += 1;
        single(kind)
    }

    /// `json_next_string_token`: the decoded bytes go to `self.text`.
    fn string_token(&mut self) -> Token {
        let index = self.pos;
        self.pos += 1;
        self.text.clear();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error_here("unexpected end of string");
            }
            let mut byte = ch;
            if ch == b'\\' {
                byte = match self.at(self.pos + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => b'\x08',
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => b'\x0c',
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error_here("invalid unicode escape code");
                    }
                    _ => return self.error_here("invalid escape code"),
                };
                self.pos += 1;
            }
            self.text.push(byte);
            self.pos += 1;
        }
        self.pos += 1;
        Token { kind: TokenKind::Str, index }
    }

    fn hex4(&self, i: usize) -> Option<u32> {
        let mut value = 0;
        for k in 0..4 {
            value = (value << 4) | hex_digit(self.at(i + k))?;
        }
        Some(value)
    }

    /// `json_append_unicode_escape`, at a `\u`: appends the UTF-8 and advances past
    /// the escape (two escapes for a surrogate pair). False on a malformed escape.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut escape_len = 6;
        if cp & 0xf800 == 0xd800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xfc00 != 0xdc00 {
                return false;
            }
            cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
            escape_len = 12;
        }
        push_utf8(&mut self.text, cp);
        self.pos += escape_len;
        true
    }

    /// `json_is_invalid_number`: what strict JSON forbids but `strtod` accepts
    /// (a leading `+`, hex, leading zeros, inf and nan).
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        }
        // C compares a plain (signed) char, so bytes >= 0x80 count as "ordinary".
        if c <= b'9' || c >= 0x80 {
            return false;
        }
        self.starts_with_ignore_case(p, b"inf") || self.starts_with_ignore_case(p, b"nan")
    }

    /// `json_next_number_token`.
    fn number_token(&mut self) -> Token {
        let index = self.pos;
        match strtod(self.data, self.pos) {
            Some((value, end)) => {
                self.pos = end;
                Token { kind: TokenKind::Number(value), index }
            }
            None => self.error_here("invalid number"),
        }
    }
}

/// glibc `strtod` in the C locale, on the NUL-terminated text from `start`: the value
/// and the end of the longest number prefix, or `None` when nothing converts.
pub(super) enum DecodeFrame {
    Array { table: Table, next: i64 },
    Object { table: Table, key: Val },
}

impl DecodeFrame {
    /// Lua stack slots the C decoder holds while parsing a value in this container:
    /// the table, plus the key for objects.
    fn slots(&self) -> i64 {
        match self {
            Self::Array { .. } => 1,
            Self::Object { .. } => 2,
        }
    }
}

pub(super) fn parse_error(expected: &str, token: Token) -> rilua::LuaError {
    runtime_error(format!("Expected {expected} but found {} at character {}", token.kind.describe(), token.index.saturating_add(1)))
}

/// Parses the document with an explicit stack, checking tokens in the same order as
/// the C recursive descent so that the first error reported is the same.
pub(super) fn decode_document(state: &mut LuaState, data: &[u8], cfg: Config) -> LuaResult<Val> {
    let mut p = Parser { data, pos: 0, cfg, text: Vec::new() };
    let mut frames: Vec<DecodeFrame> = Vec::new();
    // The decode function's own argument occupies the first slot.
    let mut slots: i64 = 1;
    let mut token = p.next_token();
    loop {
        // Value context (`json_process_value`).
        let mut value = match token.kind {
            TokenKind::Str => str_val(state, &p.text),
            TokenKind::Number(n) => Val::Num(n),
            TokenKind::Boolean(b) => Val::Bool(b),
            TokenKind::Null => Val::LightUserdata(0),
            TokenKind::ObjBegin | TokenKind::ArrBegin => {
                let is_object = token.kind == TokenKind::ObjBegin;
                let depth = i64::try_from(frames.len()).unwrap_or(i64::MAX).saturating_add(1);
                let needed = if is_object { 3 } else { 2 };
                if depth > i64::from(cfg.decode_max_depth) || slots.saturating_add(needed) > LUAI_MAXCSTACK {
                    return Err(runtime_error(format!("Found too many nested data structures ({depth}) at character {}", p.pos)));
                }
                let table = Table::from_gc_ref(state.gc.alloc_table(RawTable::new()));
                token = p.next_token();
                let empty_end = if is_object { TokenKind::ObjEnd } else { TokenKind::ArrEnd };
                if token.kind == empty_end {
                    Val::Table(table.gc_ref())
                } else if is_object {
                    let key = object_key(state, &mut p, &mut token)?;
                    let frame = DecodeFrame::Object { table, key };
                    slots += frame.slots();
                    frames.push(frame);
                    continue;
                } else {
                    let frame = DecodeFrame::Array { table, next: 1 };
                    slots += frame.slots();
                    frames.push(frame);
                    continue;
                }
            }
            _ => return Err(parse_error("value", token)),
        };
        // Store the finished value and read what follows it, closing containers.
        loop {
            let Some(frame) = frames.last_mut() else {
                token = p.next_token();
                if token.kind != TokenKind::End {
                    return Err(parse_error("the end", token));
                }
                return Ok(value);
            };
            let (table, close, expected) = match frame {
                DecodeFrame::Array { table, next } => {
                    #[allow(clippy::cast_precision_loss)]
                    let index = Val::Num(*next as f64);
                    *next = next.saturating_add(1);
                    table.raw_set(state, index, value)?;
                    (*table, TokenKind::ArrEnd, "comma or array end")
                }
                DecodeFrame::Object { table, key } => {
                    table.raw_set(state, *key, value)?;
                    (*table, TokenKind::ObjEnd, "comma or object end")
                }
            };
            token = p.next_token();
            if token.kind == close {
                if let Some(done) = frames.pop() {
                    slots -= done.slots();
                }
                value = Val::Table(table.gc_ref());
                continue;
            }
            if token.kind != TokenKind::Comma {
                return Err(parse_error(expected, token));
            }
            token = p.next_token();
            if close == TokenKind::ObjEnd {
                let key = object_key(state, &mut p, &mut token)?;
                if let Some(DecodeFrame::Object { key: slot, .. }) = frames.last_mut() {
                    *slot = key;
                }
            }
            break;
        }
    }
}

/// Reads `"key" :` starting at `token` and leaves the value's first token in `token`.
pub(super) fn object_key(state: &mut LuaState, p: &mut Parser<'_>, token: &mut Token) -> LuaResult<Val> {
    if token.kind != TokenKind::Str {
        return Err(parse_error("object key string", *token));
    }
    let key = str_val(state, &p.text);
    *token = p.next_token();
    if token.kind != TokenKind::Colon {
        return Err(parse_error("colon", *token));
    }
    *token = p.next_token();
    Ok(key)
}

pub(super) fn json_decode(state: &mut LuaState) -> LuaResult<u32> {
    if nargs(state) != 1 {
        return Err(state.arg_error(1, "expected 1 argument"));
    }
    let cfg = fetch_config(state)?;
    let data = state.check_string(1)?;
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(runtime_error("JSON parser does not support UTF-16 or UTF-32"));
    }
    let value = decode_document(state, &data, cfg)?;
    state.push(value);
    Ok(1)
}
