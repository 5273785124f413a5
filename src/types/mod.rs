//! The collection types as stored values, each with its small and big encoding and the
//! conversion between them. Command families (commands/) work through these; they know
//! nothing of clients or replies.

pub mod hash;
pub mod hll;
pub mod list;
pub mod set;
pub mod stream;
pub mod zset;
