//! Test support shared by the server's test files: start cinnabar-server or redis-server on
//! a free loopback port, and kill it when the test ends (even when it fails).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process killed on drop, so a failing test leaves nothing behind.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Both servers take redis-server's flags, so one spawner serves both.
pub fn spawn(binary: &str) -> Server {
    spawn_with(binary, &[])
}

/// Both servers take redis-server's flags, so one spawner serves both: `config` (a config
/// file, passed first as redis-server wants it) and then flags.
pub fn spawn_with_config(binary: &str, config: &Path, extra: &[&str]) -> Server {
    spawn_inner(binary, Some(config), extra)
}

/// Starts a server with extra redis-server style flags. The free port is found by binding
/// port 0 and releasing it, which races with other tests doing the same; a server that lost
/// the race exits, so check it is our child that answers, and retry on a new port if not.
pub fn spawn_with(binary: &str, extra: &[&str]) -> Server {
    spawn_inner(binary, None, extra)
}

fn spawn_inner(binary: &str, config: Option<&Path>, extra: &[&str]) -> Server {
    for _ in 0..5 {
        let port = free_port();
        // A directory of its own, so no server loads a dump file some other run left behind.
        let dir = std::env::temp_dir().join(format!("cinnabar-test-{}-{}", std::process::id(), port));
        std::fs::create_dir_all(&dir).unwrap();
        // CINNABAR_TEST_ARGS adds flags to every server the tests start, redis-server's too
        // so that the differential tests compare like with like (CI runs the whole file set
        // once more with `--io-threads 4 --io-threads-do-reads yes`).
        let more = std::env::var("CINNABAR_TEST_ARGS").unwrap_or_default();
        let mut child = Command::new(binary)
            .args(config)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir"])
            .arg(&dir)
            .args(more.split_whitespace())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {} (the test command installs redis-server)", binary, e));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break; // exited: the port was taken
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                std::thread::sleep(Duration::from_millis(20));
                if let Ok(None) = child.try_wait() {
                    return Server { child, port };
                }
                break;
            }
            assert!(Instant::now() < deadline, "{} did not start listening on {}", binary, port);
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("could not start {} on a free port", binary);
}

pub fn redis_server_binary() -> String {
    for p in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("redis-server is not installed: run ./scripts/test, which installs Debian's redis-server");
}

/// cinnabar-server from this build.
pub fn cinnabar() -> Server {
    spawn(env!("CARGO_BIN_EXE_cinnabar-server"))
}

pub fn cinnabar_with(extra: &[&str]) -> Server {
    spawn_with(env!("CARGO_BIN_EXE_cinnabar-server"), extra)
}

/// A tool from Debian's redis-tools; failing (not skipping) when it is missing.
pub fn redis_tool(name: &str) -> String {
    for dir in ["/usr/bin", "/usr/local/bin"] {
        let p = format!("{}/{}", dir, name);
        if Path::new(&p).exists() {
            return p;
        }
    }
    panic!("{} is not installed: run ./scripts/test, which installs Debian's redis-tools", name);
}

/// One redis-cli invocation against the server on `port`: its output.
pub fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new(redis_tool("redis-cli")).arg("-p").arg(port.to_string()).args(args).output().unwrap();
    assert!(out.status.success(), "redis-cli {:?} failed: {}", args, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Waits until `ok` holds, failing the test after 10 s with `what` (wait_for_condition).
pub fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {}", what);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A raw client socket with a read timeout, for byte-exact replies.
pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Reads until exactly `want` bytes arrived (or the peer closed).
pub fn read_exact_str(s: &mut TcpStream, want: usize) -> String {
    let mut buf = vec![0u8; want];
    let mut got = 0;
    while got < want {
        match s.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => panic!("read after {} of {} bytes: {} (so far {:?})", got, want, e, String::from_utf8_lossy(&buf[..got])),
        }
    }
    String::from_utf8_lossy(&buf[..got]).into_owned()
}

/// Sends `send` and asserts the reply bytes are exactly `expect`.
pub fn roundtrip(s: &mut TcpStream, send: &[u8], expect: &str) {
    s.write_all(send).unwrap();
    assert_eq!(read_exact_str(s, expect.len()), expect);
}

/// Sends a command line without waiting for its reply.
pub fn send(s: &mut TcpStream, cmd: &str) {
    s.write_all(cmd.as_bytes()).unwrap();
}

/// Asserts the next reply bytes are exactly `reply`.
pub fn expect(s: &mut TcpStream, reply: &str) {
    assert_eq!(read_exact_str(s, reply.len()), reply);
}

/// The client has no reply pending: it is (still) blocked.
pub fn silent(s: &mut TcpStream) {
    s.set_read_timeout(Some(Duration::from_millis(150))).unwrap();
    let mut b = [0u8; 64];
    match s.read(&mut b) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
        other => panic!("expected no reply, got {:?} {:?}", other, String::from_utf8_lossy(&b)),
    }
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
}

/// Runs one of tests/python/*.py (redis-py scenarios) against the server on `port`; the
/// script exits non-zero on any failed assertion, which fails the calling test.
pub fn run_python(script: &str, port: u16) {
    let path = format!("{}/tests/python/{}", env!("CARGO_MANIFEST_DIR"), script);
    let out = Command::new("python3").arg(&path).arg(port.to_string()).output().expect("python3 (scripts/ci/setup.sh installs redis-py)");
    assert!(out.status.success(), "{} failed:\n{}\n{}", script, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
