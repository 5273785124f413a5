//! Server parameters: one table drives CONFIG GET/SET, the host's command-line flags and
//! redis.conf parsing, so a directive works the same in all three. Values are kept as Redis
//! prints them in CONFIG GET, and typed accessors read them back.
//! Redis: config.c (standardConfig table, loadServerConfigFromString).

mod file;
mod hot;
mod params;
mod rewrite;
#[cfg(test)]
mod tests;

pub use file::*;
pub use hot::{ClientClass, Hot, OutputLimit, Policy};
pub use params::ParamId;
use rewrite::repr;
pub use rewrite::REWRITE_SIGNATURE;

use crate::error::{Error, Result};
use crate::util::glob_match;
use params::*;

#[derive(Debug, Clone)]
pub struct Config {
    values: Vec<String>,
    /// `notify-keyspace-events` as set: its shown form (keyspaceEventsFlagsToString) drops
    /// `n` when `A` is there, as Redis's does, but the flag stays in force.
    notify_flags: u32,
    /// Values read on every command, kept typed so hot paths do no name lookup.
    pub hot: Hot,
    /// How many times a parameter was set (at startup or by CONFIG SET): a host that keeps
    /// a copy of the configuration (the wasm package, to re-create its engine) takes a new
    /// one when this moves.
    changes: u64,
}

impl Default for Config {
    fn default() -> Self {
        let mut c = Config { values: PARAMS.iter().map(|p| p.default.to_string()).collect(), notify_flags: 0, hot: Hot::default(), changes: 0 };
        c.refresh_hot();
        c
    }
}

fn index(name: &str) -> Option<usize> {
    PARAMS.iter().position(|p| p.name.eq_ignore_ascii_case(name) || p.alias.is_some_and(|a| a.eq_ignore_ascii_case(name)))
}

/// Parses `1gb`, `100mb`, `512k`, `1024` as Redis's memtoull does.
pub fn parse_memory(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    let (num, mul): (&str, i64) = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000), ("b", 1)]
        .iter()
        .find_map(|(suf, m)| l.strip_suffix(suf).map(|n| (n, *m)))
        .unwrap_or((l.as_str(), 1));
    let n: i64 = num.parse().ok()?;
    if n < 0 {
        return None;
    }
    n.checked_mul(mul)
}

/// Redis's memtoull (util.c): digits, then an optional unit (`b k kb m mb g gb`, any
/// case), nothing else; no digits at all reads as 0, too many saturate (strtoull), and the
/// product wraps as unsigned 64-bit arithmetic does.
pub fn memtoull(s: &str) -> Option<u64> {
    let digits = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if num.len() >= 128 {
        return None;
    }
    let val = if num.is_empty() { 0 } else { num.parse::<u64>().unwrap_or(u64::MAX) };
    Some(val.wrapping_mul(mul))
}

impl Config {
    /// Names and values matching a glob, for CONFIG GET (each name once).
    pub fn get_matching(&self, pattern: &[u8]) -> Vec<(&'static str, String)> {
        // Aliases (the old ziplist names) answer under their own name, as in Redis 7.0.
        let mut out = vec![];
        let glob = pattern.iter().any(|c| b"*?[".contains(c));
        for (i, p) in PARAMS.iter().enumerate() {
            if p.hidden && glob {
                continue;
            }
            for name in std::iter::once(p.name).chain(p.alias) {
                if glob_match(pattern, name.as_bytes(), true) {
                    out.push((name, self.values[i].clone()));
                }
            }
        }
        out
    }

    /// The rate the host runs `Engine::tick` at (`hz`, within 1..=500).
    pub fn hz(&self) -> u32 {
        self.hot.hz
    }

    /// A parameter's value as CONFIG GET prints it (`param!("name")`).
    pub fn get(&self, p: ParamId) -> &str {
        &self.values[p.0]
    }

    /// An integer parameter (memory sizes in bytes).
    pub fn get_i64(&self, p: ParamId) -> i64 {
        self.get(p).parse().unwrap_or(0)
    }

    /// A yes/no parameter.
    pub fn get_bool(&self, p: ParamId) -> bool {
        self.get(p) == "yes"
    }

    /// A parameter by a name known only at run time (CONFIG GET, the command line), or its
    /// alias; None when there is no such parameter.
    pub fn get_named(&self, name: &str) -> Option<&str> {
        index(name).map(|i| self.values[i].as_str())
    }

    pub fn is_known(name: &str) -> bool {
        index(name).is_some()
    }

