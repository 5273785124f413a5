//! Stream commands. Redis: t_stream.c (commands half; the type is types/stream.rs). Reading
//! (XREAD, XREADGROUP, with their blocking) lives in `read.rs`, consumer groups (XGROUP, XACK,
//! XPENDING, XCLAIM, XAUTOCLAIM) in `group.rs`, XINFO in `info.rs`.

use bytes::Bytes;

use crate::command::spec::{acl::STREAM, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::{Reply, OK};
use crate::types::stream::{NodeLimits, Stream, StreamId, Trim};

mod group;
mod info;
mod read;
#[cfg(test)]
mod tests;

const G: &str = "stream";

static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("create", -5, WRITE | DENYOOM, G, group::create)
        .key_specs("RW insert index:2 range:0:1:0")
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("5.0.0", "Create a consumer group.", "O(1)")
        .args("key groupname (id|new_id=$) [MKSTREAM] [ENTRIESREAD entries_read@integer]"),
    CommandSpec::new("createconsumer", 5, WRITE | DENYOOM, G, group::createconsumer)
        .key_specs("RW insert index:2 range:0:1:0")
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("6.2.0", "Create a consumer in a consumer group.", "O(1)")
        .args("key groupname consumername"),
    CommandSpec::new("delconsumer", 5, WRITE, G, group::delconsumer)
        .key_specs("RW delete index:2 range:0:1:0")
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("5.0.0", "Delete a consumer from a consumer group.", "O(1)")
        .args("key groupname consumername"),
    CommandSpec::new("destroy", 4, WRITE, G, group::destroy)
        .key_specs("RW delete index:2 range:0:1:0")
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("5.0.0", "Destroy a consumer group.", "O(N) where N is the number of entries in the group's pending entries list (PEL).")
        .args("key groupname"),
    CommandSpec::new("help", 2, LOADING | STALE, G, group::help).acl(STREAM).doc("5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("setid", -5, WRITE, G, group::setid)
        .key_specs("RW update index:2 range:0:1:0")
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("5.0.0", "Set a consumer group to an arbitrary last delivered ID value.", "O(1)")
        .args("key groupname (id|new_id=$) [ENTRIESREAD entries_read@integer]"),
];

static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("consumers", 4, READONLY, G, info::consumers)
        .key_specs("RO access index:2 range:0:1:0")
        .tips("nondeterministic_output")
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("5.0.0", "List the consumers in a consumer group", "O(1)")
        .args("key groupname"),
    CommandSpec::new("groups", 3, READONLY, G, info::groups)
        .key_specs("RO access index:2 range:0:1:0")
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("5.0.0", "List the consumer groups of a stream", "O(1)")
        .args("key"),
    CommandSpec::new("help", 2, LOADING | STALE, G, info::help).acl(STREAM).doc("5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("stream", -3, READONLY, G, info::stream)
        .key_specs("RO access index:2 range:0:1:0")
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("5.0.0", "Get information about a stream", "O(1)")
        .args("key [FULL full=([COUNT count])]"),
];

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("xack", -4, WRITE | FAST, G, group::xack).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", "O(1) for each message ID processed.").args("key group id ..."),
    CommandSpec::new("xadd", -5, WRITE | DENYOOM | FAST, G, xadd).key_specs("RW update index:1 range:0:1:0 -- UPDATE instead of INSERT because of the optional trimming feature").tips("nondeterministic_output").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "Appends a new entry to a stream", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.").args("key [NOMKSTREAM] trim=[strategy=(MAXLEN|MINID) operator=[equal==|approximately=~] threshold [LIMIT count]] id_or_auto=(auto_id=*|id) field_value=(field value) ..."),
    CommandSpec::new("xautoclaim", -6, WRITE | FAST, G, group::xautoclaim).key_specs("RW delete index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(STREAM).doc("6.2.0", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", "O(1) if COUNT is small.").args("key group consumer min-idle-time start@string [COUNT count] [JUSTID]"),
    CommandSpec::new("xclaim", -6, WRITE | FAST, G, group::xclaim).key_specs("RW update index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", "O(log N) with N being the number of messages in the PEL of the consumer group.").args("key group consumer min-idle-time id ... [IDLE ms@integer] [TIME unix-time-milliseconds@unix-time] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]"),
    CommandSpec::new("xdel", -3, WRITE | FAST, G, xdel).key_specs("RW delete index:1 range:0:1:0").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", "O(1) for each single item to delete in the stream, regardless of the stream size.").args("key id ..."),
    CommandSpec::container("xgroup", G, XGROUP_SUBCOMMANDS).doc("5.0.0", "A container for consumer groups commands", "Depends on subcommand."),
    CommandSpec::container("xinfo", G, XINFO_SUBCOMMANDS).doc("5.0.0", "A container for stream introspection commands", "Depends on subcommand."),
    CommandSpec::new("xlen", 2, READONLY | FAST, G, xlen).key_specs("RO index:1 range:0:1:0").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "Return the number of entries in a stream", "O(1)").args("key"),
    CommandSpec::new("xpending", -3, READONLY, G, group::xpending).key_specs("RO access index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.").args("key group filters=[[IDLE min-idle-time@integer] start@string end@string count [consumer]]"),
    CommandSpec::new("xrange", -4, READONLY, G, xrange).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).").args("key start@string end@string [COUNT count]"),
    CommandSpec::new("xread", -4, READONLY | BLOCKING, G, read::xread).key_specs("RO access keyword:STREAMS:1 range:-1:1:2").getkeys(read::xread_keys).acl(STREAM).doc("5.0.0", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.").args("[COUNT count] [BLOCK milliseconds] STREAMS streams=(key ... id ...)"),
    CommandSpec::new("xreadgroup", -7, WRITE | BLOCKING, G, read::xreadgroup).key_specs("RO access keyword:STREAMS:4 range:-1:1:2").getkeys(read::xread_keys).acl(STREAM).doc("5.0.0", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.").args("GROUP group_consumer=(group consumer) [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS streams=(key ... id ...)"),
    CommandSpec::new("xrevrange", -4, READONLY, G, xrevrange).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).").args("key end@string start@string [COUNT count]"),
    CommandSpec::new("xsetid", -3, WRITE | DENYOOM | FAST, G, xsetid).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "An internal command for replicating stream values", "O(1)").args("key last-id [ENTRIESADDED entries_added@integer] [MAXDELETEDID max_deleted_entry_id]"),
    CommandSpec::new("xtrim", -4, WRITE, G, xtrim).key_specs("RW delete index:1 range:0:1:0").tips("nondeterministic_output").keys(1, 1, 1).acl(STREAM).doc("5.0.0", "Trims the stream to (approximately if '~' is passed) a certain size", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.").args("key trim=(strategy=(MAXLEN|MINID) operator=[equal==|approximately=~] threshold [LIMIT count])"),
];

fn new_stream() -> Value {
    Value::Stream(Box::default())
}

fn invalid_id() -> Error {
    Error::Msg("ERR Invalid stream ID specified as stream command argument")
}

/// An ID where `-` and `+` are allowed (streamParseIDOrReply).
pub(crate) fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId> {
    StreamId::parse(arg, missing_seq, false, false).map(|(id, _)| id).ok_or_else(invalid_id)
}

/// An ID where `-` and `+` are not (streamParseStrictIDOrReply).
pub(crate) fn parse_strict(arg: &[u8]) -> Result<StreamId> {
    StreamId::parse(arg, 0, true, false).map(|(id, _)| id).ok_or_else(invalid_id)
}

/// An interval bound, `(` making it exclusive (streamParseIntervalIDOrReply).
fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool)> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = StreamId::parse(&arg[1..], missing_seq, true, false).ok_or_else(invalid_id)?.0;
        return Ok((id, true));
    }
    Ok((parse_id(arg, missing_seq)?, false))
}

