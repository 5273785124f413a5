//! Dispatch: Redis's processCommand + call(). Lookup, arity, authentication, then the
//! handler, then the bookkeeping every command shares (stats, CLIENT REPLY modes). MULTI/EXEC
//! and scripts (later issues) call `call()` re-entrantly with the same `Ctx`.

use bytes::Bytes;
use hashbrown::HashMap;

use super::spec::{flags, CommandSpec};
use super::table::{lookup_sub, table};
use crate::client::{Client, ClientId, ReplyMode};
use crate::engine::{Engine, Event, Outcome, Server};
use crate::error::{Error, Result};
use crate::reply::Reply;

/// What a handler may touch: the server, its own client, and the other clients.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub client: &'a mut Client,
    pub others: &'a mut HashMap<ClientId, Client>,
}

impl Ctx<'_> {
    pub fn now_ms(&self) -> i64 {
        self.srv.now_ms()
    }

    pub fn db(&mut self) -> &mut crate::db::Db {
        &mut self.srv.dbs[self.client.db]
    }

    /// The trailing bookkeeping of every write (Valkey's signalModifiedKey + notify +
    /// dirty++). WATCH and keyspace notifications hook in here as those families land.
    pub fn modified(&mut self, _key: &[u8], _event: &'static str) {
        self.srv.stats.dirty += 1;
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
        crate::db::access::initial(self.srv)
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
        let lfu = touch && crate::db::access::lfu_policy(self.srv);
        if lfu {
            // The LFU counter draws from the server's generator, so update it in a first pass.
            if let Some(old) = self.srv.dbs[db].get(key, now).map(|e| e.lru) {
                let new = crate::db::access::touched(self.srv, old);
                self.srv.dbs[db].get(key, now)?.lru = new;
            }
        }
        let clock = self.srv.lru_clock();
        let e = self.srv.dbs[db].get(key, now);
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

    /// Stores a value as SET does: overwrites any type, drops the TTL unless `keep_ttl`.
    pub fn set_key(&mut self, key: &[u8], value: crate::object::Value, keep_ttl: bool) {
        let lru = self.lru();
        self.db().set(key, value, keep_ttl, lru);
    }

    pub fn event(&mut self, e: Event) {
        self.srv.events.push(e);
    }
}

pub fn execute(engine: &mut Engine, id: ClientId, argv: Vec<Bytes>, now_us: i64) -> Outcome {
    engine.srv.now_us = now_us;
    let Some(mut client) = engine.clients.remove(&id) else {
        return Outcome { reply: Some(Reply::Error("ERR unknown client".into())), close: true };
    };
    client.last_interaction_ms = now_us / 1000;
    let reply = {
        let mut ctx = Ctx { srv: &mut engine.srv, client: &mut client, others: &mut engine.clients };
        call(&mut ctx, &argv)
    };
    if let Reply::Error(_) = reply {
        engine.srv.stats.total_error_replies += 1;
    }
    let close = client.close_asap;
    // CLIENT REPLY: OFF swallows everything; SKIP swallows the next command's reply only.
    let reply = match client.reply_mode {
        ReplyMode::On => Some(reply),
        ReplyMode::Off => None,
        ReplyMode::Skip => {
            client.reply_mode = ReplyMode::SkipNext;
            None
        }
        ReplyMode::SkipNext => {
            client.reply_mode = ReplyMode::On;
            None
        }
    };
    engine.clients.insert(id, client);
    Outcome { reply, close }
}

/// Resolves argv to a spec (following subcommands) or the error Redis gives.
pub fn resolve(argv: &[Bytes]) -> Result<&'static CommandSpec> {
    let spec = table().lookup(&argv[0]).ok_or_else(|| Error::unknown_command(argv))?;
    if spec.subcommands.is_empty() {
        if !spec.arity_ok(argv.len()) {
            return Err(Error::WrongArity(super::args::lower(&argv[0])));
        }
        return Ok(spec);
    }
    if argv.len() < 2 {
        if spec.handler.is_some() && spec.arity_ok(argv.len()) {
            return Ok(spec);
        }
        return Err(Error::WrongArity(super::args::lower(&argv[0])));
    }
    let sub = lookup_sub(spec, &argv[1]).ok_or_else(|| Error::UnknownSubcommand {
        sub: crate::error::clip(&argv[1]),
        cmd: String::from_utf8_lossy(&argv[0]).to_ascii_uppercase(),
    })?;
    if !sub.arity_ok(argv.len()) {
        return Err(Error::WrongArity(format!("{}|{}", spec.name, sub.name)));
    }
    Ok(sub)
}

/// Runs one command through the shared path. Errors become error replies here, once.
pub fn call(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    if argv.is_empty() {
        return Reply::Error(Error::Msg("ERR empty command").to_string());
    }
    let spec = match resolve(argv) {
        Ok(s) => s,
        Err(e) => return Reply::Error(e.to_string()),
    };
    if !ctx.client.authenticated && !spec.is(flags::NO_AUTH) {
        return Reply::Error(Error::NoAuth.to_string());
    }
    ctx.client.last_cmd = full_name(argv, spec);
    let handler = spec.handler.expect("leaf commands have handlers");
    let reply = match handler(ctx, argv) {
        Ok(r) => r,
        Err(e) => Reply::Error(e.to_string()),
    };
    // Counted after the call, as Redis does, so INFO does not see itself.
    ctx.srv.stats.total_commands_processed += 1;
    reply
}

/// `get`, or `client|setname` for subcommands (CLIENT LIST `cmd=`, arity errors).
fn full_name(argv: &[Bytes], spec: &CommandSpec) -> String {
    let top = super::args::lower(&argv[0]);
    if top == spec.name {
        top
    } else {
        format!("{}|{}", top, spec.name)
    }
}
