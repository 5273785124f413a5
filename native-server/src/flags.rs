//! redis-server's command line: an optional config file first (`-` for stdin), then
//! `--directive value ...` pairs, each starting a new config line. Both sources are read as
//! one redis.conf text (`include` pulls in more files), so a directive works the same in
//! the file and as a flag, and an error names its line as Redis's does.

use std::io::Read;

use cinnabar::config::ConfError;

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

/// Redis's fatal config error block (loadServerConfigFromString's `loaderr`): the line's
/// number and text when the error has one.
pub fn fatal(at: Option<(usize, &str)>, why: &str) -> String {
    let mut out = format!("\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\n", cinnabar::REDIS_VERSION);
    if let Some((line, text)) = at {
        out.push_str(&format!("Reading the configuration file, at line {}\n>>> '{}'\n", line, text));
    }
    out.push_str(why);
    out
}

pub fn parse(args: &[String]) -> Result<Startup, String> {
    if let Some(a) = args.first() {
        match a.as_str() {
            "-v" | "--version" => {
                return Ok(Startup::Exit(format!("Cinnabar server v={} (Redis {} compatible)", cinnabar::CINNABAR_VERSION, cinnabar::REDIS_VERSION)))
            }
            "-h" | "--help" => return Ok(Startup::Exit(USAGE.into())),
            _ => {}
        }
    }
    // As redis-server's main(): the config file, then stdin when `-` is the first or last
    // argument, then the flags as one more config text, each `--name` starting a line. A
    // name's values are quoted (sdscatrepr), so line numbers and the `>>>` line of an error
    // read as Redis's do.
    let mut text = String::new();
    let mut config_file = None;
    let mut j = 0;
    if let Some(a) = args.first().filter(|a| !a.starts_with('-')) {
        text = read_file(a)?;
        config_file = Some(std::fs::canonicalize(a).map(|p| p.display().to_string()).unwrap_or_else(|_| a.clone()));
        j = 1;
    }
    let mut from_stdin = false;
    let mut options = String::new();
    // After a name, the next argument is its value even if it starts with `--`.
    let mut handled_last = true;
    while j < args.len() {
        let a = &args[j];
        let last = j == args.len() - 1;
        if a == "-" && (j == 0 || last) {
            from_stdin = true;
        } else if handled_last && a.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&a[2..]);
            options.push(' ');
            // A name and its value in one argument ("--port 6380") is a whole directive.
            handled_last = a.split_whitespace().count() > 1;
            let next_is_name = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
            // `--save` with no value means `save ""` (7.0.1's compatibility rule).
            if a.eq_ignore_ascii_case("--save") && (last || next_is_name) {
                options.push_str("\"\"");
                handled_last = true;
            }
        } else {
            // Values before any name start a line of their own, as Redis reads
            // `redis-server conf loglevel verbose`.
            options.push_str(&quote(a));
            options.push(' ');
            handled_last = true;
        }
        j += 1;
    }
    if from_stdin {
        std::io::stdin().read_to_string(&mut text).map_err(|e| format!("Reading config from stdin: {}", e))?;
    }
    text.push('\n');
    text.push_str(&options);
    let directives = cinnabar::config::load_conf_with_dir(&text, &mut read_include, Some(crate::process::change_dir)).map_err(|e| match e {
        ConfError::Line { line, text, reason } => fatal(Some((line, &text)), &reason),
        ConfError::Include(msg) => msg,
    })?;
    Ok(Startup::Run(Settings { config_file, directives }))
}

/// A config file's text, or Redis's message for one that cannot be opened.
fn read_file(path: &str) -> Result<String, String> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("Fatal error, can't open config file '{}': {}", path, crate::files::strerror(&e)))
}

/// `include <path>`: the file's text, relative paths from the working directory as Redis's
/// fopen reads them. A pattern (`*`, `?`, `[`) includes every match in order, their texts
/// joined, and matching nothing includes nothing (so an empty conf.d is fine).
fn read_include(path: &str) -> Result<String, String> {
    if !path.contains(['*', '?', '[']) {
        return read_file(path);
    }
    let mut text = String::new();
    for file in glob(path) {
        text.push_str(&read_file(&file)?);
    }
    Ok(text)
}

/// glob(3)'s matches for a pattern, sorted as glob sorts them.
fn glob(pattern: &str) -> Vec<String> {
    let Ok(c) = std::ffi::CString::new(pattern) else {
        return vec![];
    };
    // SAFETY: glob_t is plain data that glob fills and globfree releases; the paths are
    // copied out before that.
    unsafe {
        let mut g: libc::glob_t = std::mem::zeroed();
        if libc::glob(c.as_ptr(), 0, None, &mut g) != 0 {
            libc::globfree(&mut g);
            return vec![];
        }
        let paths = (0..g.gl_pathc).map(|i| std::ffi::CStr::from_ptr(*g.gl_pathv.add(i)).to_string_lossy().into_owned()).collect();
        libc::globfree(&mut g);
        paths
    }
}

/// Quotes a flag value as sdscatrepr does, so the config-line parser reads it back whole.
fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for b in s.bytes() {
        match b {
            b'\\' => q.push_str("\\\\"),
            b'"' => q.push_str("\\\""),
            b'\n' => q.push_str("\\n"),
            b'\r' => q.push_str("\\r"),
            b'\t' => q.push_str("\\t"),
            7 => q.push_str("\\a"),
            8 => q.push_str("\\b"),
            0x20..=0x7e => q.push(b as char),
            _ => q.push_str(&format!("\\x{:02x}", b)),
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
    fn unknown_directives_are_fatal_with_the_line_flags_make() {
        let e = parse(&["--nosuch".to_string(), "1".to_string()]).err().unwrap();
        // Checked against redis-server 7.0.15: with no file, flags start at line 2.
        assert_eq!(e, "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'nosuch \"1\"'\nBad directive or wrong number of arguments");
    }

    #[test]
    fn a_name_without_value_takes_the_next_argument_and_values_are_quoted_like_sdscatrepr() {
        let d = run(&["--requirepass", "--x", "--save", "--port", "7000"]);
        assert_eq!(d, vec![("requirepass".into(), "--x".into()), ("save".into(), "".into()), ("port".into(), "7000".into())]);
        assert_eq!(quote("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01\\xc3\\xa9\"");
        assert_eq!(run(&["--requirepass", "a\"b\\c\n\u{1}é"]), vec![("requirepass".into(), "a\"b\\c\n\u{1}é".into())]);
    }

    /// unit/introspection's command line cases: a name and its value in one argument, and
    /// values before any name (both accepted by redis-server 7.0.15).
    #[test]
    fn a_name_and_value_in_one_argument_and_leading_values_read_as_redis() {
        let d = run(&["--maxmemory 700mb", "--maxmemory-policy volatile-lru"]);
        assert_eq!(d, vec![("maxmemory".into(), "700mb".into()), ("maxmemory-policy".into(), "volatile-lru".into())]);
        let d = run(&["/dev/null", "loglevel", "verbose", "--maxmemory '700mb'", "--proc-title-template --my--title--template"]);
        assert_eq!(d[0], ("loglevel".into(), "verbose".into()));
        assert_eq!(d[1], ("maxmemory".into(), "700mb".into()));
        assert_eq!(d[2], ("proc-title-template".into(), "--my--title--template".into()));
    }
}
