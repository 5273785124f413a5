//! The Lua debugger (SCRIPT DEBUG SYNC / YES, then EVAL) against a scripted connection: the
//! commands a client types and every line the debugger writes back, as redis-server 7.0
//! writes them (checked against it with the same session).

use std::sync::{Arc, Mutex};

use crate::client::ClientId;
use crate::reply::Reply;
use crate::script::ldb::{DebugChannel, Forked};
use crate::testing::TestEngine;

/// A connection whose client types `input`, one command per read, and whose output is
/// kept; `fork` answers as the test says.
#[derive(Clone, Default)]
struct Scripted {
    input: Arc<Mutex<Vec<Vec<u8>>>>,
    output: Arc<Mutex<Vec<u8>>>,
    fork: Option<Forked>,
    exited_with: Arc<Mutex<Option<Vec<u8>>>>,
}

impl DebugChannel for Scripted {
    fn write(&mut self, _: ClientId, bytes: &[u8]) {
        self.output.lock().unwrap().extend_from_slice(bytes);
    }
    fn read(&mut self, _: ClientId, buf: &mut Vec<u8>) -> bool {
        let mut input = self.input.lock().unwrap();
        if input.is_empty() {
            return false;
        }
        buf.extend(input.remove(0));
        true
    }
    fn fork(&mut self, _: ClientId) -> Result<Forked, String> {
        self.fork.ok_or_else(|| "Cannot allocate memory".to_string())
    }
    fn exit_child(&mut self, _: ClientId, reply: &[u8]) {
        *self.exited_with.lock().unwrap() = Some(reply.to_vec());
    }
}

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::resp::writer::encode_command(&mut out, args);
    out
}

/// The debugger's output as the arrays of lines it sent.
fn sent(output: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(output);
    let mut arrays = Vec::new();
    let mut lines = text.split("\r\n").peekable();
    while let Some(head) = lines.next() {
        let Some(n) = head.strip_prefix('*') else { continue };
        let n: usize = n.parse().unwrap();
        arrays.push((0..n).map(|_| lines.next().unwrap().strip_prefix('+').unwrap().to_string()).collect());
    }
    arrays
}

fn session(commands: &[&[&str]], fork: Option<Forked>) -> (TestEngine, Scripted) {
    let mut t = TestEngine::new();
    let ch = Scripted { fork, ..Default::default() };
    *ch.input.lock().unwrap() = commands.iter().map(|c| resp(c)).collect();
    t.engine.set_script_debugger(Box::new(ch.clone()));
    (t, ch)
}

const SCRIPT: &str = "local a = 1\nredis.call('set', 'x', a)\nlocal t = {1, 'two', {k = true}}\nreturn a\n";

#[test]
fn a_sync_session_steps_prints_and_runs_commands_as_redis_does() {
    let commands: &[&[&str]] = &[
        &["print"],
        &["s"],
        &["p", "a"],
        &["step"],
        &["e", "a", "+", "1"],
        &["redis", "get", "x"],
        &["n"],
        &["print"],
        &["trace"],
        &["b", "4"],
        &["list", "2", "1"],
        &["c"],
    ];
    let (mut t, ch) = session(commands, None);
    assert_eq!(t.run(&["SCRIPT", "DEBUG", "SYNC"]), Reply::Simple("OK"));
    assert_eq!(
        t.run(&["EVALSHA", "0123456789012345678901234567890123456789", "0"]),
        Reply::Error("ERR Please use EVAL instead of EVALSHA for debugging".into())
    );
    let out = t.engine.execute(t.client, ["EVAL", SCRIPT, "0"].iter().map(|a| bytes::Bytes::from(a.to_string())).collect(), t.now_us);
    assert_eq!(out.reply, Some(Reply::Int(1)));
    assert!(out.close, "the client is closed once the session's reply is out");
    let expected: Vec<Vec<&str>> = vec![
        vec!["* Stopped at 1, stop reason = step over", "-> 1   local a = 1"],
        vec!["No local variables in the current context."],
        vec!["* Stopped at 2, stop reason = step over", "-> 2   redis.call('set', 'x', a)"],
        vec!["<value> 1"],
        vec!["<redis> set x 1", "<reply> \"+OK\"", "* Stopped at 3, stop reason = step over", "-> 3   local t = {1, 'two', {k = true}}"],
        // The code runs in a frame of its own, where the script's locals are not in sight.
        vec!["<error> ldb_eval:1: Script attempted to access nonexistent global variable 'a'"],
        vec!["<redis> get x", "<reply> \"1\""],
        vec!["* Stopped at 4, stop reason = step over", "-> 4   return a"],
        vec!["<value> a = 1", "<value> t = {1; \"two\"; {[\"k\"]=true}}"],
        vec!["In top level:", "-> 4   return a"],
        vec!["   3   local t = {1, 'two', {k = true}}", "->#4   return a"],
        vec!["   1   local a = 1", "   2   redis.call('set', 'x', a)", "   3   local t = {1, 'two', {k = true}}"],
        vec!["<endsession>"],
    ];
    assert_eq!(sent(&ch.output.lock().unwrap()), expected);
    // SYNC keeps what the script wrote.
    let mut t2 = t;
    let c = t2.connect();
    assert_eq!(t2.run_as(c, &["GET", "x"]), Reply::Bulk("1".into()));
}

