//! Client-side caching (CLIENT TRACKING and friends): who hears of which write, in which
//! shape, and the errors, as redis-server 7.0.15 answers them.

use crate::client::ClientId;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn invalidate(keys: &[&str]) -> Reply {
    Reply::Push(vec![bulk("invalidate"), arr(keys)])
}

fn invalidate_all() -> Reply {
    Reply::Push(vec![bulk("invalidate"), Reply::Nil])
}

/// A second client speaking RESP3 with tracking on (plus `opts`).
fn resp3_tracker(t: &mut TestEngine, opts: &[&str]) -> ClientId {
    let id = t.connect();
    t.run_as(id, &["HELLO", "3"]);
    let mut argv = vec!["CLIENT", "TRACKING", "on"];
    argv.extend_from_slice(opts);
    assert_eq!(t.run_as(id, &argv), ok());
    id
}

fn info_field(t: &mut TestEngine, section: &str, field: &str) -> String {
    let Reply::Verbatim(_, text) = t.run(&["INFO", section]) else { panic!() };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines().find_map(|l| l.strip_prefix(&format!("{}:", field))).unwrap_or_else(|| panic!("{} missing", field)).to_string()
}

#[test]
fn a_read_key_is_invalidated_once_when_another_client_writes_it() {
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &[]);
    t.run(&["SET", "k", "1"]);
    assert_eq!(t.run_as(c, &["GET", "k"]), bulk("1"));
    assert_eq!(t.run_as(c, &["MGET", "x", "y"]), Reply::Array(vec![Reply::Nil, Reply::Nil]));
    assert_eq!(t.replies_for(c), vec![]);
    t.run(&["SET", "k", "2"]);
    assert_eq!(t.replies_for(c), vec![invalidate(&["k"])]);
    // Forgotten once invalidated: a second write says nothing until the key is read again.
    t.run(&["SET", "k", "3"]);
    assert_eq!(t.replies_for(c), vec![]);
    // Each key of a multi-key write is its own message.
    t.run(&["MSET", "x", "1", "y", "2", "z", "3"]);
    assert_eq!(t.replies_for(c), vec![invalidate(&["x"]), invalidate(&["y"])]);
}

#[test]
fn only_read_only_commands_track_and_only_their_keys() {
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &[]);
    t.run_as(c, &["SET", "w", "1"]);
    t.run_as(c, &["INCR", "n"]);
    t.run_as(c, &["ZUNION", "2", "z1", "z2"]);
    t.run_as(c, &["GET", "nokey"]);
    // Errors count: Redis remembers the keys of a read-only command however it ended.
    t.run(&["LPUSH", "l", "a"]);
    assert_eq!(t.run_as(c, &["GET", "l"]), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
    assert_eq!(info_field(&mut t, "stats", "tracking_total_keys"), "4");
    assert_eq!(info_field(&mut t, "stats", "tracking_total_items"), "4");
    assert_eq!(info_field(&mut t, "clients", "tracking_clients"), "1");
    // Deleting keys that do not exist changes nothing, so tells nothing.
    t.run(&["DEL", "z1", "nokey"]);
    assert_eq!(t.replies_for(c), vec![]);
    t.run(&["MSET", "w", "1", "n", "1", "z1", "1", "z2", "1", "nokey", "1"]);
    t.run(&["DEL", "l"]);
    assert_eq!(t.replies_for(c), vec![invalidate(&["z1"]), invalidate(&["z2"]), invalidate(&["nokey"]), invalidate(&["l"])]);
    assert_eq!(info_field(&mut t, "stats", "tracking_total_keys"), "0");
}

#[test]
fn own_writes_are_announced_after_the_reply_unless_noloop() {
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &[]);
    t.run_as(c, &["GET", "k"]);
    assert_eq!(t.run_all(c, &["SET", "k", "v"]), vec![ok(), invalidate(&["k"])]);
    let n = resp3_tracker(&mut t, &["NOLOOP"]);
    t.run_as(n, &["GET", "k"]);
    assert_eq!(t.run_all(n, &["SET", "k", "v2"]), vec![ok()]);
    // NOLOOP only hides this client's own writes.
    t.run_as(n, &["GET", "k"]);
    t.run(&["SET", "k", "v3"]);
    assert_eq!(t.replies_for(n), vec![invalidate(&["k"])]);
}

