// The RESP entry point: raw bytes in and out, pipelines split anywhere, blocked replies
// coming later, protocol errors; then real clients (ioredis, node-redis) through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { Cinnabar, ioredisConnector, serveResp } from '../src/index.js';
import { settle } from './helpers.mjs';

const text = (u8) => Buffer.from(u8).toString('latin1');

test('db.resp: RESP bytes in, RESP bytes out, frames split anywhere', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  assert.equal(text(db.resp('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n')), '+OK\r\n');
  const frame = Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n');
  let out = '';
  for (const b of frame) out += text(db.resp(new Uint8Array([b])));
  assert.equal(out, '$2\r\nv1\r\n+PONG\r\n');
  assert.equal(text(db.resp('HELLO 3\r\n')).startsWith('%7\r\n'), true);
  assert.equal(text(db.resp('HGETALL nothing\r\n')), '%0\r\n');
  await db.close();
});

test('a blocked command holds its pipeline; the rest follows when a write serves it', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const later = [];
  const conn = db.connect((b) => later.push(text(b)));
  assert.equal(text(conn.write('BLPOP q 0\r\nPING\r\n')), '');
  assert.equal(await db.rpush('q', 'x'), 1);
  assert.deepEqual(later, ['*2\r\n$1\r\nq\r\n$1\r\nx\r\n+PONG\r\n']);
  await db.close();
});

test('a protocol error is answered and ends the connection', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const conn = db.connect(null);
  assert.equal(text(conn.write('*1\r\nfoo\r\n')), "-ERR Protocol error: expected '$', got 'f'\r\n");
  assert.equal(conn.ended, true);
  assert.equal(text(conn.write('PING\r\n')), '');
  await db.close();
});

test('ioredis talks to the engine through a Connector, no socket', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const redis = new Redis({ Connector: ioredisConnector(db), maxRetriesPerRequest: 0, enableOfflineQueue: true });
  assert.equal(await redis.set('k', 'v', 'EX', 60), 'OK');
  assert.equal(await redis.get('k'), 'v');
  assert.equal(await redis.ttl('k'), 60);
  assert.equal(await redis.hset('h', { a: 1, b: 2 }), 2);
  assert.deepEqual(await redis.hgetall('h'), { a: '1', b: '2' });
  await assert.rejects(() => redis.incr('k'), /ERR value is not an integer/);
  const [r1, r2] = await redis.pipeline().incr('n').incrby('n', 2).exec();
  assert.deepEqual([r1, r2], [[null, 1], [null, 3]]);
  // The same data is visible to the package's own API.
  assert.equal(await db.get('n'), '3');
  // Blocking through ioredis is served by the package's write.
  const popped = redis.blpop('jobs', 0);
  await settle(5);
  await db.rpush('jobs', 'j');
  assert.deepEqual(await popped, ['jobs', 'j']);
  // Pub/sub: an ioredis subscriber on its own connection hears db.publish.
  const sub = new Redis({ Connector: ioredisConnector(db) });
  const heard = new Promise((resolve) => sub.on('message', (ch, msg) => resolve([ch, msg])));
  await sub.subscribe('ch');
  assert.equal(await db.publish('ch', 'hello'), 1);
  assert.deepEqual(await heard, ['ch', 'hello']);
  sub.disconnect();
  redis.disconnect();
  await db.close();
});

test('node-redis (and redis-cli) talk to the engine through serveResp’s Unix socket', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const path = join(tmpdir(), `cinnabar-${process.pid}.sock`);
  const server = await serveResp(db, path);
  const client = createClient({ socket: { path } });
  client.on('error', () => {});
  await client.connect();
  assert.equal(await client.set('k', 'v', { EX: 60 }), 'OK');
  assert.equal(await client.get('k'), 'v');
  assert.equal(await client.hSet('h', { a: '1' }), 1);
  assert.deepEqual({ ...(await client.hGetAll('h')) }, { a: '1' });
  assert.equal(await client.zAdd('z', [{ score: 1, value: 'one' }]), 1);
  await assert.rejects(() => client.incr('k'), /ERR value is not an integer/);
  const popped = client.duplicate();
  popped.on('error', () => {});
  await popped.connect();
  const p = popped.blPop('q', 0);
  await settle(5);
  await db.rpush('q', 'x');
  assert.deepEqual({ ...(await p) }, { key: 'q', element: 'x' });
  assert.equal(await db.get('k'), 'v');
  // redis-cli dials the same socket and sees the same engine.
  // (asynchronously: the engine answering it runs on this event loop)
  const { stdout } = await promisify(execFile)('redis-cli', ['-s', path, 'GET', 'k']);
  assert.equal(stdout.trim(), 'v');
  await popped.close();
  await client.close();
  await new Promise((r) => server.close(r));
  await db.close();
});
