//! FUNCTION and FCALL: libraries of named Lua functions, loaded with `#!lua name=<lib>`
//! code whose top level calls redis.register_function. All libraries share one Lua VM, as
//! in Redis. Redis: functions.c, function_lua.c.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::{check_flags, run_script, split_keys, Target};
use crate::command::dispatch::Ctx;
use crate::commands::connection::help_reply;
use crate::error::{Error, Result};
use crate::reply::{Reply, OK};
use crate::script::lua::LuaVm;
use crate::script::{flags, FunctionInfo, Invocation, Library, Lrand48, ScriptHost, Scripting};

/// How long a library's top level may run in FUNCTION LOAD (Redis: LOAD_TIMEOUT_MS).
const LOAD_TIMEOUT_MS: i64 = 500;
/// RDB_OPCODE_FUNCTION2: a library's code in an RDB file or a FUNCTION DUMP payload.
pub const OPCODE_FUNCTION2: u8 = 245;

pub fn fcall(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    fcall_generic(ctx, argv, false)
}

pub fn fcall_ro(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    fcall_generic(ctx, argv, true)
}

/// fcallCommandGeneric.
fn fcall_generic(ctx: &mut Ctx, argv: &[Bytes], ro: bool) -> Result<Reply> {
    if !ctx.srv.clients.monitors.is_empty() {
        crate::commands::server::monitor::feed(ctx, argv);
    }
    let asked = String::from_utf8_lossy(&argv[1]).into_owned();
    let Some(f) = ctx.srv.scripting.function(&asked) else { return Err(Error::Msg("ERR Function not found")) };
    let (id, fflags, name) = (f.id, f.flags, f.name.clone());
    let (keys, args) = split_keys(argv, Error::Msg("ERR Bad number of keys provided"))?;
    check_flags(ctx, fflags, ro)?;
    run_script(ctx, Target::Function(id, &name), fflags, ro, keys, args, None)
}

/// What FUNCTION LOAD's code runs under: no commands, and a time limit on the top level.
struct LoadHost {
    clock: Option<fn() -> i64>,
    start: i64,
}

impl ScriptHost for LoadHost {
    fn call(&mut self, _argv: Vec<Bytes>, _resp: u8) -> std::result::Result<Reply, String> {
        Err("redis.call/pcall can only be called inside a script invocation".into())
    }
    fn interrupted(&mut self) -> bool {
        self.clock.is_some_and(|c| (c() - self.start) / 1000 > LOAD_TIMEOUT_MS)
    }
    fn log(&mut self, _level: u8, _msg: &[u8]) {}
    fn set_repl(&mut self, _flags: u8) {}
    fn acl_allows(&mut self, _argv: &[Bytes]) -> std::result::Result<bool, &'static str> {
        Err("redis.acl_check_cmd can only be called inside a script invocation")
    }
}

/// functionExtractLibMetaData: the library name from the `#!<engine> name=<lib>` line, and
/// the code after it (from its newline on, so line numbers stay right).
fn metadata(code: &[u8]) -> std::result::Result<(String, &[u8]), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else { return Err("Invalid library metadata".into()) };
    // sdssplitargs, as Redis reads the line: `name="foo"` is foo.
    let parts = crate::resp::inline::split_inline(&code[..end]).ok_or("Invalid library metadata")?;
    let Some(engine) = parts.first().filter(|e| e.starts_with(b"#!")) else { return Err("Invalid library metadata".into()) };
    let mut name = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("Invalid metadata value, name argument was given multiple times".into());
            }
            name = Some(String::from_utf8_lossy(&p[5..]).into_owned());
            continue;
        }
        return Err(format!("Invalid metadata value given: {}", String::from_utf8_lossy(p)));
    }
    let Some(name) = name else { return Err("Library name was not given".into()) };
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    if !engine[2..].eq_ignore_ascii_case(b"lua") {
        return Err(format!("Engine '{}' not found", String::from_utf8_lossy(&engine[2..])));
    }
    Ok((name, &code[end..]))
}

