//! The conversion rules between replies and script values, written once against a small
//! view of a script engine's values so any backend converts exactly as Redis documents
//! (script_lua.c: redisProtocolToLuaType, luaReplyToRedisReply).

use bytes::Bytes;

use crate::reply::Reply;

/// What the rules need to see of one engine value.
pub enum Kind<'a> {
    Nil,
    Bool(bool),
    Number(f64),
    Str(&'a [u8]),
    Table,
    /// Functions, userdata, threads: a nil reply.
    Other,
}

/// A script engine's values, as the conversion rules read and build them. Reads are raw
/// (no metamethods), as Redis's lua_rawget.
pub trait ScriptValues {
    type V: Copy;
    fn kind(&self, v: Self::V) -> Kind<'_>;
    fn field(&mut self, t: Self::V, name: &str) -> Self::V;
    fn index(&self, t: Self::V, i: usize) -> Self::V;
    /// Every (key, value) pair of a table, in the engine's iteration order.
    fn pairs(&self, t: Self::V) -> Vec<(Self::V, Self::V)>;
    fn nil(&mut self) -> Self::V;
    fn boolean(&mut self, b: bool) -> Self::V;
    fn number(&mut self, n: f64) -> Self::V;
    fn string(&mut self, s: &[u8]) -> Self::V;
    fn table(&mut self, narr: usize, nrec: usize) -> Self::V;
    fn set_field(&mut self, t: Self::V, name: &str, v: Self::V);
    fn set_index(&mut self, t: Self::V, i: usize, v: Self::V);
    fn set(&mut self, t: Self::V, k: Self::V, v: Self::V);
}

/// How deep a returned table may nest before the reply is refused with Redis's "reached lua
/// stack limit" (Redis runs out of Lua stack after 7995 levels). Writing and freeing a
/// reply recurse once per level, so the limit is kept where every host's stack (a wasm
/// module's 1 MB, a debug build's frames) has room.
const MAX_DEPTH: usize = 999;

/// The error table redis.pcall returns and redis.call raises (luaPushErrorBuff): `-CODE msg`
/// keeps its code, a bare message gets `ERR`, trailing CR/LF go.
pub fn error_table<S: ScriptValues>(s: &mut S, err: &str, ignore_stats: bool) -> S::V {
    let text = error_text(err);
    let t = s.table(0, 2);
    let v = s.string(text.as_bytes());
    s.set_field(t, "err", v);
    if ignore_stats {
        let b = s.boolean(true);
        s.set_field(t, "ignore_error_stats_update", b);
    }
    t
}

/// luaPushErrorBuff's text rules.
pub fn error_text(err: &str) -> String {
    let (code, msg) = match err.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, msg)) => (code, msg),
            None => ("ERR", rest),
        },
        None => ("ERR", err),
    };
    format!("{} {}", code, msg.trim_matches(|c| c == '\r' || c == '\n'))
}

/// A command's reply as the script sees it, in the RESP dialect the script chose
/// (redis.setresp): RESP2 flattens maps, turns doubles into strings and null into false.
pub fn reply_to_value<S: ScriptValues>(s: &mut S, r: &Reply, resp3: bool) -> S::V {
    match r {
        Reply::Simple(st) => status(s, st.as_bytes()),
        Reply::Status(st) => status(s, st.as_bytes()),
        Reply::Error(e) => error_table(s, &format!("-{}", e), true),
        Reply::Int(n) => s.number(*n as f64),
        Reply::Bulk(b) => s.string(b),
        Reply::Verbatim(fmt, b) => {
            if resp3 {
                let outer = s.table(0, 1);
                let inner = s.table(0, 2);
                let v = s.string(b);
                s.set_field(inner, "string", v);
                let f = s.string(fmt.as_bytes());
                s.set_field(inner, "format", f);
                s.set_field(outer, "verbatim_string", inner);
                outer
            } else {
                s.string(b)
            }
        }
        Reply::Nil | Reply::NilArray => {
            if resp3 {
                s.nil()
            } else {
                s.boolean(false)
            }
        }
        Reply::Array(items) | Reply::Push(items) | Reply::Multi(items) => array(s, items, resp3),
        Reply::Set(items) => {
            if resp3 {
                let outer = s.table(0, 1);
                let inner = s.table(0, items.len());
                for i in items {
                    let k = reply_to_value(s, i, resp3);
                    let t = s.boolean(true);
                    s.set(inner, k, t);
                }
                s.set_field(outer, "set", inner);
                outer
            } else {
                array(s, items, resp3)
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                let outer = s.table(0, 1);
                let inner = s.table(0, pairs.len());
                for (k, v) in pairs {
                    let k = reply_to_value(s, k, resp3);
                    let v = reply_to_value(s, v, resp3);
                    s.set(inner, k, v);
                }
                s.set_field(outer, "map", inner);
                outer
            } else {
                let t = s.table(pairs.len() * 2, 0);
                for (i, (k, v)) in pairs.iter().enumerate() {
                    let k = reply_to_value(s, k, resp3);
                    s.set_index(t, 2 * i + 1, k);
                    let v = reply_to_value(s, v, resp3);
                    s.set_index(t, 2 * i + 2, v);
                }
                t
            }
        }
        Reply::Double(d) => {
            if resp3 {
                let t = s.table(0, 1);
                let v = s.number(*d);
                s.set_field(t, "double", v);
                t
            } else {
                s.string(crate::util::fmt_double(*d).as_bytes())
            }
        }
        Reply::HumanDouble(d) => {
            // Lua reads the text Redis sent: a string in RESP2, a double parsed from it in RESP3.
            let text = crate::long_double::LongDouble::from_f64(*d).to_human_string();
            if resp3 {
                let t = s.table(0, 1);
                let v = s.number(text.parse().unwrap_or(*d));
                s.set_field(t, "double", v);
                t
            } else {
                s.string(text.as_bytes())
            }
        }
        Reply::Bool(b) => {
            if resp3 {
                s.boolean(*b)
            } else {
                s.number(*b as i64 as f64)
            }
        }
        Reply::BigNumber(n) => {
            if resp3 {
                let t = s.table(0, 1);
                let v = s.string(n.as_bytes());
                s.set_field(t, "big_number", v);
                t
            } else {
                s.string(n.as_bytes())
            }
        }
        // Never made for a script's own client (`ClientInfo::writes_resp` is false there).
        Reply::Blocked | Reply::Raw(_) => s.nil(),
    }
}

