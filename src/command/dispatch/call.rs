//! `call`: one command through the shared path (Redis's call()): the gates, the handler, the
//! stats, SLOWLOG and MONITOR, and what must be replayed.

use super::*;

/// A command as a client sent it: under the names `rename-command` gave (see `rename`),
/// then `call`. A name renamed away is an unknown command, refused as one (counted, and
/// dooming an open transaction).
pub(crate) fn call_client(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    if ctx.srv.renames.is_empty() {
        return call(ctx, argv);
    }
    match ctx.srv.renames.translate(argv) {
        Ok(None) => call(ctx, argv),
        Ok(Some(renamed)) => call(ctx, &renamed),
        Err(e) => {
            if ctx.client.tx.multi.is_some() {
                ctx.client.tx.multi_error = true;
            }
            let reply = Reply::Error(e.to_string());
            count_error(ctx, &reply);
            reply
        }
    }
}

/// Runs one command through the shared path. Errors become error replies here, once, and
/// are counted here (INFO errorstats), including those of commands inside EXEC.
pub fn call(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    let reply = if ctx.srv.prop.on { call_propagating(ctx, argv) } else { call_inner(ctx, argv) };
    if std::mem::take(&mut ctx.srv.stats.error_counted) {
        return reply;
    }
    count_error(ctx, &reply);
    reply
}

/// An error reply in INFO's errorstats and total_error_replies.
pub(super) fn count_error(ctx: &mut Ctx, reply: &Reply) {
    if let Reply::Error(e) = reply {
        ctx.srv.stats.total_error_replies += 1;
        let kind = e.split(' ').next().unwrap_or("ERR");
        match ctx.srv.stats.errors.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                ctx.srv.stats.errors.insert(kind.to_string(), 1);
            }
        }
    }
}

/// A blocked command that CLIENT UNBLOCK ends (updateStatsOnUnblock): it counts as a call
/// now, and an error reply (`... ERROR`) in errorstats and as a failed call.
pub fn count_unblocked(ctx: &mut Ctx, argv: &[Bytes], reply: &Reply) {
    count_error(ctx, reply);
    if let Ok((_, _, id)) = resolve_or_reject(argv) {
        let st = stat(ctx, id);
        st.calls += 1;
        st.failed += reply.is_error() as u64;
    }
}

/// A command a script tried to run was refused before running (scriptCall's error path:
/// afterErrorReply and ERROR_COMMAND_REJECTED): the error counts in errorstats and the
/// command's rejected calls; the script's own error reply is then not counted again.
pub fn count_script_refusal(ctx: &mut Ctx, argv: &[Bytes], err: &str) {
    ctx.srv.stats.total_error_replies += 1;
    let kind = match err.strip_prefix('-') {
        Some(e) => e.split(' ').next().unwrap_or("ERR"),
        None => "ERR",
    };
    *ctx.srv.stats.errors.entry(kind.to_string()).or_insert(0) += 1;
    if let Ok((_, _, id)) | Err((_, Some(id))) = resolve_or_reject(argv) {
        stat(ctx, id).rejected += 1;
    }
}

/// `call_inner` recording what must be replayed (the tail of Redis's call() and
/// afterCommand): a command that changed the dataset is recorded (or what it asked to be
/// recorded instead); EXEC never is (its commands were); the unit is flushed when the
/// outermost call returns.
pub(super) fn call_propagating(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    let stream_before = ctx.srv.prop.repl_buf.len();
    let reply = call_recording(ctx, argv);
    // The stream offset the client's writes reach, for WAIT (c->woff).
    if ctx.srv.prop.repl_buf.len() != stream_before {
        ctx.client.role.woff = ctx.srv.repl.offset + ctx.srv.prop.repl_buf.len() as u64;
    }
    reply
}

