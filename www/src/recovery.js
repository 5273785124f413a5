// Surviving a trap. In wasm a Rust panic aborts: the call throws a WebAssembly.RuntimeError
// and the instance is unusable from then on (its shadow stack and the engine's borrow flag
// are left as the panic found them). The wrapper (core.js) keeps, outside the instance,
// everything needed to make the engine again:
//
//   the base      the last snapshot: the bytes a save wrote, or one taken in memory when the
//                 journal outgrows max(1 MB, the last base) (as auto-aof-rewrite does)
//   the journal   the AOF text of every write since the base, copied out of wasm memory
//                 after each engine call that returned, before its reply is seen: so every
//                 acknowledged write is in it, and nothing of a call that trapped
//   the config    the engine's non-default configuration and ACL users (`configText`),
//                 taken whenever it changes, plus the open's `rename-command` lines
//
// On a trap the glue's instance is made anew (`reinstantiate`, appended to wasm-bindgen's
// glue by www/scripts/patch-glue.mjs) and every database open on it is rebuilt: a new
// engine with the same seed, the config applied, the base and the journal replayed as an
// AOF. Every database on the instance, since they share it, not only the one that trapped.

/** Whether an exception thrown by a call into the engine means the instance is lost. */
export function isTrap(e) {
  // A panic (unreachable), an out-of-bounds access; a stack overflow inside wasm is a
  // RangeError that leaves the instance in the same state.
  return e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message));
}

const MB = 1 << 20;

/** The AOF text of the writes since the base, in one growing buffer. */
export class Journal {
  constructor(onFull) {
    this.buf = new Uint8Array(64 * 1024);
    this.len = 0;
    // Past this many bytes a new base is taken (max(1 MB, the last base's size)).
    this.limit = MB;
    this.onFull = onFull;
    this.full = false;
    // The engine's configuration as `configure` takes it back.
    this.config = '';
  }

  /** Appends `n` bytes of `u8` from `p`. */
  append(u8, p, n) {
    const end = this.len + n;
    if (end > this.buf.length) {
      const bigger = new Uint8Array(Math.max(end, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    if (n <= 64) {
      const b = this.buf;
      for (let i = 0; i < n; i++) b[this.len + i] = u8[p + i];
    } else {
      this.buf.set(u8.subarray(p, p + n), this.len);
    }
    this.len = end;
    if (end > this.limit && !this.full) {
      this.full = true;
      queueMicrotask(() => {
        this.full = false;
        this.onFull();
      });
    }
  }

  bytes() {
    return this.buf.subarray(0, this.len);
  }

  /** A new base of `baseBytes` was taken: the journal starts over. */
  restart(baseBytes) {
    this.len = 0;
    this.limit = Math.max(MB, baseBytes);
    if (this.buf.length > 4 * MB) this.buf = new Uint8Array(64 * 1024);
  }
}

// The databases open on each module namespace (they share its one instance), and the
// recovery under way for it.
const families = new WeakMap();

export function family(wasm) {
  let f = families.get(wasm);
  if (!f) {
    f = { dbs: new Set(), pending: null };
    families.set(wasm, f);
  }
  return f;
}

/**
 * Re-creates the instance behind `wasm` and rebuilds every database open on it. Returns a
 * Promise that settles (never rejects) once each is rebuilt or, if its own rebuild failed,
 * closed with the reason (`db.fatal`). Joined, not repeated, while one is under way.
 */
export function recoverAll(wasm, cause) {
  const fam = family(wasm);
  if (fam.pending) return fam.pending;
  // Every database this recovery is for, including any it ends up closing.
  const touched = [...fam.dbs];
  for (const db of touched) db._lose();
  const pending = (async () => {
    await null; // every database is marked recovering (below) before anything here runs
    let error = null;
    if (typeof wasm.reinstantiate !== 'function') {
      error = new Error('the package was built without reinstantiate() (run www/scripts/patch-glue.mjs after wasm-bindgen)');
    }
    // A rebuild that traps again (its replay hits the bug) loses the instance once more:
    // that database is closed and the others are rebuilt on yet another instance. Each
    // round closes one, so this ends.
    while (!error) {
      try {
        await wasm.reinstantiate();
      } catch (e) {
        error = e;
        break;
      }
      let trapped = false;
      for (const db of [...fam.dbs]) {
        try {
          db._rebuild(cause);
        } catch (e) {
          db._fail(e);
          if (isTrap(e)) {
            trapped = true;
            break;
          }
        }
      }
      if (!trapped) break;
      for (const db of fam.dbs) db._lose();
    }
    if (error) for (const db of [...fam.dbs]) db._fail(error);
    fam.pending = null;
    for (const db of touched) db._recovered(cause, pending);
  })();
  fam.pending = pending;
  for (const db of fam.dbs) db._recovering(pending);
  return pending;
}

// Where a blocking command's timeout is, to re-issue it with the time it had left.
const SECONDS_LAST = new Set(['blpop', 'brpop', 'bzpopmin', 'bzpopmax', 'brpoplpush', 'blmove']);

/** `argv` with its timeout made `ms` (at least 1 ms: the wait still times out). */
export function withTimeout(argv, name, ms) {
  const a = argv.slice();
  const secs = String(Math.max(ms, 1) / 1000);
  const millis = String(Math.max(1, Math.ceil(ms)));
  if (SECONDS_LAST.has(name)) a[a.length - 1] = secs;
  else if (name === 'blmpop' || name === 'bzmpop') a[1] = secs;
  else if (name === 'wait') a[a.length - 1] = millis;
  else if (name === 'xread' || name === 'xreadgroup') {
    for (let i = 1; i + 1 < a.length; i++) {
      const w = String(a[i]).toLowerCase();
      if (w === 'streams') break;
      if (w === 'block') {
        a[i + 1] = millis;
        break;
      }
    }
  }
  return a;
}
