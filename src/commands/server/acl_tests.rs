//! ACL through the engine: what the differential script (native-server/tests/differential/
//! acl.redis) cannot see from one connection: other connections closed, ACL LOG entries,
//! EXEC and scripts re-checking, SORT, SLOWLOG redaction, requirepass, `user` lines.
//! Texts checked against redis-server 7.0.15.

use crate::config::{load_conf, Config};
use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn text(r: &Reply) -> String {
    match r {
        Reply::Error(e) => e.clone(),
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{:?}", other),
    }
}

fn field<'a>(entry: &'a Reply, name: &str) -> &'a Reply {
    let Reply::Map(m) = entry else { panic!("{:?}", entry) };
    &m.iter().find(|(k, _)| *k == bulk(name)).unwrap_or_else(|| panic!("{} in {:?}", name, entry)).1
}

fn log(t: &mut TestEngine) -> Vec<Reply> {
    let Reply::Array(v) = t.run(&["ACL", "LOG"]) else { panic!() };
    v
}

/// A connection authenticated as `user` (password `pw`).
fn login(t: &mut TestEngine, user: &str) -> u64 {
    let c = t.connect();
    assert_eq!(t.run_as(c, &["AUTH", user, "pw"]), ok());
    c
}

#[test]
fn refusals_answer_noperm_and_are_logged() {
    let mut t = TestEngine::new();
    t.run(&["ACL", "SETUSER", "app", "on", ">pw", "+get", "+set", "+multi", "+publish", "~app:*", "&app:*"]);
    let app = login(&mut t, "app");
    assert_eq!(t.run_as(app, &["SET", "app:1", "v"]), ok());
    assert_eq!(t.run_as(app, &["DEL", "app:1"]), err("NOPERM this user has no permissions to run the 'del' command"));
    assert_eq!(t.run_as(app, &["GET", "other"]), err("NOPERM this user has no permissions to access one of the keys used as arguments"));
    assert_eq!(t.run_as(app, &["PUBLISH", "news", "m"]), err("NOPERM this user has no permissions to access one of the channels used as arguments"));
    assert_eq!(t.run_as(app, &["CONFIG", "GET", "port"]), err("NOPERM this user has no permissions to run the 'config|get' command"));
    // Twice the same refusal within a minute: one entry, counted twice.
    t.run_as(app, &["GET", "other"]);
    let entries = log(&mut t);
    assert_eq!(entries.len(), 4);
    let newest = &entries[0];
    assert_eq!(field(newest, "count"), &int(2));
    assert_eq!(field(newest, "reason"), &bulk("key"));
    assert_eq!(field(newest, "context"), &bulk("toplevel"));
    assert_eq!(field(newest, "object"), &bulk("other"));
    assert_eq!(field(newest, "username"), &bulk("app"));
    assert!(text(field(newest, "client-info")).contains(&format!("id={} ", app)));
    assert!(text(field(newest, "client-info")).contains(" user=app "));
    assert_eq!(field(&entries[1], "reason"), &bulk("command"));
    assert_eq!(field(&entries[1], "object"), &bulk("config|get"));
    assert_eq!(field(&entries[2], "reason"), &bulk("channel"));
    assert_eq!(field(&entries[3], "object"), &bulk("del"));
    // Inside MULTI the refusal is queued as an error and logged in the multi context.
    t.run_as(app, &["MULTI"]);
    assert!(t.run_as(app, &["DEL", "x"]).is_error());
    assert_eq!(field(&log(&mut t)[0], "context"), &bulk("multi"));
    // A failed AUTH is logged with the name tried and the command as typed.
    let c = t.connect();
    t.run_as(c, &["auth", "ghost", "x"]);
    let e = &log(&mut t)[0];
    assert_eq!((field(e, "reason"), field(e, "object"), field(e, "username")), (&bulk("auth"), &bulk("auth"), &bulk("ghost")));
    assert_eq!(t.run(&["ACL", "LOG", "1"]), Reply::Array(vec![log(&mut t)[0].clone()]));
    assert_eq!(t.run(&["ACL", "LOG", "RESET"]), ok());
    assert_eq!(t.run(&["ACL", "LOG"]), Reply::Array(vec![]));
    t.run(&["CONFIG", "SET", "acllog-max-len", "2"]);
    for k in ["a", "b", "c"] {
        t.run_as(app, &["GET", k]);
    }
    assert_eq!(log(&mut t).len(), 2);
}

