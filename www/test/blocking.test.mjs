// Blocking commands are Promises on sessions of their own: a write by another caller serves
// them, their timeout settles them with nil, and the event loop never stops meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cinnabar } from '../src/index.js';
import { fakeClock, settle } from './helpers.mjs';

test('BLPOP waits for another caller’s RPUSH without blocking the event loop', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  let settled = false;
  const p = db.blpop('jobs', 0).then((v) => {
    settled = true;
    return v;
  });
  // Other commands still run while it waits.
  await settle(5);
  assert.equal(settled, false);
  assert.equal(await db.set('other', 'x'), 'OK');
  assert.equal(await db.command('INFO', 'clients').then((s) => /blocked_clients:1/.test(s)), true);
  assert.equal(await db.rpush('jobs', 'j1', 'j2'), 2);
  assert.deepEqual(await p, ['jobs', 'j1']);
  // The waiter's session is gone, the other element stays.
  assert.deepEqual(await db.lrange('jobs', 0, -1), ['j2']);
  assert.match(await db.command('INFO', 'clients'), /blocked_clients:0/);
  await db.close();
});

test('waiters are served in arrival order, one element each', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const a = db.command('BRPOP', 'q', 0);
  const b = db.command('BRPOP', 'q', 0);
  await db.command('LPUSH', 'q', '1', '2', '3');
  assert.deepEqual(await a, ['q', '1']);
  assert.deepEqual(await b, ['q', '2']);
  await db.close();
});

test('a timeout settles with null (real timer)', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const t0 = Date.now();
  assert.equal(await db.blpop('never', 0.1), null);
  assert.ok(Date.now() - t0 >= 90, 'waited for the timeout');
  await db.close();
});

test('a timeout on the host clock settles at the tick that passes it', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ clock, hz: 0 });
  let result = 'pending';
  db.bzpopmin('z', 5).then((v) => (result = v));
  clock.advance(4000);
  db.tick();
  await settle();
  assert.equal(result, 'pending');
  clock.advance(1001);
  db.tick();
  await settle();
  assert.equal(result, null);
  await db.close();
});

test('BLMOVE, BZPOPMIN and XREAD BLOCK are served by writes', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const move = db.blmove('src', 'dst', 'LEFT', 'RIGHT', 0);
  const zpop = db.bzpopmin('zs', 0);
  const xread = db.command('XREAD', 'BLOCK', 0, 'STREAMS', 'st', '$');
  await db.rpush('src', 'm');
  await db.zadd('zs', 5, 'five');
  const id = await db.command('XADD', 'st', '*', 'f', 'v');
  assert.equal(await move, 'm');
  assert.deepEqual(await db.lrange('dst', 0, -1), ['m']);
  assert.deepEqual(await zpop, ['zs', 'five', '5']);
  assert.deepEqual(await xread, [['st', [[id, ['f', 'v']]]]]);
  await db.close();
});

test('XREADGROUP BLOCK is served by XADD', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  await db.command('XGROUP', 'CREATE', 'events', 'g', '$', 'MKSTREAM');
  const read = db.command('XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', 1000, 'STREAMS', 'events', '>');
  const id = await db.command('XADD', 'events', '*', 'type', 'click');
  assert.deepEqual(await read, [['events', [[id, ['type', 'click']]]]]);
  assert.equal((await db.command('XPENDING', 'events', 'g'))[0], 1);
  await db.close();
});

test('a blocking call uses the default session’s database', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  await db.command('SELECT', 3);
  const p = db.blpop('l', 0);
  await db.rpush('l', 'in3');
  assert.deepEqual(await p, ['l', 'in3']);
  await db.close();
});

test('close() rejects pending waits', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const p = db.blpop('x', 0);
  await settle();
  await db.close();
  await assert.rejects(p, /closed/);
});

test('sessions opened for blocking calls are all closed again (served, timed out, or refused)', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ clock, hz: 0 });
  const clients = async () => Number(/connected_clients:(\d+)/.exec(await db.command('INFO', 'clients'))[1]);
  const base = await clients();
  const served = Array.from({ length: 200 }, (_, i) => db.blpop(`q${i % 10}`, 0));
  const timedOut = Array.from({ length: 100 }, () => db.brpop('never', 1));
  await db.set('str', 'x');
  await assert.rejects(() => db.blpop('str', 0), { code: 'WRONGTYPE' });
  assert.equal(await clients(), base + 300);
  for (let i = 0; i < 10; i++) await db.rpush(`q${i}`, ...Array.from({ length: 20 }, (_, j) => `v${j}`));
  clock.advance(1001);
  db.tick();
  assert.equal((await Promise.all(served)).length, 200);
  assert.deepEqual(new Set(await Promise.all(timedOut)), new Set([null]));
  assert.equal(await clients(), base);
  await db.close();
});
