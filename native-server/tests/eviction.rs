//! maxmemory and the eviction policies over a real socket, driven by redis-py
//! (tests/python/eviction_py.py): LRU keeps recent and hot keys, volatile policies spare
//! keys without a TTL, noeviction refuses writes with Redis's error while reads and
//! deletes work, lowering the limit brings memory down, evictions fire keyspace events.

mod common;


#[test]
fn eviction_scenarios_with_redis_py() {
    let srv = common::cinnabar();
    common::run_python("eviction_py.py", srv.port);
}
