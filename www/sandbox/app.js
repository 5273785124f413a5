// The sandbox page: a redis-cli in xterm.js over one RESP connection to the engine in this
// tab, a key browser, a persistence indicator with save / export / import, and a live view
// of every PUBLISH. Data lives in IndexedDB (saved every second after a change, and when the
// page hides); the service worker keeps the page working offline.
import { Cinnabar, indexedDbAdapter, DatabaseLockedError } from '../src/browser.js';
import { splitArgs, RespReader, formatReply, parseDocs, hintFor } from './format.js';

const $ = (id) => document.getElementById(id);
const encoder = new TextEncoder();

function encodeCommand(args) {
  const parts = [encoder.encode(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = encoder.encode(a);
    parts.push(encoder.encode(`$${b.length}\r\n`), b, encoder.encode('\r\n'));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ------------------------------------------------------------------------------- the database

async function openDb() {
  const options = { persistence: indexedDbAdapter('sandbox'), autosave: [{ seconds: 1, changes: 1 }] };
  try {
    return await Cinnabar.open(options);
  } catch (e) {
    if (!(e instanceof DatabaseLockedError)) throw e;
    const banner = $('banner');
    banner.hidden = false;
    banner.textContent = 'This database is open in another tab: this tab has a copy, and its changes are not saved.';
    return Cinnabar.open({ ...options, lock: 'shared' });
  }
}

const db = await openDb();
window.sandbox = { db };

// ------------------------------------------------------------------------------- the terminal

const term = new window.Terminal({
  cursorBlink: true,
  convertEol: true,
  fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
  fontSize: 14,
  theme: { background: '#16181d' },
  scrollback: 5000,
});
term.open($('terminal'));
function fit() {
  const el = $('terminal');
  const cols = Math.max(40, Math.floor(el.clientWidth / 8.5));
  const rows = Math.max(10, Math.floor(el.clientHeight / 17));
  term.resize(cols, rows);
}
fit();
window.addEventListener('resize', fit);
window.sandbox.term = term;

let docs = new Map();
try {
  docs = parseDocs(await db.command('COMMAND', 'DOCS'));
} catch (e) {
  console.error('COMMAND DOCS', e);
}
const names = [...docs.keys()].sort();

const history = JSON.parse(localStorage.getItem('cinnabar.history') ?? '[]');
let histPos = history.length;
let line = '';
let cursor = 0;
let dbIndex = 0;
let waiting = false;
let subscribed = false;
let conn;
const reader = new RespReader();

function prompt() {
  return `cinnabar${dbIndex ? `[${dbIndex}]` : ''}> `;
}

/** The grey hint after the line, as redis-cli shows it: the whole syntax after a bare
 * command name, the arguments still to type after a space. */
function currentHint() {
  const args = splitArgs(line) ?? [];
  if (!args.length) return '';
  const doc = docs.get(args[0].toUpperCase());
  if (!doc) return '';
  if (line.endsWith(' ')) return hintFor(doc, args.length - 1);
  return args.length === 1 ? ` ${hintFor(doc, 0)}` : '';
}

// The input may span several rows: remember where the cursor sits in the rendered block
// (its row offset from the prompt's row) so the next render starts from the prompt's row.
let cursorRow = 0;

function render(showHint, cursorAtEnd) {
  const cols = term.cols;
  let hint = showHint ? currentHint() : '';
  // A hint never wraps: it is cut at the end of the row it starts on.
  const used = (prompt().length + line.length) % cols;
  hint = hint.slice(0, Math.max(0, cols - used - 1));
  let out = cursorRow > 0 ? `\x1b[${cursorRow}A` : '';
  out += `\r\x1b[J${prompt()}${line}`;
  if (hint) out += `\x1b[90m${hint}\x1b[0m`;
  const total = prompt().length + line.length + hint.length;
  // After writing `total` cells the cursor is on row floor(total / cols), except when the
  // text ends exactly at a row's end: the terminal then waits on that row's last cell.
  const endRow = total > 0 && total % cols === 0 ? total / cols - 1 : Math.floor(total / cols);
  const target = prompt().length + (cursorAtEnd ? line.length : cursor);
  let targetRow = Math.floor(target / cols);
  if (targetRow > endRow) {
    out += '\r\n';
    targetRow = endRow + 1;
  } else {
    if (endRow > targetRow) out += `\x1b[${endRow - targetRow}A`;
    out += '\r';
    if (target % cols) out += `\x1b[${target % cols}C`;
  }
  cursorRow = targetRow;
  term.write(out);
  const args = splitArgs(line) ?? [];
  const doc = args.length ? docs.get(args[0].toUpperCase()) : null;
  $('hint').textContent = doc ? `${args[0].toUpperCase()} ${hintFor(doc)} — ${doc.summary ?? ''}` : '';
}

function redraw(showHint = true) {
  render(showHint, false);
}

/** Ends the input block (the line as typed, no hint) and moves below it. */
function finishLine(suffix = '') {
  render(false, true);
  term.write(`${suffix}\r\n`);
  cursorRow = 0;
}

function print(text) {
  term.write(text);
}

/** A message while the prompt is shown (save, import): below the input, then the prompt again. */
function notify(text) {
  finishLine();
  print(`${text}\r\n`);
  redraw();
}

function connect() {
  const c = db.connect((bytes) => received(bytes));
  conn = c;
  // QUIT, CLIENT KILL, a protocol error: the session is over. A new one is opened, as
  // redis-cli reconnects, once whatever ended it has been printed.
  c.onEnd = () => {
    if (!reconnecting) queueMicrotask(() => c === conn && reopen(true));
  };
}
let reconnecting = false;

function reopen(announce) {
  reconnecting = true;
  if (!conn.ended) conn.close();
  reconnecting = false;
  reader.buf = new Uint8Array(0);
  const wasWaiting = waiting || subscribed;
  waiting = false;
  subscribed = false;
  dbIndex = 0;
  connect();
  if (announce) {
    if (!wasWaiting) finishLine();
    print('(the connection was closed: a new one is open)\r\n');
  }
  redraw();
}

function received(bytes) {
  reader.push(bytes);
  let r;
  while ((r = reader.next()) !== undefined) {
    print(formatReply(r));
    if (!subscribed && waiting) {
      waiting = false;
      afterCommand();
    }
  }
}

function afterCommand() {
  if (!waiting) {
    redraw();
    scheduleRefresh();
  }
}

const HELP = `Cinnabar sandbox: type Redis commands as in redis-cli.
  help <command>   the command's arguments and summary (from COMMAND DOCS)
  clear            clears the screen
  Tab completes command names, Up/Down walk the history, Ctrl-C cancels a blocked command.
`;

function run(input) {
  const trimmed = input.trim();
  if (!trimmed) return redraw();
  history.push(trimmed);
  if (history.length > 500) history.shift();
  localStorage.setItem('cinnabar.history', JSON.stringify(history));
  histPos = history.length;
  const args = splitArgs(trimmed);
  if (args === null) {
    print('Invalid argument(s)\n');
    return redraw();
  }
  const cmd = args[0].toLowerCase();
  if (cmd === 'clear') {
    term.clear();
    return redraw();
  }
  if (cmd === 'help') {
    if (args.length === 1) print(HELP);
    else {
      const doc = docs.get(args.slice(1).join(' ').toUpperCase()) ?? docs.get(args[1].toUpperCase());
      if (doc) print(`\n  \x1b[1m${args[1].toUpperCase()} ${hintFor(doc)}\x1b[0m\n  \x1b[33msummary:\x1b[0m ${doc.summary ?? ''}\n  \x1b[33msince:\x1b[0m ${doc.since ?? ''}\n  \x1b[33mgroup:\x1b[0m ${doc.group ?? ''}\n\n`);
      else print(`No help for ${args[1]}\n`);
    }
    return redraw();
  }
  waiting = true;
  const out = conn.write(encodeCommand(args));
  if (cmd === 'select' && args.length === 2) {
    // The prompt follows the session's database once SELECT succeeds.
    const peek = new RespReader();
    peek.push(out);
    if (peek.next()?.type === 'status') dbIndex = Number(args[1]);
  }
  if (['subscribe', 'psubscribe', 'ssubscribe'].includes(cmd)) {
    subscribed = true;
    print('Reading messages... (press Ctrl-C to quit)\n');
  }
  received(out);
  if (waiting && subscribed) waiting = false;
}

function cancel() {
  // As redis-cli: Ctrl-C while a command waits (or in subscribe mode) drops the connection.
  print('\r\n');
  reopen(false);
}

term.onData((data) => {
  if (waiting || subscribed) {
    if (data === '\x03') cancel();
    return;
  }
  if (data === '\r') {
    const input = line;
    finishLine();
    line = '';
    cursor = 0;
    run(input);
    return;
  }
  if (data === '\x7f' || data === '\b') {
    if (cursor > 0) {
      line = line.slice(0, cursor - 1) + line.slice(cursor);
      cursor--;
    }
  } else if (data === '\x1b[A') {
    if (histPos > 0) line = history[--histPos];
    cursor = line.length;
  } else if (data === '\x1b[B') {
    if (histPos < history.length) histPos++;
    line = history[histPos] ?? '';
    cursor = line.length;
  } else if (data === '\x1b[D') {
    cursor = Math.max(0, cursor - 1);
  } else if (data === '\x1b[C') {
    cursor = Math.min(line.length, cursor + 1);
  } else if (data === '\x1b[H' || data === '\x01') {
    cursor = 0;
  } else if (data === '\x1b[F' || data === '\x05') {
    cursor = line.length;
  } else if (data === '\x03') {
    finishLine('^C');
    line = '';
    cursor = 0;
  } else if (data === '\x0c') {
    term.clear();
  } else if (data === '\t') {
    const word = line.split(' ')[0].toUpperCase();
    if (!line.includes(' ') && word) {
      const matches = names.filter((n) => n.startsWith(word) && !n.includes('|'));
      if (matches.length === 1) line = `${matches[0]} `;
      else if (matches.length > 1) {
        let common = matches[0];
        for (const m of matches) while (!m.startsWith(common)) common = common.slice(0, -1);
        if (common.length > word.length) line = common;
        else {
          finishLine();
          print(`${matches.slice(0, 40).join('  ')}${matches.length > 40 ? '  …' : ''}\r\n`);
        }
      }
      cursor = line.length;
    }
  } else if (data.length >= 1 && !data.startsWith('\x1b') && data >= ' ') {
    line = line.slice(0, cursor) + data + line.slice(cursor);
    cursor += data.length;
  }
  redraw();
});

connect();
print('\x1b[1;31mCinnabar\x1b[0m: Redis compiled to WebAssembly, running in this tab. Type \x1b[1mhelp\x1b[0m.\n');
redraw();
term.focus();

// ------------------------------------------------------------------------------- key browser

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 30);
}

function show(v) {
  if (v === null || v === undefined) return '';
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (Array.isArray(v)) return JSON.stringify(v);
  if (v instanceof Map) return JSON.stringify(Object.fromEntries(v));
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

async function preview(key, type) {
  switch (type) {
    case 'string': return db.command('GETRANGE', key, 0, 199);
    case 'hash': return db.hgetall(key);
    case 'list': return db.command('LRANGE', key, 0, 9);
    case 'set': return db.command('SRANDMEMBER', key, 10);
    case 'zset': return db.command('ZRANGE', key, 0, 9, 'WITHSCORES');
    case 'stream': return `${await db.command('XLEN', key)} entries`;
    default: return '';
  }
}

function ttlText(ms) {
  if (ms < 0) return '';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms / 1000)}s`;
}

async function refresh() {
  if (db.closed) return;
  // The browser shows the database the terminal has selected; the page's own session
  // follows it (nothing else the page runs on that session depends on its database).
  const shown = dbIndex;
  const [, listed, size] = await db.pipeline([['SELECT', shown], ['KEYS', '*'], ['DBSIZE']]);
  if (!Array.isArray(listed)) return;
  const keys = listed.map(String).sort().slice(0, 200);
  // Types and TTLs of every shown key in one engine call.
  const meta = await db.pipeline(keys.flatMap((k) => [['TYPE', k], ['PTTL', k]]));
  const rows = [];
  for (const [i, k] of keys.entries()) {
    const type = meta[2 * i];
    if (type === 'none' || type instanceof Error) continue;
    const ttl = meta[2 * i + 1];
    let value = '';
    try {
      value = show(await preview(k, type));
    } catch (e) {
      value = `(error) ${e.message}`;
    }
    rows.push({ k, type, ttl, value });
  }
  const body = $('keys').querySelector('tbody');
  body.replaceChildren(
    ...rows.map(({ k, type, ttl, value }) => {
      const tr = document.createElement('tr');
      tr.dataset.key = k;
      for (const [cls, text] of [['key', k], ['type', type], ['ttl', ttlText(ttl)], ['value', value]]) {
        const td = document.createElement('td');
        td.className = cls;
        td.textContent = text;
        td.title = text;
        tr.append(td);
      }
      return tr;
    }),
  );
  $('key-count').textContent = `(${size} in db ${shown}${size > keys.length ? `, first ${keys.length} shown` : ''})`;
  renderStatus();
}
// TTLs count down and keys expire without commands: refresh now and then.
setInterval(refresh, 1000);
refresh();

// ------------------------------------------------------------------------------- pub/sub

await db.psubscribe('*', (message, channel) => {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${channel}: ${message instanceof Uint8Array ? `<${message.length} bytes>` : message}`;
  const list = $('messages');
  list.append(li);
  while (list.children.length > 200) list.firstChild.remove();
  li.scrollIntoView({ block: 'nearest' });
});

