//! RESTORE on arbitrary payload bodies: the target adds the RDB version and a correct CRC64,
//! so the value loader sees every input. A value that restores must be usable.
#![no_main]

mod common;

use bytes::Bytes;
use cinnabar::reply::Reply;
use cinnabar::testing::TestEngine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut payload = data.to_vec();
    payload.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64::crc64(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    let mut t = TestEngine::new();
    let argv = vec![Bytes::from_static(b"RESTORE"), Bytes::from_static(b"k"), Bytes::from_static(b"0"), Bytes::from(payload)];
    match t.run_bytes(argv) {
        Reply::Simple("OK") => common::exercise(&mut t, b"k"),
        Reply::Error(e) => assert_eq!(e, "ERR Bad data format"),
        other => panic!("RESTORE answered {:?}", other),
    }
});
