//! Dispatch: Redis's processCommand + call(). Lookup, arity, authentication, then the
//! handler, then the bookkeeping every command shares (stats, CLIENT REPLY modes). MULTI/EXEC
//! and scripts (later issues) call `call()` re-entrantly with the same `Ctx`.

use bytes::Bytes;
use hashbrown::HashMap;

use super::spec::{flags, CommandSpec};
use super::table::table;
use crate::blocking::BlockType;
use crate::client::{Client, ClientId, ReplyMode};
use crate::engine::{Engine, Outcome};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::object::Value;
use crate::reply::Reply;
use crate::server::Server;

/// What a handler may touch: the server, its own client, and the other clients.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub client: &'a mut Client,
    pub others: &'a mut HashMap<ClientId, Box<Client>>,
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
        crate::tracking::invalidate_key(self, key, true, true);
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
                if let Some(w) = c.watched.iter_mut().find(|(d, k, expired)| *expired && *d == db && k[..] == key[..]) {
                    w.2 = false;
                    continue;
                }
            }
            c.dirty_cas = true;
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
                let Some(w) = c.watched.iter_mut().find(|(d, k, _)| *d == db && *k == key) else { continue };
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
                c.dirty_cas = true;
            }
        }
    }

    /// Whether a blocking command may wait (not inside MULTI or a script).
    pub fn can_block(&self) -> bool {
        !self.client.deny_blocking
    }

    /// Blocks the client on `keys` until one holds a `btype` value, `deadline_ms` passes
    /// (0: never) or CLIENT UNBLOCK; returns the reply a handler gives meanwhile.
    pub fn block(&mut self, keys: &[Bytes], btype: crate::blocking::BlockType, deadline_ms: i64, argv: &[Bytes], timeout_reply: Reply) -> Reply {
        self.client.blocked =
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
        let touch = !self.client.no_touch;
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

pub fn execute(engine: &mut Engine, id: ClientId, argv: &[Bytes], now_us: i64) -> Outcome {
    let mut reply = None;
    let mut one = Some(argv);
    let close = execute_batch(engine, id, || one.take(), now_us, |r, _| reply = Some(r));
    // A blocked client gets its reply later (`take_replies`); say so rather than nothing.
    if reply.is_none() && engine.is_blocked(id) {
        reply = Some(Reply::Blocked);
    }
    Outcome { reply, close }
}

/// Runs a pipelined batch for one client, handing each reply to `emit` with whether the
/// client speaks RESP3 at that point (HELLO can switch mid-batch). The session is taken out
/// of the client table once per batch, not once per command. Stops after a command that
/// closes the connection (QUIT, CLIENT KILL of itself); returns whether it did.
/// Commands are pulled from `next` one at a time, and none after one that blocks the
/// client: what the caller has not handed over is what waits behind the blocked one.
pub fn execute_batch<A: AsRef<[Bytes]>>(
    engine: &mut Engine,
    id: ClientId,
    mut next: impl FnMut() -> Option<A>,
    now_us: i64,
    mut emit: impl FnMut(Reply, bool),
) -> bool {
    engine.srv.clock.now_us = now_us;
    if let Some(clock) = engine.srv.host.clock {
        engine.srv.clock.mark = clock();
    }
    let Some(mut client) = engine.clients.remove(&id) else {
        emit(Reply::Error("ERR unknown client".into()), false);
        return true;
    };
    // A panic outside any handler (handlers' own are contained in `call`) leaves the batch's
    // bookkeeping half done: the client goes back into the table whatever happened, gets an
    // error, and its connection closes, so the host's disconnect frees its waits, WATCHes and
    // subscriptions. The engine keeps serving everyone else.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_batch(engine, &mut client, &mut next, now_us, &mut emit)));
    let close = match ran {
        Ok(close) => close,
        Err(payload) => {
            client.close_asap = true;
            emit(Reply::Error(Error::Internal { cmd: "batch".into(), why: crate::panic::message(&*payload) }.to_string()), client.resp == 3);
            true
        }
    };
    engine.clients.insert(id, client);
    close
}

/// `execute_batch`'s work with the client out of the table.
fn run_batch<A: AsRef<[Bytes]>>(
    engine: &mut Engine,
    client: &mut Box<Client>,
    next: &mut impl FnMut() -> Option<A>,
    now_us: i64,
    emit: &mut impl FnMut(Reply, bool),
) -> bool {
    let id = client.id;
    client.last_interaction_ms = now_us / 1000;
    let mut close = false;
    while let Some(argv) = next() {
        let argv = argv.as_ref();
        let reply = {
            let mut ctx = Ctx { srv: &mut engine.srv, client, others: &mut engine.clients };
            if ctx.srv.clients.tracking.clients > 0 {
                crate::tracking::limit_used_slots(&mut ctx);
            }
            call_client(&mut ctx, argv)
        };
        #[cfg(debug_assertions)]
        crate::panic::test_point();
        if engine.srv.clients.blocking.has_ready() {
            serve_ready(engine);
        }
        // Messages this client published to itself (RESP3) go out before the reply, as in
        // Redis, where they are queued during the command.
        if !client.outbox.is_empty() && !matches!(reply, Reply::Blocked) {
            let resp3 = client.resp == 3;
            for r in client.outbox.drain(..) {
                emit(r, resp3);
            }
            client.outbox_bytes = 0;
            client.over_soft_since = None;
        }
        if !engine.srv.clients.paused.is_empty() && engine.srv.clients.pause.is_none() {
            resume_paused(engine);
        }
        if matches!(reply, Reply::Blocked) {
            // Nothing more runs for this client until its wait ends.
            let b = client.blocked.as_ref().expect("a blocking reply blocks the client");
            if b.btype == BlockType::Pause {
                engine.srv.clients.paused.push(id);
            } else if b.btype == BlockType::Host {
                // The host answers after acting on the event.
            } else {
                engine.srv.clients.blocking.add(id, b);
            }
            if engine.srv.clients.tracking.has_pending() {
                flush_pending_invalidations(engine, client);
            }
            break;
        }
        // CLIENT REPLY: OFF swallows everything; SKIP swallows the next command's reply only.
        // Pub/sub confirmations are pushes, which Redis sends even then (CLIENT_PUSHING).
        let pushing = matches!(reply, Reply::Push(_) | Reply::Multi(_));
        match client.reply_mode {
            ReplyMode::On => emit(reply, client.resp == 3),
            _ if pushing => emit(reply, client.resp == 3),
            ReplyMode::Off => {}
            ReplyMode::Skip => client.reply_mode = ReplyMode::SkipNext,
            ReplyMode::SkipNext => client.reply_mode = ReplyMode::On,
        }
        // Invalidations of keys this client tracks and just wrote follow its reply.
        if engine.srv.clients.tracking.has_pending() {
            flush_pending_invalidations(engine, client);
            let resp3 = client.resp == 3;
            for r in client.outbox.drain(..) {
                emit(r, resp3);
            }
            client.outbox_bytes = 0;
        }
        // CLIENT CACHING applies to the next command (or transaction) only.
        if client.tracking.as_ref().is_some_and(|t| t.caching) && client.multi.is_none() && !argv[0].eq_ignore_ascii_case(b"client") {
            client.tracking.as_mut().expect("checked").caching = false;
        }
        if client.close_asap {
            close = true;
            break;
        }
    }
    if engine.srv.prop.on {
        crate::server::propagate::flush_expired(&mut engine.srv);
    }
    // A pass that ran out of time goes on between batches (Redis's eviction timer).
    if engine.srv.memory.evict.running {
        engine.evict_now();
    }
    // Client eviction after each batch, this client included (it may be the one to go).
    if engine.srv.config.hot.client_limit > 0 && engine.evict_clients(Some(client)) {
        client.close_asap = true;
        close = true;
    }
    // Expiries no lookup announced (EXISTS-style probes) in the client's database: once per
    // batch; lookups announce their own, and `tick` sweeps every database (MOVE, COPY ... DB).
    if !engine.srv.dbs[client.db].expired_log.is_empty() {
        touch_expired(engine, client);
    }
    if engine.srv.clients.tracking.has_pending() {
        flush_pending_invalidations(engine, client);
    }
    // BCAST invalidations go out once per batch, as Redis sends them once per event loop.
    if engine.srv.clients.tracking.clients > 0 {
        broadcast_invalidations(engine, client);
    }
    // What those queued for this client goes out now (or with its wake-up, if it waits).
    if !client.outbox.is_empty() {
        if client.blocked.is_some() {
            engine.srv.events.push(Event::Deliver(id));
        } else {
            let resp3 = client.resp == 3;
            for r in client.outbox.drain(..) {
                emit(r, resp3);
            }
            client.outbox_bytes = 0;
        }
    }
    close
}

/// Sends the invalidations that wait for `current`'s reply into the outboxes.
fn flush_pending_invalidations(engine: &mut Engine, current: &mut Client) {
    let mut ctx = Ctx { srv: &mut engine.srv, client: current, others: &mut engine.clients };
    crate::tracking::flush_pending(&mut ctx);
}

/// Keeps the tracking table within tracking-table-max-keys (from `tick`).
pub fn limit_tracking_table(engine: &mut Engine, current: &mut Client) {
    let mut ctx = Ctx { srv: &mut engine.srv, client: current, others: &mut engine.clients };
    crate::tracking::limit_used_slots(&mut ctx);
}

/// Broadcasts the keys written under BCAST prefixes since the last time (`current` is the
/// client whose batch just ran, or a placeholder in `tick`).
pub fn broadcast_invalidations(engine: &mut Engine, current: &mut Client) {
    let mut ctx = Ctx { srv: &mut engine.srv, client: current, others: &mut engine.clients };
    crate::tracking::broadcast(&mut ctx);
}

/// Keys that expired (lazily or in the active cycle) count in INFO's expired_keys, fail their
/// watchers' transactions and raise `expired` notifications, as Redis does when it deletes a
/// key on expiry.
pub fn touch_expired(engine: &mut Engine, current: &mut Client) {
    for db in 0..engine.srv.dbs.len() {
        if engine.srv.dbs[db].expired_log.is_empty() {
            continue;
        }
        for key in std::mem::take(&mut engine.srv.dbs[db].expired_log) {
            engine.srv.stats.expired_keys += 1;
            let mut ctx = Ctx { srv: &mut engine.srv, client: &mut *current, others: &mut engine.clients };
            ctx.touch_watched(db, &key);
            if ctx.srv.clients.tracking.is_active() {
                ctx.invalidate(&key);
            }
            ctx.notify(db, &key, "expired");
        }
    }
}

/// Tells about keys eviction deleted: their watchers' transactions fail, tracking clients
/// hear they changed, and the `evicted` event goes out; their DELs reach the AOF as their
/// own unit, before the command that made room (propagateDeletion).
pub fn announce_evicted(ctx: &mut Ctx) {
    for (db, key) in std::mem::take(&mut ctx.srv.memory.evict.log) {
        ctx.touch_watched(db, &key);
        if ctx.srv.clients.tracking.is_active() {
            ctx.invalidate(&key);
        }
        ctx.notify(db, &key, "evicted");
    }
    if ctx.srv.prop.on && ctx.srv.prop.depth <= 1 {
        crate::server::propagate::flush_expired(ctx.srv);
    }
}

/// Once CLIENT PAUSE has ended (UNPAUSE or its timeout), runs the held-back commands in the
/// order they arrived; each client gets its reply and an `Event::Unblocked`.
pub fn resume_paused(engine: &mut Engine) {
    if engine.srv.clients.pause.is_some() || engine.srv.clients.paused.is_empty() {
        return;
    }
    for id in std::mem::take(&mut engine.srv.clients.paused) {
        let Some(mut c) = engine.clients.remove(&id) else { continue };
        let Some(b) = c.blocked.take() else {
            engine.clients.insert(id, c);
            continue;
        };
        let reply = {
            let mut ctx = Ctx { srv: &mut engine.srv, client: &mut c, others: &mut engine.clients };
            call(&mut ctx, &b.argv)
        };
        if matches!(reply, Reply::Blocked) {
            // Paused again, or now waiting on keys: register the new wait.
            let nb = c.blocked.as_ref().expect("blocked");
            if nb.btype == BlockType::Pause {
                engine.srv.clients.paused.push(id);
            } else if nb.btype == BlockType::Host {
                // The host answers after acting on the event.
            } else {
                engine.srv.clients.blocking.add(id, nb);
            }
        } else {
            c.outbox.push(reply);
            if engine.srv.clients.tracking.has_pending() {
                flush_pending_invalidations(engine, &mut c);
            }
            engine.srv.events.push(Event::Unblocked(id));
        }
        engine.clients.insert(id, c);
    }
    if engine.srv.clients.blocking.has_ready() {
        serve_ready(engine);
    }
}

/// Re-runs the commands of clients blocked on keys that were written (Redis's
/// handleClientsBlockedOnKeys), first come first served per key. A client whose command now
/// completes leaves its queues; one that would block again keeps its place.
fn serve_ready(engine: &mut Engine) {
    while let Some(((db, key), ids)) = engine.srv.clients.blocking.next_ready() {
        for id in ids {
            // A killed client is gone already (Redis frees it at once): it takes nothing,
            // which would be lost with its connection.
            let servable = engine.clients.get(&id).filter(|c| !c.close_asap).and_then(|c| c.blocked.as_ref()).map(|b| b.btype);
            let Some(btype) = servable else { continue };
            // Only a value of the awaited type can serve (a SET on the key does not).
            let holds_type = engine.srv.dbs[db].peek(&key).is_some_and(|e| btype.value_type() == Some(e.value.type_name()));
            if !holds_type {
                if btype == crate::blocking::BlockType::Stream {
                    // A consumer-group read can never be served once its stream is gone.
                    crate::commands::stream::unblock_deleted_readgroup(engine, id);
                    continue;
                }
                break;
            }
            let mut c = engine.clients.remove(&id).expect("looked up");
            let b = c.blocked.take().expect("blocked");
            if btype == crate::blocking::BlockType::Stream {
                c.unblocked_on = Some(key.clone());
            }
            let reply = {
                let mut ctx = Ctx { srv: &mut engine.srv, client: &mut c, others: &mut engine.clients };
                call(&mut ctx, &b.argv)
            };
            c.unblocked_on = None;
            if matches!(reply, Reply::Blocked) {
                c.blocked = Some(b);
            } else {
                engine.srv.clients.blocking.remove(id, &b);
                c.outbox.push(reply);
                if engine.srv.clients.tracking.has_pending() {
                    flush_pending_invalidations(engine, &mut c);
                }
                engine.srv.events.push(Event::Unblocked(id));
            }
            engine.clients.insert(id, c);
        }
    }
}

/// Resolves argv to (command, subcommand) specs or the error Redis gives.
pub fn resolve(argv: &[Bytes]) -> Result<(&'static CommandSpec, Option<&'static CommandSpec>)> {
    resolve_with_id(argv).map(|(top, sub, _)| (top, sub))
}

/// `resolve`, plus the stat id of what runs (see `Table::names`).
fn resolve_with_id(argv: &[Bytes]) -> Result<(&'static CommandSpec, Option<&'static CommandSpec>, usize)> {
    resolve_or_reject(argv).map_err(|(e, _)| e)
}

/// `resolve_with_id`, with the stat id of a known command its error refers to (an arity
/// error is a rejected call of that command in commandstats).
pub(crate) fn resolve_or_reject(argv: &[Bytes]) -> std::result::Result<(&'static CommandSpec, Option<&'static CommandSpec>, usize), (Error, Option<usize>)> {
    let (spec, id) = table().lookup_with_id(&argv[0]).ok_or_else(|| (Error::unknown_command(argv), None))?;
    let id = id as usize;
    if spec.subcommands.is_empty() {
        if !spec.arity_ok(argv.len()) {
            return Err((Error::WrongArity(super::args::lower(&argv[0])), Some(id)));
        }
        return Ok((spec, None, id));
    }
    if argv.len() < 2 {
        if spec.handler.is_some() && spec.arity_ok(argv.len()) {
            return Ok((spec, None, id));
        }
        return Err((Error::WrongArity(super::args::lower(&argv[0])), Some(id)));
    }
    let pos =
        spec.subcommands.iter().position(|s| s.name.as_bytes().eq_ignore_ascii_case(&argv[1])).ok_or_else(|| {
            (Error::UnknownSubcommand { sub: crate::error::clip(&argv[1]), cmd: String::from_utf8_lossy(&argv[0]).to_ascii_uppercase() }, None)
        })?;
    let sub = &spec.subcommands[pos];
    if !sub.arity_ok(argv.len()) {
        return Err((Error::WrongArity(format!("{}|{}", spec.name, sub.name)), Some(id + 1 + pos)));
    }
    Ok((spec, Some(sub), id + 1 + pos))
}

/// The statistics slot of a command id, growing the table on first use.
#[inline]
fn stat<'a>(ctx: &'a mut Ctx, id: usize) -> &'a mut crate::server::CommandStat {
    if ctx.srv.stats.commands.len() <= id {
        grow_stats(&mut ctx.srv.stats.commands, id);
    }
    &mut ctx.srv.stats.commands[id]
}

