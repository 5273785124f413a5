//! One database: the main dict (key → entry) and the expires dict (key → unix ms deadline).
//! Lookups expire lazily, so a key past its deadline is never seen, even before the active
//! cycle reaches it. Redis: db.c (lookupKey*, dbAdd, dbOverwrite, setKey, dbDelete).

use bytes::Bytes;

use super::key::Key;
use crate::ds::dict::Dict;
use crate::error::{Error, Result};
use crate::object::{Entry, Str, Value};

pub struct Db {
    pub id: usize,
    pub(crate) keys: Dict<Key, Entry>,
    pub(crate) expires: Dict<Key, i64>,
    /// Running estimate of the average TTL of keys sampled by the active cycle (INFO keyspace).
    pub avg_ttl: i64,
    /// How many keys of this db clients WATCH.
    pub watched: usize,
    /// Keys deleted on expiry since dispatch last looked: their watchers' transactions fail
    /// and `expired` notifications go out (the Db cannot reach either itself).
    pub expired_log: Vec<Bytes>,
    /// Keys deleted on expiry that the AOF has not heard of yet; None while nothing
    /// propagates (see `propagate::collect_expired`).
    pub expired_dels: Option<Vec<Bytes>>,
    /// Loading a dataset (an AOF replay): nothing expires until it is all in, as in Redis,
    /// so a command that follows a key's deadline in the file still finds the key.
    pub loading: bool,
    /// CLIENT PAUSE in force until this Unix ms (0: none). Redis keeps the dataset constant
    /// while clients are paused: an expired key reads as missing but is not deleted until
    /// the pause ends (expireIfNeeded's checkClientPauseTimeoutAndReturnIfPaused).
    pub paused_until: i64,
}

