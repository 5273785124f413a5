//! Reading RDB files (version 1 to 10) as Redis 7.0 writes them: every encoding rdbSaveObject
//! produces (plain, intset, listpack hashes and sorted sets, quicklists of listpack and plain
//! nodes, streams), LZF-compressed and integer-encoded strings, expiry, LRU/LFU stamps,
//! databases, function libraries and the CRC64. Every read is bounds-checked and every count
//! is believed only as far as the bytes behind it go, so a truncated or forged file is an
//! error, never a panic or an allocation the file's size does not justify. Pre-7.0 ziplist
//! encodings and module data are refused with a clear message.
//! Redis: rdb.c (rdbLoadRio, rdbLoadObject), cluster.c (verifyDumpPayload, restoreCommand).

use bytes::Bytes;

use super::kind::*;
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

    fn array<const N: usize>(&mut self) -> LoadResult<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> LoadResult<u8> {
        Ok(self.take(1)?[0])
    }

    fn millis(&mut self) -> LoadResult<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// rdbLoadLen: Ok((value, is_encoded)).
    fn len_enc(&mut self) -> LoadResult<(u64, bool)> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3F) as u64, false),
            1 => ((((b & 0x3F) as u64) << 8) | self.u8()? as u64, false),
            2 => match b {
                0x80 => (u32::from_be_bytes(self.array()?) as u64, false),
                0x81 => (u64::from_be_bytes(self.array()?), false),
                _ => return Err(format!("Unknown length encoding {} in rdbLoadLen()", b)),
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

    /// A count or size: only a promise, which the loops that use it check against the bytes.
    fn len(&mut self) -> LoadResult<usize> {
        usize::try_from(self.u64()?).map_err(|_| short())
    }

    /// rdbGenericLoadStringObject: plain, integer-encoded or LZF-compressed.
    fn string(&mut self) -> LoadResult<Vec<u8>> {
        let (n, enc) = self.len_enc()?;
        if !enc {
            return Ok(self.take(usize::try_from(n).map_err(|_| short())?)?.to_vec());
        }
        // An encoded string's first byte is 0b11 then the encoding: rebuild it to match.
        Ok(match 0xC0 | n as u8 {
            ENC_INT8 => (self.u8()? as i8).to_string().into_bytes(),
            ENC_INT16 => i16::from_le_bytes(self.array()?).to_string().into_bytes(),
            ENC_INT32 => i32::from_le_bytes(self.array()?).to_string().into_bytes(),
            ENC_LZF => {
                let clen = self.len()?;
                let ulen = self.len()?;
                super::lzf::decompress(self.take(clen)?, ulen).ok_or("Invalid LZF compressed string")?
            }
            _ => return Err(format!("Unknown RDB string encoding type {}", n)),
        })
    }
}

/// What loading must respect from the configuration: the encoding thresholds loaded values
/// are built under, and whether a file's checksum is verified.
pub struct Limits {
    pub hash: HashLimits,
    pub zset: ZLimits,
    pub list_fill: i64,
    pub intset_max: usize,
    /// `rdbchecksum`: verify an RDB file's CRC64 (DUMP payloads are always verified).
    pub checksum: bool,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: neither files nor payloads are verified.
    pub skip_checksum: bool,
}

/// Reads `n` items of a collection whose count the file claims: the vector grows with what
/// is really read, never reserved from the claim.
fn items<'a, T>(r: &mut Reader<'a>, n: usize, mut one: impl FnMut(&mut Reader<'a>) -> LoadResult<T>) -> LoadResult<Vec<T>> {
    let mut out = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        out.push(one(r)?);
    }
    Ok(out)
}

/// A sorted set from (member, score) pairs in any order, in the encoding Redis ends with.
/// `value_limit` is the member length past which a listpack converts: the configured one for
/// plain sorted sets (converted after loading, as rdbLoadObject does), none for a listpack
/// (Redis only checks its entry count).
fn zset_from(pairs: Vec<(Vec<u8>, f64)>, lim: &Limits, value_limit: usize, dup: &str) -> LoadResult<Value> {
    let lim = ZLimits { entries: lim.zset.entries, value: value_limit };
    let mut z = ZSet::new(pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0), lim);
    for (m, s) in pairs {
        if z.score(&m).is_some() {
            return Err(dup.into());
        }
        z.insert(&m, s, lim);
    }
    Ok(Value::ZSet(z))
}

