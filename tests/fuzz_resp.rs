//! Property-based fuzzing of the request parser and of the engine as a whole: whatever bytes
//! or commands arrive, the core answers (a reply or a protocol error) and never panics.
//! (cargo-fuzz needs a nightly toolchain; proptest runs on stable in every CI run.)

use bytes::{Bytes, BytesMut};
use cinnabar::resp::RequestParser;
use cinnabar::testing::TestEngine;
use proptest::prelude::*;

/// Encodes argv as a RESP multibulk.
fn encode(argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        out.extend(format!("${}\r\n", a.len()).bytes());
        out.extend(a);
        out.extend(b"\r\n");
    }
    out
}

fn feed(chunks: &[&[u8]], authenticated: bool) -> Result<Vec<Vec<Bytes>>, String> {
    let mut p = RequestParser::new(512 * 1024 * 1024);
    let mut buf = BytesMut::new();
    let mut out = vec![];
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match p.next(&mut buf, authenticated) {
                Ok(Some(cmd)) => out.push(cmd),
                Ok(None) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(data in proptest::collection::vec(any::<u8>(), 0..512), split in 0usize..512) {
        let split = split.min(data.len());
        let _ = feed(&[&data[..split], &data[split..]], true);
        let _ = feed(&[&data], false);
    }

    #[test]
    fn protocol_noise_near_valid_frames_never_panics(
        prefix in prop::sample::select(vec![&b"*"[..], b"$", b"*1\r\n$", b"*2\r\n$3\r\nGET\r\n$", b"*-", b"\r\n", b"\"", b"'"]),
        tail in proptest::collection::vec(prop::sample::select(vec![b'0', b'1', b'9', b'-', b'\r', b'\n', b'$', b'*', b'"', b'\\', b'x', b' ']), 0..64),
    ) {
        let mut data = prefix.to_vec();
        data.extend(tail);
        let _ = feed(&[&data], true);
    }

    #[test]
    fn valid_frames_parse_identically_however_they_are_split(
        cmds in proptest::collection::vec(proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6), 1..8),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let mut stream = vec![];
        for c in &cmds { stream.extend(encode(c)); }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.sort();
        let mut chunks = vec![];
        let mut last = 0;
        for p in points { chunks.push(&stream[last..p]); last = p; }
        chunks.push(&stream[last..]);
        let got = feed(&chunks, true).unwrap();
        let want: Vec<Vec<Bytes>> = cmds.iter().map(|c| c.iter().map(|a| Bytes::copy_from_slice(a)).collect()).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn random_commands_never_panic_the_engine(
        script in proptest::collection::vec((
            prop::sample::select(vec![
                "SET", "GET", "INCR", "INCRBY", "DECRBY", "INCRBYFLOAT", "APPEND", "SETRANGE", "GETRANGE", "LCS",
                "GETEX", "GETDEL", "MSET", "MGET", "MSETNX", "STRLEN", "EXPIRE", "PEXPIRE", "EXPIREAT", "TTL",
                "DEL", "EXISTS", "RENAME", "COPY", "MOVE", "SCAN", "KEYS", "OBJECT", "TYPE", "PERSIST",
                "SELECT", "SWAPDB", "FLUSHDB", "CLIENT", "CONFIG", "COMMAND", "HELLO", "PING", "ECHO", "DBSIZE",
            ]),
            proptest::collection::vec(prop::sample::select(vec![
                "k", "k2", "0", "1", "-1", "15", "100", "9223372036854775807", "-9223372036854775808",
                "1.5", "inf", "nan", "", "EX", "PX", "NX", "XX", "GET", "KEEPTTL", "PERSIST", "IDX", "LEN",
                "MATCH", "*", "COUNT", "TYPE", "string", "ENCODING", "REPLACE", "DB", "GETKEYS", "INFO",
                "SETNAME", "LIST", "3", "2", "AUTH", "a b",
            ]), 0..6),
            0i64..3000,
        ), 1..40),
    ) {
        let mut t = TestEngine::new();
        for (cmd, args, advance) in script {
            let mut argv = vec![cmd];
            argv.extend(args);
            let _ = t.run(&argv);
            t.advance_ms(advance);
            t.tick();
        }
    }
}