pub(super) fn call_recording(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    let outer = std::mem::take(&mut ctx.srv.prop.frame);
    let dirty = ctx.srv.stats.dirty;
    ctx.srv.prop.depth += 1;
    let reply = call_inner(ctx, argv);
    ctx.srv.prop.depth -= 1;
    let frame = std::mem::replace(&mut ctx.srv.prop.frame, outer);
    crate::server::propagate::collect_expired(ctx.srv);
    let targets = ctx.srv.prop.live(if ctx.srv.stats.dirty != dirty { crate::server::propagate::ALL } else { frame.force });
    if targets != 0 && !frame.prevent && !argv.is_empty() && !argv[0].eq_ignore_ascii_case(b"exec") && !matches!(reply, Reply::Blocked) {
        let db = ctx.client.db;
        if ctx.srv.prop.depth == 0 && !ctx.srv.prop.has_ops() {
            // The usual unit, one command alone: straight into the stream, no copy of argv.
            let ts = ctx.srv.config.hot.aof_timestamp_enabled.then_some(ctx.srv.clock.now_us / 1_000_000);
            ctx.srv.prop.feed_one(db, targets, frame.rewrite.as_deref().unwrap_or(argv), ts);
            return reply;
        }
        ctx.srv.prop.push_to(db, targets, frame.rewrite.unwrap_or_else(|| argv.to_vec()));
    }
    if ctx.srv.prop.depth == 0 && ctx.srv.prop.has_ops() {
        // Commands that may delete arbitrary expired keys are not wrapped (as Redis's
        // CMD_TOUCHES_ARBITRARY_KEYS): their DELs are independent of each other.
        let arbitrary = argv.first().is_some_and(|c| c.eq_ignore_ascii_case(b"scan") || c.eq_ignore_ascii_case(b"randomkey"));
        crate::server::propagate::end_unit(ctx.srv, arbitrary);
    }
    reply
}

/// redactClientCommandArgument: the arguments SLOWLOG and MONITOR show as `(redacted)`
/// (passwords, ACL rules, sensitive CONFIG SET values).
pub(super) fn redacted(top: &CommandSpec, argv: &[Bytes]) -> Option<Vec<Bytes>> {
    let hide: Vec<usize> = match top.name {
        "auth" => (1..argv.len()).collect(),
        "acl" if argv.len() > 2 && argv[1].eq_ignore_ascii_case(b"setuser") => (2..argv.len()).collect(),
        "hello" => {
            let mut v = vec![];
            let mut j = 2;
            while j < argv.len() {
                if argv[j].eq_ignore_ascii_case(b"auth") && j + 2 < argv.len() {
                    v.extend([j + 1, j + 2]);
                    j += 3;
                } else {
                    j += if argv[j].eq_ignore_ascii_case(b"setname") { 2 } else { 1 };
                }
            }
            v
        }
        "config" if argv.len() > 2 && argv[1].eq_ignore_ascii_case(b"set") => (2..argv.len())
            .step_by(2)
            .filter(|&i| {
                matches!(
                    crate::config::Config::canonical(&String::from_utf8_lossy(&argv[i]).to_ascii_lowercase()),
                    Some("masterauth" | "masteruser" | "requirepass")
                )
            })
            .map(|i| i + 1)
            .filter(|&i| i < argv.len())
            .collect(),
        "migrate" => {
            let mut v = vec![];
            for j in 6..argv.len() {
                if argv[j].eq_ignore_ascii_case(b"auth") {
                    v.push(j + 1);
                } else if argv[j].eq_ignore_ascii_case(b"auth2") {
                    v.extend([j + 1, j + 2]);
                }
            }
            v.retain(|&i| i < argv.len());
            v
        }
        _ => return None,
    };
    if hide.is_empty() {
        return None;
    }
    let mut out = argv.to_vec();
    for i in hide {
        out[i] = Bytes::from_static(b"(redacted)");
    }
    Some(out)
}

