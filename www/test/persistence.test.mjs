// Snapshots: RDB bytes from the engine through an adapter. Save points, SAVE and BGSAVE,
// the file adapter's atomic rename, corrupt snapshots refused, and dump.rdb files moving
// between redis-server and the package both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { Cinnabar, memoryAdapter, fileAdapter, customAdapter, ReplyError } from '../src/index.js';
import { fakeClock, settle, startRedisServer } from './helpers.mjs';

const run = promisify(execFile);

test('SAVE stores a snapshot through the adapter and a new database opens from it', async () => {
  const store = memoryAdapter();
  const db = await Cinnabar.open({ persistence: store, hz: 0 });
  await db.set('k', 'v');
  await db.hset('h', { f: '1' });
  await db.set('ttl', 'x', { EX: 1000 });
  assert.ok(db.status.dirty >= 3);
  assert.equal(await db.command('SAVE'), 'OK');
  assert.equal(db.status.dirty, 0);
  assert.ok(db.status.lastSave > 0);
  const bytes = store.peek();
  assert.equal(Buffer.from(bytes.slice(0, 9)).toString(), 'REDIS0010');
  await db.close();
  const again = await Cinnabar.open({ persistence: store, hz: 0 });
  assert.equal(await again.get('k'), 'v');
  assert.deepEqual(await again.hgetall('h'), { f: '1' });
  assert.ok((await again.ttl('ttl')) > 990);
  assert.equal(again.status.dirty, 0);
  await again.close();
});

test('save points ({ seconds, changes }) save from the timer once met', async () => {
  const clock = fakeClock();
  const store = memoryAdapter();
  const saves = [];
  const orig = store.save;
  store.save = async (b) => {
    saves.push(b.length);
    return orig(b);
  };
  const db = await Cinnabar.open({ persistence: store, autosave: [{ seconds: 10, changes: 3 }], clock, hz: 0 });
  assert.equal(await db.command('CONFIG', 'GET', 'save').then((r) => r[1]), '10 3');
  await db.set('a', '1');
  await db.set('b', '2');
  clock.advance(11_000);
  db.tick();
  await settle();
  assert.equal(saves.length, 0, 'two changes do not meet the save point');
  await db.set('c', '3');
  db.tick();
  await settle(5);
  assert.equal(saves.length, 1);
  assert.equal(db.status.dirty, 0);
  assert.match(await db.command('INFO', 'persistence'), /rdb_changes_since_last_save:0/);
  await db.close();
});

test('BGSAVE answers at once and the snapshot lands; db.save() waits for it', async () => {
  const store = memoryAdapter();
  let release;
  const gate = new Promise((r) => (release = r));
  const orig = store.save;
  store.save = async (b) => {
    await gate;
    return orig(b);
  };
  const db = await Cinnabar.open({ persistence: store, autosave: false, hz: 0 });
  await db.set('k', 'v');
  assert.equal(await db.command('BGSAVE'), 'Background saving started');
  assert.equal(db.status.saving, true);
  assert.equal(store.peek(), null);
  release();
  await db.save();
  assert.equal(db.status.saving, false);
  assert.ok(store.peek().length > 0);
  await db.close();
});

test('a failing adapter makes SAVE fail with the reason and writes are refused (MISCONF) after a failed BGSAVE', async () => {
  const store = { name: 'broken', load: async () => null, save: async () => { throw new Error('disk full'); } };
  const db = await Cinnabar.open({ persistence: store, autosave: [{ seconds: 3600, changes: 1000 }], hz: 0 });
  await db.set('k', 'v');
  await assert.rejects(() => db.command('SAVE'), (e) => e instanceof ReplyError && /disk full/.test(e.message));
  await db.command('BGSAVE');
  await db.saving;
  await assert.rejects(() => db.set('k2', 'v'), { code: 'MISCONF' });
  assert.equal(db.status.error, 'disk full');
  await db.close();
});

test('a corrupt or truncated snapshot is refused by its checksum and the previous one opens', async () => {
  const store = memoryAdapter();
  const db = await Cinnabar.open({ persistence: store, hz: 0 });
  await db.set('gen', '1');
  await db.save();
  await db.set('gen', '2');
  await db.save();
  await db.close();
  const good = store.peek();
  // One flipped byte in a value: only the CRC64 at the end can tell.
  const flipped = good.slice();
  flipped[good.length - 12] ^= 0x01;
  store._putRaw(flipped);
  const db2 = await Cinnabar.open({ persistence: store, hz: 0 });
  assert.equal(await db2.get('gen'), '1', 'the previous snapshot was opened');
  assert.match(db2.loadError.message, /checksum|RDB/i);
  assert.match(db2.status.error, /refused/);
  await db2.close();
  // Truncated, with no previous snapshot to fall back to: opening fails with a clear error.
  const lone = memoryAdapter();
  lone._putRaw(good.slice(0, good.length - 20));
  await assert.rejects(() => Cinnabar.open({ persistence: lone, hz: 0 }), (e) => e instanceof ReplyError && /bad RDB snapshot/.test(e.message));
  // importRdb of a corrupt file changes nothing.
  const db3 = await Cinnabar.open({ persistence: memoryAdapter(), hz: 0 });
  await db3.set('keep', 'me');
  await assert.rejects(() => db3.importRdb(flipped), /bad RDB snapshot/);
  assert.equal(await db3.get('keep'), 'me');
  await db3.close();
});

