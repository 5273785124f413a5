//! DUMP and RESTORE: a value serialised as RDB stores it (plus version and CRC64), so it moves
//! between Cinnabar and Redis 7.0 servers. Redis: cluster.c (dumpCommand, restoreCommand).

use bytes::Bytes;

use crate::command::args;
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::object::Entry;
use crate::rdb::load::{restore_value, Refused};
use crate::reply::{Reply, OK};

/// DUMP key — the serialised value, or nil.
pub fn dump(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let compress = ctx.srv.config.get_bool(crate::param!("rdbcompression"));
    Ok(ctx.lookup_read(&argv[1]).map_or(Reply::Nil, |e| Reply::Bulk(Bytes::from(crate::rdb::dump_value(&e.value, compress)))))
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
pub fn restore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (mut replace, mut absttl, mut idle, mut freq) = (false, false, None::<i64>, None::<i64>);
    let mut j = 4;
    while j < argv.len() {
        let more = argv.len() - j - 1;
        let is = |w: &str| argv[j].eq_ignore_ascii_case(w.as_bytes());
        if is("replace") {
            replace = true;
        } else if is("absttl") {
            absttl = true;
        } else if is("idletime") && more >= 1 && freq.is_none() {
            let v = args::int(&argv[j + 1])?;
            if v < 0 {
                return Err(Error::Msg("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            j += 1;
        } else if is("freq") && more >= 1 && idle.is_none() {
            let v = args::int(&argv[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err(Error::Msg("ERR Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    let key = &argv[1];
    if !replace && ctx.lookup_write(key).is_some() {
        return Err(Error::Msg("BUSYKEY Target key name already exists."));
    }
    let ttl = args::int(&argv[2])?;
    if ttl < 0 {
        return Err(Error::Msg("ERR Invalid TTL value, must be >= 0"));
    }
    let lim = crate::persistence::snapshot::limits(ctx.srv);
    let value = match restore_value(&argv[3], &lim) {
        Ok(v) => v,
        Err(Refused::Version) => return Err(Error::Msg("ERR DUMP payload version or checksum are wrong")),
        Err(Refused::Corrupt(reason)) => {
            // rdbReportError in a RESTORE: logged at verbose, and the client told.
            if !reason.is_empty() {
                ctx.srv.log(1, || crate::rdb::load::report_line(&reason, 0));
            }
            return Err(Error::Msg("ERR Bad data format"));
        }
    };
    let deleted = replace && ctx.db().remove(key).is_some();
    let expire = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(ctx.now_ms().saturating_add(t)),
    };
    if expire.is_some_and(|when| when <= ctx.now_ms()) {
        // Already expired: nothing is created (the old value, if replaced, is gone).
        if deleted {
            ctx.modified(key, "del");
            ctx.propagate_as(|| vec![Bytes::from_static(b"DEL"), key.clone()]);
        }
        return Ok(OK);
    }
    // IDLETIME sets the LRU clock back under an LRU policy, FREQ the counter under an LFU one.
    let lru = ctx.srv.access_clock().restored(freq.map(|f| f as u32), idle.map(|i| i as u64));
    ctx.db().put(Bytes::copy_from_slice(key), Entry { value, lru }, expire);
    ctx.modified(key, "restore");
    if let (Some(when), false) = (expire, absttl) {
        // Replayed with the absolute deadline (RESTORE ... ABSTTL).
        ctx.propagate_as(|| {
            let mut v = argv.to_vec();
            v[2] = Bytes::from(when.to_string());
            v.push(Bytes::from_static(b"ABSTTL"));
            v
        });
    }
    Ok(OK)
}
