// What redis-cli does to a line and to a reply, in plain JS (no DOM), shared by the sandbox
// terminal and its Node test, which holds it to redis-cli's own output.
//
//   splitArgs(line)          sdssplitargs: quotes, "\x41"-style escapes, 'single' quotes
//   RespReader               RESP2/RESP3 replies from bytes, keeping their types
//   formatReply(reply)       cliFormatReplyTTY: (integer) 1, (nil), "quoted", numbered
//                            nested arrays, 1# maps, 1~ sets, (error) ...
//   hintFor(doc)             the argument hint redis-cli shows, from COMMAND DOCS

const isHex = (c) => /[0-9a-fA-F]/.test(c);

/** sdssplitargs: null for unbalanced quotes (redis-cli says "Invalid argument(s)"). */
export function splitArgs(line) {
  const args = [];
  let i = 0;
  for (;;) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) return args;
    let inq = false;
    let insq = false;
    let cur = '';
    for (;;) {
      const c = line[i];
      if (inq) {
        if (c === undefined) return null;
        if (c === '\\' && line[i + 1] === 'x' && isHex(line[i + 2] ?? '') && isHex(line[i + 3] ?? '')) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < line.length) {
          i++;
          const e = line[i];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < line.length && !/\s/.test(line[i + 1])) return null;
          inq = false;
          i++;
          break;
        } else cur += c;
      } else if (insq) {
        if (c === undefined) return null;
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < line.length && !/\s/.test(line[i + 1])) return null;
          insq = false;
          i++;
          break;
        } else cur += c;
      } else {
        if (c === undefined || /\s/.test(c)) break;
        if (c === '"') inq = true;
        else if (c === "'") insq = true;
        else cur += c;
      }
      i++;
    }
    args.push(cur);
  }
}

/** Incremental RESP reader: push bytes, take replies as { type, value } nodes. */
export class RespReader {
  constructor() {
    this.buf = new Uint8Array(0);
  }
  push(bytes) {
    const b = new Uint8Array(this.buf.length + bytes.length);
    b.set(this.buf);
    b.set(bytes, this.buf.length);
    this.buf = b;
  }
  /** The next complete reply, or undefined. */
  next() {
    const r = this.#parse(0);
    if (!r) return undefined;
    this.buf = this.buf.slice(r.end);
    return r.node;
  }
  #line(pos) {
    for (let i = pos; i + 1 < this.buf.length; i++) {
      if (this.buf[i] === 13 && this.buf[i + 1] === 10) return { text: new TextDecoder('latin1').decode(this.buf.slice(pos, i)), end: i + 2 };
    }
    return null;
  }
  #parse(pos) {
    if (pos >= this.buf.length) return null;
    const t = String.fromCharCode(this.buf[pos]);
    const l = this.#line(pos + 1);
    if (!l) return null;
    const n = l.text;
    const agg = (type, count) => {
      const items = [];
      let p = l.end;
      for (let i = 0; i < count; i++) {
        const r = this.#parse(p);
        if (!r) return null;
        items.push(r.node);
        p = r.end;
      }
      return { node: { type, value: items }, end: p };
    };
    switch (t) {
      case '+': return { node: { type: 'status', value: n }, end: l.end };
      case '-': return { node: { type: 'error', value: n }, end: l.end };
      case ':': return { node: { type: 'integer', value: n }, end: l.end };
      case ',': return { node: { type: 'double', value: n }, end: l.end };
      case '(': return { node: { type: 'bignum', value: n }, end: l.end };
      case '#': return { node: { type: 'bool', value: n === 't' }, end: l.end };
      case '_': return { node: { type: 'nil' }, end: l.end };
      case '$':
      case '=':
      case '!': {
        const len = Number(n);
        if (len < 0) return { node: { type: 'nil' }, end: l.end };
        if (this.buf.length < l.end + len + 2) return null;
        let bytes = this.buf.slice(l.end, l.end + len);
        let type = t === '$' ? 'string' : t === '=' ? 'verbatim' : 'error';
        if (type === 'verbatim') bytes = bytes.slice(4);
        return { node: { type, value: bytes }, end: l.end + len + 2 };
      }
      case '*': return Number(n) < 0 ? { node: { type: 'nil' }, end: l.end } : agg('array', Number(n));
      case '~': return agg('set', Number(n));
      case '>': return agg('push', Number(n));
      case '%': return agg('map', Number(n) * 2);
      case '|': {
        // Attributes precede the reply they describe; redis-cli shows only the reply.
        const a = agg('attr', Number(n) * 2);
        return a && this.#parse(a.end);
      }
      default:
        throw new Error(`RESP: unexpected type byte ${JSON.stringify(t)}`);
    }
  }
}

