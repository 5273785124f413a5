//! Client-side caching as commands drive it (see `crate::tracking` for the state): a read
//! remembers its keys, a write or a flush invalidates them, BCAST prefixes are broadcast once
//! per batch. Redis: tracking.c.

use std::collections::BTreeMap;

use bytes::Bytes;
use hashbrown::HashMap;

use crate::client::{Client, ClientId};
use crate::command::dispatch::Ctx;
use crate::command::CommandSpec;
use crate::reply::Reply;
use crate::tracking::CHANNEL;

/// After a read-only command of a client tracking in the default mode: remember its keys
/// (trackingRememberKeys), unless OPTIN without CACHING YES or OPTOUT with CACHING NO.
pub fn remember_keys(ctx: &mut Ctx, spec: &CommandSpec, argv: &[Bytes]) {
    let Some(state) = ctx.client.tracking.as_deref() else { return };
    if state.bcast || (state.optin && !state.caching) || (state.optout && state.caching) {
        return;
    }
    // Shard channels are keys to the table, not data: never tracked.
    if spec.is(crate::command::spec::flags::PUBSUB) {
        return;
    }
    let Some(positions) = spec.all_key_positions(argv) else { return };
    remember(ctx, positions.into_iter().map(|pos| &argv[pos][..]));
}

/// A script that ran a read-only command makes its caller track every key the script
/// declared (trackingRememberKeys on the script's caller): the keys it reads may depend on
/// them.
pub fn remember_script_keys(ctx: &mut Ctx, keys: &[Bytes]) {
    let Some(state) = ctx.client.tracking.as_deref() else { return };
    if state.bcast || (state.optin && !state.caching) || (state.optout && state.caching) {
        return;
    }
    remember(ctx, keys.iter().map(|k| &k[..]));
}

fn remember<'k>(ctx: &mut Ctx, keys: impl Iterator<Item = &'k [u8]>) {
    let id = ctx.client.id;
    let t = &mut ctx.srv.clients.tracking;
    for key in keys {
        match t.table.get_mut(key) {
            Some(ids) if ids.contains(&id) => {}
            Some(ids) => {
                ids.push(id);
                t.items += 1;
            }
            // Copied, so the table never pins a network buffer.
            None => {
                t.table.insert(Bytes::copy_from_slice(key), vec![id]);
                t.items += 1;
            }
        }
    }
}

/// What an invalidation says: these keys, or every key (a flush).
enum Payload {
    Keys(Vec<Bytes>),
    All,
}

fn client_mut<'a>(ctx: &'a mut Ctx, id: ClientId) -> Option<&'a mut Client> {
    if id == ctx.client.id {
        Some(ctx.client)
    } else {
        ctx.others.get_mut(&id).map(|c| &mut **c)
    }
}

/// Queues a message for a client: in its outbox with `Event::Deliver`, and within the
/// output limits of its class (pub/sub for a subscriber; normal clients have none).
fn queue(ctx: &mut Ctx, id: ClientId, msg: Reply, size: u64) {
    let pubsub = client_mut(ctx, id).is_some_and(|c| c.in_pubsub());
    let limits = if pubsub { ctx.srv.config.hot.output_limits[crate::config::ClientClass::PubSub as usize] } else { Default::default() };
    crate::commands::pubsub::deliver(ctx, id, msg, size, limits);
}

/// Sends one invalidation on behalf of tracking client `target` (sendTrackingMessage): to it
/// or to its redirect client, as a RESP3 push or, for a RESP2 subscriber it redirects to, a
/// message on `__redis__:invalidate`. RESP2 clients without a redirect get nothing.
fn send(ctx: &mut Ctx, target: ClientId, payload: &Payload) {
    let Some(c) = client_mut(ctx, target) else { return };
    let redirect = c.tracking.as_ref().map_or(0, |t| t.redirect);
    let mut dest = target;
    if redirect != 0 {
        // A target that QUIT or was killed is gone already: Redis frees it before the next
        // command runs, while here the host closes it a moment later.
        if client_mut(ctx, redirect).is_none_or(|r| r.conn.close_asap) {
            let c = client_mut(ctx, target).expect("looked up");
            if let Some(t) = c.tracking.as_mut() {
                t.broken_redirect = true;
            }
            if c.conn.resp > 2 {
                queue(ctx, target, Reply::Push(vec![Reply::bulk_str("tracking-redir-broken"), Reply::Int(redirect as i64)]), 40);
            }
            return;
        }
        dest = redirect;
    }
    let (value, size) = match payload {
        Payload::Keys(keys) => (Reply::Array(keys.iter().cloned().map(Reply::Bulk).collect()), keys.iter().map(|k| k.len() as u64 + 8).sum::<u64>()),
        Payload::All => (Reply::Nil, 8),
    };
    let d = client_mut(ctx, dest).expect("looked up");
    let msg = if d.conn.resp > 2 {
        Reply::Push(vec![Reply::bulk_str("invalidate"), value])
    } else if redirect != 0 && d.in_pubsub() {
        Reply::Push(vec![Reply::bulk_str("message"), Reply::Bulk(Bytes::from_static(CHANNEL)), value])
    } else {
        return;
    };
    queue(ctx, dest, msg, size + 48);
}

