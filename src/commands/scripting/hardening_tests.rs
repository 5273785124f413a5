//! The Lua sandbox's limits (issue 27): scripts that used to take the process down or
//! reach another script's environment answer an error, and the engine goes on. Texts are
//! redis-server 7.0.15's unless a comment says why not. These run on the test harness's
//! 2 MiB threads, in debug and in release builds, which is what the stack limits are
//! sized for (see `script/lua/guard/`).

use crate::reply::Reply;
use crate::script::lua::C_CALLS;
#[cfg(target_arch = "wasm32")]
use crate::testing::test;
use crate::testing::*;

fn eval(t: &mut TestEngine, script: &str) -> Reply {
    t.run(&["EVAL", script, "0"])
}

fn eval_bytes(t: &mut TestEngine, script: &[u8]) -> Reply {
    t.run_bytes(vec!["EVAL".into(), bytes::Bytes::copy_from_slice(script), "0".into()])
}

fn sha(s: &str) -> String {
    crate::script::sha1hex(s.as_bytes())
}

/// Redis's error for a script that failed at line 1.
fn at_line_1(s: &str, msg: &str) -> Reply {
    err(&format!("ERR user_script:1: {} script: {}, on @user_script:1.", msg, sha(s)))
}

/// A library loaded by every test, to check FCALL after each attack.
const LIB: &str = "#!lua name=healthy\nredis.register_function('ping_lua', function(keys, args) return 'pong' end)";

/// After whatever just happened, the engine, EVAL and FCALL all work.
fn still_works(t: &mut TestEngine) {
    assert_eq!(t.run(&["PING"]), Reply::Simple("PONG"));
    assert_eq!(eval(t, "return ('ok'):upper() .. #KEYS"), bulk("OK0"));
    assert_eq!(
        t.run(&["EVAL", "return redis.call('incr', KEYS[1])", "1", "health"]),
        t.run(&["EVAL", "return tonumber(redis.call('get', KEYS[1])) + 0", "1", "health"])
    );
    if t.run(&["FCALL", "ping_lua", "0"]) == err("ERR Function not found") {
        assert_eq!(t.run(&["FUNCTION", "LOAD", LIB]), bulk("healthy"));
    }
    assert_eq!(t.run(&["FCALL", "ping_lua", "0"]), bulk("pong"));
}

// ---------------------------------------------------------------------------------------
// 1. Native stack
// ---------------------------------------------------------------------------------------

#[test]
fn nested_coroutines_stop_at_the_c_stack_limit() {
    let mut t = TestEngine::new();
    still_works(&mut t);
    // Each wrap level puts its position before the message, as auxwrap does: Redis's
    // reply has 200 of them, one per level of its LUAI_MAXCCALLS (ours in release builds).
    let s = "local function f() return coroutine.wrap(f)() end return f()";
    let Reply::Error(e) = eval(&mut t, s) else { panic!() };
    let tail = format!("C stack overflow script: {}, on @user_script:1.", sha(s));
    assert!(e.starts_with("ERR user_script:1: ") && e.ends_with(&tail), "{e}");
    // (Debug builds give coroutines one level less, see guard/.)
    let levels = e.matches("user_script:1: ").count();
    assert_eq!(levels, usize::from(if cfg!(debug_assertions) { C_CALLS - 1 } else { C_CALLS }), "{e}");
    still_works(&mut t);
    // coroutine.resume answers false and the message (200 levels deep in Redis).
    let s = "local n = 0 local function f() n = n + 1 local ok, e = coroutine.resume(coroutine.create(f)) if not ok then return e .. ' ' .. n end return e end return f()";
    assert_eq!(eval(&mut t, s), bulk(&format!("C stack overflow {}", if cfg!(debug_assertions) { C_CALLS - 1 } else { C_CALLS })));
    still_works(&mut t);
}

#[test]
fn nested_native_calls_stop_at_the_c_stack_limit() {
    let mut t = TestEngine::new();
    // pcall(f) inside f: the innermost pcall answers false (Redis: 199 levels).
    assert_eq!(eval(&mut t, "local n = 0 local function f() n = n + 1 return pcall(f) end f() return n"), int(i64::from(C_CALLS) - 1));
    assert_eq!(eval(&mut t, "local function f() return pcall(f) end return f()"), int(1));
    // Redis says "C stack overflow" here: rilua's message for its native call limit.
    let s = "local t = setmetatable({}, {}) getmetatable(t).__index = function(t,k) return t[k] end return t.x";
    assert_eq!(eval(&mut t, s), at_line_1(s, "stack overflow"));
    still_works(&mut t);
}

