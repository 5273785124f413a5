// Surviving a trap (src/recovery.js): in wasm a panic is a trap, and the package re-creates
// the engine from its last snapshot and the writes acknowledged since. DEBUG PANIC (allowed
// by `enable-debug-command yes`, a startup directive: `conf`) panics on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { Cinnabar, memoryAdapter, ReplyError, ioredisConnector } from '../src/index.js';
import { withTimeout } from '../src/recovery.js';
import { fakeClock, settle } from './helpers.mjs';

const DEBUG = { 'enable-debug-command': 'yes' };
const RECOVERED = /^ERR internal error: the engine trapped \(a bug\) and was recovered from its last snapshot and the (\d+) acknowledged writes since$/;

/** Runs DEBUG PANIC (or `argv`) and checks it answers the recovery error; its write count. */
async function trap(db, argv = ['DEBUG', 'PANIC']) {
  const err = await db.command(...argv).then(
    (r) => assert.fail(`${argv.join(' ')} answered ${JSON.stringify(r)} instead of trapping`),
    (e) => e,
  );
  assert.ok(err instanceof ReplyError, `${err}`);
  const m = RECOVERED.exec(err.message);
  assert.ok(m, err.message);
  return Number(m[1]);
}

/** Writes of every kind the tests check; `check(db)` asserts they are all there. */
async function writeEverything(db, clock) {
  await db.set('str', 'value');
  await db.set('ttl', 'lives', { PX: 60_000 });
  await db.set('short', 'dies', { PX: 1_000 });
  await db.command('RPUSH', 'list', 'a', 'b', 'c', 'd');
  await db.command('LPOP', 'list');
  await db.hset('hash', { f1: 'v1', f2: 'v2', f3: 'v3' });
  await db.hdel('hash', 'f2');
  await db.expire('hash', 500);
  await db.incrby('counter', 41);
  await db.command('MULTI');
  await db.command('INCR', 'counter');
  await db.command('SADD', 'set', 'x', 'y');
  await db.command('ZADD', 'zset', 1.5, 'm');
  assert.deepEqual(await db.command('EXEC'), [42, 2, 1]);
  await db.command('SELECT', 5);
  await db.set('in5', 'five');
  await db.command('SELECT', 0);
  await db.del('str-deleted-never-existed');
  clock.advance(2_000); // 'short' is past its deadline
}

async function check(db, clock) {
  assert.equal(await db.get('str'), 'value');
  assert.equal(await db.get('ttl'), 'lives');
  const pttl = await db.pttl('ttl');
  assert.ok(pttl > 0 && pttl <= 58_000, `ttl kept its deadline: ${pttl}`);
  assert.equal(await db.get('short'), null, 'an expired key stays expired');
  assert.deepEqual(await db.lrange('list', 0, -1), ['b', 'c', 'd']);
  assert.deepEqual(await db.hgetall('hash'), { f1: 'v1', f3: 'v3' });
  const httl = await db.ttl('hash');
  assert.ok(httl > 490 && httl <= 498, `hash ttl: ${httl}`);
  assert.equal(await db.get('counter'), '42');
  assert.deepEqual((await db.smembers('set')).sort(), ['x', 'y']);
  assert.equal(await db.zscore('zset', 'm'), '1.5');
  assert.deepEqual(await db.pipeline([['SELECT', 5], ['GET', 'in5'], ['SELECT', 0]]), ['OK', 'five', 'OK']);
  void clock;
}

test('DEBUG PANIC needs enable-debug-command, which only startup config sets', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  await assert.rejects(db.command('DEBUG', 'PANIC'), /DEBUG command not allowed/);
  await assert.rejects(db.command('CONFIG', 'SET', 'enable-debug-command', 'yes'), /can't set immutable config/);
  await db.close();
  const bad = Cinnabar.open({ hz: 0, conf: 'enable-debug-command maybe' });
  await assert.rejects(bad, /config line 1 .*enable-debug-command/);
  const ok = await Cinnabar.open({ hz: 0, conf: 'enable-debug-command yes\nsave ""' });
  assert.deepEqual(await ok.command('CONFIG', 'GET', 'enable-debug-command'), ['enable-debug-command', 'yes']);
  await ok.close();
});