#[test]
fn breakpoints_redis_debug_and_abort() {
    let script = "redis.debug('start', 1, {2})\nlocal x = 5\nredis.breakpoint()\nlocal y = 6\nreturn y\n";
    let commands: &[&[&str]] = &[&["b", "2"], &["c"], &["c"], &["help"], &["a"]];
    let (mut t, ch) = session(commands, None);
    t.run(&["SCRIPT", "DEBUG", "SYNC"]);
    let r = t.run(&["EVAL", script, "0"]);
    assert_eq!(r, Reply::Error("ERR script aborted for user request script: a83b58c00d48a7f55f67d9c21abf5f0d68549c47, on @user_script:4.".into()));
    let arrays = sent(&ch.output.lock().unwrap());
    assert_eq!(arrays[1], ["-> 1   redis.debug('start', 1, {2})", "  #2   local x = 5", "   3   redis.breakpoint()"]);
    assert_eq!(arrays[2], ["<debug> line 1: \"start\", 1, {2}", "* Stopped at 2, stop reason = break point", "->#2   local x = 5"]);
    assert_eq!(arrays[3], ["* Stopped at 4, stop reason = redis.breakpoint() called", "-> 4   local y = 6"]);
    assert_eq!(arrays[4][0], "Redis Lua debugger help:");
    assert_eq!(arrays.last().unwrap(), &["<endsession>"]);
}

#[test]
fn unknown_commands_protocol_errors_and_a_client_that_leaves() {
    let (mut t, ch) = session(&[&["hello\0world"], &["r"], &["redis", "nosuch", "x"]], None);
    t.run(&["SCRIPT", "DEBUG", "SYNC"]);
    // The client leaves after three commands: the script runs to its end unstopped.
    assert_eq!(t.run(&["EVAL", "local a = 1\nreturn 'done'", "0"]), Reply::Bulk("done".into()));
    let arrays = sent(&ch.output.lock().unwrap());
    let unknown = "<error> Unknown Redis Lua debugger command or wrong number of arguments.";
    assert_eq!(arrays[1], [unknown]);
    assert_eq!(arrays[2], [unknown]);
    assert_eq!(arrays[3], ["<redis> nosuch x", "<error> Unknown Redis command called from script"]);

    let (mut t, _) = session(&[], None);
    t.run(&["SCRIPT", "DEBUG", "SYNC"]);
    let ch = Scripted::default();
    *ch.input.lock().unwrap() = vec![b"*1\r\n$0\r\n\r\n".to_vec()];
    t.engine.set_script_debugger(Box::new(ch));
    let r = t.run(&["EVAL", "return 1", "0"]);
    assert!(matches!(&r, Reply::Error(e) if e.starts_with("ERR protocol error")), "{r:?}");
}

#[test]
fn yes_forks_the_session_into_a_child() {
    // The parent: the client is dropped without a reply, the child has it.
    let (mut t, _) = session(&[], Some(Forked::Parent));
    t.run(&["SCRIPT", "DEBUG", "YES"]);
    let out = t.engine.execute(t.client, vec!["EVAL".into(), "return 1".into(), "0".into()], t.now_us);
    assert!(out.close);
    assert_eq!(out.reply, Some(Reply::Multi(vec![])));
    // The child: the session runs, then the reply goes out through the host, which exits.
    let (mut t, ch) = session(&[&["c"]], Some(Forked::Child));
    t.run(&["SCRIPT", "DEBUG", "YES"]);
    assert_eq!(t.run(&["EVAL", "return 'x'", "0"]), Reply::Bulk("x".into()));
    assert_eq!(ch.exited_with.lock().unwrap().as_deref(), Some(&b"$1\r\nx\r\n"[..]));
    // A fork that fails says why.
    let (mut t, _) = session(&[], None);
    t.run(&["SCRIPT", "DEBUG", "YES"]);
    assert_eq!(t.run(&["EVAL", "return 1", "0"]), Reply::Error("ERR Fork() failed: can't run EVAL in debugging mode: Cannot allocate memory".into()));
    // Without a host channel the modes are refused; NO is always fine.
    let mut t = TestEngine::new();
    assert!(matches!(t.run(&["SCRIPT", "DEBUG", "YES"]), Reply::Error(e) if e.contains("Lua debugger")));
    assert_eq!(t.run(&["SCRIPT", "DEBUG", "no"]), Reply::Simple("OK"));
}
