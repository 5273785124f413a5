//! DEBUG: Redis's debugging and testing subcommands, allowed by `enable-debug-command`
//! (debug.c). Those Redis's own test suite uses behave as Redis's; the host does what needs
//! the process (sleeping, reloading files, crashing on SEGFAULT).

use bytes::Bytes;

use super::{allow_protected, digest};
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::reply::{Reply, OK};

const DEBUG_HELP: &[&str] = &[
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SET-DISABLE-DENY-SCRIPTS <0|1>",
    "    Lets scripts call commands that are otherwise denied to them (testing only).",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the glob-style pattern matcher.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
];

/// DEBUG POPULATE count [prefix] [size]: `count` string keys `prefix:N` holding `value:N`
/// (cut or zero-padded to `size`), skipping names already taken. Like Redis: the keys are
/// not propagated, count as no change (dirty) and notify nobody, but wake WATCHes,
/// blocked clients and tracking as any new key does.
fn populate(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let positive = |a: &Bytes| -> Result<u64> {
        match crate::util::parse_i64(a) {
            Some(n) if n >= 0 => Ok(n as u64),
            Some(_) => Err(Error::Msg("ERR value is out of range, must be positive")),
            None => Err(Error::NotInteger),
        }
    };
    let count = positive(&argv[2])?;
    let size = match argv.get(4) {
        Some(a) => positive(a)? as usize,
        None => 0,
    };
    // snprintf("%s:%lu") into 128 bytes: the prefix ends at a NUL, the name at 127 bytes.
    let prefix: &[u8] = match argv.get(3) {
        Some(p) => p.split(|&c| c == 0).next().unwrap_or(b""),
        None => b"key",
    };
    ctx.prevent_propagation();
    let db = ctx.client.db;
    let lru = ctx.lru();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    let mut val = Vec::with_capacity(size.max(26));
    for j in 0..count {
        key.clear();
        key.extend_from_slice(prefix);
        key.push(b':');
        key.extend_from_slice(j.to_string().as_bytes());
        key.truncate(127);
        if ctx.lookup_write(&key).is_some() {
            continue;
        }
        val.clear();
        val.extend_from_slice(b"value:");
        val.extend_from_slice(j.to_string().as_bytes());
        if size > 0 {
            val.resize(size, 0);
        }
        ctx.srv.dbs[db].set(&key, crate::object::Value::Str(crate::object::Str::from_bytes(&val)), false, lru);
        ctx.signal_modified(db, &key);
    }
    Ok(OK)
}

