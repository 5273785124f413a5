// The runtime-neutral wrapper around the wasm engine (`../pkg`, built by wasm-bindgen). The
// per-runtime entry points (index.js for Node, browser.js, worker.js) only say how the
// .wasm file is loaded; everything else is here:
//
//   Cinnabar.open(options)  → a Database
//   db.command(...argv)     any command on the default session; replies as JS values
//   db.pipeline(commands)   many commands in one engine call, replies (and errors) in order
//   db.set/get/hset/...     convenience methods (ioredis / node-redis style)
//   blocking commands       each on its own engine session, settled by the engine's events
//   db.subscribe(...)       one subscriber session, messages delivered as callbacks
//   db.connect()/db.resp()  RESP bytes in, RESP bytes out (one session per connection)
//   persistence             RDB snapshots through an adapter { load, save }; save points,
//                           SAVE/BGSAVE, a save when the page hides; one owner (Web Locks)
//   recovery                a trap (a panic in wasm) re-creates the engine from its last
//                           snapshot and the writes acknowledged since (recovery.js)
//
// The engine never blocks and never reads a clock: time is `options.clock()` (Date.now by
// default) passed into every call, and the wrapper's timer drives active expiry (`hz`).
//
// The class is written in parts, mixed in at the end of this file: rebuild.js (recovery
// from a trap), pubsub.js, persistence.js, convenience.js; resp_connection.js is the RESP
// session class and helpers.js what they share.

import { Wire, ReplyError } from './wire.js';
import { Journal, family, isTrap, recoverAll } from './recovery.js';
import { TRACKED, REDIS_DEFAULT_SAVE, kindOf, commandName, confText, learnBlocking, mixin, toError } from './helpers.js';
import { Rebuild } from './rebuild.js';
import { PubSub } from './pubsub.js';
import { Persistence } from './persistence.js';
import { Convenience } from './convenience.js';
import { RespConnection } from './resp_connection.js';

export { RespConnection };

let loader = null;

/** Each runtime entry registers how it gets the initialised wasm module. */
export function setLoader(fn) {
  loader = fn;
}

export { ReplyError };

/** The database is owned by another tab or worker (Web Locks) and `lock: 'error'` was asked. */
export class DatabaseLockedError extends Error {
  constructor(name) {
    super(`database "${name}" is open in another tab or worker; open it with lock: 'wait' to wait for it or lock: 'shared' for an unsaved copy`);
    this.name = 'DatabaseLockedError';
  }
}

export class Cinnabar {
  /**
   * Opens a database. See index.d.ts for the options; in short: `persistence` an adapter
   * `{ load, save, name? }`, `autosave` save points (or false), `maxmemory`/`policy`,
   * `rdb` a dump.rdb to start from, `hz` the active-expiry rate, `clock`, `seed`,
   * `lock` ('error' | 'wait' | 'shared'), `saveOnHide`.
   */
  static async open(options = {}) {
    if (!loader) throw new Error('cinnabar: no wasm loader registered (import the package entry, not src/core.js)');
    const wasm = options.wasm ?? (await loader());
    // Not on an instance about to be replaced (a trap is being recovered from).
    while (family(wasm).pending) await family(wasm).pending;
    let db;
    try {
      db = new Cinnabar(wasm, options);
    } catch (e) {
      // Even making the engine can trap (out of memory): the others on the instance go on.
      if (isTrap(e)) await recoverAll(wasm, e);
      throw e;
    }
    try {
      await db._start(options);
    } catch (e) {
      // Nothing half-open stays behind: no timer, no engine, no lock on the database.
      db._stop();
      db.closed = true;
      family(db.wasm).dbs.delete(db);
      if (isTrap(e)) {
        // The instance is lost for every database on it: they are rebuilt, this one not.
        db.engine?.__destroy_into_raw();
        db.engine = null;
        await recoverAll(wasm, e);
      }
      db.engine?.free();
      db.engine = null;
      if (db.releaseLock) db.releaseLock();
      throw e;
    }
    return db;
  }