test('a trap loses no acknowledged write: strings, a list, a hash, TTLs, MULTI/EXEC, another db', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ hz: 0, clock, conf: DEBUG });
  const logs = [];
  db.onLog((level, message) => logs.push([level, message]));
  await writeEverything(db, clock);
  const writes = await trap(db);
  assert.equal(writes, 13, 'the journal holds every write (the DEL of a missing key wrote nothing)');
  await check(db, clock);
  assert.equal(db.status.recoveries, 1);
  assert.match(db.status.lastTrap, /RuntimeError: unreachable \(panicked at .*DEBUG PANIC called/s);
  assert.equal(logs.length, 1);
  assert.equal(logs[0][0], 3);
  assert.match(logs[0][1], /the engine trapped .* and was recovered from its last snapshot \(0 bytes\) and the \d+ acknowledged writes since/s);
  // The database goes on as before, writes included.
  await db.set('after', '1');
  assert.equal(await db.get('after'), '1');
  await db.close();
});

test('the trapping command leaves nothing behind: its transaction, its pipeline', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ hz: 0, clock, conf: DEBUG });
  await db.set('before', '1');
  // A transaction that writes, then traps at EXEC: none of it happened.
  await db.command('MULTI');
  await db.command('SET', 'doomed', 'x');
  await db.command('INCR', 'before');
  await db.command('DEBUG', 'PANIC');
  await trap(db, ['EXEC']);
  assert.equal(await db.get('doomed'), null);
  assert.equal(await db.get('before'), '1');
  // The transaction is over (the new session never saw MULTI).
  await assert.rejects(db.command('EXEC'), /EXEC without MULTI/);
  // A pipeline is one engine call: the commands before the trap went with it, and every
  // command of it answers the recovery error.
  const replies = await db.pipeline([['SET', 'p1', '1'], ['DEBUG', 'PANIC'], ['SET', 'p2', '2']]);
  assert.equal(replies.length, 3);
  for (const r of replies) assert.match(r.message, RECOVERED);
  assert.deepEqual(await db.command('MGET', 'p1', 'p2', 'before'), [null, null, '1']);
  // Eval: a script's writes are in the journal as the commands it ran.
  await db.eval("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])", ['fromlua', 'luacount'], ['v']);
  await trap(db);
  assert.deepEqual(await db.command('MGET', 'fromlua', 'luacount'), ['v', '1']);
  assert.equal(db.status.recoveries, 3);
  await db.close();
});

test('after a save through memoryAdapter the base is the saved snapshot, and the adapter gets what came after', async () => {
  const clock = fakeClock();
  const store = memoryAdapter();
  const db = await Cinnabar.open({ hz: 0, clock, conf: DEBUG, persistence: store, autosave: false });
  await db.set('saved', 'in the snapshot');
  await db.command('RPUSH', 'list', 'a');
  await db.save();
  assert.equal(db.status.journal, 0, 'a save starts the journal over');
  const saved = store.peek();
  await db.set('unsaved', 'only in the journal', { EX: 100 });
  await db.command('RPUSH', 'list', 'b');
  await db.hset('hash', { f: 'v' });
  assert.ok(db.status.journal > 0);
  const writes = await trap(db);
  assert.equal(writes, 3);
  assert.equal(await db.get('saved'), 'in the snapshot');
  assert.equal(await db.get('unsaved'), 'only in the journal');
  assert.ok((await db.ttl('unsaved')) > 95);
  assert.deepEqual(await db.lrange('list', 0, -1), ['a', 'b']);
  assert.deepEqual(await db.hgetall('hash'), { f: 'v' });
  // The writes the adapter lacked are saved right after the recovery.
  await settle(5);
  await db.saving;
  assert.notEqual(store.peek(), saved);
  await db.close();
  const again = await Cinnabar.open({ hz: 0, clock, persistence: store });
  assert.equal(await again.get('unsaved'), 'only in the journal');
  assert.deepEqual(await again.lrange('list', 0, -1), ['a', 'b']);
  await again.close();
});

test('past max(1 MB, the last base) the journal becomes an in-memory base, and a trap after it loses nothing', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ hz: 0, clock, conf: DEBUG });
  // Values LZF cannot shrink, so the base is as large as the data.
  let seed = 7;
  const noise = (n) => Array.from({ length: n }, () => String.fromCharCode(33 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 90))).join('');
  const big = noise(32 * 1024);
  for (let i = 0; i < 40; i++) await db.set(`big:${i}`, `${i}:${big}`);
  await settle(); // the rotation runs in a microtask after the call that crossed the limit
  assert.ok(db.base && db.base.length > 1_000_000, `an in-memory base was taken: ${db.base?.length}`);
  // Taken once the journal passed 1 MB (32 of the 40 values): it holds only what came after.
  assert.ok(db.status.journal > 0 && db.status.journal < 10 * 33 * 1024, `the journal started over: ${db.status.journal}`);
  const firstBase = db.base;
  await db.set('after-base', '1', { PX: 30_000 });
  await db.command('DEL', 'big:0');
  await db.command('APPEND', 'big:1', '!');
  const writes = await trap(db);
  assert.equal(writes, 8 + 3, 'the 8 values after the base and the 3 writes since');
  assert.equal(db.base, firstBase);
  assert.equal(await db.get('big:0'), null);
  assert.equal(await db.get('big:1'), `1:${big}!`);
  assert.equal(await db.get('big:39'), `39:${big}`);
  assert.equal(await db.dbsize(), 40);
  assert.ok((await db.pttl('after-base')) > 29_000);
  // The next rotation waits for max(1 MB, the base's size) of journal.
  assert.equal(db.journal.limit, Math.max(1 << 20, firstBase.length));
  await db.close();
});