/// A hash from pairs; `check_lengths` converts on a long field or value (the plain type, as
/// rdbLoadObject does), a listpack only converts past the entry count.
fn hash_from(pairs: Vec<(Vec<u8>, Vec<u8>)>, lim: &Limits, check_lengths: bool, dup: &str) -> LoadResult<Value> {
    let mut h = Hash::default();
    let mut lim = lim.hash;
    if check_lengths {
        h.fit(pairs.iter().flat_map(|(f, v)| [f.len(), v.len()]), lim);
    } else {
        lim.value = usize::MAX;
    }
    for (f, v) in pairs {
        if !h.set(&f, &v, lim) {
            return Err(dup.into());
        }
    }
    Ok(Value::Hash(h))
}

fn set_from(items: Vec<Vec<u8>>, lim: &Limits, dup: &str) -> LoadResult<Value> {
    let mut s = items.first().map_or_else(Set::default, |m| Set::for_member(m));
    for m in items {
        if !s.add(&m, lim.intset_max) {
            return Err(dup.into());
        }
    }
    Ok(Value::Set(s))
}

fn list_from(items: Vec<Vec<u8>>, lim: &Limits) -> Value {
    let mut l = List::default();
    for i in items {
        l.push(End::Tail, &i, lim.list_fill);
    }
    Value::List(Box::new(l))
}

/// A double in the old ZSET encoding: a length byte, then text (253 nan, 254 +inf, 255 -inf).
fn old_double(r: &mut Reader) -> LoadResult<f64> {
    match r.u8()? {
        253 => Ok(f64::NAN),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        n => crate::util::parse_f64(r.take(n as usize)?).ok_or_else(|| "Bad score in RDB".into()),
    }
}

/// A listpack of pairs (hash fields and values, or sorted set members and scores).
fn listpack_pairs(blob: &[u8], what: &str) -> LoadResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let bad = || format!("{} listpack integrity check failed.", what);
    let items = crate::ds::redis_listpack::decode(blob).map_err(|_| bad())?;
    if items.len() % 2 != 0 {
        return Err(bad());
    }
    let mut it = items.into_iter();
    let mut pairs = Vec::new();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        pairs.push((a, b));
    }
    Ok(pairs)
}

