//! XINFO STREAM / GROUPS / CONSUMERS / HELP with Redis 7.0's fields. Redis: t_stream.c
//! xinfoCommand.

use bytes::Bytes;

use super::entry_reply;
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::Reply;
use crate::types::stream::{Group, Stream, StreamId, INVALID_ENTRIES_READ};

static HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

pub fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(crate::commands::connection::help_reply("XINFO", HELP))
}

fn target<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<&'a mut Stream> {
    ctx.read(key, Value::stream)?.map(|s| &mut **s).ok_or(Error::NoSuchKey)
}

fn s(text: &str) -> Reply {
    Reply::bulk_str(text)
}

fn id(i: StreamId) -> Reply {
    Reply::Bulk(i.to_bytes())
}

fn entries_read(g: &Group) -> Reply {
    if g.entries_read == INVALID_ENTRIES_READ {
        Reply::Nil
    } else {
        Reply::Int(g.entries_read)
    }
}

fn lag(st: &Stream, g: &Group) -> Reply {
    st.lag(g).map_or(Reply::Nil, Reply::Int)
}

/// XINFO CONSUMERS key group
pub fn consumers(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let now = ctx.now_ms();
    let st = target(ctx, &argv[2])?;
    let g = st.groups.get(&argv[3][..]).ok_or_else(|| {
        Error::Dyn(format!("NOGROUP No such consumer group '{}' for key name '{}'", String::from_utf8_lossy(&argv[3]), String::from_utf8_lossy(&argv[2])))
    })?;
    Ok(Reply::Array(
        g.consumers
            .iter()
            .map(|(name, c)| {
                Reply::Map(vec![
                    (s("name"), Reply::Bulk(name.clone())),
                    (s("pending"), Reply::Int(c.pel.len() as i64)),
                    (s("idle"), Reply::Int((now - c.seen_time).max(0))),
                ])
            })
            .collect(),
    ))
}

/// XINFO GROUPS key
pub fn groups(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let st = target(ctx, &argv[2])?;
    Ok(Reply::Array(
        st.groups
            .iter()
            .map(|(name, g)| {
                Reply::Map(vec![
                    (s("name"), Reply::Bulk(name.clone())),
                    (s("consumers"), Reply::Int(g.consumers.len() as i64)),
                    (s("pending"), Reply::Int(g.pel.len() as i64)),
                    (s("last-delivered-id"), id(g.last_id)),
                    (s("entries-read"), entries_read(g)),
                    (s("lag"), lag(st, g)),
                ])
            })
            .collect(),
    ))
}

/// XINFO STREAM key [FULL [COUNT count]]
pub fn stream(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let st = target(ctx, &argv[2])?;
    let opts = &argv[3..];
    let syntax = || Error::subcommand_syntax(&argv[1], "XINFO");
    let (full, count) = match opts.len() {
        0 => (false, 0),
        1 | 3 if opts[0].eq_ignore_ascii_case(b"full") => {
            let mut count = 10;
            if opts.len() == 3 {
                if !opts[1].eq_ignore_ascii_case(b"count") {
                    return Err(syntax());
                }
                count = crate::command::args::int(&opts[2])?;
                if count < 0 {
                    count = 10;
                }
            }
            (true, count as usize)
        }
        _ => return Err(syntax()),
    };
    let limit = |n: usize| if count == 0 { n } else { n.min(count) };
    let mut m = vec![
        (s("length"), Reply::Int(st.len() as i64)),
        (s("radix-tree-keys"), Reply::Int(st.node_count() as i64)),
        // Our nodes hang off a B-tree, not a radix tree; report the node count plus the
        // root, which is what a rax of so many 16-byte keys comes close to.
        (s("radix-tree-nodes"), Reply::Int(st.node_count() as i64 + 1)),
        (s("last-generated-id"), id(st.last_id)),
        (s("max-deleted-entry-id"), id(st.max_deleted_entry_id)),
        (s("entries-added"), Reply::Int(st.entries_added as i64)),
        (s("recorded-first-entry-id"), id(st.first_id)),
    ];
    if !full {
        let edge = |rev: bool| st.range(StreamId::MIN, StreamId::MAX, rev, 1).pop().map_or(Reply::Nil, |(i, fv)| entry_reply(i, fv));
        m.push((s("groups"), Reply::Int(st.groups.len() as i64)));
        m.push((s("first-entry"), edge(false)));
        m.push((s("last-entry"), edge(true)));
        return Ok(Reply::Map(m));
    }
    m.push((s("entries"), super::entries_reply(st.range(StreamId::MIN, StreamId::MAX, false, count))));
    let groups = st
        .groups
        .iter()
        .map(|(name, g)| {
            let pending = g
                .pel
                .iter()
                .take(limit(g.pel.len()))
                .map(|(i, n)| Reply::Array(vec![id(*i), Reply::Bulk(n.consumer.clone()), Reply::Int(n.delivery_time), Reply::Int(n.delivery_count as i64)]))
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let pel = c
                        .pel
                        .iter()
                        .take(limit(c.pel.len()))
                        .map(|i| {
                            let n = &g.pel[i];
                            Reply::Array(vec![id(*i), Reply::Int(n.delivery_time), Reply::Int(n.delivery_count as i64)])
                        })
                        .collect();
                    Reply::Map(vec![
                        (s("name"), Reply::Bulk(cname.clone())),
                        (s("seen-time"), Reply::Int(c.seen_time)),
                        (s("pel-count"), Reply::Int(c.pel.len() as i64)),
                        (s("pending"), Reply::Array(pel)),
                    ])
                })
                .collect();
            Reply::Map(vec![
                (s("name"), Reply::Bulk(name.clone())),
                (s("last-delivered-id"), id(g.last_id)),
                (s("entries-read"), entries_read(g)),
                (s("lag"), lag(st, g)),
                (s("pel-count"), Reply::Int(g.pel.len() as i64)),
                (s("pending"), Reply::Array(pending)),
                (s("consumers"), Reply::Array(consumers)),
            ])
        })
        .collect();
    m.push((s("groups"), Reply::Array(groups)));
    Ok(Reply::Map(m))
}
