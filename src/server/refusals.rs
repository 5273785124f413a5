//! Why the server refuses commands right now, whoever asks (a client's command, EXEC, a
//! script): MISCONF after a failed save or AOF write, NOREPLICAS, READONLY on a replica,
//! MASTERDOWN on a stale one.

use super::Server;
use crate::error::Error;

/// Whether `save` has save points configured (Redis's saveparamslen > 0).
pub(crate) fn has_save_points(srv: &Server) -> bool {
    !srv.config.get(crate::param!("save")).trim().is_empty()
}

/// writeCommandsDeniedByDiskError: why writes are refused, if they are. After a failed
/// background save with save points set and stop-writes-on-bgsave-error on; or while the
/// AOF is on and its last write failed.
pub fn write_denial(srv: &Server) -> Option<Error> {
    if srv.persistence.last_save_failed && srv.config.get_bool(crate::param!("stop-writes-on-bgsave-error")) && has_save_points(srv) {
        return Some(Error::Misconf);
    }
    match &srv.aof.write_error {
        Some(why) if srv.aof.enabled => Some(Error::Dyn(format!("MISCONF Errors writing to the AOF file: {}", why))),
        _ => None,
    }
}

/// A replica whose link is down with `replica-serve-stale-data no`: only commands flagged
/// `stale` run (INFO, REPLICAOF, ...).
pub fn stale_replica(srv: &Server) -> bool {
    srv.repl.master.as_ref().is_some_and(|m| m.state != super::replication::LinkState::Connected)
        && !srv.config.get_bool(crate::param!("replica-serve-stale-data"))
}

/// A replica with `replica-read-only yes` refuses clients' writes (its primary's come
/// through the master client, which these checks skip).
pub fn read_only_replica(srv: &Server) -> Option<Error> {
    (srv.repl.master.is_some() && srv.config.get_bool(crate::param!("replica-read-only")))
        .then_some(Error::Msg("READONLY You can't write against a read only replica."))
}

/// `min-replicas-to-write` (with a `min-replicas-max-lag`): fewer replicas than that
/// acknowledged within the lag, and writes are refused (checkGoodReplicasStatus).
pub fn replicas_denial(srv: &Server) -> Option<Error> {
    let wanted = srv.config.get_i64(crate::param!("min-replicas-to-write"));
    (srv.config.hot.min_replicas && srv.repl.master.is_none() && (super::replication::good_replicas(srv) as i64) < wanted)
        .then_some(Error::Msg("NOREPLICAS Not enough good replicas to write."))
}

/// The script runner's check before a write (scriptVerifyWriteCommandAllow): refused while
/// writes are denied, unless the script already wrote (it cannot be stopped half done).
pub fn script_write_denied(srv: &Server, script_wrote: bool) -> Option<Error> {
    write_denial(srv).or_else(|| replicas_denial(srv)).filter(|_| !script_wrote)
}