#[cold]
#[inline(never)]
fn grow_stats(v: &mut Vec<crate::server::CommandStat>, id: usize) {
    v.resize(table().names.len().max(id + 1), Default::default());
}

/// Runs one command through the shared path. Errors become error replies here, once, and
/// are counted here (INFO errorstats), including those of commands inside EXEC.
/// A command as a client sent it: under the names `rename-command` gave (see `rename`),
/// then `call`. A name renamed away is an unknown command, refused as one (counted, and
/// dooming an open transaction).
pub(crate) fn call_client(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    if ctx.srv.renames.is_empty() {
        return call(ctx, argv);
    }
    match ctx.srv.renames.translate(argv) {
        Ok(None) => call(ctx, argv),
        Ok(Some(renamed)) => call(ctx, &renamed),
        Err(e) => {
            if ctx.client.multi.is_some() {
                ctx.client.multi_error = true;
            }
            let reply = Reply::Error(e.to_string());
            count_error(ctx, &reply);
            reply
        }
    }
}

pub fn call(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    let reply = if ctx.srv.prop.on { call_propagating(ctx, argv) } else { call_inner(ctx, argv) };
    if std::mem::take(&mut ctx.srv.stats.error_counted) {
        return reply;
    }
    count_error(ctx, &reply);
    reply
}

