"""redis-py's stream API against cinnabar-server, as an order-processing service uses it:
producers XADD, two workers share a consumer group, one crashes, its entries are recovered
with XPENDING + XCLAIM / XAUTOCLAIM, and a blocked XREADGROUP is woken by an XADD.
Run by native-server/tests/streams.rs with the port as first argument."""
import sys
import threading
import time

import redis

PORT = int(sys.argv[1])
r = redis.Redis(port=PORT, decode_responses=True)
r.flushall()

ids = [r.xadd("orders", {"order": str(i), "amount": str(10 * i)}) for i in range(6)]
assert r.xlen("orders") == 6
assert r.xrange("orders", count=1) == [(ids[0], {"order": "0", "amount": "0"})]
assert r.xrevrange("orders", count=1)[0][0] == ids[-1]

assert r.xgroup_create("orders", "processors", id="0", mkstream=True) is True
try:
    r.xgroup_create("orders", "processors", id="0")
    raise AssertionError("BUSYGROUP expected")
except redis.ResponseError as e:
    assert "Consumer Group name already exists" in str(e), e

# Two workers share the group: every entry goes to exactly one of them.
got1 = r.xreadgroup("processors", "worker-1", {"orders": ">"}, count=3)
got2 = r.xreadgroup("processors", "worker-2", {"orders": ">"}, count=10)
ids1 = [i for i, _ in got1[0][1]]
ids2 = [i for i, _ in got2[0][1]]
assert sorted(ids1 + ids2) == ids and not set(ids1) & set(ids2)
assert r.xack("orders", "processors", *ids1) == 3

# worker-2 "crashes": its entries stay pending and are recovered.
pending = r.xpending("orders", "processors")
assert pending["pending"] == 3 and pending["consumers"] == [{"name": "worker-2", "pending": 3}]
detail = r.xpending_range("orders", "processors", min="-", max="+", count=10, consumername="worker-2")
assert [d["message_id"] for d in detail] == ids2 and all(d["times_delivered"] == 1 for d in detail)
time.sleep(0.05)
claimed = r.xclaim("orders", "processors", "worker-1", min_idle_time=20, message_ids=[ids2[0]])
assert claimed == [(ids2[0], {"order": "3", "amount": "30"})]
cursor, rest, deleted = r.xautoclaim("orders", "processors", "worker-1", min_idle_time=20, start_id="0-0")
assert [i for i, _ in rest] == ids2[1:] and cursor == "0-0" and deleted == []
assert r.xack("orders", "processors", *ids2) == 3
assert r.xpending("orders", "processors")["pending"] == 0

info = r.xinfo_groups("orders")
assert info[0]["name"] == "processors" and info[0]["lag"] == 0 and info[0]["entries-read"] == 6
assert r.xinfo_stream("orders")["length"] == 6
assert {c["name"] for c in r.xinfo_consumers("orders", "processors")} == {"worker-1", "worker-2"}

# A blocked XREADGROUP is served by another client's XADD.
result = {}
def waiter():
    w = redis.Redis(port=PORT, decode_responses=True)
    result["got"] = w.xreadgroup("processors", "worker-3", {"orders": ">"}, block=5000)
t = threading.Thread(target=waiter)
t.start()
time.sleep(0.2)
new_id = r.xadd("orders", {"order": "late"})
t.join(5)
assert result["got"] == [["orders", [(new_id, {"order": "late"})]]], result

# Plain XREAD with $ and a timeout.
assert r.xread({"orders": "$"}, block=50) == []
assert r.xtrim("orders", maxlen=2, approximate=False) == 5
assert r.xdel("orders", new_id) == 1
print("ok")