/// Every way a script can nest native calls, mixed, reaches the limit without exhausting
/// the native stack (each mechanism spends a different amount of it per level).
#[test]
fn every_kind_of_nesting_is_bounded() {
    let mut t = TestEngine::new();
    let script = r#"
local mech, n = ARGV[1], 0
local function nest(k) return 'return ' .. string.rep('(', k) .. '1' .. string.rep(')', k) end
local f
f = function(...)
  n = n + 1
  local i = n % #mech + 1
  local m = mech:sub(i, i)
  if m == 'p' then return pcall(f)
  elseif m == 'x' then return xpcall(f, function(e) return e end)
  elseif m == 'c' then return coroutine.wrap(f)()
  elseif m == 'r' then return coroutine.resume(coroutine.create(f))
  elseif m == 'g' then return string.gsub('a', 'a', f)
  elseif m == 'G' then return string.gsub('a', 'a', setmetatable({}, {__index = function() return f() end}))
  elseif m == 's' then local once table.sort({3, 1, 2}, function(a, b) if not once then once = true f() end return a < b end)
  elseif m == 't' then return tostring(setmetatable({}, {__tostring = f}))
  elseif m == 'i' then return setmetatable({}, {__index = f}).x
  elseif m == 'a' then return setmetatable({}, {__add = f}) + 1
  elseif m == 'l' then return load(function() f() return nil end)
  elseif m == 'f' then local once for _ in function() if not once then once = true return f() end end do end
  elseif m == 'q' then
    -- The deepest chunk that compiles at this depth (the budget shrinks with it).
    for k = 200, 1, -1 do
      local g = loadstring(nest(k))
      if g then break end
    end
    return pcall(f)
  end
end
local ok, e = pcall(f)
return {n, tostring(e)}
"#;
    for mech in ["p", "x", "c", "r", "g", "G", "s", "t", "i", "a", "l", "f", "q", "pcrgsq", "qcxq", "rq", "gcsta", "cqcq", "ilfq"] {
        let r = t.run(&["EVAL", script, "0", mech]);
        let Reply::Array(v) = &r else { panic!("{mech}: {r:?}") };
        assert!(matches!(v[0], Reply::Int(n) if n >= 2), "{mech}: {r:?}");
        assert_eq!(t.run(&["PING"]), Reply::Simple("PONG"));
    }
    still_works(&mut t);
}

#[test]
fn deep_chunks_fail_to_compile() {
    let mut t = TestEngine::new();
    // Redis compiles these chains in a loop: it answers the missing global 'a' and
    // 30001. rilua's parser builds a tree as deep as the chain, so past the syntax budget
    // the chain is refused as too deep a nesting would be.
    let too_deep = err("ERR Error compiling script (new function): user_script:1: chunk has too many syntax levels");
    assert_eq!(eval(&mut t, &format!("return a{}", ".a".repeat(30000))), too_deep);
    assert_eq!(eval(&mut t, &format!("return 1{}", "+1".repeat(30000))), too_deep);
    assert_eq!(eval(&mut t, &format!("return f{}", "()".repeat(30000))), too_deep);
    // As in Redis: brackets nested past the limit.
    assert_eq!(eval(&mut t, &format!("return {}1{}", "(".repeat(300), ")".repeat(300))), too_deep);
    assert_eq!(eval(&mut t, &format!("return {}{}", "{".repeat(300), "}".repeat(300))), too_deep);
    assert_eq!(eval(&mut t, &format!("return 'a'{}", "..'a'".repeat(300))), too_deep);
    // Within the budget everything compiles (on a 2 MiB stack, in debug builds too).
    assert_eq!(eval(&mut t, &format!("return {}1{}", "(".repeat(40), ")".repeat(40))), int(1));
    assert_eq!(eval(&mut t, &format!("local a = {{}} a.a = a return #(a{})", ".a".repeat(40))), int(0));
    // The same through loadstring, whose chunk name is its source.
    let r = eval(&mut t, "local f, e = loadstring('return a' .. string.rep('.a', 30000)) return e");
    assert_eq!(r, bulk("[string \"return a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a....\"]:1: chunk has too many syntax levels"));
    // A library too.
    let r = t.run(&["FUNCTION", "LOAD", &format!("#!lua name=deep\nreturn a{}", ".a".repeat(30000))]);
    assert_eq!(r, err("ERR Error compiling function: user_function:2: chunk has too many syntax levels"));
    // C Lua's luaL_loadbuffer reads a leading '#' line as code.
    assert_eq!(eval(&mut t, "#comment\nreturn 1"), err("ERR Error compiling script (new function): user_script:1: unexpected symbol near '#'"));
    still_works(&mut t);
}

