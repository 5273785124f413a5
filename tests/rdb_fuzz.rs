//! The RDB loader and RESTORE against damaged input: valid dumps of every type and encoding
//! with bits flipped, bytes inserted, tails cut off and length fields forged huge. Whatever
//! the damage, loading answers an error or a dataset every command can use (and that saves
//! and loads again); it never panics, and no single allocation is larger than the input can
//! justify (a length field claiming 2^60 elements is an error, not an allocation attempt).
//! `fuzz/` has the same two entry points for cargo-fuzz; its crashers replay here as
//! `_from_fuzz` tests.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;

use bytes::Bytes;
use cinnabar::reply::Reply;
use cinnabar::testing::TestEngine;
use proptest::prelude::*;

/// The system allocator, noting the largest single request a watched thread makes.
struct Watching;

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // try_with: the allocator can run while a thread's locals are being torn down.
    if WATCHED.try_with(Cell::get).unwrap_or(false) {
        let _ = LARGEST.try_with(|m| m.set(m.get().max(size)));
    }
}

unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Watching = Watching;

/// Runs `f` and returns its result with the largest single allocation it made.
fn watched<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|m| m.set(0));
    WATCHED.with(|w| w.set(true));
    let r = f();
    WATCHED.with(|w| w.set(false));
    (r, LARGEST.with(Cell::get))
}

/// What a load of `input` bytes may allocate at once: LZF expands at most 88 times, and the
/// keyspace's tables grow with keys that each took input bytes.
fn budget(input: usize) -> usize {
    88 * input + (1 << 20)
}

/// Every type in each encoding, small enough that a mutation often lands somewhere deep.
fn build(t: &mut TestEngine) {
    // Low thresholds, so 70 elements are enough for the big encodings.
    t.run(&["CONFIG", "SET", "hash-max-listpack-entries", "64"]);
    t.run(&["CONFIG", "SET", "zset-max-listpack-entries", "64"]);
    for cmd in [
        &["SET", "int", "-70000"][..],
        &["SET", "text", "hello"],
        &["SET", "long", "abcabcabcabcabcabcabcabcabcabcabcabcabcabc"],
        &["SET", "ttl", "v", "PX", "100000"],
        &["RPUSH", "list", "a", "1", "-70000", "bb", "3000000000", "cccccccccccccccccccccccccccccccc"],
        &["SADD", "intset", "1", "-5", "70000"],
        &["SADD", "set", "x", "y", "z"],
        &["ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c"],
        &["HSET", "hash", "f", "v", "n", "12"],
        &["XADD", "stream", "1-1", "f", "v", "g", "1"],
        &["XADD", "stream", "2-1", "f", "w"],
        &["XADD", "stream", "3-0", "h", "x"],
        &["XDEL", "stream", "2-1"],
        &["XGROUP", "CREATE", "stream", "g", "0"],
        &["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "stream", ">"],
    ] {
        t.run(cmd);
    }
    for i in 0..70 {
        t.run(&["HSET", "bighash", &format!("field{}", i), &i.to_string()]);
        t.run(&["ZADD", "bigzset", &i.to_string(), &format!("member{}", i)]);
        t.run(&["SADD", "bigset", &format!("m{}", i)]);
    }
    t.run(&["SELECT", "3"]);
    t.run(&["SET", "other", "db"]);
    t.run(&["SELECT", "0"]);
}

fn base_dump() -> &'static [u8] {
    static DUMP: OnceLock<Vec<u8>> = OnceLock::new();
    DUMP.get_or_init(|| {
        let mut t = TestEngine::new();
        build(&mut t);
        t.engine.rdb_snapshot()
    })
}

fn base_payloads() -> &'static [Vec<u8>] {
    static PAYLOADS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    PAYLOADS.get_or_init(|| {
        let mut t = TestEngine::new();
        build(&mut t);
        ["int", "long", "list", "intset", "set", "zset", "hash", "stream", "bighash", "bigzset", "bigset"]
            .iter()
            .map(|k| match t.run(&["DUMP", k]) {
                Reply::Bulk(b) => b.to_vec(),
                other => panic!("{:?}", other),
            })
            .collect()
    })
}