/// An error reply in INFO's errorstats and total_error_replies.
fn count_error(ctx: &mut Ctx, reply: &Reply) {
    if let Reply::Error(e) = reply {
        ctx.srv.stats.total_error_replies += 1;
        let kind = e.split(' ').next().unwrap_or("ERR");
        match ctx.srv.stats.errors.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                ctx.srv.stats.errors.insert(kind.to_string(), 1);
            }
        }
    }
}

/// A command a script tried to run was refused before running (scriptCall's error path:
/// afterErrorReply and ERROR_COMMAND_REJECTED): the error counts in errorstats and the
/// command's rejected calls; the script's own error reply is then not counted again.
pub fn count_script_refusal(ctx: &mut Ctx, argv: &[Bytes], err: &str) {
    ctx.srv.stats.total_error_replies += 1;
    let kind = match err.strip_prefix('-') {
        Some(e) => e.split(' ').next().unwrap_or("ERR"),
        None => "ERR",
    };
    *ctx.srv.stats.errors.entry(kind.to_string()).or_insert(0) += 1;
    if let Ok((_, _, id)) | Err((_, Some(id))) = resolve_or_reject(argv) {
        stat(ctx, id).rejected += 1;
    }
}

/// `call_inner` recording what must be replayed (the tail of Redis's call() and
/// afterCommand): a command that changed the dataset is recorded (or what it asked to be
/// recorded instead); EXEC never is (its commands were); the unit is flushed when the
/// outermost call returns.
fn call_propagating(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    let stream_before = ctx.srv.prop.repl_buf.len();
    let reply = call_recording(ctx, argv);
    // The stream offset the client's writes reach, for WAIT (c->woff).
    if ctx.srv.prop.repl_buf.len() != stream_before {
        ctx.client.woff = ctx.srv.repl.offset + ctx.srv.prop.repl_buf.len() as u64;
    }
    reply
}