impl Db {
    pub fn new(id: usize, seed: u64) -> Db {
        Db {
            id,
            keys: Dict::with_seed(seed),
            expires: Dict::with_seed(seed ^ 0x5bd1e995),
            avg_ttl: 0,
            watched: 0,
            expired_log: Vec::new(),
            expired_dels: None,
            loading: false,
            paused_until: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// Deletes the key if its deadline passed; true when it did (the caller notifies `expired`)
    /// or, while clients are paused, when the key is expired but kept (nothing to notify).
    #[inline]
    pub fn expire_if_needed(&mut self, key: &[u8], now_ms: i64) -> bool {
        // Most keyspaces of counters and caches have no TTLs: skip the second hash probe.
        if self.expires.is_empty() || self.loading {
            return false;
        }
        match self.expires.get(key) {
            Some(&when) if when <= now_ms => {
                if now_ms < self.paused_until {
                    return true;
                }
                self.remove(key);
                self.expired_log.push(Bytes::copy_from_slice(key));
                if let Some(dels) = self.expired_dels.as_mut() {
                    dels.push(Bytes::copy_from_slice(key));
                }
                true
            }
            _ => false,
        }
    }

    /// Existence without touching the access clock.
    pub fn exists(&mut self, key: &[u8], now_ms: i64) -> bool {
        !self.expire_if_needed(key, now_ms) && self.keys.contains_key(key)
    }

    pub fn get(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now_ms) {
            return None;
        }
        self.keys.get_mut(key)
    }

    /// A string value, or WRONGTYPE, or None when absent.
    pub fn get_str(&mut self, key: &[u8], now_ms: i64) -> Result<Option<&mut Str>> {
        match self.get(key, now_ms) {
            None => Ok(None),
            Some(Entry { value: Value::Str(s), .. }) => Ok(Some(s)),
            #[allow(unreachable_patterns)]
            Some(_) => Err(Error::WrongType),
        }
    }

    /// Adds or overwrites, dropping any TTL unless `keep_ttl` (Redis setKey semantics).
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, lru: u32) {
        if let Some(e) = self.keys.get_mut(key) {
            e.value = value;
            e.lru = lru;
            if !keep_ttl {
                self.expires.remove(key);
            }
        } else {
            self.keys.insert_new(Key::new(key), Entry { value, lru });
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let e = self.keys.remove(key)?;
        self.expires.remove(key);
        Some(e.value)
    }

    pub fn get_expire(&self, key: &[u8]) -> Option<i64> {
        self.expires.get(key).copied()
    }

    /// Sets the deadline of an existing key.
    pub fn set_expire(&mut self, key: &[u8], when_ms: i64) {
        if let Some(w) = self.expires.get_mut(key) {
            *w = when_ms;
        } else if let Some((k, _)) = self.keys.get_key_value(key) {
            let k = k.clone();
            self.expires.insert_new(k, when_ms);
        }
    }

    pub fn persist(&mut self, key: &[u8]) -> bool {
        self.expires.remove(key).is_some()
    }

    /// Empties the database and hands back what it held (emptyDbAsync), to be freed
    /// elsewhere: the keys with their values, the deadlines, and the number of keys.
    pub fn take_all(&mut self) -> (Dict<Key, Entry>, Dict<Key, i64>, usize) {
        let n = self.keys.len();
        let (k, e) = (self.keys.empty_like(), self.expires.empty_like());
        let keys = std::mem::replace(&mut self.keys, k);
        let expires = std::mem::replace(&mut self.expires, e);
        self.avg_ttl = 0;
        (keys, expires, n)
    }

    pub fn clear(&mut self) -> usize {
        let n = self.keys.len();
        self.keys.clear();
        self.expires.clear();
        self.avg_ttl = 0;
        n
    }

    /// Moves out the entry with its TTL (RENAME, MOVE).
    pub fn take(&mut self, key: &[u8]) -> Option<(Entry, Option<i64>)> {
        let (_, e) = self.keys.remove_entry(key)?;
        let ttl = self.expires.remove(key);
        Some((e, ttl))
    }

    pub fn put(&mut self, key: Bytes, entry: Entry, expire: Option<i64>) {
        self.keys.remove(&key[..]);
        self.expires.remove(&key[..]);
        let key = Key::new(&key);
        if let Some(w) = expire {
            self.expires.insert_new(key.clone(), w);
        }
        self.keys.insert_new(key, entry);
    }

    /// A uniformly random live key, skipping (and deleting) expired ones; Redis gives up and
    /// returns an expired key after many tries when every key is volatile and expired.
    pub fn random_key(&mut self, rng: &mut crate::util::Rng, now_ms: i64) -> Option<Bytes> {
        for _ in 0..100 {
            if self.keys.is_empty() {
                return None;
            }
            let i = rng.below(self.keys.len() as u64) as usize;
            let k = Bytes::copy_from_slice(self.keys.entry_at(i).0);
            if !self.expire_if_needed(&k, now_ms) {
                return Some(k);
            }
        }
        None
    }

    /// An entry without expiring it (callers that already ran expire_if_needed).
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.keys.get(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.keys.iter().map(|(k, e)| (k.as_slice(), e))
    }

    pub fn is_expired(&self, key: &[u8], now_ms: i64) -> bool {
        matches!(self.expires.get(key), Some(&w) if w <= now_ms)
    }

    /// One SCAN step over the keyspace (see `Dict::scan` for the guarantee).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &Entry)) -> u64 {
        self.keys.scan(cursor, |k, e| f(k, e))
    }

    /// Slot memory kept for reuse by both dicts (not counted against maxmemory).
    pub fn spare_bytes(&self) -> usize {
        self.keys.spare_bytes() + self.expires.spare_bytes()
    }

    /// The tick's resize: give back the unused half of big dicts.
    pub fn shrink_if_sparse(&mut self) {
        self.keys.shrink_if_sparse();
        self.expires.shrink_if_sparse();
    }

    /// Gives back the dicts' unused slab now (over maxmemory after evicting).
    pub fn shrink_spare(&mut self) {
        self.keys.shrink_spare();
        self.expires.shrink_spare();
    }

    pub fn mem_usage(&self) -> usize {
        self.keys.overhead() + self.expires.overhead()
    }
}
