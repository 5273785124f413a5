//! SAVE, BGSAVE, save points, MISCONF and LOADING as the core plays them with a host: one
//! that cannot fork (saves in place) and one that forks (reports the fork, then the child's
//! exit). Texts checked against redis-server 7.0.15.

use crate::engine::HostReport;
use crate::event::Event;
use crate::persistence::{ChildExit, Forked};
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

fn info(t: &mut TestEngine, section: &str) -> String {
    match t.run(&["INFO", section]) {
        Reply::Verbatim(_, b) | Reply::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        o => panic!("{:?}", o),
    }
}

fn field(t: &mut TestEngine, section: &str, name: &str) -> String {
    let text = info(t, section);
    let line = text.lines().find(|l| l.starts_with(&format!("{}:", name))).unwrap_or_else(|| panic!("no {} in {}", name, text));
    line[name.len() + 1..].to_string()
}

/// An engine whose host forks.
fn forking() -> TestEngine {
    let mut t = TestEngine::new();
    t.engine.set_fork_support(true);
    t
}

fn forked(t: &mut TestEngine, pid: u32) {
    assert!(t.engine.drain_events().contains(&Event::BackgroundSave));
    t.engine.report(HostReport::BgsaveStarted { forked: Ok(Forked { pid, fork_usec: 1234 }), now_us: t.now_us });
}

#[test]
fn without_fork_bgsave_saves_in_place_and_answers_at_once() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["BGSAVE"]), Reply::Simple("Background saving started"));
    assert!(t.engine.drain_events().contains(&Event::Save));
    t.advance_ms(2000);
    t.engine.report(HostReport::SaveFinished { ok: true, now_us: t.now_us });
    assert_eq!(t.run(&["LASTSAVE"]), int(t.now_us / 1_000_000));
    assert_eq!(field(&mut t, "persistence", "rdb_changes_since_last_save"), "0");
    assert_eq!(field(&mut t, "persistence", "rdb_saves"), "1");
    assert_eq!(field(&mut t, "persistence", "rdb_last_bgsave_time_sec"), "0");
    assert_eq!(field(&mut t, "stats", "total_forks"), "0");
    assert_eq!(t.run(&["BGSAVE", "NOW"]), err("ERR syntax error"));
}

#[test]
fn bgsave_waits_for_the_fork_and_reports_the_child_while_it_runs() {
    let mut t = forking();
    t.run(&["SET", "a", "1"]);
    assert_eq!(t.run(&["BGSAVE"]), Reply::Blocked);
    forked(&mut t, 4242);
    let id = t.client;
    assert_eq!(t.replies_for(id), vec![Reply::Simple("Background saving started")]);
    assert_eq!(field(&mut t, "persistence", "rdb_bgsave_in_progress"), "1");
    assert_eq!(field(&mut t, "stats", "latest_fork_usec"), "1234");
    assert_eq!(field(&mut t, "stats", "total_forks"), "1");
    t.advance_ms(3000);
    assert_eq!(field(&mut t, "persistence", "rdb_current_bgsave_time_sec"), "3");
    assert_eq!(t.run(&["BGSAVE"]), err("ERR Background save already in progress"));
    assert_eq!(t.run(&["BGSAVE", "SCHEDULE"]), err("ERR Background save already in progress"));
    assert_eq!(t.run(&["SAVE"]), err("ERR Background save already in progress"));
    // Written while the child saves: not in its file, so still unsaved afterwards.
    t.run(&["SET", "b", "2"]);
    t.run(&["SET", "c", "3"]);
    t.advance_ms(1000);
    t.engine.report(HostReport::BgsaveFinished { exit: ChildExit::Saved { cow_bytes: 8192 }, now_us: t.now_us });
    assert_eq!(field(&mut t, "persistence", "rdb_bgsave_in_progress"), "0");
    assert_eq!(field(&mut t, "persistence", "rdb_changes_since_last_save"), "2");
    assert_eq!(field(&mut t, "persistence", "rdb_last_bgsave_status"), "ok");
    assert_eq!(field(&mut t, "persistence", "rdb_last_bgsave_time_sec"), "4");
    assert_eq!(field(&mut t, "persistence", "rdb_current_bgsave_time_sec"), "-1");
    assert_eq!(field(&mut t, "persistence", "rdb_last_cow_size"), "8192");
    assert_eq!(field(&mut t, "persistence", "rdb_saves"), "1");
    assert_eq!(t.run(&["LASTSAVE"]), int(t.now_us / 1_000_000));
    // Counted once, when answered; the refusals count as failed calls.
    let stats = info(&mut t, "commandstats");
    assert!(stats.contains("cmdstat_bgsave:calls=3,"), "{}", stats);
    assert!(stats.contains("failed_calls=2\r\n"), "{}", stats);
}

