//! The commands a replica sends its primary (SYNC, PSYNC, REPLCONF) and ROLE. What they
//! attach and feed is in `crate::replication`. Redis: replication.c (syncCommand,
//! replconfCommand, roleCommand).

use bytes::Bytes;

use crate::command::spec::{
    acl::{ADMIN as ACL_ADMIN, CONNECTION, DANGEROUS},
    flags::*,
};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::replication::Request;
use crate::reply::{Reply, OK};

#[cfg(test)]
mod tests;

const G: &str = "server";

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("psync", -3, NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT, G, psync)
        .doc("2.8.0", "Internal command used for replication", "")
        .args("replicationid offset@integer"),
    CommandSpec::new("replconf", -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, G, replconf).doc(
        "3.0.0",
        "An internal command for configuring the replication stream",
        "O(1)",
    ),
    CommandSpec::new("replicaof", 3, NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE, G, replicaof)
        .doc("5.0.0", "Make the server a replica of another instance, or promote it as master.", "O(1)")
        .args("args=(host-port=(host port@integer)|no-one=(NO ONE))"),
    CommandSpec::new("role", 1, NOSCRIPT | LOADING | STALE | FAST | SENTINEL, G, role).acl(ACL_ADMIN | DANGEROUS).doc(
        "2.8.12",
        "Return the role of the instance in the context of replication",
        "O(1)",
    ),
    CommandSpec::new("wait", 3, NOSCRIPT, "generic", wait)
        .acl(CONNECTION)
        .tips("request_policy:all_shards response_policy:agg_min")
        .doc("3.0.0", "Wait for the synchronous replication of all the write commands sent in the context of the current connection", "O(1)")
        .args("numreplicas@integer timeout@integer"),
    CommandSpec::new("slaveof", 3, NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE, G, replicaof)
        .doc("1.0.0", "Make the server a replica of another instance, or promote it as master.", "O(1)")
        .args("args=(host-port=(host port@integer)|no-one=(NO ONE))"),
    CommandSpec::new("sync", 1, NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT, G, sync).doc("1.0.0", "Internal command used for replication", ""),
];

/// SYNC — the RDB payload, then the replication stream.
fn sync(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    attach(ctx, Request::Sync)
}

/// PSYNC replicationid offset — continue from the backlog, or a full copy.
fn psync(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    attach(ctx, Request::Psync { replid: &argv[1], offset: &argv[2] })
}

fn attach(ctx: &mut Ctx, req: Request) -> Result<Reply> {
    // A replica asking again on the same link is ignored, as syncCommand does.
    if ctx.client.role.replica {
        return Ok(Reply::Raw(Bytes::new()));
    }
    let announced = ctx.srv.repl.announced.remove(&ctx.client.id).unwrap_or_default();
    let out = crate::replication::attach(ctx.srv, ctx.client, ctx.others, req, announced);
    Ok(Reply::Raw(Bytes::from(out)))
}

/// REPLCONF <option> <value> [<option> <value> ...] — what a replica tells its primary:
/// where it listens, what it can parse, how far it got (ACK, which has no reply).
fn replconf(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len().is_multiple_of(2) {
        return Err(Error::Syntax);
    }
    let id = ctx.client.id;
    let mut i = 1;
    while i < argv.len() {
        let opt = String::from_utf8_lossy(&argv[i]).to_ascii_lowercase();
        let val = &argv[i + 1];
        match opt.as_str() {
            "listening-port" => {
                let port = crate::util::parse_i64(val).ok_or(Error::NotInteger)?;
                ctx.srv.repl.announced.entry(id).or_default().port = port.clamp(0, 65535) as u16;
            }
            "ip-address" => {
                if val.len() >= 46 {
                    return Err(Error::Dyn(format!("ERR REPLCONF ip-address provided by replica instance is too long: {} bytes", val.len())));
                }
                ctx.srv.repl.announced.entry(id).or_default().ip = Some(String::from_utf8_lossy(val).into_owned());
            }
            "capa" => {
                if val.eq_ignore_ascii_case(b"psync2") {
                    ctx.srv.repl.announced.entry(id).or_default().psync2 = true;
                }
            }
            "ack" => {
                // Only a replica acknowledges, and nobody is answered.
                if ctx.client.role.replica {
                    if let Some(off) = crate::util::parse_i64(val).filter(|&o| o >= 0) {
                        crate::replication::ack(ctx.srv, ctx.others, id, off as u64);
                    }
                }
                return Ok(Reply::Raw(Bytes::new()));
            }
            // Asked of a replica by its primary; a primary has nothing to acknowledge.
            "getack" => return Ok(Reply::Raw(Bytes::new())),
            // redis-cli --rdb: the payload alone, then the link closes.
            "rdb-only" => match crate::util::parse_i64(val) {
                Some(v @ (0 | 1)) => ctx.srv.repl.announced.entry(id).or_default().rdb_only = v == 1,
                _ => return Err(Error::Msg("ERR Invalid rdb-only value, must be 0 or 1")),
            },
            // An empty filter keeps everything; a payload of functions only is not made.
            "rdb-filter-only" => {
                if !val.is_empty() {
                    return Err(Error::Dyn(format!("ERR Unsupported rdb-filter-only option: {}", crate::error::clip(val))));
                }
            }
            _ => return Err(Error::Dyn(format!("ERR Unrecognized REPLCONF option: {}", crate::error::clip(&argv[i])))),
        }
        i += 2;
    }
    Ok(OK)
}

