// A RESP session on a database: bytes in, reply bytes out.

import { isTrap } from './recovery.js';

/** One RESP session: `write(bytes)` returns the reply bytes ready now; bytes that become
 * ready later (a blocked command served, pub/sub messages) go to `onData`. */
export class RespConnection {
  constructor(db, onData) {
    this.db = db;
    this.onData = onData;
    this.ended = false;
    this.onEnd = null;
    try {
      this.id = db.engine.respOpen(db.clock());
    } catch (e) {
      if (isTrap(e)) db._trap(e);
      throw e;
    }
    db.conns.set(this.id, this);
  }

  write(bytes) {
    if (this.ended) return new Uint8Array(0);
    const u8 = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    try {
      const out = this.db.engine.respFeed(this.id, u8, this.db.clock());
      this.db._drain();
      this._checkClosed();
      return out;
    } catch (e) {
      if (!isTrap(e)) throw e;
      // Nothing of these bytes' commands happened; the connection closes (the recovery
      // ends every RESP connection) and its client reconnects.
      this.db._trap(e);
      return new TextEncoder().encode('-ERR internal error: the engine trapped (a bug); it is recovered from its last snapshot and the writes acknowledged since, and this connection is closed\r\n');
    }
  }

  _pump() {
    if (this.ended) return;
    const out = this.db.engine.respPump(this.id, this.db.clock());
    // What these replies acknowledge is in the journal before the client sees them.
    this.db.wire.sync();
    if (out.length && this.onData) this.onData(out);
    this._checkClosed();
  }

  _checkClosed() {
    if (!this.ended && this.db.engine.respClosed(this.id)) {
      this.close();
    }
  }

  _end() {
    if (this.ended) return;
    this.ended = true;
    if (this.onEnd) this.onEnd();
  }

  /** Ends the session (its subscriptions and waits go with it). */
  close() {
    if (this.ended) return;
    if (!this.db.closed && this.db.engine) {
      try {
        this.db.engine.disconnect(this.id);
      } catch (e) {
        if (!isTrap(e)) throw e;
        this.db._trap(e);
      }
      this.db.conns.delete(this.id);
    }
    this._end();
  }
}