test('pub/sub subscriptions keep delivering after a recovery, and unsubscribing still works', async () => {
  const db = await Cinnabar.open({ hz: 0, conf: DEBUG });
  const got = [];
  const off = await db.subscribe('news', (m, ch) => got.push(['news', ch, m]));
  await db.psubscribe('ev:*', (m, ch, p) => got.push(['ev', ch, m, p]));
  assert.equal(await db.publish('news', 'one'), 1);
  await trap(db);
  assert.equal(await db.publish('news', 'two'), 1);
  assert.equal(await db.publish('ev:x', 'three'), 1);
  await settle();
  assert.deepEqual(got, [['news', 'news', 'one'], ['news', 'news', 'two'], ['ev', 'ev:x', 'three', 'ev:*']]);
  await off();
  assert.equal(await db.publish('news', 'four'), 0);
  assert.deepEqual(await db.command('PUBSUB', 'NUMPAT'), 1);
  await db.close();
});

test('a pending blocking wait is run again on the new engine, with the time it had left', async () => {
  const db = await Cinnabar.open({ hz: 0, conf: DEBUG });
  const forever = db.blpop('jobs', 0);
  const soon = db.command('BLPOP', 'never', 0.4);
  const started = Date.now();
  await settle(20);
  await trap(db);
  await db.rpush('jobs', 'j1');
  assert.deepEqual(await forever, ['jobs', 'j1']);
  assert.equal(await soon, null);
  const took = Date.now() - started;
  assert.ok(took < 1_200, `the timeout kept its deadline: ${took} ms`);
  assert.equal(await db.llen('jobs'), 0, 'the re-issued pop is in the journal');
  await trap(db);
  assert.equal(await db.llen('jobs'), 0);
  await db.close();
});

test('withTimeout finds each blocking command’s timeout', () => {
  assert.deepEqual(withTimeout(['BLPOP', 'a', 'b', '5'], 'blpop', 1500), ['BLPOP', 'a', 'b', '1.5']);
  assert.deepEqual(withTimeout(['BLMOVE', 's', 'd', 'LEFT', 'RIGHT', 3], 'blmove', 250), ['BLMOVE', 's', 'd', 'LEFT', 'RIGHT', '0.25']);
  assert.deepEqual(withTimeout(['BZMPOP', '9', '1', 'z', 'MIN'], 'bzmpop', -5), ['BZMPOP', '0.001', '1', 'z', 'MIN']);
  assert.deepEqual(withTimeout(['XREAD', 'COUNT', 1, 'BLOCK', 5000, 'STREAMS', 'block', '$'], 'xread', 999.2), ['XREAD', 'COUNT', 1, 'BLOCK', '1000', 'STREAMS', 'block', '$']);
  assert.deepEqual(withTimeout(['XREAD', 'STREAMS', 'block', '0'], 'xread', 10), ['XREAD', 'STREAMS', 'block', '0']);
});