fn call_recording(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    let outer = std::mem::take(&mut ctx.srv.prop.frame);
    let dirty = ctx.srv.stats.dirty;
    ctx.srv.prop.depth += 1;
    let reply = call_inner(ctx, argv);
    ctx.srv.prop.depth -= 1;
    let frame = std::mem::replace(&mut ctx.srv.prop.frame, outer);
    crate::server::propagate::collect_expired(ctx.srv);
    let targets = ctx.srv.prop.live(if ctx.srv.stats.dirty != dirty { crate::server::propagate::ALL } else { frame.force });
    if targets != 0 && !frame.prevent && !argv.is_empty() && !argv[0].eq_ignore_ascii_case(b"exec") && !matches!(reply, Reply::Blocked) {
        let db = ctx.client.db;
        if ctx.srv.prop.depth == 0 && !ctx.srv.prop.has_ops() {
            // The usual unit, one command alone: straight into the stream, no copy of argv.
            let ts = ctx.srv.config.hot.aof_timestamp_enabled.then_some(ctx.srv.clock.now_us / 1_000_000);
            ctx.srv.prop.feed_one(db, targets, frame.rewrite.as_deref().unwrap_or(argv), ts);
            return reply;
        }
        ctx.srv.prop.push_to(db, targets, frame.rewrite.unwrap_or_else(|| argv.to_vec()));
    }
    if ctx.srv.prop.depth == 0 && ctx.srv.prop.has_ops() {
        // Commands that may delete arbitrary expired keys are not wrapped (as Redis's
        // CMD_TOUCHES_ARBITRARY_KEYS): their DELs are independent of each other.
        let arbitrary = argv.first().is_some_and(|c| c.eq_ignore_ascii_case(b"scan") || c.eq_ignore_ascii_case(b"randomkey"));
        crate::server::propagate::end_unit(ctx.srv, arbitrary);
    }
    reply
}

