//! Geo commands: geo sets are sorted sets whose scores are 52-bit geohashes, so GEOADD is
//! ZADD with computed scores and the searches scan the score ranges of 9 geohash cells.
//! Scores, distances, coordinates and the order of equal distances all match Redis's bytes:
//! the geometry is ported as is (geohash.rs, geohash_helper.rs) and results are sorted as
//! glibc's qsort (stable) or Redis's pqsort (with COUNT) order them. Redis: geo.c.

use bytes::Bytes;

use crate::command::args;
use crate::command::spec::{acl::GEO, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::object::Value;
use crate::reply::Reply;
use crate::types::zset::{ScoreRange, ZSet};

pub mod geohash;
pub mod geohash_helper;
#[cfg(test)]
mod tests;

use geohash::HashBits;
use geohash_helper::{Dims, Shape};

const G: &str = "geo";
const W: u32 = WRITE | DENYOOM;
const RADIUS: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("geoadd", -5, W, G, geoadd).key_specs("RW update index:1 range:0:1:0").keys(1, 1, 1).acl(GEO).doc("3.2.0", "Add one or more geospatial items in the geospatial index represented using a sorted set", "O(log(N)) for each item added, where N is the number of elements in the sorted set.").args("key condition=[NX|XX] [change=CH] longitude_latitude_member=(longitude@double latitude@double member) ..."),
    CommandSpec::new("geodist", -4, READONLY, G, geodist).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(GEO).doc("3.2.0", "Returns the distance between two members of a geospatial index", "O(log(N))").args("key member1 member2 unit=[m=M|km=KM|ft=FT|mi=MI]"),
    CommandSpec::new("geohash", -2, READONLY, G, geohash_cmd).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(GEO).doc("3.2.0", "Returns members of a geospatial index as standard geohash strings", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.").args("key member ..."),
    CommandSpec::new("geopos", -2, READONLY, G, geopos).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(GEO).doc("3.2.0", "Returns longitude and latitude of members of a geospatial index", "O(N) where N is the number of members requested.").args("key member ..."),
    CommandSpec::new("georadius", -6, W, G, georadius).key_specs("RO access index:1 range:0:1:0; OW update keyword:STORE:6 range:0:1:0; OW update keyword:STOREDIST:6 range:0:1:0").keys(1, 1, 1).getkeys(georadius_keys).acl(GEO).doc("3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", RADIUS).args("key longitude@double latitude@double radius@double unit=(m=M|km=KM|ft=FT|mi=MI) [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] order=[ASC|DESC] [STORE key] [STOREDIST key]"),
    CommandSpec::new("georadius_ro", -6, READONLY, G, georadius_ro).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(GEO).doc("3.2.10", "A read-only variant for GEORADIUS", RADIUS).args("key longitude@double latitude@double radius@double unit=(m=M|km=KM|ft=FT|mi=MI) [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] order=[ASC|DESC]"),
    CommandSpec::new("georadiusbymember", -5, W, G, georadiusbymember).key_specs("RO access index:1 range:0:1:0; OW update keyword:STORE:5 range:0:1:0; OW update keyword:STOREDIST:5 range:0:1:0").keys(1, 1, 1).getkeys(georadius_keys).acl(GEO).doc("3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", RADIUS).args("key member radius@double unit=(m=M|km=KM|ft=FT|mi=MI) [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] order=[ASC|DESC] [STORE key] [STOREDIST key]"),
    CommandSpec::new("georadiusbymember_ro", -5, READONLY, G, georadiusbymember_ro).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(GEO).doc("3.2.10", "A read-only variant for GEORADIUSBYMEMBER", RADIUS).args("key member radius@double unit=(m=M|km=KM|ft=FT|mi=MI) [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] order=[ASC|DESC]"),
    CommandSpec::new("geosearch", -7, READONLY, G, geosearch).key_specs("RO access index:1 range:0:1:0").keys(1, 1, 1).acl(GEO).doc("6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", SEARCH).args("key from=(FROMMEMBER member|FROMLONLAT longitude_latitude=(longitude@double latitude@double)) by=(circle=(BYRADIUS radius@double unit=(m=M|km=KM|ft=FT|mi=MI))|box=(BYBOX width@double height@double unit=(m=M|km=KM|ft=FT|mi=MI))) order=[ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"),
    CommandSpec::new("geosearchstore", -8, W, G, geosearchstore).key_specs("OW update index:1 range:0:1:0; RO access index:2 range:0:1:0").keys(1, 2, 1).acl(GEO).doc("6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", SEARCH).args("destination@key source@key from=(FROMMEMBER member|FROMLONLAT longitude_latitude=(longitude@double latitude@double)) by=(circle=(BYRADIUS radius@double unit=(m=M|km=KM|ft=FT|mi=MI))|box=(BYBOX width@double height@double unit=(m=M|km=KM|ft=FT|mi=MI))) order=[ASC|DESC] [COUNT count [ANY]] [STOREDIST]"),
];

/// georadiusGetKeys: the source, and the last STORE/STOREDIST destination.
fn georadius_keys(argv: &[Bytes]) -> Vec<(usize, u16)> {
    use crate::command::keyspec::flags::*;
    let mut keys = vec![(1, RO | ACCESS)];
    let mut stored = None;
    let mut i = 5;
    while i < argv.len() {
        let a = &argv[i];
        if (a.eq_ignore_ascii_case(b"store") || a.eq_ignore_ascii_case(b"storedist")) && i + 1 < argv.len() {
            stored = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    keys.extend(stored.map(|p| (p, OW | UPDATE)));
    keys
}

/// extractLongLatOrReply: two doubles inside the indexable area.
fn long_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2]> {
    let (x, y) = (args::float(lon)?, args::float(lat)?);
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&x) || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&y) {
        return Err(Error::Dyn(format!("ERR invalid longitude,latitude pair {:.6},{:.6}", x, y)));
    }
    Ok([x, y])
}

