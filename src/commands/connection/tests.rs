//! Connection family, reply-exact (checked against redis-server 7.0.15).

use crate::config::Config;
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn with_pass(p: &str) -> TestEngine {
    let mut c = Config::default();
    c.set("requirepass", p, false).unwrap();
    TestEngine::with_config(c)
}

#[test]
fn ping_and_echo() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["PING"]), Reply::Simple("PONG"));
    assert_eq!(t.run(&["PING", "hi"]), bulk("hi"));
    assert_eq!(t.run(&["PING", "a", "b"]), err("ERR wrong number of arguments for 'ping' command"));
    assert_eq!(t.run(&["ECHO", "x"]), bulk("x"));
}

#[test]
fn select_switches_database_and_validates_the_index() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "0"]);
    assert_eq!(t.run(&["SELECT", "1"]), ok());
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
    assert_eq!(t.run(&["SELECT", "16"]), err("ERR DB index is out of range"));
    assert_eq!(t.run(&["SELECT", "-1"]), err("ERR DB index is out of range"));
    assert_eq!(t.run(&["SELECT", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(t.run(&["SELECT", "0"]), ok());
    assert_eq!(t.run(&["GET", "k"]), bulk("0"));
}

#[test]
fn hello_3_switches_to_resp3_and_describes_the_server() {
    let mut t = TestEngine::new();
    let r = t.run(&["HELLO", "3"]);
    let Reply::Map(m) = r else { panic!("{:?}", r) };
    assert_eq!(m[0], (bulk("server"), bulk("redis")));
    assert_eq!(m[1], (bulk("version"), bulk("7.0.15")));
    assert_eq!(m[2], (bulk("proto"), int(3)));
    assert_eq!(m[4], (bulk("mode"), bulk("standalone")));
    assert!(t.engine.is_resp3(t.client));
    assert_eq!(t.run(&["HELLO", "4"]), err("NOPROTO unsupported protocol version"));
    assert_eq!(t.run(&["HELLO", "x"]), err("ERR Protocol version is not an integer or out of range"));
    assert_eq!(t.run(&["HELLO", "3", "FOO"]), err("ERR Syntax error in HELLO option 'FOO'"));
    t.run(&["HELLO", "2", "SETNAME", "me"]);
    assert!(!t.engine.is_resp3(t.client));
    assert_eq!(t.run(&["CLIENT", "GETNAME"]), bulk("me"));
}

#[test]
fn requirepass_gates_commands_until_auth() {
    let mut t = with_pass("secret");
    assert_eq!(t.run(&["GET", "k"]), err("NOAUTH Authentication required."));
    // Unknown commands and arity errors are reported before authentication, as in Redis.
    assert_eq!(t.run(&["GET"]), err("ERR wrong number of arguments for 'get' command"));
    assert_eq!(t.run(&["AUTH", "wrong"]), err("WRONGPASS invalid username-password pair or user is disabled."));
    assert_eq!(t.run(&["AUTH", "nobody", "secret"]), err("WRONGPASS invalid username-password pair or user is disabled."));
    assert!(t.run(&["HELLO", "3"]).is_error());
    assert_eq!(t.run(&["AUTH", "secret"]), ok());
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
    assert_eq!(t.run(&["RESET"]), Reply::Simple("RESET"));
    assert_eq!(t.run(&["GET", "k"]), err("NOAUTH Authentication required."));
    assert!(matches!(t.run(&["HELLO", "3", "AUTH", "default", "secret"]), Reply::Map(_)));
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
}

#[test]
fn auth_without_a_configured_password_is_refused() {
    let mut t = TestEngine::new();
    assert_eq!(
        t.run(&["AUTH", "x"]),
        err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
    );
    assert_eq!(t.run(&["AUTH", "default", "anything"]), ok());
    assert_eq!(t.run(&["AUTH", "a", "b", "c"]), err("ERR syntax error"));
}

#[test]
fn client_names_and_ids() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["CLIENT", "GETNAME"]), Reply::Nil);
    assert_eq!(t.run(&["CLIENT", "SETNAME", "bad name"]), err("ERR Client names cannot contain spaces, newlines or special characters."));
    assert_eq!(t.run(&["CLIENT", "SETNAME", "worker-1"]), ok());
    assert_eq!(t.run(&["CLIENT", "GETNAME"]), bulk("worker-1"));
    assert_eq!(t.run(&["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(t.run(&["CLIENT", "GETNAME"]), Reply::Nil);
    assert_eq!(t.run(&["CLIENT", "ID"]), int(t.client as i64));
    assert_eq!(t.run(&["CLIENT", "SETNAME"]), err("ERR wrong number of arguments for 'client|setname' command"));
    assert_eq!(t.run(&["CLIENT", "BOGUS"]), err("ERR unknown subcommand 'BOGUS'. Try CLIENT HELP."));
    assert_eq!(t.run(&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]), ok());
    assert_eq!(t.run(&["CLIENT", "SETINFO", "FOO", "x"]), err("ERR Unrecognized option 'FOO'"));
    let Reply::Verbatim(_, line) = t.run(&["CLIENT", "INFO"]) else { panic!() };
    let line = String::from_utf8(line.to_vec()).unwrap();
    assert!(line.starts_with(&format!("id={} addr=127.0.0.1:50000 ", t.client)), "{}", line);
    assert!(line.contains(" cmd=client|info "), "{}", line);
    assert!(line.contains(" lib-name=redis-py "), "{}", line);
    assert!(line.ends_with('\n'));
}

#[test]
fn client_list_shows_every_session_and_kill_closes_them() {
    let mut t = TestEngine::new();
    let other = t.connect();
    let Reply::Verbatim(_, list) = t.run(&["CLIENT", "LIST"]) else { panic!() };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert_eq!(list.lines().count(), 2);
    // The caller's query buffer holds its own command, as in Redis: *2 $6 client $4 list = 26.
    assert!(list.lines().next().unwrap().contains(" qbuf=26 "), "{}", list);
    assert!(list.lines().nth(1).unwrap().contains(" qbuf=0 "), "{}", list);
    assert_eq!(t.run(&["CLIENT", "KILL", "ID", &other.to_string()]), int(1));
    assert_eq!(t.engine.drain_events(), vec![crate::Event::CloseClient(other)]);
    assert_eq!(t.run(&["CLIENT", "KILL", "1.2.3.4:5"]), err("ERR No such client"));
    assert_eq!(t.run(&["CLIENT", "KILL", "ID", "0"]), err("ERR client-id should be greater than 0"));
    assert_eq!(t.run(&["CLIENT", "KILL", "TYPE", "bogus"]), err("ERR Unknown client type 'bogus'"));
    assert_eq!(t.run(&["CLIENT", "LIST", "TYPE", "bogus"]), err("ERR Unknown client type 'bogus'"));
    // SKIPME defaults to yes in the filter form: we survive our own ADDR match.
    assert_eq!(t.run(&["CLIENT", "KILL", "ADDR", "127.0.0.1:50000"]), int(0));
    assert_eq!(t.run(&["CLIENT", "KILL", "ADDR", "127.0.0.1:50000", "SKIPME", "no"]), int(1));
    assert!(t.engine.execute(t.client, vec!["PING".into()], t.now_us).close);
}

#[test]
fn client_reply_off_and_skip_suppress_replies() {
    let mut t = TestEngine::new();
    let id = t.client;
    let run = |t: &mut TestEngine, a: &[&str]| t.engine.execute(id, a.iter().map(|s| bytes::Bytes::copy_from_slice(s.as_bytes())).collect(), t.now_us).reply;
    assert_eq!(run(&mut t, &["CLIENT", "REPLY", "SKIP"]), None);
    assert_eq!(run(&mut t, &["SET", "a", "1"]), None);
    assert_eq!(run(&mut t, &["GET", "a"]), Some(bulk("1")));
    assert_eq!(run(&mut t, &["CLIENT", "REPLY", "OFF"]), None);
    assert_eq!(run(&mut t, &["GET", "a"]), None);
    assert_eq!(run(&mut t, &["CLIENT", "REPLY", "ON"]), Some(ok()));
    assert_eq!(run(&mut t, &["CLIENT", "REPLY", "MAYBE"]), Some(err("ERR syntax error")));
}

#[test]
fn quit_replies_ok_then_closes() {
    let mut t = TestEngine::new();
    let o = t.engine.execute(t.client, vec!["QUIT".into()], t.now_us);
    assert_eq!(o.reply, Some(ok()));
    assert!(o.close);
}

#[test]
fn client_no_touch_keeps_the_idle_time() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v"]);
    t.advance_ms(10_000);
    assert_eq!(t.run(&["CLIENT", "NO-TOUCH", "on"]), ok());
    t.run(&["GET", "k"]);
    assert_eq!(t.run(&["OBJECT", "IDLETIME", "k"]), int(10));
    assert_eq!(t.run(&["CLIENT", "NO-TOUCH", "off"]), ok());
    t.run(&["GET", "k"]);
    assert_eq!(t.run(&["OBJECT", "IDLETIME", "k"]), int(0));
    assert_eq!(t.run(&["CLIENT", "NO-TOUCH", "maybe"]), err("ERR syntax error"));
}

