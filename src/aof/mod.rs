//! The append-only file as bytes: its records, read strictly (Redis's
//! loadSingleAppendOnlyFile), and a base written as commands (`rewrite`). The stream is what
//! `server::propagate` writes; a file may also start with an RDB preamble (a rewritten base
//! with `aof-use-rdb-preamble yes`, or an old single-file AOF). Replaying it into the server
//! is `persistence::aof`'s; the host owns the files (the manifest, base and incremental
//! parts, fsync, truncation).

pub mod rewrite;

use bytes::Bytes;

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
pub enum Next {
    Command(Vec<Bytes>),
    /// The file ends here, cleanly.
    End,
    /// The file ends inside this command.
    Short,
}

/// Reads `*<n>\r\n` then n × `$<len>\r\n<bytes>\r\n` at `pos`, skipping `#` annotation
/// lines (Redis 7's timestamp annotations). Inline commands are not AOF.
pub fn next_command(b: &[u8], pos: &mut usize) -> Result<Next, LoadError> {
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

#[cfg(test)]
mod tests;
