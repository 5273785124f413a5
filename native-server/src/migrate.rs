//! The host side of MIGRATE: connections to target servers, cached by host:port for later
//! MIGRATEs (closed after 10 s unused, at most 64), and the blocking exchange Redis does
//! under its one thread: AUTH, SELECT when the connection is on another database, the
//! RESTOREs, then one reply line each. The engine is locked meanwhile, as Redis's event loop
//! waits. Redis: cluster.c migrateGetSocket / migrateCommand / migrateCloseTimedoutSockets.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cinnabar::commands::generic::migrate::{MigrateHost, MigrateOutcome, MigrateRequest};

const CACHE_ITEMS: usize = 64;
const CACHE_TTL: Duration = Duration::from_secs(10);

struct Cached {
    stream: TcpStream,
    /// The database the connection has SELECTed; -1: unknown.
    last_db: i64,
    last_use: Instant,
}

#[derive(Clone, Default)]
pub struct Migrator {
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

/// A failed exchange: whether it timed out (then no retry) and in which direction.
struct Failure {
    timed_out: bool,
}

fn failure(e: &std::io::Error) -> Failure {
    Failure { timed_out: matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) }
}

fn resp(out: &mut Vec<u8>, argv: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// syncReadLine: one line without its CRLF (at most 1 KB kept, as Redis's buffer).
fn read_line(s: &mut TcpStream) -> Result<Vec<u8>, Failure> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b) {
            Ok(0) => return Err(Failure { timed_out: false }),
            Ok(_) if b[0] == b'\n' => {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            Ok(_) => {
                if line.len() < 1023 {
                    line.push(b[0]);
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(failure(&e)),
        }
    }
}

/// atoi: the leading digits.
fn atoi(s: &str) -> u16 {
    let digits: String = s.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse::<u64>().map_or(0, |n| n as u16)
}

impl Migrator {
    /// migrateCloseTimedoutSockets, from the host's once-a-second chores.
    pub fn close_idle(&self) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, c| c.last_use.elapsed() <= CACHE_TTL);
    }

    fn connect(host: &str, port: &str, timeout: Duration) -> Option<TcpStream> {
        let addrs = (host, atoi(port)).to_socket_addrs().ok()?;
        for addr in addrs {
            if let Ok(s) = TcpStream::connect_timeout(&addr, timeout) {
                let _ = s.set_nodelay(true);
                return Some(s);
            }
        }
        None
    }

    fn exchange(c: &mut Cached, req: &MigrateRequest, timeout: Duration) -> Result<(Vec<bool>, Option<String>), (Failure, bool, Vec<bool>, usize)> {
        let mut buf = Vec::new();
        if let Some((user, pass)) = &req.auth {
            match user {
                Some(u) => resp(&mut buf, &[b"AUTH", u, pass]),
                None => resp(&mut buf, &[b"AUTH", pass]),
            }
        }
        let select = c.last_db != req.db;
        if select {
            resp(&mut buf, &[b"SELECT", req.db.to_string().as_bytes()]);
        }
        for r in &req.restores {
            let args: Vec<&[u8]> = r.iter().map(|a| &a[..]).collect();
            resp(&mut buf, &args);
        }
        let _ = c.stream.set_write_timeout(Some(timeout));
        let _ = c.stream.set_read_timeout(Some(timeout));
        let n = req.restores.len();
        if let Err(e) = c.stream.write_all(&buf) {
            return Err((failure(&e), true, vec![false; n], 0));
        }
        let auth_line = match req.auth.is_some() {
            true => Some(read_line(&mut c.stream).map_err(|f| (f, false, vec![false; n], 0))?),
            false => None,
        };
        let select_line = match select {
            true => Some(read_line(&mut c.stream).map_err(|f| (f, false, vec![false; n], 0))?),
            false => None,
        };
        let refused = |l: &Option<Vec<u8>>| l.as_ref().is_some_and(|l| l.first() == Some(&b'-'));
        let mut acked = vec![false; n];
        let mut error = None;
        for j in 0..n {
            let line = match read_line(&mut c.stream) {
                Ok(l) => l,
                Err(f) => return Err((f, false, acked, j)),
            };
            if refused(&auth_line) || refused(&select_line) || line.first() == Some(&b'-') {
                if error.is_none() {
                    c.last_db = -1;
                    let from = if refused(&auth_line) {
                        auth_line.as_ref().unwrap()
                    } else if refused(&select_line) {
                        select_line.as_ref().unwrap()
                    } else {
                        &line
                    };
                    error = Some(format!("ERR Target instance replied with error: {}", String::from_utf8_lossy(&from[1..])));
                }
            } else {
                acked[j] = true;
            }
        }
        if error.is_none() {
            c.last_db = req.db;
        }
        Ok((acked, error))
    }
}

impl MigrateHost for Migrator {
    fn migrate(&mut self, req: &MigrateRequest) -> MigrateOutcome {
        let name = format!("{}:{}", req.host, req.port);
        let timeout = Duration::from_millis(req.timeout_ms.max(1) as u64);
        let n = req.restores.len();
        let mut may_retry = true;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if !cache.contains_key(&name) {
                if cache.len() >= CACHE_ITEMS {
                    let victim = cache.keys().next().cloned().expect("a full cache has entries");
                    cache.remove(&victim);
                }
                match Self::connect(&req.host, &req.port, timeout) {
                    Some(stream) => {
                        cache.insert(name.clone(), Cached { stream, last_db: -1, last_use: Instant::now() });
                    }
                    None => return MigrateOutcome { acked: vec![false; n], error: Some("IOERR error or timeout connecting to the client".into()) },
                }
            }
            let c = cache.get_mut(&name).expect("connected above");
            c.last_use = Instant::now();
            match Self::exchange(c, req, timeout) {
                Ok((acked, error)) => return MigrateOutcome { acked, error },
                Err((f, writing, acked, read)) => {
                    // A broken cached connection is common: reconnect once, unless it timed
                    // out or the target already processed something.
                    cache.remove(&name);
                    if may_retry && !f.timed_out && read == 0 && !acked.iter().any(|&a| a) {
                        may_retry = false;
                        continue;
                    }
                    let dir = if writing { "writing" } else { "reading" };
                    return MigrateOutcome { acked, error: Some(format!("IOERR error or timeout {} to target instance", dir)) };
                }
            }
        }
    }

    fn cached_sockets(&self) -> usize {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
