//! Command families, one module per Redis group. Each declares its `SPECS` (the rows it adds
//! to the command table) at the top, then its handlers. Handlers are sync and pure:
//! `fn(&mut Ctx, &[Bytes]) -> Result<Reply>`.

pub mod bitmap;
pub mod cluster;
pub mod connection;
pub mod generic;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod list;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod server;
pub mod set;
pub mod stream;
pub mod string;
pub mod transaction;
pub mod zset;
