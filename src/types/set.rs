//! The set type: an intset while every member is an integer and there are at most
//! set-max-intset-entries of them, a dict otherwise (Redis 7.0 has no listpack sets).
//! Redis: t_set.c (type half).

use bytes::Bytes;

use crate::ds::dict::Dict;
use crate::ds::ele::Ele;
use crate::ds::intset::IntSet;
use crate::ds::listpack::LpVal;
use crate::util::parse_i64;

pub type Table = Dict<Ele, ()>;

#[derive(Clone, Debug)]
pub enum Set {
    Intset(IntSet),
    Table(Box<Table>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(IntSet::new())
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.members().iter().all(|m| other.contains(m))
    }
}

impl Set {
    /// An empty set of the encoding `first` would start (setTypeCreate).
    pub fn for_member(first: &[u8]) -> Set {
        if parse_i64(first).is_some() {
            Set::default()
        } else {
            Set::Table(Box::default())
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Intset(s) => s.len(),
            Set::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    fn convert(&mut self) {
        if let Set::Intset(s) = self {
            let mut t = Table::with_capacity(s.len() + 1);
            for v in s.iter() {
                t.insert_new(v.to_string().into_bytes().into(), ());
            }
            *self = Set::Table(Box::new(t));
        }
    }

    /// Adds a member; true if it is new. `max_intset` is set-max-intset-entries.
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        if let Set::Intset(s) = self {
            match parse_i64(m) {
                Some(v) => {
                    let added = s.insert(v);
                    if added && s.len() > max_intset {
                        self.convert();
                    }
                    return added;
                }
                None => self.convert(),
            }
        }
        match self {
            Set::Table(t) => {
                if t.contains_key(m) {
                    false
                } else {
                    t.insert_new(m.into(), ());
                    true
                }
            }
            Set::Intset(_) => unreachable!("converted above"),
        }
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Intset(s) => parse_i64(m).is_some_and(|v| s.remove(v)),
            Set::Table(t) => t.remove(m).is_some(),
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Intset(s) => parse_i64(m).is_some_and(|v| s.contains(v)),
            Set::Table(t) => t.contains_key(m),
        }
    }

    pub fn for_each(&self, mut f: impl FnMut(LpVal)) {
        match self {
            Set::Intset(s) => s.iter().for_each(|v| f(LpVal::Int(v))),
            Set::Table(t) => t.keys().for_each(|k| f(LpVal::Str(k))),
        }
    }

    pub fn members(&self) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|v| out.push(v.to_bytes()));
        out
    }

    /// The member at dense position `i`, in place.
    pub fn val_at(&self, i: usize) -> LpVal<'_> {
        match self {
            Set::Intset(s) => LpVal::Int(s.get(i)),
            Set::Table(t) => LpVal::Str(t.entry_at(i).0),
        }
    }

    /// The member at dense position `i` (uniform sampling).
    pub fn member_at(&self, i: usize) -> Bytes {
        match self {
            Set::Intset(s) => Bytes::from(s.get(i).to_string()),
            Set::Table(t) => Bytes::copy_from_slice(t.entry_at(i).0),
        }
    }

    /// One SSCAN step; an intset returns everything with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(LpVal)) -> u64 {
        match self {
            Set::Intset(_) => {
                self.for_each(f);
                0
            }
            Set::Table(t) => t.scan(cursor, |k, _| f(LpVal::Str(k))),
        }
    }

    pub fn mem_usage(&self) -> usize {
        match self {
            Set::Intset(s) => s.bytes(),
            Set::Table(t) => t.overhead() + t.keys().map(|k| k.heap_size()).sum::<usize>(),
        }
    }
}
