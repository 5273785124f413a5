"""redis-py against cinnabar-server: sync, pipelines, a connection pool, asyncio, WATCH/MULTI,
pub/sub, blocking pops and RESP3.
Run by native-server/tests/clients.rs with the server's port as the first argument; any
failed assertion exits non-zero and fails that Rust test."""
import asyncio
import sys
import threading

import redis
import redis.asyncio

PORT = int(sys.argv[1])


def sync_basics():
    r = redis.Redis(port=PORT, decode_responses=True)
    assert r.ping() is True
    assert r.set("greeting", "hello") is True
    assert r.get("greeting") == "hello"
    assert r.set("lock", "me", nx=True, px=5000) is True
    assert r.set("lock", "you", nx=True, px=5000) is None
    assert 0 < r.pttl("lock") <= 5000
    assert r.incr("hits") == 1 and r.incrby("hits", 9) == 10
    assert r.incrbyfloat("price", "1.5") == 1.5
    assert r.mget(["greeting", "nope"]) == ["hello", None]
    assert r.expire("greeting", 100) is True and r.ttl("greeting") == 100
    assert sorted(r.scan_iter(match="gr*")) == ["greeting"]
    assert r.type("hits") == "string"
    info = r.info()
    assert info["redis_version"].startswith("7.0") and "connected_clients" in info
    assert r.info("keyspace")["db0"]["keys"] == 4
    try:
        r.incr("greeting")
        raise AssertionError("INCR on a non-integer must fail")
    except redis.ResponseError as e:
        assert str(e) == "value is not an integer or out of range", e
    r.client_setname("py")
    assert r.client_getname() == "py"


def pipeline_and_pool():
    pool = redis.ConnectionPool(port=PORT, max_connections=8, decode_responses=True)
    errors = []

    def worker(n):
        try:
            c = redis.Redis(connection_pool=pool)
            p = c.pipeline(transaction=False)
            for i in range(100):
                p.set(f"w{n}:{i}", i)
                p.incr(f"count{n}")
            p.get(f"w{n}:99")
            out = p.execute()
            assert out[-1] == "99" and out[-2] == 100, out[-3:]
        except Exception as e:  # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert redis.Redis(connection_pool=pool).dbsize() >= 808


async def asyncio_client():
    r = redis.asyncio.Redis(port=PORT, decode_responses=True)
    await asyncio.gather(*(r.set(f"a{i}", i) for i in range(50)))
    values = await asyncio.gather(*(r.get(f"a{i}") for i in range(50)))
    assert values == [str(i) for i in range(50)]
    await r.aclose()


def transactions_and_pubsub():
    r = redis.Redis(port=PORT, decode_responses=True)
    r.set("stock", 3)
    with r.pipeline() as p:  # MULTI/EXEC with WATCH, redis-py's optimistic-locking loop
        p.watch("stock")
        n = int(p.get("stock"))
        p.multi()
        p.set("stock", n - 1)
        p.lpush("orders", "o1")
        assert p.execute() == [True, 1]
    assert r.get("stock") == "2"
    ps = r.pubsub()
    ps.subscribe("events")
    ps.psubscribe("ev*")
    assert ps.get_message(timeout=1)["type"] == "subscribe"
    assert ps.get_message(timeout=1)["type"] == "psubscribe"
    assert r.publish("events", "hello") == 2
    got = [ps.get_message(timeout=1) for _ in range(2)]
    assert sorted(m["type"] for m in got) == ["message", "pmessage"], got
    assert all(m["data"] == "hello" for m in got)
    ps.close()
    assert r.blpop(["orders"], timeout=1) == ("orders", "o1")


def resp3():
    r = redis.Redis(port=PORT, protocol=3, decode_responses=True)
    assert r.set("r3", "x") is True and r.get("r3") == "x"
    hello = r.execute_command("HELLO", "3")
    assert hello["proto"] == 3 and hello["server"] == "redis", hello


sync_basics()
pipeline_and_pool()
asyncio.run(asyncio_client())
transactions_and_pubsub()
resp3()
print("redis-py smoke: ok")