/// The first ID a range includes.
pub(crate) fn start_bound(arg: &[u8]) -> Result<StreamId> {
    match parse_interval(arg, 0)? {
        (id, true) => id.incr().ok_or(Error::Msg("ERR invalid start ID for the interval")),
        (id, false) => Ok(id),
    }
}

/// The last ID a range includes.
pub(crate) fn end_bound(arg: &[u8]) -> Result<StreamId> {
    match parse_interval(arg, u64::MAX)? {
        (id, true) => id.decr().ok_or(Error::Msg("ERR invalid end ID for the interval")),
        (id, false) => Ok(id),
    }
}

/// One entry as every stream reply shows it: `[id, [field, value, ...]]`.
pub(crate) fn entry_reply(id: StreamId, fv: Vec<Bytes>) -> Reply {
    Reply::Array(vec![Reply::Bulk(id.to_bytes()), Reply::Array(fv.into_iter().map(Reply::Bulk).collect())])
}

pub(crate) fn entries_reply(entries: Vec<(StreamId, Vec<Bytes>)>) -> Reply {
    Reply::Array(entries.into_iter().map(|(id, fv)| entry_reply(id, fv)).collect())
}

fn limits(ctx: &Ctx) -> NodeLimits {
    NodeLimits {
        bytes: ctx.srv.config.get_i64(crate::param!("stream-node-max-bytes")) as usize,
        entries: ctx.srv.config.get_i64(crate::param!("stream-node-max-entries")),
    }
}

