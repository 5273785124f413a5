//! HyperLogLog commands. Redis: hyperloglog.c (commands half; the representation lives in
//! types/hll.rs). An HLL is a string value whose bytes are the HLL, so these commands work on
//! `Str::Raw` buffers and every other string command sees the same bytes Redis would.

use bytes::Bytes;

use crate::command::spec::{acl::HYPERLOGLOG, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::object::{Str, Value};
use crate::reply::{Reply, OK, ONE, ZERO};
use crate::types::hll::{self, REGISTERS};

#[cfg(test)]
mod tests;

const G: &str = "hyperloglog";

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("pfadd", -2, WRITE | DENYOOM | FAST, G, pfadd).key_specs("RW insert index:1 range:0:1:0").keys(1, 1, 1).acl(HYPERLOGLOG).doc("2.8.9", "Adds the specified elements to the specified HyperLogLog.", "O(1) to add every element.").args("key [element ...]"),
    CommandSpec::new("pfcount", -2, READONLY | MAY_REPLICATE, G, pfcount).key_specs("RW access index:1 range:-1:1:0 -- RW because it may change the internal representation of the key, and propagate to replicas").keys(1, -1, 1).acl(HYPERLOGLOG).doc("2.8.9", "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.").args("key ..."),
    CommandSpec::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, G, pfdebug).key_specs("RW access index:2 range:0:1:0").keys(2, 2, 1).acl(HYPERLOGLOG).doc("2.8.9", "Internal commands for debugging HyperLogLog values", "N/A").args("subcommand key"),
    CommandSpec::new("pfmerge", -2, WRITE | DENYOOM, G, pfmerge).key_specs("RW access insert index:1 range:0:1:0; RO access index:2 range:-1:1:0").keys(1, -1, 1).acl(HYPERLOGLOG).doc("2.8.9", "Merge N different HyperLogLogs into a single one.", "O(N) to merge N HyperLogLogs, but with high constant times.").args("destkey@key sourcekey@key ..."),
    CommandSpec::new("pfselftest", 1, ADMIN, G, pfselftest).acl(HYPERLOGLOG).doc("2.8.9", "An internal command for testing HyperLogLog values", "N/A"),
];

const NOT_HLL: Error = Error::Msg("WRONGTYPE Key is not a valid HyperLogLog string value.");
const INVALID: Error = Error::Msg("INVALIDOBJ Corrupted HLL object detected");

impl From<hll::Corrupt> for Error {
    fn from(_: hll::Corrupt) -> Error {
        INVALID
    }
}

/// The HLL bytes of a string value, for reading: NOT_HLL unless the header is one
/// (isHLLObjectOrReply; an integer-encoded string never is).
fn hll_ref(s: &Str) -> Result<&[u8]> {
    s.as_slice().filter(|b| hll::is_valid(b)).ok_or(NOT_HLL)
}

/// The same for a command that may write: the value becomes a raw string, as
/// dbUnshareStringValue makes it in Redis (OBJECT ENCODING shows `raw` afterwards).
fn hll_mut(s: &mut Str) -> Result<&mut Vec<u8>> {
    hll_ref(s)?;
    Ok(s.make_raw())
}

/// Redis's signalModifiedKey without the rest of a write (no event, no dirty): WATCH and
/// client-side caching see the key change.
fn signal_modified(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.client.db;
    ctx.touch_watched(db, key);
    if ctx.srv.clients.tracking.is_active() {
        ctx.invalidate(key);
    }
}

/// The key's HLL for writing, created empty (sparse) when missing. Returns whether it was
/// created.
fn hll_for_write(ctx: &mut Ctx, key: &[u8]) -> Result<bool> {
    match ctx.write_str(key)? {
        Some(s) => {
            hll_mut(s)?;
            Ok(false)
        }
        None => {
            ctx.set_key(key, Value::Str(Str::Raw(hll::new_sparse())), false);
            Ok(true)
        }
    }
}

/// The buffer `hll_for_write` just checked or created.
fn stored_hll<'a>(ctx: &'a mut Ctx, key: &[u8]) -> &'a mut Vec<u8> {
    match ctx.db().keys.get_mut(key).map(|e| &mut e.value) {
        Some(Value::Str(s)) => s.make_raw(),
        _ => unreachable!("checked by hll_for_write"),
    }
}

/// PFADD key [element ...] — 1 if a register changed (or the key was created), else 0.
fn pfadd(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let key = &argv[1];
    let max_bytes = ctx.srv.config.hot.hll_sparse_max_bytes;
    let mut updated = hll_for_write(ctx, key)? as u64;
    let s = stored_hll(ctx, key);
    for ele in &argv[2..] {
        // A corrupt value fails part way, as in Redis: the registers set so far stay.
        updated += hll::add(s, ele, max_bytes)? as u64;
    }
    if updated == 0 {
        return Ok(ZERO);
    }
    hll::invalidate_cache(s);
    ctx.modified(key, "pfadd");
    // Redis counts one change per updated register (server.dirty += updated).
    ctx.srv.stats.dirty += updated - 1;
    Ok(ONE)
}