// ---------------------------------------------------------------------------------------
// 2. Memory
// ---------------------------------------------------------------------------------------

#[test]
fn results_too_large_to_push_are_refused() {
    let mut t = TestEngine::new();
    let s = "return unpack({}, -2147483648, 2147483647)";
    assert_eq!(eval(&mut t, s), at_line_1(s, "too many results to unpack"));
    let s = "return unpack({}, 1, 1e8)";
    assert_eq!(eval(&mut t, s), at_line_1(s, "too many results to unpack"));
    // luaL_checkint: 1e300 is 0, 2^31 is -2^31.
    assert_eq!(eval(&mut t, "return unpack({}, 1, 1e300)"), Reply::Nil);
    assert_eq!(eval(&mut t, "return select('#', unpack({}, 1, 2^31))"), int(0));
    assert_eq!(eval(&mut t, "return select('#', unpack({}, 2^31-5, 2^31-1))"), int(5));
    assert_eq!(eval(&mut t, "return select('#', unpack({}, 1, 7997))"), int(7997));
    let s = "return select('#', unpack({}, 1, 7998))";
    assert_eq!(eval(&mut t, s), at_line_1(s, "too many results to unpack"));
    assert_eq!(eval(&mut t, "return unpack({1,2,3}, '2', '3')"), int(2));
    let s = "return {string.byte(string.rep('x', 10000), 1, -1)}";
    assert_eq!(eval(&mut t, s), at_line_1(s, "stack overflow (string slice too long)"));
    assert_eq!(eval(&mut t, "return {string.byte('abc', 1e300, 2)}"), Reply::Array(vec![int(97), int(98)]));
    still_works(&mut t);
}

#[test]
fn formats_are_checked_as_c_lua_checks_them() {
    let mut t = TestEngine::new();
    for (s, msg) in [
        ("return string.format('%099999999d', 1)", "invalid format (width or precision too long)"),
        ("return string.format('%100d', 1)", "invalid format (width or precision too long)"),
        ("return string.format('%.100f', 1)", "invalid format (width or precision too long)"),
        ("return string.format('%-+ #0-d', 1)", "invalid format (repeated flags)"),
    ] {
        assert_eq!(eval(&mut t, s), at_line_1(s, msg));
    }
    assert_eq!(eval(&mut t, "return #string.format('%099.99f', 1e308)"), int(409));
    assert_eq!(eval(&mut t, "return string.format('%5.2s|', 'abc')"), bulk("   ab|"));
    still_works(&mut t);
}

#[test]
fn huge_strings_are_refused_before_they_are_built() {
    let mut t = TestEngine::new();
    // luaL_checkint as in Redis.
    assert_eq!(eval(&mut t, "return #string.rep('x', 1e300)"), int(0));
    assert_eq!(eval(&mut t, "return #string.rep('x', 2^31)"), int(0));
    assert_eq!(eval(&mut t, "return #string.rep('x', 2^32+5)"), int(5));
    assert_eq!(eval(&mut t, "return #string.rep('', 2^31-1)"), int(0));
    // Redis would try to allocate these (2 GiB, 10 GB) and die or go on; past the heap
    // limit they fail as a failed allocation does in C Lua, without a handler.
    let nomem = |s: &str| err(&format!("ERR Error running script {}, not enough memory ", sha(s)));
    for s in [
        "return #string.rep('x', 2^31-1)",
        "return #string.rep(string.rep('x', 1000), 10000000)",
        "local s = string.rep('x', 1000000) local t = {} for i = 1, 1000 do t[i] = s end return #table.concat(t, s)",
        "return #string.gsub(string.rep('x', 100000), '', string.rep('y', 100000))",
        "return #string.gsub(string.rep('x', 100000), '(x)', string.rep('%1', 100000))",
        "return #string.format(string.rep('%s', 200), unpack((function() local t, s = {}, string.rep('x', 10000000) for i = 1, 200 do t[i] = s end return t end)()))",
    ] {
        assert_eq!(eval(&mut t, s), nomem(s), "{s}");
    }
    // A script may catch it, as in C Lua.
    assert_eq!(eval(&mut t, "local ok, e = pcall(string.rep, 'x', 2^31-1) return {tostring(ok), e}"), arr(&["false", "not enough memory"]));
    still_works(&mut t);
}