/// "No such key or group" in the words of the command asking (key and group as given).
pub(crate) fn nogroup(key: &[u8], group: &[u8], suffix: &str) -> Error {
    Error::Dyn(format!("NOGROUP No such key '{}' or consumer group '{}'{}", String::from_utf8_lossy(key), String::from_utf8_lossy(group), suffix))
}

/// A stream write that Redis announces without signalling the key as modified (consumer
/// group bookkeeping, XSETID): dirty and the keyspace event only.
pub(crate) fn announce(ctx: &mut Ctx, key: &[u8], event: &'static str) {
    ctx.srv.stats.dirty += 1;
    let db = ctx.client.db;
    ctx.notify(db, key, event);
}

/// How a change to a pending entry is replayed (streamPropagateXCLAIM): an XCLAIM that
/// sets the entry's owner, delivery time and count, and the group's last ID, exactly; on a
/// replay where the entry is gone it drops the NACK, as the original did.
pub(crate) fn claim_argv(key: &Bytes, group: &Bytes, id: StreamId, nack: &crate::types::stream::Nack, last_id: StreamId) -> Vec<Bytes> {
    let s = |x: &'static [u8]| Bytes::from_static(x);
    vec![
        s(b"XCLAIM"),
        key.clone(),
        group.clone(),
        nack.consumer.clone(),
        s(b"0"),
        id.to_bytes(),
        s(b"TIME"),
        Bytes::from(nack.delivery_time.to_string()),
        s(b"RETRYCOUNT"),
        Bytes::from(nack.delivery_count.to_string()),
        s(b"FORCE"),
        s(b"JUSTID"),
        s(b"LASTID"),
        last_id.to_bytes(),
    ]
}

/// A group's position, replayed exactly (streamPropagateGroupID).
pub(crate) fn setid_argv(key: &Bytes, group: &Bytes, last_id: StreamId, entries_read: i64) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        group.clone(),
        last_id.to_bytes(),
        Bytes::from_static(b"ENTRIESREAD"),
        Bytes::from(entries_read.to_string()),
    ]
}

/// XADD / XTRIM options (streamAddTrimArgs).
struct TrimArgs {
    trim: Option<Trim>,
    approx: bool,
    limit: i64,
    /// XADD: the explicit ID and whether its sequence was given (`ms-*` leaves it out).
    id: Option<(StreamId, bool)>,
    no_mkstream: bool,
    /// XADD: where the ID argument is (the fields follow it).
    idpos: usize,
    /// Where the MAXLEN/MINID threshold is (an approximate trim is replayed exactly).
    trim_arg: usize,
}

