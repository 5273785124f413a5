"""maxmemory and eviction through redis-py, against a real cinnabar-server.
Run by native-server/tests/eviction.rs with the server's port as the first argument; any
failed assertion exits non-zero and fails that Rust test.

The server counts its memory in its allocator, so limits are set relative to what it
holds when each scenario starts. LRU clocks tick in seconds (as Redis's), so scenarios
that depend on recency spread their writes over several seconds."""
import sys
import time

import redis

PORT = int(sys.argv[1])
OOM = "command not allowed when used memory > 'maxmemory'."
VALUE = "x" * 1000


def used(r):
    return r.info("memory")["used_memory"]


def fresh(r, policy, budget):
    r.config_set("maxmemory", 0)
    r.flushall()
    r.config_resetstat()
    r.config_set("maxmemory-policy", policy)
    limit = used(r) + budget
    r.config_set("maxmemory", limit)
    return limit


def write(r, keys, ex=None):
    p = r.pipeline(transaction=False)
    for k in keys:
        p.set(k, VALUE, ex=ex)
    p.execute()


def present(r, keys):
    return sum(r.exists(k) for k in keys)


def allkeys_lru_keeps_the_recent_and_the_hot():
    r = redis.Redis(port=PORT, decode_responses=True)
    limit = fresh(r, "allkeys-lru", 4 << 20)
    # About twice the budget in 1 KB values, in four one-second waves; a hot set written
    # first is read in every wave.
    hot = [f"hot:{i}" for i in range(200)]
    write(r, hot)
    waves = [[f"k:{w}:{i}" for i in range(2000)] for w in range(4)]
    for wave in waves:
        time.sleep(1.1)
        for k in hot:
            r.get(k)
        write(r, wave)
    info = r.info()
    assert info["used_memory"] <= limit + (256 << 10), (info["used_memory"], limit)
    assert info["evicted_keys"] > 2000, info["evicted_keys"]
    assert present(r, hot) >= 190, present(r, hot)
    assert present(r, waves[3]) >= 1900, present(r, waves[3])
    assert present(r, waves[0]) <= 400, present(r, waves[0])


def volatile_policies_spare_keys_without_ttl():
    r = redis.Redis(port=PORT, decode_responses=True)
    for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]:
        fresh(r, policy, 2 << 20)
        persistent = [f"p:{i}" for i in range(800)]
        write(r, persistent)
        volatile = [f"v:{i}" for i in range(800)]
        write(r, volatile, ex=1000)
        refused = None
        for i in range(20000):
            try:
                r.set(f"w:{i}", VALUE)
            except redis.exceptions.ResponseError as e:
                refused = str(e)
                break
        assert refused is not None and OOM in refused, (policy, refused)
        assert present(r, persistent) == len(persistent), policy
        assert present(r, volatile) == 0, (policy, present(r, volatile))
        assert r.get("p:1") == VALUE and r.delete("p:1") == 1


def noeviction_refuses_writes_but_reads_and_deletes_work():
    r = redis.Redis(port=PORT, decode_responses=True)
    fresh(r, "noeviction", 1 << 20)
    n = 0
    try:
        while True:
            r.set(f"k:{n}", VALUE)
            n += 1
    except redis.exceptions.ResponseError as e:
        assert str(e) == OOM, str(e)
    assert n > 500, n
    assert r.info()["evicted_keys"] == 0
    assert r.get("k:0") == VALUE
    try:
        r.lpush("list", "a")
        raise AssertionError("LPUSH ran over maxmemory")
    except redis.exceptions.ResponseError as e:
        assert str(e) == OOM, str(e)
    assert r.delete(*[f"k:{i}" for i in range(n // 2)]) == n // 2
    assert r.set("again", "1") is True


def lowering_maxmemory_brings_memory_down():
    r = redis.Redis(port=PORT, decode_responses=True)
    fresh(r, "allkeys-random", 16 << 20)
    write(r, [f"k:{i}" for i in range(8000)])
    before = used(r)
    target = before - (4 << 20)
    r.config_set("maxmemory", target)
    # As Redis, the limit applies to used_memory less mem_not_counted_for_evict (here the
    # keyspace's spare slots, kept for the next keys).
    counted = lambda: used(r) - r.info("memory")["mem_not_counted_for_evict"]
    deadline = time.time() + 3
    while counted() > target and time.time() < deadline:
        time.sleep(0.05)
    assert counted() <= target, (counted(), target)
    assert used(r) <= target + (256 << 10), (used(r), target)
    assert 0 < r.dbsize() < 8000


def eviction_fires_keyspace_events():
    r = redis.Redis(port=PORT, decode_responses=True)
    fresh(r, "allkeys-lru", 4 << 20)
    r.config_set("notify-keyspace-events", "Ee")
    p = r.pubsub()
    p.subscribe("__keyevent@0__:evicted")
    p.get_message(timeout=1)
    write(r, [f"k:{i}" for i in range(8000)])
    got = 0
    while p.get_message(timeout=0.5) is not None:
        got += 1
    assert got > 0 and got == r.info()["evicted_keys"], (got, r.info()["evicted_keys"])
    r.config_set("notify-keyspace-events", "")


if __name__ == "__main__":
    allkeys_lru_keeps_the_recent_and_the_hot()
    volatile_policies_spare_keys_without_ttl()
    noeviction_refuses_writes_but_reads_and_deletes_work()
    lowering_maxmemory_brings_memory_down()
    eviction_fires_keyspace_events()
    print("eviction scenarios passed")