#[test]
fn client_pause_holds_writes_and_unpause_runs_them_in_order() {
    let mut t = TestEngine::new();
    let w = t.connect();
    assert_eq!(t.run(&["CLIENT", "PAUSE", "1000", "WRITE"]), ok());
    assert_eq!(t.run_as(w, &["INCR", "n"]), Reply::Blocked);
    assert_eq!(t.run(&["GET", "n"]), Reply::Nil);
    assert_eq!(t.run(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(t.replies_for(w), vec![int(1)]);
    // The timeout ends a pause at the next tick.
    t.run(&["CLIENT", "PAUSE", "50"]);
    assert_eq!(t.run_as(w, &["PING"]), Reply::Blocked);
    t.advance_ms(60);
    t.tick();
    assert_eq!(t.replies_for(w), vec![Reply::Simple("PONG")]);
}

#[test]
fn a_client_disconnecting_while_paused_leaves_no_trace() {
    let mut t = TestEngine::new();
    let w = t.connect();
    let b = t.connect();
    assert_eq!(t.run_as(b, &["BLPOP", "q", "0"]), Reply::Blocked);
    // (ALL would hold this client's own UNPAUSE too, as in Redis 7.0.)
    t.run(&["CLIENT", "PAUSE", "1000", "WRITE"]);
    assert_eq!(t.run_as(w, &["SET", "k", "v"]), Reply::Blocked);
    t.engine.disconnect(w);
    t.run(&["CLIENT", "UNPAUSE"]);
    let Reply::Verbatim(_, text) = t.run(&["INFO", "clients"]) else { panic!() };
    assert!(String::from_utf8_lossy(&text).contains("blocked_clients:1\r\n"), "{}", String::from_utf8_lossy(&text));
}

#[test]
fn client_list_and_kill_know_pubsub_connections_by_type() {
    let mut t = TestEngine::new();
    let sub = t.connect();
    t.run_as(sub, &["SUBSCRIBE", "c"]);
    let Reply::Verbatim(_, list) = t.run(&["CLIENT", "LIST", "TYPE", "pubsub"]) else { panic!() };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert!(list.starts_with(&format!("id={} ", sub)) && list.lines().count() == 1, "{}", list);
    let Reply::Verbatim(_, list) = t.run(&["CLIENT", "LIST", "TYPE", "normal"]) else { panic!() };
    assert!(String::from_utf8_lossy(&list).starts_with(&format!("id={} ", t.client)));
    assert_eq!(t.run(&["CLIENT", "KILL", "TYPE", "normal"]), int(0));
    assert_eq!(t.run(&["CLIENT", "KILL", "TYPE", "pubsub"]), int(1));
}

#[test]
fn pause_write_counts_held_clients_and_lets_no_writes_scripts_run() {
    let mut t = TestEngine::new();
    t.run(&["FUNCTION", "LOAD", "#!lua name=f1\nredis.register_function{function_name='f1', callback=function() return 'hello' end, flags={'no-writes'}}"]);
    t.run(&["FUNCTION", "LOAD", "#!lua name=f2\nredis.register_function('f2', function() return redis.call('set', 'x', 1) end)"]);
    t.run(&["CLIENT", "PAUSE", "60000", "WRITE"]);
    let c = t.connect();
    assert_eq!(t.run_as(c, &["EVAL", "#!lua flags=no-writes\nreturn 'unique script'", "0"]), bulk("unique script"));
    assert_eq!(t.run_as(c, &["FCALL", "f1", "0"]), bulk("hello"));
    assert_eq!(t.run_as(c, &["EVAL_RO", "return 1", "0"]), int(1));
    // A script that may write, or declares no flags, waits like any write.
    let w = t.connect();
    assert_eq!(t.run_as(w, &["FCALL", "f2", "0"]), Reply::Blocked);
    let Reply::Verbatim(_, text) = t.run(&["INFO", "clients"]) else { panic!() };
    assert!(String::from_utf8_lossy(&text).contains("blocked_clients:1\r\n"), "{}", String::from_utf8_lossy(&text));
    let e = t.connect();
    assert_eq!(t.run_as(e, &["EVAL", "return 1", "0"]), Reply::Blocked);
    t.run(&["CLIENT", "UNPAUSE"]);
    assert_eq!(t.replies_for(w), vec![Reply::Status("OK".into())]);
}

fn info_field(t: &mut TestEngine, section: &str, field: &str) -> String {
    let Reply::Verbatim(_, text) = t.run(&["INFO", section]) else { panic!() };
    let text = String::from_utf8_lossy(&text).into_owned();
    let prefix = format!("{}:", field);
    text.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("{} in {}", field, text)).to_string()
}

#[test]
fn expired_keys_stay_in_place_while_clients_are_paused() {
    let mut t = TestEngine::new();
    t.run(&["SADD", "s", "a"]);
    t.run(&["RPUSH", "l", "1"]);
    t.run(&["MULTI"]);
    t.run(&["SET", "foo", "bar", "PX", "10"]);
    t.run(&["SET", "bar", "foo", "PX", "10"]);
    t.run(&["PEXPIRE", "s", "10"]);
    t.run(&["PEXPIRE", "l", "10"]);
    t.run(&["CLIENT", "PAUSE", "50000", "WRITE"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![ok(), ok(), int(1), int(1), ok()]));
    t.advance_ms(20);
    t.tick();
    // Reads see them gone, yet neither the lookup nor the active cycle deleted them.
    assert_eq!(t.run(&["GET", "foo"]), Reply::Nil);
    assert_eq!(t.run(&["EXISTS", "bar"]), int(0));
    assert_eq!(t.run(&["SUNION", "s"]), Reply::Set(vec![]));
    assert_eq!(t.run(&["SORT_RO", "l"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["KEYS", "*"]), Reply::Array(vec![]));
    assert_eq!(t.run(&["DBSIZE"]), int(4));
    assert_eq!(info_field(&mut t, "stats", "expired_keys"), "0");
    assert_eq!(t.run(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(t.run(&["GET", "foo"]), Reply::Nil);
    assert_eq!(t.run(&["GET", "bar"]), Reply::Nil);
    assert_eq!(t.run(&["DBSIZE"]), int(2));
    assert_eq!(info_field(&mut t, "stats", "expired_keys"), "2");
}

#[test]
fn the_active_cycle_deletes_what_expired_during_a_pause_once_it_ends() {
    let mut t = TestEngine::new();
    t.run(&["SET", "k", "v", "PX", "10"]);
    t.run(&["CLIENT", "PAUSE", "100", "WRITE"]);
    t.advance_ms(20);
    t.tick();
    assert_eq!(t.run(&["DBSIZE"]), int(1));
    // The pause's timeout ends it; the next tick's cycle deletes the key.
    t.advance_ms(100);
    t.tick();
    assert_eq!(t.run(&["DBSIZE"]), int(0));
    assert_eq!(info_field(&mut t, "stats", "expired_keys"), "1");
}

#[test]
fn a_lazily_expired_key_counts_in_expired_keys() {
    let mut t = TestEngine::new();
    t.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    t.run(&["SET", "k", "v", "PX", "1"]);
    t.advance_ms(5);
    assert_eq!(t.run(&["GET", "k"]), Reply::Nil);
    assert_eq!(info_field(&mut t, "stats", "expired_keys"), "1");
}

#[test]
fn client_pause_starts_at_the_end_of_a_transaction() {
    let mut t = TestEngine::new();
    t.run(&["MULTI"]);
    t.run(&["SET", "FOO1", "BAR"]);
    t.run(&["CLIENT", "PAUSE", "60000", "WRITE"]);
    t.run(&["SET", "FOO2", "BAR"]);
    assert_eq!(t.run(&["EXEC"]), Reply::Array(vec![ok(), ok(), ok()]));
    let w = t.connect();
    assert_eq!(t.run_as(w, &["SET", "FOO3", "BAR"]), Reply::Blocked);
    assert_eq!(info_field(&mut t, "clients", "blocked_clients"), "1");
    assert_eq!(t.run(&["GET", "FOO1"]), bulk("BAR"));
    assert_eq!(t.run(&["GET", "FOO2"]), bulk("BAR"));
    assert_eq!(t.run(&["GET", "FOO3"]), Reply::Nil);
    t.run(&["CLIENT", "UNPAUSE"]);
    assert_eq!(t.replies_for(w), vec![ok()]);
}
