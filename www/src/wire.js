// Commands and replies as bytes in the engine's own memory (the format is in
// src/wasm/convert.rs). JS packs a command's arguments straight into the engine's argument
// area and decodes the reply bytes here: no JS value is made on the wasm side, where each
// string or number would cost an imported call, a table entry and, for strings, a
// TextDecoder call, which together cost more than a simple command's own work.

/** A Redis error reply (`-ERR ...`, `-WRONGTYPE ...`): `message` is Redis's exact text. */
export class ReplyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ReplyError';
    this.code = String(message).split(' ')[0];
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
// Node's Buffer slices short strings out of memory several times faster than TextDecoder.
const NodeBuffer = typeof globalThis.Buffer === 'function' && typeof globalThis.Buffer.prototype?.latin1Slice === 'function' ? globalThis.Buffer : null;

function numberArg(n) {
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

function badArgument() {
  return new TypeError('command arguments must be strings, numbers or Uint8Arrays');
}

/** The most bytes an argument can pack to (its length word included). */
function bound(a) {
  if (typeof a === 'string') return 4 + a.length * 3;
  if (typeof a === 'number') return 4 + 24;
  if (typeof a === 'bigint') return 4 + String(a).length;
  if (ArrayBuffer.isView(a)) return 4 + a.byteLength;
  throw badArgument();
}

function commandBound(argv) {
  let n = 0;
  for (let i = 0; i < argv.length; i++) n += bound(argv[i]);
  return n;
}

// The io words (src/wasm/io.rs), as u32 indexes from the first.
const ARG_CAP = 1;
const OUT_PTR = 2;
const EVENTS = 4;
const JOURNAL = 5;
const AOF_PTR = 6;
const AOF_LEN = 7;
const AOF_TAKEN = 8;
const JOURNAL_AOF = 1;
const JOURNAL_CONFIG = 2;

/**
 * One engine's io: where it reads arguments and where its replies are (see src/wasm/io.rs).
 * With a `journal` (recovery.js), every call's AOF text and every configuration change are
 * copied into it as the call returns, before its reply is decoded.
 */
export class Wire {
  constructor(wasm, engine, journal = null) {
    this.memory = wasm.wasmMemory();
    this.engine = engine;
    this.journal = journal;
    // Where the binding's panic hook notes the message (read after a trap).
    this.panicAt = typeof wasm.panicAddress === 'function' ? wasm.panicAddress() : 0;
    this.io = engine.ioAddress() >>> 2;
    this.pos = 0;
    this.raw = false;
    this.views();
  }

  // Views over the memory; made again when it grows (the old buffer is then detached).
  views() {
    const b = this.memory.buffer;
    this.u8 = new Uint8Array(b);
    this.u32 = new Uint32Array(b);
    this.dv = new DataView(b);
    this.nb = NodeBuffer ? NodeBuffer.from(b) : null;
  }

  /** Room for `need` bytes of arguments; where they start. */
  area(need) {
    if (this.u8.byteLength === 0) this.views();
    if (need > this.u32[this.io + ARG_CAP]) {
      this.engine.reserve(need);
      if (this.u8.byteLength === 0) this.views();
      if (need > this.u32[this.io + ARG_CAP]) throw new RangeError(`cinnabar: no room for ${need} bytes of arguments`);
    }
    return this.u32[this.io];
  }

  /** Packs one command into the argument area (made larger if it must be); its length. */
  pack(argv) {
    if (this.u8.byteLength === 0) this.views();
    const start = this.u32[this.io];
    let end = this.write(argv, start, start + this.u32[this.io + ARG_CAP]);
    if (end < 0) {
      const at = this.area(commandBound(argv));
      end = this.write(argv, at, Infinity);
      return end - at;
    }
    return end - start;
  }

  /**
   * Packs one command at `p` as (u32 LE length, bytes)*; returns where it ends, or -1 if it
   * might not fit before `end` (nothing is promised about the bytes then).
   */
  write(argv, p, end) {
    const u8 = this.u8;
    const dv = this.dv;
    for (let i = 0; i < argv.length; i++) {
      let a = argv[i];
      if (typeof a === 'number') a = numberArg(a);
      else if (typeof a === 'bigint') a = String(a);
      if (typeof a === 'string') {
        const n = a.length;
        if (p + 4 + n * 3 > end) return -1;
        // Short ASCII strings (most keys and values) are copied by hand: cheaper than a
        // TextEncoder call for a few bytes.
        if (n <= 64) {
          let j = 0;
          for (; j < n; j++) {
            const c = a.charCodeAt(j);
            if (c > 127) break;
            u8[p + 4 + j] = c;
          }
          if (j === n) {
            dv.setUint32(p, n, true);
            p += 4 + n;
            continue;
          }
        }
        const { written } = encoder.encodeInto(a, u8.subarray(p + 4, p + 4 + n * 3));
        dv.setUint32(p, written, true);
        p += 4 + written;
      } else if (ArrayBuffer.isView(a)) {
        const bytes = a instanceof Uint8Array ? a : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        if (p + 4 + bytes.length > end) return -1;
        dv.setUint32(p, bytes.length, true);
        u8.set(bytes, p + 4);
        p += 4 + bytes.length;
      } else {
        throw badArgument();
      }
    }
    return p;
  }

  /** Runs one command on session `id`; its reply (a ReplyError for an error reply). */
  call(id, argv, now, raw) {
    const len = this.pack(argv);
    this.engine.call(id, len, now, raw);
    if (this.u8.byteLength === 0) this.views();
    // The one test a command that wrote nothing pays for the journal.
    if (this.u32[this.io + JOURNAL] !== 0) this.sync();
    this.pos = this.u32[this.io + OUT_PTR];
    return this.value();
  }

  /**
   * Takes what the last engine call left for the journal: its AOF text (copied, then marked
   * taken in the io words, so the engine drops it on its next call without a boundary call)
   * and, if the configuration changed, the new `configText`. Safe to call any time.
   */
  sync() {
    if (this.u8.byteLength === 0) this.views();
    const u32 = this.u32;
    const io = this.io;
    const flags = u32[io + JOURNAL];
    if (flags === 0 || !this.journal) return;
    u32[io + JOURNAL] = 0;
    if (flags & JOURNAL_AOF) {
      const n = u32[io + AOF_LEN];
      this.journal.append(this.u8, u32[io + AOF_PTR], n);
      u32[io + AOF_LEN] = 0;
      u32[io + AOF_TAKEN] = n;
    }
    if (flags & JOURNAL_CONFIG) {
      this.journal.config = this.engine.configText();
      if (this.u8.byteLength === 0) this.views();
    }
  }

  /** Runs `commands[from..]` in one engine call; their replies, up to one that blocked. */
  pipeline(id, commands, from, now, raw) {
    let need = 0;
    for (let i = from; i < commands.length; i++) need += 4 + commandBound(commands[i]);
    const start = this.area(need);
    let p = start;
    for (let i = from; i < commands.length; i++) {
      const end = this.write(commands[i], p + 4, Infinity);
      this.dv.setUint32(p, end - p - 4, true);
      p = end;
    }
    const n = this.engine.pipeline(id, p - start, now, raw);
    return this.read(n);
  }

  /** The replies queued for a session (a blocked command's, pub/sub messages). */
  take(id, raw) {
    const n = this.engine.take(id, raw);
    return this.read(n);
  }

  /** Decodes the last call's `n` replies. */
  read(n) {
    if (this.u8.byteLength === 0) this.views();
    if (this.u32[this.io + JOURNAL] !== 0) this.sync();
    this.pos = this.u32[this.io + OUT_PTR];
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value();
    return out;
  }

  value() {
    const u8 = this.u8;
    const p = this.pos;
    switch (u8[p]) {
      case 0x73: { // s: ASCII text
        const n = this.dv.getUint32(p + 1, true);
        this.pos = p + 5 + n;
        return this.ascii(p + 5, n);
      }
      case 0x69: // i: a number
        this.pos = p + 9;
        return this.dv.getFloat64(p + 1, true);
      case 0x6e: // n: nil
        this.pos = p + 1;
        return null;
      case 0x61: { // a: array
        const n = this.dv.getUint32(p + 1, true);
        this.pos = p + 5;
        const a = new Array(n);
        for (let i = 0; i < n; i++) a[i] = this.value();
        return a;
      }
      case 0x53: { // S: UTF-8 text
        const n = this.dv.getUint32(p + 1, true);
        this.pos = p + 5 + n;
        return this.nb ? this.nb.utf8Slice(p + 5, p + 5 + n) : decoder.decode(u8.subarray(p + 5, p + 5 + n));
      }
      case 0x62: { // b: bytes
        const n = this.dv.getUint32(p + 1, true);
        this.pos = p + 5 + n;
        return u8.slice(p + 5, p + 5 + n);
      }
      case 0x65: { // e: an error reply
        const n = this.dv.getUint32(p + 1, true);
        this.pos = p + 5 + n;
        return new ReplyError(decoder.decode(u8.subarray(p + 5, p + 5 + n)));
      }
      case 0x6d: { // m: map
        const n = this.dv.getUint32(p + 1, true);
        this.pos = p + 5;
        const m = new Map();
        for (let i = 0; i < n; i++) {
          const k = this.value();
          m.set(k, this.value());
        }
        return m;
      }
      case 0x49: { // I: a big integer as text
        const n = this.dv.getUint32(p + 1, true);
        this.pos = p + 5 + n;
        const s = this.ascii(p + 5, n);
        try {
          return BigInt(s);
        } catch {
          return s;
        }
      }
      case 0x74: // t
        this.pos = p + 1;
        return true;
      case 0x66: // f
        this.pos = p + 1;
        return false;
      case 0x75: // u: no reply yet (the session waits)
        this.pos = p + 1;
        return undefined;
      default:
        throw new Error(`cinnabar: unknown reply tag ${u8[p]} at ${p}`);
    }
  }

  // Short ASCII strings are made from their char codes in one call: several times cheaper
  // than a TextDecoder call or a Buffer slice for the keys, values and statuses most
  // replies are made of. (Spelled out: edge runtimes allow no generated code.)
  ascii(p, n) {
    const u = this.u8;
    switch (n) {
      case 0: return '';
      case 1: return String.fromCharCode(u[p]);
      case 2: return u[p] === 79 && u[p + 1] === 75 ? 'OK' : String.fromCharCode(u[p], u[p + 1]);
      case 3: return String.fromCharCode(u[p], u[p + 1], u[p + 2]);
      case 4: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3]);
      case 5: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4]);
      case 6: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5]);
      case 7: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6]);
      case 8: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6], u[p + 7]);
      case 9: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6], u[p + 7], u[p + 8]);
      case 10: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6], u[p + 7], u[p + 8], u[p + 9]);
      case 11: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6], u[p + 7], u[p + 8], u[p + 9], u[p + 10]);
      case 12: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6], u[p + 7], u[p + 8], u[p + 9], u[p + 10], u[p + 11]);
      case 13: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6], u[p + 7], u[p + 8], u[p + 9], u[p + 10], u[p + 11], u[p + 12]);
      case 14: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6], u[p + 7], u[p + 8], u[p + 9], u[p + 10], u[p + 11], u[p + 12], u[p + 13]);
      case 15: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6], u[p + 7], u[p + 8], u[p + 9], u[p + 10], u[p + 11], u[p + 12], u[p + 13], u[p + 14]);
      case 16: return String.fromCharCode(u[p], u[p + 1], u[p + 2], u[p + 3], u[p + 4], u[p + 5], u[p + 6], u[p + 7], u[p + 8], u[p + 9], u[p + 10], u[p + 11], u[p + 12], u[p + 13], u[p + 14], u[p + 15]);
      default: return this.nb ? this.nb.latin1Slice(p, p + n) : decoder.decode(u.subarray(p, p + n));
    }
  }

  /** Whether the last call left events for the host (`events()`). */
  hasEvents() {
    return this.u32[this.io + EVENTS] !== 0;
  }

  /** The panic message the binding noted before a trap (null if none). */
  panicMessage() {
    if (!this.panicAt) return null;
    try {
      const u32 = new Uint32Array(this.memory.buffer);
      const p = u32[this.panicAt >>> 2];
      const n = u32[(this.panicAt >>> 2) + 1];
      if (!n || p + n > this.memory.buffer.byteLength) return null;
      return decoder.decode(new Uint8Array(this.memory.buffer, p, n));
    } catch {
      return null;
    }
  }
}
