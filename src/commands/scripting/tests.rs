//! EVAL and FUNCTION through the engine; texts as redis-server 7.0.15 gives them. These run
//! natively and in wasm (Node), so they are also the scripting conformance suite every
//! Lua backend must pass. Byte-for-byte comparisons with redis-server over a socket live in
//! native-server/tests/differential/scripting.redis.

use crate::reply::Reply;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn eval(t: &mut TestEngine, script: &str, keys: &[&str], args: &[&str]) -> Reply {
    let n = keys.len().to_string();
    let mut argv = vec!["EVAL", script, &n];
    argv.extend_from_slice(keys);
    argv.extend_from_slice(args);
    t.run(&argv)
}

fn status(s: &str) -> Reply {
    Reply::Status(s.into())
}

/// The distributed lock release everyone copies from the Redis docs.
const UNLOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// A sliding-window rate limiter on a sorted set.
const RATE_LIMIT: &str = "
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('zremrangebyscore', key, '-inf', now - window)
if redis.call('zcard', key) < limit then
  redis.call('zadd', key, now, ARGV[4])
  redis.call('pexpire', key, window)
  return 1
end
return 0";

#[test]
fn conversions_follow_redis() {
    let mut t = TestEngine::new();
    assert_eq!(eval(&mut t, "return 1", &[], &[]), int(1));
    assert_eq!(eval(&mut t, "return 3.99", &[], &[]), int(3));
    assert_eq!(eval(&mut t, "return -3.99", &[], &[]), int(-3));
    assert_eq!(eval(&mut t, "return 'x'", &[], &[]), bulk("x"));
    assert_eq!(eval(&mut t, "return true", &[], &[]), int(1));
    assert_eq!(eval(&mut t, "return false", &[], &[]), Reply::Nil);
    assert_eq!(eval(&mut t, "return {1,2,3.7,nil,5}", &[], &[]), Reply::Array(vec![int(1), int(2), int(3)]));
    assert_eq!(eval(&mut t, "return {ok='fine'}", &[], &[]), status("fine"));
    assert_eq!(eval(&mut t, "return {err='MYERR x'}", &[], &[]), err("MYERR x"));
    assert_eq!(eval(&mut t, "return redis.error_reply('XX oops')", &[], &[]), err("XX oops"));
    assert_eq!(eval(&mut t, "return redis.status_reply('go')", &[], &[]), status("go"));
    assert_eq!(eval(&mut t, "redis.setresp(3) return {double=1.5}", &[], &[]), Reply::Double(1.5));
    assert_eq!(eval(&mut t, "redis.setresp(3) return false", &[], &[]), Reply::Bool(false));
    assert_eq!(eval(&mut t, "return {map={a=1}}", &[], &[]), Reply::Map(vec![(bulk("a"), int(1))]));
    assert_eq!(eval(&mut t, "return KEYS[1] .. ARGV[1]", &["k"], &["a"]), bulk("ka"));
    // Replies into Lua: RESP2 by default, RESP3 after setresp(3).
    t.run(&["HSET", "h", "f", "v"]);
    assert_eq!(eval(&mut t, "return redis.call('hgetall', KEYS[1])", &["h"], &[]), arr(&["f", "v"]));
    assert_eq!(eval(&mut t, "redis.setresp(3) return redis.call('hgetall', KEYS[1])['map']['f']", &["h"], &[]), bulk("v"));
    assert_eq!(eval(&mut t, "return type(redis.call('get', 'missing'))", &[], &[]), bulk("boolean"));
    assert_eq!(eval(&mut t, "redis.call('set', 'n', 1/3) return redis.call('get', 'n')", &[], &[]), bulk("0.33333333333333331"));
}

