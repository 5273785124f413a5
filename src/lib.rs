//! # Cinnabar: the core engine
//!
//! A Redis-compatible data store as a pure, synchronous state machine. The walk a command
//! takes, and the module that owns each step:
//!
//! 1. bytes from a socket (or a browser terminal) → [`resp::RequestParser`] → argv
//! 2. argv → [`Engine::execute`] → [`command::dispatch`]: lookup in the one
//!    [`command::table`], arity, auth, then the family handler in [`commands`]
//! 3. the handler reads and writes keys only through [`db::Db`] (lazy expiry, type checks)
//!    holding [`object::Value`]s
//! 4. the handler's [`reply::Reply`] → [`resp::write_reply`] in the client's RESP dialect
//!
//! The host owns sockets, files and the clock: it passes `now` in, calls
//! [`Engine::tick`] for active expiry and acts on [`Engine::drain_events`].

pub mod acl;
pub mod alloc;
pub mod aof;
pub mod blocking;
pub mod client;
pub mod command;
pub mod commands;
pub mod config;
pub mod db;
pub mod ds;
pub mod engine;
pub mod error;
pub mod event;
pub mod latency;
pub mod lazyfree;
pub mod long_double;
pub mod multi;
pub mod notify;
pub mod object;
pub mod panic;
pub mod persistence;
pub mod pubsub;
pub mod rdb;
pub mod replication;
pub mod reply;
pub mod reply_stream;
pub mod resp;
pub mod script;
pub mod server;
pub mod session;
pub mod testing;
pub mod tracking;
pub mod types;
pub mod util;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use client::{ClientId, ClientInfo};
pub use config::Config;
pub use engine::{Engine, HostReport, Outcome};
pub use error::Error;
pub use event::Event;
pub use reply::Reply;
pub use server::FileStep;

/// The Redis version Cinnabar reports (clients gate features on it).
pub const REDIS_VERSION: &str = "7.0.15";
/// Cinnabar's own version, reported as `cinnabar_version` in INFO.
pub const CINNABAR_VERSION: &str = env!("CARGO_PKG_VERSION");
