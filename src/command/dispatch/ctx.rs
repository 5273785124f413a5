//! `Ctx`: what a handler may touch (the server, its own client, the other clients) and the
//! shared steps of reading and writing keys: lazy expiry, keyspace hits and misses, access
//! stamps, WATCH, client-side caching invalidation, keyspace events and propagation.

use super::*;

/// What a handler may touch: the server, its own client, and the other clients.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub client: &'a mut Client,
    pub others: &'a mut crate::client::ClientTable,
}

impl Ctx<'_> {
    pub fn now_ms(&self) -> i64 {
        self.srv.now_ms()
    }

    pub fn db(&mut self) -> &mut crate::db::Db {
        &mut self.srv.dbs[self.client.db]
    }

    /// The trailing bookkeeping of every write (Valkey's signalModifiedKey + notify +
    /// dirty++): wakes clients blocked on the key, fails WATCHes, invalidates client-side
    /// caches (tracking) and publishes keyspace notifications.
    #[inline]
    pub fn modified(&mut self, key: &[u8], event: &'static str) {
        let db = self.client.db;
        self.modified_in(db, key, event);
    }

    /// `modified` for a key of another database (MOVE, COPY ... DB).
    #[inline]
    pub fn modified_in(&mut self, db: usize, key: &[u8], event: &'static str) {
        self.srv.stats.dirty += 1;
        self.signal_modified(db, key);
        if self.srv.config.hot.notify_flags != 0 {
            self.notify(db, key, event);
        }
    }

    /// signalModifiedKey alone, without dirty++ or a notification (DEBUG POPULATE).
    #[inline]
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        // The three consumers are usually idle: test inline, call out only when not.
        if self.srv.clients.blocking.has_waiters() {
            self.srv.clients.blocking.signal(db, key);
        }
        if !self.srv.clients.watched.is_empty() {
            self.touch_watched(db, key);
        }
        if self.srv.clients.tracking.is_active() {
            self.invalidate(key);
        }
    }

    /// Tells the clients caching the key that it changed (trackingInvalidateKey).
    #[cold]
    #[inline(never)]
    pub fn invalidate(&mut self, key: &[u8]) {
        crate::command::tracking::invalidate_key(self, key, true, true);
    }

    /// Publishes a keyspace notification if its class is enabled (notifyKeyspaceEvent).
    #[cold]
    #[inline(never)]
    pub fn notify(&mut self, db: usize, key: &[u8], event: &'static str) {
        let flags = self.srv.config.hot.notify_flags;
        if flags == 0 || flags & crate::notify::class_of(event) == 0 {
            return;
        }
        let key = Bytes::copy_from_slice(key);
        let event_b = Bytes::from_static(event.as_bytes());
        if flags & crate::notify::KEYSPACE != 0 {
            let chan = Bytes::from([format!("__keyspace@{}__:", db).as_bytes(), &key[..]].concat());
            crate::commands::pubsub::publish_message(self, &chan, &event_b, false);
        }
        if flags & crate::notify::KEYEVENT != 0 {
            let chan = Bytes::from(format!("__keyevent@{}__:{}", db, event));
            crate::commands::pubsub::publish_message(self, &chan, &key, false);
        }
    }

    /// Fails the transactions of clients watching the key (touchWatchedKey). A key that had
    /// already expired when it was WATCHed and is now gone is no logical change: it only
    /// stops counting as expired.
    #[cold]
    #[inline(never)]
    pub fn touch_watched(&mut self, db: usize, key: &[u8]) {
        if self.srv.clients.watched.is_empty() {
            return;
        }
        let gone = self.srv.dbs[db].peek(key).is_none();
        for id in self.srv.clients.watched.watchers(db, key) {
            let Some(c) = self.watcher(id) else { continue };
            if gone {
                if let Some(w) = c.tx.watched.iter_mut().find(|(d, k, expired)| *expired && *d == db && k[..] == key[..]) {
                    w.2 = false;
                    continue;
                }
            }
            c.tx.dirty_cas = true;
        }
    }

    fn watcher(&mut self, id: ClientId) -> Option<&mut Client> {
        if id == self.client.id {
            Some(&mut *self.client)
        } else {
            self.others.get_mut(&id).map(|c| &mut **c)
        }
    }

    /// FLUSHDB, FLUSHALL, SWAPDB: every watched key of `db` that exists (in `db`, or in
    /// `other`, whose contents replace it, for SWAPDB) counts as touched
    /// (touchAllWatchedKeysInDb), except where nothing changed logically: a key expired when
    /// WATCHed that is now gone or still expired, or a missing key replaced by an expired one
    /// (which then counts as expired when WATCHed).
    pub fn touch_watched_db(&mut self, db: usize, other: Option<usize>) {
        if self.srv.clients.watched.is_empty() {
            return;
        }
        let now = self.now_ms();
        for key in self.srv.clients.watched.keys_in(db) {
            let in_emptied = self.srv.dbs[db].peek(&key).is_some();
            let in_replacement = other.is_some_and(|o| self.srv.dbs[o].peek(&key).is_some());
            if !in_emptied && !in_replacement {
                continue;
            }
            let replacement_expired = other.is_some_and(|o| self.srv.dbs[o].is_expired(&key, now));
            for id in self.srv.clients.watched.watchers(db, &key) {
                let Some(c) = self.watcher(id) else { continue };
                let Some(w) = c.tx.watched.iter_mut().find(|(d, k, _)| *d == db && *k == key) else { continue };
                if w.2 {
                    if !in_replacement {
                        w.2 = false;
                        continue;
                    } else if replacement_expired {
                        continue;
                    }
                } else if !in_emptied && replacement_expired {
                    w.2 = true;
                    continue;
                }
                c.tx.dirty_cas = true;
            }
        }
    }

    /// Whether a blocking command may wait (not inside MULTI or a script).
    pub fn can_block(&self) -> bool {
        !self.client.wait.deny_blocking
    }

    /// Blocks the client on `keys` until one holds a `btype` value, `deadline_ms` passes
    /// (0: never) or CLIENT UNBLOCK; returns the reply a handler gives meanwhile.
    pub fn block(&mut self, keys: &[Bytes], btype: crate::blocking::BlockType, deadline_ms: i64, argv: &[Bytes], timeout_reply: Reply) -> Reply {
        self.client.wait.blocked =
            Some(Box::new(crate::blocking::Blocked { db: self.client.db, keys: keys.to_vec(), btype, deadline_ms, argv: argv.to_vec(), timeout_reply }));
        Reply::Blocked
    }

    /// Counts a hit or miss for INFO keyspace_hits/misses.
    pub fn hit(&mut self, found: bool) {
        if found {
            self.srv.stats.keyspace_hits += 1;
        } else {
            self.srv.stats.keyspace_misses += 1;
        }
    }

    /// The access stamp a newly written key gets (LRU clock or LFU initial counter).
    pub fn lru(&self) -> u32 {
        self.srv.access_clock().initial()
    }

    /// Redis's lookupKeyRead: expires lazily, counts a hit or miss, and records the access
    /// (LRU or LFU) unless the client asked for CLIENT NO-TOUCH.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&mut crate::object::Entry> {
        let touch = !self.client.conn.no_touch;
        self.lookup(key, true, touch)
    }

    /// Redis's lookupKeyWrite: expires lazily and records the access; no hit/miss.
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&mut crate::object::Entry> {
        self.lookup(key, false, true)
    }

    /// Existence check that leaves the access clock alone (LOOKUP_NOTOUCH: TTL, TYPE, EXISTS).
    pub fn lookup_notouch(&mut self, key: &[u8]) -> Option<&mut crate::object::Entry> {
        self.lookup(key, true, false)
    }

    fn lookup(&mut self, key: &[u8], stats: bool, touch: bool) -> Option<&mut crate::object::Entry> {
        let now = self.now_ms();
        let db = self.client.db;
        let lfu = touch && self.srv.config.hot.lfu_policy;
        if lfu {
            // The LFU counter draws from the server's generator, so update it in a first pass.
            if let Some(old) = self.srv.dbs[db].get(key, now).map(|e| e.lru) {
                let new = self.srv.access_clock().touched(&mut self.srv.rng, old);
                self.srv.dbs[db].get(key, now)?.lru = new;
            }
        }
        let clock = self.srv.lru_clock();
        // Expire first (one probe of the expires dict, none when the db has no TTLs), so a
        // key this lookup expires is announced and touched before anything else.
        // While clients are paused an expired key is kept but reads as missing.
        let expired = self.srv.dbs[db].expire_if_needed(key, now);
        if expired {
            self.announce_expired(db);
        }
        // Key-miss notifications need a second look; the usual path probes once.
        if stats && self.srv.config.hot.notify_flags & crate::notify::KEY_MISS != 0 && self.key_missed(db, key, expired) {
            return None;
        }
        let e = if expired { None } else { self.srv.dbs[db].keys.get_mut(key) };
        if stats {
            match e {
                Some(_) => self.srv.stats.keyspace_hits += 1,
                None => self.srv.stats.keyspace_misses += 1,
            }
        }
        let e = e?;
        if touch && !lfu {
            e.lru = clock;
        }
        Some(e)
    }

    /// Fails watchers and notifies for keys a lookup just expired (out of the hot path).
    #[cold]
    #[inline(never)]
    fn announce_expired(&mut self, db: usize) {
        for k in std::mem::take(&mut self.srv.dbs[db].expired_log) {
            self.srv.stats.expired_keys += 1;
            self.touch_watched(db, &k);
            if self.srv.clients.tracking.is_active() {
                self.invalidate(&k);
            }
            self.notify(db, &k, "expired");
        }
    }

    /// The key-miss notification: true (after counting the miss) when the key is absent.
    #[cold]
    #[inline(never)]
    fn key_missed(&mut self, db: usize, key: &[u8], expired: bool) -> bool {
        if !expired && self.srv.dbs[db].peek(key).is_some() {
            return false;
        }
        self.srv.stats.keyspace_misses += 1;
        self.notify(db, key, "keymiss");
        true
    }

    /// A string for reading: `Ok(None)` when absent, WRONGTYPE for other types.
    pub fn read_str(&mut self, key: &[u8]) -> Result<Option<&mut crate::object::Str>> {
        match self.lookup_read(key) {
            None => Ok(None),
            Some(e) => e.value.as_str_mut(),
        }
    }

    /// A string for writing (no hit/miss counting).
    pub fn write_str(&mut self, key: &[u8]) -> Result<Option<&mut crate::object::Str>> {
        match self.lookup_write(key) {
            None => Ok(None),
            Some(e) => e.value.as_str_mut(),
        }
    }

    /// A value of one type for reading (lookupKeyRead + checkType): `Ok(None)` when absent.
    /// `get` is the type's accessor, e.g. `Value::hash`.
    pub fn read<T>(&mut self, key: &[u8], get: fn(&mut Value) -> Result<&mut T>) -> Result<Option<&mut T>> {
        self.lookup_read(key).map(|e| get(&mut e.value)).transpose()
    }

    /// The same for writing (lookupKeyWrite: no hit/miss counted).
    pub fn write<T>(&mut self, key: &[u8], get: fn(&mut Value) -> Result<&mut T>) -> Result<Option<&mut T>> {
        self.lookup_write(key).map(|e| get(&mut e.value)).transpose()
    }

    /// For commands that create their key: the existing value (type-checked) or a new empty
    /// one stored under `key`. Call it only once the arguments are validated, and pair it with
    /// `delete_if_empty` if the command may still add nothing.
    pub fn create<T>(&mut self, key: &[u8], make: fn() -> Value, get: fn(&mut Value) -> Result<&mut T>) -> Result<&mut T> {
        match self.lookup_write(key) {
            Some(e) => {
                get(&mut e.value)?;
            }
            None => self.set_key(key, make(), false),
        }
        get(&mut self.lookup_write(key).expect("just stored").value)
    }

    /// HDEL / SREM / ZREM: remove each member of `members` from the collection at `key`,
    /// stopping once it is empty, then signal and drop the emptied key as Redis does.
    /// Replies the number removed.
    pub fn remove_members<T>(
        &mut self,
        key: &[u8],
        members: &[Bytes],
        get: fn(&mut Value) -> Result<&mut T>,
        remove: fn(&mut T, &[u8]) -> bool,
        is_empty: fn(&T) -> bool,
        event: &'static str,
    ) -> Result<Reply> {
        let Some(c) = self.write(key, get)? else { return Ok(Reply::Int(0)) };
        let mut n = 0;
        for m in members {
            n += remove(c, m) as i64;
            if is_empty(c) {
                break;
            }
        }
        if n > 0 {
            self.modified(key, event);
            self.delete_if_empty(key);
        }
        Ok(Reply::Int(n))
    }

    /// Deletes `key` if a write left its collection empty (Redis never keeps empty ones).
    /// Returns whether it did.
    pub fn delete_if_empty(&mut self, key: &[u8]) -> bool {
        let db = self.db();
        if db.peek(key).is_some_and(|e| e.value.is_empty_collection()) {
            db.remove(key);
            let id = self.client.db;
            self.notify(id, key, "del");
            return true;
        }
        false
    }

    /// Stores a value as SET does: overwrites any type, drops the TTL unless `keep_ttl`.
    pub fn set_key(&mut self, key: &[u8], value: crate::object::Value, keep_ttl: bool) {
        let lru = self.lru();
        let announce_new = self.srv.config.hot.notify_flags & crate::notify::NEW != 0 && self.db().peek(key).is_none();
        self.db().set(key, value, keep_ttl, lru);
        if announce_new {
            let db = self.client.db;
            self.notify(db, key, "new");
        }
    }

    pub fn event(&mut self, e: Event) {
        self.srv.events.push(e);
    }

    /// Whether effects are being recorded (the AOF is on): handlers that would have to build
    /// a rewritten command only do so then.
    #[inline]
    pub fn propagating(&self) -> bool {
        self.srv.prop.on
    }

    /// Replay this command as `argv` instead of as sent (rewriteClientCommandVector), e.g.
    /// EXPIRE as PEXPIREAT, so the replay does not depend on when it runs.
    #[inline]
    pub fn propagate_as(&mut self, argv: impl FnOnce() -> Vec<Bytes>) {
        if self.srv.prop.on {
            self.srv.prop.frame.rewrite = Some(argv());
        }
    }

    /// Records an extra command in the running unit, in the client's database (alsoPropagate),
    /// e.g. one SREM per member SPOP took.
    #[inline]
    pub fn also_propagate(&mut self, argv: impl FnOnce() -> Vec<Bytes>) {
        if self.srv.prop.on {
            crate::server::propagate::collect_expired(self.srv);
            let db = self.client.db;
            self.srv.prop.push(db, argv());
        }
    }

    /// The command itself is not replayed: what it did was recorded otherwise (scripts, SPOP
    /// with a count, XREADGROUP).
    #[inline]
    pub fn prevent_propagation(&mut self) {
        self.srv.prop.frame.prevent = true;
    }

    /// Replayed even if it changed nothing (FLUSHALL on an empty server).
    #[inline]
    pub fn force_propagation(&mut self) {
        self.srv.prop.frame.force = crate::server::propagate::ALL;
    }

    /// Sent to the replicas even though it changed nothing (PUBLISH; never to the AOF).
    #[inline]
    pub fn force_replication(&mut self) {
        self.srv.prop.frame.force |= crate::server::propagate::REPL;
    }
}