/// WAIT numreplicas timeout — how many replicas acknowledged this client's writes, once
/// `numreplicas` did or `timeout` ms passed (0: no limit). Replicas are asked for their
/// offset as the wait starts.
fn wait(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if ctx.srv.repl.master.is_some() {
        return Err(Error::Msg("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."));
    }
    let wanted = crate::command::args::int(&argv[1])?;
    // getTimeoutFromObjectOrReply in milliseconds.
    let ms = crate::util::parse_i64(&argv[2]).ok_or(Error::Msg("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(Error::Msg("ERR timeout is negative"));
    }
    let deadline = if ms == 0 { 0 } else { ctx.now_ms().saturating_add(ms) };
    let woff = ctx.client.role.woff;
    let acked = crate::replication::acked_at(ctx.srv, woff);
    if acked as i64 >= wanted || ctx.client.wait.deny_blocking {
        return Ok(Reply::Int(acked as i64));
    }
    ctx.srv.repl.waiting.push((ctx.client.id, woff, wanted.max(0) as usize));
    ctx.srv.repl.getack = true;
    Ok(ctx.block(&[], crate::blocking::BlockType::Wait, deadline, argv, Reply::Int(0)))
}

/// REPLICAOF host port | NO ONE — follow a primary (the host connects; our own replicas
/// resync), or become a primary again keeping the history for partial resyncs.
fn replicaof(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let who = |ctx: &Ctx| format!("user request from '{}'", ctx.client.info_line(ctx.now_ms(), 0));
    if argv[1].eq_ignore_ascii_case(b"no") && argv[2].eq_ignore_ascii_case(b"one") {
        if ctx.srv.repl.master.is_some() {
            let by = who(ctx);
            crate::replication::replica::set_no_master(ctx.srv, ctx.others, &by);
        }
        return Ok(OK);
    }
    if ctx.client.role.replica {
        return Err(Error::Msg("ERR Command is not valid when client is a replica."));
    }
    if !ctx.srv.host.can.replicates {
        return Err(Error::Msg("ERR this host cannot connect to a primary (REPLICAOF needs the native server)"));
    }
    let port = crate::util::parse_i64(&argv[2]).filter(|p| (0..=65535).contains(p)).ok_or(Error::Msg("ERR Invalid master port"))?;
    let host = String::from_utf8_lossy(&argv[1]).into_owned();
    if ctx.srv.repl.master.as_ref().is_some_and(|m| m.host.eq_ignore_ascii_case(&host) && m.port as i64 == port) {
        ctx.srv.log(2, || "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.".into());
        return Ok(Reply::Simple("OK Already connected to specified master"));
    }
    let by = who(ctx);
    crate::replication::replica::set_master(ctx.srv, ctx.others, host, port as u16, Some(&by));
    Ok(OK)
}

/// ROLE — ["master", offset, [[ip, port, acked offset], ...]].
fn role(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let r = &ctx.srv.repl;
    if let Some(m) = &r.master {
        return Ok(crate::replication::replica::role(ctx.srv, m));
    }
    let replicas = r
        .replicas
        .iter()
        .map(|x| Reply::Array(vec![Reply::bulk_str(&x.ip), Reply::bulk_str(&x.port.to_string()), Reply::bulk_str(&x.ack_offset.to_string())]))
        .collect();
    Ok(Reply::Array(vec![Reply::bulk_str("master"), Reply::Int(r.offset as i64), Reply::Array(replicas)]))
}
