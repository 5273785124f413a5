//! A command's arguments, declared as one line of text and expanded into the tree that
//! COMMAND DOCS returns (and redis-cli 7 turns into its hints and `help` lines).
//!
//! Why text: Redis keeps these trees in per-command JSON files; a one-line declaration beside
//! each handler stays readable and costs a few bytes in the wasm build. The syntax:
//! - `name` a typed argument, `name@type` when the type is not the default one, `#n` after it
//!   when its key_spec_index is not a key's ordinal among the command's keys (or when a
//!   non-key argument has one);
//! - `TOKEN` a pure token (named after it lower-cased), `name=TOKEN` with another name,
//!   `"..."` quotes a token that is not an upper-case word;
//! - `TOKEN name` a token introducing an argument, `TOKEN name=(...)` one introducing a group;
//! - `(a b)` a block, `(a|b)` a oneof, `name=` before either names it (default: the first
//!   child's name); `[...]` is the same group made optional (`[x]` just makes `x` optional);
//! - a trailing `...` makes the item repeat, `+...` repeat with its token each time.
//!
//! The default types: names ending in `key` are keys; count, seconds, milliseconds, timeout,
//! offset, start, end, index, numkeys and db are integers; `pattern` is a pattern; the rest
//! are strings.

use crate::reply::Reply;

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Typed(String),
    PureToken,
    OneOf(Vec<Arg>),
    Block(Vec<Arg>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: String,
    pub kind: Kind,
    pub token: Option<String>,
    pub key_spec_index: Option<i64>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
}

fn default_type(name: &str) -> &'static str {
    const INTEGERS: &[&str] = &["count", "seconds", "milliseconds", "timeout", "offset", "start", "end", "index", "numkeys", "db"];
    if name.ends_with("key") {
        "key"
    } else if INTEGERS.contains(&name) {
        "integer"
    } else if name == "pattern" {
        "pattern"
    } else {
        "string"
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Lexeme {
    Open(u8),
    Close(u8),
    Bar,
    Repeat { with_token: bool },
    Word(String),
    Quoted(String),
}

fn lex(src: &str) -> Result<Vec<Lexeme>, String> {
    let b = src.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' => i += 1,
            c @ (b'[' | b'(') => {
                out.push(Lexeme::Open(c));
                i += 1;
            }
            c @ (b']' | b')') => {
                out.push(Lexeme::Close(c));
                i += 1;
            }
            b'|' => {
                out.push(Lexeme::Bar);
                i += 1;
            }
            b'"' => {
                let end = src[i + 1..].find('"').ok_or("unterminated quote")? + i + 1;
                out.push(Lexeme::Quoted(src[i + 1..end].to_string()));
                i = end + 1;
            }
            _ => {
                let start = i;
                // A word may carry a quoted token after `=` (`name=""`).
                while i < b.len() && !b" []()|".contains(&b[i]) {
                    if b[i] == b'"' {
                        i = src[i + 1..].find('"').ok_or("unterminated quote")? + i + 2;
                    } else {
                        i += 1;
                    }
                }
                let w = &src[start..i];
                out.push(match w {
                    "..." => Lexeme::Repeat { with_token: false },
                    "+..." => Lexeme::Repeat { with_token: true },
                    _ => Lexeme::Word(w.to_string()),
                });
            }
        }
    }
    Ok(out)
}

fn is_name(w: &str) -> bool {
    w.as_bytes().first().is_some_and(|c| c.is_ascii_lowercase())
}

/// `name=REST` with a lower-case name: the name and what follows `=` (maybe empty).
fn split_named(w: &str) -> Option<(&str, &str)> {
    if !is_name(w) {
        return None;
    }
    w.find('=').map(|i| (&w[..i], &w[i + 1..]))
}

fn unquote(t: &str) -> String {
    t.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(t).to_string()
}

struct Parser {
    lex: Vec<Lexeme>,
    pos: usize,
    keys: i64,
}

impl Parser {
    fn peek(&self) -> Option<&Lexeme> {
        self.lex.get(self.pos)
    }

    fn bump(&mut self) -> Option<Lexeme> {
        let l = self.lex.get(self.pos).cloned();
        self.pos += 1;
        l
    }

