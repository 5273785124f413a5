//! Redis's Lua debugger (LDB, eval.c), the part that is not Lua: a debugging session's
//! state, its log, the debugger's own small RESP reader, and the commands that need no VM
//! (list, break, maxlen, help). `redis-cli --ldb` drives it: after `SCRIPT DEBUG YES|SYNC`
//! the client's next EVAL stops at the script's first line and the client talks to the
//! debugger instead of the server until the script ends.
//!
//! Redis does this with direct, blocking I/O on the client's socket from inside Lua's line
//! hook. The core does no I/O, so the host lends it a `DebugChannel` for that
//! (`Engine::set_script_debugger`): a write and a blocking read on one client's connection,
//! and, for `SCRIPT DEBUG YES`, a fork, so that the session runs in a child and its writes
//! are thrown away with it while the server goes on serving. `SYNC` blocks the server for
//! the session, as in Redis. The Lua side (the hook, print, eval, trace, redis.debug) is
//! `script::lua::ldb`.

use crate::client::ClientId;

/// SCRIPT DEBUG's modes (Redis's CLIENT_LUA_DEBUG and CLIENT_LUA_DEBUG_SYNC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugMode {
    /// YES: the session runs in a forked child; its changes are discarded.
    Fork,
    /// SYNC: the session blocks the server; its changes stay.
    Sync,
}

/// Which side of a fork the caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    Parent,
    Child,
}

/// What the host lends the debugger: I/O on one client's connection, done while the
/// engine waits (the session owns the connection until it ends).
pub trait DebugChannel: Send {
    /// Writes everything (Redis: a blocking write with a 5 s send timeout); errors are
    /// left for the next read to find.
    fn write(&mut self, client: ClientId, bytes: &[u8]);
    /// Waits for input and appends it to `buf`; false when the client is gone.
    fn read(&mut self, client: ClientId, buf: &mut Vec<u8>) -> bool;
    /// SCRIPT DEBUG YES: fork, so the child runs the session. The error is the reason a
    /// fork failed (or is impossible on this host), given to the client.
    fn fork(&mut self, client: ClientId) -> Result<Forked, String>;
    /// In the child, once the session ended: write the EVAL's reply and exit. A host that
    /// cannot fork never gets here.
    fn exit_child(&mut self, client: ClientId, reply: &[u8]);
}

/// Redis's LDB_BREAKPOINTS_MAX and LDB_MAX_LEN_DEFAULT.
const BREAKPOINTS_MAX: usize = 64;
const MAX_LEN_DEFAULT: usize = 256;
/// The debugger's input buffer limit ("max client buffer reached").
const CBUF_MAX: usize = 1 << 20;

/// Why the debugger stopped reading commands.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadEnd {
    /// The client is gone: the script goes on without stopping again.
    Closed,
    /// The script is stopped with this error.
    Raise(&'static str),
}

/// One debugging session (Redis's `ldb` global, one per EVAL).
pub struct Session {
    pub client: ClientId,
    pub channel: Box<dyn DebugChannel>,
    pub forked: bool,
    /// The EVAL body's lines, as the debugger lists them.
    src: Vec<Vec<u8>>,
    logs: Vec<Vec<u8>>,
    cbuf: Vec<u8>,
    /// Stop at the next line (and log redis.call's commands and replies meanwhile).
    pub step: bool,
    /// redis.breakpoint() was called: stop at the next line.
    pub luabp: bool,
    breakpoints: Vec<i32>,
    pub currentline: i32,
    maxlen: usize,
    maxlen_hint_sent: bool,
    /// When the script last resumed, in host µs, for the "infinite loop?" stop; `None`
    /// without a host clock.
    pub resumed_us: Option<i64>,
    pub clock: Option<fn() -> i64>,
    /// busy-reply-threshold, or 5000 ms when it is 0.
    pub timeout_ms: i64,
}

impl Session {
    /// ldbEnable + ldbStartSession: stepping from the first line, the body split into lines
    /// with its trailing newlines dropped.
    pub fn new(client: ClientId, channel: Box<dyn DebugChannel>, forked: bool, body: &[u8]) -> Session {
        let mut body = body;
        while let [rest @ .., b'\n' | b'\r'] = body {
            body = rest;
        }
        let src = body.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        Session {
            client,
            channel,
            forked,
            src,
            logs: Vec::new(),
            cbuf: Vec::new(),
            step: true,
            luabp: false,
            breakpoints: Vec::new(),
            currentline: -1,
            maxlen: MAX_LEN_DEFAULT,
            maxlen_hint_sent: false,
            resumed_us: None,
            clock: None,
            timeout_ms: 5000,
        }
    }

    pub fn log(&mut self, entry: impl Into<Vec<u8>>) {
        self.logs.push(entry.into());
    }

