// Small pure helpers the wrapper's parts share: what the wrapper knows of a command (its
// kind, cached by spelling), config text, option objects, errors.

import { ReplyError } from './wire.js';

/** Copies the methods (and getters) of each class in `parts` onto `target`'s prototype: the
 * database class is written in parts, one file each. */
export function mixin(target, ...parts) {
  for (const part of parts) {
    for (const k of Object.getOwnPropertyNames(part.prototype)) {
      if (k !== 'constructor') Object.defineProperty(target.prototype, k, Object.getOwnPropertyDescriptor(part.prototype, k));
    }
  }
}

// Commands whose effect on the default session the wrapper mirrors (see `_track`).
export const TRACKED = new Set(['multi', 'exec', 'discard', 'reset', 'select', 'hello', 'auth']);

/** The commands that may block their caller: each runs on a session of its own. Learned
 * from the engine's command table (`COMMAND LIST FILTERBY ACLCAT blocking`) when the first
 * database opens, so it never disagrees with the table. */
let BLOCKING = null;

/** Learns the blocking commands from the engine (`ask()` runs COMMAND LIST on it), once. */
export function learnBlocking(ask) {
  BLOCKING ??= new Set(ask().map(String));
}

// What the wrapper must know of a command, cached by the name as the caller spelled it (most
// programs use a handful of spellings): one lookup per command instead of one per question.
const KINDS = new Map();
export function kindOf(c) {
  let k = KINDS.get(c);
  if (k === undefined) {
    const name = String(c ?? '').toLowerCase();
    k = { name, blocking: BLOCKING.has(name), tracked: TRACKED.has(name), later: name === 'save' || name === 'shutdown' };
    if (typeof c === 'string' && KINDS.size < 1024) KINDS.set(c, k);
  }
  return k;
}

export function commandName(c) {
  return kindOf(c).name;
}

export const REDIS_DEFAULT_SAVE = [{ seconds: 3600, changes: 1 }, { seconds: 300, changes: 100 }, { seconds: 60, changes: 10000 }];

/** `conf` (a redis.conf text, or an object of directive → value, an array for several
 * lines) as text: each value is written as a config file line would have it. */
export function confText(conf) {
  if (!conf) return '';
  if (typeof conf === 'string') return conf;
  return Object.entries(conf)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k} ${x === '' ? '""' : x}`))
    .join('\n');
}

/** The lines of a config text that only startup applies and `configText` does not return. */
export function renameLines(text) {
  return text
    .split('\n')
    .filter((l) => /^\s*rename-command\s/i.test(l))
    .join('\n');
}

export function toError(e) {
  if (e instanceof ReplyError) return e;
  if (e instanceof Error) return new ReplyError(e.message);
  return new ReplyError(String(e));
}

export function pairsToObject(v) {
  if (v instanceof Map) return Object.fromEntries(v);
  const o = {};
  for (let i = 0; i + 1 < (v?.length ?? 0); i += 2) o[v[i]] = v[i + 1];
  return o;
}

export function flatOptions(opts, names) {
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
