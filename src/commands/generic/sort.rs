//! SORT and SORT_RO: sort a list, set or sorted set numerically or by bytes, optionally by
//! external keys (`BY weight_*`, `BY hash_*->field`), fetching others (`GET`), and storing
//! the result as a list. Redis: sort.c.

use bytes::Bytes;

use crate::command::args;
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::Reply;
use crate::types::list::{End, List};

/// C's strtod as SORT uses it: leading spaces allowed, nothing after the number, no NaN,
/// no overflow; the empty string reads as 0 (strtod stops at once and finds the NUL).
fn strtod(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let s = std::str::from_utf8(b).ok()?.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let v = crate::util::parse_f64(s.as_bytes())?;
    let lower = s.to_ascii_lowercase();
    if v.is_infinite() && !lower.contains("inf") {
        return None; // ERANGE
    }
    Some(v)
}

/// lookupKeyByPattern: `#` is the element itself; otherwise the first `*` is replaced by it
/// and the key read as a string, or as a hash field after `->`.
fn by_pattern(ctx: &mut Ctx, pattern: &[u8], elem: &Bytes) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(elem.clone());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let arrow = pattern[star + 1..].windows(2).position(|w| w == b"->").map(|i| i + star + 1).filter(|&i| i + 2 < pattern.len());
    let key_end = arrow.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(key_end + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    let e = ctx.lookup_read(&key)?;
    match (arrow, &e.value) {
        (None, Value::Str(s)) => Some(s.to_bytes()),
        (Some(a), Value::Hash(h)) => h.get(&pattern[a + 2..]),
        _ => None,
    }
}

/// COMMAND GETKEYS for SORT: the key, and the STORE destination if any (sortGetKeys).
pub fn sort_keys(argv: &[Bytes]) -> Vec<(usize, u16)> {
    use crate::command::keyspec::flags::*;
    let mut keys = vec![(1, RO | ACCESS)];
    let mut j = 2;
    while j < argv.len() {
        let a = &argv[j];
        let skip = if a.eq_ignore_ascii_case(b"limit") {
            2
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            1
        } else if a.eq_ignore_ascii_case(b"store") {
            if j + 1 < argv.len() {
                keys.truncate(1);
                keys.push((j + 1, OW | UPDATE));
            }
            1
        } else {
            0
        };
        j += 1 + skip;
    }
    keys
}

/// SORT_RO's keys: BY and GET name keys only at run time, so just the sorted one.
pub fn sort_ro_keys(_argv: &[Bytes]) -> Vec<(usize, u16)> {
    use crate::command::keyspec::flags::*;
    vec![(1, RO | ACCESS)]
}

struct Item {
    elem: Bytes,
    score: f64,
    cmp: Option<Bytes>,
}

/// ACLUserCheckCmdWithUnrestrictedKeyAccess: a selector that allows this SORT and reads
/// every key.
fn full_key_access(ctx: &Ctx, argv: &[Bytes]) -> bool {
    if ctx.client.auth.acl_unrestricted_at == ctx.srv.acl.generation {
        return true;
    }
    let Some(user) = ctx.srv.acl.user(&ctx.client.auth.user) else { return false };
    let Some((spec, id, is_sub)) = crate::commands::server::acl::resolve(argv) else { return false };
    user.selectors.iter().any(|s| s.check(spec, id, is_sub, argv, &mut None).is_ok() && s.unrestricted_keys(crate::command::keyspec::flags::ACCESS))
}