    /// ldbLogWithMaxLen: long values are cut at `maxlen`, with a hint the first time.
    pub fn log_with_max_len(&mut self, entry: impl Into<Vec<u8>>) {
        let mut entry = entry.into();
        let trimmed = self.maxlen != 0 && entry.len() > self.maxlen;
        if trimmed {
            entry.truncate(self.maxlen);
            entry.extend_from_slice(b" ...");
        }
        self.log(entry);
        if trimmed && !self.maxlen_hint_sent {
            self.maxlen_hint_sent = true;
            self.log("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.");
        }
    }

    /// ldbSendLogs: the log as one array of simple strings (newlines become spaces).
    pub fn send_logs(&mut self) {
        let mut out = format!("*{}\r\n", self.logs.len()).into_bytes();
        for mut entry in self.logs.drain(..) {
            for b in entry.iter_mut() {
                if *b == b'\r' || *b == b'\n' {
                    *b = b' ';
                }
            }
            out.push(b'+');
            out.extend_from_slice(&entry);
            out.extend_from_slice(b"\r\n");
        }
        self.channel.write(self.client, &out);
    }

    pub fn is_breakpoint(&self, line: i32) -> bool {
        self.breakpoints.contains(&line)
    }

    fn line_count(&self) -> i32 {
        self.src.len() as i32
    }

    /// ldbLogSourceLine: `->` marks the current line, `#` a breakpoint.
    pub fn log_source_line(&mut self, line: i32) {
        let text: &[u8] = match usize::try_from(line - 1).ok().and_then(|i| self.src.get(i)) {
            Some(l) => l,
            None => b"<out of range source code line>",
        };
        let prefix = match (self.currentline == line, self.is_breakpoint(line)) {
            (true, true) => "->#",
            (true, false) => "-> ",
            (false, true) => "  #",
            (false, false) => "   ",
        };
        let mut entry = format!("{}{:<3} ", prefix, line).into_bytes();
        entry.extend_from_slice(text);
        self.log(entry);
    }

    /// ldbList: the whole body, or `context` lines around `around`.
    pub fn list(&mut self, around: i32, context: i32) {
        for line in 1..=self.line_count() {
            if around != 0 && (around - line).abs() > context {
                continue;
            }
            self.log_source_line(line);
        }
    }

    /// The `list [line] [ctx]` command.
    pub fn list_command(&mut self, argv: &[Vec<u8>]) {
        let mut around = self.currentline;
        let mut context = 5;
        if let Some(a) = argv.get(1) {
            let n = crate::util::atoi(a) as i32;
            if n > 0 {
                around = n;
            }
        }
        if let Some(c) = argv.get(2) {
            context = crate::util::atoi(c) as i32;
        }
        self.list(around, context);
    }

    /// ldbBreak: list, add (`b 3`), remove (`b -3`) or clear (`b 0`) breakpoints.
    pub fn break_command(&mut self, argv: &[Vec<u8>]) {
        if argv.len() == 1 {
            if self.breakpoints.is_empty() {
                self.log("No breakpoints set. Use 'b <line>' to add one.");
            } else {
                self.log(format!("{} breakpoints set:", self.breakpoints.len()));
                for line in self.breakpoints.clone() {
                    self.log_source_line(line);
                }
            }
            return;
        }
        for arg in &argv[1..] {
            let Some(line) = crate::util::parse_i64(arg).and_then(|l| i32::try_from(l).ok()) else {
                let mut entry = b"Invalid argument:'".to_vec();
                entry.extend_from_slice(arg);
                entry.push(b'\'');
                self.log(entry);
                continue;
            };
            if line == 0 {
                self.breakpoints.clear();
                self.log("All breakpoints removed.");
            } else if line > 0 {
                if self.breakpoints.len() == BREAKPOINTS_MAX {
                    self.log("Too many breakpoints set.");
                } else if line <= self.line_count() && !self.is_breakpoint(line) {
                    self.breakpoints.push(line);
                    self.list(line, 1);
                } else {
                    self.log("Wrong line number.");
                }
            } else if let Some(i) = self.breakpoints.iter().position(|&b| b == -line) {
                self.breakpoints.remove(i);
                self.log("Breakpoint removed.");
            } else {
                self.log("No breakpoint in the specified line.");
            }
        }
    }

    /// ldbMaxlen: show or set how long logged replies and values may be (0: unlimited;
    /// anything up to 60 becomes 60).
    pub fn maxlen_command(&mut self, argv: &[Vec<u8>]) {
        if argv.len() == 2 {
            let mut n = crate::util::atoi(&argv[1]) as i32;
            self.maxlen_hint_sent = true;
            if n != 0 && n <= 60 {
                n = 60;
            }
            self.maxlen = n.max(0) as usize;
        }
        if self.maxlen != 0 {
            self.log(format!("<value> replies are truncated at {} bytes.", self.maxlen));
        } else {
            self.log("<value> replies are unlimited.");
        }
    }

