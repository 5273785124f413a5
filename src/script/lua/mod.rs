//! The Lua backend (rilua, Lua 5.1 in Rust) and the libraries Redis's Lua carries.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;
