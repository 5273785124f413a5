// The edge cache under Node: cache-aside with TTL and jitter on a controlled clock, one
// origin call per stampede, the sliding-window rate limit, the snapshot surviving a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cinnabar, fileAdapter } from '../../src/index.js';
import { createApp } from '../app.js';
import { start } from '../node.js';

function fakeClock(start = 1_767_225_600_000) {
  let now = start;
  const c = () => now;
  c.advance = (ms) => (now += ms);
  return c;
}

function slowOrigin(delay = 30) {
  const calls = [];
  const origin = (id) => {
    calls.push(id);
    return new Promise((r) => setTimeout(() => r(`value of ${id}`), delay));
  };
  origin.calls = calls;
  return origin;
}

const get = (app, path, client = 'c1') => app.fetch(new Request(`http://edge${path}`, { headers: { 'x-client': client } }));

test('cache-aside: a miss fetches the origin once, then hits until the TTL (with jitter) passes', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ clock, hz: 0 });
  const origin = slowOrigin();
  const app = createApp({ db, origin, clock, ttl: 60, jitter: 10, random: () => 0.5, limit: 1000 });
  let r = await get(app, '/item/1');
  assert.equal(r.headers.get('x-cache'), 'MISS');
  assert.equal(await r.text(), 'value of 1');
  r = await get(app, '/item/1');
  assert.equal(r.headers.get('x-cache'), 'HIT');
  assert.deepEqual(origin.calls, ['1']);
  // ttl 60 + floor(0.5 * 11) = 65 seconds
  assert.equal(await db.ttl('cache:item:1'), 65);
  clock.advance(64_000);
  assert.equal((await get(app, '/item/1')).headers.get('x-cache'), 'HIT');
  clock.advance(1_000);
  assert.equal((await get(app, '/item/1')).headers.get('x-cache'), 'MISS');
  assert.deepEqual(origin.calls, ['1', '1']);
  await db.close();
});

test('jitter spreads expiries between ttl and ttl + jitter', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  let i = 0;
  const randoms = [0, 0.999, 0.3];
  const app = createApp({ db, origin: slowOrigin(1), ttl: 60, jitter: 10, random: () => randoms[i++ % 3], limit: 1000 });
  for (const id of ['a', 'b', 'c']) await get(app, `/item/${id}`);
  // each item's random() call order: token, then jitter
  const ttls = [await db.ttl('cache:item:a'), await db.ttl('cache:item:b'), await db.ttl('cache:item:c')];
  for (const t of ttls) assert.ok(t >= 60 && t <= 70, `ttl ${t}`);
  assert.ok(new Set(ttls).size > 1, 'not all the same');
  await db.close();
});

test('a stampede of concurrent misses calls the origin once (SET NX PX lock)', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const origin = slowOrigin(50);
  const app = createApp({ db, origin, limit: 1000 });
  const responses = await Promise.all(Array.from({ length: 20 }, () => get(app, '/item/hot')));
  assert.deepEqual(origin.calls, ['hot']);
  const kinds = responses.map((r) => r.headers.get('x-cache'));
  assert.equal(kinds.filter((k) => k === 'MISS').length, 1);
  assert.equal(kinds.filter((k) => k === 'WAIT').length, 19);
  for (const r of responses) assert.equal(await r.text(), 'value of hot');
  assert.equal(await db.exists('lock:item:hot'), 0, 'the lock is released');
  await db.close();
});

test('the sliding-window rate limit answers 429 past the limit and recovers as the window slides', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ clock, hz: 0 });
  const app = createApp({ db, origin: slowOrigin(1), clock, limit: 3, window: 1000 });
  const codes = [];
  for (let i = 0; i < 3; i++) {
    codes.push((await get(app, '/item/x')).status);
    clock.advance(300); // requests at 0, 300, 600
  }
  const limited = await get(app, '/item/x'); // at 900: 3 in the window
  codes.push(limited.status);
  assert.deepEqual(codes, [200, 200, 200, 429]);
  assert.equal(limited.headers.get('retry-after'), '1');
  assert.equal((await get(app, '/item/x', 'someone-else')).status, 200, 'limits are per client');
  clock.advance(101); // at 1001: the request at 0 left the window
  assert.equal((await get(app, '/item/x')).status, 200);
  assert.equal((await get(app, '/item/x')).status, 429);
  await db.close();
});

test('the snapshot survives a restart (file adapter under Node, over HTTP)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cinnabar-edge-'));
  const snapshot = join(dir, 'edge.rdb');
  const origin = slowOrigin(5);
  let s = await start({ port: 0, snapshot, origin, limit: 1000 });
  let r = await fetch(`${s.url}/item/7`, { headers: { 'x-client': 'a' } });
  assert.equal(r.headers.get('x-cache'), 'MISS');
  await s.close(); // saves
  s = await start({ port: 0, snapshot, origin, limit: 1000 });
  r = await fetch(`${s.url}/item/7`, { headers: { 'x-client': 'a' } });
  assert.equal(r.headers.get('x-cache'), 'HIT');
  assert.equal(await r.text(), 'value of 7');
  assert.deepEqual(origin.calls, ['7']);
  await s.close();
  await rm(dir, { recursive: true });
});

test('maxmemory and the policy are passed to the engine', async () => {
  const db = await Cinnabar.open({ hz: 0, maxmemory: '2mb', policy: 'allkeys-lru' });
  assert.deepEqual(await db.command('CONFIG', 'GET', 'maxmemory'), ['maxmemory', String(2 * 1024 * 1024)]);
  assert.deepEqual(await db.command('CONFIG', 'GET', 'maxmemory-policy'), ['maxmemory-policy', 'allkeys-lru']);
  await db.close();
});

test('eviction keeps the cache under its memory cap (allkeys-lru keeps the recent keys)', async () => {
  const db = await Cinnabar.open({ hz: 0, maxmemory: '2mb', policy: 'allkeys-lru' });
  const value = 'x'.repeat(1024);
  for (let i = 0; i < 10_000; i++) await db.set(`cache:item:${i}`, value);
  const info = await db.command('INFO', 'stats');
  assert.ok(Number(/evicted_keys:(\d+)/.exec(info)[1]) > 0, 'keys were evicted');
  assert.ok((await db.dbsize()) < 10_000);
  const used = Number(/used_memory:(\d+)/.exec(await db.command('INFO', 'memory'))[1]);
  assert.ok(used <= 2 * 1024 * 1024 * 1.1, `used_memory ${used} stays near the 2mb cap`);
  assert.equal(await db.exists('cache:item:9999'), 1, 'the newest key is kept');
  await db.close();
});