/// One way to damage a file.
#[derive(Debug, Clone)]
enum Damage {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    /// A length field (or a string header) overwritten with a huge value.
    Huge(usize, &'static [u8]),
}

fn damage() -> impl Strategy<Value = Damage> {
    let huge: &[&'static [u8]] = &[
        b"\x81\x10\x00\x00\x00\x00\x00\x00\x00",
        b"\x81\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x80\xff\xff\xff\xff",
        b"\x80\x7f\xff\xff\xff",
        b"\x7f\xff",
        b"\xc3\x01\x81\x10\x00\x00\x00\x00\x00\x00\x00",
        b"\xc3\x80\xff\xff\xff\xff\x05",
        b"\xff\xff\xff\x7f",
        b"\xff\xff",
    ];
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(p, x)| Damage::Flip(p, x)),
        any::<usize>().prop_map(Damage::Cut),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..12)).prop_map(|(p, b)| Damage::Insert(p, b)),
        (any::<usize>(), proptest::sample::select(huge.to_vec())).prop_map(|(p, h)| Damage::Huge(p, h)),
    ]
}

/// Applies the damage to the body (`keep` bytes at the start stay as they are).
fn apply(bytes: &mut Vec<u8>, keep: usize, end: usize, d: &Damage) {
    let span = end.saturating_sub(keep).max(1);
    match d {
        Damage::Flip(p, x) => {
            if let Some(b) = bytes.get_mut(keep + p % span) {
                *b ^= x;
            }
        }
        Damage::Cut(p) => bytes.truncate((keep + p % span).min(bytes.len())),
        Damage::Insert(p, b) => {
            let at = (keep + p % span).min(bytes.len());
            bytes.splice(at..at, b.iter().copied());
        }
        Damage::Huge(p, h) => {
            let at = (keep + p % span).min(bytes.len());
            let end = (at + h.len()).min(bytes.len());
            bytes.splice(at..end, h.iter().copied());
        }
    }
}

fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

/// Runs reads and writes of the key's type over it: a value the loader accepted must be one
/// every command can walk and change.
fn exercise(t: &mut TestEngine, key: &str) {
    let ty = t.run(&["TYPE", key]);
    let cmds: &[&[&str]] = match ty {
        Reply::Simple("string") => &[&["GET", "$"], &["APPEND", "$", "x"], &["INCR", "$"], &["GETRANGE", "$", "0", "5"]],
        Reply::Simple("list") => &[
            &["LRANGE", "$", "0", "-1"],
            &["LINDEX", "$", "-1"],
            &["LPUSH", "$", "n"],
            &["LINSERT", "$", "BEFORE", "1", "q"],
            &["LREM", "$", "0", "a"],
            &["RPOP", "$"],
            &["LPOS", "$", "bb"],
        ],
        Reply::Simple("set") => &[
            &["SMEMBERS", "$"],
            &["SISMEMBER", "$", "1"],
            &["SADD", "$", "7", "w"],
            &["SREM", "$", "x"],
            &["SPOP", "$"],
            &["SRANDMEMBER", "$", "-3"],
            &["SSCAN", "$", "0"],
        ],
        Reply::Simple("zset") => &[
            &["ZRANGE", "$", "0", "-1", "WITHSCORES"],
            &["ZRANGEBYSCORE", "$", "-inf", "+inf"],
            &["ZRANGEBYLEX", "$", "-", "+"],
            &["ZADD", "$", "3", "new"],
            &["ZREM", "$", "a"],
            &["ZRANK", "$", "b"],
            &["ZINCRBY", "$", "1", "c"],
            &["ZPOPMIN", "$"],
        ],
        Reply::Simple("hash") => &[
            &["HGETALL", "$"],
            &["HGET", "$", "f"],
            &["HSET", "$", "g", "1"],
            &["HDEL", "$", "n"],
            &["HINCRBY", "$", "n", "1"],
            &["HRANDFIELD", "$", "-2"],
            &["HSCAN", "$", "0"],
        ],
        Reply::Simple("stream") => &[
            &["XRANGE", "$", "-", "+"],
            &["XREVRANGE", "$", "+", "-"],
            &["XINFO", "STREAM", "$", "FULL"],
            &["XINFO", "GROUPS", "$"],
            &["XPENDING", "$", "g", "-", "+", "10"],
            &["XADD", "$", "*", "f", "v"],
            &["XDEL", "$", "3-0"],
            &["XTRIM", "$", "MAXLEN", "2"],
            &["XAUTOCLAIM", "$", "g", "c2", "0", "0"],
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "$", "0"],
        ],
        _ => &[],
    };
    for cmd in cmds {
        let parts: Vec<&[u8]> = cmd.iter().map(|a| if *a == "$" { key.as_bytes() } else { a.as_bytes() }).collect();
        t.run_bytes(argv(&parts));
    }
    t.run(&["OBJECT", "ENCODING", key]);
    t.run(&["DUMP", key]);
}

