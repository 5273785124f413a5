//! Transactions' shared state: which clients WATCH which keys, so a write (or expiry,
//! FLUSHDB, SWAPDB) to a watched key marks those clients' transactions to fail at EXEC.
//! The per-client half (queued commands, flags) lives on `Client`. Redis: multi.c.

use bytes::Bytes;
use hashbrown::HashMap;

use crate::client::ClientId;

#[derive(Debug, Default)]
pub struct WatchedKeys {
    keys: HashMap<(usize, Bytes), Vec<ClientId>>,
}

impl WatchedKeys {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds a watcher: (whether the client is new to the key, whether the key is new).
    pub fn watch(&mut self, id: ClientId, db: usize, key: &Bytes) -> (bool, bool) {
        let v = self.keys.entry((db, key.clone())).or_default();
        if v.contains(&id) {
            return (false, false);
        }
        v.push(id);
        (true, v.len() == 1)
    }

    /// Removes a watcher; true when no client watches the key any more.
    pub fn unwatch(&mut self, id: ClientId, db: usize, key: &Bytes) -> bool {
        let slot = (db, key.clone());
        if let Some(v) = self.keys.get_mut(&slot) {
            v.retain(|&c| c != id);
            if v.is_empty() {
                self.keys.remove(&slot);
                return true;
            }
        }
        false
    }

    /// The clients watching a key.
    pub fn watchers(&self, db: usize, key: &[u8]) -> Vec<ClientId> {
        if self.keys.is_empty() {
            return vec![];
        }
        self.keys.get(&(db, Bytes::copy_from_slice(key))).cloned().unwrap_or_default()
    }

    /// Every watched key of a database.
    pub fn keys_in(&self, db: usize) -> Vec<Bytes> {
        self.keys.keys().filter(|(d, _)| *d == db).map(|(_, k)| k.clone()).collect()
    }
}