  constructor(wasm, options) {
    this.clock = options.clock ?? Date.now;
    this.wasm = wasm;
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.conf = confText(options.conf);
    // What the engine is rebuilt from after a trap (recovery.js): the last base (RDB bytes),
    // whether the adapter holds it, and the journal of writes since.
    this.base = null;
    this.baseSaved = false;
    this.journal = new Journal(() => this._rotate());
    // `journal: false` trades the journal's cost on every write (about a fifth of a small
    // write's throughput) for Redis-without-AOF durability: a trap rebuilds from the last
    // snapshot only.
    this.journaled = options.journal !== false;
    this.generation = 0;
    this.recovering = null;
    this.recoveries = 0;
    this.lastTrap = null;
    this.lastRecovery = null;
    this.fatal = null;
    this.mainAuth = null;
    this.endedByTrap = [];
    // The default session's wait (a blocking command in a pipeline, CLIENT PAUSE), which
    // keeps later commands behind it.
    this.heldBusy = null;
    // Until open() is done: a recovery meanwhile (another database trapped) must not save
    // an engine that has not loaded the stored snapshot yet.
    this.started = false;
    this.engine = new wasm.Engine(this.seed, this.clock());
    try {
      this.wire = new Wire(wasm, this.engine, this.journal);
      this.main = this.engine.defaultClient();
      learnBlocking(() => this._sys(this.main, ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'blocking']));
    } catch (e) {
      // Never freed into the instance that replaces this one.
      if (isTrap(e)) this.engine.__destroy_into_raw();
      throw e;
    }
    family(wasm).dbs.add(this);
    this.closed = false;
    this.adapter = options.persistence ?? null;
    this.owner = true;
    this.waiters = new Map(); // session id → { resolve, reject, raw, timer }
    this.conns = new Map(); // session id → RespConnection
    this.sub = null; // { id, channels: Map, patterns: Map, shards: Map }
    this.saving = Promise.resolve();
    this.pendingSaves = 0;
    this.lastSave = null;
    this.lastSaveError = null;
    this.statusListeners = new Set();
    this.logListeners = new Set();
    this.mainDb = 0;
    this.mainResp = 2;
    this.inMulti = false;
    this.mainBusy = null;
    this.loadError = null;
    this.timer = null;
    this.releaseLock = null;
    this.hideHandler = null;
  }

  async _start(options) {
    const lockMode = options.lock ?? 'error';
    const lockName = options.lockName ?? (this.adapter?.name ? `cinnabar:${this.adapter.name}` : null);
    if (this.adapter && lockName && globalThis.navigator?.locks) {
      const got = await this._acquireLock(lockName, lockMode);
      if (!got) {
        if (lockMode === 'shared') this.owner = false;
        else throw new DatabaseLockedError(this.adapter.name);
      }
    }
    // Startup directives (immutable ones too: enable-debug-command, databases, ...) first,
    // then the journal on: from here every write is recorded for recovery.
    if (this.conf) {
      try {
        this.engine.configure(this.conf);
      } catch (e) {
        throw toError(e);
      }
    }
    this.engine.setJournal(this.journaled);
    if (options.maxmemory !== undefined) this._config('maxmemory', options.maxmemory);
    if (options.policy !== undefined) this._config('maxmemory-policy', options.policy);
    if (options.config) for (const [k, v] of Object.entries(options.config)) this._config(k, v);
    const points = this.adapter && this.owner ? (options.autosave === undefined || options.autosave === true ? REDIS_DEFAULT_SAVE : options.autosave || []) : [];
    this._config('save', points.map((p) => `${p.seconds} ${p.changes}`).join(' '));
    let loaded = null;
    if (options.rdb) {
      this._rebase(this._load(options.rdb), false);
      loaded = 'rdb';
    } else if (this.adapter) {
      const bytes = await this.adapter.load();
      if (bytes && bytes.length) {
        try {
          this._rebase(this._load(bytes), true);
          loaded = 'persistence';
        } catch (e) {
          // A corrupt or truncated snapshot (RDB checksum, short file) is refused; the one
          // before it, if the adapter keeps it and it is sound, is opened instead. Either
          // way the refused bytes are never loaded and `db.loadError` says why.
          const prev = this.adapter.loadPrevious ? await this.adapter.loadPrevious() : null;
          if (!prev) throw new ReplyError(`${e.message} (the stored snapshot was refused; no previous snapshot to fall back to)`);
          this._rebase(this._load(prev), false);
          this.loadError = e;
          this.lastSaveError = new Error(`the latest snapshot was refused (${e.message}); opened the previous one`);
          loaded = 'previous';
        }
      }
    }
    // What was just loaded is what the store holds (or, from `rdb`, what it should).
    if (loaded === 'persistence') this._markSaved();
    if (loaded === 'rdb' && this.adapter && this.owner) await this.save();
    const hz = options.hz ?? 10;
    if (hz > 0) {
      this.timer = setInterval(() => this.tick(), 1000 / hz);
      if (this.timer.unref) this.timer.unref();
    }
    if (this.adapter && this.owner && options.saveOnHide !== false && typeof globalThis.addEventListener === 'function' && typeof document !== 'undefined') {
      this.hideHandler = (ev) => {
        if (ev.type === 'visibilitychange' && document.visibilityState !== 'hidden') return;
        if (this.status.dirty > 0) this.save().catch(() => {});
      };
      globalThis.addEventListener('pagehide', this.hideHandler);
      document.addEventListener('visibilitychange', this.hideHandler);
    }
    this.started = true;
  }

  _acquireLock(name, mode) {
    return new Promise((resolve, reject) => {
      const opts = mode === 'wait' ? {} : { ifAvailable: true };
      // The request's own promise settles once the lock is released: close() waits for it,
      // so a database reopened right after close() finds its lock free.
      this.lockReleased = globalThis.navigator.locks
        .request(name, opts, (lock) => {
          if (!lock) {
            resolve(false);
            return undefined;
          }
          resolve(true);
          return new Promise((release) => {
            this.releaseLock = release;
          });
        })
        .catch(reject);
    });
  }

  _config(name, value) {
    this._sys(this.main, ['CONFIG', 'SET', name, String(value)]);
  }

  /** A command the wrapper itself runs on a session; an error reply is thrown. */
  _sys(id, argv) {
    const r = this.wire.call(id, argv, this.clock(), false);
    if (r instanceof ReplyError) throw r;
    return r;
  }

  /** Loads RDB bytes into the engine (the dataset replaced); returns a copy of them. */
  _load(bytes) {
    const u8 = bytes instanceof Uint8Array ? bytes.slice() : new Uint8Array(bytes);
    try {
      this.loadedKeys = this.engine.load(u8);
    } catch (e) {
      if (isTrap(e)) throw e;
      throw toError(e);
    }
    return u8;
  }

  _markSaved() {
    // The engine's bookkeeping (changes since the last save, LASTSAVE) as after a SAVE, without
    // writing back the bytes just read: the save is reported at once.
    this.skipSnapshot = true;
    try {
      this._sys(this.main, ['SAVE']);
      this._drain();
    } finally {
      this.skipSnapshot = false;
    }
  }

  // ---------------------------------------------------------------- commands

  /** Any command on the default session: `await db.command('SET', 'k', 'v', 'EX', 60)`. */
  command(...argv) {
    return this._run(argv, false);
  }

  /** Like `command`, but every bulk string comes back as a Uint8Array (binary values). */
  commandRaw(...argv) {
    return this._run(argv, true);
  }

  // Not an async function: most commands finish in the engine call, and answering them
  // with an already-settled Promise (no async frame, no await) is a third of their cost.
  _run(argv, raw) {
    try {
      if (this.closed) this._open();
      if (argv.length === 1 && Array.isArray(argv[0])) argv = argv[0];
      const kind = kindOf(argv[0]);
      if (kind.blocking && !this.inMulti) return this._blocking(argv, raw);
      if (this.mainBusy || kind.later) return this._runLater(argv, kind, raw);
      const reply = this._exec(argv, kind, raw);
      if (reply === undefined && !this.engine) return this._lostWait();
      if (reply === undefined && this.engine.isBlocked(this.main)) return this._held(raw, argv);
      return Promise.resolve(reply);
    } catch (e) {
      if (isTrap(e)) return this._trap(e).then((err) => Promise.reject(err));
      return Promise.reject(e);
    }
  }

  /** The engine call for the default session, with its bookkeeping. */
  _exec(argv, kind, raw) {
    const reply = this.wire.call(this.main, argv, this.clock(), raw);
    if (reply instanceof ReplyError) {
      this._drainAfter();
      // A refused command inside MULTI dooms it; EXEC/DISCARD end it even when they fail.
      if (kind.name === 'exec' || kind.name === 'discard') this.inMulti = false;
      throw reply;
    }
    if (kind.tracked) this._track(kind.name, argv);
    if (this.wire.hasEvents()) this._drainAfter();
    return reply;
  }

  /**
   * `_drain` after an engine call that returned: its writes are in the journal and its
   * reply stands, so a trap while acting on the events is recovered from in the background
   * (later commands wait for it) instead of answering this command with an error.
   */
  _drainAfter() {
    try {
      this._drain();
    } catch (e) {
      if (!isTrap(e)) throw e;
      this._trap(e);
    }
  }

  /** A command answered `undefined` (its session waits) but the engine was lost meanwhile. */
  _lostWait() {
    return (this.recovering ?? Promise.resolve()).then(() => Promise.reject(this._trapError()));
  }

  /**
   * Many commands in one engine call, as a client pipelines them:
   * `await db.pipeline([['SET', 'a', 1], ['INCR', 'a']])` gives `['OK', 2]`. Every reply
   * comes back in order, a Redis error as a ReplyError in its place (nothing is thrown for
   * it, as with EXEC's replies). A blocking command waits as on a connection, holding the
   * commands after it.
   */
  async pipeline(commands, options = {}) {
    const raw = !!options.raw;
    this._open();
    if (!Array.isArray(commands) || !commands.every(Array.isArray)) throw new TypeError('pipeline takes an array of commands, each an array of arguments');
    while (this.mainBusy) await this.mainBusy;
    this._open();
    const savesBefore = this.pendingSaves;
    const names = commands.map((c) => commandName(c[0]));
    const out = [];
    while (out.length < commands.length) {
      const start = out.length;
      let replies;
      try {
        replies = this.wire.pipeline(this.main, commands, start, this.clock(), raw);
      } catch (e) {
        if (!isTrap(e)) throw e;
        // Nothing of the engine call that trapped happened (its writes were never taken):
        // each command of it, and each after it, answers the recovery error.
        const err = await this._trap(e);
        while (out.length < commands.length) out.push(err);
        break;
      }
      for (let i = 0; i < replies.length; i++) {
        const name = names[start + i];
        const r = replies[i];
        if (r instanceof ReplyError) {
          if (name === 'exec' || name === 'discard') this.inMulti = false;
        } else if (TRACKED.has(name)) {
          this._track(name, commands[start + i]);
        }
        out.push(r);
      }
      this._drainAfter();
      if (replies.length === 0) break;
      if (!this.engine) {
        // Lost while acting on the events: the replies stand; a held command and the ones
        // after it never ran.
        const err = await this._lostWait().catch((e) => e);
        if (out[out.length - 1] === undefined) out[out.length - 1] = err;
        while (out.length < commands.length) out.push(err);
        break;
      }
      if (out[out.length - 1] === undefined && this.engine.isBlocked(this.main)) {
        try {
          out[out.length - 1] = await this._held(raw, commands[out.length - 1]);
        } catch (e) {
          out[out.length - 1] = e;
        }
      }
    }
    // SAVE's reply stands once the snapshot is stored, as for `command`.
    if (this.pendingSaves > savesBefore && names.some((n) => n === 'save' || n === 'shutdown')) {
      await this.saving;
      if (this.lastSaveError) {
        const i = names.findIndex((n) => n === 'save' || n === 'shutdown');
        out[i] = new ReplyError(`ERR snapshot not saved: ${this.lastSaveError.message}`);
      }
    }
    return out;
  }

  /** Held by CLIENT PAUSE: the default session waits, and so do the commands behind it. */
  async _held(raw, argv) {
    // `s.main`: a recovery runs the command again on the new default session.
    const p = this._wait(this.main, raw, { main: true, argv, db: this.mainDb, resp: this.mainResp });
    const busy = p
      .catch(() => {})
      .then(() => {
        if (this.mainBusy === busy) this.mainBusy = null;
        if (this.heldBusy === busy) this.heldBusy = null;
      });
    this.mainBusy = busy;
    this.heldBusy = busy;
    return p;
  }

  /** Behind a held command, or SAVE/SHUTDOWN (answered once the snapshot is stored). */
  async _runLater(argv, kind, raw) {
    while (this.mainBusy) await this.mainBusy;
    this._open();
    const savesBefore = this.pendingSaves;
    let reply;
    let held = null;
    try {
      reply = this._exec(argv, kind, raw);
      if (reply === undefined && !this.engine) held = this._lostWait();
      else if (reply === undefined && this.engine.isBlocked(this.main)) held = this._held(raw, argv);
    } catch (e) {
      if (isTrap(e)) throw await this._trap(e);
      throw e;
    }
    if (held) reply = await held;
    // SAVE answers once the snapshot is stored (or failed), as Redis's does.
    if (kind.later && this.pendingSaves > savesBefore) {
      await this.saving;
      if (this.lastSaveError) throw new ReplyError(`ERR snapshot not saved: ${this.lastSaveError.message}`);
    }
    return reply;
  }

  /** Keeps blocking sessions like the default one: same db, same protocol. */
  _track(name, argv) {
    if (name === 'multi') this.inMulti = true;
    else if (name === 'exec' || name === 'discard' || name === 'reset') this.inMulti = false;
    if (this.inMulti) return;
    if (name === 'select' && argv.length === 2) this.mainDb = Number(argv[1]) | 0;
    if (name === 'reset') { this.mainDb = 0; this.mainResp = 2; }
    if (name === 'hello' && argv.length >= 2 && (argv[1] === 3 || argv[1] === '3' || argv[1] === 2 || argv[1] === '2')) this.mainResp = Number(argv[1]);
    // The login, for the sessions a recovery makes again.
    if (name === 'auth') this.mainAuth = ['AUTH', ...argv.slice(1)];
    if (name === 'reset') this.mainAuth = null;
    if (name === 'hello') {
      const i = argv.findIndex((a, j) => j >= 2 && String(a).toLowerCase() === 'auth');
      if (i > 0 && i + 2 < argv.length) this.mainAuth = ['AUTH', argv[i + 1], argv[i + 2]];
    }
  }

  /** A blocking command on a session of its own, settled by the engine's events. */
  async _blocking(argv, raw) {
    while (this.recovering) await this.recovering;
    this._open();
    const now = this.clock();
    // The session (its id changes if a recovery runs the command again).
    const s = { id: 0, argv, db: this.mainDb, resp: this.mainResp, generation: this.generation };
    try {
      try {
        s.id = this.engine.connect('blocking', now);
        this._prepare(s.id, s.db, s.resp);
        const reply = this.wire.call(s.id, argv, now, raw);
        this._drainAfter();
        if (reply instanceof ReplyError) throw reply;
        if (reply !== undefined) return reply;
        if (!this.engine) throw await this._lostWait().catch((e) => e);
        if (!this.engine.isBlocked(s.id)) return reply;
      } catch (e) {
        if (isTrap(e)) throw await this._trap(e);
        throw e;
      }
      return await this._wait(s.id, raw, s);
    } finally {
      if (!this.closed && this.engine && s.id && s.generation === this.generation) this.engine.disconnect(s.id);
    }
  }

  _wait(id, raw, s = null) {
    return new Promise((resolve, reject) => this._park(id, { resolve, reject, raw, timer: null, s, deadline: undefined }));
  }

  /** A session waits: settled by its `unblocked` event or its deadline. */
  _park(id, w) {
    this.waiters.set(id, w);
    const deadline = this.engine.blockDeadline(id);
    // The first deadline stays the wait's, whatever a recovery re-issues it with.
    if (w.deadline === undefined) w.deadline = deadline ?? null;
    if (deadline !== undefined && deadline !== null) this._armDeadline(id, w, deadline);
  }

  _armDeadline(id, w, deadline) {
    const delay = Math.max(0, deadline - this.clock());
    w.timer = setTimeout(() => {
      if (this.closed || !this.engine || this.waiters.get(id) !== w) return;
      try {
        this.engine.expireBlocked(id, this.clock());
        this._drain();
      } catch (e) {
        if (isTrap(e)) return void this._trap(e);
        throw e;
      }
      // A fake clock may not have reached the deadline yet: look again later.
      if (this.waiters.get(id) === w) this._armDeadline(id, w, deadline);
    }, Math.min(delay + 1, 2 ** 31 - 1));
  }

  /** Acts on what the engine asks for: wake waiters, deliver messages, save. */
  _drain() {
    if (this.closed || !this.engine) return;
    this.wire.sync();
    while (this.engine.hasEvents()) {
      const events = this.engine.events(this.clock());
      if (events.length === 0) return;
      for (const [kind, a, b] of events) {
        if (kind === 'unblocked') this._unblocked(a);
        else if (kind === 'deliver') this._deliver(a);
        else if (kind === 'close') this._closeSession(a);
        else if (kind === 'save') this._snapshot();
        else if (kind === 'shutdown') this._shutdown(a);
        else if (kind === 'log') for (const l of this.logListeners) l(a, b);
      }
    }
  }

  _unblocked(id) {
    const w = this.waiters.get(id);
    if (w) {
      this.waiters.delete(id);
      if (w.timer) clearTimeout(w.timer);
      const r = this.wire.take(id, w.raw)[0];
      if (r instanceof ReplyError) w.reject(r);
      else w.resolve(r);
      return;
    }
    const c = this.conns.get(id);
    if (c) c._pump();
  }

  _deliver(id) {
    if (this.sub && id === this.sub.id) {
      const msgs = this.wire.take(id, false);
      for (const m of msgs) this._dispatch(m);
      return;
    }
    const c = this.conns.get(id);
    if (c) return c._pump();
    // Pushes to the default session (CLIENT TRACKING, its own SUBSCRIBE) are dropped here:
    // use db.subscribe or a RESP connection to receive them.
    this.engine.take(id, false);
  }

  _closeSession(id) {
    const c = this.conns.get(id);
    if (c) c._pump();
  }

  _shutdown(save) {
    const done = save !== false && this.adapter && this.owner ? this.save() : Promise.resolve();
    done.catch(() => {}).finally(() => this.close());
  }

  // ---------------------------------------------------------------- RESP

  /** A RESP connection: its own session; bytes in with `write`, bytes out (also later, for
   * blocked replies and pub/sub messages) to `onData`. */
  connect(onData) {
    this._open();
    if (!this.engine) throw new Error('cinnabar: the engine is being recovered from a trap; connect again');
    return new RespConnection(this, onData);
  }

  /** RESP bytes in, the reply bytes ready now out, on one shared RESP connection. Replies
   * that come later (a blocking command's, pub/sub messages) go to `db.respConnection.onData`. */
  resp(bytes) {
    if (!this.respConnection) this.respConnection = this.connect(null);
    return this.respConnection.write(bytes);
  }

  // ---------------------------------------------------------------- time

  /** Active expiry, save points and wait timeouts; the wrapper's timer calls it `hz` times a second. */
  tick() {
    if (this.closed || !this.engine) return;
    try {
      this.engine.tick(this.clock());
      this._drain();
    } catch (e) {
      if (isTrap(e)) return void this._trap(e);
      throw e;
    }
  }

  // ---------------------------------------------------------------- lifecycle

  _open() {
    if (this.closed) throw this.fatal ? this._trapError() : new Error('cinnabar: the database is closed');
  }

  _stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.hideHandler) {
      globalThis.removeEventListener('pagehide', this.hideHandler);
      document.removeEventListener('visibilitychange', this.hideHandler);
      this.hideHandler = null;
    }
  }

  /** Stops the timer, waits for saves in flight, ends waits (rejected), frees the engine and
   * releases the database's lock. `{ save: true }` saves first. */
  async close({ save = false } = {}) {
    if (this.closed) return;
    while (this.recovering) await this.recovering;
    if (this.closed) return;
    if (save && this.adapter && this.owner) await this.save();
    this._stop();
    await this.saving;
    while (this.recovering) await this.recovering;
    if (this.closed) return;
    this.closed = true;
    family(this.wasm).dbs.delete(this);
    for (const [, w] of this.waiters) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(new Error('cinnabar: the database was closed'));
    }
    this.waiters.clear();
    for (const c of this.conns.values()) c._end();
    this.conns.clear();
    this.engine?.free();
    this.engine = null;
    // The adapter reopens lazily if used again (IndexedDB: its connection is closed now).
    if (typeof this.adapter?.close === 'function') this.adapter.close();
    if (this.releaseLock) {
      this.releaseLock();
      this.releaseLock = null;
      await this.lockReleased?.catch(() => {});
    }
  }

}

mixin(Cinnabar, Rebuild, PubSub, Persistence, Convenience);
