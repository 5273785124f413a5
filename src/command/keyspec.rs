//! Key specs: where a command's keys are and what it does to them, as Redis 7 declares them
//! (src/commands/*.json `key_specs`, server.h `keySpec`). They drive COMMAND INFO's tenth field,
//! COMMAND GETKEYS / GETKEYSANDFLAGS (db.c getKeysUsingKeySpecs, getKeysFromCommandWithSpecs)
//! and the `movablekeys` flag (server.c populateCommandLegacyRangeSpec).
//!
//! A row declares them as one line (`CommandSpec::key_specs`), specs joined by `; `:
//!
//! ```text
//!   FLAGS BEGIN FIND [-- notes]
//!   BEGIN  index:N | keyword:WORD:STARTFROM | unknown
//!   FIND   range:LASTKEY:STEP:LIMIT | keynum:NUMKEYSIDX:FIRSTKEY:STEP | unknown
//! ```
//!
//! e.g. LMOVE's `RW access delete index:1 range:0:1:0; RW insert index:2 range:0:1:0`.
//! `scripts/dev/redis-keyspecs.py` writes them from a running redis-server 7.0; a test checks
//! every declaration parses and agrees with the row's legacy first/last/step.

use bytes::Bytes;

use crate::reply::Reply;

/// Key flags, as bits; `FLAG_NAMES` gives their spelling (addReplyFlagsForKeyArgs's order).
pub mod flags {
    pub const RO: u16 = 1 << 0;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;

