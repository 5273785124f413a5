//! maxmemory and the eviction policies over a real socket, driven by redis-py
//! (tests/python/eviction_py.py): LRU keeps recent and hot keys, volatile policies spare
//! keys without a TTL, noeviction refuses writes with Redis's error while reads and
//! deletes work, lowering the limit brings memory down, evictions fire keyspace events.

mod common;

use std::process::Command;

#[test]
fn eviction_scenarios_with_redis_py() {
    let srv = common::cinnabar();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/eviction_py.py");
    let out = Command::new("python3").arg(script).arg(srv.port.to_string()).output().expect("python3 (scripts/ci/setup.sh installs redis-py)");
    assert!(out.status.success(), "eviction scenarios failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