#[test]
fn the_heap_limit_stops_a_growing_script() {
    crate::script::lua::set_test_heap_limit(Some(8 << 20));
    let mut t = TestEngine::new();
    let nomem = |s: &str| err(&format!("ERR Error running script {}, not enough memory ", sha(s)));
    for s in [
        "local t = {} for i = 1, 1e8 do t[i] = i end",
        "local s = 'x' for i = 1, 40 do s = s .. s end return #s",
        "local t = {} for i = 1, 1e8 do t[i] = tostring(i) .. 'abc' end",
        "local n = 0 return #string.gsub(string.rep('x', 10000), 'x', function() n = n + 1 return string.rep('y', 10000) .. n end)",
        "local f = load(function() return string.rep('x', 1000) end)",
    ] {
        let r = eval(&mut t, s);
        if s.starts_with("local f = load") {
            // load gives nil and the message.
            assert_eq!(r, Reply::Nil, "{s}");
        } else {
            assert_eq!(r, nomem(s), "{s}");
        }
        still_works(&mut t);
    }
    // Garbage does not count: a script that churns far more than the limit runs.
    let s = "local n = 0 for i = 1, 100 do local t = {} for j = 1, 1000 do t[j] = string.rep('z', 100) .. j end n = n + #t end return n";
    assert_eq!(eval(&mut t, s), int(100_000));
    crate::script::lua::set_test_heap_limit(None);
}

/// gsub's function and table replacements go through a counter (for the heap's room); what
/// they give still reads as in C Lua.
#[test]
fn gsub_replacements_read_as_in_c_lua() {
    let mut t = TestEngine::new();
    for (s, kind) in [
        ("return string.gsub('abc', '.', {a = {}})", "table"),
        ("return string.gsub('abc', '.', function() return {} end)", "table"),
        ("return string.gsub('abc', '%w', {a = 1, b = true})", "boolean"),
    ] {
        assert_eq!(eval(&mut t, s), at_line_1(s, &format!("invalid replacement value (a {kind})")));
    }
    assert_eq!(eval(&mut t, "local ok, e = pcall(string.gsub, 'abc', '.', function() return {} end) return e"), bulk("invalid replacement value (a table)"));
    assert_eq!(eval(&mut t, "return {string.gsub('abc', '%w', {a = 1, b = false})}"), Reply::Array(vec![bulk("1bc"), int(3)]));
    assert_eq!(eval(&mut t, "return string.gsub('hello world', '(%w+)', function(w) return w:upper() end)"), bulk("HELLO WORLD"));
    assert_eq!(eval(&mut t, "return string.gsub('$x $y', '%$(%w+)', setmetatable({}, {__index = function(_, k) return k .. k end}))"), bulk("xx yy"));
    assert_eq!(eval(&mut t, "return string.gsub('abc', '()', {[1] = 'one', [4] = 'four'})"), bulk("oneabcfour"));
    still_works(&mut t);
}

