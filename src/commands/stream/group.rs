//! Consumer groups: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM. Redis: t_stream.c.

use bytes::Bytes;

use super::{announce, end_bound, entry_reply, nogroup, parse_id, parse_strict, start_bound};
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::{Reply, OK};
use crate::types::stream::{Group, Stream, StreamId, INVALID_ENTRIES_READ};

static HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

pub fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(crate::commands::connection::help_reply("XGROUP", HELP))
}

/// What every XGROUP subcommand checks first (xgroupCommand's common part): the options
/// after the ID, the key's type and existence, and (for some) the group's.
struct Target {
    mkstream: bool,
    entries_read: i64,
    exists: bool,
}

fn target(ctx: &mut Ctx, argv: &[Bytes], group_required: bool) -> Result<Target> {
    let sub = &argv[1];
    let (create, setid) = (sub.eq_ignore_ascii_case(b"create"), sub.eq_ignore_ascii_case(b"setid"));
    let mut t = Target { mkstream: false, entries_read: INVALID_ENTRIES_READ, exists: false };
    let mut i = 5;
    while i < argv.len() {
        if create && argv[i].eq_ignore_ascii_case(b"mkstream") {
            t.mkstream = true;
            i += 1;
        } else if (create || setid) && argv[i].eq_ignore_ascii_case(b"entriesread") && i + 1 < argv.len() {
            t.entries_read = crate::command::args::int(&argv[i + 1])?;
            if t.entries_read < 0 && t.entries_read != INVALID_ENTRIES_READ {
                return Err(Error::Msg("ERR value for ENTRIESREAD must be positive or -1"));
            }
            i += 2;
        } else {
            return Err(Error::subcommand_syntax(sub, "XGROUP"));
        }
    }
    let s = ctx.write(&argv[2], Value::stream)?;
    t.exists = s.is_some();
    let has_group = s.as_ref().is_some_and(|s| s.groups.contains_key(&argv[3][..]));
    if !t.mkstream {
        if !t.exists {
            return Err(Error::Msg("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
        }
        if group_required && !has_group {
            return Err(Error::Dyn(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(&argv[3]),
                String::from_utf8_lossy(&argv[2])
            )));
        }
    }
    Ok(t)
}

fn stream<'a>(ctx: &'a mut Ctx, key: &[u8]) -> &'a mut Stream {
    ctx.write(key, Value::stream).ok().flatten().expect("checked by target()")
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]
pub fn create(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let t = target(ctx, argv, false)?;
    if argv.len() > 8 {
        return Err(Error::subcommand_syntax(&argv[1], "XGROUP"));
    }
    let id = if &argv[4][..] == b"$" {
        if t.exists {
            stream(ctx, &argv[2]).last_id
        } else {
            StreamId::MIN
        }
    } else {
        parse_strict(&argv[4])?
    };
    if !t.exists {
        ctx.create(&argv[2], super::new_stream, Value::stream)?;
        let db = ctx.client.db;
        ctx.touch_watched(db, &argv[2]);
    }
    let s = stream(ctx, &argv[2]);
    if s.groups.contains_key(&argv[3][..]) {
        return Err(Error::Msg("BUSYGROUP Consumer Group name already exists"));
    }
    s.groups.insert(Bytes::copy_from_slice(&argv[3]), Group::new(id, t.entries_read));
    announce(ctx, &argv[2], "xgroup-create");
    Ok(OK)
}

/// XGROUP SETID key group id|$ [ENTRIESREAD entries-read]
pub fn setid(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let t = target(ctx, argv, true)?;
    if argv.len() != 5 && argv.len() != 7 {
        return Err(Error::subcommand_syntax(&argv[1], "XGROUP"));
    }
    let s = stream(ctx, &argv[2]);
    let id = if &argv[4][..] == b"$" { s.last_id } else { parse_id(&argv[4], 0)? };
    let g = s.groups.get_mut(&argv[3][..]).expect("checked");
    g.last_id = id;
    g.entries_read = t.entries_read;
    announce(ctx, &argv[2], "xgroup-setid");
    Ok(OK)
}