/// PFCOUNT key [key ...] — the estimated cardinality. One key answers from (and refreshes)
/// the cached count in the header; several keys are merged into a scratch HLL instead.
fn pfcount(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 2 {
        let mut max = Box::new([0u8; REGISTERS]);
        for key in &argv[1..] {
            let Some(e) = ctx.lookup_read(key) else { continue };
            let Value::Str(s) = &e.value else { return Err(Error::WrongType) };
            hll::merge_into(&mut max, hll_ref(s)?)?;
        }
        // Redis replies the unsigned estimate as a signed integer.
        return Ok(Reply::Int(hll::count_raw(&max) as i64));
    }
    let key = &argv[1];
    let Some(e) = ctx.lookup_read(key) else { return Ok(ZERO) };
    let s = hll_mut(e.value.as_str_mut()?.expect("a string"))?;
    if let Some(card) = hll::cached_card(s) {
        return Ok(Reply::Int(card as i64));
    }
    let card = hll::count(s)?;
    hll::set_cached_card(s, card);
    // Not a logical change (no event), but the bytes changed: replicas and the AOF get the
    // PFCOUNT so their copy caches the same count.
    signal_modified(ctx, key);
    ctx.srv.stats.dirty += 1;
    Ok(Reply::Int(card as i64))
}

/// PFMERGE destkey [sourcekey ...] — the union of the sources (destkey included) stored in
/// destkey; dense if any source is dense. Signals `pfadd`, as Redis 7.0 does.
fn pfmerge(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut max = Box::new([0u8; REGISTERS]);
    let mut use_dense = false;
    for key in &argv[1..] {
        let Some(e) = ctx.lookup_read(key) else { continue };
        let Value::Str(s) = &e.value else { return Err(Error::WrongType) };
        let b = hll_ref(s)?;
        use_dense |= hll::encoding(b) == hll::DENSE;
        hll::merge_into(&mut max, b)?;
    }
    let dest = &argv[1];
    let max_bytes = ctx.srv.config.hot.hll_sparse_max_bytes;
    hll_for_write(ctx, dest)?;
    let s = stored_hll(ctx, dest);
    if use_dense {
        hll::sparse_to_dense(s)?;
    }
    hll::store_registers(s, &max, max_bytes);
    hll::invalidate_cache(s);
    ctx.modified(dest, "pfadd");
    Ok(OK)
}

/// PFDEBUG <GETREG|DECODE|ENCODING|TODENSE> key — internals, for tests. GETREG and TODENSE
/// convert a sparse HLL to dense, a change that is propagated (dirty) but not signalled.
fn pfdebug(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (sub, key) = (&argv[1], &argv[2]);
    let Some(e) = ctx.lookup_write(key) else { return Err(Error::Msg("ERR The specified key does not exist")) };
    let s = hll_mut(e.value.as_str_mut()?.expect("a string"))?;
    let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
    let was_sparse = hll::encoding(s) == hll::SPARSE;
    let (reply, converted) = if is("getreg") {
        hll::sparse_to_dense(s)?;
        (Reply::Array(hll::dense_registers(s).into_iter().map(|r| Reply::Int(r as i64)).collect()), was_sparse)
    } else if is("decode") {
        if !was_sparse {
            return Err(Error::Msg("ERR HLL encoding is not sparse"));
        }
        (Reply::Bulk(Bytes::from(hll::decode(s))), false)
    } else if is("encoding") {
        (Reply::Simple(if was_sparse { "sparse" } else { "dense" }), false)
    } else if is("todense") {
        hll::sparse_to_dense(s)?;
        (if was_sparse { ONE } else { ZERO }, was_sparse)
    } else {
        let name: String = String::from_utf8_lossy(sub).chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
        return Err(Error::Dyn(format!("ERR Unknown PFDEBUG subcommand '{}'", name)));
    };
    if converted {
        ctx.srv.stats.dirty += 1;
    }
    Ok(reply)
}

/// PFSELFTEST — checks the register packing and the estimator's error (10 million adds).
fn pfselftest(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let max_bytes = ctx.srv.config.hot.hll_sparse_max_bytes;
    let rng = &mut ctx.srv.rng;
    // libc's rand(): 31 random bits.
    hll::selftest(|| (rng.next_u64() >> 33) as u32, 10_000_000, max_bytes).map_err(|m| Error::Dyn(format!("ERR {}", m)))?;
    Ok(OK)
}
