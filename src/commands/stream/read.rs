//! XREAD and XREADGROUP, and their blocking. A blocked read is a recorded wait (see
//! `blocking`); `$` is resolved to the stream's last ID before the wait is recorded, so the
//! re-run after an XADD reads what arrived since. A woken read serves the one key that woke
//! it, with COUNT defaulting to 1000, as Redis does. Redis: t_stream.c xreadCommand,
//! blocked.c serveClientsBlockedOnStreamKey.

use bytes::Bytes;

use super::{entry_reply, nogroup, parse_strict};
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::Reply;
use crate::types::stream::{Stream, StreamId};

/// COUNT of a woken read that gave none (XREAD_BLOCKED_DEFAULT_COUNT).
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// The keys of XREAD/XREADGROUP: the first half of what follows STREAMS.
pub fn xread_keys(argv: &[Bytes]) -> Vec<(usize, u16)> {
    use crate::command::keyspec::flags::*;
    let Some(pos) = argv.iter().skip(1).position(|a| a.eq_ignore_ascii_case(b"streams")) else { return vec![] };
    let first = pos + 2;
    let n = (argv.len() - first) / 2;
    (first..first + n).map(|i| (i, RO | ACCESS)).collect()
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
pub fn xread(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    read(ctx, argv, false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
pub fn xreadgroup(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    // Replayed as the claims and group moves it recorded, never as a read.
    ctx.prevent_propagation();
    read(ctx, argv, true)
}

/// Where a read starts on one stream.
#[derive(Clone, Copy)]
enum From {
    /// Entries after this ID (an explicit ID, or `$` resolved).
    After(StreamId),
    /// XREADGROUP `>`: entries the group has not delivered yet.
    New,
}

fn read(ctx: &mut Ctx, argv: &[Bytes], xreadgroup: bool) -> Result<Reply> {
    let mut timeout: Option<i64> = None;
    let mut count: usize = 0;
    let mut streams_arg = 0;
    let mut group: Option<(&Bytes, &Bytes)> = None;
    let mut noack = false;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = &argv[i];
        if o.eq_ignore_ascii_case(b"block") && more > 0 {
            // MULTI only answers a blocking read at once; a script may not ask for one.
            if ctx.client.id == crate::script::watch::SCRIPT_CLIENT_ID {
                return Err(Error::Dyn(format!("ERR {} command is not allowed with BLOCK option from scripts", String::from_utf8_lossy(&argv[0]))));
            }
            i += 1;
            let ms = crate::command::args::int(&argv[i]).map_err(|_| Error::Msg("ERR timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(Error::Msg("ERR timeout is negative"));
            }
            timeout = Some(ms);
        } else if o.eq_ignore_ascii_case(b"count") && more > 0 {
            i += 1;
            count = crate::command::args::int(&argv[i])?.max(0) as usize;
        } else if o.eq_ignore_ascii_case(b"streams") && more > 0 {
            streams_arg = i + 1;
            if !(argv.len() - streams_arg).is_multiple_of(2) {
                return Err(Error::Msg("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."));
            }
            break;
        } else if o.eq_ignore_ascii_case(b"group") && more >= 2 {
            if !xreadgroup {
                return Err(Error::Msg("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."));
            }
            group = Some((&argv[i + 1], &argv[i + 2]));
            i += 2;
        } else if o.eq_ignore_ascii_case(b"noack") {
            if !xreadgroup {
                return Err(Error::Msg("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."));
            }
            noack = true;
        } else {
            return Err(Error::Syntax);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(Error::Syntax);
    }
    if xreadgroup && group.is_none() {
        return Err(Error::Msg("ERR Missing GROUP option for XREADGROUP"));
    }
    let n = (argv.len() - streams_arg) / 2;
    let keys = &argv[streams_arg..streams_arg + n];
    // A woken read serves the key that woke it, and only that one.
    let woken = ctx.client.wait.unblocked_on.clone();
    let only = |k: &Bytes| woken.as_ref().is_none_or(|w| w == k);
    let mut from = Vec::with_capacity(n);
    for (k, key) in keys.iter().enumerate() {
        let arg = &argv[streams_arg + n + k];
        if !only(key) {
            from.push(From::New);
            continue;
        }
        let s = ctx.read(key, Value::stream)?;
        if let Some((g, _)) = group {
            if !s.as_ref().is_some_and(|s| s.groups.contains_key(&g[..])) {
                if woken.is_some() {
                    return Err(Error::Msg("NOGROUP the consumer group this client was blocked on no longer exists"));
                }
                return Err(nogroup(key, g, " in XREADGROUP with GROUP option"));
            }
        }
        if &arg[..] == b"$" {
            if xreadgroup {
                return Err(Error::Msg("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
            }
            from.push(From::After(s.map_or(StreamId::MIN, |s| s.last_id)));
        } else if &arg[..] == b">" {
            if !xreadgroup {
                return Err(Error::Msg("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
            }
            from.push(From::New);
        } else {
            from.push(From::After(parse_strict(arg)?));
        }
    }
    if woken.is_some() && count == 0 {
        count = BLOCKED_DEFAULT_COUNT;
    }
    let now = ctx.now_ms();
    let mut served: Vec<(Bytes, Reply)> = vec![];
    for (k, key) in keys.iter().enumerate() {
        if !only(key) {
            continue;
        }
        let Some(s) = ctx.read(key, Value::stream)? else { continue };
        let s: &mut Stream = s;
        let entries = match (group, from[k]) {
            (Some((g, consumer)), From::After(after)) => {
                // History: this consumer's own pending entries after the ID.
                let Some(start) = after.incr() else { continue };
                let created = create_consumer(s, g, consumer, now);
                let r = history(s, g, consumer, start, count, now);
                Some((r, created))
            }
            (Some((g, consumer)), From::New) => {
                let last = s.groups[&g[..]].last_id;
                if s.is_empty() || s.last_valid_id() <= last {
                    None
                } else {
                    let created = create_consumer(s, g, consumer, now);
                    let (r, effects) = deliver(s, g, consumer, last.incr().unwrap_or(StreamId::MAX), count, noack, now);
                    // Replayed as what the read did to the group (the read itself is not).
                    if created && noack {
                        ctx.also_propagate(|| {
                            vec![Bytes::from_static(b"XGROUP"), Bytes::from_static(b"CREATECONSUMER"), key.clone(), g.clone(), consumer.clone()]
                        });
                    }
                    for argv in effects.into_iter().map(|e| e.argv(key, g)) {
                        ctx.also_propagate(|| argv);
                    }
                    Some((r, created))
                }
            }
            (None, From::After(after)) => {
                if s.is_empty() || s.last_valid_id() <= after {
                    None
                } else {
                    let start = after.incr().unwrap_or(StreamId::MAX);
                    Some((super::entries_reply(s.range(start, StreamId::MAX, false, count)), false))
                }
            }
            (None, From::New) => None,
        };
        if let Some((reply, created)) = entries {
            if created {
                super::announce(ctx, key, "xgroup-createconsumer");
            }
            if group.is_some() {
                ctx.srv.stats.dirty += 1;
            }
            served.push((key.clone(), reply));
        }
    }
    if !served.is_empty() {
        return Ok(if ctx.client.conn.resp == 2 {
            Reply::Array(served.into_iter().map(|(k, r)| Reply::Array(vec![Reply::Bulk(k), r])).collect())
        } else {
            Reply::Map(served.into_iter().map(|(k, r)| (Reply::Bulk(k), r)).collect())
        });
    }
    let Some(ms) = timeout else { return Ok(Reply::NilArray) };
    if !ctx.can_block() || woken.is_some() {
        // Inside MULTI a read that would block answers as if it timed out; a woken read that
        // found nothing after all keeps waiting (its wait is restored by the caller).
        return Ok(if woken.is_some() { Reply::Blocked } else { Reply::NilArray });
    }
    let deadline = if ms == 0 { 0 } else { now.saturating_add(ms) };
    // The wait re-runs this command: pin `$` to what it meant now.
    let mut pinned = argv.to_vec();
    for (k, f) in from.iter().enumerate() {
        if let From::After(id) = f {
            pinned[streams_arg + n + k] = id.to_bytes();
        }
    }
    Ok(ctx.block(keys, crate::blocking::BlockType::Stream, deadline, &pinned, Reply::NilArray))
}

/// Creates the consumer on first read (streamCreateConsumer); returns whether it was new.
fn create_consumer(s: &mut Stream, group: &[u8], consumer: &[u8], now: i64) -> bool {
    s.groups.get_mut(group).expect("group checked").ensure_consumer(consumer, now)
}

/// What a group read changed, to be replayed: each delivered entry's claim, or with NOACK
/// the group's new position.
enum Effect {
    Claim(StreamId, crate::types::stream::Nack, StreamId),
    SetId(StreamId, i64),
}

impl Effect {
    fn argv(self, key: &Bytes, group: &Bytes) -> Vec<Bytes> {
        match self {
            Effect::Claim(id, nack, last) => super::claim_argv(key, group, id, &nack, last),
            Effect::SetId(last, read) => super::setid_argv(key, group, last, read),
        }
    }
}

/// New entries for a consumer: they advance the group and, unless NOACK, enter its PEL.
fn deliver(s: &mut Stream, group: &[u8], consumer: &Bytes, start: StreamId, count: usize, noack: bool, now: i64) -> (Reply, Vec<Effect>) {
    let entries = s.range(start, StreamId::MAX, false, count);
    let mut effects = vec![];
    for (id, _) in &entries {
        s.advance_group(group, *id);
        if !noack {
            let g = s.groups.get_mut(group).expect("group");
            g.assign(*id, consumer, now, 1);
            effects.push(Effect::Claim(*id, g.pel[id].clone(), g.last_id));
        }
    }
    if noack && !entries.is_empty() {
        let g = &s.groups[group];
        effects.push(Effect::SetId(g.last_id, g.entries_read));
    }
    (super::entries_reply(entries), effects)
}

/// A consumer's pending entries from `start`; deleted ones show as `[id, nil]`. Each one
/// served counts as a new delivery (streamReplyWithRangeFromConsumerPEL).
fn history(s: &mut Stream, group: &[u8], consumer: &[u8], start: StreamId, count: usize, now: i64) -> Reply {
    let g = &s.groups[group];
    let ids: Vec<StreamId> = g.consumers[consumer].pel.range(start..).take(if count == 0 { usize::MAX } else { count }).copied().collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match s.get(id) {
            Some(fv) => {
                out.push(entry_reply(id, fv));
                let nack = s.groups.get_mut(group).expect("group").pel.get_mut(&id).expect("consumer PEL entries are in the group PEL");
                nack.delivery_time = now;
                nack.delivery_count += 1;
            }
            None => out.push(Reply::Array(vec![Reply::Bulk(id.to_bytes()), Reply::NilArray])),
        }
    }
    Reply::Array(out)
}
