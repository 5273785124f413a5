//! Client-side caching: which clients may hold which keys, and the invalidation messages a
//! write sends them. Redis: tracking.c.
//!
//! In the default mode a tracking client's reads (the keys of read-only commands, found by
//! the command table's key positions) are remembered in one table, key → client ids, shared
//! by every database as in Redis. A write to the key (`Ctx::modified`), its expiry, or a
//! flush sends the clients in that entry an invalidation and forgets the entry. In BCAST
//! mode nothing is remembered: every write to a key under a subscribed prefix is collected
//! and broadcast once per batch (Redis: once per event loop iteration).
//!
//! A message goes to the tracking client itself when it speaks RESP3 (a `invalidate` push),
//! or to its REDIRECT client: a RESP3 push, or for a RESP2 connection in subscribed mode a
//! pub/sub message on `__redis__:invalidate` whose payload is the array of keys. Messages are
//! queued in the receiver's outbox with `Event::Deliver`, like pub/sub; an invalidation for
//! the client running the command waits until its reply is out, as Redis's pending keys do.
//!
//! This module keeps the state; `command::tracking` is what commands do with it.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use hashbrown::HashMap;

use crate::client::{Client, ClientId};

/// The pub/sub channel RESP2 redirect targets receive invalidations on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// One client's tracking mode (Redis keeps these as client flags).
#[derive(Debug, Clone, Default)]
pub struct ClientTracking {
    /// The client invalidations go to; 0 for the tracking client itself.
    pub redirect: ClientId,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) was given for the next command.
    pub caching: bool,
    /// The redirect client went away (CLIENT LIST flag `R`, TRACKINGINFO broken_redirect).
    pub broken_redirect: bool,
    /// BCAST prefixes, in byte order as Redis's radix tree lists them.
    pub prefixes: BTreeSet<Bytes>,
}

/// Keys written under one BCAST prefix since the last broadcast (with the client that wrote
/// each last, for NOLOOP; 0 when no client did, e.g. expiry), and its subscribers.
#[derive(Debug, Default)]
pub(crate) struct Bcast {
    pub(crate) keys: BTreeMap<Bytes, ClientId>,
    pub(crate) clients: Vec<ClientId>,
}

/// The server side of client-side caching.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Key → clients that may have it cached. Ids stay until the key is invalidated, even if
    /// the client stopped tracking or left (Redis cleans them lazily too).
    pub(crate) table: HashMap<Bytes, Vec<ClientId>>,
    /// Ids stored across the whole table (INFO tracking_total_items).
    pub(crate) items: u64,
    pub(crate) prefixes: BTreeMap<Bytes, Bcast>,
    /// Clients with tracking on (INFO tracking_clients).
    pub clients: usize,
    /// Invalidations for the client running the command, sent after its reply; None is a
    /// flush (all keys).
    pub(crate) pending: Vec<Option<Bytes>>,
    /// How many times in a row the table stayed over tracking-table-max-keys.
    pub(crate) limit_misses: u32,
}

impl Tracking {
    /// Whether any write can concern tracking (the check `Ctx::modified` makes inline).
    #[inline]
    pub fn is_active(&self) -> bool {
        !self.table.is_empty() || !self.prefixes.is_empty()
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    pub fn total_items(&self) -> u64 {
        self.items
    }

    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }
}

/// Options parsed from CLIENT TRACKING.
#[derive(Debug, Default)]
pub struct Options {
    pub redirect: ClientId,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Bytes>,
}

/// Turns tracking on (or changes its options) for `c` (enableTracking). The caller has
/// validated the options against the client's current mode.
pub fn enable(t: &mut Tracking, c: &mut Client, o: Options) {
    let state = c.tracking.get_or_insert_with(|| {
        t.clients += 1;
        Box::default()
    });
    state.redirect = o.redirect;
    state.broken_redirect = false;
    state.optin = o.optin;
    state.optout = o.optout;
    state.noloop = o.noloop;
    state.bcast = o.bcast;
    if o.bcast {
        let prefixes = if o.prefixes.is_empty() { vec![Bytes::new()] } else { o.prefixes };
        for p in prefixes {
            // A copy: the argument is a slice of the host's input buffer, which it would keep whole.
            let p = Bytes::copy_from_slice(&p);
            let b = t.prefixes.entry(p.clone()).or_default();
            if !b.clients.contains(&c.id) {
                b.clients.push(c.id);
                state.prefixes.insert(p);
            }
        }
    }
}

/// Turns tracking off (disableTracking): leaves its prefixes; its ids in the table stay
/// until their keys are invalidated.
pub fn disable(t: &mut Tracking, c: &mut Client) {
    let Some(state) = c.tracking.take() else { return };
    t.clients -= 1;
    for p in &state.prefixes {
        if let Some(b) = t.prefixes.get_mut(p) {
            b.clients.retain(|&id| id != c.id);
            if b.clients.is_empty() {
                t.prefixes.remove(p);
            }
        }
    }
}

/// The overlap check of CLIENT TRACKING ... BCAST PREFIX: two prefixes overlap when one
/// starts the other. Returns Redis's error text for the first collision.
pub fn prefix_collision(existing: Option<&ClientTracking>, new: &[Bytes]) -> Option<String> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(old) = existing.map(|e| &e.prefixes).into_iter().flatten().find(|old| overlap(old, p)) {
            return Some(format!("ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.", s(p), s(old)));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlap(p, q)) {
            return Some(format!("ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.", s(p), s(q)));
        }
    }
    None
}
