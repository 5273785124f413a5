// RESP clients written for sockets, talking to the in-process engine (Node).
//
//   createRespStream(db)   a Duplex stream over one RESP session: what a client writes is
//                          parsed and run by the engine, replies (and later ones: blocked
//                          commands served, pub/sub messages) are readable. It answers the
//                          net.Socket calls clients make (setNoDelay, setKeepAlive, ...).
//   ioredisConnector(db)   `new Redis({ Connector: ioredisConnector(db) })`: ioredis over
//                          that stream, no socket anywhere.
//   serveResp(db, path)    a Unix socket server whose connections are RESP sessions, for
//                          clients that can only dial (node-redis: `createClient({ socket:
//                          { path } })`, `redis-cli -s path`). Local IPC, no TCP port.
import { Duplex } from 'node:stream';
import { createServer } from 'node:net';
import { unlinkSync } from 'node:fs';

class RespStream extends Duplex {
  constructor(db) {
    super();
    this.conn = db.connect((bytes) => this.push(bytes));
    this.conn.onEnd = () => {
      this.push(null);
    };
    this.connecting = false;
    this.readyState = 'open';
    queueMicrotask(() => {
      this.emit('connect');
      this.emit('ready');
    });
  }
  _write(chunk, _enc, cb) {
    try {
      const out = this.conn.write(chunk);
      if (out.length) this.push(out);
      cb();
    } catch (e) {
      cb(e);
    }
  }
  _read() {}
  _final(cb) {
    this.conn.close();
    cb();
  }
  _destroy(err, cb) {
    this.readyState = 'closed';
    this.conn.close();
    cb(err);
  }
  setNoDelay() { return this; }
  setKeepAlive() { return this; }
  setTimeout() { return this; }
  ref() { return this; }
  unref() { return this; }
}

/** A Duplex stream that is one RESP connection to `db`. */
export function createRespStream(db) {
  return new RespStream(db);
}

/** An ioredis `Connector` class: `new Redis({ Connector: ioredisConnector(db), lazyConnect?, ... })`. */
export function ioredisConnector(db) {
  return class CinnabarConnector {
    constructor() {
      this.stream = null;
    }
    check() {
      return true;
    }
    async connect() {
      this.stream = createRespStream(db);
      return this.stream;
    }
    disconnect() {
      if (this.stream) this.stream.end();
      this.stream = null;
    }
  };
}

/** Serves RESP sessions on a Unix socket path; resolves to the net.Server (close() it). */
export function serveResp(db, path) {
  try {
    unlinkSync(path);
  } catch {}
  const server = createServer((socket) => {
    const conn = db.connect((bytes) => socket.write(bytes));
    conn.onEnd = () => socket.end();
    socket.on('data', (chunk) => {
      const out = conn.write(chunk);
      if (out.length) socket.write(out);
    });
    socket.on('close', () => conn.close());
    socket.on('error', () => conn.close());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}