/** sdscatrepr: "quoted", with escapes for quotes, backslashes, control and non-ASCII bytes. */
export function repr(bytes) {
  let s = '"';
  for (const c of bytes) {
    const ch = String.fromCharCode(c);
    if (ch === '\\' || ch === '"') s += `\\${ch}`;
    else if (ch === '\n') s += '\\n';
    else if (ch === '\r') s += '\\r';
    else if (ch === '\t') s += '\\t';
    else if (c === 7) s += '\\a';
    else if (c === 8) s += '\\b';
    else if (c >= 32 && c < 127) s += ch;
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${s}"`;
}

const text = (v) => (typeof v === 'string' ? v : new TextDecoder().decode(v));

/** cliFormatReplyTTY: the text redis-cli prints for a reply (each line ends with \n). */
export function formatReply(r, prefix = '') {
  switch (r.type) {
    case 'error': return `(error) ${text(r.value)}\n`;
    case 'status': return `${r.value}\n`;
    case 'integer': return `(integer) ${r.value}\n`;
    case 'double': return `(double) ${r.value}\n`;
    case 'bignum': return `(big number) ${r.value}\n`;
    case 'bool': return r.value ? '(true)\n' : '(false)\n';
    case 'nil': return '(nil)\n';
    case 'string': return `${repr(r.value)}\n`;
    case 'verbatim': return `${text(r.value)}\n`;
    case 'array':
    case 'set':
    case 'push':
    case 'map': {
      const items = r.value;
      if (items.length === 0) {
        return { array: '(empty array)\n', map: '(empty hash)\n', set: '(empty set)\n', push: '(empty push)\n' }[r.type];
      }
      const count = r.type === 'map' ? items.length / 2 : items.length;
      const idxlen = String(count).length;
      const inner = prefix + ' '.repeat(idxlen + 2);
      const sep = r.type === 'set' ? '~' : r.type === 'map' ? '#' : ')';
      let out = '';
      for (let i = 0; i < items.length; i++) {
        const human = (r.type === 'map' ? i / 2 : i) + 1;
        out += `${i === 0 ? '' : prefix}${String(human).padStart(idxlen)}${sep} `;
        out += formatReply(items[i], inner);
        if (r.type === 'map') {
          i++;
          out = `${out.slice(0, -1)} => ${formatReply(items[i], inner)}`;
        }
      }
      return out;
    }
    default:
      return `${String(r.value)}\n`;
  }
}

/** One argument of COMMAND DOCS as redis-cli's hint shows it. */
function argHint(a) {
  let s;
  if (a.type === 'oneof') s = a.arguments.map(argHint).join('|');
  else if (a.type === 'block') s = a.arguments.map(argHint).join(' ');
  else if (a.type === 'pure-token') s = a.token;
  else s = a.token ? `${a.token} ${a.name}` : a.name;
  if (a.flags?.includes('multiple')) s = a.token && a.type !== 'pure-token' && !a.flags.includes('multiple_token') ? `${s} [${a.name} ...]` : `${s} [${s} ...]`;
  if (a.flags?.includes('optional')) s = `[${s}]`;
  return s;
}

/** COMMAND DOCS (RESP2 flat arrays) → Map(name → { summary, group, args: [...] }). */
export function parseDocs(flat) {
  const obj = (arr) => {
    const o = {};
    for (let i = 0; i + 1 < arr.length; i += 2) o[arr[i]] = arr[i + 1];
    return o;
  };
  const arg = (arr) => {
    const o = obj(arr);
    if (o.arguments) o.arguments = o.arguments.map(arg);
    return o;
  };
  const docs = new Map();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const d = obj(flat[i + 1]);
    docs.set(String(flat[i]).toUpperCase(), { summary: d.summary, group: d.group, since: d.since, args: (d.arguments ?? []).map(arg), subcommands: d.subcommands });
  }
  return docs;
}

/** The hint for a command's arguments (after the ones already typed, as redis-cli does). */
export function hintFor(doc, typed = 0) {
  if (!doc) return '';
  const parts = doc.args.map(argHint);
  return parts.slice(Math.min(typed, parts.length)).join(' ');
}