    pub fn help(&mut self) {
        for line in HELP {
            self.log(*line);
        }
    }

    /// A breakpoint or a step stops here: say why, show the line, send the log.
    pub fn stopped(&mut self, reason: &str) {
        self.log(format!("* Stopped at {}, stop reason = {}", self.currentline, reason));
        self.log_source_line(self.currentline);
        self.send_logs();
    }

    /// ldbReplParseCommand + ldbRepl's reading: the next debugger command, reading from the
    /// client as long as it takes. Its forgiving parser is Redis's: anything before `*` is
    /// skipped, arguments must be 1..1024 bytes, and whatever followed the command in the
    /// buffer is dropped with it.
    pub fn read_command(&mut self) -> Result<Vec<Vec<u8>>, ReadEnd> {
        loop {
            match parse_command(&self.cbuf) {
                Parsed::Command(argv) => {
                    self.cbuf.clear();
                    return Ok(argv);
                }
                Parsed::Error => return Err(ReadEnd::Raise("protocol error")),
                Parsed::More => {}
            }
            if !self.channel.read(self.client, &mut self.cbuf) {
                self.step = false;
                self.breakpoints.clear();
                return Err(ReadEnd::Closed);
            }
            if self.cbuf.len() > CBUF_MAX {
                self.cbuf.clear();
                return Err(ReadEnd::Raise("max client buffer reached"));
            }
        }
    }

    /// Whether the script has run past the debugger's timeout since it last resumed.
    pub fn timed_out(&self) -> bool {
        match (self.clock, self.resumed_us) {
            (Some(now), Some(start)) => (now() - start) / 1000 >= self.timeout_ms,
            _ => false,
        }
    }

    pub fn resume(&mut self) {
        self.resumed_us = self.clock.map(|now| now());
    }
}

enum Parsed {
    Command(Vec<Vec<u8>>),
    More,
    Error,
}

fn parse_command(buf: &[u8]) -> Parsed {
    if buf.is_empty() {
        return Parsed::More;
    }
    let Some(star) = buf.iter().position(|&b| b == b'*') else { return Parsed::Error };
    let find_crlf = |from: usize| buf[from..].windows(2).position(|w| w == b"\r\n").map(|i| from + i);
    let Some(eol) = find_crlf(star) else { return Parsed::More };
    let argc = crate::util::atoi(&buf[star + 1..eol]);
    if argc <= 0 || argc > 1024 {
        return Parsed::Error;
    }
    let mut p = eol + 2;
    let mut argv = Vec::with_capacity(argc as usize);
    while argv.len() < argc as usize {
        if p >= buf.len() {
            return Parsed::More;
        }
        if buf[p] != b'$' {
            return Parsed::Error;
        }
        let Some(eol) = find_crlf(p) else { return Parsed::More };
        let len = crate::util::atoi(&buf[p + 1..eol]);
        if len <= 0 || len > 1024 {
            return Parsed::Error;
        }
        let start = eol + 2;
        let end = start + len as usize;
        if end + 2 > buf.len() {
            return Parsed::More;
        }
        argv.push(buf[start..end].to_vec());
        if &buf[end..end + 2] != b"\r\n" {
            return Parsed::Error;
        }
        p = end + 2;
    }
    Parsed::Command(argv)
}

/// ldbRedisProtocolToHuman: a reply as the debugger logs it, from its RESP bytes.
pub fn reply_to_human(out: &mut String, wire: &[u8]) {
    human(out, wire, &mut 0);
}

fn human(out: &mut String, w: &[u8], p: &mut usize) {
    let Some(&t) = w.get(*p) else { return };
    let line_end = w[*p..].windows(2).position(|x| x == b"\r\n").map_or(w.len(), |i| *p + i);
    let line = &w[*p + 1..line_end];
    let after = (line_end + 2).min(w.len());
    match t {
        b':' => {
            out.push_str(&String::from_utf8_lossy(line));
            *p = after;
        }
        b'$' => {
            let len = crate::util::atoi(line);
            if len < 0 {
                out.push_str("NULL");
                *p = after;
            } else {
                let end = (after + len as usize).min(w.len());
                crate::util::repr(out, &w[after..end]);
                *p = (end + 2).min(w.len());
            }
        }
        b'+' | b'-' => {
            crate::util::repr(out, &w[*p..line_end]);
            *p = after;
        }
        b'*' | b'~' | b'%' => {
            let n = crate::util::atoi(line);
            *p = after;
            if t == b'*' && n < 0 {
                out.push_str("NULL");
                return;
            }
            let (open, close) = match t {
                b'*' => ("[", "]"),
                b'~' => ("~(", ")"),
                _ => ("{", "}"),
            };
            out.push_str(open);
            for j in 0..n.max(0) {
                human(out, w, p);
                if t == b'%' {
                    out.push_str(" => ");
                    human(out, w, p);
                }
                if j != n - 1 {
                    out.push(',');
                }
            }
            out.push_str(close);
        }
        b'_' => {
            out.push_str("(null)");
            *p = after;
        }
        b'#' => {
            out.push_str(if line.first() == Some(&b't') { "#true" } else { "#false" });
            *p = after;
        }
        b',' => {
            out.push_str("(double) ");
            out.push_str(&String::from_utf8_lossy(line));
            *p = after;
        }
        // Types the 7.0 debugger does not know (big numbers, verbatim strings) end the
        // rendering, as its switch does.
        _ => *p = w.len(),
    }
}

