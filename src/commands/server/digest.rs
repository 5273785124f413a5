//! DEBUG DIGEST and DEBUG DIGEST-VALUE: Redis's dataset fingerprint (debug.c), bit for bit.
//! Unordered collections xor their elements' SHA1s and ordered ones chain them, so two
//! servers holding the same data give the same 40 hex digits whatever their encodings or
//! insertion order. Redis's own tests compare servers with it (`debug digest` before and
//! after DEBUG RELOAD or an AOF restart), and so do ours.

use crate::db::Db;
use crate::object::Value;

type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// Adds `data` to an unordered digest (xorDigest).
fn xor(d: &mut Digest, data: &[u8]) {
    for (a, b) in d.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// Adds `data` to an ordered digest: digest = SHA1(digest xor SHA1(data)) (mixDigest).
fn mix(d: &mut Digest, data: &[u8]) {
    xor(d, data);
    *d = sha1(d);
}

/// One value, with its type and whether it has a TTL (xorObjectDigest).
fn value_digest(d: &mut Digest, value: &Value, has_ttl: bool) {
    let ty: u32 = match value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    };
    mix(d, &ty.to_be_bytes());
    match value {
        Value::Str(s) => mix(d, &s.to_bytes()),
        Value::List(l) => l.to_vec().iter().for_each(|e| mix(d, e)),
        Value::Set(s) => s.members().iter().for_each(|m| xor(d, m)),
        Value::ZSet(z) => {
            for (m, score) in z.all() {
                let mut e = [0u8; 20];
                mix(&mut e, &m);
                mix(&mut e, crate::util::fmt_g(score, 17).as_bytes());
                xor(d, &e);
            }
        }
        Value::Hash(h) => {
            for (f, v) in h.pairs() {
                let mut e = [0u8; 20];
                mix(&mut e, &f);
                mix(&mut e, &v);
                xor(d, &e);
            }
        }
        Value::Stream(s) => {
            use crate::types::stream::StreamId;
            for (id, fields) in s.range(StreamId::MIN, StreamId::MAX, false, usize::MAX) {
                mix(d, format!("{}.{}", id.ms, id.seq).as_bytes());
                fields.iter().for_each(|f| mix(d, f));
            }
        }
    }
    if has_ttl {
        xor(d, b"!!expire!!");
    }
}

fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{:02x}", b)).collect()
}

/// DEBUG DIGEST: every database's keys and values (computeDatasetDigest); all zeros when
/// the server is empty. Logically expired keys still count, as in Redis.
pub fn dataset(dbs: &[Db]) -> String {
    let mut out = [0u8; 20];
    for (j, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix(&mut out, &(j as u32).to_be_bytes());
        for (key, entry) in db.iter() {
            let mut d = [0u8; 20];
            mix(&mut d, key);
            value_digest(&mut d, &entry.value, db.get_expire(key).is_some());
            xor(&mut out, &d);
        }
    }
    hex(&out)
}

/// DEBUG DIGEST-VALUE: one key's value digest (all zeros when absent); the key name is
/// not part of it.
pub fn key(db: &Db, key: &[u8]) -> String {
    let mut d = [0u8; 20];
    if let Some(e) = db.peek(key) {
        value_digest(&mut d, &e.value, db.get_expire(key).is_some());
    }
    hex(&d)
}
