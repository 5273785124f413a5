//! Keyspace commands that work on any type: existence, deletion, renaming, copying between
//! databases, iteration. Redis: db.c (the commands half), object.c (OBJECT).

use bytes::Bytes;

use crate::command::spec::{acl::KEYSPACE, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::object::{Entry, Value};
use crate::reply::{Reply, OK, ONE, ZERO};

mod dump;
mod expire;
pub mod migrate;
mod object;
pub mod scan;
mod sort;
#[cfg(test)]
mod tests;

const G: &str = "generic";

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("copy", -3, WRITE | DENYOOM, G, copy).key_specs("RO access index:1 range:0:1:0; OW update index:2 range:0:1:0").keys(1, 2, 1).acl(KEYSPACE).doc("6.2.0", "Copy a key", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.").args("source@key destination@key [DB destination-db@integer] [REPLACE]"),
    CommandSpec::new("del", -2, WRITE, G, del).key_specs("RM delete index:1 range:-1:1:0").tips("request_policy:multi_shard response_policy:agg_sum").keys(1, -1, 1).acl(KEYSPACE).doc("1.0.0", "Delete a key", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).").args("key ..."),
    CommandSpec::new("dump", 2, READONLY, G, dump::dump).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(KEYSPACE).doc("2.6.0", "Return a serialized version of the value stored at the specified key.", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).").args("key"),
    CommandSpec::new("exists", -2, READONLY | FAST, G, exists).key_specs("RO index:1 range:-1:1:0").tips("request_policy:multi_shard response_policy:agg_sum").keys(1, -1, 1).acl(KEYSPACE).doc("1.0.0", "Determine if a key exists", "O(N) where N is the number of keys to check.").args("key ..."),
    CommandSpec::new("expire", -3, WRITE | FAST, G, expire::expire).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE).doc("1.0.0", "Set a key's time to live in seconds", "O(1)").args("key seconds condition=[NX|XX|GT|LT]"),
    CommandSpec::new("expireat", -3, WRITE | FAST, G, expire::expireat).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE).doc("1.2.0", "Set the expiration for a key as a UNIX timestamp", "O(1)").args("key unix-time-seconds@unix-time condition=[NX|XX|GT|LT]"),
    CommandSpec::new("expiretime", 2, READONLY | FAST, G, expire::expiretime).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE).doc("7.0.0", "Get the expiration Unix timestamp for a key", "O(1)").args("key"),
    CommandSpec::new("keys", 2, READONLY, G, scan::keys).tips("request_policy:all_shards nondeterministic_output_order").acl(KEYSPACE | crate::command::spec::acl::DANGEROUS).doc("1.0.0", "Find all keys matching the given pattern", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.").args("pattern"),
    CommandSpec::new("migrate", -6, WRITE, G, migrate::migrate).key_specs("RW access delete index:3 range:0:1:0; RW access delete incomplete keyword:KEYS:-2 range:-1:1:0").tips("nondeterministic_output").keys(3, 3, 1).getkeys(migrate::migrate_keys).acl(KEYSPACE | crate::command::spec::acl::DANGEROUS).doc("2.6.0", "Atomically transfer a key from a Redis instance to another one.", "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.").args("host port@integer key_or_empty_string=(key|empty_string=\"\") destination-db@integer timeout [COPY] [REPLACE] authentication=[[AUTH password]|[AUTH2 username_password=(username password)]] [KEYS key#1 ...]"),
    CommandSpec::new("move", 3, WRITE | FAST, G, move_).key_specs("RW access update index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE).doc("1.0.0", "Move a key to another database", "O(1)").args("key db"),
    CommandSpec::container("object", G, object::SUBCOMMANDS).doc("2.2.3", "A container for object introspection commands", "Depends on subcommand."),
    CommandSpec::new("persist", 2, WRITE | FAST, G, expire::persist).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE).doc("2.2.0", "Remove the expiration from a key", "O(1)").args("key"),
    CommandSpec::new("pexpire", -3, WRITE | FAST, G, expire::pexpire).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE).doc("2.6.0", "Set a key's time to live in milliseconds", "O(1)").args("key milliseconds condition=[NX|XX|GT|LT]"),
    CommandSpec::new("pexpireat", -3, WRITE | FAST, G, expire::pexpireat).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE).doc("2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "O(1)").args("key unix-time-milliseconds@unix-time condition=[NX|XX|GT|LT]"),
    CommandSpec::new("pexpiretime", 2, READONLY | FAST, G, expire::pexpiretime).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE).doc("7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", "O(1)").args("key"),
    CommandSpec::new("pttl", 2, READONLY | FAST, G, expire::pttl).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(KEYSPACE).doc("2.6.0", "Get the time to live for a key in milliseconds", "O(1)").args("key"),
    CommandSpec::new("randomkey", 1, READONLY, G, randomkey).tips("request_policy:all_shards nondeterministic_output").acl(KEYSPACE).doc("1.0.0", "Return a random key from the keyspace", "O(1)"),
    CommandSpec::new("rename", 3, WRITE, G, rename).key_specs("RW access delete index:1 range:0:1:0; OW update index:2 range:0:1:0").keys(1, 2, 1).acl(KEYSPACE).doc("1.0.0", "Rename a key", "O(1)").args("key newkey"),
    CommandSpec::new("renamenx", 3, WRITE | FAST, G, renamenx).key_specs("RW access delete index:1 range:0:1:0; OW insert index:2 range:0:1:0").keys(1, 2, 1).acl(KEYSPACE).doc("1.0.0", "Rename a key, only if the new key does not exist", "O(1)").args("key newkey"),
    CommandSpec::new("restore", -4, WRITE | DENYOOM, G, dump::restore).key_specs("OW update index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE | crate::command::spec::acl::DANGEROUS).doc("2.6.0", "Create a key using the provided serialized value, previously obtained using DUMP.", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).").args("key ttl@integer serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency@integer]"),
    CommandSpec::new("scan", -2, READONLY, G, scan::scan).tips("nondeterministic_output request_policy:special").acl(KEYSPACE).doc("2.8.0", "Incrementally iterate the keys space", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.").args("cursor@integer [MATCH pattern] [COUNT count] [TYPE type]"),
    CommandSpec::new("sort", -2, WRITE | DENYOOM, G, sort::sort).key_specs("RO access index:1 range:0:1:0; RO access unknown unknown -- For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort; OW update unknown unknown -- For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array").keys(1, 1, 1).getkeys(sort::sort_keys).acl(crate::command::spec::acl::SET | crate::command::spec::acl::SORTEDSET | crate::command::spec::acl::LIST | crate::command::spec::acl::DANGEROUS).doc("1.0.0", "Sort the elements in a list, set or sorted set", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).").args("key [BY pattern#1] [LIMIT offset_count=(offset count)] [GET pattern#1 +...] order=[ASC|DESC] [sorting=ALPHA] [STORE destination@key#2]"),
    CommandSpec::new("sort_ro", -2, READONLY, G, sort::sort_ro).key_specs("RO access index:1 range:0:1:0; RO access unknown unknown -- For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort").keys(1, 1, 1).getkeys(sort::sort_ro_keys).acl(crate::command::spec::acl::SET | crate::command::spec::acl::SORTEDSET | crate::command::spec::acl::LIST | crate::command::spec::acl::DANGEROUS).doc("7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).").args("key [BY pattern#1] [LIMIT offset_count=(offset count)] [GET pattern#1 +...] order=[ASC|DESC] [sorting=ALPHA]"),
    CommandSpec::new("touch", -2, READONLY | FAST, G, touch).key_specs("RO index:1 range:-1:1:0").tips("request_policy:multi_shard response_policy:agg_sum").keys(1, -1, 1).acl(KEYSPACE).doc("3.2.1", "Alters the last access time of a key(s). Returns the number of existing keys specified.", "O(N) where N is the number of keys that will be touched.").args("key ..."),
    CommandSpec::new("ttl", 2, READONLY | FAST, G, expire::ttl).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(KEYSPACE).doc("1.0.0", "Get the time to live for a key in seconds", "O(1)").args("key"),
    CommandSpec::new("type", 2, READONLY | FAST, G, type_).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(KEYSPACE).doc("1.0.0", "Determine the type stored at key", "O(1)").args("key"),
    CommandSpec::new("unlink", -2, WRITE | FAST, G, unlink).key_specs("RM delete index:1 range:-1:1:0").tips("request_policy:multi_shard response_policy:agg_sum").keys(1, -1, 1).acl(KEYSPACE).doc("4.0.0", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.").args("key ..."),
];

/// How a deletion the server decided is replayed: UNLINK when the lazyfree directive that
/// governs it is on, else DEL (Redis's `server.lazyfree_lazy_* ? shared.unlink : shared.del`).
pub fn del_command(ctx: &Ctx, directive: &str) -> Bytes {
    if ctx.srv.config.get_named(directive) == Some("yes") {
        Bytes::from_static(b"UNLINK")
    } else {
        Bytes::from_static(b"DEL")
    }
}

/// DEL key [key ...] / UNLINK key [key ...] — the number of keys removed.
fn del(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let lazy = ctx.srv.config.get_bool(crate::param!("lazyfree-lazy-user-del"));
    delete_keys(ctx, argv, lazy)
}

/// UNLINK key [key ...] — DEL, with big values freed by the host (see `lazyfree`).
fn unlink(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    delete_keys(ctx, argv, true)
}

fn delete_keys(ctx: &mut Ctx, argv: &[Bytes], lazy: bool) -> Result<Reply> {
    let mut n = 0;
    for k in &argv[1..] {
        let now = ctx.now_ms();
        ctx.db().expire_if_needed(k, now);
        if let Some(v) = ctx.db().remove(k) {
            if lazy {
                ctx.srv.memory.lazyfree.free_value(v);
            } else {
                drop(v);
            }
            ctx.modified(k, "del");
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

/// EXISTS key [key ...] — counts repeated keys each time.
fn exists(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(argv[1..].iter().filter(|k| ctx.lookup_notouch(k).is_some()).count() as i64))
}

/// TOUCH key [key ...] — existing keys, after updating their access time.
fn touch(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(argv[1..].iter().filter(|k| ctx.lookup_read(k).is_some()).count() as i64))
}

/// TYPE key — `none` when missing.
fn type_(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Simple(ctx.lookup_notouch(&argv[1]).map_or("none", |e| e.value.type_name())))
}

/// RANDOMKEY — nil when the database is empty.
fn randomkey(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let now = ctx.now_ms();
    let db = ctx.client.db;
    let srv = &mut *ctx.srv;
    Ok(Reply::opt_bulk(srv.dbs[db].random_key(&mut srv.rng, now)))
}

fn rename_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) -> Result<Option<bool>> {
    let (src, dst) = (&argv[1], &argv[2]);
    if ctx.lookup_write(src).is_none() {
        return Err(Error::NoSuchKey);
    }
    if src == dst {
        return Ok(Some(!nx));
    }
    if ctx.lookup_write(dst).is_some() && nx {
        return Ok(Some(false));
    }
    let (entry, ttl) = ctx.db().take(src).expect("looked up above");
    ctx.db().put(Bytes::copy_from_slice(dst), entry, ttl);
    ctx.modified(src, "rename_from");
    ctx.modified(dst, "rename_to");
    Ok(Some(true))
}

/// RENAME key newkey — overwrites newkey; the TTL moves with the value.
fn rename(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    rename_generic(ctx, argv, false).map(|_| OK)
}

/// RENAMENX key newkey — 1 if renamed, 0 if newkey exists.
fn renamenx(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::from_bool(rename_generic(ctx, argv, true)?.unwrap_or(false)))
}

