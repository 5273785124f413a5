//! Scripting, the engine-neutral half (Redis: script.c and the shared parts of eval.c):
//! script flags and the `#!lua` shebang, SHA1 names, the generator behind math.random, the
//! `ScriptHost` a running script calls back into, and the run context that checks each
//! command a script runs (`run.rs`). The Lua backend lives in `lua/`; the conversion rules
//! between replies and script values in `convert.rs`.

pub mod convert;
pub mod ldb;
pub mod lua;
pub mod watch;

use bytes::Bytes;

use crate::reply::Reply;

/// Script flags, as declared in a shebang (`#!lua flags=no-writes`) or by
/// redis.register_function.
pub mod flags {
    pub const NO_WRITES: u8 = 1;
    pub const ALLOW_OOM: u8 = 2;
    pub const ALLOW_STALE: u8 = 4;
    pub const NO_CLUSTER: u8 = 8;
    pub const ALLOW_CROSS_SLOT: u8 = 16;
    /// An EVAL script without a shebang: Redis 6 behaviour, the command's own flags apply.
    pub const EVAL_COMPAT: u8 = 32;

    pub const NAMES: [(u8, &str); 5] = [
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];

    pub fn parse(name: &[u8]) -> Option<u8> {
        NAMES.iter().find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name)).map(|(f, _)| *f)
    }
}

/// SHA1 as 40 lowercase hex digits: script names and redis.sha1hex.
pub fn sha1hex(b: &[u8]) -> String {
    sha1_smol::Sha1::from(b).digest().to_string()
}

/// evalExtractShebangFlags: the flags a script declares and the length of its shebang
/// line (kept out of the compiled body, its newline kept so line numbers stay right).
pub fn extract_shebang(body: &[u8]) -> Result<(u8, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((flags::EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else { return Err("Invalid script shebang".into()) };
    let line = &body[..end];
    let parts: Vec<&[u8]> = line.split(|c| c.is_ascii_whitespace()).filter(|p| !p.is_empty()).collect();
    let Some(engine) = parts.first() else { return Err("Invalid engine in script shebang".into()) };
    if *engine != b"#!lua" {
        return Err(format!("Unexpected engine in script shebang: {}", String::from_utf8_lossy(engine)));
    }
    let mut out = 0;
    for p in &parts[1..] {
        if p.len() < 6 || !p[..6].eq_ignore_ascii_case(b"flags=") {
            return Err(format!("Unknown lua shebang option: {}", String::from_utf8_lossy(p)));
        }
        let list = &p[6..];
        // `flags=` alone declares no flags (sdssplitlen of nothing is no pieces).
        if list.is_empty() {
            continue;
        }
        for f in list.split(|&c| c == b',') {
            // Redis splits on commas and compares each piece, empty ones included.
            match flags::NAMES.iter().find(|(_, n)| n.as_bytes() == f) {
                Some((bit, _)) => out |= bit,
                None => return Err(format!("Unexpected flag in script shebang: {}", String::from_utf8_lossy(f))),
            }
        }
    }
    Ok((out, end))
}

/// Lua's own number to string (`%.14g`), as tostring and error messages print numbers.
pub fn lua_number_string(n: f64) -> String {
    crate::util::fmt_g(n, 14)
}

/// `%.17g`, how redis.call turns a number argument into a string (Lua's own conversion
/// would lose precision).
pub fn number_arg(n: f64) -> String {
    crate::util::fmt_g(n, 17)
}

/// redisLrand48: the 48-bit generator Redis gives math.random, so a seed yields the same
/// numbers on every platform. The state lives on through the server's life, as in Redis.
#[derive(Debug, Clone, Copy)]
pub struct Lrand48(u64);

impl Default for Lrand48 {
    fn default() -> Self {
        Lrand48(0x1234_ABCD_330E)
    }
}

impl Lrand48 {
    pub const MAX: i32 = i32::MAX;
    pub fn seed(&mut self, seed: i32) {
        self.0 = ((seed as u32 as u64) << 16) | 0x330E;
    }
    pub fn next(&mut self) -> i32 {
        self.0 = (self.0.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB)) & 0xFFFF_FFFF_FFFF;
        (self.0 >> 17) as i32
    }
}

/// What a running script asks of the server.
pub trait ScriptHost {
    /// redis.call / redis.pcall: run one command as the script's client. `Err` is a
    /// refusal before the command ran (unknown command, not allowed from scripts, write in a
    /// read-only script, ...), in Redis's words without a code; a command's own error comes
    /// back as `Ok(Reply::Error)`.
    fn call(&mut self, argv: Vec<Bytes>, resp: u8) -> Result<Reply, String>;
    /// The count hook's question, every 100k instructions: should the script stop now
    /// (SCRIPT KILL, FUNCTION KILL, a host's budget)?
    fn interrupted(&mut self) -> bool;
    /// redis.log at a level (0 debug .. 3 warning).
    fn log(&mut self, level: u8, msg: &[u8]);
    /// redis.set_repl: where the script's effects propagate (REPL_* bits).
    fn set_repl(&mut self, flags: u8);
    /// redis.acl_check_cmd: whether the script's caller may run the command; Err is the
    /// error to raise (no such command).
    fn acl_allows(&mut self, argv: &[Bytes]) -> Result<bool, &'static str>;
}

/// One script invocation's state shared between the engine and the host callbacks.
pub struct Invocation<'a> {
    pub host: &'a mut dyn ScriptHost,
    /// The dialect of replies the script sees (redis.setresp); 2 at the start of every run.
    pub resp: u8,
    pub rng: &'a mut Lrand48,
    /// Set once the host asked the script to stop: every pcall re-raises from then on.
    pub killed: bool,
    /// The debugging session this run is part of (SCRIPT DEBUG YES|SYNC, then EVAL).
    pub ldb: Option<&'a mut ldb::Session>,
}