/// extractUnitOrReply: meters per unit.
fn unit(arg: &[u8]) -> Result<f64> {
    match args::lower(arg).as_str() {
        "m" => Ok(1.0),
        "km" => Ok(1000.0),
        "ft" => Ok(0.3048),
        "mi" => Ok(1609.34),
        _ => Err(Error::Msg("ERR unsupported unit provided. please use M, KM, FT, MI")),
    }
}

/// A non-negative double with its own "need numeric ..." error (getDoubleFromObjectOrReply
/// with a message).
fn measure(arg: &[u8], what: &'static str) -> Result<f64> {
    args::float(arg).map_err(|_| Error::Msg(what))
}

/// extractDistanceOrReply: radius and unit.
fn radius_and_unit(argv: &[Bytes]) -> Result<(f64, f64)> {
    let r = measure(&argv[0], "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(Error::Msg("ERR radius cannot be negative"));
    }
    Ok((r, unit(&argv[1])?))
}

/// extractBoxOrReply: width, height and unit.
fn box_and_unit(argv: &[Bytes]) -> Result<(f64, f64, f64)> {
    let w = measure(&argv[0], "ERR need numeric width")?;
    let h = measure(&argv[1], "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(Error::Msg("ERR height or width cannot be negative"));
    }
    Ok((w, h, unit(&argv[2])?))
}

/// Distances go out with 4 decimals, rounded as llrint does (fixedpoint_d2string).
fn distance_reply(d: f64) -> Reply {
    if d == 0.0 {
        return Reply::bulk_str("0.0000");
    }
    let scaled = (d * 10000.0).round_ties_even();
    // llrint's out-of-range answer is LLONG_MIN, printed as its magnitude with a sign.
    let v: i64 = if (-9223372036854775808.0..9223372036854775808.0).contains(&scaled) { scaled as i64 } else { i64::MIN };
    let (neg, mag) = (v < 0, v.unsigned_abs());
    Reply::bulk(format!("{}{}.{:04}", if neg { "-" } else { "" }, mag / 10000, mag % 10000))
}

