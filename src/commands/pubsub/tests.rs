//! Pub/sub in the core: deliveries land in receivers' outboxes as pushes, with Redis's
//! confirmations and counts (checked against redis-server 7.0.15).

use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn push(items: &[Reply]) -> Reply {
    Reply::Push(items.to_vec())
}

#[test]
fn publish_reaches_channel_and_pattern_subscribers() {
    let mut t = TestEngine::new();
    let sub = t.connect();
    assert_eq!(
        t.run_as(sub, &["SUBSCRIBE", "a", "b"]),
        Reply::Multi(vec![push(&[bulk("subscribe"), bulk("a"), int(1)]), push(&[bulk("subscribe"), bulk("b"), int(2)])])
    );
    assert_eq!(t.run_as(sub, &["PSUBSCRIBE", "a*"]), Reply::Multi(vec![push(&[bulk("psubscribe"), bulk("a*"), int(3)])]));
    assert_eq!(t.run(&["PUBLISH", "a", "hi"]), int(2));
    assert_eq!(t.replies_for(sub), vec![push(&[bulk("message"), bulk("a"), bulk("hi")]), push(&[bulk("pmessage"), bulk("a*"), bulk("a"), bulk("hi")])]);
    assert_eq!(t.run(&["PUBSUB", "NUMSUB", "a", "zz"]), Reply::Array(vec![bulk("a"), int(1), bulk("zz"), int(0)]));
    assert_eq!(t.run(&["PUBSUB", "CHANNELS", "b*"]), arr(&["b"]));
    assert_eq!(t.run(&["PUBSUB", "NUMPAT"]), int(1));
}

#[test]
fn resp2_subscribed_mode_refuses_other_commands_and_reset_leaves_it() {
    let mut t = TestEngine::new();
    t.run(&["SUBSCRIBE", "c"]);
    assert_eq!(t.run(&["GET", "k"]), err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"));
    assert_eq!(t.run(&["PING", "x"]), arr(&["pong", "x"]));
    assert_eq!(t.run(&["RESET"]), Reply::Simple("RESET"));
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
    assert_eq!(t.run(&["PUBLISH", "c", "m"]), int(0));
}

/// A subscriber that QUIT (or was killed) no longer receives or counts, though its host has
/// not closed the connection yet: Redis has freed it by the next command.
#[test]
fn a_closing_subscriber_is_not_a_receiver() {
    let mut t = TestEngine::new();
    let a = t.connect();
    let b = t.connect();
    t.run_as(a, &["SUBSCRIBE", "ch"]);
    t.run_as(b, &["PSUBSCRIBE", "c*"]);
    assert_eq!(t.run(&["PUBLISH", "ch", "m"]), int(2));
    t.run_as(a, &["QUIT"]);
    t.run(&["CLIENT", "KILL", "ID", &b.to_string()]);
    assert_eq!(t.run(&["PUBLISH", "ch", "m"]), int(0));
}

#[test]
fn shard_channels_are_separate() {
    let mut t = TestEngine::new();
    let sub = t.connect();
    t.run_as(sub, &["SSUBSCRIBE", "s"]);
    assert_eq!(t.run(&["PUBLISH", "s", "m"]), int(0));
    assert_eq!(t.run(&["SPUBLISH", "s", "m"]), int(1));
    assert_eq!(t.replies_for(sub), vec![push(&[bulk("smessage"), bulk("s"), bulk("m")])]);
    assert_eq!(t.run(&["PUBSUB", "SHARDNUMSUB", "s"]), Reply::Array(vec![bulk("s"), int(1)]));
}

#[test]
fn keyspace_notifications_cover_expiry_misses_and_new_keys() {
    let mut t = TestEngine::new();
    let sub = t.connect();
    t.run(&["CONFIG", "SET", "notify-keyspace-events", "Exmn"]);
    assert_eq!(t.run(&["CONFIG", "GET", "notify-keyspace-events"]), Reply::Map(vec![(bulk("notify-keyspace-events"), bulk("xnEm"))]));
    t.run_as(sub, &["PSUBSCRIBE", "__keyevent@0__:*"]);
    t.run(&["SET", "k", "v", "PX", "100"]);
    t.advance_ms(200);
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
    let msg = |event: &str, key: &str| push(&[bulk("pmessage"), bulk("__keyevent@0__:*"), bulk(&format!("__keyevent@0__:{}", event)), bulk(key)]);
    assert_eq!(t.replies_for(sub), vec![msg("new", "k"), msg("expired", "k"), msg("keymiss", "k")]);
    // The active cycle announces what it deletes at once.
    t.run(&["SET", "j", "v", "PX", "100"]);
    t.replies_for(sub);
    t.advance_ms(200);
    t.tick();
    assert_eq!(t.replies_for(sub), vec![msg("expired", "j")]);
    assert_eq!(
        t.run(&["CONFIG", "SET", "notify-keyspace-events", "Q"]),
        err("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    );
}

/// `A` shows without `n` (Redis's keyspaceEventsFlagsToString), yet new-key events stay on.
#[test]
fn new_key_events_survive_the_all_class() {
    let mut t = TestEngine::new();
    let sub = t.connect();
    t.run(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]);
    assert_eq!(t.run(&["CONFIG", "GET", "notify-keyspace-events"]), Reply::Map(vec![(bulk("notify-keyspace-events"), bulk("AKE"))]));
    t.run_as(sub, &["PSUBSCRIBE", "__keyevent@0__:*"]);
    t.run(&["SET", "k", "v"]);
    let msg = |event: &str| push(&[bulk("pmessage"), bulk("__keyevent@0__:*"), bulk(&format!("__keyevent@0__:{}", event)), bulk("k")]);
    assert_eq!(t.replies_for(sub), vec![msg("new"), msg("set")]);
    t.run(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    t.run(&["SET", "k", "w"]);
    t.run(&["DEL", "k"]);
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.replies_for(sub), vec![msg("set"), msg("del"), msg("set")]);
}

/// A subscription outlives the command's input buffer: it keeps a copy of the name, not a
/// slice that would hold the whole buffer (a socket read, the wasm argument area).
#[test]
fn subscriptions_keep_no_slice_of_the_input_buffer() {
    let mut t = TestEngine::new();
    let sub = t.connect();
    for cmd in [&["SUBSCRIBE", "news"][..], &["PSUBSCRIBE", "n*"], &["SSUBSCRIBE", "shard"]] {
        let (reply, buf) = t.run_sliced(sub, cmd);
        drop(reply);
        assert!(buf.is_unique(), "{cmd:?} kept a slice of its input");
    }
    assert_eq!(t.run(&["PUBLISH", "news", "hi"]), int(2));
}
