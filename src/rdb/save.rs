//! Writing RDB: the whole dataset (`dump`, what SAVE writes) and one value (`dump_value`,
//! DUMP's payload), each value in the encoding rdbSaveObject picks for its in-memory one, so a
//! key saved and loaded keeps its OBJECT ENCODING, as in Redis: listpack hashes and sorted
//! sets as their listpack (types 16, 17), intsets as the intset (11), big ones as plain
//! pairs (4, 5 with binary doubles), lists node by node (18), streams as their listpacks (19).
//! Every string goes through `Writer::string` (rdbSaveRawString): a canonical integer that
//! fits 32 bits is written as one, anything longer than 20 bytes is LZF-compressed when
//! `rdbcompression` is on and that saves at least 4 bytes. Blobs (listpacks, intsets) are
//! strings too, so they compress. Redis: rdb.c (rdbSaveRio, rdbSaveObject, rdbSaveRawString),
//! cluster.c (createDumpPayload).

use super::kind::*;
use super::lzf::Compressor;
use super::RDB_VERSION;
use crate::db::access::AccessClock;
use crate::db::Db;
use crate::ds::listpack::LpVal;
use crate::object::{Str, Value};
use crate::types::hash::Hash;
use crate::types::list::List;
use crate::types::set::Set;
use crate::types::zset::ZSet;

/// rio over a growing buffer: the bytes so far and the setting that shapes them.
pub struct Writer {
    out: Vec<u8>,
    compress: bool,
    /// One LZF hash table for the whole save, made on the first string worth compressing.
    lzf: Option<Box<Compressor>>,
    /// Elements at least this long are written as PLAIN list nodes of their own, as
    /// quicklist.c's packed_threshold puts them (`types::list::packed_threshold`; lowered
    /// by tests and DEBUG QUICKLIST-PACKED-THRESHOLD).
    pub(crate) plain_threshold: usize,
}