const HELP: &[&str] = &[
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_as_redis_forgiving_reader_does() {
        let cmd = |s: &[u8]| match parse_command(s) {
            Parsed::Command(a) => Ok(a),
            Parsed::More => Err("more"),
            Parsed::Error => Err("error"),
        };
        assert_eq!(cmd(b"*1\r\n$4\r\nstep\r\n"), Ok(vec![b"step".to_vec()]));
        assert_eq!(cmd(b"junk*2\r\n$1\r\np\r\n$1\r\na\r\n"), Ok(vec![b"p".to_vec(), b"a".to_vec()]));
        assert_eq!(cmd(b"*2\r\n$1\r\np\r\n"), Err("more"));
        assert_eq!(cmd(b"*2\r\n$1\r\np\r\n$3\r\nab"), Err("more"));
        assert_eq!(cmd(b""), Err("more"));
        assert_eq!(cmd(b"step\r\n"), Err("error"));
        assert_eq!(cmd(b"*0\r\n"), Err("error"));
        assert_eq!(cmd(b"*1\r\n$0\r\n\r\n"), Err("error"));
        assert_eq!(cmd(b"*1\r\n+x\r\n"), Err("error"));
        assert_eq!(cmd(b"*1\r\n$1\r\nxy\r\n"), Err("error"));
    }

    #[test]
    fn replies_read_as_the_debugger_logs_them() {
        let h = |w: &[u8]| {
            let mut s = String::new();
            reply_to_human(&mut s, w);
            s
        };
        assert_eq!(h(b"+OK\r\n"), "\"+OK\"");
        assert_eq!(h(b"-ERR no\r\n"), "\"-ERR no\"");
        assert_eq!(h(b":12\r\n"), "12");
        assert_eq!(h(b"$-1\r\n"), "NULL");
        assert_eq!(h(b"$3\r\na\nb\r\n"), "\"a\\nb\"");
        assert_eq!(h(b"*2\r\n:1\r\n$1\r\nx\r\n"), "[1,\"x\"]");
        assert_eq!(h(b"%1\r\n$1\r\nk\r\n#t\r\n"), "{\"k\" => #true}");
        assert_eq!(h(b"~1\r\n,3.5\r\n"), "~((double) 3.5)");
        assert_eq!(h(b"_\r\n"), "(null)");
    }

    struct Silent;
    impl DebugChannel for Silent {
        fn write(&mut self, _: ClientId, _: &[u8]) {}
        fn read(&mut self, _: ClientId, _: &mut Vec<u8>) -> bool {
            false
        }
        fn fork(&mut self, _: ClientId) -> Result<Forked, String> {
            Err("no".into())
        }
        fn exit_child(&mut self, _: ClientId, _: &[u8]) {}
    }

    #[test]
    fn breakpoints_and_listing_follow_redis_words() {
        let mut s = Session::new(1, Box::new(Silent), false, b"local a = 1\nlocal b = 2\nreturn a + b\n\n");
        assert_eq!(s.line_count(), 3);
        s.currentline = 2;
        s.break_command(&[b"b".to_vec(), b"3".to_vec(), b"9".to_vec(), b"-1".to_vec(), b"x".to_vec()]);
        let logs: Vec<String> = s.logs.drain(..).map(|l| String::from_utf8(l).unwrap()).collect();
        assert_eq!(logs, ["-> 2   local b = 2", "  #3   return a + b", "Wrong line number.", "No breakpoint in the specified line.", "Invalid argument:'x'"]);
        s.maxlen_command(&[b"m".to_vec(), b"10".to_vec()]);
        s.log_with_max_len("x".repeat(70));
        let last = String::from_utf8(s.logs.pop().unwrap()).unwrap();
        assert_eq!(last, format!("{} ...", "x".repeat(60)));
        assert_eq!(s.read_command(), Err(ReadEnd::Closed));
        assert!(!s.step);
    }
}
