//! The AOF as the server keeps it: its state for INFO and BGREWRITEAOF, when to rewrite, and
//! replaying a file's records into the server (Redis's loadSingleAppendOnlyFile).

use crate::aof::{next_command, LoadError, Loaded, Next};
use crate::client::{Client, ClientInfo};
use crate::command::dispatch::{call, Ctx};
use crate::reply::Reply;
use crate::server::Server;

pub use crate::server::aof::Status;

/// Starts a rewrite now (the host does it on `Event::RewriteAof`).
pub fn start_rewrite(srv: &mut Server) {
    srv.aof.rewrite_scheduled = false;
    srv.aof.rewrite_in_progress = true;
    srv.aof.rewrite_started_ms = srv.now_ms();
    srv.events.push(crate::event::Event::RewriteAof);
}

/// serverCron's AOF duties: a scheduled rewrite once no snapshot is being saved, and the
/// automatic one when the file has grown `auto-aof-rewrite-percentage` past its base (and
/// is over `auto-aof-rewrite-min-size`). After a failure, automatic rewrites wait as Redis's
/// do (a minute per consecutive failure, at most an hour).
pub fn cron(srv: &mut Server) {
    let a = &srv.aof;
    if a.rewrite_in_progress || srv.persistence.child != super::ChildType::None || srv.persistence.pending.is_some() {
        return;
    }
    if a.rewrite_scheduled {
        start_rewrite(srv);
        return;
    }
    let perc = srv.config.get_i64(crate::param!("auto-aof-rewrite-percentage"));
    let min = srv.config.get_i64(crate::param!("auto-aof-rewrite-min-size")).max(0) as u64;
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

/// The dataset as the commands that rebuild it (`aof-use-rdb-preamble no`), with this
/// server's function libraries and, under `aof-timestamp-enabled`, a timestamp annotation.
pub fn base_commands(srv: &Server) -> Vec<u8> {
    let ts = srv.config.get_bool(crate::param!("aof-timestamp-enabled")).then_some(srv.clock.now_us / 1_000_000);
    let pacer = srv.key_pacer(crate::param!("rdb-key-save-delay"));
    crate::aof::rewrite::commands(&srv.dbs, ts, srv.scripting.libraries.values().map(|lib| &lib.code[..]), pacer.as_ref().map(|p| p as &dyn Fn()))
}

/// Replays one AOF file into the engine (the dataset it builds on is whatever earlier
/// files loaded; a preamble replaces it, as a base file comes first). Commands run as
/// Redis's fake AOF client runs them: authenticated, never blocking, nothing propagated,
/// no statistics, and no key expiring until the host says loading is over (the file
/// may touch a key after its deadline passed; the replay must still find it).
pub fn load(srv: &mut Server, clients: &mut crate::client::ClientTable, bytes: &[u8], now_us: i64) -> Result<Loaded, LoadError> {
    let mut out = Loaded::default();
    let mut pos = 0;
    if bytes.starts_with(b"REDIS") {
        let (keys, used) = crate::persistence::snapshot::load_prefix(srv, bytes).map_err(LoadError::Preamble)?;
        out.preamble_keys = Some(keys);
        pos = used;
    }
    srv.clock.now_us = now_us;
    let was_on = srv.prop.on;
    srv.prop.on = false;
    set_loading(srv, true);
    let mut fake = Client::new(u64::MAX, ClientInfo { addr: "aof".into(), ..Default::default() }, now_us / 1000, true);
    fake.wait.deny_blocking = true;
    let mut before_multi = 0;
    let pacer = srv.key_pacer(crate::param!("key-load-delay"));
    let result = loop {
        let start = pos;
        match next_command(bytes, &mut pos) {
            Err(e) => break Err(e),
            Ok(Next::End) => {
                if fake.tx.multi.is_some() {
                    out.truncated_at = Some(before_multi);
                    out.incomplete_multi = true;
                }
                break Ok(());
            }
            Ok(Next::Short) => {
                out.truncated_at = Some(if fake.tx.multi.is_some() { before_multi } else { start });
                out.incomplete_multi = fake.tx.multi.is_some();
                break Ok(());
            }
            Ok(Next::Command(argv)) => {
                if let Some(pause) = &pacer {
                    pause();
                }
                if crate::command::table::table().lookup(&argv[0]).is_none() {
                    break Err(LoadError::UnknownCommand(String::from_utf8_lossy(&argv[0]).into_owned()));
                }
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    before_multi = start;
                }
                let mut ctx = Ctx { srv, client: &mut fake, others: clients };
                let reply = call(&mut ctx, &argv);
                debug_assert!(!matches!(reply, Reply::Blocked));
                out.commands += 1;
            }
        }
    };
    srv.prop.on = was_on;
    result.map(|_| out)
}

/// While loading, keys do not expire and commands are not counted; `Engine::aof_loaded`
/// ends it once every file is in.
pub fn set_loading(srv: &mut Server, on: bool) {
    srv.loading = on;
    for db in &mut srv.dbs {
        db.loading = on;
    }
}
