//! MIGRATE: DUMP the keys here, RESTORE them on another server, DEL them here for every
//! RESTORE the target acknowledged. The core never opens sockets: it builds the RESTORE
//! commands and asks the host (`MigrateHost`, set by `Engine::set_migrate_host`) to run them
//! on the target, synchronously as Redis does (the server waits for the target, so nothing
//! interleaves), with the host's cache of connections. Redis: cluster.c migrateCommand.

use bytes::Bytes;

use crate::command::args;
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::reply::{Reply, OK};

pub use crate::server::{MigrateHost, MigrateOutcome, MigrateRequest};

/// migrateGetKeys: the key argument, or every argument after KEYS.
pub fn migrate_keys(argv: &[Bytes]) -> Vec<(usize, u16)> {
    use crate::command::keyspec::flags::{ACCESS, DELETE, RW};
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < argv.len() {
        let a = &argv[i];
        if a.eq_ignore_ascii_case(b"keys") {
            if !argv[3].is_empty() {
                return vec![];
            }
            first = i + 1;
            num = argv.len() - first;
            break;
        }
        if a.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    (first..first + num).filter(|&p| p < argv.len()).map(|p| (p, RW | ACCESS | DELETE)).collect()
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password |
/// AUTH2 username password] [KEYS key [key ...]]
pub fn migrate(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (mut copy, mut replace, mut auth) = (false, false, None);
    let (mut first_key, mut num_keys) = (3, 1);
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let a = &argv[j];
        if a.eq_ignore_ascii_case(b"copy") {
            copy = true;
        } else if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if a.eq_ignore_ascii_case(b"auth") {
            if more == 0 {
                return Err(Error::Syntax);
            }
            j += 1;
            auth = Some((None, argv[j].clone()));
        } else if a.eq_ignore_ascii_case(b"auth2") {
            if more < 2 {
                return Err(Error::Syntax);
            }
            auth = Some((Some(argv[j + 1].clone()), argv[j + 2].clone()));
            j += 2;
        } else if a.eq_ignore_ascii_case(b"keys") {
            if !argv[3].is_empty() {
                return Err(Error::Msg("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"));
            }
            first_key = j + 1;
            num_keys = argv.len() - j - 1;
            break;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    let mut timeout = args::int(&argv[5])?;
    let db = args::int(&argv[4])?;
    if timeout <= 0 {
        timeout = 1000;
    }
    // Keys that are here (lookupKeyRead, which expires); none: +NOKEY, not an error, as a key
    // often just expired meanwhile.
    let present: Vec<Bytes> = argv[first_key..first_key + num_keys].iter().filter(|k| ctx.lookup_read(k).is_some()).cloned().collect();
    if present.is_empty() {
        return Ok(Reply::Simple("NOKEY"));
    }
    let compress = ctx.srv.config.get_bool(crate::param!("rdbcompression"));
    let now = ctx.now_ms();
    let mut keys = Vec::with_capacity(present.len());
    let mut restores = Vec::with_capacity(present.len());
    for k in present {
        let ttl = match ctx.db().get_expire(&k) {
            Some(when) if when - now < 0 => continue,
            Some(when) => (when - now).max(1),
            None => 0,
        };
        let Some(e) = ctx.db().peek(&k) else { continue };
        let payload = crate::rdb::dump_value(&e.value, compress);
        let mut cmd = vec![Bytes::from_static(b"RESTORE"), k.clone(), Bytes::from(ttl.to_string()), Bytes::from(payload)];
        if replace {
            cmd.push(Bytes::from_static(b"REPLACE"));
        }
        restores.push(cmd);
        keys.push(k);
    }
    let req = MigrateRequest {
        host: String::from_utf8_lossy(&argv[1]).into_owned(),
        port: String::from_utf8_lossy(&argv[2]).into_owned(),
        db,
        timeout_ms: timeout,
        auth,
        restores,
    };
    let outcome = match ctx.srv.migrate_host.as_mut() {
        Some(h) => h.migrate(&req),
        None => return Err(Error::Msg("ERR MIGRATE needs a host that can open connections (the native server)")),
    };
    // Every key the target took is deleted here (unless COPY), and replicated as one DEL.
    let mut deleted = vec![Bytes::from_static(b"DEL")];
    if !copy {
        for (k, _) in keys.iter().zip(&outcome.acked).filter(|(_, &ok)| ok) {
            if ctx.db().remove(k).is_some() {
                ctx.modified(k, "del");
                deleted.push(k.clone());
            }
        }
    }
    if deleted.len() > 1 {
        ctx.propagate_as(move || deleted);
    }
    match outcome.error {
        Some(e) => Err(Error::Dyn(e)),
        None => Ok(OK),
    }
}
