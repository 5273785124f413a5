//! Pub/sub state: which clients listen on which channels, patterns and shard channels. The
//! core delivers a message by queueing a push reply in each receiver's outbox and emitting
//! `Event::Deliver` so the host writes it; a receiver whose undelivered output passes
//! `client-output-buffer-limit pubsub` is disconnected instead of growing memory. Redis:
//! pubsub.c.

use bytes::Bytes;
use hashbrown::HashMap;

use crate::client::ClientId;

#[derive(Debug, Default)]
pub struct PubSub {
    pub channels: HashMap<Bytes, Vec<ClientId>>,
    pub patterns: HashMap<Bytes, Vec<ClientId>>,
    pub shard: HashMap<Bytes, Vec<ClientId>>,
}

/// Which family of subscriptions a command works on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl PubSub {
    pub fn map(&mut self, kind: Kind) -> &mut HashMap<Bytes, Vec<ClientId>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    pub fn add(&mut self, kind: Kind, name: &Bytes, id: ClientId) {
        self.map(kind).entry(name.clone()).or_default().push(id);
    }

    pub fn remove(&mut self, kind: Kind, name: &Bytes, id: ClientId) {
        let m = self.map(kind);
        if let Some(v) = m.get_mut(name) {
            v.retain(|&c| c != id);
            if v.is_empty() {
                m.remove(name);
            }
        }
    }
}