fn status<S: ScriptValues>(s: &mut S, st: &[u8]) -> S::V {
    let t = s.table(0, 1);
    let v = s.string(st);
    s.set_field(t, "ok", v);
    t
}

fn array<S: ScriptValues>(s: &mut S, items: &[Reply], resp3: bool) -> S::V {
    let t = s.table(items.len(), 0);
    for (i, item) in items.iter().enumerate() {
        let v = reply_to_value(s, item, resp3);
        s.set_index(t, i + 1, v);
    }
    t
}

/// The error a script's failure becomes, with the parts the error handler recorded.
pub struct ScriptError {
    pub msg: String,
    pub source: Option<String>,
    pub line: Option<String>,
    /// The error came from a command the script ran, already counted in errorstats.
    pub ignore_stats: bool,
}

/// A returned error table that redis.pcall made from a refused command
/// (`ignore_error_stats_update`): the script answers that error, which was counted when the
/// command was refused, so it is not counted again (ERR_REPLY_FLAG_NO_STATS_UPDATE), though
/// the script's call still counts as failed.
pub fn uncounted_error<S: ScriptValues>(s: &mut S, v: S::V) -> Option<String> {
    if !matches!(s.kind(v), Kind::Table) {
        return None;
    }
    let f = s.field(v, "err");
    if !matches!(s.kind(f), Kind::Str(_)) {
        return None;
    }
    let e = extract_error(s, v);
    e.ignore_stats.then_some(e.msg)
}

/// luaExtractErrorInformation: a string error becomes `ERR <text>`; a table gives its
/// `err`, `source`, `line` and `ignore_error_stats_update` fields.
pub fn extract_error<S: ScriptValues>(s: &mut S, v: S::V) -> ScriptError {
    let mut e = ScriptError { msg: String::new(), source: None, line: None, ignore_stats: false };
    match s.kind(v) {
        Kind::Str(b) => e.msg = format!("ERR {}", String::from_utf8_lossy(b)),
        Kind::Number(n) => e.msg = format!("ERR {}", crate::script::lua_number_string(n)),
        Kind::Table => {
            let text = |s: &mut S, name: &str| {
                let f = s.field(v, name);
                match s.kind(f) {
                    Kind::Str(b) => Some(String::from_utf8_lossy(b).into_owned()),
                    Kind::Number(n) => Some(crate::script::lua_number_string(n)),
                    _ => None,
                }
            };
            if let Some(m) = text(s, "err") {
                e.msg = m;
            }
            e.source = text(s, "source");
            e.line = text(s, "line");
            let f = s.field(v, "ignore_error_stats_update");
            if let Kind::Bool(b) = s.kind(f) {
                e.ignore_stats = b;
            }
        }
        _ => {}
    }
    e
}