    /// Items up to `closer` (or the end), split at `|` into alternatives.
    fn alternatives(&mut self, closer: Option<u8>) -> Result<Vec<Vec<Arg>>, String> {
        let mut alts = vec![vec![]];
        loop {
            match self.peek() {
                None if closer.is_none() => return Ok(alts),
                None => return Err("unclosed group".into()),
                Some(Lexeme::Close(c)) => {
                    let want = match closer {
                        Some(b'[') => b']',
                        Some(_) => b')',
                        None => return Err("unbalanced close".into()),
                    };
                    if *c != want {
                        return Err("mismatched close".into());
                    }
                    self.pos += 1;
                    return Ok(alts);
                }
                Some(Lexeme::Bar) => {
                    self.pos += 1;
                    alts.push(vec![]);
                }
                Some(_) => {
                    let a = self.item()?;
                    alts.last_mut().unwrap().push(a);
                }
            }
        }
    }

    fn group(&mut self, open: u8, name: Option<String>) -> Result<Arg, String> {
        let mut alts = self.alternatives(Some(open))?;
        let optional = open == b'[';
        let mut arg = if alts.len() > 1 {
            if alts.iter().any(|a| a.len() != 1) {
                return Err("a oneof's choices must be single items".into());
            }
            let kids: Vec<Arg> = alts.into_iter().map(|mut a| a.remove(0)).collect();
            Arg::group(name.unwrap_or_else(|| kids[0].name.clone()), Kind::OneOf(kids))
        } else {
            let mut kids = alts.remove(0);
            match (kids.len(), name) {
                (0, _) => return Err("empty group".into()),
                (1, None) => kids.remove(0),
                (_, name) => Arg::group(name.unwrap_or_else(|| kids[0].name.clone()), Kind::Block(kids)),
            }
        };
        arg.optional |= optional;
        Ok(arg)
    }

    fn typed(&mut self, word: &str, token: Option<String>) -> Result<Arg, String> {
        let (head, index) = match word.split_once('#') {
            Some((h, i)) => (h, Some(i.parse::<i64>().map_err(|_| format!("bad key index in {}", word))?)),
            None => (word, None),
        };
        let (name, ty) = match head.split_once('@') {
            Some((n, t)) => (n, t),
            None => (head, default_type(head)),
        };
        // Keys count in order; any argument may name a key spec explicitly (SORT's BY
        // pattern points at keys without being one).
        let key_spec_index = if ty == "key" {
            self.keys += 1;
            Some(index.unwrap_or(self.keys - 1))
        } else {
            index
        };
        Ok(Arg { key_spec_index, token, ..Arg::plain(name.to_string(), Kind::Typed(ty.to_string())) })
    }

    fn item(&mut self) -> Result<Arg, String> {
        let mut arg = match self.bump() {
            Some(Lexeme::Open(c)) => self.group(c, None)?,
            Some(Lexeme::Quoted(t)) => self.after_token(t)?,
            Some(Lexeme::Word(w)) => match split_named(&w) {
                Some((name, "")) => match self.bump() {
                    Some(Lexeme::Open(c)) => self.group(c, Some(name.to_string()))?,
                    _ => return Err(format!("`{}` must be followed by a group", w)),
                },
                Some((name, token)) => Arg { token: Some(unquote(token)), ..Arg::plain(name.to_string(), Kind::PureToken) },
                None if is_name(&w) => self.typed(&w, None)?,
                None => self.after_token(w)?,
            },
            other => return Err(format!("unexpected {:?}", other)),
        };
        if let Some(Lexeme::Repeat { with_token }) = self.peek() {
            arg.multiple = true;
            arg.multiple_token = *with_token;
            self.pos += 1;
        }
        Ok(arg)
    }

    /// A token owns the argument or named group right after it; otherwise it stands alone.
    fn after_token(&mut self, token: String) -> Result<Arg, String> {
        match self.peek().cloned() {
            Some(Lexeme::Word(w)) if is_name(&w) && !w.contains('=') => {
                self.pos += 1;
                self.typed(&w, Some(token))
            }
            Some(Lexeme::Word(w)) if split_named(&w).is_some_and(|(_, rest)| rest.is_empty()) => {
                let mut g = self.item()?;
                g.token = Some(token);
                Ok(g)
            }
            Some(Lexeme::Open(b'(')) => {
                let mut g = self.item()?;
                g.token = Some(token);
                Ok(g)
            }
            _ => Ok(Arg { token: Some(token.clone()), ..Arg::plain(token.to_ascii_lowercase(), Kind::PureToken) }),
        }
    }
}

impl Arg {
    fn plain(name: String, kind: Kind) -> Arg {
        Arg { name, kind, token: None, key_spec_index: None, optional: false, multiple: false, multiple_token: false }
    }