/// A database index argument (getIntFromObjectOrReply, then selectDb's range check).
fn db_index(ctx: &Ctx, arg: &[u8]) -> Result<usize> {
    let id = crate::command::args::int(arg)?;
    if id < i32::MIN as i64 || id > i32::MAX as i64 {
        return Err(Error::NotInteger);
    }
    if id < 0 || id as usize >= ctx.srv.dbs.len() {
        return Err(Error::DbIndexOutOfRange);
    }
    Ok(id as usize)
}

/// MOVE key db — 1 if moved; 0 if the key is missing or already in the target.
fn move_(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let dst = db_index(ctx, &argv[2])?;
    let src = ctx.client.db;
    if src == dst {
        return Err(Error::SameObject);
    }
    let key = &argv[1];
    if ctx.lookup_write(key).is_none() {
        return Ok(ZERO);
    }
    let now = ctx.now_ms();
    if ctx.srv.dbs[dst].exists(key, now) {
        return Ok(ZERO);
    }
    let (entry, ttl) = ctx.db().take(key).expect("looked up above");
    ctx.srv.dbs[dst].put(Bytes::copy_from_slice(key), entry, ttl);
    ctx.modified(key, "move_from");
    ctx.modified_in(dst, key, "move_to");
    Ok(ONE)
}

/// COPY source destination [DB destination-db] [REPLACE] — 1 if copied.
fn copy(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let src_db = ctx.client.db;
    let (mut dst_db, mut replace) = (src_db, false);
    let mut j = 3;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if argv[j].eq_ignore_ascii_case(b"db") && j + 1 < argv.len() {
            dst_db = db_index(ctx, &argv[j + 1])?;
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    let (key, newkey) = (&argv[1], &argv[2]);
    if src_db == dst_db && key == newkey {
        return Err(Error::SameObject);
    }
    let Some(e) = ctx.lookup_read(key) else { return Ok(ZERO) };
    let value: Value = e.value.clone();
    let ttl = ctx.db().get_expire(key);
    let now = ctx.now_ms();
    if ctx.srv.dbs[dst_db].exists(newkey, now) {
        if !replace {
            return Ok(ZERO);
        }
        ctx.srv.dbs[dst_db].remove(newkey);
    }
    let lru = ctx.lru();
    ctx.srv.dbs[dst_db].put(Bytes::copy_from_slice(newkey), Entry { value, lru }, ttl);
    ctx.modified_in(dst_db, newkey, "copy_to");
    Ok(ONE)
}