fn member_coords(z: &ZSet, member: &[u8]) -> Option<[f64; 2]> {
    geohash::decode_score(z.score(member)?)
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with the cells' scores,
/// replicated as that ZADD.
fn geoadd(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let (mut nx, mut xx, mut longidx) = (false, false, 2);
    while longidx < argv.len() {
        let o = &argv[longidx];
        if o.eq_ignore_ascii_case(b"nx") {
            nx = true;
        } else if o.eq_ignore_ascii_case(b"xx") {
            xx = true;
        } else if !o.eq_ignore_ascii_case(b"ch") {
            break;
        }
        longidx += 1;
    }
    if !(argv.len() - longidx).is_multiple_of(3) || (xx && nx) {
        return Err(Error::Syntax);
    }
    let mut zargv = Vec::with_capacity(longidx + (argv.len() - longidx) / 3 * 2);
    zargv.push(Bytes::from_static(b"zadd"));
    zargv.extend_from_slice(&argv[1..longidx]);
    for t in argv[longidx..].chunks(3) {
        let [x, y] = long_lat(&t[0], &t[1])?;
        let hash = geohash::encode_wgs84(x, y, geohash::STEP_MAX).unwrap_or_default();
        zargv.push(Bytes::from(geohash::align52(hash).to_string()));
        zargv.push(t[2].clone());
    }
    ctx.propagate_as(|| zargv.clone());
    crate::commands::zset::zadd(ctx, &zargv)
}

/// GEODIST key member1 member2 [M|KM|FT|MI]
fn geodist(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let to_meter = match argv.len() {
        5 => unit(&argv[4])?,
        n if n > 5 => return Err(Error::Syntax),
        _ => 1.0,
    };
    let Some(z) = ctx.read(&argv[1], Value::zset)? else { return Ok(Reply::Nil) };
    let (Some(s1), Some(s2)) = (z.score(&argv[2]), z.score(&argv[3])) else { return Ok(Reply::Nil) };
    Ok(match (geohash::decode_score(s1), geohash::decode_score(s2)) {
        (Some(a), Some(b)) => distance_reply(geohash_helper::distance(a[0], a[1], b[0], b[1]) / to_meter),
        _ => Reply::Nil,
    })
}

/// GEOHASH key member [...]: standard 11-character geohashes (re-encoded over ±90° of
/// latitude, the last character always `0`).
fn geohash_cmd(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let z = ctx.read(&argv[1], Value::zset)?;
    let z = z.as_deref();
    let one = |m: &Bytes| -> Reply {
        let Some([x, y]) = z.and_then(|z| member_coords(z, m)) else { return Reply::Nil };
        let lon = geohash::Range { min: -180.0, max: 180.0 };
        let lat = geohash::Range { min: -90.0, max: 90.0 };
        let bits = geohash::encode(&lon, &lat, x, y, 26).unwrap_or_default().bits;
        let text: Vec<u8> = (0..11).map(|i| ALPHABET[if i == 10 { 0 } else { ((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize }]).collect();
        Reply::bulk(text)
    };
    Ok(Reply::Array(argv[2..].iter().map(one).collect()))
}

/// GEOPOS key member [...]
fn geopos(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    let z = ctx.read(&argv[1], Value::zset)?;
    let z = z.as_deref();
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|m| match z.and_then(|z| member_coords(z, m)) {
                Some([x, y]) => Reply::Array(vec![Reply::HumanDouble(x), Reply::HumanDouble(y)]),
                None => Reply::NilArray,
            })
            .collect(),
    ))
}

/// One match of a search (geoPoint).
#[derive(Clone, Debug)]
struct Point {
    xy: [f64; 2],
    dist: f64,
    score: f64,
    member: Bytes,
}

