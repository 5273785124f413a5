// db.subscribe / psubscribe deliver PUBLISH messages, from the db itself and from RESP
// connections of the same engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cinnabar } from '../src/index.js';
import { settle } from './helpers.mjs';

test('subscribe and psubscribe receive messages; unsubscribe stops them', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const got = [];
  const off = await db.subscribe('news', (msg, ch) => got.push(['sub', ch, msg]));
  await db.psubscribe('news.*', (msg, ch, pat) => got.push(['psub', pat, ch, msg]));
  assert.equal(await db.publish('news', 'hello'), 1);
  assert.equal(await db.publish('news.sport', 'goal'), 1);
  assert.equal(await db.publish('weather', 'rain'), 0);
  await settle();
  assert.deepEqual(got, [['sub', 'news', 'hello'], ['psub', 'news.*', 'news.sport', 'goal']]);
  await off();
  assert.equal(await db.publish('news', 'again'), 0);
  assert.deepEqual(await db.command('PUBSUB', 'NUMSUB', 'news'), ['news', 0]);
  await db.close();
});

test('two callbacks on a channel share one subscription', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const a = [];
  const b = [];
  await db.subscribe('c', (m) => a.push(m));
  const offB = await db.subscribe('c', (m) => b.push(m));
  assert.equal(await db.publish('c', '1'), 1);
  await offB();
  assert.equal(await db.publish('c', '2'), 1);
  await settle();
  assert.deepEqual(a, ['1', '2']);
  assert.deepEqual(b, ['1']);
  await db.close();
});

test('a RESP connection’s PUBLISH reaches db.subscribe, and a RESP subscriber hears db.publish', async () => {
  const db = await Cinnabar.open({ hz: 0 });
  const got = [];
  await db.subscribe('chat', (m) => got.push(m));
  const later = [];
  const conn = db.connect((bytes) => later.push(Buffer.from(bytes).toString()));
  assert.equal(Buffer.from(conn.write('PUBLISH chat hi\r\n')).toString(), ':1\r\n');
  await settle();
  assert.deepEqual(got, ['hi']);
  const sub = db.connect((bytes) => later.push(Buffer.from(bytes).toString()));
  assert.equal(Buffer.from(sub.write('SUBSCRIBE room\r\n')).toString(), '*3\r\n$9\r\nsubscribe\r\n$4\r\nroom\r\n:1\r\n');
  assert.equal(await db.publish('room', 'yo'), 1);
  assert.deepEqual(later, ['*3\r\n$7\r\nmessage\r\n$4\r\nroom\r\n$2\r\nyo\r\n']);
  await db.close();
});
