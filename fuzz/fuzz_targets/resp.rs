//! Arbitrary bytes from a client, through the same `Session` both hosts use: the parser
//! (RESP and inline, split at an arbitrary point, as reads split them) and whatever
//! commands it finds, run against an engine. Whatever the input, no panic (a handler's panic
//! would be contained in the server, but here it aborts, so the fuzzer sees it), and the
//! engine still answers another client afterwards.
#![no_main]

use bytes::Bytes;
use cinnabar::reply::Reply;
use cinnabar::script::watch::ScriptState;
use cinnabar::session::Session;
use cinnabar::testing::TestEngine;
use cinnabar::ClientInfo;
use libfuzzer_sys::fuzz_target;

fn monotonic_us() -> i64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_micros() as i64
}

fuzz_target!(|data: &[u8]| {
    let mut t = TestEngine::new();
    // A script that loops is stopped at its first busy hook, as SCRIPT KILL would.
    t.run(&["CONFIG", "SET", "busy-reply-threshold", "20"]);
    t.engine.set_script_watch(Box::new(|s| matches!(s, ScriptState::Busy { .. })));
    // The busy hook measures time with the host's clock: give it one.
    t.engine.set_clock(monotonic_us);
    let id = t.engine.connect(ClientInfo { writes_resp: true, ..Default::default() }, t.now_us);
    let mut session = Session::new(id, &t.engine);
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    for part in [&data[..cut], &data[cut..]] {
        session.input.extend_from_slice(part);
        session.run(&mut t.engine, t.now_us);
        t.engine.drain_events();
        session.take_output();
    }
    let other = t.connect();
    let pong = t.run_as(other, &["PING"]);
    // PONG, or what the input legitimately did to the server: a CLIENT PAUSE holds the
    // command, a requirepass asks for AUTH.
    assert!(matches!(pong, Reply::Simple("PONG") | Reply::Blocked) || matches!(&pong, Reply::Error(e) if e.starts_with("NOAUTH")), "{:?}", pong);
    let _ = t.engine.execute(other, vec![Bytes::from_static(b"DBSIZE")], t.now_us);
});
