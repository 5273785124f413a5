//! The append-only file as bytes: replaying it (Redis's loadSingleAppendOnlyFile). The
//! stream it replays is what `propagate` writes; a file may also start with an RDB
//! preamble (a rewritten base with `aof-use-rdb-preamble yes`, or an old single-file AOF).
//! The host owns the files (the manifest, base and incremental parts, fsync, truncation):
//! it hands each part's bytes here in order and decides what a short read means.

pub mod rewrite;

use bytes::Bytes;

use crate::client::{Client, ClientInfo};
use crate::command::dispatch::{call, Ctx};
use crate::engine::Engine;
use crate::reply::Reply;

/// The AOF as INFO persistence and BGREWRITEAOF see it; the host reports what happens to
/// its files (`Engine::aof_*`).
#[derive(Debug, Clone)]
pub struct Status {
    pub enabled: bool,
    pub rewrite_in_progress: bool,
    /// Asked for while a snapshot was being saved: starts when that ends.
    pub rewrite_scheduled: bool,
    /// The AOF was turned on inside EXEC: its first rewrite is scheduled, not started.
    pub start_deferred: bool,
    pub rewrite_started_ms: i64,
    pub last_rewrite_secs: i64,
    pub last_rewrite_ok: bool,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    /// The last write to the file failed: why.
    pub write_error: Option<String>,
    /// Bytes in the base and incremental files, and in the base at the last rewrite
    /// (auto-aof-rewrite-percentage grows from it).
    pub current_size: u64,
    pub base_size: u64,
    /// The host's background fsync is queued or running (INFO aof_pending_bio_fsync).
    pub pending_bio_fsync: bool,
    /// Writes that went ahead without waiting for a slow background fsync.
    pub delayed_fsync: u64,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            enabled: false,
            rewrite_in_progress: false,
            rewrite_scheduled: false,
            start_deferred: false,
            rewrite_started_ms: 0,
            last_rewrite_secs: -1,
            last_rewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            write_error: None,
            current_size: 0,
            base_size: 0,
            pending_bio_fsync: false,
            delayed_fsync: 0,
        }
    }
}

/// Starts a rewrite now (the host does it on `Event::RewriteAof`).
pub fn start_rewrite(srv: &mut crate::server::Server) {
    srv.aof.rewrite_scheduled = false;
    srv.aof.rewrite_in_progress = true;
    srv.aof.rewrite_started_ms = srv.now_ms();
    srv.events.push(crate::event::Event::RewriteAof);
}

/// serverCron's AOF duties: a scheduled rewrite once no snapshot is being saved, and the
/// automatic one when the file has grown `auto-aof-rewrite-percentage` past its base (and
/// is over `auto-aof-rewrite-min-size`). After a failure, automatic rewrites wait as Redis's
/// do (a minute per consecutive failure, at most an hour).
pub fn cron(srv: &mut crate::server::Server) {
    let a = &srv.aof;
    if a.rewrite_in_progress || srv.persistence.child != crate::persistence::ChildType::None || srv.persistence.pending.is_some() {
        return;
    }
    if a.rewrite_scheduled {
        start_rewrite(srv);
        return;
    }
    let perc = srv.config.get_i64("auto-aof-rewrite-percentage");
    let min = srv.config.get_i64("auto-aof-rewrite-min-size").max(0) as u64;
    if !a.enabled || perc <= 0 || a.current_size <= min {
        return;
    }
    let base = a.base_size.max(1);
    let growth = (a.current_size.saturating_sub(base) * 100 / base) as i64;
    if growth < perc {
        return;
    }
    if a.consecutive_failures > 0 {
        let wait_ms = (60_000 * a.consecutive_failures as i64).min(3_600_000);
        if srv.now_ms() - a.rewrite_started_ms < wait_ms {
            return;
        }
    }
    start_rewrite(srv);
}

/// What replaying one file did.
#[derive(Debug, Default, PartialEq)]
pub struct Loaded {
    /// Commands run (MULTI and EXEC included).
    pub commands: u64,
    /// Keys the RDB preamble held, when the file had one.
    pub preamble_keys: Option<usize>,
    /// The file ended inside a command or an unfinished MULTI: everything before this many
    /// bytes was applied, the rest was not. The host truncates the file there or refuses to
    /// start (`aof-load-truncated`).
    pub truncated_at: Option<usize>,
    /// The tail was cut because a MULTI had no EXEC (rather than mid-command).
    pub incomplete_multi: bool,
}

/// Why a file cannot be replayed at all.
#[derive(Debug, PartialEq)]
pub enum LoadError {
    /// Not an AOF: Redis's "Bad file format reading the append only file".
    BadFormat { offset: usize },
    /// A command this server does not know (Redis refuses the file).
    UnknownCommand(String),
    /// The RDB preamble did not load.
    Preamble(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::BadFormat { offset } => write!(f, "Bad file format (at byte {})", offset),
            LoadError::UnknownCommand(name) => write!(f, "Unknown command '{}'", name),
            LoadError::Preamble(e) => {
                write!(f, "Error reading the RDB preamble of the AOF file: {}", e)
            }
        }
    }
}

/// One step of the strict AOF reader.
enum Next {
    Command(Vec<Bytes>),
    /// The file ends here, cleanly.
    End,
    /// The file ends inside this command.
    Short,
}