/// A script's return value as the client's reply (luaReplyToRedisReply). `resp3` is the
/// dialect the script chose with redis.setresp: with RESP2, `false` is a null and `true` 1.
/// Nested tables are walked with an explicit stack, not recursion, so a deep (or
/// self-referencing) table costs heap, never the host's stack.
pub fn value_to_reply<S: ScriptValues>(s: &mut S, v: S::V, resp3: bool) -> Reply {
    // Each open table: what it becomes, the children still to convert, the replies so far.
    struct Open<V> {
        kind: Container,
        todo: std::vec::IntoIter<V>,
        done: Vec<Reply>,
    }
    let mut stack: Vec<Open<S::V>> = Vec::new();
    let mut next = v;
    loop {
        // Convert `next`: a leaf is finished at once, a table opens a level.
        let mut finished = match convert_one(s, next, resp3, stack.len()) {
            Step::Leaf(r) => r,
            Step::Open(kind, children) => {
                stack.push(Open { kind, todo: children.into_iter(), done: Vec::new() });
                let top = stack.last_mut().expect("just pushed");
                match top.todo.next() {
                    Some(c) => {
                        next = c;
                        continue;
                    }
                    None => stack.pop().expect("just pushed").kind.close(Vec::new()),
                }
            }
        };
        // Hand the finished reply to its parent; close parents that are complete.
        loop {
            let Some(top) = stack.last_mut() else { return finished };
            top.done.push(finished);
            match top.todo.next() {
                Some(c) => {
                    next = c;
                    break;
                }
                None => {
                    let open = stack.pop().expect("not empty");
                    finished = open.kind.close(open.done);
                }
            }
        }
    }
}

/// What an open table becomes once its children are converted.
#[derive(Clone, Copy)]
enum Container {
    Array,
    /// Children alternate key, value.
    Map,
    Set,
}

impl Container {
    fn close(self, done: Vec<Reply>) -> Reply {
        match self {
            Container::Array => Reply::Array(done),
            Container::Set => Reply::Set(done),
            Container::Map => {
                let mut it = done.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Reply::Map(pairs)
            }
        }
    }
}

enum Step<V> {
    Leaf(Reply),
    Open(Container, Vec<V>),
}

/// One value at `depth`: a finished reply, or a table to open with its children in order.
fn convert_one<S: ScriptValues>(s: &mut S, v: S::V, resp3: bool, depth: usize) -> Step<S::V> {
    if depth > MAX_DEPTH {
        return Step::Leaf(Reply::Error("ERR reached lua stack limit".into()));
    }
    Step::Leaf(match s.kind(v) {
        Kind::Str(b) => Reply::Bulk(Bytes::copy_from_slice(b)),
        Kind::Bool(b) => {
            if resp3 {
                Reply::Bool(b)
            } else if b {
                Reply::Int(1)
            } else {
                Reply::Nil
            }
        }
        Kind::Number(n) => Reply::Int(lua_number_to_i64(n)),
        Kind::Table => {
            let f = s.field(v, "err");
            if let Kind::Str(_) = s.kind(f) {
                let e = extract_error(s, v);
                return Step::Leaf(Reply::Error(e.msg));
            }
            let f = s.field(v, "ok");
            if let Kind::Str(b) = s.kind(f) {
                let st: String = String::from_utf8_lossy(b).chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
                return Step::Leaf(Reply::Status(st));
            }
            let f = s.field(v, "double");
            if let Kind::Number(n) = s.kind(f) {
                return Step::Leaf(Reply::Double(n));
            }
            let f = s.field(v, "big_number");
            if let Kind::Str(b) = s.kind(f) {
                let n: String = String::from_utf8_lossy(b).chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
                return Step::Leaf(Reply::BigNumber(n));
            }
            let f = s.field(v, "verbatim_string");
            if let Kind::Table = s.kind(f) {
                let fmt = s.field(f, "format");
                let body = s.field(f, "string");
                if let (Kind::Str(fm), Kind::Str(_)) = (s.kind(fmt), s.kind(body)) {
                    let fmt = verbatim_format(fm);
                    if let Kind::Str(b) = s.kind(body) {
                        return Step::Leaf(Reply::Verbatim(fmt, Bytes::copy_from_slice(b)));
                    }
                }
            }
            let f = s.field(v, "map");
            if let Kind::Table = s.kind(f) {
                let children = s.pairs(f).into_iter().flat_map(|(k, v)| [k, v]).collect();
                return Step::Open(Container::Map, children);
            }
            let f = s.field(v, "set");
            if let Kind::Table = s.kind(f) {
                let children = s.pairs(f).into_iter().map(|(k, _)| k).collect();
                return Step::Open(Container::Set, children);
            }
            let mut children = Vec::new();
            for i in 1.. {
                let e = s.index(v, i);
                if let Kind::Nil = s.kind(e) {
                    break;
                }
                children.push(e);
            }
            return Step::Open(Container::Array, children);
        }
        Kind::Nil | Kind::Other => Reply::Nil,
    })
}

/// A verbatim string's three-letter format; anything else is sent as plain text.
fn verbatim_format(f: &[u8]) -> &'static str {
    match f {
        b"mkd" => "mkd",
        _ => "txt",
    }
}

/// `(long long)lua_number`: truncation toward zero, saturating where C is undefined.
pub fn lua_number_to_i64(n: f64) -> i64 {
    if n.is_nan() {
        i64::MIN
    } else {
        n as i64
    }
}