#[test]
fn table_positions_are_c_ints() {
    let mut t = TestEngine::new();
    assert_eq!(eval(&mut t, "return table.concat({1,2,3}, ',', 1, 1e300)"), bulk(""));
    let s = "return table.concat({1,{},3})";
    assert_eq!(eval(&mut t, s), at_line_1(s, "invalid value (table) at index 2 in table for 'concat'"));
    let s = "return table.concat({1,2,3}, ',', -1e300, 2)";
    assert_eq!(eval(&mut t, s), at_line_1(s, "invalid value (nil) at index 0 in table for 'concat'"));
    // Far-off positions finish at once (1e18 was a loop of as many steps).
    assert_eq!(eval(&mut t, "local t = {1,2,3} table.insert(t, -1e18, 'x') return #t"), int(3));
    let s = "local t = {1,2,3} table.insert(t, -1e18, 'x') local o = {} for k, v in pairs(t) do o[#o+1] = k .. '=' .. v end table.sort(o) return o";
    assert_eq!(eval(&mut t, s), arr(&["1486618624=x", "1=1", "2=2", "3=3"]));
    assert_eq!(eval(&mut t, "local t = {1,2,3} return {table.remove(t, -1e18), #t}"), Reply::Array(vec![]));
    let s = "local t = {1,2,3} table.insert(t, -2, 'x') local o = {} for k, v in pairs(t) do o[#o+1] = k .. '=' .. v end table.sort(o) return o";
    assert_eq!(eval(&mut t, s), arr(&["-2=x", "2=1", "3=2", "4=3"]));
    let s = "local t = {1,2,3} table.insert(t, -2^31, 'x') local o = {} for k, v in pairs(t) do o[#o+1] = k .. '=' .. v end table.sort(o) return o";
    assert_eq!(eval(&mut t, s), arr(&["-2147483648=x", "2=1", "3=2", "4=3"]));
    assert_eq!(eval(&mut t, "local t = {1,2,3} table.insert(t, 0, 'x') return {t[0], t[1], t[2], t[3], t[4]}"), arr(&["x"]));
    assert_eq!(eval(&mut t, "local t = {1,2,3} table.insert(t, 2^31, 'x') return t[-2^31]"), bulk("x"));
    still_works(&mut t);
}

// ---------------------------------------------------------------------------------------
// 3. Binary chunks
// ---------------------------------------------------------------------------------------

#[test]
fn binary_chunks_are_refused_by_every_loader() {
    let mut t = TestEngine::new();
    let r = eval(&mut t, "local f, e = loadstring(string.dump(function() return 1 end)) return e");
    assert_eq!(r, Reply::Bulk(bytes::Bytes::from_static(b"[string \"\x1bLuaQ\"]:1: unexpected symbol near 'char(27)'")));
    assert_eq!(eval(&mut t, "return loadstring(string.dump(function() return 1 end))"), Reply::Nil);
    // tests/unit/scripting.tcl "Binary code loading failed".
    let s = "return loadstring(string.dump(function() return 1 end))()";
    assert_eq!(eval(&mut t, s), at_line_1(s, "attempt to call a nil value"));
    let r = eval(&mut t, "local s = string.dump(function() return 1 end) local d = false local f, e = load(function() if d then return nil end d = true return s end, '=x') return e");
    assert_eq!(r, bulk("x:1: unexpected symbol near 'char(27)'"));
    // A dump as an EVAL body or a library's code.
    let Reply::Bulk(dump) = eval(&mut t, "return string.dump(function() return redis.call('ping') end)") else { panic!() };
    assert_eq!(eval_bytes(&mut t, &dump), err("ERR Error compiling script (new function): user_script:1: unexpected symbol near 'char(27)'"));
    let mut code = b"#!lua name=bin\n".to_vec();
    code.extend_from_slice(&dump);
    let r = t.run_bytes(vec!["FUNCTION".into(), "LOAD".into(), code.into()]);
    assert_eq!(r, err("ERR Error compiling function: user_function:2: unexpected symbol near 'char(27)'"));
    // Mutated dumps never get further than the lexer either.
    for i in 0..dump.len() {
        let mut d = dump.to_vec();
        d[i] = d[i].wrapping_add(1 + i as u8);
        let r = t.run_bytes(vec!["EVAL".into(), "local f, e = loadstring(ARGV[1]) return type(f)".into(), "0".into(), d.into()]);
        assert!(r == bulk("nil") || r == bulk("function"), "{r:?}");
    }
    still_works(&mut t);
}

// ---------------------------------------------------------------------------------------
// 4. Shared state
// ---------------------------------------------------------------------------------------

