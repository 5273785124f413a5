//! SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UN- forms, PUBLISH, SPUBLISH, PUBSUB. A
//! message becomes a push reply in each receiver's outbox (see `pubsub.rs`); RESP2 clients
//! see pushes as arrays. Redis: pubsub.c.

use bytes::Bytes;

use crate::client::{Client, ClientId};
use crate::command::spec::flags::*;
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::pubsub::Kind;
use crate::reply::Reply;
use crate::server::Server;
use crate::util::glob_match;

#[cfg(test)]
mod tests;

const G: &str = "pubsub";
const SUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK;

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("psubscribe", -2, SUB, G, psubscribe).doc("2.0.0", "Listen for messages published to channels matching the given patterns", "O(N) where N is the number of patterns the client is already subscribed to.").args("pattern=(pattern) ..."),
    CommandSpec::new("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, G, publish).doc("2.0.0", "Post a message to a channel", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).").args("channel message"),
    CommandSpec::container("pubsub", G, SUBCOMMANDS).doc("2.8.0", "A container for Pub/Sub commands", "Depends on subcommand."),
    CommandSpec::new("punsubscribe", -1, SUB, G, punsubscribe).doc("2.0.0", "Stop listening for messages posted to channels matching the given patterns", "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).").args("[pattern ...]"),
    CommandSpec::new("spublish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, G, spublish).key_specs("not_key index:1 range:0:1:0").keys(1, 1, 1).doc("7.0.0", "Post a message to a shard channel", "O(N) where N is the number of clients subscribed to the receiving shard channel.").args("shardchannel message"),
    CommandSpec::new("ssubscribe", -2, SUB, G, ssubscribe).key_specs("not_key index:1 range:-1:1:0").keys(1, -1, 1).doc("7.0.0", "Listen for messages published to the given shard channels", "O(N) where N is the number of shard channels to subscribe to.").args("shardchannel ..."),
    CommandSpec::new("subscribe", -2, SUB, G, subscribe).doc("2.0.0", "Listen for messages published to the given channels", "O(N) where N is the number of channels to subscribe to.").args("channel ..."),
    CommandSpec::new("sunsubscribe", -1, SUB, G, sunsubscribe).key_specs("not_key index:1 range:-1:1:0").keys(1, -1, 1).doc("7.0.0", "Stop listening for messages posted to the given shard channels", "O(N) where N is the number of clients already subscribed to a shard channel.").args("[shardchannel ...]"),
    CommandSpec::new("unsubscribe", -1, SUB, G, unsubscribe).doc("2.0.0", "Stop listening for messages posted to the given channels", "O(N) where N is the number of clients already subscribed to a channel.").args("[channel ...]"),
];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, PUBSUB | LOADING | STALE, G, channels)
        .doc(
            "2.8.0",
            "List active channels",
            "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        )
        .args("[pattern]"),
    CommandSpec::new("help", 2, LOADING | STALE, G, help).doc("6.2.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("numpat", 2, PUBSUB | LOADING | STALE, G, numpat).doc("2.8.0", "Get the count of unique patterns pattern subscriptions", "O(1)"),
    CommandSpec::new("numsub", -2, PUBSUB | LOADING | STALE, G, numsub)
        .doc("2.8.0", "Get the count of subscribers for channels", "O(N) for the NUMSUB subcommand, where N is the number of requested channels")
        .args("[channel ...]"),
    CommandSpec::new("shardchannels", -2, PUBSUB | LOADING | STALE, G, shardchannels)
        .doc(
            "7.0.0",
            "List active shard channels",
            "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        )
        .args("[pattern]"),
    CommandSpec::new("shardnumsub", -2, PUBSUB | LOADING | STALE, G, shardnumsub)
        .doc(
            "7.0.0",
            "Get the count of subscribers for shard channels",
            "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        )
        .args("[shardchannel ...]"),
];

/// A push in RESP3, an array in RESP2 (the writer downgrades).
fn push(items: Vec<Reply>) -> Reply {
    Reply::Push(items)
}

fn confirm(kind: &'static str, name: Option<&Bytes>, count: usize) -> Reply {
    push(vec![Reply::bulk_str(kind), name.map_or(Reply::Nil, |n| Reply::Bulk(n.clone())), Reply::Int(count as i64)])
}

fn count(c: &Client, kind: Kind) -> usize {
    match kind {
        Kind::Shard => c.pubsub.ssubs.len(),
        _ => c.subscriptions(),
    }
}

/// Adds one subscription; false if the client had it already. The name is kept as a copy of
/// its own: an argument is a slice of the host's input buffer (a socket read, the wasm
/// argument area), which a long-lived slice would keep whole.
fn add(srv: &mut Server, c: &mut Client, kind: Kind, name: &Bytes) -> bool {
    let name = &Bytes::copy_from_slice(name);
    let new = match kind {
        Kind::Channel => c.pubsub.subs.insert(name.clone()),
        Kind::Shard => c.pubsub.ssubs.insert(name.clone()),
        Kind::Pattern => {
            let fresh = !c.pubsub.psubs.contains(name);
            if fresh {
                c.pubsub.psubs.push(name.clone());
            }
            fresh
        }
    };
    if new {
        srv.clients.pubsub.add(kind, name, c.id);
    }
    new
}

/// Drops one subscription; false if the client did not have it.
fn drop_one(srv: &mut Server, c: &mut Client, kind: Kind, name: &Bytes) -> bool {
    let had = match kind {
        Kind::Channel => c.pubsub.subs.remove(name),
        Kind::Shard => c.pubsub.ssubs.remove(name),
        Kind::Pattern => {
            let before = c.pubsub.psubs.len();
            c.pubsub.psubs.retain(|p| p != name);
            before != c.pubsub.psubs.len()
        }
    };
    if had {
        srv.clients.pubsub.remove(kind, name, c.id);
    }
    had
}

fn subscribed_names(c: &Client, kind: Kind) -> Vec<Bytes> {
    match kind {
        Kind::Channel => c.pubsub.subs.iter().cloned().collect(),
        Kind::Shard => c.pubsub.ssubs.iter().cloned().collect(),
        Kind::Pattern => c.pubsub.psubs.clone(),
    }
}

/// Leaves every channel, pattern and shard channel silently (RESET, disconnect).
pub fn unsubscribe_all(srv: &mut Server, c: &mut Client) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in subscribed_names(c, kind) {
            drop_one(srv, c, kind, &name);
        }
    }
}

const NAMES: [(Kind, &str, &str); 3] =
    [(Kind::Channel, "subscribe", "unsubscribe"), (Kind::Pattern, "psubscribe", "punsubscribe"), (Kind::Shard, "ssubscribe", "sunsubscribe")];

fn names(kind: Kind) -> (&'static str, &'static str) {
    let (_, s, u) = NAMES.iter().find(|(k, _, _)| *k == kind).expect("every kind");
    (s, u)
}

fn sub_generic(ctx: &mut Ctx, argv: &[Bytes], kind: Kind) -> Result<Reply> {
    let (word, _) = names(kind);
    let mut out = Vec::with_capacity(argv.len() - 1);
    for name in &argv[1..] {
        add(ctx.srv, ctx.client, kind, name);
        out.push(confirm(word, Some(name), count(ctx.client, kind)));
    }
    Ok(Reply::Multi(out))
}

fn unsub_generic(ctx: &mut Ctx, argv: &[Bytes], kind: Kind) -> Result<Reply> {
    let (_, word) = names(kind);
    let targets: Vec<Bytes> = if argv.len() == 1 { subscribed_names(ctx.client, kind) } else { argv[1..].to_vec() };
    let mut out = Vec::with_capacity(targets.len().max(1));
    for name in &targets {
        drop_one(ctx.srv, ctx.client, kind, name);
        out.push(confirm(word, Some(name), count(ctx.client, kind)));
    }
    if out.is_empty() {
        out.push(confirm(word, None, count(ctx.client, kind)));
    }
    Ok(Reply::Multi(out))
}

fn subscribe(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    sub_generic(ctx, argv, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    sub_generic(ctx, argv, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    sub_generic(ctx, argv, Kind::Shard)
}

fn unsubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    unsub_generic(ctx, argv, Kind::Channel)
}

fn punsubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    unsub_generic(ctx, argv, Kind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    unsub_generic(ctx, argv, Kind::Shard)
}

/// Queues a message for one receiver, disconnecting it instead when its undelivered output
/// passes the pubsub output buffer limits.
pub(crate) fn deliver(ctx: &mut Ctx, id: ClientId, msg: Reply, size: u64, limits: crate::config::OutputLimit) {
    let now = ctx.now_ms();
    let c = if id == ctx.client.id {
        &mut *ctx.client
    } else if let Some(c) = ctx.others.get_mut(&id) {
        c
    } else {
        return;
    };
    if c.conn.close_asap {
        return;
    }
    c.output.outbox_bytes += size;
    let crate::config::OutputLimit { hard, soft, soft_seconds: soft_secs } = limits;
    let over_soft = soft > 0 && c.output.outbox_bytes > soft;
    if over_soft && c.output.over_soft_since.is_none() {
        c.output.over_soft_since = Some(now);
    }
    let soft_expired = over_soft && c.output.over_soft_since.is_some_and(|t| now - t >= soft_secs as i64 * 1000);
    if (hard > 0 && c.output.outbox_bytes > hard) || soft_expired {
        c.output.outbox.clear();
        c.output.outbox_bytes = 0;
        c.conn.close_asap = true;
        ctx.srv.events.push(Event::CloseClient(id));
        return;
    }
    c.output.outbox.push(msg);
    if id != ctx.client.id {
        ctx.srv.events.push(Event::Deliver(id));
    }
}

/// Sends a message to channel (and, unless sharded, pattern) subscribers; the receiver count.
pub fn publish_message(ctx: &mut Ctx, channel: &Bytes, message: &Bytes, shard: bool) -> i64 {
    let limits = ctx.srv.config.hot.output_limits[crate::config::ClientClass::PubSub as usize];
    let size = (channel.len() + message.len() + 32) as u64;
    let mut receivers = 0;
    let (map, word) = if shard { (&ctx.srv.clients.pubsub.shard, "smessage") } else { (&ctx.srv.clients.pubsub.channels, "message") };
    let direct: Vec<ClientId> = map.get(channel).cloned().unwrap_or_default();
    // A subscriber that QUIT or was killed is gone already (Redis frees it before the next
    // command runs; here the host closes it a moment later): not a receiver.
    let open =
        |ctx: &Ctx, id: ClientId| if id == ctx.client.id { !ctx.client.conn.close_asap } else { ctx.others.get(&id).is_some_and(|c| !c.conn.close_asap) };
    let direct: Vec<ClientId> = direct.into_iter().filter(|&id| open(ctx, id)).collect();
    for id in direct {
        deliver(ctx, id, push(vec![Reply::bulk_str(word), Reply::Bulk(channel.clone()), Reply::Bulk(message.clone())]), size, limits);
        receivers += 1;
    }
    if !shard && !ctx.srv.clients.pubsub.patterns.is_empty() {
        let matching: Vec<(Bytes, Vec<ClientId>)> =
            ctx.srv.clients.pubsub.patterns.iter().filter(|(p, _)| glob_match(p, channel, false)).map(|(p, ids)| (p.clone(), ids.clone())).collect();
        for (pattern, ids) in matching {
            let ids: Vec<ClientId> = ids.into_iter().filter(|&id| open(ctx, id)).collect();
            for id in ids {
                let msg = push(vec![Reply::bulk_str("pmessage"), Reply::Bulk(pattern.clone()), Reply::Bulk(channel.clone()), Reply::Bulk(message.clone())]);
                deliver(ctx, id, msg, size + pattern.len() as u64, limits);
                receivers += 1;
            }
        }
    }
    receivers
}

/// PUBLISH — also to the replicas, whose subscribers hear it too (never to the AOF).
fn publish(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ctx.force_replication();
    Ok(Reply::Int(publish_message(ctx, &argv[1], &argv[2], false)))
}

fn spublish(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    ctx.force_replication();
    Ok(Reply::Int(publish_message(ctx, &argv[1], &argv[2], true)))
}

const HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
];

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("PUBSUB", HELP))
}