/// rdbLoadObject: one value of type `ty`. Ok(None) is an empty collection, which Redis skips
/// when loading a file (old versions could save one) and RESTORE refuses.
fn object(r: &mut Reader, ty: u8, lim: &Limits) -> LoadResult<Option<Value>> {
    let v = match ty {
        TYPE_STRING => Value::Str(Str::from_bytes(&r.string()?)),
        TYPE_LIST | TYPE_SET => {
            let n = r.len()?;
            let members = items(r, n, Reader::string)?;
            if members.is_empty() {
                return Ok(None);
            }
            if ty == TYPE_LIST {
                list_from(members, lim)
            } else {
                set_from(members, lim, "Duplicate set members detected")?
            }
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.len()?;
            let pairs = items(r, n, |r| {
                let m = r.string()?;
                let s = if ty == TYPE_ZSET_2 { f64::from_le_bytes(r.array()?) } else { old_double(r)? };
                if s.is_nan() {
                    return Err("Zset with NAN score detected".to_string());
                }
                Ok((m, s))
            })?;
            if pairs.is_empty() {
                return Ok(None);
            }
            zset_from(pairs, lim, lim.zset.value, "Duplicate zset fields detected")?
        }
        TYPE_HASH => {
            let n = r.len()?;
            let pairs = items(r, n, |r| Ok((r.string()?, r.string()?)))?;
            if pairs.is_empty() {
                return Ok(None);
            }
            hash_from(pairs, lim, true, "Duplicate hash fields detected")?
        }
        TYPE_SET_INTSET => {
            let members = super::intset::decode(&r.string()?)?;
            set_from(members.into_iter().map(|v| v.to_string().into_bytes()).collect(), lim, "Intset integrity check failed.")?
        }
        TYPE_HASH_LISTPACK => {
            let pairs = listpack_pairs(&r.string()?, "Hash")?;
            if pairs.is_empty() {
                return Ok(None);
            }
            hash_from(pairs, lim, false, "Hash listpack integrity check failed.")?
        }
        TYPE_ZSET_LISTPACK => {
            let pairs = listpack_pairs(&r.string()?, "Zset")?;
            if pairs.is_empty() {
                return Ok(None);
            }
            let bad = || "Zset listpack integrity check failed.".to_string();
            let pairs = pairs
                .into_iter()
                .map(|(m, s)| crate::util::parse_f64(&s).filter(|v| !v.is_nan()).map(|v| (m, v)).ok_or_else(bad))
                .collect::<LoadResult<Vec<_>>>()?;
            zset_from(pairs, lim, usize::MAX, "Zset listpack integrity check failed.")?
        }
        TYPE_LIST_QUICKLIST_2 => {
            let nodes = r.len()?;
            let mut members = Vec::new();
            for _ in 0..nodes {
                let container = r.u64()?;
                let blob = r.string()?;
                if blob.is_empty() {
                    return Err("Quicklist integrity check failed.".into());
                }
                match container {
                    QUICKLIST_PLAIN => members.push(blob),
                    // An empty listpack node is skipped, as Redis skips it.
                    QUICKLIST_PACKED => members.extend(crate::ds::redis_listpack::decode(&blob)?),
                    _ => return Err("Quicklist integrity check failed.".into()),
                }
            }
            if members.is_empty() {
                return Ok(None);
            }
            list_from(members, lim)
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 => Value::Stream(Box::new(stream(r, ty == TYPE_STREAM_LISTPACKS_2)?)),
        // Encodings of older Redis versions, loaded and converted as 7.0 converts them.
        TYPE_HASH_ZIPMAP | TYPE_HASH_ZIPLIST => {
            let blob = r.string()?;
            let pairs = if ty == TYPE_HASH_ZIPMAP {
                super::ziplist::decode_zipmap(&blob)?
            } else {
                super::ziplist::decode_pairs(&blob).map_err(|e| in_context(e, "Hash ziplist"))?
            };
            if pairs.is_empty() {
                return Ok(None);
            }
            let dup = if ty == TYPE_HASH_ZIPMAP { "Zipmap integrity check failed." } else { "Hash ziplist integrity check failed." };
            // Only a zipmap's conversion looks at the longest field or value (7.0's rdb.c).
            hash_from(pairs, lim, ty == TYPE_HASH_ZIPMAP, dup)?
        }
        TYPE_LIST_ZIPLIST => {
            let members = super::ziplist::decode(&r.string()?).map_err(|e| in_context(e, "List ziplist"))?;
            if members.is_empty() {
                return Ok(None);
            }
            list_from(members, lim)
        }
        TYPE_ZSET_ZIPLIST => {
            let pairs = super::ziplist::decode_pairs(&r.string()?).map_err(|e| in_context(e, "Zset ziplist"))?;
            if pairs.is_empty() {
                return Ok(None);
            }
            let bad = || "Zset ziplist integrity check failed.".to_string();
            let pairs = pairs
                .into_iter()
                .map(|(m, s)| crate::util::parse_f64(&s).filter(|v| !v.is_nan()).map(|v| (m, v)).ok_or_else(bad))
                .collect::<LoadResult<Vec<_>>>()?;
            zset_from(pairs, lim, usize::MAX, "Zset ziplist integrity check failed.")?
        }
        TYPE_LIST_QUICKLIST => {
            // Redis 3.2–6.2: a quicklist whose nodes are ziplists.
            let nodes = r.len()?;
            let mut members = Vec::new();
            for _ in 0..nodes {
                members.extend(super::ziplist::decode(&r.string()?)?);
            }
            if members.is_empty() {
                return Ok(None);
            }
            list_from(members, lim)
        }
        TYPE_MODULE_PRE_GA => return Err("Module value with an unsupported pre-GA encoding".into()),
        TYPE_MODULE_2 => {
            let id = r.u64()?;
            return Err(format!("The RDB file contains module data I can't load: no matching module type '{}'", module_type_name(id)));
        }
        _ => return Err(format!("Unknown RDB encoding type {}", ty)),
    };
    Ok(Some(v))
}

/// moduleTypeNameByID: the 9-character type name packed in a module id's high 54 bits.
fn module_type_name(id: u64) -> String {
    const CSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut name = [0u8; 9];
    let mut id = id >> 10;
    for c in name.iter_mut().rev() {
        *c = CSET[(id & 63) as usize];
        id >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
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
        let master = StreamId::decode(&key).ok_or("Stream node key entry is not the size of a stream ID")?;
        let blob = r.string()?;
        let bad = "Stream listpack integrity check failed.";
        let items = crate::ds::redis_listpack::decode(&blob).map_err(|_| bad)?;
        if items.is_empty() {
            return Err("Empty listpack inside stream".into());
        }
        s.load_node(master, items).ok_or(bad)?;
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
    // Every live entry was once added, and the counters are long longs in Redis: anything
    // else would make lag and read-counter arithmetic overflow later.
    if !s.consistent() {
        return Err("Stream length inconsistent with rax entries".into());
    }
    if s.entries_added < s.length || s.entries_added > i64::MAX as u64 {
        return Err(corrupt("length"));
    }
    let groups = r.len()?;
    for _ in 0..groups {
        let name = Bytes::from(r.string()?);
        let last = id(r)?;
        // -1 (saved as 2^64-1) means "unknown"; any other negative value is damage.
        let entries_read = if v2 {
            match r.u64()? {
                u64::MAX => -1,
                n => i64::try_from(n).map_err(|_| corrupt("group read counter"))?,
            }
        } else {
            s.estimate_distance(last)
        };
        let mut g = Group::new(last, entries_read);
        let pel = r.len()?;
        for _ in 0..pel {
            let id = StreamId::decode(r.take(16)?).ok_or_else(|| corrupt("PEL"))?;
            let delivery_time = r.millis()?;
            let delivery_count = r.u64()?;
            // Times are unix ms and counts long longs, as Redis's commands keep them.
            if delivery_time < 0 || delivery_count > i64::MAX as u64 {
                return Err(corrupt("PEL"));
            }
            if g.pel.insert(id, Nack { delivery_time, delivery_count, consumer: Bytes::new() }).is_some() {
                return Err("Duplicated global PEL entry loading stream consumer group".into());
            }
        }
        let mut owned = std::collections::BTreeSet::new();
        let consumers = r.len()?;
        for _ in 0..consumers {
            let cname = Bytes::from(r.string()?);
            let seen = r.millis()?;
            if seen < 0 {
                return Err(corrupt("consumer"));
            }
            if g.consumers.contains_key(&cname) {
                return Err("Duplicate stream consumer detected.".into());
            }
            g.ensure_consumer(&cname, seen);
            let n = r.len()?;
            for _ in 0..n {
                let id = StreamId::decode(r.take(16)?).ok_or_else(|| corrupt("PEL"))?;
                let nack = g.pel.get_mut(&id).ok_or("Consumer entry not found in group global PEL")?;
                if !owned.insert(id) {
                    return Err("Duplicated consumer PEL entry  loading a stream consumer group".into());
                }
                nack.consumer = cname.clone();
                g.consumers.get_mut(&cname).expect("just added").pel.insert(id);
            }
        }
        if owned.len() != g.pel.len() {
            return Err("Stream CG PEL entry without consumer".into());
        }
        if s.groups.contains_key(&name) {
            return Err(format!("Duplicated consumer group name {}", String::from_utf8_lossy(&name)));
        }
        s.groups.insert(name, g);
    }
    Ok(s)
}

/// verifyDumpPayload: the body of a DUMP-framed payload whose RDB version and CRC64 check
/// (the CRC unless DEBUG SET-SKIP-CHECKSUM-VALIDATION turned that off).
pub fn unframe(p: &[u8], skip_checksum: bool) -> Option<&[u8]> {
    if p.len() < 10 {
        return None;
    }
    let (body, footer) = p.split_at(p.len() - 10);
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(footer[2..].try_into().ok()?);
    if ver > super::RDB_VERSION || (!skip_checksum && crc != crc64::crc64(0, &p[..p.len() - 8])) {
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
        OP_FUNCTION2 => r.string().map(Bytes::from).map_err(|_| "Failed loading library payload".to_string()),
        OP_FUNCTION_PRE_GA => Err("Pre-GA function format not supported".into()),
        _ => Err("given type is not a function".into()),
    }
}

/// RESTORE's payload back into a value: Err(true) when the version or checksum is wrong,
/// Err(false) when the data itself is bad, empty included (verifyDumpPayload, then
/// rdbLoadObject, which must consume the whole body).
pub fn restore_value(p: &[u8], lim: &Limits) -> Result<Value, Refused> {
    let body = unframe(p, lim.skip_checksum).ok_or(Refused::Version)?;
    let mut r = Reader { b: body, pos: 0 };
    let ty = r.u8().map_err(Refused::Corrupt)?;
    let v = object(&mut r, ty, lim).map_err(Refused::Corrupt)?.ok_or(Refused::Corrupt(String::new()))?;
    if r.pos != body.len() {
        return Err(Refused::Corrupt(String::new()));
    }
    Ok(v)
}

/// A ziplist's failure named as rdbLoadObject names it for the type holding it.
fn in_context(e: String, what: &str) -> String {
    match e.strip_prefix("Ziplist integrity check failed.") {
        Some(rest) => format!("{} integrity check failed.{}", what, rest),
        None => e,
    }
}

/// Why RESTORE refuses a payload.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The version or CRC trailer is wrong.
    Version,
    /// The value does not read: rdbLoadObject's reason (empty when it has none to give).
    Corrupt(String),
}

/// rdbReportError's line for a value that fails to load (`Internal error in RDB reading
/// offset 0, function at rdb.c:<line> -> <reason>`), with the line of Redis 7.0.15's rdb.c
/// that gives each reason, so logs read as Redis's do.
pub fn report_line(reason: &str, offset: usize) -> String {
    const LINES: &[(&str, u32)] = &[
        ("Duplicate set members detected", 1808),
        ("Zset with NAN score detected", 1881),
        ("Duplicate zset fields detected", 1893),
        ("Hash with dup elements", 1950),
        ("Duplicate hash fields detected", 1968),
        ("Quicklist integrity check failed.", 2047),
        ("Listpack integrity check failed.", 2070),
        ("Ziplist integrity check failed.", 2080),
        ("Zipmap integrity check failed.", 2129),
        ("List ziplist integrity check failed.", 2187),
        ("Intset integrity check failed.", 2212),
        ("Zset ziplist integrity check failed.", 2227),
        ("Zset listpack integrity check failed.", 2253),
        ("Hash ziplist integrity check failed.", 2273),
        ("Hash listpack integrity check failed.", 2299),
        ("Stream listpack integrity check failed.", 2360),
        ("Stream node key entry is not the size of a stream ID", 2341),
        ("Empty listpack inside stream", 2372),
        ("Stream length inconsistent with rax entries", 2428),
        ("Duplicated consumer group name", 2478),
        ("Duplicated global PEL entry", 2514),
        ("Duplicate stream consumer detected.", 2542),
        ("Consumer entry not found in group global PEL", 2572),
        ("Duplicated consumer PEL entry", 2583),
        ("Stream CG PEL entry without consumer", 2602),
        ("RDB CRC error", 3225),
    ];
    let line = LINES.iter().find(|(r, _)| reason.starts_with(r)).map_or(0, |&(_, l)| l);
    format!("Internal error in RDB reading offset {}, function at rdb.c:{} -> {}", offset, line, reason)
}

/// One key as the file has it: where, what, until when, and its access stamp if saved.
pub struct Record {
    pub db: usize,
    pub key: Bytes,
    pub value: Value,
    /// Unix ms.
    pub expire: Option<i64>,
    /// RDB_OPCODE_IDLE: seconds since last access (saved under an LRU policy).
    pub idle: Option<u64>,
    /// RDB_OPCODE_FREQ: the LFU counter (saved under an LFU policy).
    pub freq: Option<u8>,
}

/// How a load meets the dataset already there (DEBUG RELOAD's NOFLUSH and MERGE).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Merge {
    /// Emptied first (every load but DEBUG RELOAD NOFLUSH).
    Flush,
    /// Kept; a key or library the file also has is an error, and nothing is loaded.
    Refuse,
    /// Kept; the file's keys and libraries replace those of the same name.
    Replace,
}

