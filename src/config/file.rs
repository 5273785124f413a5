//! redis.conf: its quoting, includes and line-numbered errors, as Redis reads the file
//! (loadServerConfigFromString).

use super::*;

/// Parses redis.conf text into (directive, arguments) pairs, with Redis's quoting rules
/// (sdssplitargs) and `#` comments, without judging the directives (CONFIG REWRITE reads
/// old files this way).
pub fn parse_conf(text: &str) -> std::result::Result<Vec<(String, Vec<String>)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let args = crate::resp::inline::split_inline(t.as_bytes()).ok_or_else(|| format!("line {}: Unbalanced quotes in configuration line", n + 1))?;
        if args.is_empty() {
            continue;
        }
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let rest = args[1..].iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        out.push((name, rest));
    }
    Ok(out)
}

/// Why a config text was refused, as loadServerConfigFromString reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfError {
    /// A line Redis refuses: its number within its own file, its text (trimmed), and why.
    Line { line: usize, text: String, reason: String },
    /// An included file could not be read: the host's message, printed as it is.
    Include(String),
}

/// How deep `include` may nest; a file that includes itself stops here instead of
/// recursing until the stack runs out.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Reads a whole config text as loadServerConfigFromString does, line by line in order:
/// each directive is checked as it comes (unknown name, argument count, value) against a
/// scratch configuration, `include <path>` reads another text through `include` (the host
/// reads files; the path is as given, so relative to the working directory) and is read
/// in place, and the first refusal stops everything with its line. The result is the
/// directives in order, each with its value as `Config::set` takes it.
pub fn load_conf(text: &str, include: &mut dyn FnMut(&str) -> std::result::Result<String, String>) -> std::result::Result<Vec<(String, String)>, ConfError> {
    load_conf_with_dir(text, include, None)
}

/// `load_conf` for a host that works in `dir`: each `dir` line moves there as it is read,
/// as Redis's does (later includes are then relative to it), and one that cannot is the
/// line's error.
pub fn load_conf_with_dir(
    text: &str,
    include: &mut dyn FnMut(&str) -> std::result::Result<String, String>,
    change_dir: Option<fn(&str) -> std::result::Result<String, String>>,
) -> std::result::Result<Vec<(String, String)>, ConfError> {
    let mut scratch = Config::default();
    let mut renames = crate::command::rename::Renames::default();
    let mut out = Vec::new();
    let mut host = ConfHost { include, change_dir };
    load_conf_into(text, &mut host, &mut scratch, &mut renames, &mut out, 0)?;
    fold_save_lines(&mut out);
    Ok(out)
}

/// Several `save` lines add up, as Redis reads them (setConfigSaveOption while reading the
/// file: the first line replaces the defaults, later ones append, `save ""` empties): one
/// `save` directive with every point, where the first was.
fn fold_save_lines(out: &mut Vec<(String, String)>) {
    let mut points: Option<String> = None;
    let mut first = None;
    for (i, (name, value)) in out.iter().enumerate() {
        if name != "save" {
            continue;
        }
        first.get_or_insert(i);
        let v = value.trim();
        points = Some(match points {
            Some(p) if !v.is_empty() && !p.is_empty() => format!("{} {}", p, v),
            _ => v.to_string(),
        });
    }
    let (Some(first), Some(points)) = (first, points) else { return };
    let mut i = 0;
    out.retain(|(name, _)| {
        i += 1;
        name != "save" || i - 1 == first
    });
    if let Some(slot) = out.iter_mut().find(|(n, _)| n == "save") {
        slot.1 = points;
    }
}

/// What reading a config text needs of the host.
struct ConfHost<'a> {
    include: &'a mut dyn FnMut(&str) -> std::result::Result<String, String>,
    change_dir: Option<fn(&str) -> std::result::Result<String, String>>,
}

fn load_conf_into(
    text: &str,
    host: &mut ConfHost,
    scratch: &mut Config,
    renames: &mut crate::command::rename::Renames,
    out: &mut Vec<(String, String)>,
    depth: usize,
) -> std::result::Result<(), ConfError> {
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |reason: &str| ConfError::Line { line: i + 1, text: line.to_string(), reason: reason.to_string() };
        let args = crate::resp::inline::split_inline(line.as_bytes()).ok_or_else(|| fail("Unbalanced quotes in configuration line"))?;
        if args.is_empty() {
            continue;
        }
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let values: Vec<String> = args[1..].iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if let Some(p) = index(&name) {
            if !Config::is_multi_arg(p) && values.len() != 1 {
                return Err(fail("wrong number of arguments"));
            }
            let mut value = values.join(" ");
            scratch.set_at(p, &value, true).map_err(|why| fail(&why))?;
            if let (Some(change_dir), "dir") = (host.change_dir, PARAMS[p].name) {
                // Kept as the absolute path: a relative one meant where the server was.
                value = change_dir(&value).map_err(|why| fail(&why))?;
            }
            out.push((name, value));
        } else if name == "include" && values.len() == 1 {
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(fail("Too many nested include directives"));
            }
            let text = (host.include)(&values[0]).map_err(ConfError::Include)?;
            load_conf_into(&text, host, scratch, renames, out, depth + 1)?;
        } else if name == "user" && args.len() >= 2 {
            // ACLAppendUserForLoading: the rules are tried on a scratch user now (an unknown
            // command may still come from a module, so only that is let through); the user
            // is created when the server starts. The refusal names argv[j] for the j-th
            // rule, as Redis's does.
            let fail_at =
                |j: usize, why: &str| fail(&format!("Error in user declaration '{}': {}", String::from_utf8_lossy(&args[j.min(args.len() - 1)]), why));
            let quoted = |a: &[bytes::Bytes]| a.iter().map(|x| repr(&String::from_utf8_lossy(x))).collect::<Vec<_>>().join(" ");
            if out.iter().any(|(n, v)| n == "user" && crate::resp::inline::split_inline(v.as_bytes()).is_some_and(|a| a.first() == Some(&args[1]))) {
                return Err(fail_at(1, crate::acl::RuleError::Duplicate.message()));
            }
            let rules = crate::acl::merge_selector_args(&args[2..]).map_err(|j| fail_at(j, "Syntax error"))?;
            let mut u = crate::acl::User::new(args[1].clone(), false);
            for (j, op) in rules.iter().enumerate() {
                match u.apply(op, false) {
                    Ok(()) | Err(crate::acl::RuleError::UnknownCommand) => {}
                    Err(e) => return Err(fail_at(j, e.message())),
                }
            }
            out.push((name, quoted(&args[1..])));
        } else if name == "rename-command" && args.len() == 3 {
            renames.add(&args[1], &args[2]).map_err(fail)?;
            out.push((name, format!("{} {}", repr(&String::from_utf8_lossy(&args[1])), repr(&String::from_utf8_lossy(&args[2])))));
        } else {
            return Err(fail("Bad directive or wrong number of arguments"));
        }
    }
    Ok(())
}
