"""Shared by the Python benchmarks: a free loopback port and a server started on it."""
import socket
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(cmd, port):
    """Starts `cmd --port P --save ""` and waits until it answers PING; (process, client)."""
    import redis  # only the redis-py benchmarks need it

    proc = subprocess.Popen(cmd + ["--port", str(port), "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = redis.Redis(port=port)
    for _ in range(200):
        try:
            r.ping()
            return proc, r
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("server did not start: %s" % cmd)