/// DEBUG PROTOCOL type: one value of each RESP3 type, for client libraries' tests.
fn protocol(ctx: &mut Ctx, name: &[u8]) -> Result<Reply> {
    let resp3 = ctx.client.conn.resp >= 3;
    let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
    let ints = || (0..3).map(Reply::Int).collect::<Vec<_>>();
    Ok(if is("string") {
        Reply::Bulk(Bytes::from_static(b"Hello World"))
    } else if is("integer") {
        Reply::Int(12345)
    } else if is("double") {
        // Redis's value, not π.
        #[allow(clippy::approx_constant)]
        Reply::Double(3.141)
    } else if is("bignum") {
        Reply::BigNumber("1234567999999999999999999999999999999".into())
    } else if is("null") {
        Reply::Nil
    } else if is("array") {
        Reply::Array(ints())
    } else if is("set") {
        Reply::Set(ints())
    } else if is("map") {
        Reply::Map((0..3).map(|j| (Reply::Int(j), Reply::Bool(j == 1))).collect())
    } else if is("attrib") {
        // An attribute is not a reply of its own: a real one follows it. RESP2 has no
        // attributes, and only a host writing RESP bytes can carry one.
        let after = Reply::Bulk(Bytes::from_static(b"Some real reply following the attribute"));
        if resp3 && ctx.client.info.writes_resp {
            let attr = Bytes::from_static(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n");
            Reply::Multi(vec![Reply::Raw(attr), after])
        } else {
            after
        }
    } else if is("push") {
        if !resp3 {
            return Err(Error::Msg("ERR RESP2 is not supported by this command"));
        }
        let push = Reply::Push(vec![Reply::Bulk(Bytes::from_static(b"server-cpu-usage")), Reply::Int(42)]);
        Reply::Multi(vec![push, Reply::Bulk(Bytes::from_static(b"Some real reply following the push reply"))])
    } else if is("true") {
        Reply::Bool(true)
    } else if is("false") {
        Reply::Bool(false)
    } else if is("verbatim") {
        Reply::Verbatim("txt", Bytes::from_static(b"This is a verbatim\nstring"))
    } else {
        return Err(Error::Msg(
            "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ));
    })
}

/// DEBUG STRINGMATCH-TEST: stringmatchlen_fuzz_test, random patterns against random
/// strings; it passes by returning.
fn stringmatch_test(ctx: &mut Ctx) -> Reply {
    const CHARS: &[u8] = b"*?[]^-\\abc";
    let mut pat = Vec::new();
    let mut s = Vec::new();
    for _ in 0..100_000 {
        let (pl, sl) = (ctx.srv.rng.next_u64() % 32, ctx.srv.rng.next_u64() % 32);
        pat.clear();
        s.clear();
        pat.extend((0..pl).map(|_| CHARS[(ctx.srv.rng.next_u64() % CHARS.len() as u64) as usize]));
        s.extend((0..sl).map(|_| CHARS[(ctx.srv.rng.next_u64() % CHARS.len() as u64) as usize]));
        std::hint::black_box(crate::util::glob_match(&pat, &s, false));
    }
    Reply::Status("Apparently Redis did not crash: test passed".into())
}

/// DEBUG DIGEST | DEBUG DIGEST-VALUE key ... | DEBUG RELOAD | DEBUG SLEEP seconds | DEBUG SET-ACTIVE-EXPIRE 0|1 | DEBUG HELP
/// DEBUG OBJECT key: the value's low-level facts as Redis prints them. The key is found
/// without expiring it (dictFind); refcount as OBJECT REFCOUNT gives it;
/// serializedlength is the value's RDB payload under the current `rdbcompression`.
fn debug_object(ctx: &mut Ctx, key: &[u8]) -> Result<Reply> {
    use crate::object::{Str, Value};
    let lfu = ctx.srv.config.hot.lfu_policy;
    let compress = ctx.srv.config.get_bool(crate::param!("rdbcompression"));
    let fill = ctx.srv.config.get_i64(crate::param!("list-max-listpack-size"));
    let compressed = ctx.srv.config.get_i64(crate::param!("list-compress-depth")) != 0;
    let db = ctx.client.db;
    let Some(e) = ctx.srv.dbs[db].peek(key) else { return Err(Error::NoSuchKey) };
    // As OBJECT REFCOUNT: the integers Redis shares.
    let shared = matches!(e.value, Value::Str(Str::Int(n)) if (0..10000).contains(&n));
    let mut w = crate::rdb::save::Writer::new(compress);
    w.object(&e.value);
    let len = w.into_bytes().len();
    let idle = if lfu { 0 } else { ctx.srv.access_clock().idle_seconds(e) };
    let mut extra = String::new();
    if let Value::List(l) = &e.value {
        let nodes = l.node_count();
        // Redis's listpack: a 6-byte header and an end byte around the same entries where
        // ours keeps a 4-byte count.
        let size: usize = l.nodes().map(|n| n.bytes() + 3).sum();
        extra = format!(
            " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{}",
            nodes,
            l.len() as f64 / nodes.max(1) as f64,
            fill,
            compressed as u8,
            size
        );
    }
    Ok(Reply::Status(format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}{}",
        &e.value,
        if shared { i32::MAX } else { 1 },
        e.value.encoding(),
        len,
        e.lru,
        idle,
        extra
    )))
}

pub(crate) fn debug(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    // Redis 7 refuses DEBUG unless enable-debug-command allows it (allowProtectedAction).
    if !allow_protected(ctx, "enable-debug-command") {
        return Err(Error::Msg("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
    }
    let sub = &argv[1];
    if sub.eq_ignore_ascii_case(b"help") && argv.len() == 2 {
        return Ok(crate::commands::connection::help_reply("DEBUG", DEBUG_HELP));
    }
    if sub.eq_ignore_ascii_case(b"object") && argv.len() == 3 {
        return debug_object(ctx, &argv[2]);
    }
    // A panic on demand, as Redis's serverPanic. Redis dies of it; here it costs this one
    // command natively (see `crate::panic`), and in wasm it traps, which the JS package
    // recovers from (its tests use this).
    if sub.eq_ignore_ascii_case(b"panic") && argv.len() == 2 {
        panic!("DEBUG PANIC called at Unix time {}", ctx.srv.now_ms() / 1000);
    }
    // Debug builds only: a bug on demand, for the tests that hold a panic to one command
    // (HANDLER) or one connection (BATCH: after this command, in the batch's bookkeeping).
    #[cfg(debug_assertions)]
    if sub.eq_ignore_ascii_case(b"cinnabar-panic") && argv.len() == 3 {
        if argv[2].eq_ignore_ascii_case(b"batch") {
            crate::panic::panic_after_command();
            return Ok(OK);
        }
        panic!("DEBUG CINNABAR-PANIC asked for it");
    }
    if sub.eq_ignore_ascii_case(b"sleep") && argv.len() == 3 {
        // strtod semantics: garbage reads as 0.
        let secs = std::str::from_utf8(&argv[2]).ok().and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(0.0);
        let micros = (secs * 1e6).max(0.0) as u64;
        ctx.event(Event::Sleep { micros });
        ctx.srv.clock.slept_us += micros as i64;
        ctx.srv.clock.sleep_debt_us += micros as i64;
        return Ok(OK);
    }
    if sub.eq_ignore_ascii_case(b"reload") {
        // A save and a load through the RDB format, as Redis does: what survives this
        // survives a restart. The snapshot also goes to disk through the host. NOFLUSH keeps
        // the dataset (a key or library the file also has is then an error, unless MERGE
        // lets the file's replace it); NOSAVE loads the file already on disk.
        let (mut flush, mut save, mut merge) = (true, true, false);
        for opt in &argv[2..] {
            if opt.eq_ignore_ascii_case(b"merge") {
                merge = true;
            } else if opt.eq_ignore_ascii_case(b"noflush") {
                flush = false;
            } else if opt.eq_ignore_ascii_case(b"nosave") {
                save = false;
            } else {
                return Err(Error::Msg("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."));
            }
        }
        if ctx.srv.persistence.loading.is_some() {
            // The file being loaded must not be replaced by the part read so far.
            return Err(Error::Loading);
        }
        use crate::rdb::load::Merge;
        let mode = match (flush, merge) {
            (true, _) => Merge::Flush,
            (false, true) => Merge::Replace,
            (false, false) => Merge::Refuse,
        };
        if !save {
            // The file is the host's to read; it answers with `rdb_reload_finished`.
            if !ctx.can_block() {
                return Err(Error::Msg("ERR DEBUG RELOAD NOSAVE is not allowed inside MULTI or scripts"));
            }
            let id = ctx.client.id;
            ctx.event(Event::ReloadRdb { client: id, merge: mode });
            return Ok(ctx.block(&[], crate::blocking::BlockType::Host, 0, argv, Reply::Nil));
        }
        let snapshot = crate::persistence::snapshot::dump(ctx.srv);
        crate::persistence::snapshot::load_merging(ctx.srv, &snapshot, mode).map_err(|_| Error::Msg("ERR Error trying to load the RDB dump"))?;
        crate::persistence::request_save(ctx.srv, crate::persistence::SaveKind::Foreground);
        return Ok(OK);
    }
    if sub.eq_ignore_ascii_case(b"loadaof") && argv.len() == 2 {
        // The host owns the files: it syncs the AOF and replays it, then answers.
        if ctx.srv.persistence.loading.is_some() {
            return Err(Error::Loading);
        }
        if !ctx.can_block() {
            return Err(Error::Msg("ERR DEBUG LOADAOF is not allowed inside MULTI or scripts"));
        }
        let id = ctx.client.id;
        ctx.event(Event::LoadAof { client: id });
        return Ok(ctx.block(&[], crate::blocking::BlockType::Host, 0, argv, Reply::Nil));
    }
    if sub.eq_ignore_ascii_case(b"digest") && argv.len() == 2 {
        return Ok(Reply::Status(digest::dataset(&ctx.srv.dbs)));
    }
    if sub.eq_ignore_ascii_case(b"digest-value") {
        let db = &ctx.srv.dbs[ctx.client.db];
        return Ok(Reply::Array(argv[2..].iter().map(|k| Reply::Status(digest::key(db, k))).collect()));
    }
    if sub.eq_ignore_ascii_case(b"quicklist-packed-threshold") && argv.len() == 3 {
        let size = crate::config::parse_memory(&String::from_utf8_lossy(&argv[2])).filter(|&n| n >= 0);
        return match size {
            Some(n) if crate::types::list::set_packed_threshold(n as u64) => Ok(OK),
            _ => Err(Error::Msg("ERR argument must be a memory value bigger than 1 and smaller than 4gb")),
        };
    }
    if sub.eq_ignore_ascii_case(b"config-rewrite-force-all") && argv.len() == 2 {
        if ctx.srv.host.config_file.is_empty() {
            return Err(Error::Msg("ERR CONFIG-REWRITE-FORCE-ALL failed: The server is running without a config file"));
        }
        ctx.srv.debug.rewrite_force_all = true;
        let id = ctx.client.id;
        ctx.event(crate::event::Event::RewriteConfig { client: ctx.can_block().then_some(id) });
        return Ok(if ctx.can_block() { ctx.block(&[], crate::blocking::BlockType::Host, 0, argv, Reply::Nil) } else { OK });
    }
    if argv.len() == 3 {
        let on = || crate::util::atoi(&argv[2]) != 0;
        let switch = if sub.eq_ignore_ascii_case(b"set-active-expire") {
            Some(&mut ctx.srv.debug.active_expire)
        } else if sub.eq_ignore_ascii_case(b"set-skip-checksum-validation") {
            Some(&mut ctx.srv.debug.skip_checksum)
        } else if sub.eq_ignore_ascii_case(b"set-disable-deny-scripts") {
            Some(&mut ctx.srv.debug.allow_noscript_in_scripts)
        } else if sub.eq_ignore_ascii_case(b"pause-cron") {
            Some(&mut ctx.srv.debug.pause_cron)
        } else {
            None
        };
        if let Some(flag) = switch {
            *flag = on();
            return Ok(OK);
        }
    }
    if sub.eq_ignore_ascii_case(b"populate") && (3..=5).contains(&argv.len()) {
        return populate(ctx, argv);
    }
    if sub.eq_ignore_ascii_case(b"protocol") && argv.len() == 3 {
        return protocol(ctx, &argv[2]);
    }
    if sub.eq_ignore_ascii_case(b"log") && argv.len() == 3 {
        let msg = String::from_utf8_lossy(argv[2].split(|&c| c == 0).next().unwrap_or(b"")).into_owned();
        ctx.srv.log(3, || format!("DEBUG LOG: {msg}"));
        return Ok(OK);
    }
    if sub.eq_ignore_ascii_case(b"error") && argv.len() == 3 {
        // No newlines in errors.
        let msg: String = String::from_utf8_lossy(&argv[2]).chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
        return Ok(Reply::Error(msg));
    }
    if sub.eq_ignore_ascii_case(b"stringmatch-test") && argv.len() == 2 {
        return Ok(stringmatch_test(ctx));
    }
    Err(Error::subcommand_syntax(sub, "DEBUG"))
}