#[test]
fn a_changed_user_is_checked_on_its_next_command() {
    let mut t = TestEngine::new();
    t.run(&["ACL", "SETUSER", "app", "on", ">pw", "+@all", "~*", "&*"]);
    let app = login(&mut t, "app");
    assert_eq!(t.run_as(app, &["SET", "k", "v"]), ok());
    t.run(&["ACL", "SETUSER", "app", "-set"]);
    assert_eq!(t.run_as(app, &["SET", "k", "v"]), err("NOPERM this user has no permissions to run the 'set' command"));
    // Queued while allowed, refused at EXEC once the rules changed.
    t.run(&["ACL", "SETUSER", "app", "+set"]);
    t.run_as(app, &["MULTI"]);
    assert_eq!(t.run_as(app, &["SET", "k", "v2"]), Reply::Simple("QUEUED"));
    assert_eq!(t.run_as(app, &["GET", "k"]), Reply::Simple("QUEUED"));
    t.run(&["ACL", "SETUSER", "app", "resetkeys", "~other"]);
    let Reply::Array(r) = t.run_as(app, &["EXEC"]) else { panic!() };
    let msg = "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to touch the specified keys";
    assert_eq!(r, vec![err(msg), err(msg)]);
    assert_eq!(t.run(&["GET", "k"]), bulk("v"));
}

#[test]
fn deleting_a_user_closes_its_connections() {
    let mut t = TestEngine::new();
    t.run(&["ACL", "SETUSER", "gone", "on", ">pw", "+@all", "~*"]);
    let a = login(&mut t, "gone");
    let b = t.connect();
    t.engine.drain_events();
    let Reply::Verbatim(_, list) = t.run(&["CLIENT", "LIST", "ID", &a.to_string()]) else { panic!() };
    assert!(String::from_utf8_lossy(&list).contains(" user=gone "));
    assert_eq!(t.run(&["ACL", "DELUSER", "gone", "never"]), int(1));
    assert_eq!(t.engine.drain_events(), vec![crate::Event::CloseClient(a)]);
    assert!(!t.run_as(b, &["PING"]).is_error());
    assert_eq!(t.run(&["ACL", "DELUSER", "default"]), err("ERR The 'default' user cannot be removed"));
}

#[test]
fn client_kill_user_closes_that_users_connections() {
    let mut t = TestEngine::new();
    t.run(&["ACL", "SETUSER", "worker", "on", ">pw", "+@all", "~*"]);
    let a = login(&mut t, "worker");
    let _b = t.connect();
    t.engine.drain_events();
    assert_eq!(t.run(&["CLIENT", "KILL", "USER", "worker"]), int(1));
    assert_eq!(t.engine.drain_events(), vec![crate::Event::CloseClient(a)]);
    assert_eq!(t.run(&["CLIENT", "KILL", "USER", "nobody"]), err("ERR No such user 'nobody'"));
}

#[test]
fn taking_channels_away_disconnects_subscribers_that_lose_them() {
    let mut t = TestEngine::new();
    t.run(&["ACL", "SETUSER", "sub", "on", ">pw", "+@all", "~*", "resetchannels", "&news.*", "&sport"]);
    let news = login(&mut t, "sub");
    let sport = login(&mut t, "sub");
    t.run_as(news, &["PSUBSCRIBE", "news.*"]);
    t.run_as(sport, &["SUBSCRIBE", "sport"]);
    assert_eq!(t.run_as(sport, &["SUBSCRIBE", "weather"]), err("NOPERM this user has no permissions to access one of the channels used as arguments"));
    t.engine.drain_events();
    // A superset keeps everyone; dropping `sport` closes only its subscriber.
    t.run(&["ACL", "SETUSER", "sub", "&more"]);
    assert_eq!(t.engine.drain_events(), vec![]);
    t.run(&["ACL", "SETUSER", "sub", "resetchannels", "&news.*"]);
    assert_eq!(t.engine.drain_events(), vec![crate::Event::CloseClient(sport)]);
}