/// functionsCreateWithLibraryCtx: compiles a library into `sc`'s VM and links it, replacing
/// an existing one of the same name only with `replace`. Returns the library's name. If
/// the library's code panicked the Lua engine, the VM is rebuilt with the libraries the
/// server had, and the load fails.
pub fn create_library(sc: &mut Scripting, code: &Bytes, replace: bool, clock: Option<fn() -> i64>) -> std::result::Result<String, String> {
    let out = link_library(sc, code, replace, clock);
    if sc.fn_vm.as_ref().is_some_and(LuaVm::is_poisoned) {
        reload_libraries(sc, clock);
    }
    out
}

/// Replaces the FUNCTION VM with a fresh one holding every library again (after a panic
/// left the old one untrustworthy). A library whose code cannot be loaded again (it
/// panics the engine each time) is dropped, and said so in the log.
pub fn reload_libraries(sc: &mut Scripting, clock: Option<fn() -> i64>) {
    let mut codes: Vec<(String, Bytes)> = sc.libraries.values().map(|l| (l.name.clone(), l.code.clone())).collect();
    loop {
        let mut fresh = Scripting { rng: sc.rng, ..Default::default() };
        let mut retry = false;
        let mut i = 0;
        while i < codes.len() {
            let failed = link_library(&mut fresh, &codes[i].1, false, clock).err();
            let poisoned = fresh.fn_vm.as_ref().is_some_and(LuaVm::is_poisoned);
            if let Some(e) = failed {
                let (name, _) = codes.remove(i);
                sc.failures.push(format!("Lua engine: library '{}' was dropped, it could not be loaded again after a panic: {}", name, e));
                if poisoned {
                    retry = true;
                    break;
                }
                continue;
            }
            i += 1;
        }
        if retry {
            continue;
        }
        sc.fn_vm = fresh.fn_vm;
        sc.libraries = fresh.libraries;
        sc.functions = fresh.functions;
        return;
    }
}

fn link_library(sc: &mut Scripting, code: &Bytes, replace: bool, clock: Option<fn() -> i64>) -> std::result::Result<String, String> {
    let (name, body) = metadata(code)?;
    if sc.libraries.contains_key(&name) && !replace {
        return Err(format!("Library '{}' already exists", name));
    }
    let vm = match sc.fn_vm.as_mut() {
        Some(vm) => vm,
        None => sc.fn_vm.insert(LuaVm::new(false)?),
    };
    let mut host = LoadHost { clock, start: clock.map_or(0, |c| c()) };
    let mut rng = sc.rng;
    let mut inv = Invocation { host: &mut host, resp: 2, rng: &mut rng, killed: false, ldb: None };
    let loaded = vm.load_library(body, &mut inv)?;
    let ids: Vec<u64> = loaded.iter().map(|f| f.id).collect();
    let fail = |vm: &mut LuaVm, e: String| {
        vm.drop_functions(&ids);
        Err(e)
    };
    if loaded.is_empty() {
        return fail(vm, "No functions registered".into());
    }
    if let Some(f) = loaded.iter().find(|f| sc.functions.get(&f.name.to_ascii_lowercase()).is_some_and(|lib| *lib != name)) {
        return fail(vm, format!("Function {} already exists", f.name));
    }
    if let Some(old) = sc.libraries.remove(&name) {
        let old_ids: Vec<u64> = old.functions.values().map(|f| f.id).collect();
        vm.drop_functions(&old_ids);
        for f in old.functions.keys() {
            sc.functions.remove(&f.to_ascii_lowercase());
        }
    }
    let mut functions = BTreeMap::new();
    for f in loaded {
        sc.functions.insert(f.name.to_ascii_lowercase(), name.clone());
        functions.insert(f.name.clone(), FunctionInfo { name: f.name, desc: f.desc, flags: f.flags, id: f.id });
    }
    // A copy: the argument is a slice of the host's input buffer, which it would keep whole.
    sc.libraries.insert(name.clone(), Library { name: name.clone(), code: Bytes::copy_from_slice(code), functions });
    Ok(name)
}

/// Builds the library set from these codes in a fresh VM, all or nothing (FUNCTION
/// RESTORE, an RDB file's functions).
pub fn rebuild(codes: &[Bytes], rng: Lrand48, clock: Option<fn() -> i64>) -> std::result::Result<Scripting, String> {
    let mut sc = Scripting { rng, ..Default::default() };
    for code in codes {
        create_library(&mut sc, code, false, clock)?;
    }
    Ok(sc)
}