#[test]
fn the_string_metatable_is_read_only() {
    let mut t = TestEngine::new();
    let s = "getmetatable('').__index = function() return 1 end";
    assert_eq!(eval(&mut t, s), at_line_1(s, "Attempt to modify a readonly table"));
    for s in ["rawset(getmetatable(''), '__index', {})", "setmetatable(getmetatable(''), {})"] {
        assert_eq!(eval(&mut t, s), err(&format!("ERR Attempt to modify a readonly table script: {}, on @user_script:1.", sha(s))));
    }
    for s in [
        "getmetatable('').__index.upper = nil",
        "string.upper = nil",
        "coroutine.wrap = nil",
        "table.insert = nil",
        "math.x = 1",
        "bit.band = nil",
        "struct.x = 1",
        "getmetatable(_G).__index = {}",
    ] {
        assert_eq!(eval(&mut t, s), at_line_1(s, "Attempt to modify a readonly table"), "{s}");
    }
    // Another client's script sees the strings' methods untouched.
    let other = t.connect();
    let r = t.run_as(other, &["EVAL", "return {('abc'):upper(), ('%d'):format(7), type(getmetatable('').__index)}", "0"]);
    assert_eq!(r, arr(&["ABC", "7", "table"]));
    // The same in the FUNCTION VM.
    let lib = "#!lua name=mt\nredis.register_function('poke', function() getmetatable('').__index = {} end)\nredis.register_function('up', function() return ('x'):upper() end)";
    assert_eq!(t.run(&["FUNCTION", "LOAD", lib]), bulk("mt"));
    let Reply::Error(e) = t.run(&["FCALL", "poke", "0"]) else { panic!() };
    assert!(e.starts_with("ERR user_function:2: Attempt to modify a readonly table"), "{e}");
    assert_eq!(t.run(&["FCALL", "up", "0"]), bulk("X"));
    still_works(&mut t);
}

#[test]
fn nothing_a_script_sets_reaches_the_next_one() {
    let mut t = TestEngine::new();
    // Redis keeps cjson's settings for every later script (its own test suite puts them
    // back by hand); here each run starts from the defaults.
    assert_eq!(eval(&mut t, "cjson.encode_max_depth(1) cjson.encode_number_precision(1) return cjson.encode({1/3})"), bulk("[0.3]"));
    assert_eq!(eval(&mut t, "return cjson.encode({{{1/3}}})"), bulk("[[[0.33333333333333]]]"));
    let s = "x = 1";
    assert_eq!(eval(&mut t, s), at_line_1(s, "Attempt to modify a readonly table"));
    let s = "return x";
    assert_eq!(eval(&mut t, s), at_line_1(s, "Script attempted to access nonexistent global variable 'x'"));
    assert_eq!(eval(&mut t, "return rawget(string, 'foo') == nil and rawget(_G, 'x') == nil"), int(1));
    still_works(&mut t);
}

// ---------------------------------------------------------------------------------------
// 5. Panics (native only: wasm builds abort on a panic, and the host handles that)
// ---------------------------------------------------------------------------------------

#[cfg(not(target_arch = "wasm32"))]
mod panics {
    use super::*;
    use crate::script::lua::ENGINE_FAILED;

    fn logged(t: &mut TestEngine) -> Vec<String> {
        t.engine.drain_events().into_iter().filter_map(|e| if let crate::event::Event::Log { message, .. } = e { Some(message) } else { None }).collect()
    }

    fn failed(s: &str) -> Reply {
        err(&format!("ERR Error running script {}, {} ", sha(s), ENGINE_FAILED))
    }

