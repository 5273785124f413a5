// The package in real Node, loaded the way a user loads it: commands, replies as JS values,
// errors, raw mode, convenience methods, the host clock and the wrapper's expiry timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cinnabar, ReplyError } from '../src/index.js';
import { fakeClock } from './helpers.mjs';

test('strings and counters work through the package', async () => {
  const db = await Cinnabar.open({ seed: 1, clock: fakeClock(), hz: 0 });
  assert.equal(await db.command('SET', 'greeting', 'hello'), 'OK');
  assert.equal(await db.command('GET', 'greeting'), 'hello');
  assert.equal(await db.command('GET', 'missing'), null);
  assert.equal(await db.command('INCR', 'visits'), 1);
  assert.equal(await db.command('INCRBY', 'visits', 9), 10);
  assert.deepEqual(await db.command('MGET', 'greeting', 'missing', 'visits'), ['hello', null, '10']);
  await db.close();
});

test('keys expire on the host clock, lazily and by tick', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ seed: 1, clock, hz: 0 });
  await db.command('SET', 'session', 'abc', 'EX', 10);
  await db.command('SET', 'lock', 'me', 'NX', 'PX', 500);
  assert.equal(await db.command('SET', 'lock', 'you', 'NX', 'PX', 500), null);
  clock.advance(500);
  assert.equal(await db.command('SET', 'lock', 'you', 'NX', 'PX', 500), 'OK');
  assert.equal(await db.command('TTL', 'session'), 10);
  clock.advance(10_000);
  db.tick();
  assert.equal(db.engine.dbsize(0), 0);
  await db.close();
});

test('the wrapper timer runs active expiry and close() stops it', async () => {
  const db = await Cinnabar.open({ hz: 100 });
  for (let i = 0; i < 50; i++) await db.set(`k${i}`, 'v', { PX: 20 });
  assert.equal(await db.dbsize(), 50);
  await new Promise((r) => setTimeout(r, 300));
  // No command touched the keys: only the timer's ticks can have removed them.
  assert.equal(db.engine.dbsize(0), 0);
  const info = await db.command('INFO', 'stats');
  assert.match(info, /expired_keys:50/);
  await db.close();
  assert.equal(db.timer, null);
  await assert.rejects(() => db.get('k'), /closed/);
});

test('Redis errors are thrown as ReplyError with Redis wording', async () => {
  const db = await Cinnabar.open({ seed: 1, clock: fakeClock(), hz: 0 });
  await db.command('SET', 's', 'text');
  await assert.rejects(() => db.command('INCR', 's'), (e) => e instanceof ReplyError && e.message === 'ERR value is not an integer or out of range' && e.code === 'ERR');
  await assert.rejects(() => db.command('GET'), { message: "ERR wrong number of arguments for 'get' command" });
  await assert.rejects(() => db.command('LPUSH', 's', 'x'), { code: 'WRONGTYPE' });
  // Errors inside EXEC's array are ReplyErrors in place.
  await db.command('MULTI');
  await db.command('INCR', 's');
  await db.command('SET', 't', '1');
  const res = await db.command('EXEC');
  assert.ok(res[0] instanceof ReplyError);
  assert.equal(res[1], 'OK');
  await db.close();
});

test('RESP3 maps come back as Map, binary values as Uint8Array, raw mode as bytes', async () => {
  const db = await Cinnabar.open({ seed: 1, clock: fakeClock(), hz: 0 });
  const bin = new Uint8Array([0, 255, 1, 128]);
  await db.command('SET', 'bin', bin);
  assert.deepEqual(await db.command('GET', 'bin'), bin);
  await db.command('SET', 'text', 'héllo');
  const raw = await db.commandRaw('GET', 'text');
  assert.ok(raw instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(raw), 'héllo');
  await db.hset('h', { a: '1', b: '2' });
  assert.deepEqual(await db.command('HGETALL', 'h'), ['a', '1', 'b', '2']);
  await db.command('HELLO', 3);
  const m = await db.command('HGETALL', 'h');
  assert.ok(m instanceof Map);
  assert.equal(m.get('b'), '2');
  assert.equal(await db.command('ZSCORE', 'nope', 'x'), null);
  await db.close();
});