impl Writer {
    /// `compress` is `rdbcompression`.
    pub fn new(compress: bool) -> Writer {
        Writer { out: Vec::new(), compress, lzf: None, plain_threshold: crate::types::list::packed_threshold() }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    pub fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    pub fn raw(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    /// rdbSaveLen: 6, 14, 32 or 64 bits.
    pub fn length(&mut self, n: u64) {
        let out = &mut self.out;
        if n < 1 << 6 {
            out.push(n as u8);
        } else if n < 1 << 14 {
            out.push(0x40 | (n >> 8) as u8);
            out.push(n as u8);
        } else if n <= u32::MAX as u64 {
            out.push(0x80);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0x81);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// rdbEncodeInteger: the 8, 16 or 32-bit form, if `n` fits one.
    fn encoded_int(&mut self, n: i64) -> bool {
        if let Ok(v) = i8::try_from(n) {
            self.out.extend_from_slice(&[ENC_INT8, v as u8]);
        } else if let Ok(v) = i16::try_from(n) {
            self.out.push(ENC_INT16);
            self.out.extend_from_slice(&v.to_le_bytes());
        } else if let Ok(v) = i32::try_from(n) {
            self.out.push(ENC_INT32);
            self.out.extend_from_slice(&v.to_le_bytes());
        } else {
            return false;
        }
        true
    }

    /// rdbSaveRawString: as an integer, LZF-compressed, or verbatim.
    pub fn string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(n) = crate::util::parse_i64(s) {
                if self.encoded_int(n) {
                    return;
                }
            }
        }
        // Under 21 bytes LZF cannot win even on "aaaa...", so Redis does not try.
        if self.compress && s.len() > 20 {
            let lzf = self.lzf.get_or_insert_with(Default::default);
            // rdbSaveLzfStringObject: only if it saves at least 4 bytes.
            if let Some(c) = lzf.compress(s, s.len() - 4) {
                self.byte(ENC_LZF);
                self.length(c.len() as u64);
                self.length(s.len() as u64);
                self.raw(&c);
                return;
            }
        }
        self.length(s.len() as u64);
        self.raw(s);
    }

    /// rdbSaveLongLongAsStringObject: an INT-encoded string value.
    pub fn int(&mut self, n: i64) {
        if !self.encoded_int(n) {
            let text = n.to_string();
            self.length(text.len() as u64);
            self.raw(text.as_bytes());
        }
    }

    fn millis(&mut self, t: i64) {
        self.raw(&t.to_le_bytes());
    }

    /// rdbSaveObject: the value's body, in the encoding `object_type` announced.
    pub fn object(&mut self, v: &Value) {
        match v {
            Value::Str(Str::Int(n)) => self.int(*n),
            Value::Str(s) => self.string(s.as_slice().expect("integers are matched above")),
            Value::List(l) => self.list(l),
            Value::Set(Set::Intset(is)) => {
                let members: Vec<i64> = is.iter().collect();
                self.string(&super::intset::encode(&members));
            }
            Value::Set(Set::Table(t)) => {
                self.length(t.len() as u64);
                t.iter().for_each(|(m, _)| self.string(m));
            }
            Value::ZSet(ZSet::Listpack(lp)) => self.string(&crate::ds::redis_listpack::encode_vals(lp.iter())),
            Value::ZSet(z @ ZSet::Skiplist(_)) => {
                let all = z.all();
                self.length(all.len() as u64);
                // Greatest first, as Redis walks its skiplist from the tail: a loader
                // inserting in file order then always inserts at the head.
                for (m, score) in all.iter().rev() {
                    self.string(m);
                    self.raw(&score.to_le_bytes());
                }
            }
            Value::Hash(Hash::Listpack(lp)) => self.string(&crate::ds::redis_listpack::encode_vals(lp.iter())),
            Value::Hash(Hash::Table(t)) => {
                self.length(t.len() as u64);
                for (f, v) in t.iter() {
                    self.string(f);
                    self.string(v);
                }
            }
            Value::Stream(s) => self.stream(s),
        }
    }

    /// RDB_TYPE_LIST_QUICKLIST_2: each node as its container (PACKED listpack or a PLAIN
    /// element) and its bytes. Our nodes are always listpacks; an element past the plain
    /// threshold is written as the PLAIN node Redis would hold it in, the elements around it
    /// as packed nodes of their own.
    fn list(&mut self, l: &List) {
        let threshold = self.plain_threshold;
        let big = |v: &LpVal| matches!(v, LpVal::Str(s) if s.len() >= threshold);
        let mut count = 0u64;
        for node in l.nodes() {
            let mut run = false;
            for v in node.iter() {
                if big(&v) {
                    count += 1;
                    run = false;
                } else if !run {
                    count += 1;
                    run = true;
                }
            }
        }
        self.length(count);
        for node in l.nodes() {
            let mut small: Vec<LpVal> = Vec::new();
            for v in node.iter() {
                match v {
                    LpVal::Str(s) if s.len() >= threshold => {
                        self.packed_node(&mut small);
                        self.length(QUICKLIST_PLAIN);
                        self.string(s);
                    }
                    v => small.push(v),
                }
            }
            self.packed_node(&mut small);
        }
    }

    fn packed_node(&mut self, items: &mut Vec<LpVal>) {
        if !items.is_empty() {
            self.length(QUICKLIST_PACKED);
            self.string(&crate::ds::redis_listpack::encode_vals(items.drain(..)));
        }
    }

    /// RDB_TYPE_STREAM_LISTPACKS_2, field for field as Redis 7.0's rdbSaveObject writes it.
    fn stream(&mut self, s: &crate::types::stream::Stream) {
        let nodes = s.rdb_nodes();
        self.length(nodes.len() as u64);
        for (key, lp) in &nodes {
            self.string(key);
            self.string(lp);
        }
        self.length(s.length);
        for id in [s.last_id, s.first_id, s.max_deleted_entry_id] {
            self.length(id.ms);
            self.length(id.seq);
        }
        self.length(s.entries_added);
        self.length(s.groups.len() as u64);
        for (name, g) in &s.groups {
            self.string(name);
            self.length(g.last_id.ms);
            self.length(g.last_id.seq);
            self.length(g.entries_read as u64);
            self.length(g.pel.len() as u64);
            for (id, nack) in &g.pel {
                self.raw(&id.encode());
                self.millis(nack.delivery_time);
                self.length(nack.delivery_count);
            }
            self.length(g.consumers.len() as u64);
            for (cname, c) in &g.consumers {
                self.string(cname);
                self.millis(c.seen_time);
                self.length(c.pel.len() as u64);
                for id in &c.pel {
                    self.raw(&id.encode());
                }
            }
        }
    }

    /// rdbSaveAuxField with a text or integer value (both go through rdbSaveRawString).
    fn aux(&mut self, key: &str, value: &str) {
        self.byte(OP_AUX);
        self.string(key.as_bytes());
        self.string(value.as_bytes());
    }
}

/// rdbSaveObjectType: the type byte for the value's current encoding.
pub fn object_type(v: &Value) -> u8 {
    match v {
        Value::Str(_) => TYPE_STRING,
        Value::List(_) => TYPE_LIST_QUICKLIST_2,
        Value::Set(Set::Intset(_)) => TYPE_SET_INTSET,
        Value::Set(Set::Table(_)) => TYPE_SET,
        Value::ZSet(ZSet::Listpack(_)) => TYPE_ZSET_LISTPACK,
        Value::ZSet(ZSet::Skiplist(_)) => TYPE_ZSET_2,
        Value::Hash(Hash::Listpack(_)) => TYPE_HASH_LISTPACK,
        Value::Hash(Hash::Table(_)) => TYPE_HASH,
        Value::Stream(_) => TYPE_STREAM_LISTPACKS_2,
    }
}

/// DUMP's payload: the value as RDB stores it, the RDB version, and a CRC64 of both.
/// `compress` is `rdbcompression`, which DUMP obeys as SAVE does.
pub fn dump_value(v: &Value, compress: bool) -> Vec<u8> {
    let mut w = Writer::new(compress);
    w.byte(object_type(v));
    w.object(v);
    let mut out = w.into_bytes();
    frame(&mut out);
    out
}

/// The footer of a DUMP / FUNCTION DUMP payload: RDB version, then a CRC64 of everything
/// (always computed: verifyDumpPayload checks it whatever `rdbchecksum` says).
pub fn frame(out: &mut Vec<u8>) {
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Which access stamp rdbSaveKeyValuePair writes under the eviction policy: LRU idle
/// seconds, an LFU counter, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    None,
    Idle,
    Freq,
}

/// What an RDB file carries besides the keys, from the server that writes it.
pub struct Snapshot<'a> {
    pub dbs: &'a [Db],
    /// The time of the save (`ctime`).
    pub now_ms: i64,
    /// `used-mem`.
    pub used_mem: u64,
    /// `rdbcompression` and `rdbchecksum`.
    pub compress: bool,
    pub checksum: bool,
    /// Which access stamps are kept (the eviction policy's kind), measured on this clock.
    pub access: Access,
    pub clock: AccessClock,
    /// Runs after each key is written (rdb-key-save-delay's pause).
    pub per_key: Option<&'a dyn Fn()>,
}

