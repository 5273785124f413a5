//! LATENCY subcommands over the latency monitor and the per-command histograms in
//! `latency.rs`. Redis: latency.c (latencyCommand).

use bytes::Bytes;

use crate::command::dispatch::Ctx;
use crate::command::spec::{flags::*, CommandSpec};
use crate::command::table::{lookup_sub, table};
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::reply::Reply;

const G: &str = "server";
const F: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("doctor", 2, F, G, doctor).tips("nondeterministic_output request_policy:all_nodes response_policy:special").doc(
        "2.8.13",
        "Return a human readable latency analysis report.",
        "O(1)",
    ),
    CommandSpec::new("graph", 3, F, G, graph)
        .tips("nondeterministic_output request_policy:all_nodes response_policy:special")
        .doc("2.8.13", "Return a latency graph for the event.", "O(1)")
        .args("event"),
    CommandSpec::new("help", 2, LOADING | STALE, G, help).doc("2.8.13", "Show helpful text about the different subcommands.", "O(1)"),
    CommandSpec::new("histogram", -2, F, G, histogram)
        .tips("nondeterministic_output request_policy:all_nodes response_policy:special")
        .doc(
            "7.0.0",
            "Return the cumulative distribution of latencies of a subset of commands or all.",
            "O(N) where N is the number of commands with latency information being retrieved.",
        )
        .args("[command ...]"),
    CommandSpec::new("history", 3, F, G, history)
        .tips("nondeterministic_output request_policy:all_nodes response_policy:special")
        .doc("2.8.13", "Return timestamp-latency samples for the event.", "O(1)")
        .args("event"),
    CommandSpec::new("latest", 2, F, G, latest).tips("nondeterministic_output request_policy:all_nodes response_policy:special").doc(
        "2.8.13",
        "Return the latest latency samples for all events.",
        "O(1)",
    ),
    CommandSpec::new("reset", -2, F, G, reset)
        .tips("request_policy:all_nodes response_policy:all_succeeded")
        .doc("2.8.13", "Reset latency data for one or more events.", "O(1)")
        .args("[event ...]"),
];

const HELP: &[&str] = &[
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
];

fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("LATENCY", HELP))
}

fn now_secs(ctx: &Ctx) -> i64 {
    ctx.srv.clock.now_us / 1_000_000
}

/// LATENCY LATEST — [event, unix time, latest ms, all-time max ms] per event.
fn latest(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(Reply::Array(
        ctx.srv
            .stats
            .latency
            .latest()
            .into_iter()
            .map(|(e, t, l, m)| Reply::Array(vec![Reply::bulk_str(e), Reply::Int(t), Reply::Int(l as i64), Reply::Int(m as i64)]))
            .collect(),
    ))
}

/// LATENCY HISTORY event — [unix time, ms] pairs, oldest first; empty for an unknown event.
fn history(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let rows = ctx.srv.stats.latency.history(&argv[2]).unwrap_or_default();
    Ok(Reply::Array(rows.into_iter().map(|(t, l)| Reply::Array(vec![Reply::Int(t), Reply::Int(l as i64)])).collect()))
}

/// LATENCY GRAPH event — an ASCII sparkline of the event's samples.
fn graph(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let now = now_secs(ctx);
    match ctx.srv.stats.latency.graph(&argv[2], now) {
        Some(g) => Ok(Reply::Verbatim("txt", Bytes::from(g))),
        None => Err(Error::Dyn(format!("ERR No samples available for event '{}'", crate::error::clip(&argv[2])))),
    }
}

/// LATENCY DOCTOR — Redis's human-readable report.
fn doctor(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let report = ctx.srv.stats.latency.doctor(now_secs(ctx), ctx.srv.config.hot.latency_monitor_threshold, ctx.srv.config.hot.slowlog_log_slower_than);
    Ok(Reply::Verbatim("txt", Bytes::from(report)))
}

/// LATENCY RESET [event ...] — how many event series were dropped.
fn reset(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let n = if argv.len() == 2 { ctx.srv.stats.latency.reset(None) } else { argv[2..].iter().map(|e| ctx.srv.stats.latency.reset(Some(e))).sum() };
    Ok(Reply::Int(n as i64))
}

/// One command's entry: {calls, histogram_usec: {bucket µs: cumulative calls}}.
fn cdf(h: &crate::latency::Histogram) -> Reply {
    let buckets = h.log_buckets().into_iter().map(|(us, n)| (Reply::Int(us), Reply::Int(n as i64))).collect();
    Reply::Map(vec![(Reply::bulk_str("calls"), Reply::Int(h.total() as i64)), (Reply::bulk_str("histogram_usec"), Reply::Map(buckets))])
}

/// The stat id of a command (`Table::names`), and of each of its subcommands.
fn ids_of(name: &[u8]) -> Vec<usize> {
    let t = table();
    let mut parts = name.splitn(2, |&b| b == b'|');
    let (top, sub) = (parts.next().unwrap_or_default(), parts.next());
    let Some((spec, id)) = t.lookup_with_id(top) else { return vec![] };
    let id = id as usize;
    match sub {
        Some(s) => match lookup_sub(spec, s) {
            Some(sub) => vec![id + 1 + spec.subcommands.iter().position(|x| x.name == sub.name).expect("found")],
            None => vec![],
        },
        None => (id..=id + spec.subcommands.len()).collect(),
    }
}

/// LATENCY HISTOGRAM [command ...] — a map of command name to its latency distribution,
/// for the named commands (a container names its subcommands too) or every command run.
fn histogram(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let ids: Vec<usize> = if argv.len() == 2 { (0..ctx.srv.stats.commands.len()).collect() } else { argv[2..].iter().flat_map(|a| ids_of(a)).collect() };
    let names = &table().names;
    let mut out = vec![];
    for id in ids {
        let Some(h) = ctx.srv.stats.commands.get(id).and_then(|s| s.latency.as_deref()) else { continue };
        let name = match names[id] {
            (c, Some(s)) => format!("{}|{}", c, s),
            (c, None) => c.to_string(),
        };
        out.push((Reply::bulk_str(&name), cdf(h)));
    }
    Ok(Reply::Map(out))
}

/// INFO latencystats: every command with a histogram at `latency-tracking-info-percentiles`
/// (p50, p99 and p99.9 unless configured).
pub fn info_latencystats(ctx: &Ctx, out: &mut String) {
    if !ctx.srv.config.hot.latency_tracking {
        return;
    }
    let names = &table().names;
    let mut rows: Vec<(String, &crate::latency::Histogram)> = ctx
        .srv
        .stats
        .commands
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.latency.as_deref().map(|h| (i, h)))
        .map(|(i, h)| {
            (
                match names[i] {
                    (c, Some(s)) => format!("{}|{}", c, s),
                    (c, None) => c.to_string(),
                },
                h,
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    // latency-tracking-info-percentiles, kept as CONFIG GET prints them.
    let wanted: Vec<(&str, f64)> =
        ctx.srv.config.get(crate::param!("latency-tracking-info-percentiles")).split_whitespace().filter_map(|p| Some((p, p.parse().ok()?))).collect();
    for (name, h) in rows {
        let cells: Vec<String> = wanted.iter().map(|(label, q)| format!("p{}={:.3}", label, h.value_at_percentile(*q) as f64 / 1000.0)).collect();
        out.push_str(&format!("latency_percentiles_usec_{}:{}\r\n", name, cells.join(",")));
    }
}
