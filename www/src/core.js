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

import { Wire, ReplyError } from './wire.js';
import { Journal, family, isTrap, recoverAll, withTimeout } from './recovery.js';

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

// Commands whose effect on the default session the wrapper mirrors (see `_track`).
const TRACKED = new Set(['multi', 'exec', 'discard', 'reset', 'select', 'hello', 'auth']);

/** The commands that may block their caller: each runs on a session of its own. Learned
 * from the engine's command table (`COMMAND LIST FILTERBY ACLCAT blocking`) when the first
 * database opens, so it never disagrees with the table. */
let BLOCKING = null;

// What the wrapper must know of a command, cached by the name as the caller spelled it (most
// programs use a handful of spellings): one lookup per command instead of one per question.
const KINDS = new Map();
function kindOf(c) {
  let k = KINDS.get(c);
  if (k === undefined) {
    const name = String(c ?? '').toLowerCase();
    k = { name, blocking: BLOCKING.has(name), tracked: TRACKED.has(name), later: name === 'save' || name === 'shutdown' };
    if (typeof c === 'string' && KINDS.size < 1024) KINDS.set(c, k);
  }
  return k;
}

function commandName(c) {
  return kindOf(c).name;
}

const REDIS_DEFAULT_SAVE = [{ seconds: 3600, changes: 1 }, { seconds: 300, changes: 100 }, { seconds: 60, changes: 10000 }];

/** `conf` (a redis.conf text, or an object of directive → value, an array for several
 * lines) as text: each value is written as a config file line would have it. */
