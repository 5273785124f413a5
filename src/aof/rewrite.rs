//! An AOF base written as commands (`aof-use-rdb-preamble no`): the fewest commands that
//! rebuild the dataset, as Redis's rewriteAppendOnlyFileRio writes them. Collections go in
//! batches of 64 elements per command, so replaying a huge key never builds one huge argv;
//! streams are rebuilt with their IDs, groups and pending entries exactly.

use bytes::Bytes;

use crate::db::Db;
use crate::object::Value;
use crate::resp::encode_command;
use crate::types::stream::Stream;

/// AOF_REWRITE_ITEMS_PER_CMD.
const ITEMS_PER_CMD: usize = 64;

/// The commands that rebuild `dbs`: a `#TS:` annotation first when `timestamp` is given, then
/// a FUNCTION LOAD per library, then each database's keys.
/// `per_key` runs after each key (rdb-key-save-delay's pause).
pub fn commands<'a>(dbs: &[Db], timestamp: Option<i64>, libraries: impl Iterator<Item = &'a [u8]>, per_key: Option<&dyn Fn()>) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(ts) = timestamp {
        out.extend_from_slice(format!("#TS:{}\r\n", ts).as_bytes());
    }
    for code in libraries {
        encode_command(&mut out, &[&b"FUNCTION"[..], b"LOAD", code]);
    }
    for (j, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        encode_command(&mut out, &[&b"SELECT"[..], j.to_string().as_bytes()]);
        for (key, entry) in db.iter() {
            if let Some(pause) = per_key {
                pause();
            }
            value(&mut out, &Bytes::copy_from_slice(key), &entry.value);
            if let Some(when) = db.get_expire(key) {
                encode_command(&mut out, &[&b"PEXPIREAT"[..], key, when.to_string().as_bytes()]);
            }
        }
    }
    out
}

/// `cmd key item item ...`, in batches.
fn batched(out: &mut Vec<u8>, cmd: &'static [u8], key: &Bytes, items: Vec<Bytes>, per_item: usize) {
    for chunk in items.chunks(ITEMS_PER_CMD * per_item) {
        let mut argv = Vec::with_capacity(chunk.len() + 2);
        argv.push(Bytes::from_static(cmd));
        argv.push(key.clone());
        argv.extend_from_slice(chunk);
        encode_command(out, &argv);
    }
}

fn value(out: &mut Vec<u8>, key: &Bytes, v: &Value) {
    match v {
        Value::Str(s) => encode_command(out, &[&b"SET"[..], key, &s.to_bytes()]),
        Value::List(l) => batched(out, b"RPUSH", key, l.to_vec(), 1),
        Value::Set(s) => batched(out, b"SADD", key, s.members(), 1),
        Value::ZSet(z) => {
            let items = z.all().into_iter().flat_map(|(m, score)| [Bytes::from(crate::util::fmt_g(score, 17)), m]).collect();
            batched(out, b"ZADD", key, items, 2)
        }
        Value::Hash(h) => batched(out, b"HMSET", key, h.pairs().into_iter().flat_map(|(f, v)| [f, v]).collect(), 2),
        Value::Stream(s) => stream(out, key, s),
    }
}

/// rewriteStreamObject: entries, then XSETID for the IDs, then each group with its
/// consumers (XCLAIM per pending entry, CREATECONSUMER for those with none).
fn stream(out: &mut Vec<u8>, key: &Bytes, s: &Stream) {
    use crate::types::stream::StreamId;
    let b = |x: &'static [u8]| Bytes::from_static(x);
    if s.length > 0 {
        for (id, fields) in s.range(StreamId::MIN, StreamId::MAX, false, usize::MAX) {
            let mut argv = vec![b(b"XADD"), key.clone(), id.to_bytes()];
            argv.extend(fields);
            encode_command(out, &argv);
        }
    } else {
        // An empty stream still exists: add one entry and trim it away.
        encode_command(out, &[b(b"XADD"), key.clone(), b(b"MAXLEN"), b(b"0"), b(b"0-1"), b(b"x"), b(b"y")]);
    }
    encode_command(
        out,
        &[
            b(b"XSETID"),
            key.clone(),
            s.last_id.to_bytes(),
            b(b"ENTRIESADDED"),
            Bytes::from(s.entries_added.to_string()),
            b(b"MAXDELETEDID"),
            s.max_deleted_entry_id.to_bytes(),
        ],
    );
    for (name, g) in &s.groups {
        encode_command(
            out,
            &[b(b"XGROUP"), b(b"CREATE"), key.clone(), name.clone(), g.last_id.to_bytes(), b(b"ENTRIESREAD"), Bytes::from(g.entries_read.to_string())],
        );
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                encode_command(out, &[b(b"XGROUP"), b(b"CREATECONSUMER"), key.clone(), name.clone(), cname.clone()]);
                continue;
            }
            for id in &c.pel {
                let nack = &g.pel[id];
                encode_command(
                    out,
                    &[
                        b(b"XCLAIM"),
                        key.clone(),
                        name.clone(),
                        cname.clone(),
                        b(b"0"),
                        id.to_bytes(),
                        b(b"TIME"),
                        Bytes::from(nack.delivery_time.to_string()),
                        b(b"RETRYCOUNT"),
                        Bytes::from(nack.delivery_count.to_string()),
                        b(b"JUSTID"),
                        b(b"FORCE"),
                    ],
                );
            }
        }
    }
}
