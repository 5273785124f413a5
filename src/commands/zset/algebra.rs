//! ZUNION, ZINTER, ZDIFF (and their STORE forms) and ZINTERCARD: sorted sets and plain sets
//! (score 1) combined with WEIGHTS and AGGREGATE. Redis: t_zset.c
//! zunionInterDiffGenericCommand.

use bytes::Bytes;
use hashbrown::HashMap;

use super::{pairs_reply, store_pairs};
use crate::command::args::positive_long;
use crate::command::dispatch::Ctx;
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::Reply;
use crate::util::parse_f64;

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += v;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => *target = target.min(v),
        Aggregate::Max => *target = target.max(v),
    }
}

/// One input: its (member, score) pairs (sets score 1) and weight.
struct Source {
    items: Vec<(Bytes, f64)>,
    weight: f64,
}

impl Source {
    fn score(&self, m: &[u8]) -> Option<f64> {
        // Inputs are small relative to the work; a lookup map is built lazily by callers
        // that need many probes.
        self.items.iter().find(|(x, _)| &x[..] == m).map(|(_, s)| *s)
    }
}

struct Parsed {
    sources: Vec<Source>,
    how: Aggregate,
    with_scores: bool,
    limit: usize,
}

/// Parses `numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
/// (or `[LIMIT n]` for ZINTERCARD) at `argv[at..]`, loading and type-checking the keys first
/// as Redis does.
fn parse(ctx: &mut Ctx, argv: &[Bytes], at: usize, op: Op, store: bool, card: bool) -> Result<Parsed> {
    let name = ctx.client.conn.last_cmd.map_or("", |(n, _)| n);
    let n = crate::command::args::int(&argv[at])?;
    if n < 1 {
        return Err(Error::Dyn(format!("ERR at least 1 input key is needed for '{}' command", name)));
    }
    if n as usize > argv.len() - at - 1 {
        return Err(Error::Syntax);
    }
    let n = n as usize;
    let mut sources = Vec::with_capacity(n);
    for k in &argv[at + 1..at + 1 + n] {
        let items = match ctx.lookup_read(k).map(|e| &e.value) {
            None => vec![],
            Some(Value::ZSet(z)) => z.all(),
            Some(Value::Set(s)) => s.members().into_iter().map(|m| (m, 1.0)).collect(),
            Some(_) => return Err(Error::WrongType),
        };
        sources.push(Source { items, weight: 1.0 });
    }
    let (mut how, mut with_scores, mut limit) = (Aggregate::Sum, false, 0usize);
    let mut j = at + 1 + n;
    while j < argv.len() {
        let left = argv.len() - j;
        let is = |w: &str| argv[j].eq_ignore_ascii_case(w.as_bytes());
        if op != Op::Diff && !card && left > n && is("weights") {
            for (i, s) in sources.iter_mut().enumerate() {
                s.weight = parse_f64(&argv[j + 1 + i]).ok_or(Error::Msg("ERR weight value is not a float"))?;
            }
            j += 1 + n;
        } else if op != Op::Diff && !card && left >= 2 && is("aggregate") {
            let a = &argv[j + 1];
            how = if a.eq_ignore_ascii_case(b"sum") {
                Aggregate::Sum
            } else if a.eq_ignore_ascii_case(b"min") {
                Aggregate::Min
            } else if a.eq_ignore_ascii_case(b"max") {
                Aggregate::Max
            } else {
                return Err(Error::Syntax);
            };
            j += 2;
        } else if !store && !card && is("withscores") {
            with_scores = true;
            j += 1;
        } else if card && left >= 2 && is("limit") {
            limit = positive_long(&argv[j + 1], Some("ERR LIMIT can't be negative"))? as usize;
            j += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    Ok(Parsed { sources, how, with_scores, limit })
}

/// The combined set, in Redis's reply order (ascending score, then member).
fn combine(p: &mut Parsed, op: Op) -> Vec<(Bytes, f64)> {
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut out: Vec<(Bytes, f64)> = match op {
        Op::Inter => {
            p.sources.sort_by_key(|s| s.items.len());
            let maps: Vec<HashMap<&[u8], f64>> = p.sources[1..].iter().map(|s| s.items.iter().map(|(m, v)| (&m[..], *v)).collect()).collect();
            let mut out = vec![];
            for (m, v) in &p.sources[0].items {
                let mut score = weighted(*v, p.sources[0].weight);
                let mut all = true;
                for (i, map) in maps.iter().enumerate() {
                    match map.get(&m[..]) {
                        Some(x) => aggregate(&mut score, x * p.sources[i + 1].weight, p.how),
                        None => {
                            all = false;
                            break;
                        }
                    }
                }
                if all {
                    out.push((m.clone(), score));
                    if p.limit != 0 && out.len() >= p.limit {
                        break;
                    }
                }
            }
            out
        }
        Op::Union => {
            let mut acc: HashMap<Bytes, f64> = HashMap::new();
            let mut order = vec![];
            for s in &p.sources {
                for (m, v) in &s.items {
                    let w = weighted(*v, s.weight);
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, w, p.how),
                        None => {
                            acc.insert(m.clone(), w);
                            order.push(m.clone());
                        }
                    }
                }
            }
            order
                .into_iter()
                .map(|m| {
                    let s = acc[&m];
                    (m, s)
                })
                .collect()
        }
        Op::Diff => {
            let (first, rest) = p.sources.split_first().expect("at least one");
            first.items.iter().filter(|(m, _)| rest.iter().all(|s| s.score(m).is_none())).cloned().collect()
        }
    };
    out.sort_by(|a, b| crate::ds::ostree::cmp_key((a.1, &a.0), (b.1, &b.0)));
    out
}

fn read_op(ctx: &mut Ctx, argv: &[Bytes], op: Op) -> Result<Reply> {
    let mut p = parse(ctx, argv, 1, op, false, false)?;
    let resp3 = ctx.client.conn.resp == 3;
    Ok(pairs_reply(combine(&mut p, op), p.with_scores, resp3))
}

fn store_op(ctx: &mut Ctx, argv: &[Bytes], op: Op, event: &'static str) -> Result<Reply> {
    let mut p = parse(ctx, argv, 2, op, true, false)?;
    let items = combine(&mut p, op);
    Ok(store_pairs(ctx, &argv[1], items, event))
}

pub fn zunion(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    read_op(ctx, argv, Op::Union)
}

pub fn zinter(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    read_op(ctx, argv, Op::Inter)
}

pub fn zdiff(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    read_op(ctx, argv, Op::Diff)
}

pub fn zunionstore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    store_op(ctx, argv, Op::Union, "zunionstore")
}

pub fn zinterstore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    store_op(ctx, argv, Op::Inter, "zinterstore")
}

pub fn zdiffstore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    store_op(ctx, argv, Op::Diff, "zdiffstore")
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn zintercard(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let mut p = parse(ctx, argv, 1, Op::Inter, false, true)?;
    Ok(Reply::Int(combine(&mut p, Op::Inter).len() as i64))
}