// Arguments are packed straight into the engine's argument area and replies decoded from its
// memory (src/wire.js): arguments larger than the area, replies that grow the memory (which
// detaches every view JS holds on it), every string path (short ASCII, long ASCII, UTF-8,
// invalid UTF-8) and the numbers beyond 2^53 must come through exactly.
test('arguments and replies of every size and kind cross the boundary intact', async () => {
  const db = await Cinnabar.open({ seed: 1, clock: fakeClock(), hz: 0 });
  const big = 'x'.repeat(3_000_000) + 'é';
  assert.equal(await db.command('SET', 'big', big), 'OK');
  assert.equal(await db.command('STRLEN', 'big'), 3_000_002);
  const bytes = new Uint8Array(1 << 20).map((_, i) => i % 251);
  await db.command('SET', 'bytes', bytes);
  assert.deepEqual(await db.command('GET', 'bytes'), bytes);
  for (const v of ['', 'a', 'OK', 'ok', 'abcdefgh', 'abcdefghi', 'é', 'ünïcödé and more than sixty-four characters of text to pack by the encoder', 'x'.repeat(100)]) {
    await db.command('SET', 'k', v);
    assert.equal(await db.command('GET', 'k'), v);
  }
  await db.command('SET', 'n', '9007199254740993');
  assert.equal(await db.command('INCR', 'n'), 9007199254740994n);
  assert.equal(await db.command('DECRBY', 'n', 9007199254740994n), 0);
  assert.equal(await db.command('INCRBYFLOAT', 'f', 0.5), '0.5');
  // A reply far larger than the memory held so far, then the small ones after it.
  const values = Array.from({ length: 2000 }, (_, i) => `value-${i}-${'y'.repeat(i % 300)}`);
  await db.command('RPUSH', 'l', ...values);
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(await db.command('LRANGE', 'l', 0, -1), values);
    assert.equal(await db.get('k'), 'x'.repeat(100));
  }
  assert.equal((await db.command('GET', 'big')).length, 3_000_001);
  await assert.rejects(db.command('SET', 'k', {}), TypeError);
  await assert.rejects(db.command('SET', 'k', null), TypeError);
  assert.equal(await db.command('GET', 'k'), 'x'.repeat(100), 'a refused argument runs nothing');
  await db.close();
});

