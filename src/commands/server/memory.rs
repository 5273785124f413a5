//! MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, and the breakdown of used memory
//! that STATS, DOCTOR and INFO memory share (getMemoryOverheadData). Used memory, its peak and
//! the start-up figure are eviction's (`crate::server::evict`). Redis: object.c memoryCommand.

use bytes::Bytes;

use crate::command::spec::flags::*;
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::reply::Reply;

const G: &str = "server";

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("doctor", 2, 0, G, doctor).tips("nondeterministic_output request_policy:all_shards response_policy:special").doc(
        "4.0.0",
        "Outputs memory problems report",
        "O(1)",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, G, help).doc("4.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("malloc-stats", 2, 0, G, malloc_stats).tips("nondeterministic_output request_policy:all_shards response_policy:special").doc(
        "4.0.0",
        "Show allocator internal stats",
        "Depends on how much memory is allocated, could be slow",
    ),
    CommandSpec::new("purge", 2, 0, G, purge).tips("request_policy:all_shards response_policy:all_succeeded").doc(
        "4.0.0",
        "Ask the allocator to release memory",
        "Depends on how much memory is allocated, could be slow",
    ),
    CommandSpec::new("stats", 2, 0, G, stats).tips("nondeterministic_output request_policy:all_shards response_policy:special").doc(
        "4.0.0",
        "Show memory usage details",
        "O(1)",
    ),
    CommandSpec::new("usage", -3, READONLY, G, usage)
        .key_specs("RO index:2 range:0:1:0")
        .keys(2, 2, 1)
        .doc("4.0.0", "Estimate the memory usage of a key", "O(N) where N is the number of samples.")
        .args("key [SAMPLES count]"),
];

const HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("MEMORY", HELP))
}

/// MEMORY USAGE key [SAMPLES count] — bytes for the key, its value and their bookkeeping.
/// Cinnabar measures every element rather than sampling, so SAMPLES is validated and the
/// figure is exact for the structures it counts.
fn usage(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut j = 3;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"samples") && j + 1 < argv.len() {
            if crate::command::args::int(&argv[j + 1])? < 0 {
                return Err(Error::Syntax);
            }
            j += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    let key = &argv[2];
    let Some(e) = ctx.lookup_notouch(key) else { return Ok(Reply::Nil) };
    // The key's bytes, the keyspace slot that holds key and value, the value's own heap.
    let slot = 48;
    Ok(Reply::Int((key.len() + slot + e.value.mem_usage()) as i64))
}

/// Where used memory goes (Redis's struct redisMemOverhead). Overhead is what the server
/// holds besides the data: the start-up baseline, client state, the AOF text waiting for the
/// host, the script caches and the databases' hash tables; the dataset is the rest.
pub struct MemOverhead {
    pub(crate) peak_allocated: u64,
    pub(crate) total_allocated: u64,
    pub(crate) startup_allocated: u64,
    pub(crate) clients_normal: u64,
    pub(crate) aof_buffer: u64,
    pub(crate) lua_caches: u64,
    pub(crate) functions_caches: u64,
    /// (db number, main table overhead, expires table overhead) for each non-empty database.
    pub(crate) dbs: Vec<(usize, u64, u64)>,
    pub(crate) overhead_total: u64,
    pub(crate) total_keys: u64,
    pub(crate) bytes_per_key: u64,
    pub(crate) dataset: u64,
    pub(crate) dataset_perc: f32,
    pub(crate) peak_perc: f32,
    /// The process's resident size as the host reports it (0: unknown).
    pub(crate) rss: u64,
    /// The allocator's view. There is no jemalloc to ask, so these are Redis's stand-ins for
    /// other allocators (cronUpdateMemoryStats): allocated = used memory, active = resident
    /// = RSS. Every byte the core holds is in used memory, the Lua heap included, so nothing
    /// is taken off the RSS for it as Redis does.
    pub(crate) allocator_allocated: u64,
    pub(crate) allocator_active: u64,
    pub(crate) allocator_resident: u64,
}

/// getMemoryOverheadData, from the engine's own accounting.
pub fn overhead(ctx: &Ctx) -> MemOverhead {
    let s = &*ctx.srv;
    let used = crate::server::evict::used_memory(s);
    let peak = s.memory.evict.peak.max(used);
    let startup = s.memory.evict.startup.min(used);
    // Every client's memory as CLIENT LIST's tot-mem counts it (what the host buffers for
    // it, replies queued in the engine, a queued transaction), as Redis sums tot-mem here.
    let clients_normal = ctx.client.memory() + ctx.others.values().map(|c| c.memory()).sum::<u64>();
    let aof_buffer = if s.prop.on { s.prop.buffered() as u64 } else { 0 };
    let lua_caches = s.scripting.scripts_mem as u64;
    let functions_caches: u64 = s.scripting.libraries.values().map(|l| l.code.len() as u64).sum();
    let mut total = startup + clients_normal + aof_buffer + lua_caches + functions_caches;
    let mut dbs = vec![];
    let mut total_keys = 0u64;
    for db in &s.dbs {
        if db.is_empty() {
            continue;
        }
        total_keys += db.len() as u64;
        // The main table's slots hold each key and value inline: those bytes are data; the
        // rest (hash, chain link, access clock, buckets, spare capacity) is overhead. The
        // expires table is bookkeeping whole.
        let inline = db.len() * (std::mem::size_of::<crate::db::key::Key>() + std::mem::size_of::<crate::object::Value>());
        let (main, expires) = (db.keys.overhead().saturating_sub(inline) as u64, db.expires.overhead() as u64);
        total += main + expires;
        dbs.push((db.id, main, expires));
    }
    let net = if used > startup { used - startup } else { 1 };
    let dataset = used.saturating_sub(total);
    MemOverhead {
        peak_allocated: peak,
        total_allocated: used,
        startup_allocated: startup,
        clients_normal,
        aof_buffer,
        lua_caches,
        functions_caches,
        dbs,
        overhead_total: total,
        total_keys,
        bytes_per_key: net.checked_div(total_keys).unwrap_or(0),
        dataset,
        dataset_perc: dataset as f32 * 100.0 / net as f32,
        peak_perc: if peak > 0 { used as f32 * 100.0 / peak as f32 } else { 0.0 },
        rss: s.host.memory.used_memory_rss,
        allocator_allocated: used,
        allocator_active: s.host.memory.used_memory_rss,
        allocator_resident: s.host.memory.used_memory_rss,
    }
}