test('the file adapter writes through a temp file and a rename', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cinnabar-file-'));
  const path = join(dir, 'dump.rdb');
  const db = await Cinnabar.open({ persistence: fileAdapter(path), hz: 0 });
  await db.rpush('l', 'a', 'b');
  await db.save();
  assert.deepEqual(await readdir(dir), ['dump.rdb'], 'no temp file left behind');
  await db.close({ save: true });
  const db2 = await Cinnabar.open({ persistence: fileAdapter(path), hz: 0 });
  assert.deepEqual(await db2.lrange('l', 0, -1), ['a', 'b']);
  await db2.close();
  await rm(dir, { recursive: true });
});

test('a custom adapter over a key-value store (Durable Object storage / KV shaped)', async () => {
  const kv = new Map();
  const store = () => customAdapter({ get: async (k) => kv.get(k), put: async (k, v) => kv.set(k, v), key: 'snap' });
  const db = await Cinnabar.open({ persistence: store(), hz: 0 });
  await db.sadd('s', 'x');
  await db.save();
  await db.close();
  assert.ok(kv.get('snap') instanceof Uint8Array);
  const db2 = await Cinnabar.open({ persistence: store(), hz: 0 });
  assert.deepEqual(await db2.smembers('s'), ['x']);
  await db2.close();
});

async function redisServer(dir) {
  const server = await startRedisServer(dir);
  const client = new Redis({ port: server.port, host: '127.0.0.1' });
  return {
    client,
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}

test('a dump.rdb written by redis-server opens in the package with the same contents', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cinnabar-redis-'));
  const r = await redisServer(dir);
  try {
    const c = r.client;
    await c.set('str', 'hello');
    await c.set('num', 12345);
    await c.set('ttl', 'x', 'EX', 5000);
    await c.hset('hash', { a: '1', b: '2' });
    await c.rpush('list', 'x', 'y', 'z');
    await c.sadd('set', 'm1', 'm2', 7);
    await c.zadd('zset', 1.5, 'one', 2, 'two');
    await c.xadd('stream', '1-1', 'f', 'v');
    await c.select(2);
    await c.set('in2', 'yes');
    await c.save();
    const rdb = await readFile(join(dir, 'dump.rdb'));
    const db = await Cinnabar.open({ rdb, hz: 0 });
    assert.equal(await db.get('str'), 'hello');
    assert.equal(await db.get('num'), '12345');
    assert.ok((await db.ttl('ttl')) > 4990);
    assert.deepEqual(await db.hgetall('hash'), { a: '1', b: '2' });
    assert.deepEqual(await db.lrange('list', 0, -1), ['x', 'y', 'z']);
    assert.deepEqual((await db.smembers('set')).sort(), ['7', 'm1', 'm2']);
    assert.deepEqual(await db.zrange('zset', 0, -1, { WITHSCORES: true }), ['one', '1.5', 'two', '2']);
    assert.deepEqual(await db.command('XRANGE', 'stream', '-', '+'), [['1-1', ['f', 'v']]]);
    await db.command('SELECT', 2);
    assert.equal(await db.get('in2'), 'yes');
    await db.close();
  } finally {
    await r.stop();
    await rm(dir, { recursive: true });
  }
});

test('a dump.rdb exported by the package passes redis-check-rdb and loads into redis-server', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  await db.set('str', 'from-wasm');
  await db.set('ttl', 'x', { EX: 5000 });
  await db.hset('hash', { f: 'v' });
  await db.rpush('list', '1', '2', '3');
  await db.sadd('set', 'a', 'b');
  await db.zadd('zset', 3, 'c');
  await db.command('XADD', 'stream', '5-1', 'k', 'v');
  for (let i = 0; i < 300; i++) await db.hset('big', `f${i}`, `v${i}`); // a hashtable, not a listpack
  const rdb = db.exportRdb();
  await db.close();
  const dir = await mkdtemp(join(tmpdir(), 'cinnabar-export-'));
  await writeFile(join(dir, 'dump.rdb'), rdb);
  const check = await run('redis-check-rdb', [join(dir, 'dump.rdb')]);
  assert.match(check.stdout, /RDB looks OK!/);
  const r = await redisServer(dir);
  try {
    const c = r.client;
    assert.equal(await c.get('str'), 'from-wasm');
    assert.ok((await c.ttl('ttl')) > 4990);
    assert.deepEqual(await c.hgetall('hash'), { f: 'v' });
    assert.deepEqual(await c.lrange('list', 0, -1), ['1', '2', '3']);
    assert.deepEqual((await c.smembers('set')).sort(), ['a', 'b']);
    assert.equal(await c.zscore('zset', 'c'), '3');
    assert.deepEqual(await c.xrange('stream', '-', '+'), [['5-1', ['k', 'v']]]);
    assert.equal(await c.hlen('big'), 300);
    assert.equal(await c.dbsize(), 8);
  } finally {
    await r.stop();
    await rm(dir, { recursive: true });
  }
});

test('opening from a snapshot marks it saved without writing it back', async () => {
  const store = memoryAdapter();
  const db = await Cinnabar.open({ persistence: store, hz: 0 });
  await db.set('k', 'v');
  await db.save();
  await db.close();
  let writes = 0;
  const orig = store.save;
  store.save = async (b) => {
    writes++;
    return orig(b);
  };
  const again = await Cinnabar.open({ persistence: store, hz: 0 });
  assert.equal(again.status.dirty, 0);
  assert.ok(again.status.lastSave > 0);
  assert.match(await again.command('INFO', 'persistence'), /rdb_changes_since_last_save:0/);
  assert.equal(writes, 0);
  await again.close();
});

test('a bad option fails open() with Redis’s error and leaves nothing running', async () => {
  await assert.rejects(() => Cinnabar.open({ policy: 'most-recently-used' }), (e) => e instanceof ReplyError && /maxmemory-policy/.test(e.message));
});
