"""redis-py against a server's client-side caching: a RESP2 client redirecting its
invalidations to a pub/sub connection on __redis__:invalidate (the RESP2 recipe), and a RESP3
connection receiving `invalidate` pushes through redis-py's push handler.
Run by native-server/tests/tracking.rs with the server's port as the first argument; a failed
assertion exits non-zero and fails that Rust test."""
import sys
import time

import redis

PORT = int(sys.argv[1])


def resp2_redirect():
    # redis-py 8 speaks RESP3 by default; this is the RESP2 recipe.
    writer = redis.Redis(port=PORT, protocol=2)
    p = writer.pubsub()
    p.subscribe("__redis__:invalidate")
    assert p.get_message(timeout=1)["type"] == "subscribe"
    sub_id = next(c["id"] for c in writer.client_list(_type="pubsub"))
    cache = redis.Redis(port=PORT, protocol=2, single_connection_client=True)
    assert cache.client_tracking_on(clientid=sub_id) == b"OK"
    info = cache.client_trackinginfo()
    assert info == ["flags", [b"on"], "redirect", int(sub_id), "prefixes", []], info
    writer.set("user:1", "ann")
    assert cache.get("user:1") == b"ann"
    writer.set("user:1", "bob")
    m = p.get_message(timeout=2)
    assert m == {"type": "message", "pattern": None, "channel": b"__redis__:invalidate", "data": [b"user:1"]}, m
    assert cache.get("user:1") == b"bob"
    writer.flushall()
    m = p.get_message(timeout=2)
    assert m["channel"] == b"__redis__:invalidate" and m["data"] is None, m
    p.close()


def resp3_pushes():
    seen = []
    cache = redis.Redis(port=PORT, protocol=3, single_connection_client=True)
    cache.ping()
    cache.connection._parser.set_invalidation_push_handler(lambda msg: seen.append(msg))
    writer = redis.Redis(port=PORT)
    assert cache.client_tracking_on() == b"OK"
    writer.mset({"a": 1, "b": 2})
    assert cache.mget(["a", "b"]) == [b"1", b"2"]
    writer.set("b", 3)
    # The push is read (and handed to the handler) before the PING reply.
    time.sleep(0.1)
    assert cache.ping() is True
    assert seen == [[b"invalidate", [b"b"]]], seen
    cache.client_tracking_off()
    assert cache.client_tracking_on(bcast=True, prefix=["x:"]) == b"OK"
    writer.mset({"x:1": 1, "y:1": 1})
    time.sleep(0.1)
    assert cache.ping() is True
    assert seen[-1] == [b"invalidate", [b"x:1"]], seen


resp2_redirect()
resp3_pushes()
print("ok")
