// The database's recovery from a trap (a panic in wasm): a new engine from the last
// snapshot and the journal of writes acknowledged since (recovery.js has the journal and the
// family of databases sharing an instance). Mixed into Cinnabar (core.js).

import { Wire, ReplyError } from './wire.js';
import { family, isTrap, recoverAll, withTimeout } from './recovery.js';
import { commandName, renameLines } from './helpers.js';

export class Rebuild {
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
}
