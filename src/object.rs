//! Values stored under keys, with Redis's encoding names. The collection types live in
//! `types/`; this enum ties them together for the keyspace. Redis: object.c.

use bytes::Bytes;

/// Longest string Redis stores as `embstr` (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_LIMIT: usize = 44;

/// Longest string kept inside the value (`Str::Small`); sized so a `Value` stays 32 bytes.
pub const SMALL: usize = 22;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Str),
    Hash(crate::types::hash::Hash),
    List(Box<crate::types::list::List>),
    Set(crate::types::set::Set),
    ZSet(crate::types::zset::ZSet),
    Stream(Box<crate::types::stream::Stream>),
}

// Hot layout: one keyspace slot holds a Value; keep it small. (32: short strings inline, an
// intset's width inside its buffer; embstr values are boxed rather than refcounted `Bytes`,
// which cost 8 bytes a key and saved a copy on GET.)
const _: () = assert!(std::mem::size_of::<Value>() <= 32);

/// A string value. Integers are kept as machine words (Redis's `int` encoding) so INCR needs
/// no parse and a counter costs 8 bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Str {
    Int(i64),
    /// Very short strings set whole, inside the value itself (no allocation): most cached
    /// values, flags and tokens. Also Redis's `embstr`.
    Small {
        len: u8,
        buf: [u8; SMALL],
    },
    /// Short strings set whole (SET, GETSET) too long for `Small`: Redis's `embstr`, in one
    /// exact-size box (16 bytes in the value; a GET copies it into the reply).
    Emb(Box<[u8]>),
    /// Strings grown in place (APPEND, SETRANGE) or longer than 44 bytes: Redis's `raw`.
    Raw(Vec<u8>),
}

impl Str {
    /// The encoding Redis picks for a value written whole (tryObjectEncoding).
    pub fn from_bytes(b: &[u8]) -> Str {
        if b.len() <= 20 {
            if let Some(n) = crate::util::parse_i64(b) {
                return Str::Int(n);
            }
        }
        if b.len() <= SMALL {
            let mut buf = [0u8; SMALL];
            buf[..b.len()].copy_from_slice(b);
            Str::Small { len: b.len() as u8, buf }
        } else if b.len() <= EMBSTR_LIMIT {
            Str::Emb(b.into())
        } else {
            Str::Raw(b.to_vec())
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        match self {
            Str::Int(n) => Bytes::from(n.to_string()),
            Str::Small { len, buf } => Bytes::copy_from_slice(&buf[..*len as usize]),
            Str::Emb(b) => Bytes::copy_from_slice(b),
            Str::Raw(v) => Bytes::copy_from_slice(v),
        }
    }

    /// The bytes, unless the value is an integer (which has no byte form stored).
    pub fn as_slice(&self) -> Option<&[u8]> {
        match self {
            Str::Int(_) => None,
            Str::Small { len, buf } => Some(&buf[..*len as usize]),
            Str::Emb(b) => Some(b),
            Str::Raw(v) => Some(v),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => {
                let mut buf = [0u8; 20];
                crate::resp::writer::fmt_i64(*n, &mut buf).len()
            }
            Str::Small { len, .. } => *len as usize,
            Str::Emb(b) => b.len(),
            Str::Raw(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes as a mutable raw buffer (APPEND/SETRANGE convert to `raw` like Redis).
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        let v = match std::mem::replace(self, Str::Int(0)) {
            Str::Int(n) => n.to_string().into_bytes(),
            Str::Small { len, buf } => buf[..len as usize].to_vec(),
            Str::Emb(b) => b.to_vec(),
            Str::Raw(v) => v,
        };
        *self = Str::Raw(v);
        match self {
            Str::Raw(v) => v,
            _ => unreachable!(),
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Str::Int(n) => Some(*n),
            Str::Small { len, buf } => crate::util::parse_i64(&buf[..*len as usize]),
            Str::Emb(b) => crate::util::parse_i64(b),
            Str::Raw(v) => crate::util::parse_i64(v),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Small { .. } | Str::Emb(_) => "embstr",
            Str::Raw(_) => "raw",
        }
    }

    pub fn mem_usage(&self) -> usize {
        match self {
            Str::Int(_) | Str::Small { .. } => 0,
            Str::Emb(b) => b.len(),
            Str::Raw(v) => v.capacity(),
        }
    }
}

/// `Value::hash(v)` etc.: the typed value inside, or WRONGTYPE (every command's type check).
macro_rules! typed {
    ($($get:ident: $variant:ident($t:ty)),* $(,)?) => {
        impl Value {
            $(pub fn $get(&mut self) -> crate::error::Result<&mut $t> {
                match self {
                    Value::$variant(x) => Ok(x),
                    #[allow(unreachable_patterns)]
                    _ => Err(crate::error::Error::WrongType),
                }
            })*
        }
    };
}

typed!(hash: Hash(crate::types::hash::Hash), list: List(Box<crate::types::list::List>), set: Set(crate::types::set::Set), zset: ZSet(crate::types::zset::ZSet), stream: Stream(Box<crate::types::stream::Stream>));

impl Value {
    /// The string inside, or WRONGTYPE: every string command's type check.
    pub fn as_str_mut(&mut self) -> crate::error::Result<Option<&mut Str>> {
        match self {
            Value::Str(s) => Ok(Some(s)),
            _ => Err(crate::error::Error::WrongType),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::List(_) => "quicklist",
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// An emptied collection is deleted at once (Redis never keeps empty ones).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::Hash(h) => h.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            // Streams outlive their entries: groups and the last ID are state (as in Redis).
            Value::Stream(_) => false,
        }
    }

    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<Value>()
            + match self {
                Value::Str(s) => s.mem_usage(),
                Value::Hash(h) => h.mem_usage(),
                Value::List(l) => l.mem_usage(),
                Value::Set(s) => s.mem_usage(),
                Value::ZSet(z) => z.mem_usage(),
                Value::Stream(s) => s.mem_usage(),
            }
    }
}

/// What the keyspace stores per key: the value plus its access clock for OBJECT IDLETIME
/// and LRU eviction (seconds since the engine started, as Redis's 24-bit LRU clock).
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    pub lru: u32,
}
