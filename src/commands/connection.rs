//! placeholder
use crate::command::CommandSpec;
pub static SPECS: &[CommandSpec] = &[];