fn list_channels(ctx: &mut Ctx, argv: &[Bytes], shard: bool) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::subcommand_syntax(&argv[1], "PUBSUB"));
    }
    let map = if shard { &ctx.srv.clients.pubsub.shard } else { &ctx.srv.clients.pubsub.channels };
    let pat = argv.get(2);
    Ok(Reply::Array(map.keys().filter(|c| pat.is_none_or(|p| glob_match(p, c, false))).map(|c| Reply::Bulk(c.clone())).collect()))
}

fn channels(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    list_channels(ctx, argv, false)
}

fn shardchannels(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    list_channels(ctx, argv, true)
}

fn count_subscribers(ctx: &mut Ctx, argv: &[Bytes], shard: bool) -> Result<Reply> {
    let map = if shard { &ctx.srv.clients.pubsub.shard } else { &ctx.srv.clients.pubsub.channels };
    let mut out = Vec::with_capacity((argv.len() - 2) * 2);
    for c in &argv[2..] {
        out.push(Reply::Bulk(c.clone()));
        out.push(Reply::Int(map.get(c).map_or(0, |v| v.len()) as i64));
    }
    Ok(Reply::Array(out))
}

fn numsub(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    count_subscribers(ctx, argv, false)
}

fn shardnumsub(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    count_subscribers(ctx, argv, true)
}

fn numpat(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Int(ctx.srv.clients.pubsub.patterns.len() as i64))
}
