//! Reading RDB files (version ≤ 10, as Redis 7.0 writes them): plain and packed encodings
//! (intset, listpack hashes, sorted sets and quicklists), LZF-compressed and integer-encoded
//! strings, expiry and database selection. Every read is bounds-checked: a truncated or
//! corrupt file is an error, never a panic. Pre-7.0 ziplist encodings, streams, functions and
//! module data are refused with a clear message. Redis: rdb.c (rdbLoadRio, rdbLoadObject).

use bytes::Bytes;

use crate::object::{Entry, Str, Value};
use crate::types::hash::{Hash, Limits as HashLimits};
use crate::types::list::{End, List};
use crate::types::set::Set;
use crate::types::zset::{Limits as ZLimits, ZSet};

pub type LoadResult<T> = Result<T, String>;

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

fn short() -> String {
    "Short read or corrupt RDB file".into()
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> LoadResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or_else(short)?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> LoadResult<u8> {
        Ok(self.take(1)?[0])
    }

    /// rdbLoadLen: Ok((value, is_encoded)).
    fn len_enc(&mut self) -> LoadResult<(u64, bool)> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3F) as u64, false),
            1 => ((((b & 0x3F) as u64) << 8) | self.u8()? as u64, false),
            2 => match b {
                0x80 => (u32::from_be_bytes(self.take(4)?.try_into().unwrap()) as u64, false),
                0x81 => (u64::from_be_bytes(self.take(8)?.try_into().unwrap()), false),
                _ => return Err(format!("Unknown length encoding {} in RDB", b)),
            },
            _ => ((b & 0x3F) as u64, true),
        })
    }

    /// A plain length as the 64-bit number it is (stream IDs and counters).
    fn u64(&mut self) -> LoadResult<u64> {
        match self.len_enc()? {
            (n, false) => Ok(n),
            _ => Err("Unexpected encoded length in RDB".into()),
        }
    }

    fn len(&mut self) -> LoadResult<usize> {
        match self.len_enc()? {
            (n, false) => usize::try_from(n).map_err(|_| short()),
            _ => Err("Unexpected encoded length in RDB".into()),
        }
    }

    /// rdbGenericLoadStringObject: plain, integer-encoded or LZF-compressed.
    fn string(&mut self) -> LoadResult<Vec<u8>> {
        let (n, enc) = self.len_enc()?;
        if !enc {
            return Ok(self.take(usize::try_from(n).map_err(|_| short())?)?.to_vec());
        }
        Ok(match n {
            0 => (self.u8()? as i8).to_string().into_bytes(),
            1 => i16::from_le_bytes(self.take(2)?.try_into().unwrap()).to_string().into_bytes(),
            2 => i32::from_le_bytes(self.take(4)?.try_into().unwrap()).to_string().into_bytes(),
            3 => {
                let clen = self.len()?;
                let ulen = self.len()?;
                lzf_decompress(self.take(clen)?, ulen)?
            }
            _ => return Err(format!("Unknown RDB string encoding type {}", n)),
        })
    }
}

/// LZF (liblzf's lzf_decompress), checked at every step.
fn lzf_decompress(input: &[u8], out_len: usize) -> LoadResult<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len.min(input.len().saturating_mul(64)).min(1 << 30));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(ip..ip + run).ok_or("Invalid LZF compressed string")?;
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip).ok_or("Invalid LZF compressed string")? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1F) << 8) + *input.get(ip).ok_or("Invalid LZF compressed string")? as usize + 1;
            ip += 1;
            let start = out.len().checked_sub(back).ok_or("Invalid LZF compressed string")?;
            for i in 0..len + 2 {
                let c = out[start + i];
                out.push(c);
            }
        }
        if out.len() > out_len {
            return Err("Invalid LZF compressed string".into());
        }
    }
    if out.len() != out_len {
        return Err("Invalid LZF compressed string".into());
    }
    Ok(out)
}

