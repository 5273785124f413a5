//! Arbitrary bytes as an append-only file: the strict reader (multibulks only, `#`
//! annotations skipped, a torn tail told from corruption) and every command it replays.
//! No panic; a file that loads leaves keys the commands of their type can use.
#![no_main]

mod common;

use cinnabar::HostReport;
use bytes::Bytes;
use cinnabar::reply::Reply;
use cinnabar::testing::TestEngine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut t = TestEngine::new();
    let loaded = t.engine.aof_load(data, t.now_us);
    t.engine.report(HostReport::LoadingFinished);
    t.engine.drain_events();
    if loaded.is_err() {
        return;
    }
    for db in 0..16 {
        t.run(&["SELECT", &db.to_string()]);
        let Reply::Array(keys) = t.run(&["KEYS", "*"]) else { continue };
        for k in keys.into_iter().take(32) {
            if let Reply::Bulk(k) = k {
                common::exercise(&mut t, &k);
            }
        }
    }
    let _ = t.run_bytes(vec![Bytes::from_static(b"PING")]);
});