fn sort_generic(ctx: &mut Ctx, argv: &[Bytes], readonly: bool) -> Result<Reply> {
    let (mut desc, mut alpha, mut dontsort) = (false, false, false);
    let (mut limit_start, mut limit_count) = (0i64, -1i64);
    let (mut store, mut by, mut gets): (Option<&Bytes>, Option<&Bytes>, Vec<&Bytes>) = (None, None, vec![]);
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let is = |w: &str| argv[j].eq_ignore_ascii_case(w.as_bytes());
        if is("asc") {
            desc = false;
        } else if is("desc") {
            desc = true;
        } else if is("alpha") {
            alpha = true;
        } else if is("limit") && left >= 2 {
            limit_start = args::int(&argv[j + 1])?;
            limit_count = args::int(&argv[j + 2])?;
            j += 2;
        } else if !readonly && is("store") && left >= 1 {
            store = Some(&argv[j + 1]);
            j += 1;
        } else if is("by") && left >= 1 {
            by = Some(&argv[j + 1]);
            dontsort = !argv[j + 1].contains(&b'*');
            // A real pattern reads keys no ACL check saw: only for users who may read them all.
            if !dontsort && !full_key_access(ctx, argv) {
                return Err(Error::Msg("ERR BY option of SORT denied due to insufficient ACL permissions."));
            }
            j += 1;
        } else if is("get") && left >= 1 {
            if !full_key_access(ctx, argv) {
                return Err(Error::Msg("ERR GET option of SORT denied due to insufficient ACL permissions."));
            }
            gets.push(&argv[j + 1]);
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    // The elements, in the order the value keeps them. Redis converts a small sorted set to
    // its big encoding before sorting it, and OBJECT ENCODING shows it afterwards.
    let present = match ctx.lookup_read(&argv[1]).map(|e| &mut e.value) {
        Some(Value::ZSet(z)) => {
            z.convert();
            true
        }
        other => other.is_some(),
    };
    // (A key kept expired by CLIENT PAUSE is missing, though still in place.)
    let (elems, kind): (Vec<Bytes>, &str) = match ctx.db().peek(&argv[1]).map(|e| &e.value).filter(|_| present) {
        None => (vec![], "list"),
        Some(Value::List(l)) => (l.to_vec(), "list"),
        Some(Value::Set(s)) => (s.members(), "set"),
        Some(Value::ZSet(z)) => (z.all().into_iter().map(|(m, _)| m).collect(), "zset"),
        Some(_) => return Err(Error::WrongType),
    };
    // A set has no order of its own: storing it unsorted, or handing it to a script, would
    // differ between replicas and AOF replays.
    let from_script = ctx.client.id == crate::script::watch::SCRIPT_CLIENT_ID;
    if dontsort && kind == "set" && (store.is_some() || from_script) {
        dontsort = false;
        alpha = true;
        by = None;
    }
    let len = elems.len() as i64;
    let start = limit_start.clamp(0, len);
    let count = limit_count.clamp(-1, len);
    let mut end = if count < 0 { len - 1 } else { start + count - 1 };
    let mut start = start;
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);
    let mut items: Vec<Item> = elems.into_iter().map(|elem| Item { elem, score: 0.0, cmp: None }).collect();
    if dontsort && desc && kind != "set" {
        // Lists and sorted sets keep their own order, read from the other end.
        items.reverse();
    }
    if !dontsort {
        let mut bad = false;
        for it in items.iter_mut() {
            let byval = match by {
                Some(p) => match by_pattern(ctx, p, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if alpha {
                if by.is_some() {
                    it.cmp = Some(byval);
                }
            } else {
                match strtod(&byval) {
                    Some(v) => it.score = v,
                    None => bad = true,
                }
            }
        }
        if bad {
            return Err(Error::Msg("ERR One or more scores can't be converted into double"));
        }
        let by_pattern = by.is_some();
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score.partial_cmp(&b.score).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.elem.cmp(&b.elem))
            } else if by_pattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.elem.cmp(&b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    let range: &[Item] = if end >= start && start >= 0 { &items[start as usize..=end as usize] } else { &[] };
    let mut out: Vec<Option<Bytes>> = Vec::with_capacity(range.len() * gets.len().max(1));
    for it in range {
        if gets.is_empty() {
            out.push(Some(it.elem.clone()));
        }
        for g in &gets {
            out.push(by_pattern(ctx, g, &it.elem));
        }
    }
    match store {
        None => Ok(Reply::Array(out.into_iter().map(Reply::opt_bulk).collect())),
        Some(dst) => {
            let n = out.len() as i64;
            if n > 0 {
                let fill = ctx.srv.config.hot.list_max_listpack_size;
                let mut l = List::default();
                for v in out {
                    l.push(End::Tail, &v.unwrap_or_default(), fill);
                }
                ctx.set_key(dst, Value::List(Box::new(l)), false);
                ctx.modified(dst, "sortstore");
            } else if ctx.db().remove(dst).is_some() {
                ctx.modified(dst, "del");
            }
            Ok(Reply::Int(n))
        }
    }
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dst]
pub fn sort(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    sort_generic(ctx, argv, false)
}

/// SORT_RO: SORT without STORE.
pub fn sort_ro(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    sort_generic(ctx, argv, true)
}
