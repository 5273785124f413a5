//! The reply every command produces: one enum that covers RESP3, written down to RESP2 by
//! `resp::writer` exactly as Redis downgrades (map → flat array, double → bulk, ...).
//! Redis: networking.c addReply* family.

use bytes::Bytes;

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`: status replies; never contain CR/LF.
    Simple(&'static str),
    /// A status built at run time (e.g. TYPE's type name is static, but CLIENT INFO's is not).
    Status(String),
    /// A full error line without the leading `-` (e.g. `ERR syntax error`).
    Error(String),
    Int(i64),
    Bulk(Bytes),
    /// The nil bulk (`$-1` in RESP2, `_` in RESP3).
    Nil,
    /// The nil multibulk (`*-1` in RESP2, `_` in RESP3): BLPOP timeouts, EXEC aborted by WATCH.
    NilArray,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(f64),
    /// A double promoted to long double and printed in human form (`%.17Lf`, trailing zeros
    /// trimmed): addReplyHumanLongDouble, a bulk in RESP2 and a `,` double in RESP3 (GEOPOS
    /// coordinates print `13.36138933897018433`, not `%.17g`'s `13.361389338970184`).
    HumanDouble(f64),
    Bool(bool),
    BigNumber(String),
    /// `=` in RESP3 with a three-letter format (`txt`, `mkd`); a bulk in RESP2.
    Verbatim(&'static str, Bytes),
    Push(Vec<Reply>),
    /// Several replies from one command, written one after another (SUBSCRIBE a b c
    /// confirms each channel separately).
    Multi(Vec<Reply>),
    /// A reply already encoded as RESP in the client's protocol (`reply_stream`), for a
    /// client whose host writes RESP bytes; never made for scripts or the wasm calls.
    Raw(Bytes),
    /// No reply now: the command blocked its client (see `blocking`); the reply comes later
    /// through the client's outbox. Never written to the wire.
    Blocked,
}

pub const OK: Reply = Reply::Simple("OK");
pub const ZERO: Reply = Reply::Int(0);
pub const ONE: Reply = Reply::Int(1);

impl Reply {
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }
    pub fn bulk_str(s: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }
    pub fn from_bool(b: bool) -> Reply {
        Reply::Int(b as i64)
    }
    pub fn opt_bulk(b: Option<impl Into<Bytes>>) -> Reply {
        match b {
            Some(b) => Reply::Bulk(b.into()),
            None => Reply::Nil,
        }
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}