#[test]
fn flushes_invalidate_everything_with_a_null_and_empty_the_table() {
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &[]);
    let b = resp3_tracker(&mut t, &["BCAST"]);
    t.run_as(c, &["GET", "a"]);
    t.run_as(c, &["GET", "b"]);
    assert_eq!(t.run(&["FLUSHALL"]), ok());
    assert_eq!(t.replies_for(c), vec![invalidate_all()]);
    assert_eq!(t.replies_for(b), vec![invalidate_all()]);
    assert_eq!(info_field(&mut t, "stats", "tracking_total_keys"), "0");
    assert_eq!(info_field(&mut t, "stats", "tracking_total_items"), "0");
    // FLUSHDB too, even of an empty database; the flushing client hears it after its reply.
    assert_eq!(t.run_all(c, &["FLUSHDB"]), vec![ok(), invalidate_all()]);
    assert_eq!(t.replies_for(b), vec![invalidate_all()]);
}

#[test]
fn expiry_invalidates_lazily_and_in_the_active_cycle() {
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &[]);
    t.run(&["SET", "a", "1", "PX", "100"]);
    t.run(&["SET", "b", "1", "PX", "100"]);
    t.run_as(c, &["GET", "a"]);
    t.run_as(c, &["GET", "b"]);
    t.advance_ms(200);
    // The reader that finds the key expired hears of it after its reply (and tracks it anew).
    assert_eq!(t.run_all(c, &["GET", "a"]), vec![Reply::Nil, invalidate(&["a"])]);
    t.tick();
    assert_eq!(t.replies_for(c), vec![invalidate(&["b"])]);
    assert_eq!(info_field(&mut t, "stats", "tracking_total_keys"), "1");
}

#[test]
fn resp2_clients_redirect_to_a_subscriber_of_the_invalidate_channel() {
    let mut t = TestEngine::new();
    let sub = t.connect();
    t.run_as(sub, &["SUBSCRIBE", "__redis__:invalidate"]);
    let c = t.connect();
    assert_eq!(t.run_as(c, &["CLIENT", "TRACKING", "on", "REDIRECT", &sub.to_string()]), ok());
    assert_eq!(t.run_as(c, &["CLIENT", "GETREDIR"]), int(sub as i64));
    t.run_as(c, &["GET", "k"]);
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.replies_for(sub), vec![Reply::Push(vec![bulk("message"), bulk("__redis__:invalidate"), arr(&["k"])])]);
    assert_eq!(t.replies_for(c), vec![]);
    t.run_as(c, &["GET", "k"]);
    t.run(&["FLUSHDB"]);
    assert_eq!(t.replies_for(sub), vec![Reply::Push(vec![bulk("message"), bulk("__redis__:invalidate"), Reply::Nil])]);
    // A RESP2 client without a redirect is tracked but told nothing.
    let plain = t.connect();
    t.run_as(plain, &["CLIENT", "TRACKING", "on"]);
    t.run_as(plain, &["GET", "k"]);
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.replies_for(plain), vec![]);
}

/// A target that has QUIT counts as gone at once, before its host closes the connection (the
/// next write is already reported, as by Redis, which frees it first).
#[test]
fn a_redirect_target_that_quit_is_broken_at_once() {
    let mut t = TestEngine::new();
    let target = t.connect();
    let c = resp3_tracker(&mut t, &["REDIRECT", &target.to_string()]);
    t.run_as(c, &["GET", "k"]);
    assert_eq!(t.run_as(target, &["QUIT"]), ok());
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.replies_for(c), vec![Reply::Push(vec![bulk("tracking-redir-broken"), int(target as i64)])]);
}

#[test]
fn a_vanished_redirect_target_is_reported_to_resp3_clients() {
    let mut t = TestEngine::new();
    let target = t.connect();
    let c = resp3_tracker(&mut t, &["REDIRECT", &target.to_string()]);
    t.engine.disconnect(target);
    t.run_as(c, &["GET", "k"]);
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.replies_for(c), vec![Reply::Push(vec![bulk("tracking-redir-broken"), int(target as i64)])]);
    let Reply::Map(info) = t.run_as(c, &["CLIENT", "TRACKINGINFO"]) else { panic!() };
    assert_eq!(info[0].1, Reply::Set(vec![bulk("on"), bulk("broken_redirect")]));
    let Reply::Verbatim(_, line) = t.run_as(c, &["CLIENT", "INFO"]) else { panic!() };
    let line = String::from_utf8_lossy(&line).into_owned();
    assert!(line.contains(" flags=tR ") && line.contains(&format!(" redir={} ", target)), "{}", line);
}