#[test]
fn scripts_run_with_their_callers_permissions() {
    let mut t = TestEngine::new();
    t.run(&["ACL", "SETUSER", "lua", "on", ">pw", "+eval", "+get", "~k*"]);
    let c = login(&mut t, "lua");
    assert_eq!(t.run_as(c, &["EVAL", "return redis.call('get', KEYS[1])", "1", "k1"]), Reply::Nil);
    let r = t.run_as(c, &["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "k1"]);
    assert!(text(&r).starts_with("ERR The user executing the script can't run this command or subcommand"), "{:?}", r);
    let r = t.run_as(c, &["EVAL", "return redis.call('get', 'other')", "0"]);
    assert!(text(&r).starts_with("ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"), "{:?}", r);
    assert_eq!(field(&log(&mut t)[0], "context"), &bulk("lua"));
    let check = "return {redis.acl_check_cmd('get', 'k1'), redis.acl_check_cmd('get', 'x'), redis.acl_check_cmd('set', 'k1', 'v')}";
    assert_eq!(t.run_as(c, &["EVAL", check, "0"]), Reply::Array(vec![int(1), Reply::Nil, Reply::Nil]));
    let r = t.run_as(c, &["EVAL", "return redis.acl_check_cmd('nosuch')", "0"]);
    assert!(text(&r).contains("Invalid command passed to redis.acl_check_cmd()"), "{:?}", r);
}

#[test]
fn sort_by_and_get_need_access_to_every_key() {
    let mut t = TestEngine::new();
    t.run(&["RPUSH", "l", "2", "1"]);
    t.run(&["ACL", "SETUSER", "sorter", "on", ">pw", "+sort", "~l"]);
    let c = login(&mut t, "sorter");
    assert_eq!(t.run_as(c, &["SORT", "l"]), arr(&["1", "2"]));
    assert_eq!(t.run_as(c, &["SORT", "l", "BY", "nosort"]), arr(&["2", "1"]));
    assert_eq!(t.run_as(c, &["SORT", "l", "BY", "w_*"]), err("ERR BY option of SORT denied due to insufficient ACL permissions."));
    assert_eq!(t.run_as(c, &["SORT", "l", "GET", "#"]), err("ERR GET option of SORT denied due to insufficient ACL permissions."));
    t.run(&["ACL", "SETUSER", "sorter", "%R~*"]);
    assert_eq!(t.run_as(c, &["SORT", "l", "GET", "#"]), arr(&["1", "2"]));
}

#[test]
fn requirepass_is_the_default_users_password() {
    let mut t = TestEngine::new();
    t.run(&["CONFIG", "SET", "requirepass", "s3cret"]);
    let c = t.connect();
    assert_eq!(t.run_as(c, &["GET", "k"]), err("NOAUTH Authentication required."));
    assert_eq!(t.run_as(c, &["AUTH", "default", "s3cret"]), ok());
    assert_eq!(t.run_as(c, &["ACL", "WHOAMI"]), bulk("default"));
    let Reply::Map(m) = t.run(&["ACL", "GETUSER", "default"]) else { panic!() };
    assert_eq!(m[1].1, Reply::Array(vec![bulk(&crate::acl::hash_password(b"s3cret"))]));
    // Back to no password: connections that never authenticated may run commands again.
    let d = t.connect();
    t.run(&["CONFIG", "SET", "requirepass", ""]);
    assert_eq!(t.run_as(d, &["GET", "k"]), Reply::Nil);
    // A disabled default user needs AUTH as another user.
    t.run(&["ACL", "SETUSER", "admin", "on", ">pw", "+@all", "~*", "&*"]);
    t.run(&["ACL", "SETUSER", "default", "off"]);
    let e = t.connect();
    assert_eq!(t.run_as(e, &["GET", "k"]), err("NOAUTH Authentication required."));
    assert_eq!(t.run_as(e, &["AUTH", "admin", "pw"]), ok());
    assert_eq!(t.run_as(e, &["GET", "k"]), Reply::Nil);
}

#[test]
fn slowlog_hides_passwords_and_rules() {
    let mut t = TestEngine::new();
    t.run(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    t.run(&["ACL", "SETUSER", "u", "on", ">pw"]);
    t.run(&["CONFIG", "SET", "requirepass", "x", "maxmemory", "0"]);
    let c = t.connect();
    t.run_as(c, &["AUTH", "u", "pw"]);
    let Reply::Array(entries) = t.run(&["SLOWLOG", "GET", "3"]) else { panic!() };
    let args = |i: usize| match &entries[i] {
        Reply::Array(e) => e[3].clone(),
        other => panic!("{:?}", other),
    };
    assert_eq!(args(0), arr(&["AUTH", "(redacted)", "(redacted)"]));
    assert_eq!(args(1), arr(&["CONFIG", "SET", "requirepass", "(redacted)", "maxmemory", "0"]));
    assert_eq!(args(2), arr(&["ACL", "SETUSER", "(redacted)", "(redacted)", "(redacted)"]));
}

#[test]
fn user_lines_in_the_config_create_users_and_rewrite_writes_them() {
    let dirs = load_conf("user alice on >pw ~a* +get\nuser default on nopass ~* &* +@all -flushall\n", &mut |_| Err("no".into())).unwrap();
    let mut e = crate::Engine::new(Config::default(), 1, 0);
    for (n, v) in &dirs {
        e.config_set_startup(n, v).unwrap();
    }
    let text = e.config_rewrite("user bob on\nport 6379\n", "/d");
    assert!(text.contains("user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~a* resetchannels -@all +get\n"), "{text}");
    // The default user is reset before its rules, and reset sets sanitize-payload.
    assert!(text.contains("user default on nopass sanitize-payload ~* &* +@all -flushall\n"), "{text}");
    assert!(!text.contains("user bob"), "{text}");
    let bad = |conf: &str| match load_conf(conf, &mut |_| Err("no".into())) {
        Err(crate::config::ConfError::Line { reason, .. }) => reason,
        other => panic!("{:?}", other),
    };
    // Redis names argv[j] for the j-th rule (here the user's own name).
    assert_eq!(bad("user alice on bogus\n"), "Error in user declaration 'alice': Syntax error");
    assert_eq!(bad("user a on\nuser a off\n"), "Error in user declaration 'a': Duplicate user found. A user can only be defined once in config files");
}

thread_local! {
    /// The files the ACL tests' host holds (the hooks are plain functions).
    static FILES: std::cell::RefCell<std::collections::HashMap<String, Vec<u8>>> = Default::default();
}

fn read_file(path: &str) -> Result<Vec<u8>, String> {
    FILES.with(|f| f.borrow().get(path).cloned().ok_or_else(|| "No such file or directory".to_string()))
}

fn replace_file(path: &str, bytes: &[u8]) -> Result<(), (crate::server::FileStep, String)> {
    if path.starts_with("/readonly/") {
        return Err((crate::server::FileStep::Open, "Read-only file system".into()));
    }
    FILES.with(|f| f.borrow_mut().insert(path.to_string(), bytes.to_vec()));
    Ok(())
}

fn with_acl_file(path: &str, text: &str) -> TestEngine {
    FILES.with(|f| f.borrow_mut().insert(path.to_string(), text.as_bytes().to_vec()));
    let mut c = Config::default();
    c.set("aclfile", path, true).unwrap();
    let mut t = TestEngine::with_config(c);
    t.engine.set_file_access(read_file, replace_file);
    t
}

#[test]
fn acl_load_and_save_go_through_the_acl_file() {
    let mut t = with_acl_file("users.acl", "user alice on allcommands allkeys &* >pw\nuser bob on -@all +@set +acl ~set* &* >bob\n\n");
    assert_eq!(t.engine.load_acl_file_at_startup(), Ok(()));
    assert_eq!(t.run(&["ACL", "USERS"]), arr(&["alice", "bob", "default"]));
    // Without a default user in the file, the usual one (all channels whatever the default).
    assert!(matches!(t.run(&["ACL", "LIST"]), Reply::Array(v) if v.contains(&bulk("user default on nopass ~* &* +@all"))));
    assert_eq!(t.run(&["ACL", "SETUSER", "eve", "+get", "allkeys", ">eve", "on"]), ok());
    assert_eq!(t.run(&["ACL", "SAVE"]), ok());
    let saved = String::from_utf8(read_file("users.acl").unwrap()).unwrap();
    let names: Vec<&str> = saved.lines().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(names, ["alice", "bob", "default", "eve"]);
    assert!(saved.starts_with("user alice on #"), "{saved}");

    // ACL LOAD replaces every user; connections of the non-default users replaced close,
    // this one after its reply.
    let alice = login(&mut t, "alice");
    let plain = t.connect();
    t.engine.drain_events();
    FILES.with(|f| f.borrow_mut().insert("users.acl".into(), b"user carol on nopass +@all ~*\r\n".to_vec()));
    assert_eq!(t.run(&["ACL", "LOAD"]), ok());
    assert_eq!(t.engine.drain_events(), vec![crate::Event::CloseClient(alice)]);
    assert!(!t.run_as(plain, &["PING"]).is_error());
    assert_eq!(t.run(&["ACL", "USERS"]), arr(&["carol", "default"]));
}

#[test]
fn a_bad_acl_file_changes_nothing_and_says_where() {
    let mut t = with_acl_file("u.acl", "user alice on nopass +@all ~*\n");
    t.engine.load_acl_file_at_startup().unwrap();
    let load = |t: &mut TestEngine, text: &str| {
        FILES.with(|f| f.borrow_mut().insert("u.acl".into(), text.as_bytes().to_vec()));
        text_of(t.run(&["ACL", "LOAD"]))
    };
    assert_eq!(
        load(&mut t, "user alice on\nuser alice off\n"),
        "ERR WARNING: Duplicate user 'alice' found on line 2. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
    );
    assert_eq!(
        load(&mut t, "user x on +nosuchcommand +get bogusrule ~x bogus2\n"),
        "ERR u.acl:1: Error in applying operation '+nosuchcommand': Unknown command or category name in ACL. u.acl:1: Syntax error. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
    );
    assert_eq!(
        load(&mut t, "usr x on\nuser\n"),
        "ERR u.acl:1 should start with user keyword followed by the username. u.acl:2 should start with user keyword followed by the username. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
    );
    assert_eq!(
        load(&mut t, "user x on (+get\n"),
        "ERR u.acl:1: Unmatched parenthesis in selector definition.WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
    );
    assert_eq!(t.run(&["ACL", "USERS"]), arr(&["alice", "default"]));
    FILES.with(|f| f.borrow_mut().remove("u.acl"));
    assert_eq!(text_of(t.run(&["ACL", "LOAD"])), "ERR Error loading ACLs, opening file 'u.acl': No such file or directory");
}

#[test]
fn acl_file_startup_rules_and_save_failures() {
    // A file that does not load stops the server.
    let mut t = with_acl_file("s.acl", "user a on +nosuch\n");
    assert_eq!(
        t.engine.load_acl_file_at_startup(),
        Err("Aborting Redis startup because of ACL errors: s.acl:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. WARNING: ACL errors detected, no change to the previously active ACL rules was performed".into())
    );
    // Users in both places are refused.
    let mut t = with_acl_file("s.acl", "");
    t.engine.config_set_startup("user", "bob on").unwrap();
    assert!(t
        .engine
        .load_acl_file_at_startup()
        .unwrap_err()
        .starts_with("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid."));
    // CONFIG REWRITE leaves the users to the file.
    let t = with_acl_file("s.acl", "");
    assert!(!t.engine.config_rewrite("user old on\n", "/d").contains("user "));
    // A save that fails is logged.
    let mut t = with_acl_file("/readonly/s.acl", "");
    t.engine.drain_events();
    assert_eq!(t.run(&["ACL", "SAVE"]), err("ERR There was an error trying to save the ACLs. Please check the server logs for more information"));
    assert_eq!(t.engine.drain_events(), vec![crate::Event::Log { level: 3, message: "Opening temp ACL file for ACL SAVE: Read-only file system".into() }]);
    // Without an aclfile, Redis's pointer to CONFIG REWRITE.
    let mut t = TestEngine::new();
    assert!(text_of(t.run(&["ACL", "LOAD"])).starts_with("ERR This Redis instance is not configured to use an ACL file."));
}

fn text_of(r: Reply) -> String {
    text(&r)
}
