//! Snapshots of this server: the dataset, its function libraries and aux fields written as an
//! RDB file, and an RDB file's records put into the server. The byte format is `rdb`'s; what
//! a snapshot takes from the server and gives back to it is here.

use crate::rdb::load::{entry, load_all_at, Limits, LoadResult, Merge};
use crate::rdb::save::{Access, Snapshot};
use crate::server::Server;
use crate::types::hash::Limits as HashLimits;
use crate::types::zset::Limits as ZLimits;

/// The load limits in force: the encodings' thresholds and checksum switches.
pub fn limits(srv: &Server) -> Limits {
    let c = &srv.config;
    let h = &c.hot;
    Limits {
        hash: HashLimits { entries: h.hash_max_listpack_entries, value: h.hash_max_listpack_value },
        zset: ZLimits { entries: h.zset_max_listpack_entries, value: h.zset_max_listpack_value },
        list_fill: h.list_max_listpack_size,
        intset_max: h.set_max_intset_entries,
        checksum: c.get_bool(crate::param!("rdbchecksum")),
        skip_checksum: srv.debug.skip_checksum,
    }
}

/// Replaces the dataset with an RDB file's (the startup load, DEBUG RELOAD); returns the
/// number of keys loaded. A file that does not parse leaves the dataset untouched. As
/// rdbLoadRio does: keys already past their deadline are not loaded, a key twice in one
/// database is an error, and a saved LRU idle time or LFU counter becomes the key's stamp
/// when the policy in force uses that kind.
pub fn load_into(srv: &mut Server, bytes: &[u8]) -> LoadResult<usize> {
    load_rdb(srv, bytes, false, Merge::Flush).map(|(keys, _)| keys)
}

/// `load_into` that keeps (`Refuse`, `Replace`) or empties (`Flush`) the dataset first.
pub fn load_merging(srv: &mut Server, bytes: &[u8], merge: Merge) -> LoadResult<usize> {
    load_rdb(srv, bytes, false, merge).map(|(keys, _)| keys)
}

/// `load_into` for an RDB that other data may follow (an AOF's preamble or base): also
/// returns how many bytes the RDB took. Keys past their deadline are kept, as Redis keeps
/// them under RDBFLAGS_AOF_PREAMBLE: the commands after them may still touch them.
pub fn load_prefix(srv: &mut Server, bytes: &[u8]) -> LoadResult<(usize, usize)> {
    load_rdb(srv, bytes, true, Merge::Flush)
}

fn load_rdb(srv: &mut Server, bytes: &[u8], aof_preamble: bool, merge: Merge) -> LoadResult<(usize, usize)> {
    let lim = limits(srv);
    let mut used = 0;
    let mut empty = Vec::new();
    let (records, functions) = load_all_at(bytes, &lim, &mut used, &mut empty)?;
    if let Some(r) = records.iter().find(|r| r.db >= srv.dbs.len()) {
        return Err(format!(
            "FATAL: Data file was created with a Redis server configured to handle more than {} databases (db {}). Exiting",
            srv.dbs.len(),
            r.db
        ));
    }
    let mut seen = hashbrown::HashSet::with_capacity(records.len());
    if let Some(r) = records.iter().find(|r| !seen.insert((r.db, &r.key))) {
        return Err(format!("RDB has duplicated key '{}' in DB {}", String::from_utf8_lossy(&r.key), r.db));
    }
    drop(seen);
    // Checked before anything changes, so a refused merge leaves the dataset as it was.
    if merge == Merge::Refuse {
        if let Some(r) = records.iter().find(|r| srv.dbs[r.db].keys.contains_key(&r.key[..])) {
            return Err(format!("RDB has duplicated key '{}' in DB {}", String::from_utf8_lossy(&r.key), r.db));
        }
    }
    // The file's libraries replace the server's (rdbLoad swaps in a new functions context),
    // or join them when the dataset is kept.
    let codes = match merge {
        Merge::Flush => functions,
        _ => crate::commands::scripting::merged_codes(&srv.scripting, &functions, merge == Merge::Replace)?,
    };
    let built = crate::commands::scripting::rebuild(&codes, srv.scripting.rng, srv.host.calls.clock).map_err(|e| format!("Failed loading library: {}", e))?;
    srv.scripting.fn_vm = built.fn_vm;
    srv.scripting.libraries = built.libraries;
    srv.scripting.functions = built.functions;
    if merge == Merge::Flush {
        for d in &mut srv.dbs {
            d.clear();
        }
    }
    let now = srv.now_ms();
    let (mut n, mut expired) = (0, 0);
    for key in empty.iter().take(10) {
        srv.log(3, || format!("rdbLoadObject skipping empty key: {}", String::from_utf8_lossy(key)));
    }
    let pacer = srv.key_pacer(crate::param!("key-load-delay"));
    for r in records {
        if let Some(pause) = &pacer {
            pause();
        }
        if !aof_preamble && r.expire.is_some_and(|when| when < now) {
            expired += 1;
            continue;
        }
        // objectSetLRUOrLFU: only the kind of stamp the policy in force keeps.
        let lru = srv.access_clock().restored(r.freq.map(|f| f as u32), r.idle);
        srv.dbs[r.db].put(r.key, entry(r.value, lru), r.expire);
        n += 1;
    }
    srv.persistence.last_load_keys_expired = expired;
    match empty.len() {
        0 => srv.log(2, || format!("Done loading RDB, keys loaded: {}, keys expired: {}.", n, expired)),
        skipped => srv.log(3, || format!("Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.", n, expired, skipped)),
    }
    Ok((n, used))
}

/// The whole dataset as an RDB file (see `rdb::save::write`), with this server's function
/// libraries, aux fields and access stamps.
pub fn dump(srv: &Server) -> Vec<u8> {
    let policy = srv.config.get(crate::param!("maxmemory-policy"));
    let access = if policy.ends_with("-lru") {
        Access::Idle
    } else if policy.ends_with("-lfu") {
        Access::Freq
    } else {
        Access::None
    };
    let pacer = srv.key_pacer(crate::param!("rdb-key-save-delay"));
    let snapshot = Snapshot {
        dbs: &srv.dbs,
        now_ms: srv.now_ms(),
        used_mem: srv.host.calls.memory_probe.map_or(srv.host.memory.used_memory, |probe| probe()),
        compress: srv.config.get_bool(crate::param!("rdbcompression")),
        checksum: srv.config.get_bool(crate::param!("rdbchecksum")),
        access,
        clock: srv.access_clock(),
        per_key: pacer.as_ref().map(|p| p as &dyn Fn()),
    };
    crate::rdb::save::write(&snapshot, |w| crate::commands::scripting::dump_libraries(&srv.scripting, w))
}