/// streamParseAddOrTrimArgsOrReply.
fn parse_trim_args(ctx: &Ctx, argv: &[Bytes], xadd: bool) -> Result<TrimArgs> {
    let mut a = TrimArgs { trim: None, approx: false, limit: 0, id: None, no_mkstream: false, idpos: argv.len(), trim_arg: 0 };
    let mut limit_given = false;
    let mut i = 2;
    let incompatible = Error::Msg("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i];
        if xadd && &opt[..] == b"*" {
            break;
        } else if (opt.eq_ignore_ascii_case(b"maxlen") || opt.eq_ignore_ascii_case(b"minid")) && more > 0 {
            if a.trim.is_some() {
                return Err(incompatible);
            }
            a.approx = false;
            let next = &argv[i + 1][..];
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            a.trim_arg = i + 1;
            if opt.eq_ignore_ascii_case(b"maxlen") {
                let n = crate::command::args::int(&argv[i + 1])?;
                if n < 0 {
                    return Err(Error::Msg("ERR The MAXLEN argument must be >= 0."));
                }
                a.trim = Some(Trim::MaxLen(n as u64));
            } else {
                a.trim = Some(Trim::MinId(parse_strict(&argv[i + 1])?));
            }
            i += 1;
        } else if opt.eq_ignore_ascii_case(b"limit") && more > 0 {
            a.limit = crate::command::args::int(&argv[i + 1])?;
            if a.limit < 0 {
                return Err(Error::Msg("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && opt.eq_ignore_ascii_case(b"nomkstream") {
            a.no_mkstream = true;
        } else if xadd {
            let (id, seq_given) = StreamId::parse(opt, 0, true, true).ok_or_else(invalid_id)?;
            a.id = Some((id, seq_given));
            break;
        } else {
            return Err(Error::Syntax);
        }
        i += 1;
    }
    a.idpos = i;
    if a.limit != 0 && a.trim.is_none() {
        return Err(Error::Msg("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && a.trim.is_none() {
        return Err(Error::Msg("ERR syntax error, XTRIM must be called with a trimming strategy"));
    }
    if ctx.srv.loading {
        // A replayed trim was rewritten to its exact result: LIMIT no longer applies
        // (Redis ignores it for its AOF and master clients).
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            return Err(Error::Msg("ERR syntax error, LIMIT cannot be used without the special ~ option"));
        }
    } else if a.approx {
        // At most 100 nodes' worth per call, so an approximate trim never stalls the server.
        a.limit = 100i64.saturating_mul(limits(ctx).entries);
        if a.limit <= 0 {
            a.limit = 10_000;
        }
        a.limit = a.limit.min(1_000_000);
    } else {
        a.limit = 0;
    }
    Ok(a)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
fn xadd(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let a = parse_trim_args(ctx, argv, true)?;
    let fields = argv.get(a.idpos + 1..).unwrap_or(&[]);
    if fields.len() < 2 || fields.len() % 2 == 1 {
        return Err(Error::WrongArity("xadd".into()));
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Err(Error::Msg("ERR The ID specified in XADD must be greater than 0-0"));
        }
    }
    let key = &argv[1];
    let exists = ctx.write(key, Value::stream)?.is_some();
    if !exists && a.no_mkstream {
        return Ok(Reply::Nil);
    }
    let now = ctx.now_ms().max(0) as u64;
    let lim = limits(ctx);
    let (id, trimmed) = {
        let s = ctx.create(key, new_stream, Value::stream)?;
        if s.last_id == StreamId::MAX {
            return Err(Error::Msg("ERR The stream has exhausted the last possible ID, unable to add more items"));
        }
        let too_small = Error::Msg("ERR The ID specified in XADD is equal or smaller than the target stream top item");
        let id = match a.id {
            Some((id, true)) => id,
            Some((id, false)) if id.ms == s.last_id.ms => s.last_id.incr().filter(|n| n.ms == id.ms).ok_or(too_small.clone())?,
            Some((id, false)) => id,
            None if now > s.last_id.ms => StreamId::new(now, 0),
            None => s.last_id.incr().expect("not exhausted"),
        };
        if id <= s.last_id {
            return Err(too_small);
        }
        if fields.iter().map(|f| f.len()).sum::<usize>() > crate::types::stream::LISTPACK_MAX_SIZE {
            return Err(Error::Msg("ERR Elements are too large to be stored"));
        }
        s.append(id, fields, lim);
        let trimmed = a.trim.is_some_and(|t| s.trim(t, a.approx, a.limit) > 0);
        (id, trimmed)
    };
    ctx.modified(key, "xadd");
    if trimmed {
        let db = ctx.client.db;
        ctx.notify(db, key, "xtrim");
    }
    if ctx.propagating() {
        // Replayed with the ID it got and, for an approximate trim, the exact result.
        let mut v = argv.to_vec();
        if !matches!(a.id, Some((_, true))) {
            v[a.idpos] = id.to_bytes();
        }
        if a.approx {
            let s = ctx.write(key, Value::stream)?.expect("just added");
            exact_trim(&mut v, &a, s);
        }
        ctx.propagate_as(|| v);
    }
    Ok(Reply::Bulk(id.to_bytes()))
}

fn range(ctx: &mut Ctx, argv: &[Bytes], rev: bool) -> Result<Reply> {
    let (start_arg, end_arg) = if rev { (&argv[3], &argv[2]) } else { (&argv[2], &argv[3]) };
    let start = start_bound(start_arg)?;
    let end = end_bound(end_arg)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"count") && j + 1 < argv.len() {
            count = crate::command::args::int(&argv[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    let Some(s) = ctx.read(&argv[1], Value::stream)? else { return Ok(Reply::Array(vec![])) };
    if count == 0 {
        return Ok(Reply::NilArray);
    }
    Ok(entries_reply(s.range(start, end, rev, count.max(0) as usize)))
}

/// XRANGE key start end [COUNT count]
fn xrange(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    range(ctx, argv, false)
}

/// XREVRANGE key end start [COUNT count]
fn xrevrange(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    range(ctx, argv, true)
}

/// XLEN key
fn xlen(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.read(&argv[1], Value::stream)?.map_or(0, |s| s.len() as i64)))
}

/// XDEL key id [id ...]
fn xdel(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if ctx.write(&argv[1], Value::stream)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let ids = argv[2..].iter().map(|a| parse_strict(a)).collect::<Result<Vec<_>>>()?;
    let s = ctx.write(&argv[1], Value::stream)?.expect("checked");
    let mut deleted = 0;
    let mut first_deleted = false;
    for id in ids {
        if s.delete(id) {
            first_deleted |= id == s.first_id;
            if id > s.max_deleted_entry_id {
                s.max_deleted_entry_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.is_empty() {
            s.first_id = StreamId::MIN;
        } else if first_deleted {
            s.first_id = s.edge_id(true);
        }
        ctx.modified(&argv[1], "xdel");
    }
    Ok(Reply::Int(deleted))
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let a = parse_trim_args(ctx, argv, false)?;
    let propagating = ctx.propagating();
    let Some(s) = ctx.write(&argv[1], Value::stream)? else { return Ok(Reply::Int(0)) };
    let deleted = s.trim(a.trim.expect("XTRIM has a strategy"), a.approx, a.limit);
    if a.approx && propagating {
        let mut v = argv.to_vec();
        exact_trim(&mut v, &a, s);
        ctx.propagate_as(|| v);
    }
    if deleted > 0 {
        ctx.modified(&argv[1], "xtrim");
    }
    Ok(Reply::Int(deleted))
}

/// `MAXLEN ~ n` / `MINID ~ id` as `= <what the stream kept>` (streamRewriteTrimArgument):
/// an approximate trim depends on node boundaries, which a replay need not share.
fn exact_trim(v: &mut [Bytes], a: &TrimArgs, s: &Stream) {
    v[a.trim_arg - 1] = Bytes::from_static(b"=");
    v[a.trim_arg] = match a.trim {
        Some(Trim::MaxLen(_)) => Bytes::from(s.length.to_string()),
        _ => s.edge_id(true).to_bytes(),
    };
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let id = parse_strict(&argv[2])?;
    let mut entries_added: i64 = -1;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = i + 1 < argv.len();
        if argv[i].eq_ignore_ascii_case(b"entriesadded") && more {
            entries_added = crate::command::args::int(&argv[i + 1])?;
            if entries_added < 0 {
                return Err(Error::Msg("ERR entries_added must be positive"));
            }
        } else if argv[i].eq_ignore_ascii_case(b"maxdeletedid") && more {
            max_deleted = parse_strict(&argv[i + 1])?;
            if id < max_deleted {
                return Err(Error::Msg("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
        } else {
            return Err(Error::Syntax);
        }
        i += 2;
    }
    let s: &mut Stream = ctx.write(&argv[1], Value::stream)?.ok_or(Error::NoSuchKey)?;
    if !s.is_empty() {
        if id < s.last_valid_id() {
            return Err(Error::Msg("ERR The ID specified in XSETID is smaller than the target stream top item"));
        }
        if entries_added != -1 && s.len() > entries_added as u64 {
            return Err(Error::Msg("ERR The entries_added specified in XSETID is smaller than the target stream length"));
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_deleted.is_zero() {
        s.max_deleted_entry_id = max_deleted;
    }
    announce(ctx, &argv[1], "xsetid");
    Ok(OK)
}