/// Appends the members of one cell inside the shape; stops once `limit` (0: none) points
/// were collected (geoGetPointsInRange).
fn members_of_cell(z: &ZSet, hash: HashBits, shape: &Shape, found: &mut Vec<Point>, limit: usize) {
    let min = geohash::align52(hash);
    let max = geohash::align52(HashBits { bits: hash.bits.wrapping_add(1), step: hash.step });
    let range = ScoreRange { min: min as f64, max: max as f64, minex: false, maxex: true };
    z.walk_score(&range, |m, score| {
        if let Some(xy) = geohash::decode_score(score) {
            if let Some(dist) = geohash_helper::distance_if_within(shape, xy[0], xy[1]) {
                found.push(Point { xy, dist, score, member: Bytes::copy_from_slice(m) });
            }
        }
        !(limit > 0 && found.len() >= limit)
    });
}

/// The centre cell then its neighbours, skipping excluded ones and a neighbour equal to the
/// one scanned just before (huge radii make neighbours coincide) (membersOfAllNeighbors).
fn members_of_all_neighbors(z: &ZSet, area: &geohash_helper::SearchArea, shape: &Shape, limit: usize) -> Vec<Point> {
    let n = &area.neighbors;
    let cells = [area.hash, n.north, n.south, n.east, n.west, n.north_east, n.north_west, n.south_east, n.south_west];
    let mut found = vec![];
    let mut last_processed = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Redis's `last_processed` is 0 both before any cell and after the centre one.
        if last_processed != 0 && *cell == cells[last_processed] {
            continue;
        }
        if !found.is_empty() && limit > 0 && found.len() >= limit {
            break;
        }
        members_of_cell(z, *cell, shape, &mut found, limit);
        last_processed = i;
    }
    found
}

/// sort_gp_asc / sort_gp_desc.
fn cmp_dist(a: &Point, b: &Point, desc: bool) -> i32 {
    let c = if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    };
    if desc {
        -c
    } else {
        c
    }
}

/// Redis's pqsort (a partial quicksort of NetBSD's qsort): sorts enough of `v` that
/// positions `lrange..=rrange` hold what a full sort would put there. Equal distances end up
/// in the order this exact algorithm leaves them, which replies show, hence the faithful port.
pub(super) fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> i32, lrange: usize, rrange: usize) {
    let n = v.len();
    pqsort_part(v, cmp, 0, n, lrange, rrange);
}

/// `_pqsort` on `v[a..a + n]`, positions absolute.
fn pqsort_part<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> i32, mut a: usize, mut n: usize, lrange: usize, rrange: usize) {
    let med3 = |v: &[T], a: usize, b: usize, c: usize| -> usize {
        if cmp(&v[a], &v[b]) < 0 {
            if cmp(&v[b], &v[c]) < 0 {
                b
            } else if cmp(&v[a], &v[c]) < 0 {
                c
            } else {
                a
            }
        } else if cmp(&v[b], &v[c]) > 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            a
        } else {
            c
        }
    };
    // Whether the sub-array [lo, lo+len) overlaps the wanted positions.
    let wanted = |lo: usize, len: usize| !((lrange < lo && rrange < lo) || (lrange >= lo + len && rrange >= lo + len));
    let vecswap = |v: &mut [T], a: usize, b: usize, n: usize| {
        for i in 0..n {
            v.swap(a + i, b + i);
        }
    };
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) > 0 {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d);
                pm = med3(v, pm - d, pm, pm + d);
                pn = med3(v, pn - 2 * d, pn - d, pn);
            }
            pm = med3(v, pl, pm, pn);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c > 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c < 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && wanted(a, r) {
            pqsort_part(v, cmp, a, r, lrange, rrange);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if wanted(a, n) {
                continue;
            }
        }
        return;
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Which command runs the search (georadiusGeneric's flags).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Radius { ro: bool },
    ByMember { ro: bool },
    Search { store: bool },
}

