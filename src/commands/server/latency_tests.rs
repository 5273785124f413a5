//! LATENCY and INFO latencystats on the fake clock, and CONFIG REWRITE's exchange with the
//! host (texts checked against redis-server 7.0.15).

use crate::engine::HostReport;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::config::Config;
use crate::event::Event;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn debug_engine() -> TestEngine {
    let mut c = Config::default();
    c.set("enable-debug-command", "yes", true).unwrap();
    TestEngine::with_config(c)
}

fn text(r: Reply) -> String {
    match r {
        Reply::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{:?}", other),
    }
}

const T0_S: i64 = T0_US / 1_000_000;

#[test]
fn debug_sleep_spikes_are_recorded_past_the_threshold() {
    let mut t = debug_engine();
    t.run(&["DEBUG", "SLEEP", "0.2"]);
    assert_eq!(t.run(&["LATENCY", "LATEST"]), Reply::Array(vec![]));
    assert!(text(t.run(&["LATENCY", "DOCTOR"])).starts_with("I'm sorry, Dave, I can't do that."));
    assert_eq!(t.run(&["CONFIG", "SET", "latency-monitor-threshold", "100"]), ok());
    assert!(text(t.run(&["LATENCY", "DOCTOR"])).starts_with("Dave, no latency spike was observed"));
    t.run(&["DEBUG", "SLEEP", "0.05"]);
    t.run(&["DEBUG", "SLEEP", "0.25"]);
    let row = |e: &str, at: i64, l: i64, m: i64| Reply::Array(vec![bulk(e), int(at), int(l), int(m)]);
    assert_eq!(t.run(&["LATENCY", "LATEST"]), Reply::Array(vec![row("command", T0_S, 250, 250)]));
    t.advance_ms(3000);
    t.run(&["DEBUG", "SLEEP", "0.15"]);
    let pair = |at: i64, l: i64| Reply::Array(vec![int(at), int(l)]);
    assert_eq!(t.run(&["LATENCY", "HISTORY", "command"]), Reply::Array(vec![pair(T0_S, 250), pair(T0_S + 3, 150)]));
    assert_eq!(t.run(&["LATENCY", "LATEST"]), Reply::Array(vec![row("command", T0_S + 3, 150, 250)]));
    let g = text(t.run(&["LATENCY", "GRAPH", "command"]));
    assert_eq!(g, format!("command - high 250 ms, low 150 ms (all time high 250 ms)\n{}\n# \n| \n| \n|_\n  \n30\nss\n", "-".repeat(80)));
    assert_eq!(t.run(&["LATENCY", "GRAPH", "fast-command"]), err("ERR No samples available for event 'fast-command'"));
    let d = text(t.run(&["LATENCY", "DOCTOR"]));
    assert!(d.contains("\n1. command: 2 latency spikes (average 200ms, mean deviation 50ms, period 1.50 sec). Worst all time event 250ms.\n"), "{}", d);
    // The slow log sees DEBUG SLEEP's time too, as in Redis.
    let Reply::Array(entries) = t.run(&["SLOWLOG", "GET", "1"]) else { panic!() };
    let Reply::Array(e) = &entries[0] else { panic!() };
    assert_eq!(e[2], int(150_000));
    assert_eq!(t.run(&["LATENCY", "RESET", "nosuch", "COMMAND"]), int(1));
    assert_eq!(t.run(&["LATENCY", "LATEST"]), Reply::Array(vec![]));
}

/// A host clock that moves 200 ms every time it is read: every command takes 200 ms.
static CLOCK: AtomicI64 = AtomicI64::new(0);
fn slow_clock() -> i64 {
    CLOCK.fetch_add(200_000, Ordering::Relaxed)
}

#[test]
fn fast_and_slow_commands_are_separate_events_and_histograms_follow_redis() {
    let mut t = TestEngine::new();
    t.engine.set_clock(slow_clock);
    t.run(&["CONFIG", "SET", "latency-monitor-threshold", "150"]);
    t.run(&["SET", "k", "v"]);
    t.run(&["GET", "k"]);
    let Reply::Array(rows) = t.run(&["LATENCY", "LATEST"]) else { panic!() };
    let names: Vec<Reply> = rows.iter().map(|r| if let Reply::Array(f) = r { f[0].clone() } else { panic!() }).collect();
    // CONFIG SET itself ran before the threshold was in force.
    assert_eq!(names, vec![bulk("command"), bulk("fast-command")]);
    let entry = |calls: i64, buckets: Vec<(i64, i64)>| {
        Reply::Map(vec![(bulk("calls"), int(calls)), (bulk("histogram_usec"), Reply::Map(buckets.into_iter().map(|(b, n)| (int(b), int(n))).collect()))])
    };
    assert_eq!(t.run(&["LATENCY", "HISTOGRAM", "get", "nosuch"]), Reply::Map(vec![(bulk("get"), entry(1, vec![(270532, 1)]))]));
    t.run(&["CLIENT", "GETNAME"]);
    assert_eq!(t.run(&["LATENCY", "HISTOGRAM", "client"]), Reply::Map(vec![(bulk("client|getname"), entry(1, vec![(270532, 1)]))]));
    let Reply::Verbatim(_, info) = t.run(&["INFO", "latencystats"]) else { panic!() };
    let info = String::from_utf8_lossy(&info).into_owned();
    assert!(info.starts_with("# Latencystats\r\n"), "{}", info);
    assert!(info.contains("\r\nlatency_percentiles_usec_get:p50=200278.015,p99=200278.015,p99.9=200278.015\r\n"), "{}", info);
    assert!(info.contains("\r\nlatency_percentiles_usec_config|set:p50="), "{}", info);
    // CONFIG RESETSTAT forgets the histograms, as Redis's resetCommandTableStats.
    t.run(&["CONFIG", "RESETSTAT"]);
    assert_eq!(t.run(&["LATENCY", "HISTOGRAM", "get"]), Reply::Map(vec![]));
}

#[test]
fn config_rewrite_waits_for_the_host() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["CONFIG", "REWRITE"]), err("ERR The server is running without a config file"));
    t.engine.host_info_mut().config_file = "/etc/cinnabar.conf".into();
    t.engine.drain_events();
    assert_eq!(t.run(&["CONFIG", "REWRITE"]), Reply::Blocked);
    let id = t.client;
    assert_eq!(t.engine.drain_events(), vec![Event::RewriteConfig { client: Some(id) }]);
    // CLIENT UNBLOCK cannot end this wait.
    let other = t.connect();
    assert_eq!(t.run_as(other, &["CLIENT", "UNBLOCK", &id.to_string()]), int(0));
    t.engine.report(HostReport::ConfigRewriteFinished { client: Some(id), result: Err("Permission denied".into()) });
    assert_eq!(t.replies_for(id), vec![err("ERR Rewriting config file: Permission denied")]);
    assert_eq!(t.engine.drain_events(), vec![Event::Unblocked(id)]);
    assert!(!t.engine.is_blocked(id));
    t.run(&["CONFIG", "REWRITE"]);
    t.engine.report(HostReport::ConfigRewriteFinished { client: Some(id), result: Ok(()) });
    assert_eq!(t.replies_for(id), vec![ok()]);
    // In a transaction it cannot wait: OK at once, the host writes after EXEC.
    t.engine.drain_events();
    t.run(&["MULTI"]);
    t.run(&["CONFIG", "REWRITE"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![ok()]));
    assert_eq!(t.engine.drain_events(), vec![Event::RewriteConfig { client: None }]);
    assert!(!t.run(&["INFO", "clients"]).is_error());
}
