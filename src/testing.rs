//! An in-process harness for reply-exact family tests: an engine with a fake clock, and
//! `run()` that takes argv as strings. Dragonfly's `Run`/`AdvanceTime`, as a library so
//! integration tests in `tests/` and hosts' tests use it too.

use bytes::Bytes;

use crate::client::{ClientId, ClientInfo};
use crate::config::Config;
use crate::engine::Engine;
use crate::reply::Reply;

/// 2026-01-01T00:00:00Z: a fixed start so tests never depend on the wall clock.
pub const T0_US: i64 = 1_767_225_600_000_000;

pub struct TestEngine {
    pub engine: Engine,
    pub client: ClientId,
    pub now_us: i64,
}

impl Default for TestEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEngine {
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        let mut engine = Engine::new(config, 42, T0_US);
        let client =
            engine.connect(ClientInfo { addr: "127.0.0.1:50000".into(), laddr: "127.0.0.1:6379".into(), fd: 8, unix: false, writes_resp: false }, T0_US);
        TestEngine { engine, client, now_us: T0_US }
    }

    /// Opens another client session on the same engine.
    pub fn connect(&mut self) -> ClientId {
        self.engine.connect(ClientInfo { addr: "127.0.0.1:50001".into(), laddr: "127.0.0.1:6379".into(), fd: 9, unix: false, writes_resp: false }, self.now_us)
    }

    pub fn run(&mut self, argv: &[&str]) -> Reply {
        let id = self.client;
        self.run_as(id, argv)
    }

    pub fn run_as(&mut self, id: ClientId, argv: &[&str]) -> Reply {
        let argv = argv.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        self.engine.execute(id, argv, self.now_us).reply.unwrap_or(Reply::Simple("<no reply>"))
    }

    /// Everything one command sends its client, in order: pushes queued before the reply
    /// (messages to itself), the reply, and pushes after it (its own invalidations).
    pub fn run_all(&mut self, id: ClientId, argv: &[&str]) -> Vec<Reply> {
        let mut cmds = std::collections::VecDeque::from([argv.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect::<Vec<_>>()]);
        let mut out = vec![];
        self.engine.execute_batch(id, &mut cmds, self.now_us, |r, _| out.push(r));
        out
    }

    /// Runs a command whose arguments are slices of one buffer, as hosts pass them (a socket
    /// read, the wasm argument area); returns the reply and the buffer, which is unique again
    /// unless the engine kept a slice of it.
    pub fn run_sliced(&mut self, id: ClientId, argv: &[&str]) -> (Reply, Bytes) {
        let all = Bytes::from(argv.concat().into_bytes());
        let mut at = 0;
        let args: Vec<Bytes> = argv
            .iter()
            .map(|a| {
                at += a.len();
                all.slice(at - a.len()..at)
            })
            .collect();
        let reply = self.engine.execute(id, args, self.now_us).reply.unwrap_or(Reply::Simple("<no reply>"));
        (reply, all)
    }

    pub fn run_bytes(&mut self, argv: Vec<Bytes>) -> Reply {
        self.engine.execute(self.client, argv, self.now_us).reply.unwrap_or(Reply::Simple("<no reply>"))
    }

    /// Moves the fake clock forward (no active expiry runs unless `tick()` is called).
    pub fn advance_ms(&mut self, ms: i64) {
        self.now_us += ms * 1000;
    }

    pub fn tick(&mut self) {
        self.engine.tick(self.now_us);
    }

    pub fn now_ms(&self) -> i64 {
        self.now_us / 1000
    }

    /// Starts recording the AOF stream (as a host with `appendonly yes` does).
    pub fn aof_on(&mut self) {
        self.engine.set_aof(true);
    }

    /// The commands recorded since the last call, each as its arguments joined by spaces
    /// (SELECTs included), for asserting what a replay would run.
    pub fn aof_commands(&mut self) -> Vec<String> {
        let bytes = self.engine.take_aof();
        let mut out = vec![];
        let mut parser = crate::resp::parser::RequestParser::new(i64::MAX);
        let mut buf = bytes::BytesMut::from(&bytes[..]);
        while let Ok(Some(argv)) = parser.next(&mut buf, true) {
            out.push(argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "));
        }
        assert!(buf.is_empty(), "the AOF stream parses to its end");
        out
    }

    /// Replies a blocked client received since (served by another client's write, timed
    /// out, unblocked), as a host would drain them.
    pub fn replies_for(&mut self, id: ClientId) -> Vec<Reply> {
        let mut out = vec![];
        self.engine.take_replies(id, |r, _| out.push(r));
        out
    }
}

/// Under wasm32 the family tests' `#[test]` means wasm-bindgen-test's, so the same tests
/// run in Node against the wasm build (`use crate::testing::*` brings it in).
#[cfg(all(test, target_arch = "wasm32"))]
pub use wasm_bindgen_test::wasm_bindgen_test as test;

/// Shorthands for expected replies.
pub fn bulk(s: &str) -> Reply {
    Reply::bulk_str(s)
}

pub fn int(n: i64) -> Reply {
    Reply::Int(n)
}

pub fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

pub fn ok() -> Reply {
    Reply::Simple("OK")
}

pub fn arr(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

/// Asserts an error reply whose text starts with `prefix`.
#[macro_export]
macro_rules! assert_err {
    ($reply:expr, $prefix:expr) => {
        match &$reply {
            $crate::reply::Reply::Error(e) => assert!(e.starts_with($prefix), "error {:?} does not start with {:?}", e, $prefix),
            other => panic!("expected error starting with {:?}, got {:?}", $prefix, other),
        }
    };
}

/// A command as the AOF and the replication stream write it.
pub fn encoded(argv: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::resp::encode_command(&mut out, argv);
    out
}