/// georadiusGeneric: every search command, argument parsing in Redis's order (the first
/// error met is the one replied).
fn search(ctx: &mut Ctx, argv: &[Bytes], kind: Kind) -> Result<Reply> {
    let src = if kind == (Kind::Search { store: true }) { 2 } else { 1 };
    let nostore = matches!(kind, Kind::Radius { ro: true } | Kind::ByMember { ro: true });
    let is_search = matches!(kind, Kind::Search { .. });
    let z = ctx.read(&argv[src], Value::zset)?;
    let z: Option<&ZSet> = z.map(|z| &*z);
    let mut store_key: Option<&Bytes> = None;
    let mut storedist = false;
    let mut xy = [0.0f64; 2];
    let mut dims = Dims::Circle { radius: 0.0 };
    let mut conversion = 1.0;
    let base = match kind {
        Kind::Radius { .. } => {
            xy = long_lat(&argv[2], &argv[3])?;
            let (r, c) = radius_and_unit(&argv[4..6])?;
            (dims, conversion) = (Dims::Circle { radius: r }, c);
            6
        }
        Kind::ByMember { .. } => {
            if let Some(z) = z {
                xy = member_coords(z, &argv[2]).ok_or(Error::Msg("ERR could not decode requested zset member"))?;
                let (r, c) = radius_and_unit(&argv[3..5])?;
                (dims, conversion) = (Dims::Circle { radius: r }, c);
            }
            5
        }
        Kind::Search { store } => {
            if store {
                store_key = Some(&argv[1]);
                3
            } else {
                2
            }
        }
    };
    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let opts = &argv[base.min(argv.len())..];
    let remaining = opts.len();
    let mut i = 0;
    while i < remaining {
        let a = &opts[i];
        let is = |w: &str| a.eq_ignore_ascii_case(w.as_bytes());
        if is("withdist") {
            withdist = true;
        } else if is("withhash") {
            withhash = true;
        } else if is("withcoord") {
            withcoords = true;
        } else if is("any") {
            any = true;
        } else if is("asc") {
            sort = Sort::Asc;
        } else if is("desc") {
            sort = Sort::Desc;
        } else if is("count") && i + 1 < remaining {
            count = args::int(&opts[i + 1])?;
            if count <= 0 {
                return Err(Error::Msg("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if (is("store") || is("storedist")) && i + 1 < remaining && !nostore && !is_search {
            store_key = Some(&opts[i + 1]);
            storedist = is("storedist");
            i += 1;
        } else if is("storedist") && kind == (Kind::Search { store: true }) {
            storedist = true;
        } else if is("frommember") && i + 1 < remaining && is_search && !fromloc {
            // Without a source key, parsing goes on and the reply is the empty one.
            if let Some(z) = z {
                xy = member_coords(z, &opts[i + 1]).ok_or(Error::Msg("ERR could not decode requested zset member"))?;
            }
            frommember = true;
            i += 1;
        } else if is("fromlonlat") && i + 2 < remaining && is_search && !frommember {
            xy = long_lat(&opts[i + 1], &opts[i + 2])?;
            fromloc = true;
            i += 2;
        } else if is("byradius") && i + 2 < remaining && is_search && !bybox {
            let (r, c) = radius_and_unit(&opts[i + 1..i + 3])?;
            (dims, conversion) = (Dims::Circle { radius: r }, c);
            byradius = true;
            i += 2;
        } else if is("bybox") && i + 3 < remaining && is_search && !byradius {
            let (w, h, c) = box_and_unit(&opts[i + 1..i + 4])?;
            (dims, conversion) = (Dims::Box { width: w, height: h }, c);
            bybox = true;
            i += 3;
        } else {
            return Err(Error::Syntax);
        }
        i += 1;
    }
    if store_key.is_some() && (withdist || withhash || withcoords) {
        return Err(Error::Msg(if kind == (Kind::Search { store: true }) {
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        } else {
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        }));
    }
    if is_search && !(frommember || fromloc) {
        return Err(Error::Dyn(format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}", String::from_utf8_lossy(&argv[0]))));
    }
    if is_search && !(byradius || bybox) {
        return Err(Error::Dyn(format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {}", String::from_utf8_lossy(&argv[0]))));
    }
    if any && count == 0 {
        return Err(Error::Msg("ERR the ANY argument requires COUNT argument"));
    }
    let Some(z) = z else {
        return Ok(match store_key {
            Some(dst) => crate::commands::zset::store_pairs(ctx, dst, vec![], "del"),
            None => Reply::Array(vec![]),
        });
    };
    // COUNT means "the nearest N" unless ANY says any N will do.
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape { dims, xy, conversion };
    let area = geohash_helper::areas_by_shape(&shape);
    let mut found = members_of_all_neighbors(z, &area, &shape, if any { usize::try_from(count).unwrap_or(usize::MAX) } else { 0 });
    if found.is_empty() && store_key.is_none() {
        return Ok(Reply::Array(vec![]));
    }
    let len = found.len();
    let returned = if count == 0 || (len as i64) < count { len } else { count as usize };
    if sort != Sort::None {
        let desc = sort == Sort::Desc;
        if returned == len {
            // glibc's qsort is a merge sort here: stable.
            found.sort_by(|a, b| cmp_dist(a, b, desc).cmp(&0));
        } else {
            pqsort(&mut found, &|a: &Point, b: &Point| cmp_dist(a, b, desc), 0, returned - 1);
        }
    }
    found.truncate(returned);
    for p in &mut found {
        p.dist /= conversion;
    }
    let Some(dst) = store_key else {
        let with = withdist || withhash || withcoords;
        return Ok(Reply::Array(
            found
                .into_iter()
                .map(|p| {
                    if !with {
                        return Reply::Bulk(p.member);
                    }
                    let mut item = vec![Reply::Bulk(p.member)];
                    if withdist {
                        item.push(distance_reply(p.dist));
                    }
                    if withhash {
                        item.push(Reply::Int(p.score as i64));
                    }
                    if withcoords {
                        item.push(Reply::Array(vec![Reply::HumanDouble(p.xy[0]), Reply::HumanDouble(p.xy[1])]));
                    }
                    Reply::Array(item)
                })
                .collect(),
        ));
    };
    let dst = dst.clone();
    let mut seen = std::collections::HashSet::new();
    let items: Vec<(Bytes, f64)> =
        found.into_iter().filter(|p| seen.insert(p.member.clone())).map(|p| (p.member, if storedist { p.dist } else { p.score })).collect();
    let n = items.len() as u64;
    let reply = crate::commands::zset::store_pairs(ctx, &dst, items, if is_search { "geosearchstore" } else { "georadiusstore" });
    // Redis counts one change per stored member.
    ctx.srv.stats.dirty += n.saturating_sub(1);
    Ok(reply)
}

/// GEORADIUS key longitude latitude radius unit [options] [STORE key] [STOREDIST key]
fn georadius(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    search(ctx, argv, Kind::Radius { ro: false })
}

fn georadius_ro(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    search(ctx, argv, Kind::Radius { ro: true })
}

/// GEORADIUSBYMEMBER key member radius unit [options] [STORE key] [STOREDIST key]
fn georadiusbymember(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    search(ctx, argv, Kind::ByMember { ro: false })
}

fn georadiusbymember_ro(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    search(ctx, argv, Kind::ByMember { ro: true })
}

/// GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [options]
fn geosearch(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    search(ctx, argv, Kind::Search { store: false })
}

/// GEOSEARCHSTORE dst src ... [STOREDIST]
fn geosearchstore(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Reply> {
    search(ctx, argv, Kind::Search { store: true })
}