/// XGROUP DESTROY key group
pub fn destroy(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    target(ctx, argv, false)?;
    if stream(ctx, &argv[2]).groups.remove(&argv[3][..]).is_none() {
        return Ok(Reply::Int(0));
    }
    announce(ctx, &argv[2], "xgroup-destroy");
    // Readers blocked on the group get their NOGROUP error now.
    let db = ctx.client.db;
    ctx.srv.clients.blocking.signal(db, &argv[2]);
    Ok(Reply::Int(1))
}

/// XGROUP CREATECONSUMER key group consumer
pub fn createconsumer(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    target(ctx, argv, true)?;
    let now = ctx.now_ms();
    let g = stream(ctx, &argv[2]).groups.get_mut(&argv[3][..]).expect("checked");
    if g.consumers.contains_key(&argv[4][..]) {
        return Ok(Reply::Int(0));
    }
    g.ensure_consumer(&argv[4], now);
    announce(ctx, &argv[2], "xgroup-createconsumer");
    Ok(Reply::Int(1))
}

/// XGROUP DELCONSUMER key group consumer
pub fn delconsumer(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    target(ctx, argv, true)?;
    let g = stream(ctx, &argv[2]).groups.get_mut(&argv[3][..]).expect("checked");
    let Some(pending) = g.remove_consumer(&argv[4]) else { return Ok(Reply::Int(0)) };
    announce(ctx, &argv[2], "xgroup-delconsumer");
    Ok(Reply::Int(pending as i64))
}

/// The stream and group a claim works on, or the NOGROUP error (WRONGTYPE first).
fn stream_with_group<'a>(ctx: &'a mut Ctx, key: &Bytes, group: &Bytes) -> Result<&'a mut Stream> {
    match ctx.read(key, Value::stream)? {
        Some(s) if s.groups.contains_key(&group[..]) => Ok(s),
        _ => Err(nogroup(key, group, "")),
    }
}

/// XACK key group id [id ...]
pub fn xack(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    match ctx.read(&argv[1], Value::stream)? {
        Some(s) if s.groups.contains_key(&argv[2][..]) => {}
        _ => return Ok(Reply::Int(0)),
    }
    // All or nothing: every ID must parse before any is acknowledged.
    let ids = argv[3..].iter().map(|a| parse_strict(a)).collect::<Result<Vec<_>>>()?;
    let s = ctx.read(&argv[1], Value::stream)?.expect("checked");
    let g = s.groups.get_mut(&argv[2][..]).expect("checked");
    let acked = ids.into_iter().filter(|&id| g.ack(id)).count();
    ctx.srv.stats.dirty += acked as u64;
    Ok(Reply::Int(acked as i64))
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
pub fn xpending(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(Error::Syntax);
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if argv[3].eq_ignore_ascii_case(b"idle") {
            min_idle = crate::command::args::int(&argv[4])?;
            if argc < 8 {
                return Err(Error::Syntax);
            }
            at += 2;
        }
        let count = crate::command::args::int(&argv[at + 2])?.max(0);
        let start = start_bound(&argv[at])?;
        let end = end_bound(&argv[at + 1])?;
        let consumer = argv.get(at + 3);
        range = Some((min_idle, start, end, count, consumer));
    }
    let now = ctx.now_ms();
    let s = stream_with_group(ctx, &argv[1], &argv[2])?;
    let g = &s.groups[&argv[2][..]];
    let Some((min_idle, start, end, count, consumer)) = range else {
        if g.pel.is_empty() {
            return Ok(Reply::Array(vec![Reply::Int(0), Reply::Nil, Reply::Nil, Reply::NilArray]));
        }
        let first = *g.pel.keys().next().expect("non-empty");
        let last = *g.pel.keys().next_back().expect("non-empty");
        let owners = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(name, c)| Reply::Array(vec![Reply::Bulk(name.clone()), Reply::Bulk(Bytes::from(c.pel.len().to_string()))]))
            .collect();
        return Ok(Reply::Array(vec![Reply::Int(g.pel.len() as i64), Reply::Bulk(first.to_bytes()), Reply::Bulk(last.to_bytes()), Reply::Array(owners)]));
    };
    let ids: Box<dyn Iterator<Item = &StreamId>> = match consumer {
        Some(name) => match g.consumers.get(&name[..]) {
            Some(c) => Box::new(c.pel.range(start..)),
            None => return Ok(Reply::Array(vec![])),
        },
        None => Box::new(g.pel.range(start..).map(|(id, _)| id)),
    };
    let mut out = vec![];
    let mut left = count;
    for id in ids {
        if left == 0 || *id > end {
            break;
        }
        let nack = &g.pel[id];
        if min_idle > 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        left -= 1;
        out.push(Reply::Array(vec![
            Reply::Bulk(id.to_bytes()),
            Reply::Bulk(nack.consumer.clone()),
            Reply::Int((now - nack.delivery_time).max(0)),
            Reply::Int(nack.delivery_count as i64),
        ]));
    }
    Ok(Reply::Array(out))
}

