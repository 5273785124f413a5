//! redis-server's command line: an optional config file first (`-` for stdin), then
//! `--directive value ...` pairs, each starting a new config line. Both sources are read as
//! one redis.conf text, so a directive works the same in the file and as a flag.

use std::io::Read;

pub struct Settings {
    pub config_file: Option<String>,
    /// (directive, value) in order; later ones override earlier ones.
    pub directives: Vec<(String, String)>,
}

pub enum Startup {
    Run(Settings),
    /// `--version` / `--help`: print and exit 0.
    Exit(String),
}

const USAGE: &str = "Usage: ./cinnabar-server [/path/to/redis.conf] [options] [-]
       ./cinnabar-server - (read config from stdin)
       ./cinnabar-server -v or --version
       ./cinnabar-server -h or --help

Examples:
       ./cinnabar-server (run the server with default conf)
       ./cinnabar-server /etc/redis/6379.conf
       ./cinnabar-server --port 7777
       ./cinnabar-server /etc/myredis.conf --loglevel verbose -
       ./cinnabar-server /etc/myredis.conf --loglevel verbose";

/// Redis's fatal config error block.
pub fn fatal(line: &str, why: &str) -> String {
    format!("\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\n>>> '{}'\n{}", cinnabar::REDIS_VERSION, line, why)
}

pub fn parse(args: &[String]) -> Result<Startup, String> {
    if let Some(a) = args.first() {
        match a.as_str() {
            "-v" | "--version" => {
                return Ok(Startup::Exit(format!(
                    "Cinnabar server v={} (Redis {} compatible)",
                    cinnabar::CINNABAR_VERSION,
                    cinnabar::REDIS_VERSION
                )))
            }
            "-h" | "--help" => return Ok(Startup::Exit(USAGE.into())),
            _ => {}
        }
    }
    let mut text = String::new();
    let mut config_file = None;
    let mut i = 0;
    if let Some(a) = args.first() {
        if !a.starts_with("--") {
            if a == "-" {
                std::io::stdin().read_to_string(&mut text).map_err(|e| format!("Reading config from stdin: {}", e))?;
            } else {
                text = std::fs::read_to_string(a).map_err(|e| format!("Fatal error, can't open config file '{}': {}", a, e))?;
                config_file = Some(std::fs::canonicalize(a).map(|p| p.display().to_string()).unwrap_or_else(|_| a.clone()));
            }
            i = 1;
        }
    }
    text.push('\n');
    // Flags become config lines; each value is quoted so spaces and "" survive.
    let mut line = String::new();
    for a in &args[i..] {
        if let Some(name) = a.strip_prefix("--") {
            if !line.is_empty() {
                text.push_str(&line);
                text.push('\n');
            }
            line = name.to_string();
        } else if a == "-" {
            let mut stdin = String::new();
            std::io::stdin().read_to_string(&mut stdin).map_err(|e| format!("Reading config from stdin: {}", e))?;
            text.push_str(&stdin);
            text.push('\n');
        } else {
            if line.is_empty() {
                return Err(format!("Invalid argument '{}'\n{}", a, USAGE));
            }
            line.push(' ');
            line.push_str(&quote(a));
        }
    }
    if !line.is_empty() {
        text.push_str(&line);
        text.push('\n');
    }
    let lines = cinnabar::config::parse_conf(&text).map_err(|e| fatal(&text, &e))?;
    let mut directives = vec![];
    for (name, values) in lines {
        if !cinnabar::Config::is_known(&name) {
            return Err(fatal(&format!("{} {}", name, values.join(" ")), "Bad directive or wrong number of arguments"));
        }
        directives.push((name, values.join(" ")));
    }
    Ok(Startup::Run(Settings { config_file, directives }))
}

/// Quotes a flag value for the config-line parser (sdssplitargs rules).
fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Vec<(String, String)> {
        match parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap() {
            Startup::Run(s) => s.directives,
            Startup::Exit(_) => panic!("exit"),
        }
    }

    #[test]
    fn flags_become_directives_with_empty_values_kept() {
        let d = run(&["--port", "7000", "--save", "", "--bind", "127.0.0.1", "::1"]);
        assert_eq!(d[0], ("port".into(), "7000".into()));
        assert_eq!(d[1], ("save".into(), "".into()));
        assert_eq!(d[2], ("bind".into(), "127.0.0.1 ::1".into()));
    }

    #[test]
    fn unknown_directives_are_fatal_like_redis() {
        let e = parse(&["--nosuch".to_string(), "1".to_string()]).err().unwrap();
        assert!(e.contains("FATAL CONFIG FILE ERROR"), "{}", e);
        assert!(e.contains("Bad directive"), "{}", e);
    }
}