test('convenience methods follow ioredis/node-redis shapes', async () => {
  const clock = fakeClock();
  const db = await Cinnabar.open({ seed: 1, clock, hz: 0 });
  assert.equal(await db.set('k', 'v', { EX: 60 }), 'OK');
  assert.equal(await db.set('k', 'w', { NX: true }), null);
  assert.equal(await db.set('k', 'w', { XX: true, GET: true }), 'v');
  assert.equal(await db.ttl('k'), -1);
  assert.equal(await db.expire('k', 30), 1);
  assert.equal(await db.ttl('k'), 30);
  assert.equal(await db.pttl('k'), 30_000);
  assert.equal(await db.incr('n'), 1);
  assert.equal(await db.incrby('n', 4), 5);
  assert.equal(await db.decr('n'), 4);
  assert.equal(await db.del('k', 'n', 'zzz'), 2);
  assert.equal(await db.hset('user:1', 'name', 'ada'), 1);
  assert.equal(await db.hset('user:1', { lang: 'en', n: 3 }), 2);
  assert.equal(await db.hget('user:1', 'name'), 'ada');
  assert.deepEqual(await db.hgetall('user:1'), { name: 'ada', lang: 'en', n: '3' });
  assert.deepEqual(await db.hgetall('nobody'), {});
  assert.equal(await db.rpush('l', 'a', 'b', 'c'), 3);
  assert.equal(await db.lpush('l', 'z'), 4);
  assert.deepEqual(await db.lrange('l', 0, -1), ['z', 'a', 'b', 'c']);
  assert.equal(await db.lpop('l'), 'z');
  assert.equal(await db.rpop('l'), 'c');
  assert.equal(await db.sadd('s', 'x', 'y', 'x'), 2);
  assert.deepEqual((await db.smembers('s')).sort(), ['x', 'y']);
  assert.equal(await db.zadd('z', 3, 'c', 1, 'a'), 2);
  assert.equal(await db.zadd('z', [{ score: 2, value: 'b' }]), 1);
  assert.deepEqual(await db.zrange('z', 0, -1), ['a', 'b', 'c']);
  assert.deepEqual(await db.zrange('z', 0, 1, { WITHSCORES: true }), ['a', '1', 'b', '2']);
  assert.deepEqual(await db.zrange('z', '(1', '+inf', { BYSCORE: true }), ['b', 'c']);
  assert.equal(await db.type('z'), 'zset');
  assert.equal(await db.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", ['e'], [7]), 7);
  await db.close();
});

test('SELECT on the default session sticks for later commands', async () => {
  const db = await Cinnabar.open({ seed: 1, clock: fakeClock(), hz: 0 });
  await db.command('SELECT', 2);
  await db.set('k', 'in2');
  await db.command('SELECT', 0);
  assert.equal(await db.get('k'), null);
  await db.close();
});

test('a failed SELECT does not move blocking calls to another database', async () => {
  const db = await Cinnabar.open({ seed: 1, clock: fakeClock(), hz: 0 });
  await assert.rejects(() => db.command('SELECT', 99), /DB index is out of range/);
  const p = db.blpop('l', 0);
  await db.rpush('l', 'in0');
  assert.deepEqual(await p, ['l', 'in0']);
  await db.close();
});

test('a blocking command inside MULTI runs in the transaction without blocking', async () => {
  const db = await Cinnabar.open({ seed: 1, clock: fakeClock(), hz: 0 });
  await db.command('MULTI');
  assert.equal(await db.command('BLPOP', 'empty', 0), 'QUEUED');
  assert.deepEqual(await db.command('EXEC'), [null]);
  // After EXEC, blocking commands wait on their own sessions again.
  const p = db.blpop('l', 0);
  await db.rpush('l', 'x');
  assert.deepEqual(await p, ['l', 'x']);
  await db.close();
});

test('pipeline runs many commands in one call, errors in place, blocking ones waiting', async () => {
  const db = await Cinnabar.open({ seed: 1, hz: 0 });
  const replies = await db.pipeline([
    ['SET', 'a', 1],
    ['INCR', 'a'],
    ['HSET', 'h', 'f', 'v'],
    ['LPUSH', 'h', 'x'],
    ['GET', 'a'],
    ['MULTI'],
    ['INCR', 'a'],
    ['EXEC'],
    ['SELECT', 2],
    ['SET', 'in2', 'yes'],
    ['RPUSH', 'q', 'job'],
    ['BLPOP', 'q', 0],
    ['BLPOP', 'q', 0.05],
    ['PING'],
  ]);
  assert.equal(replies.length, 14);
  assert.deepEqual(replies.slice(0, 3), ['OK', 2, 1]);
  assert.ok(replies[3] instanceof ReplyError);
  assert.match(replies[3].message, /^WRONGTYPE /);
  assert.deepEqual(replies.slice(4), ['2', 'OK', 'QUEUED', [3], 'OK', 'OK', 1, ['q', 'job'], null, 'PONG']);
  // The session's state carried over: still in db 2, not in MULTI.
  assert.equal(await db.command('GET', 'in2'), 'yes');
  assert.equal(await db.command('DBSIZE'), 1); // in2; q was emptied by BLPOP
  assert.deepEqual(await db.pipeline([]), []);
  await assert.rejects(db.pipeline(['GET', 'a']), TypeError);
  await db.close();
});