    /// The parameter's own name for a name or alias.
    pub fn canonical(name: &str) -> Option<&'static str> {
        index(name).map(|i| PARAMS[i].name)
    }

    /// Validates and stores one parameter. `startup` allows immutable ones (flags, redis.conf).
    pub fn set(&mut self, name: &str, value: &str, startup: bool) -> Result<()> {
        let i = index(name).ok_or_else(|| Error::Dyn(format!("ERR Unknown option or number of arguments for CONFIG SET - '{}'", name)))?;
        self.set_at(i, value, startup).map_err(|why| Error::Dyn(format!("ERR CONFIG SET failed (possibly related to argument '{}') - {}", PARAMS[i].name, why)))
    }

    /// `set` with the bare reason for a refusal, as the config file reports it.
    fn set_at(&mut self, i: usize, value: &str, startup: bool) -> std::result::Result<(), String> {
        let p = &PARAMS[i];
        if p.immutable && !startup {
            return Err("can't set immutable config".into());
        }
        if let Some(why) = unsupported(p.name, value) {
            return Err(why.into());
        }
        let v = match p.kind {
            _ if MULTI_ARG_SPECIAL.contains(&p.name) => multi_arg_special(p.name, value)?,
            Kind::Octal => {
                let n = i64::from_str_radix(value, 8).map_err(|_| "argument couldn't be parsed into an integer")?;
                if !(0..=0o777).contains(&n) {
                    return Err("argument must be between 0 and 511 inclusive".into());
                }
                format!("{:o}", n)
            }
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => "yes".to_string(),
                "no" => "no".to_string(),
                _ => return Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Int { min, max } => {
                let n = parse_memory(value).or_else(|| value.parse::<i64>().ok()).ok_or("argument couldn't be parsed into an integer")?;
                if n < min || n > max {
                    return Err(format!("argument must be between {} and {} inclusive", min, max));
                }
                n.to_string()
            }
            Kind::Memory => parse_memory(value).ok_or("argument must be a memory value")?.to_string(),
            Kind::MemoryIn { min, max } => {
                // The unsigned result is range-checked as a long long, as Redis does.
                let n = memtoull(value).ok_or("argument must be a memory value")? as i64;
                if n < min || n > max {
                    return Err(format!("argument must be between {} and {} inclusive", min, max));
                }
                n.to_string()
            }
            Kind::Enum(opts) => {
                let l = value.to_ascii_lowercase();
                if !opts.contains(&l.as_str()) {
                    return Err(format!("argument(s) must be one of the following: {}", opts.join(", ")));
                }
                l
            }
            Kind::Str if p.name == "notify-keyspace-events" => {
                let flags = crate::notify::parse(value).ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
                self.notify_flags = flags;
                crate::notify::to_string(flags)
            }
            Kind::Str if p.name == "client-output-buffer-limit" => merge_output_limits(&self.values[i], value)?,
            // isValidDBfilename, isValidAOFfilename, isValidAOFdirname: names, not paths.
            Kind::Str if matches!(p.name, "dbfilename" | "appendfilename" | "appenddirname") => {
                if value.is_empty() && p.name != "dbfilename" {
                    return Err(format!("{} can't be empty", p.name));
                }
                if value.contains('/') || value.contains('\\') {
                    return Err(format!("{} can't be a path, just a {}", p.name, if p.name == "appenddirname" { "dirname" } else { "filename" }));
                }
                value.to_string()
            }
            // Bytes, or a percentage of maxmemory (Redis's PERCENT_CONFIG).
            Kind::Str if p.name == "maxmemory-clients" => match value.strip_suffix('%') {
                Some(pct) => match pct.parse::<u32>() {
                    Ok(n) if n <= 100 => format!("{}%", n),
                    Ok(_) => return Err("percentage argument must be less or equal to 100".into()),
                    _ => return Err("argument must be a memory or percent value".into()),
                },
                None => parse_memory(value).ok_or("argument must be a memory or percent value")?.to_string(),
            },
            Kind::Str => value.to_string(),
            Kind::List => {
                if p.name == "save" {
                    validate_save(value).map_err(|_| "Invalid save parameters")?;
                }
                value.split_whitespace().collect::<Vec<_>>().join(" ")
            }
        };
        self.values[i] = v;
        self.changes += 1;
        self.refresh_hot();
        Ok(())
    }

    /// How many times a parameter was set so far (see the field).
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Directives that take several arguments on one line (MULTI_ARG_CONFIG); the others
    /// take exactly one.
    pub(crate) fn is_multi_arg(i: usize) -> bool {
        PARAMS[i].kind == Kind::List || PARAMS[i].name == "client-output-buffer-limit"
    }
}

/// Values that would need machinery Cinnabar does not have: refused (at startup too) with
/// the reason, rather than accepted and silently ignored.
fn unsupported(name: &str, value: &str) -> Option<&'static str> {
    let yes = value.eq_ignore_ascii_case("yes");
    match name {
        "cluster-enabled" if yes => Some("cluster mode is not supported by Cinnabar"),
        "tls-port" if value.trim() != "0" => Some("TLS is not supported by Cinnabar"),
        "syslog-enabled" if yes => Some("logging to syslog is not supported by Cinnabar; use logfile"),
        // Redis's own answer when it is built without jemalloc (isValidActiveDefrag).
        "activedefrag" if yes => Some("-DISABLED Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"),
        _ => None,
    }
}