/// The members of a Redis intset blob.
fn intset_items(blob: &[u8]) -> LoadResult<Vec<i64>> {
    let bad = || "Corrupt intset in RDB".to_string();
    if blob.len() < 8 {
        return Err(bad());
    }
    let w = u32::from_le_bytes(blob[..4].try_into().unwrap()) as usize;
    let n = u32::from_le_bytes(blob[4..8].try_into().unwrap()) as usize;
    if !matches!(w, 2 | 4 | 8) || n.checked_mul(w).and_then(|s| s.checked_add(8)) != Some(blob.len()) {
        return Err(bad());
    }
    Ok((0..n)
        .map(|i| {
            let s = &blob[8 + i * w..8 + (i + 1) * w];
            match w {
                2 => i16::from_le_bytes(s.try_into().unwrap()) as i64,
                4 => i32::from_le_bytes(s.try_into().unwrap()) as i64,
                _ => i64::from_le_bytes(s.try_into().unwrap()),
            }
        })
        .collect())
}

/// Encoding thresholds the loaded values are built under (the configured ones).
pub struct Limits {
    pub hash: HashLimits,
    pub zset: ZLimits,
    pub list_fill: i64,
    pub intset_max: usize,
}

impl Limits {
    pub fn from_config(c: &crate::config::Config) -> Limits {
        let h = &c.hot;
        Limits {
            hash: HashLimits { entries: h.hash_max_listpack_entries, value: h.hash_max_listpack_value },
            zset: ZLimits { entries: h.zset_max_listpack_entries, value: h.zset_max_listpack_value },
            list_fill: h.list_max_listpack_size,
            intset_max: h.set_max_intset_entries,
        }
    }
}

fn zset_from(pairs: Vec<(Vec<u8>, f64)>, lim: &Limits) -> Value {
    let mut z = ZSet::new(pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0), lim.zset);
    for (m, s) in pairs {
        match z.score(&m) {
            Some(old) => z.update(&m, old, s, lim.zset),
            None => z.insert(&m, s, lim.zset),
        }
    }
    Value::ZSet(z)
}

fn hash_from(pairs: Vec<(Vec<u8>, Vec<u8>)>, lim: &Limits) -> Value {
    let mut h = Hash::default();
    h.fit(pairs.iter().flat_map(|(f, v)| [f.len(), v.len()]), lim.hash);
    for (f, v) in pairs {
        h.set(&f, &v, lim.hash);
    }
    Value::Hash(h)
}

fn list_from(items: Vec<Vec<u8>>, lim: &Limits) -> Value {
    let mut l = List::default();
    for i in items {
        l.push(End::Tail, &i, lim.list_fill);
    }
    Value::List(Box::new(l))
}

fn set_from(items: Vec<Vec<u8>>, lim: &Limits) -> Value {
    let mut s = items.first().map_or_else(Set::default, |m| Set::for_member(m));
    for m in items {
        s.add(&m, lim.intset_max);
    }
    Value::Set(s)
}

/// A double in the old ZSET encoding: a length byte, then text (253 nan, 254 +inf, 255 -inf).
fn old_double(r: &mut Reader) -> LoadResult<f64> {
    match r.u8()? {
        253 => Err("NaN score in RDB".into()),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        n => crate::util::parse_f64(r.take(n as usize)?).ok_or_else(|| "Bad score in RDB".into()),
    }
}

