//! The RDB loader on arbitrary files. The last 8 bytes (the CRC64) are zeroed, which means
//! "not computed", so the fuzzer explores parsing instead of stopping at the checksum. A file
//! that loads must be usable and must save into a file that loads again.
#![no_main]

mod common;

use cinnabar::reply::Reply;
use cinnabar::testing::TestEngine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut file = data.to_vec();
    if file.len() >= 17 {
        let n = file.len();
        file[n - 8..].fill(0);
    }
    let mut t = TestEngine::new();
    if t.engine.rdb_load(&file).is_err() {
        return;
    }
    for db in 0..16 {
        t.run(&["SELECT", &db.to_string()]);
        let Reply::Array(keys) = t.run(&["KEYS", "*"]) else { continue };
        for k in keys {
            if let Reply::Bulk(k) = k {
                common::exercise(&mut t, &k);
            }
        }
    }
    let again = t.engine.rdb_snapshot();
    let mut u = TestEngine::new();
    if let Err(e) = u.engine.rdb_load(&again) {
        panic!("an accepted file saved into one that does not load: {}", e);
    }
});