fn keys(t: &mut TestEngine) -> Vec<String> {
    match t.run(&["KEYS", "*"]) {
        Reply::Array(items) => items
            .into_iter()
            .filter_map(|r| match r {
                Reply::Bulk(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

/// Loads a (damaged) file; if it loads, every key is exercised and the dataset saves and
/// loads again. Returns the largest single allocation of the load itself.
fn load_checked(file: &[u8]) -> usize {
    let mut t = TestEngine::new();
    let (result, largest) = watched(|| t.engine.rdb_load(file));
    if result.is_ok() {
        for db in ["0", "3"] {
            t.run(&["SELECT", db]);
            for k in keys(&mut t) {
                exercise(&mut t, &k);
            }
        }
        let again = t.engine.rdb_snapshot();
        let mut u = TestEngine::new();
        if let Err(e) = u.engine.rdb_load(&again) {
            panic!("an accepted file saved into one that does not load: {}", e);
        }
    }
    largest
}

/// RESTOREs a (damaged) payload with a correct checksum, so the loader sees the damage.
fn restore_checked(mut payload: Vec<u8>) -> usize {
    if payload.len() >= 10 {
        let n = payload.len();
        let crc = crc64::crc64(0, &payload[..n - 8]);
        payload[n - 8..].copy_from_slice(&crc.to_le_bytes());
    }
    let mut t = TestEngine::new();
    let size = payload.len();
    let (reply, largest) = watched(|| t.run_bytes(argv(&[b"RESTORE", b"k", b"0", &payload, b"REPLACE"])));
    if reply == Reply::Simple("OK") {
        exercise(&mut t, "k");
    } else {
        assert!(matches!(&reply, Reply::Error(e) if e == "ERR Bad data format" || e == "ERR DUMP payload version or checksum are wrong"), "{:?}", reply);
    }
    assert!(largest <= budget(size), "RESTORE of {} bytes allocated {} at once", size, largest);
    largest
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn damaged_files_are_errors_or_usable_datasets(damages in proptest::collection::vec(damage(), 1..4), zero_crc in any::<bool>()) {
        let mut file = base_dump().to_vec();
        let end = file.len() - 8;
        for d in &damages {
            apply(&mut file, 9, end, d);
        }
        // With a zero checksum the loader parses the damage instead of stopping at the CRC.
        if zero_crc && file.len() >= 8 {
            let n = file.len();
            file[n - 8..].fill(0);
        }
        let largest = load_checked(&file);
        prop_assert!(largest <= budget(file.len()), "a load of {} bytes allocated {} at once", file.len(), largest);
    }

    #[test]
    fn damaged_restore_payloads_are_refused_or_usable(which in 0usize..11, damages in proptest::collection::vec(damage(), 1..4)) {
        let mut p = base_payloads()[which].clone();
        let end = p.len().saturating_sub(10);
        for d in &damages {
            apply(&mut p, 0, end, d);
        }
        restore_checked(p);
    }

    #[test]
    fn arbitrary_bytes_after_the_header_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut file = b"REDIS0010".to_vec();
        file.extend(body);
        let largest = load_checked(&file);
        prop_assert!(largest <= budget(file.len()));
    }

    #[test]
    fn arbitrary_payloads_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut p = body;
        p.extend_from_slice(&[10, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        restore_checked(p);
    }
}

#[test]
fn every_truncation_of_a_valid_dump_is_an_error() {
    let file = base_dump();
    let mut t = TestEngine::new();
    for cut in 0..file.len() {
        assert!(t.engine.rdb_load(&file[..cut]).is_err(), "cut at {}", cut);
    }
    assert!(t.engine.rdb_load(file).is_ok());
}

#[test]
fn a_length_field_claiming_2_pow_60_elements_allocates_nothing_like_it() {
    for ty in [1u8, 2, 3, 4, 5, 14, 15, 18, 19] {
        let mut file = b"REDIS0010\xfe\x00".to_vec();
        file.push(ty);
        file.extend_from_slice(b"\x01k\x81\x10\x00\x00\x00\x00\x00\x00\x00\x01a\x01b");
        let mut t = TestEngine::new();
        let (result, largest) = watched(|| t.engine.rdb_load(&file));
        assert!(result.is_err(), "type {}", ty);
        assert!(largest < 1 << 20, "type {}: {} bytes at once", ty, largest);
    }
}

/// The fuzz targets' seeds (written by redis-server 7.0, see fuzz/seeds/make.py) load and
/// restore, so the fuzzers start from inputs that reach every loader path.
#[test]
fn the_fuzz_seeds_written_by_redis_server_load() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    for name in ["every-type", "one-key"] {
        let file = std::fs::read(seeds.join("rdb_load").join(name)).unwrap();
        let mut t = TestEngine::new();
        assert!(t.engine.rdb_load(&file).is_ok(), "{}", name);
    }
    let mut n = 0;
    for entry in std::fs::read_dir(seeds.join("restore")).unwrap() {
        let mut payload = std::fs::read(entry.unwrap().path()).unwrap();
        payload.extend_from_slice(&10u16.to_le_bytes());
        let crc = crc64::crc64(0, &payload);
        payload.extend_from_slice(&crc.to_le_bytes());
        let mut t = TestEngine::new();
        assert_eq!(t.run_bytes(argv(&[b"RESTORE", b"k", b"0", &payload])), Reply::Simple("OK"));
        exercise(&mut t, "k");
        n += 1;
    }
    assert_eq!(n, 12);
}

/// cargo-fuzz (restore and rdb_load): a stream whose entries_added (1) is below its length
/// (2), the file's other fields intact. Loading it made XINFO's lag arithmetic underflow;
/// counters Redis could never have saved are now corrupt data.
#[test]
fn a_stream_with_fewer_entries_added_than_entries_is_corrupt_from_fuzz() {
    let hex = "130110000000000000000100000000000000014043430000001a000201010102018166028167020001020100010001817602010105010101010100010101816602817702060100010201dfff0201018168028178020601ff0203010203000101010167010181ffffffffffffffff0100000000000000010000000000000001d4bc6d120100005001010163d4bc6d12a20100000100000000000000010000000000000001";
    let body: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    let mut payload = body.clone();
    payload.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64::crc64(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    let mut t = TestEngine::new();
    assert_eq!(t.run_bytes(argv(&[b"RESTORE", b"k", b"0", &payload])), Reply::Error("ERR Bad data format".into()));
    let mut file = b"REDIS0010\xfe\x00\x13\x01k".to_vec();
    file.extend_from_slice(&body[1..]);
    file.push(0xFF);
    file.extend_from_slice(&[0; 8]);
    assert_eq!(t.engine.rdb_load(&file), Err("Stream length in RDB is corrupt".into()));
}

/// Stream times and counters outside what Redis's commands can produce (negative delivery
/// or seen times, delivery counts or read counters past a long long) are corrupt, so idle
/// times, lags and delivery bumps never overflow.
#[test]
fn stream_times_and_counters_out_of_range_are_corrupt() {
    let mut t = TestEngine::new();
    t.run(&["XADD", "s", "1-1", "f", "v"]);
    t.run(&["XGROUP", "CREATE", "s", "g", "0"]);
    t.run(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]);
    let Reply::Bulk(good) = t.run(&["DUMP", "s"]) else { panic!() };
    let good = good[..good.len() - 10].to_vec();
    // As a file, so the loader's message shows which check refused it.
    let load = |t: &mut TestEngine, body: &[u8]| {
        let mut file = b"REDIS0010\xfe\x00\x13\x01k".to_vec();
        file.extend_from_slice(&body[1..]);
        file.push(0xFF);
        file.extend_from_slice(&[0; 8]);
        t.engine.rdb_load(&file)
    };
    assert_eq!(load(&mut t, &good), Ok(1));
    // The group PEL entry (the ID's second appearance, after the node key): the ID, then
    // the delivery time (8 bytes LE), then the count.
    let id = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
    let at = good.windows(16).enumerate().filter(|(_, w)| *w == id).map(|(i, _)| i).nth(1).unwrap() + 16;
    let mut negative_time = good.clone();
    negative_time[at + 7] = 0x80;
    assert_eq!(load(&mut t, &negative_time), Err("Stream PEL in RDB is corrupt".into()));
    let mut huge_count = good.clone();
    huge_count.splice(at + 8..at + 9, [0x81, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(load(&mut t, &huge_count), Err("Stream PEL in RDB is corrupt".into()));
    // The consumer's seen time follows its name ("\x01c").
    let seen = good.windows(2).rposition(|w| w == b"\x01c").unwrap() + 2;
    let mut negative_seen = good.clone();
    negative_seen[seen + 7] = 0xFF;
    assert_eq!(load(&mut t, &negative_seen), Err("Stream consumer in RDB is corrupt".into()));
}