    fn group(name: String, kind: Kind) -> Arg {
        Arg::plain(name, kind)
    }

    fn type_name(&self) -> &str {
        match &self.kind {
            Kind::Typed(t) => t,
            Kind::PureToken => "pure-token",
            Kind::OneOf(_) => "oneof",
            Kind::Block(_) => "block",
        }
    }

    /// One entry of COMMAND DOCS' `arguments`, fields in Redis's order (addReplyCommandArgList).
    pub fn to_reply(&self) -> Reply {
        let s = Reply::bulk_str;
        let mut m = vec![(s("name"), Reply::Bulk(self.name.clone().into())), (s("type"), s(self.type_name()))];
        if let Some(i) = self.key_spec_index {
            m.push((s("key_spec_index"), Reply::Int(i)));
        }
        if let Some(t) = &self.token {
            m.push((s("token"), Reply::Bulk(t.clone().into())));
        }
        let flags: Vec<Reply> = [(self.optional, "optional"), (self.multiple, "multiple"), (self.multiple_token, "multiple_token")]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, f)| Reply::Simple(f))
            .collect();
        if !flags.is_empty() {
            m.push((s("flags"), Reply::Set(flags)));
        }
        if let Kind::OneOf(kids) | Kind::Block(kids) = &self.kind {
            m.push((s("arguments"), Reply::Array(kids.iter().map(Arg::to_reply).collect())));
        }
        Reply::Map(m)
    }
}

/// The argument tree of a declaration; an error names what is malformed.
pub fn parse(src: &str) -> Result<Vec<Arg>, String> {
    let mut p = Parser { lex: lex(src)?, pos: 0, keys: 0 };
    let mut alts = p.alternatives(None)?;
    if alts.len() != 1 {
        return Err("`|` outside a group".into());
    }
    Ok(alts.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;

    /// redis-cli's rendering (cliConcatArguments), the form users see in hints and `help`.
    fn render(args: &[Arg], sep: &str) -> String {
        args.iter().map(render_one).collect::<Vec<_>>().join(sep)
    }

    fn render_one(a: &Arg) -> String {
        let repeat = match &a.kind {
            Kind::Typed(_) => a.name.clone(),
            Kind::PureToken => String::new(),
            Kind::OneOf(k) => render(k, "|"),
            Kind::Block(k) => render(k, " "),
        };
        let mut token = a.token.clone().unwrap_or_default();
        if !token.is_empty() && a.kind != Kind::PureToken {
            token.push(' ');
        }
        let mut s = format!("{}{}", token, repeat);
        if a.multiple {
            s = format!("{} [{}{} ...]", s, if a.multiple_token { token.as_str() } else { "" }, repeat);
        }
        if a.optional {
            s = format!("[{}]", s);
        }
        s
    }

    #[test]
    fn set_renders_as_redis_cli_shows_it() {
        let a = parse("key value condition=[NX|XX] [GET] expiration=[EX seconds|PX milliseconds|EXAT unix-time-seconds@unix-time|PXAT unix-time-milliseconds@unix-time|KEEPTTL]").unwrap();
        assert_eq!(render(&a, " "), "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]");
        assert_eq!(a[0].key_spec_index, Some(0));
        assert_eq!(a[2].name, "condition");
        assert_eq!(a[3].kind, Kind::PureToken);
    }

    #[test]
    fn repeats_tokens_and_quoted_tokens() {
        let a = parse("key_value=(key value) ...").unwrap();
        assert_eq!(render(&a, " "), "key value [key value ...]");
        let a = parse("key [GET pattern +...] [LIMIT offset_count=(offset count)] [STORE destination@key#2]").unwrap();
        assert_eq!(render(&a, " "), "key [GET pattern [GET pattern ...]] [LIMIT offset count] [STORE destination]");
        assert_eq!(a[3].key_spec_index, Some(2));
        let a = parse("id_or_auto=(auto_id=*|id) trim=[operator=[equal==|approximately=~] threshold] e=\"\"").unwrap();
        assert_eq!(render(&a, " "), "*|id [[=|~] threshold] ");
        assert_eq!(a[2].token.as_deref(), Some(""));
    }

    #[test]
    fn malformed_declarations_are_errors() {
        for bad in ["(a", "a)", "[a|b c]", "x=", "a | b", "\"abc"] {
            assert!(parse(bad).is_err(), "{}", bad);
        }
    }
}
