//! What the host sees of a running script (Redis: script.c's busy-script handling): the
//! states it is told about, so its other connections can answer BUSY and act on SCRIPT KILL /
//! FUNCTION KILL while the engine is busy, and the script's own client. The run itself, which
//! goes through dispatch, is `commands::scripting::run`.

use bytes::Bytes;

use crate::client::{Client, ClientId, ClientInfo};
use crate::reply::Reply;

/// The id of the client scripts run their commands as; real clients start at 1.
pub const SCRIPT_CLIENT_ID: u64 = 0;

/// What the host hears about a running script, so its other connections can answer BUSY
/// and act on SCRIPT KILL / FUNCTION KILL while the engine is busy.
pub enum ScriptState<'r> {
    /// A script (or FUNCTION LOAD's code) began running; for a function, what FUNCTION
    /// STATS shows of it while it is busy.
    Started {
        eval: bool,
        function: Option<Box<RunningFunction>>,
    },
    /// It has run past `busy-reply-threshold`; sent again at every count hook until it
    /// ends. `wrote`: a write already happened, so only SHUTDOWN NOSAVE may stop it.
    /// `run` runs a command flagged allow-busy for another client now (AUTH, HELLO, RESET,
    /// WATCH, UNWATCH: processEventsWhileBlocked runs them in Redis), on the engine the
    /// script holds.
    Busy {
        eval: bool,
        wrote: bool,
        elapsed_ms: i64,
        run: &'r mut dyn FnMut(ClientId, ForOther) -> BusyRun,
    },
    Ended,
}

/// What `ScriptState::Busy`'s `run` does for another client.
#[derive(Debug, Clone, Copy)]
pub enum ForOther<'a> {
    /// Runs its command.
    Run(&'a [Bytes]),
    /// Its connection is gone: the server forgets it now, as Redis frees a client while a
    /// script runs (a replica that left no longer counts in INFO or min-replicas-to-write).
    Gone,
}

/// A command run while a script is busy: its reply, in the protocol the client speaks
/// after it (HELLO may switch), and whether the connection closes after it.
#[derive(Debug, Clone, PartialEq)]
pub struct BusyRun {
    pub reply: Reply,
    pub resp3: bool,
    pub close: bool,
}

/// A running function as FUNCTION STATS describes it (answered by the host while the
/// function keeps the engine busy), with the engine's counts, which cannot change meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningFunction {
    pub name: String,
    pub command: Vec<Bytes>,
    pub libraries: usize,
    pub functions: usize,
}

/// FUNCTION STATS while a script is busy (functionStatsCommand): a running EVAL script is
/// refused with the EVAL flavour of BUSY; a function is described with how long it has run.
pub fn busy_function_stats(eval: bool, running: Option<&RunningFunction>, duration_ms: i64) -> Reply {
    if eval {
        return Reply::Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.".into());
    }
    let s = |t: &str| Reply::bulk_str(t);
    let (script, libraries, functions) = match running {
        Some(f) => (
            Reply::Map(vec![
                (s("name"), s(&f.name)),
                (s("command"), Reply::Array(f.command.iter().cloned().map(Reply::Bulk).collect())),
                (s("duration_ms"), Reply::Int(duration_ms)),
            ]),
            f.libraries,
            f.functions,
        ),
        None => (Reply::Nil, 0, 0),
    };
    let lua = Reply::Map(vec![(s("libraries_count"), Reply::Int(libraries as i64)), (s("functions_count"), Reply::Int(functions as i64))]);
    Reply::Map(vec![(s("running_script"), script), (s("engines"), Reply::Map(vec![(s("LUA"), lua)]))])
}

/// The host's watch: told about the running script, answers whether to stop it now.
pub type ScriptWatch = Box<dyn for<'r> FnMut(ScriptState<'r>) -> bool + Send>;

/// A new client for scripts' commands: authenticated, never blocking, shown as `lua` by
/// MONITOR.
pub fn script_client() -> Client {
    let mut c = Client::new(SCRIPT_CLIENT_ID, ClientInfo { addr: "lua".into(), laddr: String::new(), fd: -1, unix: false, writes_resp: false }, 0, true);
    c.wait.deny_blocking = true;
    c
}

/// scriptKill's answer to SCRIPT KILL (`eval_cmd`) or FUNCTION KILL, from what the host
/// knows of the running script (`None`: nothing runs). `Ok` means: stop it.
pub fn kill_reply(running: Option<(bool, bool)>, eval_cmd: bool) -> Result<(), String> {
    let Some((eval, wrote)) = running else { return Err("NOTBUSY No scripts in execution right now.".into()) };
    if wrote {
        return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.".into());
    }
    if eval_cmd && !eval {
        return Err(crate::error::busy_script(false).into());
    }
    if !eval_cmd && eval {
        return Err(crate::error::busy_script(true).into());
    }
    Ok(())
}

/// What a host does with a command that arrives while a script is timed out (Redis runs
/// only commands flagged allow-busy then, from inside the script's hook).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhileBusy {
    /// SCRIPT KILL (`true`) or FUNCTION KILL: answer with `kill_reply`.
    Kill(bool),
    /// SHUTDOWN NOSAVE: stop the server without saving, script or not.
    ShutdownNoSave,
    /// FUNCTION STATS: answered from what `Started` said (`busy_function_stats`).
    FunctionStats,
    /// Everything else goes to the engine the script holds (`ScriptState::Busy`'s `run`),
    /// which runs what is flagged allow-busy and refuses the rest with BUSY.
    Engine,
}

pub fn while_busy(argv: &[Bytes]) -> WhileBusy {
    let Some(name) = argv.first() else { return WhileBusy::Engine };
    let sub = |s: &str| argv.len() == 2 && argv[1].eq_ignore_ascii_case(s.as_bytes());
    if name.eq_ignore_ascii_case(b"script") && sub("kill") {
        return WhileBusy::Kill(true);
    }
    if name.eq_ignore_ascii_case(b"function") && sub("kill") {
        return WhileBusy::Kill(false);
    }
    if name.eq_ignore_ascii_case(b"function") && sub("stats") {
        return WhileBusy::FunctionStats;
    }
    if name.eq_ignore_ascii_case(b"shutdown") && argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave")) {
        return WhileBusy::ShutdownNoSave;
    }
    WhileBusy::Engine
}