/// Gives a pending entry to `consumer` as XCLAIM and XAUTOCLAIM do: a new delivery time, a
/// count set or bumped, the entry moved between the consumers' PELs.
fn claim(g: &mut Group, id: StreamId, consumer: &Bytes, time: i64, retry: Option<u64>, justid: bool) {
    let old = g.pel.get(&id).map(|n| n.delivery_count).unwrap_or(1);
    let count = match retry {
        Some(n) => n,
        None if !justid => old + 1,
        None => old,
    };
    g.assign(id, consumer, time, count);
}

/// Looks up (refreshing its seen time) or creates the claiming consumer, once per command.
fn claimer(ctx: &mut Ctx, key: &Bytes, group: &Bytes, consumer: &Bytes, now: i64) {
    let s = ctx.read(key, Value::stream).ok().flatten().expect("checked");
    if s.groups.get_mut(&group[..]).expect("checked").ensure_consumer(consumer, now) {
        announce(ctx, key, "xgroup-createconsumer");
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
pub fn xclaim(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (key, group, consumer) = (&argv[1], &argv[2], &argv[3]);
    stream_with_group(ctx, key, group)?;
    let min_idle = crate::command::args::int(&argv[4]).map_err(|_| Error::Msg("ERR Invalid min-idle-time argument for XCLAIM"))?.max(0);
    // IDs run until the first argument that is not one; options follow.
    let mut ids = vec![];
    let mut j = 5;
    while j < argv.len() {
        match StreamId::parse(&argv[j], 0, true, false) {
            Some((id, _)) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let now = ctx.now_ms();
    let (mut force, mut justid) = (false, false);
    let mut delivery: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let opt = &argv[j];
        let num = |a: &[u8], msg: &'static str| crate::command::args::int(a).map_err(|_| Error::Msg(msg));
        if opt.eq_ignore_ascii_case(b"force") {
            force = true;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else if opt.eq_ignore_ascii_case(b"idle") && more {
            j += 1;
            delivery = Some(now - num(&argv[j], "ERR Invalid IDLE option argument for XCLAIM")?);
        } else if opt.eq_ignore_ascii_case(b"time") && more {
            j += 1;
            delivery = Some(num(&argv[j], "ERR Invalid TIME option argument for XCLAIM")?);
        } else if opt.eq_ignore_ascii_case(b"retrycount") && more {
            j += 1;
            retry = Some(num(&argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")?);
        } else if opt.eq_ignore_ascii_case(b"lastid") && more {
            j += 1;
            last_id = parse_strict(&argv[j])?;
        } else {
            return Err(Error::Dyn(format!("ERR Unrecognized XCLAIM option '{}'", String::from_utf8_lossy(opt))));
        }
        j += 1;
    }
    // A bogus time (in the future, negative) means now: clients compute it from their clocks.
    let delivery = match delivery {
        Some(t) if t >= 0 && t <= now => t,
        _ => now,
    };
    // Replayed as one exact XCLAIM per entry it changed (or the group's new last ID alone).
    ctx.prevent_propagation();
    let mut propagate_last_id = false;
    {
        let s = stream_with_group(ctx, key, group)?;
        let g = s.groups.get_mut(&group[..]).expect("checked");
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    let mut out = vec![];
    let mut have_consumer = false;
    for id in ids {
        let s = stream_with_group(ctx, key, group)?;
        let exists = s.contains(id);
        let g = s.groups.get_mut(&group[..]).expect("checked");
        let pending = g.pel.get(&id).map(|n| n.delivery_time);
        if !exists {
            // Entries deleted from the stream leave the PEL when someone tries to claim them.
            let before = g.pel.get(&id).cloned().map(|n| (n, g.last_id));
            if g.ack(id) {
                ctx.srv.stats.dirty += 1;
                let (nack, last) = before.expect("was pending");
                ctx.also_propagate(|| super::claim_argv(key, group, id, &nack, last));
                propagate_last_id = false;
            }
            continue;
        }
        match pending {
            None if !force => continue,
            Some(t) if min_idle > 0 && now - t < min_idle => continue,
            _ => {}
        }
        if !have_consumer {
            claimer(ctx, key, group, consumer, now);
            have_consumer = true;
        }
        let s = stream_with_group(ctx, key, group)?;
        let g = s.groups.get_mut(&group[..]).expect("checked");
        // A NACK FORCE creates starts at one delivery, as a new one does.
        if pending.is_none() {
            g.pel.insert(id, crate::types::stream::Nack { delivery_time: now, delivery_count: 1, consumer: g.consumer_name(consumer) });
            g.consumers.get_mut(&consumer[..]).expect("created").pel.insert(id);
        }
        claim(g, id, consumer, delivery, retry.map(|r| r as u64), justid);
        let (nack, last) = (g.pel[&id].clone(), g.last_id);
        out.push(if justid { Reply::Bulk(id.to_bytes()) } else { entry_reply(id, s.get(id).expect("exists")) });
        ctx.srv.stats.dirty += 1;
        ctx.also_propagate(|| super::claim_argv(key, group, id, &nack, last));
        propagate_last_id = false;
    }
    if propagate_last_id {
        let g = &stream_with_group(ctx, key, group)?.groups[&group[..]];
        let argv = super::setid_argv(key, group, g.last_id, g.entries_read);
        ctx.srv.stats.dirty += 1;
        ctx.also_propagate(|| argv);
    }
    Ok(Reply::Array(out))
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub fn xautoclaim(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (key, group, consumer) = (&argv[1], &argv[2], &argv[3]);
    let min_idle = crate::command::args::int(&argv[4]).map_err(|_| Error::Msg("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?.max(0);
    let start = start_bound(&argv[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"count") && j + 1 < argv.len() {
            count = crate::command::args::range_long(&argv[j + 1], 1, i64::MAX / 16, Some("ERR COUNT must be > 0"))?;
            j += 1;
        } else if argv[j].eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    let now = ctx.now_ms();
    let s = stream_with_group(ctx, key, group)?;
    // Each call looks at no more than COUNT * 10 pending entries.
    let attempts = count.saturating_mul(10) as usize;
    let candidates: Vec<StreamId> = s.groups[&group[..]].pel.range(start..).map(|(id, _)| *id).take(attempts.saturating_add(1)).collect();
    let mut claimed = vec![];
    let mut deleted = vec![];
    let mut examined = 0;
    let mut have_consumer = false;
    for &id in &candidates {
        if examined == attempts || count == 0 {
            break;
        }
        examined += 1;
        let s = stream_with_group(ctx, key, group)?;
        let exists = s.contains(id);
        let g = s.groups.get_mut(&group[..]).expect("checked");
        if !exists {
            let (nack, last) = (g.pel[&id].clone(), g.last_id);
            g.ack(id);
            ctx.srv.stats.dirty += 1;
            ctx.also_propagate(|| super::claim_argv(key, group, id, &nack, last));
            deleted.push(Reply::Bulk(id.to_bytes()));
            count -= 1;
            continue;
        }
        if min_idle > 0 && now - g.pel[&id].delivery_time < min_idle {
            continue;
        }
        if !have_consumer {
            claimer(ctx, key, group, consumer, now);
            have_consumer = true;
        }
        let s = stream_with_group(ctx, key, group)?;
        let g = s.groups.get_mut(&group[..]).expect("checked");
        claim(g, id, consumer, now, None, justid);
        let (nack, last) = (g.pel[&id].clone(), g.last_id);
        claimed.push(if justid { Reply::Bulk(id.to_bytes()) } else { entry_reply(id, s.get(id).expect("exists")) });
        count -= 1;
        ctx.srv.stats.dirty += 1;
        ctx.also_propagate(|| super::claim_argv(key, group, id, &nack, last));
    }
    ctx.prevent_propagation();
    // The cursor: the first pending entry not looked at, or 0-0 when the scan is complete.
    let cursor = candidates.get(examined).copied().unwrap_or(StreamId::MIN);
    Ok(Reply::Array(vec![Reply::Bulk(cursor.to_bytes()), Reply::Array(claimed), Reply::Array(deleted)]))
}