function confText(conf) {
  if (!conf) return '';
  if (typeof conf === 'string') return conf;
  return Object.entries(conf)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k} ${x === '' ? '""' : x}`))
    .join('\n');
}

/** The lines of a config text that only startup applies and `configText` does not return. */
function renameLines(text) {
  return text
    .split('\n')
    .filter((l) => /^\s*rename-command\s/i.test(l))
    .join('\n');
}

function toError(e) {
  if (e instanceof ReplyError) return e;
  if (e instanceof Error) return new ReplyError(e.message);
  return new ReplyError(String(e));
}

function pairsToObject(v) {
  if (v instanceof Map) return Object.fromEntries(v);
  const o = {};
  for (let i = 0; i + 1 < (v?.length ?? 0); i += 2) o[v[i]] = v[i + 1];
  return o;
}

function flatOptions(opts, names) {
  const out = [];
  if (!opts) return out;
  for (const n of names) {
    const v = opts[n];
    if (v === undefined || v === false || v === null) continue;
    out.push(n);
    if (v !== true) out.push(v);
  }
  return out;
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
      BLOCKING ??= new Set(this._sys(this.main, ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'blocking']).map(String));
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

  // ---------------------------------------------------------------- recovery (recovery.js)

  /**
   * A call into the engine trapped: the instance is re-created and every database on it
   * rebuilt. Resolves, once that is done, to the error the trapping call answers with.
   */
  _trap(e) {
    if (!this.lastTrapMessage) this.lastTrapMessage = this.wire?.panicMessage() ?? null;
    return recoverAll(this.wasm, e).then(() => this._trapError());
  }

  _trapError() {
    if (this.fatal) return new ReplyError(`ERR internal error: the engine trapped (a bug) and could not be recovered: ${this.fatal.message}`);
    return new ReplyError(`ERR internal error: the engine trapped (a bug) and was recovered from its last snapshot and the ${this.lastRecovery?.writes ?? 0} acknowledged writes since`);
  }

  /** The instance is lost: the engine object is detached (its memory is gone with it). */
  _lose() {
    if (this.engine) {
      if (!this.lastTrapMessage) this.lastTrapMessage = this.wire?.panicMessage() ?? null;
      this.engine.__destroy_into_raw();
    }
    this.engine = null;
    this.wire = null;
    this.generation++;
    for (const w of this.waiters.values()) {
      if (w.timer) clearTimeout(w.timer);
      w.timer = null;
    }
    // RESP connections end (their clients reconnect); told once the recovery is over, so
    // a client that reconnects at once finds the new engine.
    for (const c of this.conns.values()) {
      c.ended = true;
      this.endedByTrap.push(c);
    }
    this.conns.clear();
    this.respConnection = null;
  }

  /** Until `pending` settles, commands wait for the rebuilt engine. */
  _recovering(pending) {
    this.recovering = pending;
    this.mainBusy = pending;
  }

  /** A new engine from the base, the journal and the config; sessions as they were. */
  _rebuild() {
    const now = this.clock();
    const engine = new this.wasm.Engine(this.seed, now);
    this.engine = engine;
    const rename = renameLines(this.conf);
    if (rename) engine.configure(rename);
    if (this.journal.config) engine.configure(this.journal.config);
    if (this.base) engine.aofLoad(this.base, now);
    const writes = this.journal.len ? engine.aofLoad(this.journal.bytes(), now) : 0;
    engine.loadingFinished();
    engine.setJournal(this.journaled);
    this.wire = new Wire(this.wasm, engine, this.journal);
    this.wire.sync();
    this.main = engine.defaultClient();
    this.lastRecovery = { at: now, writes, baseBytes: this.base ? this.base.length : 0, journalBytes: this.journal.len };
    // The default session: its login, database and protocol (an open MULTI is gone).
    this._prepare(this.main, this.mainDb, this.mainResp);
    this.inMulti = false;
    // The subscriber session, subscribed again to everything it was.
    if (this.sub) {
      const old = this.sub;
      this.sub = null;
      const s = this._subscriber();
      for (const [kind, verb] of [['channel', 'SUBSCRIBE'], ['pattern', 'PSUBSCRIBE'], ['shard', 'SSUBSCRIBE']]) {
        s[kind] = old[kind];
        if (s[kind].size) this._sys(s.id, [verb, ...s[kind].keys()]);
      }
    }
    // Waits: their commands were never acknowledged, so they run again with the time they
    // had left, on a new session or, for the default session's (a blocking command in a
    // pipeline, one held by CLIENT PAUSE, which is gone), on the new default session.
    const waits = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of waits) this._reissue(w, now);
    this._drain();
  }

  _reissue(w, now) {
    let id = this.main;
    if (!w.s.main) {
      id = this.engine.connect('blocking', now);
      w.s.id = id;
      w.s.generation = this.generation;
      this._prepare(id, w.s.db, w.s.resp);
    }
    const argv = w.deadline == null ? w.s.argv : withTimeout(w.s.argv, commandName(w.s.argv[0]), w.deadline - now);
    const reply = this.wire.call(id, argv, now, w.raw);
    if (reply instanceof ReplyError) w.reject(reply);
    else if (reply !== undefined || !this.engine.isBlocked(id)) w.resolve(reply);
    else this._park(id, w);
  }

  /** The rebuild failed: the database is closed, and says why. */
  _fail(e) {
    this.fatal = e instanceof Error ? e : new Error(String(e));
    // An engine in a lost instance is only detached; one the rebuild refused is freed.
    if (this.engine && isTrap(e)) this.engine.__destroy_into_raw();
    else this.engine?.free();
    this.engine = null;
    this.wire = null;
    family(this.wasm).dbs.delete(this);
    this._stop();
    this.closed = true;
    this.lastSaveError = new Error(`the engine trapped and could not be recovered: ${this.fatal.message}`);
    for (const c of this.conns.values()) {
      c.ended = true;
      this.endedByTrap.push(c);
    }
    this.conns.clear();
    if (this.releaseLock) {
      this.releaseLock();
      this.releaseLock = null;
    }
  }

  /** Recovery is over (rebuilt or failed): waiting callers go on; it is logged. No engine
   * call here: one that trapped would start the next recovery in the middle of this one's
   * bookkeeping. */
  _recovered(cause, pending) {
    // (A recovery started since, by another database, keeps them waiting.)
    if (this.recovering === pending) {
      this.recovering = null;
      // A command that waits again on the default session still holds the ones behind it.
      this.mainBusy = this.heldBusy ?? null;
    }
    const panic = this.lastTrapMessage;
    this.lastTrapMessage = null;
    const what = `${cause?.name ?? 'Error'}: ${cause?.message ?? cause}${panic ? ` (${panic})` : ''}`;
    this.lastTrap = what;
    let message;
    if (this.fatal) {
      message = `the engine trapped (${what}) and could not be recovered: ${this.fatal.message}`;
      for (const w of this.waiters.values()) w.reject(this._trapError());
      this.waiters.clear();
    } else {
      this.recoveries++;
      const r = this.lastRecovery;
      message = `the engine trapped (${what}) and was recovered from its last snapshot (${r.baseBytes} bytes) and the ${r.writes} acknowledged writes since`;
    }
    for (const l of this.logListeners) l(3, message);
    for (const c of this.endedByTrap.splice(0)) if (c.onEnd) queueMicrotask(() => c.onEnd());
    queueMicrotask(() => {
      this._emitStatus();
      this._saveAfterTrap();
    });
  }

  /**
   * What the adapter does not hold yet is saved right after a recovery, as a BGSAVE would
   * (the rebuilt engine's count of changes since the last save starts over); not if that
   * very save is what trapped the last time.
   */
  _saveAfterTrap() {
    if (this.closed || !this.engine || this.recovering || this.fatal || !this.started) return;
    if (!this.adapter || !this.owner || (this.baseSaved && this.journal.len === 0)) return;
    if (this.savingAfterTrap) {
      this.savingAfterTrap = false;
      return;
    }
    this.savingAfterTrap = true;
    try {
      this.wire.call(this.main, ['BGSAVE'], this.clock(), false);
      this._drain();
    } catch (e) {
      if (!isTrap(e)) throw e;
      this._trap(e);
      return;
    }
    this.savingAfterTrap = false;
  }

  /** A new base: RDB bytes the engine's state starts from, the journal empty after it. */
  _rebase(bytes, saved) {
    this.base = bytes;
    this.baseSaved = saved;
    this.journal.restart(bytes.length);
  }

  /** The journal outgrew its limit: a snapshot in memory becomes the base. */
  _rotate() {
    if (!this.engine || this.journal.len <= this.journal.limit) return;
    try {
      this._rebase(this.engine.takeBase(), false);
    } catch (e) {
      if (isTrap(e)) this._trap(e);
      else throw e;
    }
  }

  /** A session as the default one is: logged in, its database, its protocol. */
  _prepare(id, db, resp) {
    if (this.mainAuth) {
      // A login that no longer works (the password changed) leaves the session as is.
      const r = this.wire.call(id, this.mainAuth, this.clock(), false);
      if (r instanceof ReplyError && this.wire.hasEvents()) this._drain();
    }
    if (db) this._sys(id, ['SELECT', db]);
    if (resp === 3) this._sys(id, ['HELLO', 3]);
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

  // ---------------------------------------------------------------- pub/sub

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

  // ---------------------------------------------------------------- persistence

  _snapshot() {
    if (this.skipSnapshot) {
      this.engine.saveFinished(true, this.clock());
      this.lastSave = this.clock();
      return;
    }
    // The snapshot is also the new base for recovery: the journal starts over after it.
    const bytes = this.engine.takeBase();
    this._rebase(bytes, false);
    const generation = this.generation;
    this.pendingSaves++;
    const adapter = this.adapter && this.owner ? this.adapter : null;
    this.saving = this.saving.then(async () => {
      let ok = true;
      try {
        if (adapter) await adapter.save(bytes);
        this.lastSave = this.clock();
        this.lastSaveError = null;
        if (adapter && this.base === bytes) this.baseSaved = true;
      } catch (e) {
        ok = false;
        this.lastSaveError = e instanceof Error ? e : new Error(String(e));
      }
      this.pendingSaves--;
      // The engine that asked (not one rebuilt since) hears how it went.
      if (!this.closed && this.engine && generation === this.generation) {
        try {
          this.engine.saveFinished(ok, this.clock());
          this._drain();
        } catch (e) {
          if (!isTrap(e)) throw e;
          this._trap(e);
        }
      }
      this._emitStatus();
    });
    this._emitStatus();
  }

  /** Writes a snapshot through the adapter now (Redis's SAVE) and resolves when stored. */
  async save() {
    await this.command('SAVE');
  }

  /** The dataset as a dump.rdb (Uint8Array) that redis-server loads. */
  exportRdb() {
    this._open();
    if (!this.engine) throw new Error('cinnabar: the engine is being recovered from a trap; try again');
    try {
      return this.engine.snapshot();
    } catch (e) {
      if (!isTrap(e)) throw e;
      this._trap(e);
      throw new ReplyError('ERR internal error: the engine trapped (a bug) taking the snapshot; it is being recovered from its last snapshot and the writes acknowledged since');
    }
  }

  /** Replaces the dataset with a dump.rdb's; a corrupt file is refused and nothing changes. */
  async importRdb(bytes) {
    this._open();
    while (this.recovering) await this.recovering;
    this._open();
    try {
      this._load(bytes);
      // The engine's own snapshot of what it loaded is the base from now on.
      this._rebase(this.engine.takeBase(), false);
    } catch (e) {
      if (isTrap(e)) throw await this._trap(e);
      throw e;
    }
    const n = this.loadedKeys;
    if (this.adapter && this.owner) await this.save();
    return n;
  }

  /** { owner, dirty (changes since the last save), saving, lastSave (ms), error, and
   * recovery: recoveries (traps recovered from), lastTrap, recovering, journal (bytes
   * since the base) }. */
  get status() {
    let dirty = 0;
    if (!this.closed && this.engine) {
      try {
        dirty = this.engine.changesSinceSave();
      } catch (e) {
        if (!isTrap(e)) throw e;
        this._trap(e);
      }
    }
    return {
      owner: this.owner,
      persistent: !!this.adapter,
      dirty,
      saving: this.pendingSaves > 0,
      lastSave: this.lastSave,
      error: this.lastSaveError ? this.lastSaveError.message : null,
      recoveries: this.recoveries,
      lastTrap: this.lastTrap,
      recovering: !!this.recovering,
      journal: this.journal.len,
    };
  }

  /** `cb(status)` whenever a save starts or ends. Returns a function that stops it. */
  onStatus(cb) {
    this.statusListeners.add(cb);
    return () => this.statusListeners.delete(cb);
  }

  /** `cb(level, message)` for redis.log lines from scripts. */
  onLog(cb) {
    this.logListeners.add(cb);
    return () => this.logListeners.delete(cb);
  }

  _emitStatus() {
    if (this.closed) return;
    const s = this.status;
    for (const cb of this.statusListeners) cb(s);
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

  // ---------------------------------------------------------------- convenience

  /** SET key value [{ EX, PX, EXAT, PXAT, NX, XX, KEEPTTL, GET }] */
  set(key, value, opts) {
    return this.command('SET', key, value, ...flatOptions(opts, ['EX', 'PX', 'EXAT', 'PXAT', 'NX', 'XX', 'KEEPTTL', 'GET']));
  }
  get(key) { return this.command('GET', key); }
  getBuffer(key) { return this.commandRaw('GET', key); }
  mget(...keys) { return this.command('MGET', ...keys.flat()); }
  mset(obj) { return this.command('MSET', ...Object.entries(obj).flat()); }
  del(...keys) { return this.command('DEL', ...keys.flat()); }
  exists(...keys) { return this.command('EXISTS', ...keys.flat()); }
  type(key) { return this.command('TYPE', key); }
  keys(pattern = '*') { return this.command('KEYS', pattern); }
  incr(key) { return this.command('INCR', key); }
  incrby(key, n) { return this.command('INCRBY', key, n); }
  decr(key) { return this.command('DECR', key); }
  decrby(key, n) { return this.command('DECRBY', key, n); }
  append(key, v) { return this.command('APPEND', key, v); }
  expire(key, seconds, mode) { return this.command('EXPIRE', key, seconds, ...(mode ? [mode] : [])); }
  pexpire(key, ms, mode) { return this.command('PEXPIRE', key, ms, ...(mode ? [mode] : [])); }
  ttl(key) { return this.command('TTL', key); }
  pttl(key) { return this.command('PTTL', key); }
  persist(key) { return this.command('PERSIST', key); }
  dbsize() { return this.command('DBSIZE'); }
  flushall() { return this.command('FLUSHALL'); }
  /** HSET key field value, or HSET key { field: value, ... } */
  hset(key, field, value) {
    if (typeof field === 'object' && field !== null) return this.command('HSET', key, ...Object.entries(field).flat());
    return this.command('HSET', key, field, value);
  }
  hget(key, field) { return this.command('HGET', key, field); }
  hmget(key, ...fields) { return this.command('HMGET', key, ...fields.flat()); }
  hdel(key, ...fields) { return this.command('HDEL', key, ...fields.flat()); }
  hincrby(key, field, n) { return this.command('HINCRBY', key, field, n); }
  hlen(key) { return this.command('HLEN', key); }
  /** An object of the hash's fields (`{}` for a missing key). */
  async hgetall(key) { return pairsToObject(await this.command('HGETALL', key)); }
  lpush(key, ...values) { return this.command('LPUSH', key, ...values.flat()); }
  rpush(key, ...values) { return this.command('RPUSH', key, ...values.flat()); }
  lpop(key, count) { return this.command('LPOP', key, ...(count === undefined ? [] : [count])); }
  rpop(key, count) { return this.command('RPOP', key, ...(count === undefined ? [] : [count])); }
  lrange(key, start, stop) { return this.command('LRANGE', key, start, stop); }
  llen(key) { return this.command('LLEN', key); }
  sadd(key, ...members) { return this.command('SADD', key, ...members.flat()); }
  srem(key, ...members) { return this.command('SREM', key, ...members.flat()); }
  smembers(key) { return this.command('SMEMBERS', key); }
  sismember(key, m) { return this.command('SISMEMBER', key, m); }
  scard(key) { return this.command('SCARD', key); }
  /** ZADD key score member [score member ...], or ZADD key [{ score, value }, ...] */
  zadd(key, ...args) {
    if (args.length === 1 && Array.isArray(args[0])) args = args[0].flatMap((e) => [e.score, e.value]);
    return this.command('ZADD', key, ...args);
  }
  zscore(key, member) { return this.command('ZSCORE', key, member); }
  zincrby(key, n, member) { return this.command('ZINCRBY', key, n, member); }
  zrem(key, ...members) { return this.command('ZREM', key, ...members.flat()); }
  zcard(key) { return this.command('ZCARD', key); }
  /** ZRANGE key start stop [{ BYSCORE, BYLEX, REV, LIMIT: [offset, count], WITHSCORES }] */
  zrange(key, start, stop, opts = {}) {
    const extra = flatOptions(opts, ['BYSCORE', 'BYLEX', 'REV']);
    if (opts.LIMIT) extra.push('LIMIT', ...opts.LIMIT);
    if (opts.WITHSCORES) extra.push('WITHSCORES');
    return this.command('ZRANGE', key, start, stop, ...extra);
  }
  publish(channel, message) { return this.command('PUBLISH', channel, message); }
  xadd(key, id, fields) { return this.command('XADD', key, id, ...Object.entries(fields).flat()); }
  eval(script, keys = [], args = []) { return this.command('EVAL', script, keys.length, ...keys, ...args); }
  /** BLPOP key [key ...] timeout → [key, value] or null at the timeout (seconds; 0 waits forever). */
  blpop(keys, timeout) { return this.command('BLPOP', ...[keys].flat(), timeout); }
  brpop(keys, timeout) { return this.command('BRPOP', ...[keys].flat(), timeout); }
  blmove(src, dst, from, to, timeout) { return this.command('BLMOVE', src, dst, from, to, timeout); }
  bzpopmin(keys, timeout) { return this.command('BZPOPMIN', ...[keys].flat(), timeout); }
  bzpopmax(keys, timeout) { return this.command('BZPOPMAX', ...[keys].flat(), timeout); }
}

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