/// The libraries after adding `incoming` to the server's (DEBUG RELOAD NOFLUSH): the
/// server's own, minus those an incoming one of the same name replaces (`replace`, MERGE),
/// then the incoming ones. Without `replace` a name already present is an error.
pub fn merged_codes(sc: &Scripting, incoming: &[Bytes], replace: bool) -> std::result::Result<Vec<Bytes>, String> {
    let mut names = Vec::with_capacity(incoming.len());
    for code in incoming {
        let (name, _) = metadata(code)?;
        if sc.libraries.contains_key(&name) && !replace {
            return Err(format!("Library '{}' already exists", name));
        }
        names.push(name);
    }
    let kept = sc.libraries.values().filter(|l| !names.contains(&l.name)).map(|l| l.code.clone());
    Ok(kept.chain(incoming.iter().cloned()).collect())
}

/// Moves a rebuilt library set into the server, keeping the EVAL side as it is.
fn install(ctx: &mut Ctx, built: Scripting) {
    let s = &mut ctx.srv.scripting;
    s.fn_vm = built.fn_vm;
    s.libraries = built.libraries;
    s.functions = built.functions;
}

/// FUNCTION LOAD [REPLACE] function-code
pub fn load(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut replace = false;
    let mut pos = 2;
    while pos < argv.len() - 1 {
        if argv[pos].eq_ignore_ascii_case(b"replace") {
            replace = true;
            pos += 1;
            continue;
        }
        return Err(Error::Dyn(format!("ERR Unknown option given: {}", String::from_utf8_lossy(&argv[pos]))));
    }
    if pos >= argv.len() {
        return Err(Error::Msg("ERR Function code is missing"));
    }
    let clock = ctx.srv.host.calls.clock;
    let created = create_library(&mut ctx.srv.scripting, &argv[pos], replace, clock);
    super::log_engine_failures(ctx);
    let name = created.map_err(|e| Error::Dyn(format!("ERR {}", e)))?;
    ctx.srv.stats.dirty += 1;
    Ok(Reply::bulk(name.into_bytes()))
}

/// FUNCTION DELETE library-name
pub fn delete(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let name = String::from_utf8_lossy(&argv[2]).into_owned();
    let sc = &mut ctx.srv.scripting;
    let Some(lib) = sc.libraries.remove(&name) else { return Err(Error::Msg("ERR Library not found")) };
    let ids: Vec<u64> = lib.functions.values().map(|f| f.id).collect();
    if let Some(vm) = sc.fn_vm.as_mut() {
        vm.drop_functions(&ids);
    }
    for f in lib.functions.keys() {
        sc.functions.remove(&f.to_ascii_lowercase());
    }
    ctx.srv.stats.dirty += 1;
    Ok(OK)
}