#[test]
fn errors_read_as_in_redis() {
    let mut t = TestEngine::new();
    let sha = |s: &str| crate::script::sha1hex(s.as_bytes());
    let s = "return a";
    assert_eq!(
        eval(&mut t, s, &[], &[]),
        err(&format!("ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: {}, on @user_script:1.", sha(s)))
    );
    let s = "a = 1";
    assert_eq!(eval(&mut t, s, &[], &[]), err(&format!("ERR user_script:1: Attempt to modify a readonly table script: {}, on @user_script:1.", sha(s))));
    let s = "redis.call('nosuch')";
    assert_eq!(eval(&mut t, s, &[], &[]), err(&format!("ERR Unknown Redis command called from script script: {}, on @user_script:1.", sha(s))));
    let s = "\nerror('boom')";
    assert_eq!(eval(&mut t, s, &[], &[]), err(&format!("ERR user_script:2: boom script: {}, on @user_script:2.", sha(s))));
    t.run(&["SET", "s", "a"]);
    assert_eq!(eval(&mut t, "return redis.pcall('incr', 's')", &[], &[]), err("ERR value is not an integer or out of range"));
    assert_eq!(eval(&mut t, "return 'x", &[], &[]), err("ERR Error compiling script (new function): user_script:1: unfinished string near '<eof>'"));
    assert_eq!(t.run(&["EVAL", "return 1", "2", "a"]), err("ERR Number of keys can't be greater than number of args"));
    assert_eq!(t.run(&["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]), err("NOSCRIPT No matching script. Please use EVAL."));
    assert_eq!(
        t.run(&["EVAL_RO", "return redis.call('set', 'x', 1)", "0"]),
        err(&format!("ERR Write commands are not allowed from read-only scripts. script: {}, on @user_script:1.", sha("return redis.call('set', 'x', 1)")))
    );
    assert_eq!(
        eval(&mut t, "return redis.call('eval', 'return 1', '0')", &[], &[]),
        err(&format!("ERR This Redis command is not allowed from script script: {}, on @user_script:1.", sha("return redis.call('eval', 'return 1', '0')")))
    );
    // A failed redis.call is counted once in errorstats, the EVAL as a failed call.
    let info = t.run(&["INFO", "errorstats"]);
    assert!(matches!(&info, Reply::Verbatim(_, b) | Reply::Bulk(b) if String::from_utf8_lossy(b).contains("errorstat_ERR:count=")));
}

#[test]
fn the_lock_and_the_rate_limiter_work() {
    let mut t = TestEngine::new();
    t.run(&["SET", "lock", "me", "NX", "PX", "30000"]);
    assert_eq!(eval(&mut t, UNLOCK, &["lock"], &["other"]), int(0));
    assert_eq!(eval(&mut t, UNLOCK, &["lock"], &["me"]), int(1));
    assert_eq!(t.run(&["EXISTS", "lock"]), int(0));
    let sha = match t.run(&["SCRIPT", "LOAD", RATE_LIMIT]) {
        Reply::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        r => panic!("{:?}", r),
    };
    let mut allowed = 0;
    for i in 0..20 {
        let now = (1000 + i).to_string();
        if t.run(&["EVALSHA", &sha, "1", "rl", &now, "1000", "5", &format!("req{}", i)]) == int(1) {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
    // A window later, requests are allowed again.
    assert_eq!(t.run(&["EVALSHA", &sha, "1", "rl", "2100", "1000", "5", "late"]), int(1));
}

#[test]
fn the_script_cache_and_flush() {
    let mut t = TestEngine::new();
    let sha = crate::script::sha1hex(b"return 2");
    assert_eq!(t.run(&["SCRIPT", "EXISTS", &sha]), Reply::Array(vec![int(0)]));
    assert_eq!(eval(&mut t, "return 2", &[], &[]), int(2));
    assert_eq!(t.run(&["SCRIPT", "EXISTS", &sha.to_uppercase(), "nope"]), Reply::Array(vec![int(1), int(0)]));
    assert_eq!(t.run(&["EVALSHA", &sha, "0"]), int(2));
    assert_eq!(t.run(&["SCRIPT", "FLUSH"]), ok());
    assert_eq!(t.run(&["EVALSHA", &sha, "0"]), err("NOSCRIPT No matching script. Please use EVAL."));
    assert_eq!(t.run(&["SCRIPT", "KILL"]), err("NOTBUSY No scripts in execution right now."));
}

#[test]
fn scripts_are_sandboxed() {
    let mut t = TestEngine::new();
    for s in
        ["string.foo = 1", "redis.call = nil", "setmetatable(_G, {})", "rawset(_G, 'x', 1)", "local g = getmetatable(_G) g.__index = {}", "cjson.encode = 1"]
    {
        let r = eval(&mut t, s, &[], &[]);
        assert!(matches!(&r, Reply::Error(e) if e.contains("Attempt to modify a readonly table")), "{}: {:?}", s, r);
    }
    for s in ["print('x')", "os.exit()", "io.write('x')", "return debug.getinfo(1)", "loadfile('x')", "dofile('x')"] {
        let r = eval(&mut t, s, &[], &[]);
        assert!(matches!(&r, Reply::Error(e) if e.contains("Script attempted to access nonexistent global variable")), "{}: {:?}", s, r);
    }
    assert_eq!(eval(&mut t, "return loadstring(string.dump(function() return 1 end))", &[], &[]), Reply::Nil);
    // Nothing a script does to its environment survives it.
    assert_eq!(eval(&mut t, "return rawget(string, 'foo')", &[], &[]), Reply::Nil);
    assert_eq!(eval(&mut t, "local n = 0 for k in pairs(redis) do n = n + 1 end return n > 10", &[], &[]), int(1));
}

#[test]
fn libraries_are_there() {
    let mut t = TestEngine::new();
    assert_eq!(eval(&mut t, "return bit.band(7, 3)", &[], &[]), int(3));
    assert_eq!(eval(&mut t, "return struct.unpack('>I2', '\\0\\5')", &[], &[]), int(5));
    assert_eq!(eval(&mut t, "return cmsgpack.unpack(cmsgpack.pack({1,2}))[2]", &[], &[]), int(2));
    assert_eq!(eval(&mut t, "return redis.sha1hex('')", &[], &[]), bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
    // Redis's math.random: redisLrand48 from its fixed seed, so the first value is known.
    assert_eq!(eval(&mut t, "math.randomseed(1) return math.random(1000)", &[], &[]), eval(&mut t, "math.randomseed(1) return math.random(1000)", &[], &[]));
}

#[test]
fn functions_load_list_call_and_delete() {
    let mut t = TestEngine::new();
    let lib = "#!lua name=mylib\nredis.register_function('echo', function(keys, args) return {keys[1], args[1]} end)\nredis.register_function{function_name='get', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";
    assert_eq!(t.run(&["FUNCTION", "LOAD", lib]), bulk("mylib"));
    assert_eq!(t.run(&["FCALL", "echo", "1", "k", "a"]), arr(&["k", "a"]));
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["FCALL_RO", "get", "1", "k"]), bulk("v"));
    assert_eq!(t.run(&["FCALL_RO", "echo", "0"]), err("ERR Can not execute a script with write flag using *_ro command."));
    assert_eq!(t.run(&["FUNCTION", "LOAD", lib]), err("ERR Library 'mylib' already exists"));
    assert_eq!(t.run(&["FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('echo', function() end)"]), err("ERR Function echo already exists"));
    assert_eq!(
        t.run(&["FUNCTION", "LOAD", "#!lua name=x\nredis.call('ping')"]),
        err("ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'")
    );
    let dump = t.run(&["FUNCTION", "DUMP"]);
    assert_eq!(t.run(&["FUNCTION", "DELETE", "mylib"]), ok());
    assert_eq!(t.run(&["FCALL", "echo", "0"]), err("ERR Function not found"));
    let Reply::Bulk(payload) = dump else { panic!() };
    assert_eq!(t.run_bytes(vec!["FUNCTION".into(), "RESTORE".into(), payload.clone()]), ok());
    assert_eq!(t.run(&["FCALL", "echo", "1", "k", "a"]), arr(&["k", "a"]));
    assert_eq!(t.run_bytes(vec!["FUNCTION".into(), "RESTORE".into(), payload]), err("ERR Library mylib already exists"));
    // Functions survive an RDB round trip.
    let rdb = t.engine.rdb_snapshot();
    t.run(&["FUNCTION", "FLUSH"]);
    t.engine.rdb_load(&rdb).unwrap();
    assert_eq!(t.run(&["FCALL", "echo", "1", "k", "a"]), arr(&["k", "a"]));
}

#[test]
fn strings_churned_by_many_scripts_stay_valid() {
    // rilua does not revive an interned string found again mid-sweep; the engine only
    // collects in whole cycles. 200k strings built and dropped in one script, then many
    // short scripts, must all see valid strings.
    let mut t = TestEngine::new();
    let s = "local a = '' for i = 1, 200000 do local b = string.rep('ab', i % 50) .. tostring(i % 1000) a = string.sub(b, 1, 5) .. 'y' end return a";
    assert_eq!(eval(&mut t, s, &[], &[]), bulk("0y"));
    for i in 0..2000 {
        let r = eval(&mut t, "return ARGV[1] .. string.rep('x', 3)", &[], &[&i.to_string()]);
        assert_eq!(r, bulk(&format!("{}xxx", i)));
    }
}

mod kill {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use crate::testing::test;
    use std::sync::atomic::{AtomicI64, Ordering};

    static CLOCK: AtomicI64 = AtomicI64::new(0);

    /// A clock that moves 10 ms every time it is read.
    fn clock() -> i64 {
        CLOCK.fetch_add(10_000, Ordering::SeqCst)
    }

    #[test]
    fn a_timed_out_script_stops_when_the_host_says_so_even_under_pcall() {
        let mut t = TestEngine::new();
        t.engine.set_clock(clock);
        t.run(&["CONFIG", "SET", "busy-reply-threshold", "50"]);
        t.engine.set_script_watch(Box::new(|s| matches!(s, crate::script::watch::ScriptState::Busy { .. })));
        let r = eval(&mut t, "local f = function() while true do end end while true do pcall(f) end", &[], &[]);
        assert!(matches!(&r, Reply::Error(e) if e.starts_with("ERR Script killed by user with SCRIPT KILL...")), "{:?}", r);
        let r = eval(&mut t, "local n = 0 for i = 1, 600000000 do n = n + 1 end return n", &[], &[]);
        assert!(matches!(&r, Reply::Error(e) if e.starts_with("ERR Script killed by user with SCRIPT KILL...")), "{:?}", r);
        // The VM is usable afterwards.
        assert_eq!(eval(&mut t, "return 1", &[], &[]), int(1));
    }

    #[test]
    fn a_library_that_loops_at_load_times_out() {
        let mut t = TestEngine::new();
        t.engine.set_clock(clock);
        let r = t.run(&["FUNCTION", "LOAD", "#!lua name=lib\nlocal a = 1\nwhile 1 do a = a + 1 end"]);
        assert_eq!(r, err("ERR Error registering functions: FUNCTION LOAD timeout"));
        assert_eq!(t.run(&["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)"]), bulk("lib"));
    }

    #[test]
    fn a_loop_inside_a_coroutine_can_be_stopped_too() {
        let mut t = TestEngine::new();
        t.engine.set_clock(clock);
        t.run(&["CONFIG", "SET", "busy-reply-threshold", "50"]);
        t.engine.set_script_watch(Box::new(|s| matches!(s, crate::script::watch::ScriptState::Busy { .. })));
        for script in [
            "local co = coroutine.create(function() while true do end end) return coroutine.resume(co)",
            "return coroutine.wrap(function() while true do end end)()",
            "local co = coroutine.wrap(function() coroutine.yield(1) while true do end end) co() return co()",
        ] {
            let r = eval(&mut t, script, &[], &[]);
            let stopped = match &r {
                Reply::Error(e) => e.starts_with("ERR Script killed by user with SCRIPT KILL..."),
                // coroutine.resume catches the error: its `false` is the script's result.
                Reply::Nil => true,
                _ => false,
            };
            assert!(stopped, "{}: {:?}", script, r);
        }
        // Coroutines that finish behave as ever.
        assert_eq!(
            eval(&mut t, "local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) return {co(1), co(5)}", &[], &[]),
            Reply::Array(vec![int(2), int(10)])
        );
    }
}

#[test]
fn redis_log_reaches_the_host_at_or_above_loglevel() {
    let mut t = TestEngine::new();
    t.engine.drain_events();
    eval(&mut t, "redis.log(redis.LOG_WARNING, 'disk', 'full') redis.log(redis.LOG_DEBUG, 'noise')", &[], &[]);
    let logs: Vec<_> = t
        .engine
        .drain_events()
        .into_iter()
        .filter_map(|e| if let crate::event::Event::Log { level, message } = e { Some((level, message)) } else { None })
        .collect();
    assert_eq!(logs, vec![(3, "disk full".to_string())]);
    t.run(&["CONFIG", "SET", "loglevel", "debug"]);
    eval(&mut t, "redis.log(redis.LOG_DEBUG, 'noise')", &[], &[]);
    assert!(t.engine.drain_events().iter().any(|e| matches!(e, crate::event::Event::Log { level: 0, .. })));
}

#[test]
fn a_recursive_table_is_returned_nested_until_the_stack_limit() {
    let mut t = TestEngine::new();
    let mut r = eval(&mut t, "local a = {}; local b = {a}; a[1] = b; return a", &[], &[]);
    let mut depth = 0;
    while let Reply::Array(mut v) = r {
        assert_eq!(v.len(), 1);
        r = v.pop().unwrap();
        depth += 1;
    }
    assert_eq!(r, err("ERR reached lua stack limit"));
    assert_eq!(depth, 1000);
    assert_eq!(t.run(&["PING"]), Reply::Simple("PONG"));
}

#[test]
fn function_names_match_without_regard_to_case() {
    let mut t = TestEngine::new();
    t.run(&["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('test', function() return 'hello1' end)"]);
    assert_eq!(t.run(&["FCALL", "TEST", "0"]), bulk("hello1"));
    assert_eq!(t.run(&["FCALL_RO", "Test", "0"]), err("ERR Can not execute a script with write flag using *_ro command."));
    let r = t.run(&["FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('TEST', function() return 2 end)"]);
    assert_eq!(r, err("ERR Function TEST already exists"));
}

#[test]
fn scripts_get_deterministic_sort_and_no_blocking_reads() {
    let mut t = TestEngine::new();
    t.run(&["SADD", "myset", "a", "b", "c", "d", "e", "f", "g", "h", "i", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "z", "aa", "aaa", "azz"]);
    let r = eval(&mut t, "return redis.call('sort', KEYS[1], 'by', '_')", &["myset"], &[]);
    let want: Vec<&str> = "a aa aaa azz b c d e f g h i l m n o p q r s t u v z".split(' ').collect();
    assert_eq!(r, arr(&want));
    let r = eval(&mut t, "return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')", &["s"], &[]);
    assert_eq!(r, err("ERR xread command is not allowed with BLOCK option from scripts"));
    let r = eval(&mut t, "return redis.pcall('XREADGROUP','group','g','c','BLOCK',0,'STREAMS','s','>')", &["s"], &[]);
    assert_eq!(r, err("ERR XREADGROUP command is not allowed with BLOCK option from scripts"));
}

#[test]
fn oom_inside_a_script_keeps_its_code() {
    let mut t = TestEngine::new();
    t.engine.set_memory_probe(|| 1 << 30);
    t.run(&["CONFIG", "SET", "maxmemory", "1"]);
    let r = eval(&mut t, "return redis.call('set','x','y')", &[], &[]);
    assert!(matches!(&r, Reply::Error(e) if e.starts_with("OOM command not allowed when used memory > 'maxmemory'. script: ")), "{:?}", r);
}

/// A script that returns redis.pcall's error for a refused command answers that error, counted
/// once (when the command was refused), with the EVAL a failed call (tests/unit/scripting.tcl,
/// "Consistent eval error reporting").
#[test]
fn a_returned_pcall_refusal_is_counted_once() {
    let mut t = TestEngine::new();
    t.engine.set_memory_probe(|| 1 << 30);
    t.run(&["CONFIG", "SET", "maxmemory", "1"]);
    t.run(&["CONFIG", "RESETSTAT"]);
    let r = eval(&mut t, "return redis.pcall('set','x','y')", &["x"], &[]);
    assert_eq!(r, err("OOM command not allowed when used memory > 'maxmemory'."));
    let info = |t: &mut TestEngine, section: &str| match t.run(&["INFO", section]) {
        Reply::Verbatim(_, b) | Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        r => panic!("{r:?}"),
    };
    assert!(info(&mut t, "errorstats").contains("errorstat_OOM:count=1\r\n"));
    assert!(info(&mut t, "stats").contains("total_error_replies:1\r\n"));
    let cmds = info(&mut t, "commandstats");
    assert!(cmds.contains("cmdstat_eval:calls=1,") && cmds.contains("rejected_calls=0,failed_calls=1\r\n"), "{cmds}");
    assert!(cmds.contains("cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"), "{cmds}");
}

#[test]
fn library_metadata_is_read_with_redis_quoting() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["FUNCTION", "LOAD", "#!lua name=\"foo\"\nredis.register_function('foo', function() return 1 end)"]), bulk("foo"));
    let r = t.run(&["FUNCTION", "LOAD", "#!lua name=\"fo o\"\nredis.register_function('foo2', function() return 1 end)"]);
    assert_eq!(r, err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
}

/// The Lua heap stays bounded over many runs that build and drop tables of strings found
/// again each run (rilua's unbalanced accounting once let the collector drift off; see
/// `pace_collector`): 1M runs in release builds (scripts/ci/rust.sh runs it so), fewer in
/// debug ones.
#[test]
fn the_lua_heap_stays_bounded_over_many_runs() {
    const RUNS: usize = if cfg!(debug_assertions) { 20_000 } else { 1_000_000 };
    let mut t = TestEngine::new();
    let Reply::Bulk(sha) = t.run(&["SCRIPT", "LOAD", "local t = {} for i = 1, 100 do t[i] = i end t[1] = ARGV[1] .. KEYS[1] return #t"]) else { panic!() };
    let sha = String::from_utf8(sha.to_vec()).unwrap();
    let mut peak = 0u64;
    for i in 0..RUNS {
        assert_eq!(t.run(&["EVALSHA", &sha, "1", &format!("key:{:012}", i), "x"]), int(100));
        if i % 1000 == 999 {
            peak = peak.max(vm_eval_bytes(&mut t));
        }
    }
    assert!(peak < 2 << 20, "Lua heap reached {} bytes", peak);
}

fn vm_eval_bytes(t: &mut TestEngine) -> u64 {
    let Reply::Verbatim(_, text) = t.run(&["INFO", "memory"]) else { panic!() };
    let text = String::from_utf8_lossy(&text).into_owned();
    let line = text.lines().find(|l| l.starts_with("used_memory_vm_eval:")).unwrap();
    line[20..].parse().unwrap()
}

/// Inside one long script the collector keeps up too (the count hook re-paces it).
#[test]
fn one_long_script_does_not_hoard_garbage() {
    let mut t = TestEngine::new();
    let s = "local n = 0 for i = 1, 200000 do local t = {} for j = 1, 40 do t[j] = j end t[1] = tostring(i) n = n + #t end return n";
    assert_eq!(eval(&mut t, s, &[], &[]), int(8000000));
    let heap = vm_eval_bytes(&mut t);
    assert!(heap < 4 << 20, "Lua heap after the script: {} bytes", heap);
}

/// Cached scripts and libraries outlive the commands that loaded them: they keep copies of
/// the code, not slices that would hold each command's whole input buffer.
#[test]
fn scripts_keep_no_slice_of_the_input_buffer() {
    let mut t = TestEngine::new();
    let id = t.client;
    for cmd in [
        &["SCRIPT", "LOAD", "return 1"][..],
        &["EVAL", "return 2", "0"],
        &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 3 end)"],
    ] {
        let (reply, buf) = t.run_sliced(id, cmd);
        assert!(!matches!(reply, Reply::Error(_)), "{cmd:?}: {reply:?}");
        drop(reply); // a reply may quote an argument (XREADGROUP's key)
        assert!(buf.is_unique(), "{cmd:?} kept a slice of its input");
    }
    assert_eq!(t.run(&["FCALL", "f", "0"]), int(3));
}

#[test]
fn script_debug_modes_need_a_host_channel() {
    let mut t = TestEngine::new();
    assert_eq!(t.run(&["SCRIPT", "DEBUG", "NO"]), ok());
    assert!(matches!(t.run(&["SCRIPT", "DEBUG", "SYNC"]), Reply::Error(e) if e.contains("lend the Lua debugger")));
    assert!(matches!(t.run(&["SCRIPT", "DEBUG", "yes"]), Reply::Error(e) if e.contains("lend the Lua debugger")));
    assert_eq!(t.run(&["SCRIPT", "DEBUG", "maybe"]), err("ERR Use SCRIPT DEBUG YES/SYNC/NO"));
    assert_eq!(t.run(&["SCRIPT", "DEBUG"]), err("ERR wrong number of arguments for 'script|debug' command"));
}