/// The whole dataset as an RDB file (rdbSaveRio), keys already past their deadline included
/// as 7.0 includes them; `libraries` writes the function libraries, which come before the keyspace.
pub fn write(s: &Snapshot, libraries: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let now = s.now_ms;
    let mut w = Writer::new(s.compress);
    w.out.reserve(1 << 16);
    w.raw(format!("REDIS{:04}", RDB_VERSION).as_bytes());
    // rdbSaveInfoAuxFields: the same fields in the same order.
    w.aux("redis-ver", crate::REDIS_VERSION);
    w.aux("redis-bits", "64");
    w.aux("ctime", &(now / 1000).to_string());
    w.aux("used-mem", &s.used_mem.to_string());
    w.aux("aof-base", "0");
    // Functions come before the keyspace, as rdbSaveRio writes them.
    libraries(&mut w);
    for db in s.dbs {
        if db.is_empty() {
            continue;
        }
        w.byte(OP_SELECTDB);
        w.length(db.id as u64);
        w.byte(OP_RESIZEDB);
        w.length(db.len() as u64);
        w.length(db.expires_len() as u64);
        for (key, entry) in db.iter() {
            if let Some(pause) = s.per_key {
                pause();
            }
            // rdbSaveKeyValuePair: expiry, access stamp, type, key, value. A key already past
            // its deadline is saved too, as 7.0 saves it (the loader counts and drops it).
            if let Some(when) = db.get_expire(key) {
                w.byte(OP_EXPIRETIME_MS);
                w.millis(when);
            }
            match s.access {
                Access::Idle => {
                    w.byte(OP_IDLE);
                    w.length(s.clock.idle_seconds(entry) as u64);
                }
                Access::Freq => {
                    w.byte(OP_FREQ);
                    w.byte(s.clock.lfu_decayed(entry.lru) as u8);
                }
                Access::None => {}
            }
            w.byte(object_type(&entry.value));
            w.string(key);
            w.object(&entry.value);
        }
    }
    w.byte(OP_EOF);
    // A zero checksum tells loaders that none was computed (rdbchecksum no).
    let crc = if s.checksum { crc64::crc64(0, &w.out) } else { 0 };
    w.raw(&crc.to_le_bytes());
    w.into_bytes()
}