test('configuration, users and the default session (db, protocol, login) survive a recovery', async () => {
  const db = await Cinnabar.open({ hz: 0, conf: { ...DEBUG, 'rename-command': 'FLUSHALL ""', databases: 20 }, maxmemory: '64mb' });
  await db.command('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
  await db.command('CONFIG', 'SET', 'hash-max-listpack-entries', '4');
  await db.command('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
  await db.command('ACL', 'SETUSER', 'alice', 'on', '>secret', '~*', '+@all');
  await db.command('AUTH', 'alice', 'secret');
  await db.command('SELECT', 17);
  await db.command('HELLO', 3);
  await db.hset('h', { a: '1' });
  await trap(db);
  const get = async (name) => (await db.command('CONFIG', 'GET', name)).get(name);
  assert.equal(await get('maxmemory'), String(64 * 1024 * 1024));
  assert.equal(await get('maxmemory-policy'), 'allkeys-lru');
  assert.equal(await get('hash-max-listpack-entries'), '4');
  assert.equal(await get('databases'), '20');
  assert.equal(await get('enable-debug-command'), 'yes');
  assert.ok((await db.command('ACL', 'USERS')).includes('alice'));
  assert.equal(await db.command('ACL', 'WHOAMI'), 'alice');
  assert.deepEqual(await db.command('HGETALL', 'h'), new Map([['a', '1']]), 'RESP3 and db 17 again');
  await assert.rejects(db.command('FLUSHALL'), /unknown command/);
  await db.close();
});

test('RESP connections are closed with an error; their clients reconnect and find the data', async () => {
  const db = await Cinnabar.open({ hz: 0, conf: DEBUG });
  const conn = db.connect(() => {});
  let ended = false;
  let again = null;
  // As redis-cli (and the sandbox) do: a new connection as soon as the old one ends.
  conn.onEnd = () => {
    ended = true;
    again = db.connect(() => {});
  };
  assert.equal(new TextDecoder().decode(conn.write('*3\r\n$3\r\nSET\r\n$4\r\nresp\r\n$1\r\n1\r\n')), '+OK\r\n');
  const out = new TextDecoder().decode(conn.write('*1\r\n$4\r\nPING\r\n*2\r\n$5\r\nDEBUG\r\n$5\r\nPANIC\r\n'));
  assert.match(out, /^-ERR internal error: the engine trapped \(a bug\).*this connection is closed\r\n$/);
  await db.recovering;
  await settle();
  assert.ok(ended, 'the connection ended');
  assert.equal(conn.write('PING\r\n').length, 0);
  // The new connection finds what the old one wrote.
  assert.equal(new TextDecoder().decode(again.write('*2\r\n$3\r\nGET\r\n$4\r\nresp\r\n')), '$1\r\n1\r\n');
  again.close();
  await db.close();
});

test('every database on the instance is rebuilt when one traps', async () => {
  const a = await Cinnabar.open({ hz: 0, conf: DEBUG });
  const b = await Cinnabar.open({ hz: 0 });
  await a.set('ka', 'A');
  await b.set('kb', 'B');
  const bWait = b.blpop('bq', 0);
  await settle(5);
  await trap(a);
  assert.equal(await a.get('ka'), 'A');
  assert.equal(await b.get('kb'), 'B');
  assert.equal(b.status.recoveries, 1);
  await b.rpush('bq', 'v');
  assert.deepEqual(await bWait, ['bq', 'v']);
  // A database opened after the recovery is on the new instance too.
  const c = await Cinnabar.open({ hz: 0 });
  await c.set('kc', 'C');
  await trap(a);
  assert.deepEqual([await a.get('ka'), await b.get('kb'), await c.get('kc')], ['A', 'B', 'C']);
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('the database keeps working across repeated traps', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ hz: 0, clock, conf: DEBUG });
  for (let i = 0; i < 6; i++) {
    await db.set(`k${i}`, String(i));
    await db.command('RPUSH', 'log', i);
    if (i % 2) await db.save(); // with no adapter a save still makes the base
    await trap(db);
    const keys = Array.from({ length: i + 1 }, (_, j) => `k${j}`);
    assert.deepEqual(await db.mget(keys), keys.map((_, j) => String(j)));
    assert.equal(await db.llen('log'), i + 1);
  }
  assert.equal(db.status.recoveries, 6);
  await db.close();
});

test('control: with its journal dropped a recovery loses the writes (so the tests above can fail)', async () => {
  const db = await Cinnabar.open({ hz: 0, conf: DEBUG });
  await db.set('k', 'v');
  db.journal.len = 0; // what a wrapper that kept no journal would recover from
  const err = await db.command('DEBUG', 'PANIC').catch((e) => e);
  assert.match(err.message, /the 0 acknowledged writes since/);
  assert.equal(await db.get('k'), null);
  await db.close();
});

test('a trap while the wrapper acts on a call’s events leaves that call’s reply standing', async () => {
  const db = await Cinnabar.open({ hz: 0, conf: DEBUG });
  // A RESP connection's pipeline waits behind its BLPOP; the write that serves it runs the
  // rest, DEBUG PANIC included, while the wrapper pumps that connection after the RPUSH.
  const conn = db.connect(() => {});
  const out = conn.write('*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*2\r\n$5\r\nDEBUG\r\n$5\r\nPANIC\r\n');
  assert.equal(out.length, 0, 'the BLPOP waits');
  assert.equal(await db.rpush('q', 'x'), 1, 'the RPUSH was acknowledged; its reply stands');
  assert.ok(db.status.recovering, 'the recovery runs after it');
  await db.set('next', 'waits for the recovery');
  assert.equal(db.status.recoveries, 1);
  assert.ok(conn.ended);
  // The pop that served the BLPOP happened in the acknowledged RPUSH call: replayed too.
  assert.equal(await db.llen('q'), 0);
  assert.equal(await db.get('next'), 'waits for the recovery');
  await db.close();
});

test('a rebuild that traps again closes that database; the others on the instance are rebuilt', async () => {
  // B first: rebuilt on the instance where A's replay traps, then again on the next one.
  const b = await Cinnabar.open({ hz: 0 });
  const a = await Cinnabar.open({ hz: 0, conf: DEBUG });
  await a.set('ka', 'A');
  await b.set('kb', 'B');
  const aWait = a.blpop('never', 0);
  await settle(5);
  // A write whose replay traps (here: one forged into A's journal).
  const poison = new TextEncoder().encode('*2\r\n$5\r\nDEBUG\r\n$5\r\nPANIC\r\n');
  a.journal.append(poison, 0, poison.length);
  const logs = [];
  a.onLog((level, message) => logs.push(message));
  const err = await a.command('DEBUG', 'PANIC').catch((e) => e);
  assert.match(err.message, /^ERR internal error: the engine trapped \(a bug\) and could not be recovered: /);
  assert.ok(a.closed);
  await assert.rejects(a.get('ka'), /could not be recovered/);
  await assert.rejects(aWait, /could not be recovered/);
  assert.match(a.status.error, /could not be recovered/);
  assert.match(logs[0], /could not be recovered/);
  // B went through both instances and is whole (one recovery, in two rounds).
  assert.equal(await b.get('kb'), 'B');
  assert.equal(b.status.recoveries, 1);
  await b.set('kb2', 'B2');
  assert.equal(await b.get('kb2'), 'B2');
  await b.close();
  await a.close();
});

test('waits on the default session run again too: a pipeline’s BLPOP, a command held by CLIENT PAUSE', async () => {
  const db = await Cinnabar.open({ hz: 0, conf: DEBUG });
  const resp = (conn, ...argv) => new TextDecoder().decode(conn.write(argv.map((a) => `$${a.length}\r\n${a}\r\n`).reduce((s, a) => s + a, `*${argv.length}\r\n`)));
  // A pipeline whose BLPOP waits on the default session, holding the GET behind it.
  const piped = db.pipeline([['BLPOP', 'pq', '0'], ['GET', 'after']]);
  await settle(5);
  // The trap comes through a RESP connection (the default session is busy).
  assert.match(resp(db.connect(() => {}), 'DEBUG', 'PANIC'), /^-ERR internal error: the engine trapped/);
  await db.recovering;
  assert.equal(resp(db.connect(() => {}), 'SET', 'after', 'a'), '+OK\r\n');
  assert.equal(resp(db.connect(() => {}), 'RPUSH', 'pq', 'v'), ':1\r\n');
  assert.deepEqual(await piped, [['pq', 'v'], 'a']);
  // A write held by CLIENT PAUSE WRITE: after the recovery the pause is gone and it runs.
  assert.equal(await db.command('CLIENT', 'PAUSE', 60_000, 'WRITE'), 'OK');
  const held = db.set('paused', 'ran');
  await settle(5);
  assert.match(resp(db.connect(() => {}), 'DEBUG', 'PANIC'), /^-ERR internal error: the engine trapped/);
  assert.equal(await held, 'OK');
  assert.equal(await db.get('paused'), 'ran');
  assert.equal(db.status.recoveries, 2);
  await db.close();
});

test('journal: false keeps no journal: a trap rebuilds from the last snapshot only', async () => {
  const adapter = memoryAdapter();
  const db = await Cinnabar.open({ conf: DEBUG, persistence: adapter, autosave: false, journal: false });
  await db.set('saved', 'yes');
  await db.command('SAVE');
  await db.set('unsaved', 'lost');
  assert.equal(db.status.journal, 0, 'no journal is kept');
  assert.equal(await trap(db), 0);
  assert.equal(await db.get('saved'), 'yes');
  assert.equal(await db.get('unsaved'), null);
  // Still a working database, still without a journal.
  await db.set('after', 'ok');
  assert.equal(await db.get('after'), 'ok');
  assert.equal(db.status.journal, 0);
  await db.close();
});