    #[test]
    fn a_panic_fails_its_eval_only_and_keeps_its_writes() {
        let mut t = TestEngine::new();
        still_works(&mut t);
        let Reply::Bulk(cached) = t.run(&["SCRIPT", "LOAD", "return 'cached ' .. ARGV[1]"]) else { panic!() };
        let cached = String::from_utf8(cached.to_vec()).unwrap();
        logged(&mut t);
        for s in [
            "redis.call('set', 'written', 'before') __panic__('boom')",
            "redis.call('incr', 'n') return pcall(__panic__, 'inside pcall')",
            "redis.call('incr', 'n') return coroutine.wrap(function() __panic__('in a coroutine') end)()",
            "redis.call('incr', 'n') return string.gsub('a', 'a', function() __panic__('in gsub') end)",
        ] {
            assert_eq!(eval(&mut t, s), failed(s));
            // What it wrote stays, as after a script error.
            still_works(&mut t);
            assert_eq!(t.run(&["EVALSHA", &cached, "0", "x"]), bulk("cached x"));
        }
        assert_eq!(t.run(&["GET", "written"]), bulk("before"));
        assert_eq!(t.run(&["GET", "n"]), bulk("3"));
        let lines = logged(&mut t);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[0].contains("boom"), "{lines:?}");
        // The same panic again is not logged again.
        let s = "__panic__('boom')";
        assert_eq!(eval(&mut t, s), failed(s));
        assert_eq!(logged(&mut t), Vec::<String>::new());
        still_works(&mut t);
    }

    #[test]
    fn a_panic_in_a_function_leaves_every_library_callable() {
        let mut t = TestEngine::new();
        still_works(&mut t);
        let lib = "#!lua name=risky\nlocal calls = 0\nredis.register_function('bad', function() calls = calls + 1 __panic__('bad function') end)\nredis.register_function('good', function() calls = calls + 1 return calls end)";
        assert_eq!(t.run(&["FUNCTION", "LOAD", lib]), bulk("risky"));
        assert_eq!(t.run(&["FCALL", "good", "0"]), int(1));
        let r = t.run(&["FCALL", "bad", "0"]);
        assert_eq!(r, err(&format!("ERR Error running script bad, {} ", ENGINE_FAILED)));
        // The libraries were loaded again into a new VM (their upvalues start over).
        assert_eq!(t.run(&["FCALL", "good", "0"]), int(1));
        still_works(&mut t);
        // A library whose loading panics is refused; the others stay.
        let r = t.run(&["FUNCTION", "LOAD", "#!lua name=boom\n__panic__('at load')"]);
        assert_eq!(r, err(&format!("ERR Error registering functions: {}", ENGINE_FAILED)));
        assert_eq!(t.run(&["FCALL", "good", "0"]), int(1));
        assert_eq!(t.run(&["FCALL", "bad", "0"]), err(&format!("ERR Error running script bad, {} ", ENGINE_FAILED)));
        let Reply::Array(libs) = t.run(&["FUNCTION", "LIST"]) else { panic!() };
        assert_eq!(libs.len(), 2);
        still_works(&mut t);
    }
}

// ---------------------------------------------------------------------------------------
// 6. Generated programs
// ---------------------------------------------------------------------------------------