/// A key changed (trackingInvalidateKey): the clients that may cache it are told, and the
/// key is forgotten; with `bcast`, it is also collected for the prefixes it falls under.
/// `ctx.client` is the client running the command (id 0 outside any, e.g. active expiry);
/// its own invalidation waits for its reply when this happens inside the command (`in_call`),
/// and goes before it otherwise (the table limit, checked before a command runs).
pub fn invalidate_key(ctx: &mut Ctx, key: &[u8], bcast: bool, in_call: bool) {
    let current = ctx.client.id;
    let t = &mut ctx.srv.clients.tracking;
    if bcast && !t.prefixes.is_empty() {
        for (p, b) in t.prefixes.iter_mut() {
            if key.starts_with(p) {
                b.keys.insert(Bytes::copy_from_slice(key), current);
            }
        }
    }
    let Some(ids) = t.table.remove(key) else { return };
    t.items -= ids.len() as u64;
    let key = Bytes::copy_from_slice(key);
    for id in ids {
        let Some(c) = client_mut(ctx, id) else { continue };
        // Ids of clients that stopped tracking, or switched to BCAST, are stale.
        let Some(state) = c.tracking.as_ref().filter(|s| !s.bcast) else { continue };
        if id == current && state.noloop {
            continue;
        }
        if id == current && in_call {
            ctx.srv.clients.tracking.pending.push(Some(key.clone()));
        } else {
            send(ctx, id, &Payload::Keys(vec![key.clone()]));
        }
    }
}

/// FLUSHDB / FLUSHALL (trackingInvalidateKeysOnFlush): every tracking client, BCAST ones
/// included, is told that all keys are invalid (a null), and the table is emptied.
pub fn invalidate_all(ctx: &mut Ctx) {
    if ctx.srv.clients.tracking.clients > 0 {
        let mut ids: Vec<ClientId> = ctx.others.iter().filter(|(_, c)| c.tracking.is_some()).map(|(id, _)| *id).collect();
        ids.sort_unstable();
        if ctx.client.tracking.is_some() {
            ctx.srv.clients.tracking.pending.push(None);
        }
        for id in ids {
            send(ctx, id, &Payload::All);
        }
    }
    let t = &mut ctx.srv.clients.tracking;
    t.table = HashMap::new();
    t.items = 0;
}

/// Sends the invalidations that waited for the running client's reply
/// (trackingHandlePendingKeyInvalidations); the caller writes them after that reply.
pub fn flush_pending(ctx: &mut Ctx) {
    let id = ctx.client.id;
    for key in std::mem::take(&mut ctx.srv.clients.tracking.pending) {
        let payload = match key {
            Some(k) => Payload::Keys(vec![k]),
            None => Payload::All,
        };
        send(ctx, id, &payload);
    }
}

/// Sends each prefix's collected keys to its BCAST clients, one message per prefix
/// (trackingBroadcastInvalidationMessages); NOLOOP clients do not hear of their own writes.
pub fn broadcast(ctx: &mut Ctx) {
    if ctx.srv.clients.tracking.clients == 0 || ctx.srv.clients.tracking.prefixes.values().all(|b| b.keys.is_empty()) {
        return;
    }
    let batches: Vec<(BTreeMap<Bytes, ClientId>, Vec<ClientId>)> =
        ctx.srv.clients.tracking.prefixes.values_mut().filter(|b| !b.keys.is_empty()).map(|b| (std::mem::take(&mut b.keys), b.clients.clone())).collect();
    for (keys, clients) in batches {
        for id in clients {
            let noloop = client_mut(ctx, id).and_then(|c| c.tracking.as_ref()).is_some_and(|t| t.noloop);
            let list: Vec<Bytes> = keys.iter().filter(|(_, &by)| !noloop || by != id).map(|(k, _)| k.clone()).collect();
            if !list.is_empty() {
                send(ctx, id, &Payload::Keys(list));
            }
        }
    }
}

/// Keeps the table within `tracking-table-max-keys` (trackingLimitUsedSlots): past it,
/// keys are invalidated as if written, with more effort each time the limit is still
/// exceeded. Redis picks them by a random walk; any order serves, so the table's own is used.
pub fn limit_used_slots(ctx: &mut Ctx) {
    let max = ctx.srv.config.get_i64(crate::param!("tracking-table-max-keys")).max(0) as usize;
    let t = &mut ctx.srv.clients.tracking;
    if max == 0 || t.table.len() <= max {
        t.limit_misses = 0;
        return;
    }
    let effort = 100 * (t.limit_misses as usize + 1);
    let excess = t.table.len() - max;
    let victims: Vec<Bytes> = t.table.keys().take(effort.min(excess)).cloned().collect();
    for k in victims {
        invalidate_key(ctx, &k, false, false);
    }
    let t = &mut ctx.srv.clients.tracking;
    t.limit_misses = if t.table.len() <= max { 0 } else { t.limit_misses + 1 };
}