/// redactClientCommandArgument: the arguments SLOWLOG and MONITOR show as `(redacted)`
/// (passwords, ACL rules, sensitive CONFIG SET values).
fn redacted(top: &CommandSpec, argv: &[Bytes]) -> Option<Vec<Bytes>> {
    let hide: Vec<usize> = match top.name {
        "auth" => (1..argv.len()).collect(),
        "acl" if argv.len() > 2 && argv[1].eq_ignore_ascii_case(b"setuser") => (2..argv.len()).collect(),
        "hello" => {
            let mut v = vec![];
            let mut j = 2;
            while j < argv.len() {
                if argv[j].eq_ignore_ascii_case(b"auth") && j + 2 < argv.len() {
                    v.extend([j + 1, j + 2]);
                    j += 3;
                } else {
                    j += if argv[j].eq_ignore_ascii_case(b"setname") { 2 } else { 1 };
                }
            }
            v
        }
        "config" if argv.len() > 2 && argv[1].eq_ignore_ascii_case(b"set") => (2..argv.len())
            .step_by(2)
            .filter(|&i| {
                matches!(
                    crate::config::Config::canonical(&String::from_utf8_lossy(&argv[i]).to_ascii_lowercase()),
                    Some("masterauth" | "masteruser" | "requirepass")
                )
            })
            .map(|i| i + 1)
            .filter(|&i| i < argv.len())
            .collect(),
        "migrate" => {
            let mut v = vec![];
            for j in 6..argv.len() {
                if argv[j].eq_ignore_ascii_case(b"auth") {
                    v.push(j + 1);
                } else if argv[j].eq_ignore_ascii_case(b"auth2") {
                    v.extend([j + 1, j + 2]);
                }
            }
            v.retain(|&i| i < argv.len());
            v
        }
        _ => return None,
    };
    if hide.is_empty() {
        return None;
    }
    let mut out = argv.to_vec();
    for i in hide {
        out[i] = Bytes::from_static(b"(redacted)");
    }
    Some(out)
}

