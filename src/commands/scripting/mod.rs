//! Scripting: the FUNCTION container. Libraries (FUNCTION LOAD, FCALL) and EVAL arrive with
//! the scripting issue; until then the library store is always empty, and FUNCTION FLUSH, which
//! empties it, is complete as it stands (clients and Redis's test harness call it between tests).
//! Redis: functions.c.

use bytes::Bytes;

use crate::command::spec::{acl::SCRIPTING, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::reply::{Reply, OK};

const G: &str = "scripting";

static FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[CommandSpec::new("flush", -2, WRITE | NOSCRIPT, G, function_flush)
    .acl(SCRIPTING)
    .doc("7.0.0", "Deleting all functions", "O(N) where N is the number of functions deleted").args("[ASYNC|SYNC]")];

pub static SPECS: &[CommandSpec] = &[CommandSpec::container("function", G, FUNCTION_SUBCOMMANDS).doc("7.0.0", "A container for function commands", "Depends on subcommand.")];

/// FUNCTION FLUSH [ASYNC | SYNC]
fn function_flush(_ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::subcommand_syntax(&argv[1], "FUNCTION"));
    }
    if argv.len() == 3 && !argv[2].eq_ignore_ascii_case(b"sync") && !argv[2].eq_ignore_ascii_case(b"async") {
        return Err(Error::Msg("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;

    #[test]
    fn function_flush_accepts_sync_and_async_only() {
        let mut t = TestEngine::new();
        assert_eq!(t.run(&["FUNCTION", "FLUSH"]), ok());
        assert_eq!(t.run(&["FUNCTION", "FLUSH", "ASYNC"]), ok());
        assert_eq!(t.run(&["FUNCTION", "FLUSH", "later"]), err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
}