/// An EVAL script the server knows (SCRIPT LOAD or a first EVAL).
#[derive(Debug, Clone)]
pub struct EvalScript {
    pub body: Bytes,
    pub flags: u8,
}

/// A function a library registered.
#[derive(Debug, Clone)]
pub struct FunctionInfo {
    pub name: String,
    pub desc: Option<String>,
    pub flags: u8,
    /// Its handle in the functions VM.
    pub id: u64,
}

/// A FUNCTION library: its code as loaded (shebang included) and its functions by name.
#[derive(Debug, Clone)]
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: std::collections::BTreeMap<String, FunctionInfo>,
}

/// Everything scripting keeps on the server: the EVAL script cache and its VM, the
/// FUNCTION libraries and theirs (each VM built on first use, as most servers never run a
/// script), and math.random's generator.
#[derive(Default)]
pub struct Scripting {
    pub eval_vm: Option<lua::LuaVm>,
    /// By lowercase SHA1 (EVALSHA and SCRIPT EXISTS ignore case).
    pub scripts: hashbrown::HashMap<String, EvalScript>,
    pub scripts_mem: usize,
    pub fn_vm: Option<lua::LuaVm>,
    pub libraries: std::collections::BTreeMap<String, Library>,
    /// Function name, lowercased (names are unique without regard to case) → its library.
    pub functions: hashbrown::HashMap<String, String>,
    pub rng: Lrand48,
    /// What the host's log should hear about the Lua engine (a library a rebuilt VM could
    /// not load again), until the next scripting command logs it.
    pub failures: Vec<String>,
    /// Panic messages already logged (each is logged once).
    pub logged_panics: hashbrown::HashSet<String>,
    /// A script runs past `busy-reply-threshold` and other clients' commands are being
    /// taken from its hook (`Some(eval)`): only those flagged allow-busy run.
    pub busy: Option<bool>,
    /// The client scripts run commands as, between runs.
    pub client: Option<Box<crate::client::Client>>,
    /// What the host lends scripts.
    pub host: Lent,
}

/// What the host lends the scripting engine, each taken out while it is in use.
#[derive(Default)]
pub struct Lent {
    /// The host's watch over a running script (BUSY, SCRIPT KILL); see `script::watch`.
    pub watch: Option<watch::ScriptWatch>,
    /// The host's I/O for the Lua debugger (`Engine::set_script_debugger`); without it
    /// SCRIPT DEBUG YES and SYNC are refused.
    pub debugger: Option<Box<dyn ldb::DebugChannel>>,
}

impl Scripting {
    /// A function by name, matched without regard to case as Redis's function dict does
    /// (`FCALL TEST` runs `test`); a library's own table keeps the registered spelling.
    pub fn function(&self, name: &str) -> Option<&FunctionInfo> {
        let lib = self.functions.get(&name.to_ascii_lowercase())?;
        self.libraries.get(lib)?.functions.values().find(|f| f.name.eq_ignore_ascii_case(name))
    }
}