#[test]
fn a_failed_fork_answers_err_and_marks_the_save_failed() {
    let mut t = forking();
    assert_eq!(t.run(&["BGSAVE"]), Reply::Blocked);
    t.engine.drain_events();
    t.engine.report(HostReport::BgsaveStarted { forked: Err("Cannot allocate memory".into()), now_us: t.now_us });
    let id = t.client;
    assert_eq!(t.replies_for(id), vec![err("ERR")]);
    assert_eq!(field(&mut t, "persistence", "rdb_bgsave_in_progress"), "0");
    assert_eq!(field(&mut t, "persistence", "rdb_last_bgsave_status"), "err");
}

#[test]
fn save_waits_for_the_host_and_a_failed_save_is_err_without_misconf() {
    let mut t = forking();
    t.run(&["SET", "a", "1"]);
    assert_eq!(t.run(&["SAVE"]), Reply::Blocked);
    assert!(t.engine.drain_events().contains(&Event::Save));
    t.engine.report(HostReport::SaveFinished { ok: false, now_us: t.now_us });
    let id = t.client;
    assert_eq!(t.replies_for(id), vec![err("ERR")]);
    // rdbSave's failure leaves rdb_last_bgsave_status alone, so writes go on.
    assert_eq!(field(&mut t, "persistence", "rdb_last_bgsave_status"), "ok");
    assert_eq!(t.run(&["SET", "b", "2"]), ok());
    assert_eq!(t.run(&["SAVE"]), Reply::Blocked);
    t.engine.report(HostReport::SaveFinished { ok: true, now_us: t.now_us });
    assert_eq!(t.replies_for(id), vec![ok()]);
    assert_eq!(field(&mut t, "persistence", "rdb_changes_since_last_save"), "0");
    assert_eq!(field(&mut t, "persistence", "rdb_saves"), "2");
}

