// The database's pub/sub: one subscriber session, messages delivered as callbacks. Mixed
// into Cinnabar (core.js).

import { isTrap } from './recovery.js';
import { toError } from './helpers.js';

export class PubSub {
  _subscriber() {
    if (!this.sub) {
      const id = this.engine.connect('subscriber', this.clock());
      this._sys(id, ['HELLO', 3]);
      this.sub = { id, channel: new Map(), pattern: new Map(), shard: new Map() };
    }
    return this.sub;
  }

  _dispatch(m) {
    if (!Array.isArray(m)) return;
    const [kind, ...rest] = m;
    let table, key, args;
    if (kind === 'message') [table, key, args] = [this.sub.channel, rest[0], [rest[1], rest[0]]];
    else if (kind === 'pmessage') [table, key, args] = [this.sub.pattern, rest[0], [rest[2], rest[1], rest[0]]];
    else if (kind === 'smessage') [table, key, args] = [this.sub.shard, rest[0], [rest[1], rest[0]]];
    else return;
    for (const cb of table.get(key) ?? []) queueMicrotask(() => cb(...args));
  }

  async _subscribe(kind, verb, unverb, name, cb) {
    this._open();
    while (this.recovering) await this.recovering;
    this._open();
    let table;
    let set;
    try {
      table = this._subscriber()[kind];
      set = table.get(name);
      if (!set) {
        set = new Set();
        table.set(name, set);
        try {
          this._sys(this.sub.id, [verb, name]);
        } catch (e) {
          table.delete(name);
          throw e;
        }
        this._drain();
      }
    } catch (e) {
      if (isTrap(e)) throw await this._trap(e);
      throw toError(e);
    }
    set.add(cb);
    // The tables outlive a recovery (the new subscriber session takes them over).
    return async () => {
      set.delete(cb);
      if (set.size === 0 && table.get(name) === set && !this.closed) {
        table.delete(name);
        while (this.recovering) await this.recovering;
        if (this.closed || !this.sub) return;
        try {
          this._sys(this.sub.id, [unverb, name]);
          this._drain();
        } catch (e) {
          // Gone from the table, so the rebuilt session does not subscribe to it again.
          if (isTrap(e)) return void (await this._trap(e));
          throw e;
        }
      }
    };
  }

  /** `cb(message, channel)` for each PUBLISH to `channel`; resolves to an unsubscribe function. */
  subscribe(channel, cb) {
    return this._subscribe('channel', 'SUBSCRIBE', 'UNSUBSCRIBE', channel, cb);
  }

  /** `cb(message, channel, pattern)` for each PUBLISH matching `pattern`. */
  psubscribe(pattern, cb) {
    return this._subscribe('pattern', 'PSUBSCRIBE', 'PUNSUBSCRIBE', pattern, cb);
  }

  /** `cb(message, channel)` for each SPUBLISH to `channel`. */
  ssubscribe(channel, cb) {
    return this._subscribe('shard', 'SSUBSCRIBE', 'SUNSUBSCRIBE', channel, cb);
  }
}