/// FUNCTION FLUSH [ASYNC|SYNC]
pub fn flush(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 3 {
        return Err(Error::subcommand_syntax(&argv[1], "FUNCTION"));
    }
    if argv.len() == 3 && !argv[2].eq_ignore_ascii_case(b"sync") && !argv[2].eq_ignore_ascii_case(b"async") {
        return Err(Error::Msg("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    flush_all(&mut ctx.srv.scripting);
    ctx.srv.stats.dirty += 1;
    Ok(OK)
}

/// Forgets every library (FUNCTION FLUSH, FLUSHALL does not: functions are not data).
pub fn flush_all(sc: &mut Scripting) {
    sc.libraries.clear();
    sc.functions.clear();
    sc.fn_vm = None;
}

/// The flags of a function as FUNCTION LIST shows them: a set of status strings.
fn flags_reply(f: u8) -> Reply {
    Reply::Set(flags::NAMES.iter().filter(|(bit, _)| f & bit != 0).map(|(_, n)| Reply::Simple(n)).collect())
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
pub fn list(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (mut with_code, mut pattern) = (false, None);
    let mut i = 2;
    while i < argv.len() {
        if !with_code && argv[i].eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && argv[i].eq_ignore_ascii_case(b"libraryname") {
            if i >= argv.len() - 1 {
                return Err(Error::Msg("ERR library name argument was not given"));
            }
            i += 1;
            pattern = Some(&argv[i]);
        } else {
            return Err(Error::Dyn(format!("ERR Unknown argument {}", String::from_utf8_lossy(&argv[i]))));
        }
        i += 1;
    }
    let s = |t: &str| Reply::bulk_str(t);
    let mut out = Vec::new();
    for lib in ctx.srv.scripting.libraries.values() {
        if let Some(p) = pattern {
            if !crate::util::glob_match(p, lib.name.as_bytes(), true) {
                continue;
            }
        }
        let functions = lib
            .functions
            .values()
            .map(|f| Reply::Map(vec![(s("name"), s(&f.name)), (s("description"), f.desc.as_deref().map_or(Reply::Nil, s)), (s("flags"), flags_reply(f.flags))]))
            .collect();
        let mut m = vec![(s("library_name"), s(&lib.name)), (s("engine"), s("LUA")), (s("functions"), Reply::Array(functions))];
        if with_code {
            m.push((s("library_code"), Reply::Bulk(lib.code.clone())));
        }
        out.push(Reply::Map(m));
    }
    Ok(Reply::Array(out))
}

/// FUNCTION STATS: commands run one at a time, so no function is running now (while one
/// is, the host answers for the engine).
pub fn stats(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let s = |t: &str| Reply::bulk_str(t);
    let sc = &ctx.srv.scripting;
    let lua = Reply::Map(vec![(s("libraries_count"), Reply::Int(sc.libraries.len() as i64)), (s("functions_count"), Reply::Int(sc.functions.len() as i64))]);
    Ok(Reply::Map(vec![(s("running_script"), Reply::Nil), (s("engines"), Reply::Map(vec![(s("LUA"), lua)]))]))
}

pub fn kill(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    crate::script::watch::kill_reply(None, false).map(|()| OK).map_err(Error::Dyn)
}

/// The libraries as FUNCTION DUMP and RDB files carry them: each as the FUNCTION2 opcode
/// and its code.
pub fn dump_libraries(sc: &Scripting, w: &mut crate::rdb::Writer) {
    for lib in sc.libraries.values() {
        w.byte(OPCODE_FUNCTION2);
        w.string(&lib.code);
    }
}

/// FUNCTION DUMP: the libraries, the RDB version and a CRC64, as DUMP frames a value.
pub fn dump(ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    let mut w = crate::rdb::Writer::new(ctx.srv.config.get_bool(crate::param!("rdbcompression")));
    dump_libraries(&ctx.srv.scripting, &mut w);
    let mut out = w.into_bytes();
    crate::rdb::frame(&mut out);
    Ok(Reply::Bulk(out.into()))
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]
pub fn restore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    if argv.len() > 4 {
        return Err(Error::subcommand_syntax(&argv[1], "FUNCTION"));
    }
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    let policy = match argv.get(3) {
        None => Policy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"append") => Policy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"replace") => Policy::Replace,
        Some(p) if p.eq_ignore_ascii_case(b"flush") => Policy::Flush,
        Some(_) => return Err(Error::Msg("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")),
    };
    let body = crate::rdb::load::unframe(&argv[2], ctx.srv.debug.skip_checksum).ok_or(Error::Msg("ERR DUMP payload version or checksum are wrong"))?;
    let codes = crate::rdb::load::function_codes(body).map_err(|e| Error::Dyn(format!("ERR {}", e)))?;
    let err = |e: String| Error::Dyn(format!("ERR {}", e));
    // Check the payload on its own first (libraries and functions unique within it).
    let (rng, clock) = (ctx.srv.scripting.rng, ctx.srv.host.calls.clock);
    let restored = rebuild(&codes, rng, clock);
    super::log_engine_failures(ctx);
    let restored = restored.map_err(err)?;
    let mut all: Vec<Bytes> = Vec::new();
    if policy != Policy::Flush {
        for (name, lib) in &ctx.srv.scripting.libraries {
            if restored.libraries.contains_key(name) {
                if policy == Policy::Append {
                    return Err(Error::Dyn(format!("ERR Library {} already exists", name)));
                }
                continue;
            }
            all.push(lib.code.clone());
        }
    }
    all.extend(restored.libraries.values().map(|l| l.code.clone()));
    let built = if policy == Policy::Flush { restored } else { rebuild(&all, rng, clock).map_err(err)? };
    install(ctx, built);
    ctx.srv.stats.dirty += 1;
    Ok(OK)
}

const HELP: &[&str] = &[
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
];

pub fn help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Ok(help_reply("FUNCTION", HELP))
}