/// C's `%f` without trailing zeros (trimDoubleString): `99.9`, `50`.
pub fn trim_double(d: f64) -> String {
    let s = format!("{:.6}", d);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Multi-argument directives with their own syntax (Redis's special and bit-flag enum
/// configs), kept in the form CONFIG GET prints.
const MULTI_ARG_SPECIAL: &[&str] = &["oom-score-adj-values", "shutdown-on-sigint", "shutdown-on-sigterm", "latency-tracking-info-percentiles", "replicaof"];

fn multi_arg_special(name: &str, value: &str) -> std::result::Result<String, String> {
    let args: Vec<&str> = value.split_whitespace().collect();
    match name {
        "oom-score-adj-values" => {
            let bad = "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
            if args.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let n: Vec<i64> =
                args.iter().map(|a| a.parse::<i64>().ok().filter(|v| (-2000..=2000).contains(v)).ok_or(bad)).collect::<std::result::Result<_, _>>()?;
            Ok(format!("{} {} {}", n[0], n[1], n[2]))
        }
        "shutdown-on-sigint" | "shutdown-on-sigterm" => {
            const FLAGS: [&str; 4] = ["save", "nosave", "now", "force"];
            if args.is_empty() {
                return Err("argument(s) must be one of the following: default, save, nosave, now, force".into());
            }
            let mut set = [false; 4];
            for a in &args {
                let l = a.to_ascii_lowercase();
                match FLAGS.iter().position(|f| *f == l) {
                    Some(i) => set[i] = true,
                    None if l == "default" => {}
                    None => return Err("argument(s) must be one of the following: default, save, nosave, now, force".into()),
                }
            }
            if set[0] && set[1] {
                return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
            }
            let names: Vec<&str> = FLAGS.iter().zip(set).filter(|(_, on)| *on).map(|(f, _)| *f).collect();
            Ok(if names.is_empty() { "default".into() } else { names.join(" ") })
        }
        "latency-tracking-info-percentiles" => {
            let mut out = vec![];
            for a in &args {
                let p = crate::util::parse_f64(a.as_bytes()).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                out.push(trim_double(p));
            }
            Ok(out.join(" "))
        }
        // `replicaof no one` (or nothing): a primary; `replicaof host port`: the primary the
        // server follows from startup (`Engine::replica_start`).
        "replicaof" => match args.as_slice() {
            [] => Ok(String::new()),
            [no, one] if no.eq_ignore_ascii_case("no") && one.eq_ignore_ascii_case("one") => Ok(String::new()),
            [_, port] if port.parse::<u16>().is_err() => Err("Invalid master port".into()),
            [host, port] => Ok(format!("{} {}", host, port)),
            _ => Err("wrong number of arguments".into()),
        },
        _ => unreachable!("only the names in MULTI_ARG_SPECIAL"),
    }
}

/// The three classes of `client-output-buffer-limit` as (class, hard, soft, seconds).
fn output_limits(v: &str) -> Vec<(String, i64, i64, i64)> {
    let w: Vec<&str> = v.split_whitespace().collect();
    w.chunks(4).filter(|c| c.len() == 4).map(|c| (c[0].to_string(), c[1].parse().unwrap_or(0), c[2].parse().unwrap_or(0), c[3].parse().unwrap_or(0))).collect()
}

/// CONFIG SET client-output-buffer-limit "<class> <hard> <soft> <seconds> ...": only the
/// classes given change; the value reads back with all three, in bytes, as in Redis.
fn merge_output_limits(current: &str, value: &str) -> std::result::Result<String, &'static str> {
    let w: Vec<&str> = value.split_whitespace().collect();
    if !w.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.");
    }
    let mut classes = output_limits(current);
    for c in w.chunks(4) {
        let class = match c[0].to_ascii_lowercase().as_str() {
            "normal" => "normal",
            "slave" | "replica" => "slave",
            "pubsub" => "pubsub",
            _ => return Err("Invalid client class specified in buffer limit configuration."),
        };
        let bad = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let (hard, soft) = (parse_memory(c[1]).ok_or(bad)?, parse_memory(c[2]).ok_or(bad)?);
        let secs: i64 = c[3].parse().ok().filter(|s| *s >= 0).ok_or(bad)?;
        if let Some(slot) = classes.iter_mut().find(|(n, ..)| n == class) {
            *slot = (class.to_string(), hard, soft, secs);
        }
    }
    Ok(classes.iter().map(|(n, h, s, t)| format!("{} {} {} {}", n, h, s, t)).collect::<Vec<_>>().join(" "))
}

fn validate_save(v: &str) -> std::result::Result<(), ()> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    if !parts.len().is_multiple_of(2) {
        return Err(());
    }
    for x in parts {
        x.parse::<u64>().map_err(|_| ())?;
    }
    Ok(())
}