/// Reads `*<n>\r\n` then n × `$<len>\r\n<bytes>\r\n` at `pos`, skipping `#` annotation
/// lines (Redis 7's timestamp annotations). Inline commands are not AOF.
fn next_command(b: &[u8], pos: &mut usize) -> Result<Next, LoadError> {
    loop {
        if *pos >= b.len() {
            return Ok(Next::End);
        }
        if b[*pos] != b'#' {
            break;
        }
        match find_crlf(b, *pos) {
            Some(end) => *pos = end + 2,
            None => return Ok(Next::Short),
        }
    }
    let start = *pos;
    let bad = LoadError::BadFormat { offset: start };
    if b[start] != b'*' {
        return Err(bad);
    }
    let Some((argc, mut at)) = header(b, start + 1)? else {
        return Ok(Next::Short);
    };
    if argc < 1 {
        return Err(bad);
    }
    // Each argument takes at least 4 bytes ("$0\r\n" + "\r\n" is 6): a count the file cannot
    // hold is a short read (a torn file), never a huge allocation.
    let mut argv = Vec::with_capacity(argc.min((b.len() - at) / 4 + 1));
    for _ in 0..argc {
        if at >= b.len() {
            return Ok(Next::Short);
        }
        if b[at] != b'$' {
            return Err(LoadError::BadFormat { offset: at });
        }
        let Some((len, data)) = header(b, at + 1)? else {
            return Ok(Next::Short);
        };
        let Some(end) = data.checked_add(len).filter(|e| e.checked_add(2).is_some_and(|e2| e2 <= b.len())) else {
            return Ok(Next::Short);
        };
        if &b[end..end + 2] != b"\r\n" {
            return Err(LoadError::BadFormat { offset: end });
        }
        argv.push(Bytes::copy_from_slice(&b[data..end]));
        at = end + 2;
    }
    *pos = at;
    Ok(Next::Command(argv))
}

/// A decimal count ending in CRLF at `at`: (value, index after the CRLF), None when short.
fn header(b: &[u8], at: usize) -> Result<Option<(usize, usize)>, LoadError> {
    let Some(end) = find_crlf(b, at) else {
        // A header longer than any count is corruption, not a torn write.
        return if b.len() - at.min(b.len()) > 24 { Err(LoadError::BadFormat { offset: at }) } else { Ok(None) };
    };
    // Parsed as u64 so a count past a 32-bit usize (wasm) reads as "more than the file
    // holds", a short read, as it does on 64 bits.
    let n = std::str::from_utf8(&b[at..end]).ok().and_then(|s| s.parse::<u64>().ok()).ok_or(LoadError::BadFormat { offset: at })?;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    Ok(Some((n, end + 2)))
}

fn find_crlf(b: &[u8], from: usize) -> Option<usize> {
    let tail = b.get(from..)?;
    tail.windows(2).take(32).position(|w| w == b"\r\n").map(|i| from + i).or_else(|| {
        // Annotations may be longer than a count; search on for them only.
        (b.get(from) == Some(&b'#')).then(|| tail.windows(2).position(|w| w == b"\r\n").map(|i| from + i)).flatten()
    })
}

/// Replays one AOF file into the engine (the dataset it builds on is whatever earlier
/// files loaded; a preamble replaces it, as a base file comes first). Commands run as
/// Redis's fake AOF client runs them: authenticated, never blocking, nothing propagated,
/// no statistics, and no key expiring until the host says loading is over (the file
/// may touch a key after its deadline passed; the replay must still find it).
pub fn load(engine: &mut Engine, bytes: &[u8], now_us: i64) -> Result<Loaded, LoadError> {
    let mut out = Loaded::default();
    let mut pos = 0;
    if bytes.starts_with(b"REDIS") {
        let (keys, used) = crate::rdb::load::load_prefix(&mut engine.srv, bytes).map_err(LoadError::Preamble)?;
        out.preamble_keys = Some(keys);
        pos = used;
    }
    engine.srv.clock.now_us = now_us;
    let was_on = engine.srv.prop.on;
    engine.srv.prop.on = false;
    set_loading(engine, true);
    let mut fake = Client::new(u64::MAX, ClientInfo { addr: "aof".into(), ..Default::default() }, now_us / 1000, true);
    fake.deny_blocking = true;
    let mut before_multi = 0;
    let result = loop {
        let start = pos;
        match next_command(bytes, &mut pos) {
            Err(e) => break Err(e),
            Ok(Next::End) => {
                if fake.multi.is_some() {
                    out.truncated_at = Some(before_multi);
                    out.incomplete_multi = true;
                }
                break Ok(());
            }
            Ok(Next::Short) => {
                out.truncated_at = Some(if fake.multi.is_some() { before_multi } else { start });
                out.incomplete_multi = fake.multi.is_some();
                break Ok(());
            }
            Ok(Next::Command(argv)) => {
                if crate::command::table::table().lookup(&argv[0]).is_none() {
                    break Err(LoadError::UnknownCommand(String::from_utf8_lossy(&argv[0]).into_owned()));
                }
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    before_multi = start;
                }
                let mut ctx = Ctx { srv: &mut engine.srv, client: &mut fake, others: &mut engine.clients };
                let reply = call(&mut ctx, &argv);
                debug_assert!(!matches!(reply, Reply::Blocked));
                out.commands += 1;
            }
        }
    };
    engine.srv.prop.on = was_on;
    result.map(|_| out)
}

/// While loading, keys do not expire and commands are not counted; `Engine::aof_loaded`
/// ends it once every file is in.
pub fn set_loading(engine: &mut Engine, on: bool) {
    engine.srv.loading = on;
    for db in &mut engine.srv.dbs {
        db.loading = on;
    }
}

#[cfg(test)]
mod tests;