/// The ACL check (processCommand, EXEC's, scriptCall's): None when the connection's user
/// may run the command; else the refusal, logged in ACL LOG, with the command's full name.
pub(crate) fn acl_denied(
    ctx: &mut Ctx,
    top: &'static CommandSpec,
    sub: Option<&'static CommandSpec>,
    id: usize,
    argv: &[Bytes],
    context: crate::acl::LogContext,
) -> Option<(crate::acl::Denied, String)> {
    use crate::acl::{Denied, Reason};
    if ctx.client.acl_unrestricted_at == ctx.srv.acl.generation {
        return None;
    }
    let full = match sub {
        Some(s) => format!("{}|{}", top.name, s.name),
        None => top.name.to_string(),
    };
    // A deleted user's connection is closing (ACL DELUSER): it may run nothing more.
    let denied = match ctx.srv.acl.user(&ctx.client.user) {
        None => Denied::Command,
        Some(user) if user.unrestricted() => {
            ctx.client.acl_unrestricted_at = ctx.srv.acl.generation;
            return None;
        }
        Some(user) => user.check(sub.unwrap_or(top), id, sub.is_some(), argv).err()?,
    };
    let (reason, object) = match denied {
        Denied::Command => (Reason::Command, Bytes::from(full.clone())),
        Denied::Key(i) => (Reason::Key, argv[i].clone()),
        Denied::Channel(i) => (Reason::Channel, argv[i].clone()),
    };
    crate::commands::server::acl::log_denial(ctx, reason, context, object, None);
    Some((denied, full))
}