fn object(r: &mut Reader, ty: u8, lim: &Limits) -> LoadResult<Value> {
    // Counts come from the file: cap preallocation so a forged count cannot exhaust memory.
    let count = |r: &mut Reader| -> LoadResult<usize> { r.len() };
    Ok(match ty {
        0 => Value::Str(Str::from_bytes(&r.string()?)),
        1 | 2 => {
            let n = count(r)?;
            let mut items = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                items.push(r.string()?);
            }
            if ty == 1 {
                list_from(items, lim)
            } else {
                set_from(items, lim)
            }
        }
        3 | 5 => {
            let n = count(r)?;
            let mut pairs = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                let m = r.string()?;
                let s = if ty == 5 { f64::from_le_bytes(r.take(8)?.try_into().unwrap()) } else { old_double(r)? };
                if s.is_nan() {
                    return Err("NaN score in RDB".into());
                }
                pairs.push((m, s));
            }
            zset_from(pairs, lim)
        }
        4 => {
            let n = count(r)?;
            let mut pairs = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                pairs.push((r.string()?, r.string()?));
            }
            hash_from(pairs, lim)
        }
        11 => set_from(intset_items(&r.string()?)?.into_iter().map(|v| v.to_string().into_bytes()).collect(), lim),
        16 | 17 => {
            let items = super::listpack::decode(&r.string()?)?;
            if items.len() % 2 != 0 {
                return Err("Corrupt listpack in RDB".into());
            }
            let mut it = items.into_iter();
            let mut pairs = vec![];
            while let (Some(a), Some(b)) = (it.next(), it.next()) {
                pairs.push((a, b));
            }
            if ty == 16 {
                hash_from(pairs, lim)
            } else {
                let pairs = pairs.into_iter().map(|(m, s)| crate::util::parse_f64(&s).filter(|v| !v.is_nan()).map(|v| (m, v)).ok_or("Bad score in RDB".to_string())).collect::<LoadResult<Vec<_>>>()?;
                zset_from(pairs, lim)
            }
        }
        18 => {
            let nodes = count(r)?;
            let mut items = vec![];
            for _ in 0..nodes {
                let container = r.len()?;
                let blob = r.string()?;
                match container {
                    1 => items.push(blob),
                    2 => items.extend(super::listpack::decode(&blob)?),
                    _ => return Err("Unknown quicklist container in RDB".into()),
                }
            }
            list_from(items, lim)
        }
        10 | 12 | 13 | 14 => return Err(format!("RDB value type {} (a pre-7.0 ziplist encoding) is not supported yet", ty)),
        15 | 19 => Value::Stream(Box::new(stream(r, ty == 19)?)),
        20 | 21 => return Err(format!("RDB value type {} (a stream of a later Redis) is not supported", ty)),
        6 | 7 => return Err("RDB contains module data, which Cinnabar cannot load".into()),
        _ => return Err(format!("Unknown RDB value type {}", ty)),
    })
}

/// A stream (RDB_TYPE_STREAM_LISTPACKS and _2), checked as Redis's deep sanitization checks
/// it: well-formed nodes, a length that matches them, PEL entries owned by known consumers.
fn stream(r: &mut Reader, v2: bool) -> LoadResult<crate::types::stream::Stream> {
    use crate::types::stream::{Group, Nack, Stream, StreamId};
    let corrupt = |what: &str| format!("Stream {} in RDB is corrupt", what);
    let mut s = Stream::default();
    let nodes = r.len()?;
    for _ in 0..nodes {
        let key = r.string()?;
        let master = StreamId::decode(&key).ok_or_else(|| corrupt("node key"))?;
        let blob = r.string()?;
        let items = super::listpack::decode(&blob)?;
        s.load_node(master, items).ok_or_else(|| corrupt("listpack"))?;
    }
    let id = |r: &mut Reader| -> LoadResult<StreamId> { Ok(StreamId::new(r.u64()?, r.u64()?)) };
    s.length = r.u64()?;
    s.last_id = id(r)?;
    if v2 {
        s.first_id = id(r)?;
        s.max_deleted_entry_id = id(r)?;
        s.entries_added = r.u64()?;
    } else {
        s.entries_added = s.length;
        s.first_id = if s.length == 0 { StreamId::MIN } else { s.edge_id(true) };
    }
    if !s.consistent() {
        return Err(corrupt("length"));
    }
    let groups = r.len()?;
    for _ in 0..groups {
        let name = Bytes::from(r.string()?);
        let last = id(r)?;
        let entries_read = if v2 { r.u64()? as i64 } else { s.estimate_distance(last) };
        let mut g = Group::new(last, entries_read);
        let pel = r.len()?;
        for _ in 0..pel {
            let id = StreamId::decode(r.take(16)?).ok_or_else(|| corrupt("PEL"))?;
            let delivery_time = i64::from_le_bytes(r.take(8)?.try_into().unwrap());
            let delivery_count = r.u64()?;
            if g.pel.insert(id, Nack { delivery_time, delivery_count, consumer: Bytes::new() }).is_some() {
                return Err(corrupt("PEL (duplicate entry)"));
            }
        }
        let mut owned = std::collections::BTreeSet::new();
        let consumers = r.len()?;
        for _ in 0..consumers {
            let cname = Bytes::from(r.string()?);
            let seen = i64::from_le_bytes(r.take(8)?.try_into().unwrap());
            if g.consumers.contains_key(&cname) {
                return Err(corrupt("consumer (duplicate)"));
            }
            g.ensure_consumer(&cname, seen);
            let n = r.len()?;
            for _ in 0..n {
                let id = StreamId::decode(r.take(16)?).ok_or_else(|| corrupt("PEL"))?;
                let nack = g.pel.get_mut(&id).ok_or_else(|| corrupt("consumer PEL entry"))?;
                if !owned.insert(id) {
                    return Err(corrupt("PEL (entry owned twice)"));
                }
                nack.consumer = cname.clone();
                g.consumers.get_mut(&cname).expect("just added").pel.insert(id);
            }
        }
        if owned.len() != g.pel.len() {
            return Err(corrupt("PEL (entry without a consumer)"));
        }
        if s.groups.insert(name, g).is_some() {
            return Err(corrupt("group (duplicate)"));
        }
    }
    Ok(s)
}

