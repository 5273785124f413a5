// The database's persistence: snapshots through the adapter, SAVE, RDB export and import,
// and the status listeners. Mixed into Cinnabar (core.js).

import { ReplyError } from './wire.js';
import { isTrap } from './recovery.js';

export class Persistence {
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
}