/// a / b as Redis computes its ratios (in float), 0 when b is unknown.
pub fn ratio(a: u64, b: u64) -> f32 {
    if b == 0 {
        0.0
    } else {
        a as f32 / b as f32
    }
}

/// MEMORY STATS — Redis 7.0's 27 fields plus one map per non-empty database.
fn stats(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let mh = overhead(ctx);
    let b = Reply::bulk_str;
    let n = |v: u64| Reply::Int(v as i64);
    let d = |v: f32| Reply::Double(v as f64);
    let diff = |a: u64, b: u64| Reply::Int(a as i64 - b as i64);
    let (allocated, active, resident) = (mh.allocator_allocated, mh.allocator_active, mh.allocator_resident);
    let mut m = vec![
        (b("peak.allocated"), n(mh.peak_allocated)),
        (b("total.allocated"), n(mh.total_allocated)),
        (b("startup.allocated"), n(mh.startup_allocated)),
        (b("replication.backlog"), n(0)),
        (b("clients.slaves"), n(0)),
        (b("clients.normal"), n(mh.clients_normal)),
        (b("cluster.links"), n(0)),
        (b("aof.buffer"), n(mh.aof_buffer)),
        (b("lua.caches"), n(mh.lua_caches)),
        (b("functions.caches"), n(mh.functions_caches)),
    ];
    for &(id, main, expires) in &mh.dbs {
        m.push((
            Reply::Bulk(Bytes::from(format!("db.{}", id))),
            Reply::Map(vec![
                (b("overhead.hashtable.main"), n(main)),
                (b("overhead.hashtable.expires"), n(expires)),
                (b("overhead.hashtable.slot-to-keys"), n(0)),
            ]),
        ));
    }
    m.extend([
        (b("overhead.total"), n(mh.overhead_total)),
        (b("keys.count"), n(mh.total_keys)),
        (b("keys.bytes-per-key"), n(mh.bytes_per_key)),
        (b("dataset.bytes"), n(mh.dataset)),
        (b("dataset.percentage"), d(mh.dataset_perc)),
        (b("peak.percentage"), d(mh.peak_perc)),
        (b("allocator.allocated"), n(allocated)),
        (b("allocator.active"), n(active)),
        (b("allocator.resident"), n(resident)),
        (b("allocator-fragmentation.ratio"), d(ratio(active, allocated))),
        (b("allocator-fragmentation.bytes"), diff(active, allocated)),
        (b("allocator-rss.ratio"), d(ratio(resident, active))),
        (b("allocator-rss.bytes"), diff(resident, active)),
        (b("rss-overhead.ratio"), d(ratio(mh.rss, resident))),
        (b("rss-overhead.bytes"), diff(mh.rss, resident)),
        (b("fragmentation"), d(ratio(mh.rss, mh.total_allocated))),
        (b("fragmentation.bytes"), diff(mh.rss, mh.total_allocated)),
    ]);
    Ok(Reply::Map(m))
}

/// MEMORY DOCTOR — Redis's report (getMemoryDoctorReport), its checks run on our figures.
/// The allocator-level checks (external fragmentation, allocator RSS) cannot fire without
/// jemalloc's numbers, as in a Redis built with another allocator.
fn doctor(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let mh = overhead(ctx);
    let mut empty = false;
    let mut issues: Vec<&str> = vec![];
    if mh.total_allocated < 5 * 1024 * 1024 {
        empty = true;
    } else {
        if ratio(mh.peak_allocated, mh.total_allocated) > 1.5 {
            issues.push(BIG_PEAK);
        }
        if ratio(mh.rss, mh.total_allocated) > 1.4 && mh.rss as i64 - mh.total_allocated as i64 > 10 << 20 {
            issues.push(HIGH_FRAG);
        }
        let clients = (ctx.others.len() + 1) as u64;
        if mh.clients_normal / clients > 1024 * 200 {
            issues.push(BIG_CLIENT_BUF);
        }
        if ctx.srv.scripting.scripts.len() > 1000 {
            issues.push(MANY_SCRIPTS);
        }
    }
    let report = if empty {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string()
    } else if issues.is_empty() {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string()
    } else {
        let mut s = String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
        for i in issues {
            s.push_str(i);
        }
        s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
        s
    };
    Ok(Reply::Verbatim("txt", Bytes::from(report)))
}

const BIG_PEAK: &str = " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
// Redis names its allocator (ZMALLOC_LIB) here; ours is the system allocator, counted.
const HIGH_FRAG: &str = " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"libc\".\n\n";
const BIG_CLIENT_BUF: &str = " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n";
const MANY_SCRIPTS: &str = " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n";

/// MEMORY MALLOC-STATS — what Redis answers when not built with jemalloc.
fn malloc_stats(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::bulk_str("Stats not supported for the current allocator"))
}

/// MEMORY PURGE — nothing to purge without jemalloc; OK, as Redis answers then.
fn purge(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(crate::reply::OK)
}