/// verifyDumpPayload: the body of a DUMP-framed payload whose RDB version and CRC64 check.
pub fn unframe(p: &[u8]) -> Option<&[u8]> {
    if p.len() < 10 {
        return None;
    }
    let (body, footer) = p.split_at(p.len() - 10);
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(footer[2..].try_into().ok()?);
    if ver > 10 || crc != crc64::crc64(0, &p[..p.len() - 8]) {
        return None;
    }
    Some(body)
}

/// A FUNCTION DUMP payload's library codes (functionRestoreCommand's read loop).
pub fn function_codes(body: &[u8]) -> Result<Vec<Bytes>, String> {
    let mut r = Reader { b: body, pos: 0 };
    let mut out = Vec::new();
    while r.pos < body.len() {
        let ty = r.u8().map_err(|_| "can not read data type".to_string())?;
        out.push(function_code(&mut r, ty)?);
    }
    Ok(out)
}

/// One library after its opcode (rdbFunctionLoad).
fn function_code(r: &mut Reader, ty: u8) -> Result<Bytes, String> {
    match ty {
        0xF5 => r.string().map(Bytes::from).map_err(|_| "Failed loading library payload".to_string()),
        0xF6 => Err("Pre-GA function format not supported".into()),
        _ => Err("given type is not a function".into()),
    }
}

/// RESTORE's payload back into a value: Err(true) when the version or checksum is wrong,
/// Err(false) when the data itself is bad (verifyDumpPayload, then rdbLoadObject).
pub fn restore_value(p: &[u8], lim: &Limits) -> Result<Value, bool> {
    let body = unframe(p).ok_or(true)?;
    let mut r = Reader { b: body, pos: 0 };
    let ty = r.u8().map_err(|_| false)?;
    let v = object(&mut r, ty, lim).map_err(|_| false)?;
    if r.pos != body.len() {
        return Err(false);
    }
    Ok(v)
}

/// Replaces the dataset with an RDB file's (the startup load, DEBUG RELOAD); returns the
/// number of keys. A file that does not parse leaves the dataset untouched.
pub fn load_into(srv: &mut crate::engine::Server, bytes: &[u8]) -> LoadResult<usize> {
    load_prefix(srv, bytes).map(|(keys, _)| keys)
}