fn call_inner(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    if argv.is_empty() {
        return Reply::Error(Error::Msg("ERR empty command").to_string());
    }
    // A command refused before it runs also dooms an open transaction (flagTransaction).
    let reject = |ctx: &mut Ctx, e: Error| {
        if ctx.client.multi.is_some() {
            ctx.client.multi_error = true;
        }
        Reply::Error(e.to_string())
    };
    // Known commands refused before running count as rejected calls (commandstats).
    let rejected = |ctx: &mut Ctx, id: usize, e: Error| {
        stat(ctx, id).rejected += 1;
        reject(ctx, e)
    };
    let (top, sub, key) = match resolve_or_reject(argv) {
        Ok(s) => s,
        Err((e, Some(id))) => return rejected(ctx, id, e),
        Err((e, None)) => return reject(ctx, e),
    };
    let spec = sub.unwrap_or(top);
    if !ctx.client.authenticated && !spec.is(flags::NO_AUTH) && !ctx.srv.acl.default_user().needs_no_auth() {
        return rejected(ctx, key, Error::NoAuth);
    }
    // ACLs, skipped while the user is known to hold every permission. A command MULTI
    // refuses anyway is refused for that first, as processCommand orders the checks.
    // EXEC and scripts check their commands themselves, with their own wording.
    if ctx.client.acl_unrestricted_at != ctx.srv.acl.generation && !ctx.client.deny_blocking && !(ctx.client.multi.is_some() && spec.is(flags::NO_MULTI)) {
        let context = if ctx.client.multi.is_some() { crate::acl::LogContext::Multi } else { crate::acl::LogContext::Toplevel };
        if let Some((denied, full)) = acl_denied(ctx, top, sub, key, argv, context) {
            let msg = match denied {
                crate::acl::Denied::Command => format!("NOPERM this user has no permissions to run the '{}' command", full),
                crate::acl::Denied::Key(_) => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
                crate::acl::Denied::Channel(_) => "NOPERM this user has no permissions to access one of the channels used as arguments".into(),
            };
            return rejected(ctx, key, Error::Dyn(msg));
        }
    }
    // Over maxmemory: evict first; if nothing more can go, refuse what may add memory (and
    // anything but the transaction's controls inside MULTI, whose queue grows too). Not
    // while a script is busy: the script may hold what eviction would take.
    if ctx.srv.config.hot.maxmemory > 0 && !ctx.client.deny_blocking && ctx.srv.scripting.busy.is_none() {
        let oom = crate::server::evict::perform_evictions(ctx.srv) == crate::server::evict::Outcome::Fail;
        if !ctx.srv.memory.evict.log.is_empty() {
            announce_evicted(ctx);
            // This client's invalidations of evicted keys concern their old values: they go
            // before the reply (processCommand's trackingHandlePendingKeyInvalidations).
            if ctx.srv.clients.tracking.has_pending() {
                crate::tracking::flush_pending(ctx);
            }
        }
        ctx.srv.memory.evict.oom = oom;
        if oom {
            let srv = &*ctx.srv;
            let denyoom = |s: &CommandSpec, a: &[Bytes]| crate::commands::scripting::declared_denyoom(srv, s, a).unwrap_or_else(|| s.is(flags::DENYOOM));
            let refuse = denyoom(spec, argv)
                || (top.name == "exec"
                    && ctx.client.multi.as_ref().is_some_and(|q| q.iter().any(|a| resolve(a).is_ok_and(|(t, s)| denyoom(s.unwrap_or(t), a)))))
                || (ctx.client.multi.is_some() && !matches!(top.name, "exec" | "discard" | "quit" | "reset"));
            if refuse {
                // EXEC refused ends the transaction (execCommandAbort).
                if top.name == "exec" && ctx.client.multi.is_some() {
                    crate::commands::transaction::discard_transaction(ctx.srv, ctx.client);
                    return rejected(ctx, key, Error::Dyn(format!("EXECABORT Transaction discarded because of: {}", Error::Oom)));
                }
                return rejected(ctx, key, Error::Oom);
            }
        }
    }
    // MISCONF after a failed save, LOADING while a dataset loads: for commands as clients
    // send them (EXEC's queue and scripts are judged by EXEC and the script runner).
    if !ctx.client.deny_blocking {
        if let Some(e) = crate::persistence::refuse(ctx, top, spec, argv) {
            return rejected(ctx, key, e);
        }
    }
    ctx.client.last_cmd = Some((top.name, sub.map(|s| s.name)));
    // A RESP2 subscriber's connection carries messages; only these commands may share it.
    if ctx.client.resp == 2
        && ctx.client.in_pubsub()
        && !matches!(top.name, "subscribe" | "ssubscribe" | "unsubscribe" | "sunsubscribe" | "psubscribe" | "punsubscribe" | "ping" | "quit" | "reset")
    {
        let name = match sub {
            Some(s) => format!("{}|{}", top.name, s.name),
            None => top.name.to_string(),
        };
        return rejected(
            ctx,
            key,
            Error::Dyn(format!("ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", name)),
        );
    }
    // While a script is busy only commands flagged allow-busy run (for other clients, from
    // its hook); the rest get BUSY, which also dooms their transaction, and EXEC aborts it
    // (rejectCommand, execCommandAbort).
    if let Some(eval) = ctx.srv.scripting.busy {
        if !spec.is(flags::ALLOW_BUSY) {
            let busy = crate::script::run::busy_error(eval);
            if top.name == "exec" {
                crate::commands::transaction::discard_transaction(ctx.srv, ctx.client);
                return rejected(ctx, key, Error::Dyn(format!("EXECABORT Transaction discarded because of: {}", busy)));
            }
            return rejected(ctx, key, Error::Dyn(busy.into()));
        }
    }
    // CLIENT PAUSE holds back every command (ALL) or those that write (WRITE), EXEC of a
    // queue with writes included, until the pause ends.
    // Commands inside EXEC or a script are not held: a CLIENT PAUSE in a transaction takes
    // effect when it ends (Redis checks the pause in processCommand only).
    if let Some((end, all)) = ctx.srv.clients.pause {
        if ctx.now_ms() >= end {
            ctx.srv.set_pause(None);
        } else if !ctx.client.deny_blocking {
            // A script that declared its flags writes only without `no-writes`.
            let srv = &*ctx.srv;
            let writes = |s: &CommandSpec, a: &[Bytes]| {
                crate::commands::scripting::declared_writes(srv, s, a).unwrap_or_else(|| s.is(flags::WRITE) || s.is(flags::MAY_REPLICATE))
            };
            let exec_writes =
                top.name == "exec" && ctx.client.multi.as_ref().is_some_and(|q| q.iter().any(|a| resolve(a).is_ok_and(|(t, s)| writes(s.unwrap_or(t), a))));
            if all || writes(spec, argv) || exec_writes {
                return ctx.block(&[], BlockType::Pause, 0, argv, Reply::Nil);
            }
        }
    }
    // Inside MULTI everything but the transaction's own controls is queued.
    if ctx.client.multi.is_some() && !matches!(top.name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset") {
        if spec.is(flags::NO_MULTI) {
            return rejected(ctx, key, Error::Msg("ERR Command not allowed inside a transaction"));
        }
        ctx.client.multi.as_mut().expect("in MULTI").push(argv.to_vec());
        return Reply::Simple("QUEUED");
    }
    let handler = spec.handler.expect("leaf commands have handlers");
    // One clock read per command: this command's end is the next one's start (the batch
    // sets the first mark), which halves what timing costs a pipeline.
    let clock = ctx.srv.host.clock;
    let start = ctx.srv.clock.mark;
    // A handler that panics (a bug) fails its own command only, as an error reply: a
    // transaction goes on with its other commands, the connection stays usable.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(ctx, argv)));
    let (reply, failed) = match ran {
        Ok(Ok(r)) => (r, false),
        Ok(Err(e)) => (Reply::Error(e.to_string()), true),
        Err(payload) => (Reply::Error(Error::Internal { cmd: spec.name.into(), why: crate::panic::message(&*payload) }.to_string()), true),
    };
    // A tracking client's reads are remembered for invalidation, errors included, as Redis.
    // Read-only scripts are judged by the commands they run (see `Run::call`), not as reads.
    if ctx.client.tracking.is_some() && spec.is(flags::READONLY) && !matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro") {
        crate::tracking::remember_keys(ctx, spec, argv);
    }
    // Counted after the call, as Redis does, so INFO does not see itself; a command that
    // blocked counts once, when it completes. An AOF replay counts nothing.
    if !matches!(reply, Reply::Blocked) && !ctx.srv.loading {
        let end = clock.map_or(0, |c| c());
        let micros = (end - start).max(0) + std::mem::take(&mut ctx.srv.clock.slept_us);
        ctx.srv.clock.mark = end;
        ctx.srv.stats.total_commands_processed += 1;
        let tracking_latency = ctx.srv.config.hot.latency_tracking;
        let st = stat(ctx, key);
        st.calls += 1;
        st.usec += micros as u64;
        st.failed += failed as u64;
        if tracking_latency {
            st.latency.get_or_insert_with(Default::default).record(micros * 1000);
        }
        let threshold = ctx.srv.config.hot.latency_monitor_threshold;
        if threshold > 0 && micros / 1000 >= threshold {
            let event = if spec.is(flags::FAST) { "fast-command" } else { "command" };
            let now = ctx.srv.clock.now_us / 1_000_000;
            ctx.srv.stats.latency.add_sample(event, (micros / 1000) as u64, now);
        }
        let threshold = ctx.srv.config.hot.slowlog_log_slower_than;
        let log = threshold >= 0 && micros >= threshold && !spec.is(flags::SKIP_SLOWLOG);
        let monitor = !ctx.srv.clients.monitors.is_empty() && !spec.is(flags::SKIP_MONITOR) && !spec.is(flags::ADMIN);
        if log || monitor {
            let hidden = redacted(top, argv);
            let shown = hidden.as_deref().unwrap_or(argv);
            if log {
                crate::commands::server::slowlog::record(ctx, shown, micros);
            }
            if monitor {
                crate::commands::server::monitor::feed(ctx, shown);
            }
        }
    }
    reply
}