pub(super) fn call_inner(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    if argv.is_empty() {
        return Reply::Error(Error::Msg("ERR empty command").to_string());
    }
    let (top, sub, key) = match resolve_or_reject(argv) {
        Ok(s) => s,
        Err((e, Some(id))) => return rejected(ctx, id, e),
        Err((e, None)) => return reject(ctx, e),
    };
    let spec = sub.unwrap_or(top);
    if let Some(refused) = admit(ctx, top, sub, key, argv) {
        return refused;
    }
    let handler = spec.handler.expect("leaf commands have handlers");
    // One clock read per command: this command's end is the next one's start (the batch
    // sets the first mark), which halves what timing costs a pipeline.
    let clock = ctx.srv.host.calls.clock;
    let start = ctx.srv.clock.mark;
    // A handler that panics (a bug) fails its own command only, as an error reply: a
    // transaction goes on with its other commands, the connection stays usable.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(ctx, argv)));
    let (reply, failed) = match ran {
        Ok(Ok(r)) => (r, false),
        Ok(Err(e)) => (Reply::Error(e.to_string()), true),
        Err(payload) => (Reply::Error(Error::Internal { cmd: spec.name.into(), why: crate::panic::message(&*payload) }.to_string()), true),
    };
    // A tracking client's reads are remembered for invalidation, errors included, as Redis.
    // Read-only scripts are judged by the commands they run (see `Run::call`), not as reads.
    if ctx.client.tracking.is_some() && spec.is(flags::READONLY) && spec.acl & crate::command::spec::acl::SCRIPTING == 0 {
        crate::command::tracking::remember_keys(ctx, spec, argv);
    }
    // Counted after the call, as Redis does, so INFO does not see itself; a command that
    // blocked counts once, when it completes. An AOF replay counts nothing.
    if !matches!(reply, Reply::Blocked) && !ctx.srv.loading {
        let end = clock.map_or(0, |c| c());
        let micros = (end - start).max(0) + std::mem::take(&mut ctx.srv.clock.slept_us);
        ctx.srv.clock.mark = end;
        ctx.srv.stats.total_commands_processed += 1;
        let tracking_latency = ctx.srv.config.hot.latency_tracking;
        let st = stat(ctx, key);
        st.calls += 1;
        st.usec += micros as u64;
        st.failed += failed as u64;
        if tracking_latency {
            st.latency.get_or_insert_with(Default::default).record(micros * 1000);
        }
        let threshold = ctx.srv.config.hot.latency_monitor_threshold;
        if threshold > 0 && micros / 1000 >= threshold {
            let event = if spec.is(flags::FAST) { "fast-command" } else { "command" };
            let now = ctx.srv.clock.now_us / 1_000_000;
            ctx.srv.stats.latency.add_sample(event, (micros / 1000) as u64, now);
        }
        let threshold = ctx.srv.config.hot.slowlog_log_slower_than;
        let log = threshold >= 0 && micros >= threshold && !spec.is(flags::SKIP_SLOWLOG);
        let monitor = !ctx.srv.clients.monitors.is_empty() && !spec.is(flags::SKIP_MONITOR) && !spec.is(flags::ADMIN);
        if log || monitor {
            let hidden = redacted(top, argv);
            let shown = hidden.as_deref().unwrap_or(argv);
            if log {
                crate::commands::server::slowlog::record(ctx, shown, micros);
            }
            if monitor {
                crate::commands::server::monitor::feed(ctx, shown);
            }
        }
    }
    reply
}

/// Tells about keys eviction deleted: their watchers' transactions fail, tracking clients
/// hear they changed, and the `evicted` event goes out; their DELs reach the AOF as their
/// own unit, before the command that made room (propagateDeletion).
pub fn announce_evicted(ctx: &mut Ctx) {
    for (db, key) in std::mem::take(&mut ctx.srv.memory.evict.log) {
        ctx.touch_watched(db, &key);
        if ctx.srv.clients.tracking.is_active() {
            ctx.invalidate(&key);
        }
        ctx.notify(db, &key, "evicted");
    }
    if ctx.srv.prop.on && ctx.srv.prop.depth <= 1 {
        crate::server::propagate::flush_expired(ctx.srv);
    }
}