/// Programs calling the libraries with extreme arguments: none panics (the engine answers,
/// no VM had to be thrown away) and the engine goes on.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn generated_programs_never_panic() {
    use crate::script::lua::ENGINE_FAILED;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    const FUNCS: &[&str] = &[
        "string.rep",
        "string.format",
        "string.byte",
        "string.char",
        "string.sub",
        "string.gsub",
        "string.find",
        "string.match",
        "string.len",
        "string.upper",
        "string.reverse",
        "string.dump",
        "table.concat",
        "table.insert",
        "table.remove",
        "table.sort",
        "table.getn",
        "table.maxn",
        "unpack",
        "select",
        "tostring",
        "tonumber",
        "math.floor",
        "math.fmod",
        "math.ldexp",
        "math.frexp",
        "math.pow",
        "math.random",
        "math.max",
        "math.mod",
        "cjson.encode",
        "cjson.decode",
        "cjson.encode_max_depth",
        "cjson.decode_max_depth",
        "cmsgpack.pack",
        "cmsgpack.unpack",
        "cmsgpack.unpack_one",
        "cmsgpack.unpack_limit",
        "struct.pack",
        "struct.unpack",
        "struct.size",
        "bit.band",
        "bit.tohex",
        "bit.lshift",
        "bit.bswap",
        "bit.tobit",
        "redis.call",
        "redis.pcall",
        "redis.sha1hex",
        "redis.error_reply",
        "redis.status_reply",
        "redis.setresp",
        "redis.log",
        "redis.acl_check_cmd",
        "loadstring",
        "load",
        "coroutine.wrap",
        "coroutine.resume",
        "coroutine.create",
        "pcall",
        "error",
        "setmetatable",
        "getmetatable",
        "rawget",
        "rawset",
        "rawequal",
        "next",
        "ipairs",
        "pairs",
        "collectgarbage",
        "type",
        "assert",
        "gcinfo",
        "string.gmatch",
    ];
    const ARGS: &[&str] = &[
        "0",
        "1",
        "-1",
        "2",
        "3",
        "2^31",
        "-2^31",
        "2^31-1",
        "2^32+1",
        "2^53",
        "2^63",
        "-2^63",
        "1e300",
        "-1e300",
        "0/0",
        "1/0",
        "-1/0",
        "7997",
        "8000",
        "1e8",
        "0.5",
        "-0.5",
        "255",
        "256",
        "1e15",
        "''",
        "'x'",
        "'%'",
        "'%d'",
        "'%s'",
        "'%099d'",
        "'%5.2s'",
        "'%-+ #0d'",
        "'%q'",
        "'%c'",
        "'%i%u%x%X%o%e%E%g%G%f'",
        "'\\0'",
        "'('",
        "'[%a-'",
        "'%a+'",
        "'(.-)'",
        "'%b()'",
        "'%f[%w]'",
        "'()'",
        "'%1'",
        "'^x*'",
        "'x'",
        "string.rep('x', 100)",
        "string.rep('ab', 64)",
        "'\\27Lua'",
        "string.dump(function() return 1 end)",
        "'>i4'",
        "'<!8d'",
        "'i99999999'",
        "'c0'",
        "'s'",
        "'bBhHlLT'",
        "'get'",
        "'set'",
        "'incrby'",
        "'k'",
        "'[1,[2,{\"a\":3}]]'",
        "'{\"a\":'",
        "'\\145\\1\\2'",
        "'\\220\\255\\255'",
        "{}",
        "{1,2,3}",
        "{'a','b','c'}",
        "{n = 1}",
        "{1, nil, 3}",
        "setmetatable({}, {__index = function() return 1 end})",
        "setmetatable({}, {__tostring = function() return {} end})",
        "setmetatable({}, {__lt = function() error('lt') end})",
        "setmetatable({}, {__index = function(t, k) return t[k] end})",
        "deep(10)",
        "deep(100)",
        "deep(10000)",
        "selfref()",
        "cjson.null",
        "function() end",
        "function(...) return ... end",
        "function() return string.rep('x', 1000) end",
        "function(a, b) return a > b end",
        "function() error({}) end",
        "function() coroutine.yield(1) end",
        "coroutine.create(function() end)",
        "nil",
        "true",
        "false",
        "string",
        "_G",
        "KEYS",
    ];

    fn program() -> impl Strategy<Value = String> {
        let call = (prop::sample::select(FUNCS), prop::collection::vec(prop::sample::select(ARGS), 0..5))
            .prop_map(|(f, args)| format!("r[#r + 1] = {{pcall({}{}{})}}", f, if args.is_empty() { "" } else { ", " }, args.join(", ")));
        let wrap = prop::sample::select(&["", "pcall(function() ", "coroutine.wrap(function() ", "string.gsub('ab', '.', function() "][..]);
        (prop::collection::vec((wrap, call), 1..6)).prop_map(|stmts| {
            let mut s = String::from(
                "local function deep(n) local t = {} for i = 1, n do t = {t} end return t end\n\
                 local function selfref() local t = {} t[1] = t t.x = t return t end\n\
                 local r = {}\n",
            );
            for (w, c) in stmts {
                let close = match w {
                    "" => "",
                    "pcall(function() " => " end)",
                    "coroutine.wrap(function() " => " end)()",
                    _ => " end)",
                };
                s.push_str(&format!("pcall(function() {w}{c}{close} end)\n"));
            }
            s.push_str("return #r");
            s
        })
    }

    crate::script::lua::set_test_heap_limit(Some(32 << 20));
    let mut t = TestEngine::new();
    still_works(&mut t);
    let engine = std::cell::RefCell::new(t);
    // CINNABAR_LUA_FUZZ_CASES runs a longer campaign.
    let cases = std::env::var("CINNABAR_LUA_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(if cfg!(debug_assertions) { 150 } else { 1500 });
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&program(), |prog| {
            let mut t = engine.borrow_mut();
            let r = t.run(&["EVAL", &prog, "1", "k"]);
            if let Reply::Error(e) = &r {
                prop_assert!(!e.contains(ENGINE_FAILED), "{}\n{}", prog, e);
                prop_assert!(!e.contains("internal error"), "{}\n{}", prog, e);
            }
            prop_assert_eq!(t.run(&["PING"]), Reply::Simple("PONG"));
            Ok(())
        })
        .unwrap();
    let mut t = engine.into_inner();
    still_works(&mut t);
    crate::script::lua::set_test_heap_limit(None);
}