/// Parses a whole RDB file into its records.
pub fn load(b: &[u8], lim: &Limits) -> LoadResult<Vec<Record>> {
    load_all(b, lim).map(|(records, _)| records)
}

/// `load`, plus the code of each function library the file carries.
pub fn load_all(b: &[u8], lim: &Limits) -> LoadResult<(Vec<Record>, Vec<Bytes>)> {
    load_all_at(b, lim, &mut 0, &mut Vec::new())
}

/// `load_all`, telling where the RDB ended (`used`) and which keys it skipped as empty
/// collections (`empty`), which the loader logs as rdbLoadRio does.
pub fn load_all_at(b: &[u8], lim: &Limits, used: &mut usize, empty: &mut Vec<Bytes>) -> LoadResult<(Vec<Record>, Vec<Bytes>)> {
    if b.len() < 9 || &b[..5] != b"REDIS" {
        return Err("Wrong signature trying to load DB from file".into());
    }
    let ver: u32 = std::str::from_utf8(&b[5..9]).ok().and_then(|v| v.parse().ok()).ok_or("Wrong signature trying to load DB from file")?;
    if ver == 0 || ver > super::RDB_VERSION as u32 {
        return Err(format!("Can't handle RDB format version {}", ver));
    }
    let mut r = Reader { b, pos: 9 };
    let mut db = 0usize;
    // Set by opcodes before a key, for that key only.
    let (mut expire, mut idle, mut freq) = (None, None, None);
    let mut out = vec![];
    let mut functions = vec![];
    loop {
        let op = r.u8()?;
        match op {
            OP_EOF => break,
            OP_SELECTDB => db = r.len()?,
            OP_RESIZEDB => {
                // Only a sizing hint: nothing is reserved from it.
                r.u64()?;
                r.u64()?;
            }
            OP_AUX => {
                r.string()?;
                r.string()?;
            }
            OP_EXPIRETIME_MS => expire = Some(r.millis()?),
            OP_EXPIRETIME => expire = Some(i32::from_le_bytes(r.array()?) as i64 * 1000),
            OP_FREQ => freq = Some(r.u8()?),
            OP_IDLE => idle = Some(r.u64()?),
            OP_FUNCTION2 | OP_FUNCTION_PRE_GA => functions.push(function_code(&mut r, op)?),
            OP_MODULE_AUX => {
                let id = r.u64()?;
                return Err(format!("The RDB file contains AUX module data I can't load: no matching module '{}'", module_type_name(id)));
            }
            ty => {
                let key = r.string()?;
                let value = object(&mut r, ty, lim)?;
                let (e, i, f) = (expire.take(), idle.take(), freq.take());
                // An empty collection is skipped, as rdbLoadRio skips it.
                match value {
                    Some(value) => out.push(Record { db, key: Bytes::from(key), value, expire: e, idle: i, freq: f }),
                    None => empty.push(Bytes::from(key)),
                }
            }
        }
    }
    // Version 5 and later end with a CRC64 of everything before it (0: none was computed).
    if ver >= 5 {
        let body = r.pos;
        let crc = u64::from_le_bytes(r.array()?);
        if lim.checksum && !lim.skip_checksum && crc != 0 {
            let expected = crc64::crc64(0, &b[..body]);
            if crc != expected {
                return Err(format!("Wrong RDB checksum expected: ({:x}) but got ({:x}). Aborting now.", expected, crc));
            }
        }
    }
    *used = r.pos;
    Ok((out, functions))
}

pub(crate) fn entry(value: Value, lru: u32) -> Entry {
    Entry { value, lru }
}