#[test]
fn after_a_failed_background_save_writes_and_ping_get_misconf_until_a_save_succeeds() {
    let mut t = forking();
    t.run(&["SET", "a", "1"]);
    // A transaction queued before the failure, executed after it.
    let other = t.connect();
    assert_eq!(t.run_as(other, &["MULTI"]), Reply::Simple("OK"));
    assert_eq!(t.run_as(other, &["INCR", "a"]), Reply::Simple("QUEUED"));
    t.run(&["BGSAVE"]);
    forked(&mut t, 7);
    t.engine.report(HostReport::BgsaveFinished { exit: ChildExit::Failed, now_us: t.now_us });
    assert_eq!(field(&mut t, "persistence", "rdb_last_bgsave_status"), "err");
    assert_eq!(t.run(&["SET", "a", "2"]), err(MISCONF));
    assert_eq!(t.run(&["PING"]), err(MISCONF));
    assert_eq!(t.run(&["GET", "a"]), bulk("1"));
    assert_eq!(t.run_as(other, &["EXEC"]), err(&format!("EXECABORT Transaction discarded because of: {}", MISCONF)));
    assert_eq!(t.run_as(other, &["EXEC"]), err("ERR EXEC without MULTI"));
    assert_eq!(t.run(&["MULTI"]), ok());
    assert_eq!(t.run(&["SET", "a", "3"]), err(MISCONF));
    assert_eq!(t.run(&["EXEC"]), err("EXECABORT Transaction discarded because of previous errors."));
    // A script's write is refused (unless it already wrote); one that declares it may
    // write is refused before it runs.
    assert_eq!(
        t.run(&["EVAL", "return redis.call('set','a','4')", "0"]),
        err(&format!("{} script: 49a69331ec59122c65f5c5dc91e411b62cddf08e, on @user_script:1.", MISCONF))
    );
    assert_eq!(t.run(&["EVAL", "return redis.pcall('set','a','4')", "0"]), err(MISCONF));
    assert_eq!(t.run(&["EVAL", "#!lua\nreturn 1", "0"]), err(MISCONF));
    assert_eq!(t.run(&["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]), int(1));
    // The option, and save points, are what make a failure stop writes.
    assert_eq!(t.run(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]), ok());
    assert_eq!(t.run(&["SET", "a", "5"]), ok());
    assert_eq!(t.run(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"]), ok());
    assert_eq!(t.run(&["INCR", "a"]), err(MISCONF));
    assert_eq!(t.run(&["CONFIG", "SET", "save", ""]), ok());
    assert_eq!(t.run(&["INCR", "a"]), int(6));
    assert_eq!(t.run(&["CONFIG", "SET", "save", "3600 1"]), ok());
    assert_eq!(t.run(&["INCR", "a"]), err(MISCONF));
    assert!(info(&mut t, "errorstats").contains("errorstat_MISCONF:count="));
    // BGSAVE is no write: a save may be tried again, and its success clears the state.
    assert_eq!(t.run(&["BGSAVE"]), Reply::Blocked);
    forked(&mut t, 8);
    t.engine.report(HostReport::BgsaveFinished { exit: ChildExit::Saved { cow_bytes: 0 }, now_us: t.now_us });
    assert_eq!(t.run(&["INCR", "a"]), int(7));
    assert_eq!(t.run(&["PING"]), Reply::Simple("PONG"));
}

#[test]
fn save_points_start_one_background_save_and_wait_for_it() {
    let mut c = crate::config::Config::default();
    c.set("save", "10 2", false).unwrap();
    let mut t = TestEngine::with_config(c);
    t.engine.set_fork_support(true);
    t.run(&["SET", "a", "1"]);
    t.run(&["SET", "b", "1"]);
    t.advance_ms(10_000);
    t.tick();
    assert!(t.engine.drain_events().is_empty(), "a save point is met only past its seconds");
    t.advance_ms(1000);
    t.tick();
    forked(&mut t, 9);
    t.run(&["SET", "c", "1"]);
    t.run(&["SET", "d", "1"]);
    t.advance_ms(20_000);
    t.tick();
    assert!(!t.engine.drain_events().contains(&Event::BackgroundSave), "no second child while one runs");
    t.engine.report(HostReport::BgsaveFinished { exit: ChildExit::Failed, now_us: t.now_us });
    // The failed save was tried 20 s ago: the next one starts at once, and when it too
    // fails, the one after waits until 5 seconds have passed since it was tried.
    t.tick();
    forked(&mut t, 10);
    t.engine.report(HostReport::BgsaveFinished { exit: ChildExit::Failed, now_us: t.now_us });
    t.advance_ms(5000);
    t.tick();
    assert!(t.engine.drain_events().is_empty(), "a failed save is retried after 5 seconds");
    t.advance_ms(1000);
    t.tick();
    forked(&mut t, 10);
    t.engine.report(HostReport::BgsaveFinished { exit: ChildExit::Killed { on_purpose: true }, now_us: t.now_us });
    assert_eq!(field(&mut t, "persistence", "rdb_last_bgsave_status"), "err", "a kill on purpose changes nothing");
    assert_eq!(field(&mut t, "persistence", "rdb_saves"), "3");
}

#[test]
fn bgsave_inside_exec_or_with_schedule_behind_another_child_is_scheduled_for_the_tick() {
    let mut t = forking();
    t.run(&["MULTI"]);
    t.run(&["BGSAVE"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![Reply::Simple("Background saving scheduled")]));
    assert!(t.engine.drain_events().is_empty());
    t.tick();
    forked(&mut t, 11);
    assert_eq!(field(&mut t, "persistence", "rdb_bgsave_in_progress"), "1");
    t.engine.report(HostReport::BgsaveFinished { exit: ChildExit::Saved { cow_bytes: 0 }, now_us: t.now_us });
    t.tick();
    assert!(t.engine.drain_events().is_empty(), "the schedule was served");
    // An AOF rewrite makes BGSAVE wait unless SCHEDULE is given.
    t.engine.srv.aof.rewrite_in_progress = true;
    assert_eq!(
        t.run(&["BGSAVE"]),
        err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
    );
    assert_eq!(t.run(&["BGSAVE", "SCHEDULE"]), Reply::Simple("Background saving scheduled"));
    t.tick();
    assert!(t.engine.drain_events().is_empty());
    t.engine.report(HostReport::AofRewriteFinished { ok: true, now_us: t.now_us });
    t.tick();
    forked(&mut t, 12);
    // BGREWRITEAOF behind a running save is scheduled (hasActiveChildProcess).
    assert_eq!(t.run(&["BGREWRITEAOF"]), Reply::Simple("Background append only file rewriting scheduled"));
}

#[test]
fn while_loading_only_loading_commands_run_and_the_loaded_data_appears_at_the_end() {
    let mut t = TestEngine::new();
    let mut loader = t.engine.begin_loading(1000, t.now_us);
    assert_eq!(t.run(&["GET", "k"]), err("LOADING Redis is loading the dataset in memory"));
    assert_eq!(t.run(&["PING"]), err("LOADING Redis is loading the dataset in memory"));
    assert_eq!(t.run(&["ECHO", "x"]), bulk("x"));
    assert_eq!(field(&mut t, "persistence", "loading"), "1");
    assert_eq!(field(&mut t, "persistence", "loading_total_bytes"), "1000");
    assert_eq!(t.run(&["MULTI"]), ok());
    assert_eq!(t.run(&["GET", "k"]), err("LOADING Redis is loading the dataset in memory"));
    assert_eq!(t.run(&["EXEC"]), err("EXECABORT Transaction discarded because of previous errors."));
    t.tick();
    assert!(t.engine.drain_events().is_empty());
    let id = loader.connect(Default::default(), t.now_us);
    loader.execute(id, vec!["SET".into(), "k".into(), "v".into()], t.now_us);
    loader.execute(id, vec!["SELECT".into(), "3".into()], t.now_us);
    loader.execute(id, vec!["SET".into(), "other".into(), "x".into(), "EX".into(), "100".into()], t.now_us);
    t.engine.end_loading(Some(loader));
    assert_eq!(t.run(&["GET", "k"]), bulk("v"));
    assert_eq!(field(&mut t, "persistence", "loading"), "0");
    assert_eq!(field(&mut t, "persistence", "rdb_last_load_keys_loaded"), "2");
    assert_eq!(field(&mut t, "persistence", "rdb_changes_since_last_save"), "0");
    t.run(&["SELECT", "3"]);
    assert_eq!(t.run(&["TTL", "other"]), int(100));
}

#[test]
fn shutdown_while_loading_never_saves() {
    let mut t = TestEngine::new();
    let _loader = t.engine.begin_loading(0, t.now_us);
    t.run(&["SHUTDOWN", "SAVE"]);
    assert!(t.engine.drain_events().contains(&Event::Shutdown { save: Some(false), force: false, client: None }));
}

#[test]
fn flushall_kills_a_running_save_and_saves_the_empty_dataset_when_save_points_are_set() {
    let mut t = forking();
    t.run(&["SET", "a", "1"]);
    t.run(&["BGSAVE"]);
    forked(&mut t, 13);
    assert_eq!(t.engine.drain_events(), vec![Event::Unblocked(t.client)], "the BGSAVE client's answer");
    assert_eq!(t.run(&["FLUSHALL"]), ok());
    assert_eq!(t.engine.drain_events(), vec![Event::KillBackgroundSave, Event::Save]);
    t.engine.report(HostReport::BgsaveFinished { exit: ChildExit::Killed { on_purpose: true }, now_us: t.now_us });
    t.engine.report(HostReport::SaveFinished { ok: true, now_us: t.now_us });
    assert_eq!(field(&mut t, "persistence", "rdb_changes_since_last_save"), "0");
    assert_eq!(field(&mut t, "persistence", "rdb_last_bgsave_status"), "ok");
    assert_eq!(t.run(&["CONFIG", "SET", "save", ""]), ok());
    assert_eq!(t.engine.drain_events(), vec![Event::ConfigChanged]);
    t.run(&["SET", "a", "1"]);
    assert_eq!(t.run(&["FLUSHALL"]), ok());
    assert!(t.engine.drain_events().is_empty());
}

#[test]
fn a_failed_aof_write_stops_writes_with_its_own_misconf() {
    let mut t = TestEngine::new();
    t.engine.srv.aof.enabled = true;
    t.engine.report(HostReport::AofWriteResult { result: Err("No space left on device".into()) });
    assert_eq!(t.run(&["SET", "a", "1"]), err("MISCONF Errors writing to the AOF file: No space left on device"));
    assert_eq!(t.run(&["GET", "a"]), Reply::Nil);
    t.engine.report(HostReport::AofWriteResult { result: Ok(()) });
    assert_eq!(t.run(&["SET", "a", "1"]), ok());
}

/// unit/multi "MULTI with BGREWRITEAOF" / "MULTI with config set appendonly": inside EXEC
/// the rewrite is scheduled and the cron starts it.
#[test]
fn aof_rewrites_asked_for_inside_exec_are_scheduled_for_the_cron() {
    let mut t = TestEngine::new();
    t.run(&["MULTI"]);
    t.run(&["SET", "foo", "bar"]);
    t.run(&["BGREWRITEAOF"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![ok(), Reply::Simple("Background append only file rewriting scheduled")]));
    assert!(!t.engine.drain_events().iter().any(|e| matches!(e, Event::RewriteAof)));
    t.tick();
    assert!(t.engine.drain_events().iter().any(|e| matches!(e, Event::RewriteAof)));
    t.engine.report(HostReport::AofRewriteFinished { ok: true, now_us: t.now_ms() * 1000 });
    // Turning the AOF on inside EXEC: the host opens it, and its first rewrite waits too.
    t.run(&["CONFIG", "SET", "loglevel", "notice"]);
    t.run(&["MULTI"]);
    t.run(&["CONFIG", "SET", "appendonly", "yes"]);
    t.run(&["EXEC"]);
    let events = t.engine.drain_events();
    assert!(events.iter().any(|e| matches!(e, Event::Log { message, .. } if message.contains("AOF background was scheduled"))));
    assert!(events.iter().any(|e| matches!(e, Event::AppendOnly { on: true })));
    t.engine.request_aof_rewrite();
    assert!(!t.engine.drain_events().iter().any(|e| matches!(e, Event::RewriteAof)));
    t.tick();
    assert!(t.engine.drain_events().iter().any(|e| matches!(e, Event::RewriteAof)));
}
