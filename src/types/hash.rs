//! The hash type: a listpack of field/value pairs while small, a dict past
//! hash-max-listpack-entries / hash-max-listpack-value. Redis: t_hash.c (type half).

use bytes::Bytes;

use crate::ds::dict::Dict;
use crate::ds::ele::Ele;
use crate::ds::listpack::{Listpack, LpVal, Probe};

pub type Table = Dict<Ele, Ele>;

#[derive(Clone, Debug)]
pub enum Hash {
    Listpack(Listpack),
    Table(Box<Table>),
}

/// The thresholds in force (CONFIG hash-max-listpack-*).
#[derive(Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.pairs().iter().all(|(f, v)| other.get(f).as_ref() == Some(v))
    }
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Listpack::new())
    }
}

impl Hash {
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Converts before a write whose field or value is too long for a listpack
    /// (hashTypeTryConversion), so the listpack never holds one.
    pub fn fit(&mut self, lens: impl IntoIterator<Item = usize>, lim: Limits) {
        if matches!(self, Hash::Listpack(_)) && lens.into_iter().any(|n| n > lim.value) {
            self.convert();
        }
    }

    fn convert(&mut self) {
        if let Hash::Listpack(lp) = self {
            let mut t = Table::with_capacity(lp.len() / 2);
            let mut it = lp.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                t.insert_new(f.to_vec().into(), v.to_vec().into());
            }
            *self = Hash::Table(Box::new(t));
        }
    }

    fn lp_find(lp: &Listpack, field: &[u8]) -> Option<usize> {
        lp.find(&Probe::new(field), 2)
    }

    pub fn get(&self, field: &[u8]) -> Option<Bytes> {
        self.with(field, |v| v.to_bytes())
    }

    /// Runs `f` on the value of `field` without copying it.
    pub fn with<R>(&self, field: &[u8], f: impl FnOnce(LpVal) -> R) -> Option<R> {
        match self {
            Hash::Listpack(lp) => Self::lp_find(lp, field).map(|o| f(lp.get(lp.next(o).unwrap()))),
            Hash::Table(t) => t.get(field).map(|v| f(LpVal::Str(v))),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => Self::lp_find(lp, field).is_some(),
            Hash::Table(t) => t.contains_key(field),
        }
    }

    /// Sets a field; true when it is new. Call `fit` first with the lengths involved.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: Limits) -> bool {
        match self {
            Hash::Listpack(lp) => {
                if let Some(o) = Self::lp_find(lp, field) {
                    let vo = lp.next(o).unwrap();
                    lp.replace(vo, value);
                    return false;
                }
                lp.push_back(field);
                lp.push_back(value);
                if lp.len() / 2 > lim.entries {
                    self.convert();
                }
                true
            }
            Hash::Table(t) => t.insert(field.into(), value.into()).is_none(),
        }
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match Self::lp_find(lp, field) {
                Some(o) => {
                    lp.delete(o, 2);
                    true
                }
                None => false,
            },
            Hash::Table(t) => t.remove(field).is_some(),
        }
    }

    /// Every (field, value) in storage order.
    pub fn for_each(&self, mut f: impl FnMut(LpVal, LpVal)) {
        match self {
            Hash::Listpack(lp) => {
                let mut it = lp.iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    f(k, v);
                }
            }
            Hash::Table(t) => t.iter().for_each(|(k, v)| f(LpVal::Str(k), LpVal::Str(v))),
        }
    }

    pub fn pairs(&self) -> Vec<(Bytes, Bytes)> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|k, v| out.push((k.to_bytes(), v.to_bytes())));
        out
    }

    /// The pair at dense position `i` (uniform sampling for HRANDFIELD).
    pub fn pair_at(&self, i: usize) -> (Bytes, Bytes) {
        match self {
            Hash::Listpack(lp) => {
                let o = lp.seek(2 * i as i64).unwrap();
                (lp.get(o).to_bytes(), lp.get(lp.next(o).unwrap()).to_bytes())
            }
            Hash::Table(t) => {
                let (k, v) = t.entry_at(i);
                (Bytes::copy_from_slice(k), Bytes::copy_from_slice(v))
            }
        }
    }

    /// One HSCAN step: a listpack returns everything with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(LpVal, LpVal)) -> u64 {
        match self {
            Hash::Listpack(_) => {
                self.for_each(f);
                0
            }
            Hash::Table(t) => t.scan(cursor, |k, v| f(LpVal::Str(k), LpVal::Str(v))),
        }
    }

    pub fn mem_usage(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.capacity(),
            Hash::Table(t) => t.overhead() + t.iter().map(|(k, v)| k.heap_size() + v.heap_size()).sum::<usize>(),
        }
    }
}