#[test]
fn bcast_sends_each_prefix_its_keys_once_per_batch() {
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &["BCAST", "PREFIX", "a", "PREFIX", "b", "NOLOOP"]);
    assert_eq!(info_field(&mut t, "stats", "tracking_total_prefixes"), "2");
    t.run(&["MSET", "a2", "1", "b1", "2", "c1", "3", "a1", "x"]);
    // Keys in byte order, one message per prefix.
    assert_eq!(t.replies_for(c), vec![invalidate(&["a1", "a2"]), invalidate(&["b1"])]);
    // Reads are not tracked in BCAST mode; NOLOOP hides the client's own writes.
    t.run_as(c, &["GET", "zz"]);
    assert_eq!(info_field(&mut t, "stats", "tracking_total_keys"), "0");
    assert_eq!(t.run_all(c, &["SET", "a1", "1"]), vec![ok()]);
    // Expired keys are broadcast from the tick.
    t.run(&["SET", "b9", "1", "PX", "10"]);
    t.replies_for(c);
    t.advance_ms(20);
    t.tick();
    assert_eq!(t.replies_for(c), vec![invalidate(&["b9"])]);
    // Without PREFIX, BCAST covers every key (the empty prefix).
    let all = resp3_tracker(&mut t, &["BCAST"]);
    t.run(&["SET", "q", "1"]);
    assert_eq!(t.replies_for(all), vec![invalidate(&["q"])]);
    let Reply::Map(info) = t.run_as(c, &["CLIENT", "TRACKINGINFO"]) else { panic!() };
    assert_eq!(
        info,
        vec![(bulk("flags"), Reply::Set(vec![bulk("on"), bulk("bcast"), bulk("noloop")])), (bulk("redirect"), int(0)), (bulk("prefixes"), arr(&["a", "b"])),]
    );
    assert_eq!(t.run_as(c, &["CLIENT", "TRACKING", "off"]), ok());
    assert_eq!(info_field(&mut t, "stats", "tracking_total_prefixes"), "1");
}

#[test]
fn optin_tracks_only_after_caching_yes_and_optout_skips_after_caching_no() {
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &["OPTIN"]);
    t.run_as(c, &["GET", "a"]);
    assert_eq!(t.run_as(c, &["CLIENT", "CACHING", "yes"]), ok());
    // Another CLIENT command keeps the flag; the next command uses it up.
    let Reply::Map(info) = t.run_as(c, &["CLIENT", "TRACKINGINFO"]) else { panic!() };
    assert_eq!(info[0].1, Reply::Set(vec![bulk("on"), bulk("optin"), bulk("caching-yes")]));
    t.run_as(c, &["GET", "b"]);
    t.run_as(c, &["GET", "c"]);
    t.run(&["MSET", "a", "1", "b", "1", "c", "1"]);
    assert_eq!(t.replies_for(c), vec![invalidate(&["b"])]);
    // In a transaction the flag covers every command up to EXEC.
    t.run_as(c, &["CLIENT", "CACHING", "yes"]);
    t.run_as(c, &["MULTI"]);
    t.run_as(c, &["GET", "a"]);
    t.run_as(c, &["GET", "c"]);
    t.run_as(c, &["EXEC"]);
    t.run_as(c, &["GET", "b"]);
    t.run(&["MSET", "a", "2", "b", "2", "c", "2"]);
    assert_eq!(t.replies_for(c), vec![invalidate(&["a"]), invalidate(&["c"])]);

    let o = resp3_tracker(&mut t, &["OPTOUT"]);
    assert_eq!(t.run_as(o, &["CLIENT", "CACHING", "no"]), ok());
    t.run_as(o, &["GET", "a"]);
    t.run_as(o, &["GET", "b"]);
    t.run(&["MSET", "a", "3", "b", "3"]);
    assert_eq!(t.replies_for(o), vec![invalidate(&["b"])]);
}