/// `load_into` for an RDB that other data may follow (an AOF's preamble): also returns
/// how many bytes the RDB took.
pub fn load_prefix(srv: &mut crate::engine::Server, bytes: &[u8]) -> LoadResult<(usize, usize)> {
    let lim = Limits::from_config(&srv.config);
    let mut used = 0;
    let (records, functions) = load_all_at(bytes, &lim, &mut used)?;
    if let Some((db, ..)) = records.iter().find(|(db, ..)| *db >= srv.dbs.len()) {
        return Err(format!("FATAL: Data file was created with a Redis server configured to handle more than {} databases (db {}). Exiting", srv.dbs.len(), db));
    }
    // The file's libraries replace the server's (rdbLoad swaps in a new functions context).
    let built = crate::commands::scripting::rebuild(&functions, srv.scripting.rng, srv.host.clock).map_err(|e| format!("Failed loading library: {}", e))?;
    srv.scripting.fn_vm = built.fn_vm;
    srv.scripting.libraries = built.libraries;
    srv.scripting.functions = built.functions;
    for d in &mut srv.dbs {
        d.clear();
    }
    let lru = crate::db::access::initial(srv);
    let n = records.len();
    for (db, key, value, expire) in records {
        srv.dbs[db].put(key, entry(value, lru), expire);
    }
    Ok((n, used))
}

/// Parses a whole RDB file into (db, key, value, expire ms) records.
pub fn load(b: &[u8], lim: &Limits) -> LoadResult<Vec<(usize, Bytes, Value, Option<i64>)>> {
    load_all(b, lim).map(|(records, _)| records)
}

type Records = Vec<(usize, Bytes, Value, Option<i64>)>;

/// `load`, plus the code of each function library the file carries.
pub fn load_all(b: &[u8], lim: &Limits) -> LoadResult<(Records, Vec<Bytes>)> {
    load_all_at(b, lim, &mut 0)
}

/// `load_all`, telling where the RDB ended (`used`).
fn load_all_at(b: &[u8], lim: &Limits, used: &mut usize) -> LoadResult<(Records, Vec<Bytes>)> {
    if b.len() < 9 || &b[..5] != b"REDIS" {
        return Err("Wrong signature trying to load DB from file".into());
    }
    let ver: u32 = std::str::from_utf8(&b[5..9]).ok().and_then(|v| v.parse().ok()).ok_or("Wrong signature trying to load DB from file")?;
    if ver == 0 || ver > 10 {
        return Err(format!("Can't handle RDB format version {}", ver));
    }
    let mut r = Reader { b, pos: 9 };
    let (mut db, mut expire) = (0usize, None);
    let mut out = vec![];
    let mut functions = vec![];
    loop {
        let op = r.u8()?;
        match op {
            0xFF => break,
            0xFE => db = r.len()?,
            0xFB => {
                r.len()?;
                r.len()?;
            }
            0xFA => {
                r.string()?;
                r.string()?;
            }
            0xFC => expire = Some(i64::from_le_bytes(r.take(8)?.try_into().unwrap())),
            0xFD => expire = Some(u32::from_le_bytes(r.take(4)?.try_into().unwrap()) as i64 * 1000),
            0xF9 => {
                r.u8()?;
            }
            0xF8 => {
                r.len()?;
            }
            0xF5 | 0xF6 => functions.push(function_code(&mut r, op)?),
            0xF7 => return Err("RDB contains module data, which Cinnabar cannot load".into()),
            ty => {
                let key = r.string()?;
                let value = object(&mut r, ty, lim)?;
                out.push((db, Bytes::from(key), value, expire.take()));
            }
        }
    }
    // Version 5 and later end with a CRC64 of everything before it (0 means "not computed").
    if ver >= 5 {
        let body = r.pos;
        let crc = u64::from_le_bytes(r.take(8)?.try_into().unwrap());
        if crc != 0 && crc != crc64::crc64(0, &b[..body]) {
            return Err("Wrong RDB checksum. Aborting now.".into());
        }
    }
    *used = r.pos;
    Ok((out, functions))
}

pub(crate) fn entry(value: Value, lru: u32) -> Entry {
    Entry { value, lru }
}