// ------------------------------------------------------------------------------- persistence

function renderStatus() {
  if (db.closed) return;
  const s = db.status;
  const el = $('persist-state');
  let state;
  let label;
  if (!s.owner) [state, label] = ['copy', 'not saved (open in another tab)'];
  else if (s.saving) [state, label] = ['saving', 'saving…'];
  else if (s.error) [state, label] = ['error', `save failed: ${s.error}`];
  else if (s.dirty > 0) [state, label] = ['unsaved', `unsaved changes (${s.dirty})`];
  else [state, label] = ['saved', 'saved'];
  el.dataset.state = state;
  el.textContent = label;
  $('persist-last').textContent = s.lastSave ? `last save ${new Date(s.lastSave).toLocaleTimeString()}` : '';
}
db.onStatus(renderStatus);
renderStatus();

$('save').addEventListener('click', async () => {
  try {
    await db.save();
  } catch (e) {
    notify(`(error) ${e.message}`);
  }
  renderStatus();
});

$('export').addEventListener('click', () => {
  const bytes = db.exportRdb();
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'dump.rdb';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});

function readWithProgress(file) {
  const drop = $('drop');
  const bar = $('progress');
  drop.hidden = false;
  bar.value = 0;
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onprogress = (e) => {
      if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total;
    };
    r.onload = () => {
      bar.value = 100;
      resolve(new Uint8Array(r.result));
    };
    r.onerror = () => reject(r.error);
    r.readAsArrayBuffer(file);
  });
}

async function importFile(file) {
  try {
    const bytes = await readWithProgress(file);
    const n = await db.importRdb(bytes);
    notify(`Imported ${file.name}: ${n} keys.`);
  } catch (e) {
    notify(`(error) ${e.message}`);
  } finally {
    $('drop').hidden = true;
    refresh();
  }
}
window.sandbox.importFile = importFile;

$('import').addEventListener('change', (e) => {
  const f = e.target.files[0];
  if (f) importFile(f);
  e.target.value = '';
});
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  $('drop').hidden = false;
});
document.addEventListener('dragleave', (e) => {
  if (e.target === $('drop')) $('drop').hidden = true;
});
document.addEventListener('drop', (e) => {
  e.preventDefault();
  const f = e.dataTransfer?.files?.[0];
  if (f) importFile(f);
  else $('drop').hidden = true;
});

// ------------------------------------------------------------------------------- offline

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('service worker', e));
}

window.sandbox.ready = true;
