//! The databases: each a keyspace plus its expiry index. Every read and write goes through
//! `Db` so that lazy expiry and type checks happen in one place.
//! Redis: db.c, expire.c.

pub mod access;
pub mod expire;
pub mod key;
pub mod keyspace;

pub use keyspace::Db;
