//! Generated Lua scripts through EVAL: the fuzzer's bytes choose, production by production,
//! a program of calls into every library a script can reach (string, table, math, unpack,
//! cjson, cmsgpack, struct, bit, coroutine, load/loadstring, metatables, redis.call/pcall)
//! with the arguments that break things: huge and negative counts, NaN and infinities,
//! 2^31 and 2^53 boundaries, deep nesting, format strings. Whatever the script does, it is
//! answered (a result or an error) with no panic, and the engine answers PING afterwards; a
//! script that loops is stopped at its first busy hook.
#![no_main]

use bytes::Bytes;
use cinnabar::reply::Reply;
use cinnabar::script::watch::ScriptState;
use cinnabar::testing::TestEngine;
use libfuzzer_sys::fuzz_target;

struct Gen<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Gen<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn pick<'s>(&mut self, options: &[&'s str]) -> &'s str {
        options[self.byte() as usize % options.len()]
    }

    fn number(&mut self) -> String {
        self.pick(&[
            "0", "1", "-1", "2", "7", "100", "1e8", "-1e8", "1e300", "-1e300", "0/0", "1/0", "-1/0", "2147483647", "-2147483648", "2147483648", "4294967296",
            "9007199254740993", "-9223372036854775808", "0.5", "3.14159", "65536", "1e15",
        ])
        .to_string()
    }

    fn string(&mut self) -> String {
        match self.byte() % 8 {
            0 => format!("{:?}", self.pick(&["", "a", "key", "%d", "%s%s%s", "%099999999d", "%-5.3f", "%q", "%c", "%x", "%5", "%"])),
            1 => format!("{:?}", self.pick(&["{\"a\":[1,2,{\"b\":null}]}", "[[[[[[]]]]]]", "\u{1b}Lua", "\\0\\1\\2", "i4i4", ">I2<i8", "!8bhi", "x"])),
            2 => format!("string.rep('ab', {})", self.number()),
            3 => format!("tostring({})", self.expr(2)),
            4 => format!("string.char({}, {})", self.byte(), self.byte()),
            _ => format!("{:?}", self.pick(&["k", "v", "list", "h", "z", "s", "0", "-1", "nan"])),
        }
    }

    fn table(&mut self, depth: u32) -> String {
        let n = self.byte() % 5;
        let items: Vec<String> = (0..n).map(|_| self.expr(depth.saturating_sub(1))).collect();
        format!("{{{}}}", items.join(", "))
    }

    fn call(&mut self, depth: u32) -> String {
        let d = depth.saturating_sub(1);
        match self.byte() % 28 {
            0 => format!("string.rep({}, {}, {})", self.string(), self.number(), self.string()),
            1 => format!("string.format({}, {}, {})", self.string(), self.expr(d), self.expr(d)),
            2 => format!("string.sub({}, {}, {})", self.string(), self.number(), self.number()),
            3 => format!("string.byte({}, {}, {})", self.string(), self.number(), self.number()),
            4 => format!("table.concat({}, {}, {}, {})", self.table(d), self.string(), self.number(), self.number()),
            5 => format!("unpack({}, {}, {})", self.table(d), self.number(), self.number()),
            6 => format!("cjson.encode({})", self.expr(d)),
            7 => format!("cjson.decode({})", self.string()),
            8 => format!("cmsgpack.pack({})", self.expr(d)),
            9 => format!("cmsgpack.unpack({})", self.string()),
            10 => format!("struct.pack({}, {}, {})", self.string(), self.expr(d), self.expr(d)),
            11 => format!("struct.unpack({}, {}, {})", self.string(), self.string(), self.number()),
            12 => format!("bit.{}({}, {})", self.pick(&["band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "tohex"]), self.number(), self.number()),
            13 => format!("redis.call({}, {}, {})", self.command(), self.string(), self.expr(d)),
            14 => format!("redis.pcall({}, {}, {}, {})", self.command(), self.string(), self.expr(d), self.expr(d)),
            15 => format!("select({}, {}, {})", self.pick(&["'#'", "1", "-1", "2147483647", "0"]), self.expr(d), self.expr(d)),
            16 => format!("math.{}({}, {})", self.pick(&["floor", "fmod", "pow", "ldexp", "random", "max", "huge and 1 or 0 and math.abs"]), self.number(), self.number()),
            17 => format!("tonumber({}, {})", self.string(), self.pick(&["10", "16", "36", "2", "1", "37"])),
            18 => format!("coroutine.wrap(function() return {} end)()", self.expr(d)),
            19 => format!("(loadstring or load)({})", self.string()),
            20 => format!("(loadstring or load)(string.dump(function() return {} end))", self.expr(d)),
            21 => format!("setmetatable({}, {{__index = function(t, k) return {} end}})", self.table(d), self.expr(d)),
            22 => "getmetatable('')".to_string(),
            23 => format!("redis.sha1hex({})", self.string()),
            24 => format!("redis.status_reply({})", self.string()),
            25 => format!("redis.error_reply({})", self.string()),
            26 => format!("string.len(string.rep('x', {}))", self.number()),
            _ => format!("table.insert({}, {}, {})", self.table(d), self.number(), self.expr(d)),
        }
    }

    fn command(&mut self) -> String {
        format!("{:?}", self.pick(&["SET", "GET", "INCR", "LPUSH", "LRANGE", "HSET", "HGETALL", "ZADD", "ZRANGE", "SADD", "SMEMBERS", "DEL", "EXPIRE", "EVAL", "PING", "XADD", "SRANDMEMBER", "OBJECT", "TYPE", "nosuch"]))
    }

    fn expr(&mut self, depth: u32) -> String {
        if depth == 0 {
            return if self.byte() % 2 == 0 { self.number() } else { self.string() };
        }
        match self.byte() % 8 {
            0 => self.number(),
            1 => self.string(),
            2 => self.table(depth),
            3 => format!("({} .. {})", self.string(), self.string()),
            4 => format!("({} + {})", self.number(), self.number()),
            5 => format!("#{}", self.table(depth)),
            _ => self.call(depth),
        }
    }

    fn statement(&mut self, depth: u32) -> String {
        match self.byte() % 7 {
            0 => format!("local v{} = {}", self.byte() % 4, self.expr(depth)),
            1 => format!("pcall(function() return {} end)", self.expr(depth)),
            2 => format!("for i = 1, {} do {} end", self.byte() % 20, self.statement(depth.saturating_sub(1))),
            3 => format!("if {} then {} end", self.expr(1), self.statement(depth.saturating_sub(1))),
            4 => format!("t = {}", self.expr(depth)),
            5 => format!("redis.pcall({}, {}, {})", self.command(), self.string(), self.number()),
            _ => format!("return {}", self.expr(depth)),
        }
    }
}

fn monotonic_us() -> i64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_micros() as i64
}

fuzz_target!(|data: &[u8]| {
    let mut g = Gen { data, pos: 0 };
    let n = 1 + g.byte() % 6;
    let body: Vec<String> = (0..n).map(|_| g.statement(4)).collect();
    // Every statement in its own pcall, so one error does not end the script early.
    let script: String = body.iter().map(|s| format!("pcall(function() {} end)\n", s)).collect::<String>() + &format!("return {}", g.expr(3));
    let mut t = TestEngine::new();
    t.run(&["CONFIG", "SET", "busy-reply-threshold", "50"]);
    t.engine.set_script_watch(Box::new(|s| matches!(s, ScriptState::Busy { .. })));
    // The busy hook measures time with the host's clock: give it one.
    t.engine.set_clock(monotonic_us);
    let r = t.run_bytes(vec![Bytes::from_static(b"EVAL"), Bytes::from(script), Bytes::from_static(b"0")]);
    assert!(!matches!(r, Reply::Blocked), "EVAL blocked");
    assert_eq!(t.run(&["PING"]), Reply::Simple("PONG"));
    // The next script, of any user, runs in a clean environment.
    assert_eq!(t.run(&["EVAL", "return tostring(getmetatable('').__index == string)", "0"]), Reply::Bulk(Bytes::from_static(b"true")));
});
