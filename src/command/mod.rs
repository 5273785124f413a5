//! The command layer: the spec type, the one table built from every family's `SPECS`, the
//! typed argument cursor, and dispatch (Redis's processCommand + call()).

pub mod args;
pub mod dispatch;
pub mod keyspec;
pub mod rename;
pub mod spec;
pub mod syntax;
pub mod table;
pub mod tracking;

pub use args::Args;
pub use spec::{CommandSpec, Handler};