    pub const FLAG_NAMES: &[(u16, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

#[derive(Clone, Debug, PartialEq)]
pub enum Begin {
    Index(i32),
    Keyword { keyword: &'static str, start_from: i32 },
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Find {
    Range { last: i32, step: i32, limit: i32 },
    Keynum { index: i32, first: i32, step: i32 },
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
pub struct KeySpec {
    pub flags: u16,
    pub begin: Begin,
    pub find: Find,
    pub notes: &'static str,
}

/// Parses a row's declaration; the error names the part that is wrong.
pub fn parse(decl: &'static str) -> Result<Vec<KeySpec>, String> {
    let mut specs = vec![];
    if decl.trim().is_empty() {
        return Ok(specs);
    }
    for one in decl.split("; ") {
        let (body, notes) = match one.split_once(" -- ") {
            Some((b, n)) => (b, n),
            None => (one, ""),
        };
        let (mut fl, mut begin, mut find) = (0u16, None, None);
        for word in body.split_whitespace() {
            let num = |s: &str| s.parse::<i32>().map_err(|_| format!("bad number in {:?}", word));
            let parts: Vec<&'static str> = word.split(':').collect();
            match parts[..] {
                ["index", n] => begin = Some(Begin::Index(num(n)?)),
                ["keyword", k, n] => begin = Some(Begin::Keyword { keyword: k, start_from: num(n)? }),
                ["unknown"] if begin.is_none() => begin = Some(Begin::Unknown),
                ["unknown"] => find = Some(Find::Unknown),
                ["range", l, s, m] => find = Some(Find::Range { last: num(l)?, step: num(s)?, limit: num(m)? }),
                ["keynum", i, f, s] => find = Some(Find::Keynum { index: num(i)?, first: num(f)?, step: num(s)? }),
                [name] => match flags::FLAG_NAMES.iter().find(|(_, n)| *n == name) {
                    Some((b, _)) => fl |= b,
                    None => return Err(format!("unknown key flag {:?}", name)),
                },
                _ => return Err(format!("cannot read {:?}", word)),
            }
        }
        let begin = begin.ok_or_else(|| format!("no begin_search in {:?}", one))?;
        let find = find.ok_or_else(|| format!("no find_keys in {:?}", one))?;
        specs.push(KeySpec { flags: fl, begin, find, notes });
    }
    Ok(specs)
}

/// A row's specs; declarations are checked by a test over the whole table.
pub fn specs_of(decl: &'static str) -> Vec<KeySpec> {
    parse(decl).unwrap_or_default()
}

pub fn flag_reply(fl: u16) -> Reply {
    Reply::Set(flags::FLAG_NAMES.iter().filter(|(b, _)| fl & b != 0).map(|(_, n)| Reply::Status((*n).into())).collect())
}

impl KeySpec {
    /// COMMAND INFO's map for this spec.
    pub fn to_reply(&self) -> Reply {
        let s = Reply::bulk_str;
        let int = |n: i32| Reply::Int(n as i64);
        let (btype, bspec) = match &self.begin {
            Begin::Index(i) => ("index", vec![(s("index"), int(*i))]),
            Begin::Keyword { keyword, start_from } => ("keyword", vec![(s("keyword"), s(keyword)), (s("startfrom"), int(*start_from))]),
            Begin::Unknown => ("unknown", vec![]),
        };
        let (ftype, fspec) = match &self.find {
            Find::Range { last, step, limit } => ("range", vec![(s("lastkey"), int(*last)), (s("keystep"), int(*step)), (s("limit"), int(*limit))]),
            Find::Keynum { index, first, step } => ("keynum", vec![(s("keynumidx"), int(*index)), (s("firstkey"), int(*first)), (s("keystep"), int(*step))]),
            Find::Unknown => ("unknown", vec![]),
        };
        let mut m = vec![];
        if !self.notes.is_empty() {
            m.push((s("notes"), s(self.notes)));
        }
        m.push((s("flags"), flag_reply(self.flags)));
        m.push((s("begin_search"), Reply::Map(vec![(s("type"), s(btype)), (s("spec"), Reply::Map(bspec))])));
        m.push((s("find_keys"), Reply::Map(vec![(s("type"), s(ftype)), (s("spec"), Reply::Map(fspec))])));
        Reply::Map(m)
    }
}

/// The legacy (first, last, step) triple COMMAND INFO shows, and whether the command is
/// `movablekeys`: Redis's populateCommandLegacyRangeSpec over the specs.
pub fn legacy_range(specs: &[KeySpec]) -> ((i32, i32, i32), bool) {
    if specs.is_empty() {
        return ((0, 0, 0), false);
    }
    if let [one] = specs {
        if let (Begin::Index(pos), Find::Range { last, step, .. }) = (&one.begin, &one.find) {
            let last = if *last >= 0 { pos + last } else { *last };
            return ((*pos, last, *step), one.flags & flags::INCOMPLETE != 0);
        }
    }
    let (mut first, mut last, mut prev_last, mut movable) = (i32::MAX, 0i32, 0i32, false);
    for s in specs {
        let (Begin::Index(pos), Find::Range { last: l, step, .. }) = (&s.begin, &s.find) else {
            movable = true;
            continue;
        };
        if *step != 1 || (prev_last != 0 && prev_last != pos - 1) {
            movable = true;
            continue;
        }
        if s.flags & flags::INCOMPLETE != 0 {
            movable = true;
        }
        first = first.min(*pos);
        let abs = if *l >= 0 { l + pos } else { *l };
        // Unsigned comparison, as Redis: a negative (from the end) last key wins.
        last = if (abs as u32) > (last as u32) { abs } else { last };
        prev_last = last;
    }
    if first == i32::MAX {
        return ((0, 0, 0), true);
    }
    ((first, last, 1), movable)
}

/// db.c getKeysUsingKeySpecs: each key's position and its spec's flags, or None when a
/// spec cannot be applied to these arguments (unknown, incomplete, a bad count).
pub fn keys_using_specs(specs: &[KeySpec], argv: &[Bytes]) -> Option<Vec<(usize, u16)>> {
    let argc = argv.len() as i64;
    let mut out = vec![];
    for spec in specs {
        if spec.flags & flags::NOT_KEY != 0 {
            continue;
        }
        let mut first: i64 = match &spec.begin {
            Begin::Index(p) => *p as i64,
            Begin::Keyword { keyword, start_from } => {
                let sf = *start_from as i64;
                let start = if sf > 0 { sf } else { argc + sf };
                let end = if sf > 0 { argc - 1 } else { 1 };
                let mut i = start;
                let mut found = 0;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                        found = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            Begin::Unknown => return None,
        };
        let (last, step) = match &spec.find {
            Find::Range { last, step, limit } => {
                let (l, lim) = (*last as i64, *limit as i64);
                let last = if l >= 0 {
                    first + l
                } else if lim == 0 {
                    argc + l
                } else {
                    first + ((argc - first) / lim + l)
                };
                (last, *step as i64)
            }
            Find::Keynum { index, first: f, step } => {
                let idx = first + *index as i64;
                if *index as i64 >= argc || idx >= argc {
                    return None;
                }
                let n = crate::util::parse_i64(&argv[idx as usize]).filter(|n| *n >= 0)?;
                first += *f as i64;
                (first + n - 1, *step as i64)
            }
            Find::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        // (Every position is in bounds here: `last` was checked.)
        let mut i = first;
        while i <= last {
            out.push((i as usize, spec.flags));
            i += step.max(1);
        }
        if spec.flags & flags::INCOMPLETE != 0 {
            return None;
        }
    }
    Some(out)
}

/// db.c getKeysFromCommandWithSpecs: the specs when they are reliable (some real key, no
/// variable flags, applicable to these arguments), else the command's own key finder.
/// None: the arguments name no valid keys.
pub fn keys_with_flags(spec: &super::CommandSpec, argv: &[Bytes]) -> Option<Vec<(usize, u16)>> {
    let specs = specs_of(spec.key_specs);
    let has_key = specs.iter().any(|s| s.flags & flags::NOT_KEY == 0);
    let variable = specs.iter().any(|s| s.flags & flags::VARIABLE_FLAGS != 0);
    if has_key && !variable {
        if let Some(keys) = keys_using_specs(&specs, argv) {
            return Some(keys);
        }
    }
    spec.getkeys.map(|f| f(argv))
}

/// server.c doesCommandHaveKeys.
pub fn has_keys(spec: &super::CommandSpec) -> bool {
    spec.getkeys.is_some() || specs_of(spec.key_specs).iter().any(|s| s.flags & flags::NOT_KEY == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::table::table;

    fn each_row(mut f: impl FnMut(String, &'static crate::command::CommandSpec)) {
        for spec in &table().all {
            f(spec.name.to_string(), spec);
            for sub in spec.subcommands {
                f(format!("{}|{}", spec.name, sub.name), sub);
            }
        }
    }

    #[test]
    fn every_key_spec_declaration_parses() {
        each_row(|name, spec| {
            if let Err(e) = parse(spec.key_specs) {
                panic!("{}: {}", name, e);
            }
        });
    }

    /// The legacy triple and the numkeys position the dispatcher uses are what the specs
    /// imply, so the specs stay the one truth about keys.
    #[test]
    fn legacy_key_positions_agree_with_the_key_specs() {
        let mut bad = vec![];
        each_row(|name, spec| {
            let specs = specs_of(spec.key_specs);
            let (triple, _) = legacy_range(&specs);
            if triple != (spec.first_key, spec.last_key, spec.step) {
                bad.push(format!("{}: declared {:?}, specs say {:?}", name, (spec.first_key, spec.last_key, spec.step), triple));
            }
            if (spec.first_key > 0 || spec.keynum.is_some() || spec.getkeys.is_some()) && specs.is_empty() {
                bad.push(format!("{}: keys without key specs", name));
            }
            if let Some((idx, first, step)) = spec.keynum {
                let found = specs.iter().any(|s| matches!((&s.begin, &s.find), (Begin::Index(i), Find::Keynum { index: 0, first: f, step: st }) if *i == idx && *f == first && *st == step));
                if !found {
                    bad.push(format!("{}: numkeys {:?} not in its key specs", name, (idx, first, step)));
                }
            }
        });
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn specs_find_keys_by_index_keyword_and_count() {
        let b = |v: &[&str]| v.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect::<Vec<_>>();
        let xread = parse("RO access keyword:STREAMS:1 range:-1:1:2").unwrap();
        assert_eq!(
            keys_using_specs(&xread, &b(&["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"])),
            Some(vec![(4, flags::RO | flags::ACCESS), (5, flags::RO | flags::ACCESS)])
        );
        let migrate = parse("RW access delete index:3 range:0:1:0; RW access delete incomplete keyword:KEYS:-2 range:-1:1:0").unwrap();
        assert_eq!(keys_using_specs(&migrate, &b(&["MIGRATE", "h", "p", "k", "0", "5"])).map(|v| v.len()), Some(1));
        assert_eq!(keys_using_specs(&migrate, &b(&["MIGRATE", "h", "p", "", "0", "5", "KEYS", "a", "b"])), None);
        let zu = parse("OW update index:1 range:0:1:0; RO access index:2 keynum:0:1:1").unwrap();
        assert_eq!(keys_using_specs(&zu, &b(&["ZUNIONSTORE", "d", "2", "a", "b"])).unwrap().iter().map(|k| k.0).collect::<Vec<_>>(), vec![1, 3, 4]);
        assert_eq!(keys_using_specs(&zu, &b(&["ZUNIONSTORE", "d", "3", "a", "b"])), None);
        assert_eq!(legacy_range(&zu), ((1, 1, 1), true));
        assert_eq!(legacy_range(&parse("OW update index:1 range:-1:2:0").unwrap()), ((1, -1, 2), false));
    }
}