#[test]
fn tracking_errors_match_redis() {
    let mut t = TestEngine::new();
    let c = t.client;
    let e = |t: &mut TestEngine, argv: &[&str]| t.run_as(c, argv);
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING"]), err("ERR wrong number of arguments for 'client|tracking' command"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "maybe"]), err("ERR syntax error"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "BOGUS"]), err("ERR syntax error"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "REDIRECT"]), err("ERR syntax error"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "REDIRECT", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "REDIRECT", "9999"]), err("ERR The client ID you want redirect to does not exist"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "off", "REDIRECT", "0"]), err("ERR The client ID you want redirect to does not exist"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "REDIRECT", "1", "REDIRECT", "1"]), err("ERR A client can only redirect to a single other client"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "PREFIX", "a"]), err("ERR PREFIX option requires BCAST mode to be enabled"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"]), err("ERR OPTIN and OPTOUT are not compatible with BCAST"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"]), err("ERR You can't specify both OPTIN mode and OPTOUT mode"));
    assert_eq!(
        e(&mut t, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "xy"]),
        err("ERR Prefix 'x' overlaps with another provided prefix 'xy'. Prefixes for a single client must not overlap.")
    );
    assert_eq!(
        e(&mut t, &["CLIENT", "CACHING", "yes"]),
        err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
    );
    assert_eq!(e(&mut t, &["CLIENT", "GETREDIR"]), int(-1));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "OPTIN"]), ok());
    assert_eq!(
        e(&mut t, &["CLIENT", "TRACKING", "on", "OPTOUT"]),
        err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
    );
    assert_eq!(
        e(&mut t, &["CLIENT", "TRACKING", "on", "BCAST"]),
        err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
    );
    assert_eq!(e(&mut t, &["CLIENT", "CACHING", "no"]), err("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
    assert_eq!(e(&mut t, &["CLIENT", "CACHING", "maybe"]), err("ERR syntax error"));
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "off"]), ok());
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"]), ok());
    assert_eq!(
        e(&mut t, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "abc"]),
        err("ERR Prefix 'abc' overlaps with an existing prefix 'a'. Prefixes for a single client must not overlap.")
    );
    assert_eq!(e(&mut t, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b"]), ok());
    assert_eq!(e(&mut t, &["CLIENT", "CACHING", "yes"]), err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
    assert_eq!(t.run(&["RESET"]), Reply::Simple("RESET"));
    assert_eq!(t.run(&["CLIENT", "GETREDIR"]), int(-1));
    assert_eq!(info_field(&mut t, "clients", "tracking_clients"), "0");
    assert_eq!(info_field(&mut t, "stats", "tracking_total_prefixes"), "0");
}

#[test]
fn the_table_is_held_to_tracking_table_max_keys() {
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &[]);
    t.run(&["CONFIG", "SET", "tracking-table-max-keys", "2"]);
    t.run_as(c, &["MGET", "a", "b", "c", "d"]);
    // Checked by the tick: two keys are dropped, and their clients told.
    t.tick();
    assert_eq!(t.replies_for(c).len(), 2);
    assert_eq!(info_field(&mut t, "stats", "tracking_total_keys"), "2");
    // And before each command (this INFO too).
    t.run_as(c, &["MGET", "e", "f"]);
    assert_eq!(info_field(&mut t, "stats", "tracking_total_keys"), "2");
    assert_eq!(t.replies_for(c).len(), 2);
}

#[test]
fn table_limit_invalidations_precede_the_reply_even_when_queued_in_multi() {
    // Redis's regression test for #11715.
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &[]);
    t.run(&["CONFIG", "SET", "tracking-table-max-keys", "2"]);
    t.run_as(c, &["MGET", "1", "2"]);
    t.run_as(c, &["MULTI"]);
    t.run(&["CONFIG", "SET", "tracking-table-max-keys", "1"]);
    let got = t.run_all(c, &["PING"]);
    assert_eq!(got.len(), 2, "{:?}", got);
    assert!(matches!(&got[0], Reply::Push(v) if v[0] == bulk("invalidate")), "{:?}", got);
    assert_eq!(got[1], Reply::Simple("QUEUED"));
    assert_eq!(t.run_as(c, &["EXEC"]), Reply::Array(vec![Reply::Simple("PONG")]));
}

/// As unit/tracking's "Tracking only occurs for scripts when a command calls a read-only
/// command": a script that reads makes its caller track every declared key; one that only
/// writes or pings tracks nothing, EVAL_RO included.
#[test]
fn scripts_track_their_declared_keys_once_they_read() {
    let mut t = TestEngine::new();
    let c = resp3_tracker(&mut t, &[]);
    t.run_as(c, &["EVAL", "redis.call('set', 'key3', 'bar')", "2", "key1", "key2"]);
    t.run(&["MSET", "key2", "1", "key1", "1"]);
    assert_eq!(t.replies_for(c), vec![]);
    t.run_as(c, &["EVAL", "redis.call('get', 'key3')", "2", "key1", "key2"]);
    t.run(&["MSET", "key2", "2", "key1", "2"]);
    assert_eq!(t.replies_for(c), vec![invalidate(&["key2"]), invalidate(&["key1"])]);
    t.run_as(c, &["EVAL_RO", "redis.call('ping')", "2", "key1", "key2"]);
    t.run(&["MSET", "key2", "3", "key1", "3"]);
    assert_eq!(t.replies_for(c), vec![]);
    t.run_as(c, &["EVAL_RO", "redis.call('get', 'key1')", "2", "key1", "key2"]);
    t.run(&["MSET", "key2", "4", "key1", "4"]);
    assert_eq!(t.replies_for(c), vec![invalidate(&["key2"]), invalidate(&["key1"])]);
}

/// BCAST prefixes outlive the command: they are kept as copies, not slices that would hold
/// the command's whole input buffer.
#[test]
fn bcast_prefixes_keep_no_slice_of_the_input_buffer() {
    let mut t = TestEngine::new();
    let id = t.client;
    let (reply, buf) = t.run_sliced(id, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "cart:"]);
    assert_eq!(reply, ok());
    assert!(buf.is_unique(), "CLIENT TRACKING kept a slice of its input");
}
