// The wasm package in real Node: load it the way a user would and drive it with a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cinnabar } from '../src/index.js';

function fakeClock(start = 1_767_225_600_000) {
  let now = start;
  const clock = () => now;
  clock.advance = (ms) => { now += ms; };
  return clock;
}

test('strings and counters work through the package', () => {
  const db = new Cinnabar({ seed: 1, clock: fakeClock() });
  assert.equal(db.command('SET', 'greeting', 'hello'), 'OK');
  assert.equal(db.command('GET', 'greeting'), 'hello');
  assert.equal(db.command('GET', 'missing'), null);
  assert.equal(db.command('INCR', 'visits'), 1);
  assert.equal(db.command('INCRBY', 'visits', 9), 10);
  assert.deepEqual(db.command('MGET', 'greeting', 'missing', 'visits'), ['hello', null, '10']);
});

test('keys expire on the host clock, lazily and by tick', () => {
  const clock = fakeClock();
  const db = new Cinnabar({ seed: 1, clock });
  db.command('SET', 'session', 'abc', 'EX', 10);
  db.command('SET', 'lock', 'me', 'NX', 'PX', 500);
  assert.equal(db.command('SET', 'lock', 'you', 'NX', 'PX', 500), null);
  clock.advance(500);
  assert.equal(db.command('SET', 'lock', 'you', 'NX', 'PX', 500), 'OK');
  assert.equal(db.command('TTL', 'session'), 10);
  clock.advance(10_000);
  db.tick();
  assert.equal(db.engine.dbsize(0), 0);
});

test('Redis errors are thrown with Redis wording', () => {
  const db = new Cinnabar({ seed: 1, clock: fakeClock() });
  db.command('SET', 's', 'text');
  assert.throws(() => db.command('INCR', 's'), { message: 'ERR value is not an integer or out of range' });
  assert.throws(() => db.command('GET'), { message: "ERR wrong number of arguments for 'get' command" });
});

test('RESP3 maps come back as Map and binary values as Uint8Array', () => {
  const db = new Cinnabar({ seed: 1, clock: fakeClock() });
  const hello = db.command('HELLO', '3');
  assert.ok(hello instanceof Map);
  assert.equal(hello.get('version'), '7.0.15');
  db.command('SET', 'bin', new Uint8Array([0xff, 0x00, 0xfe]));
  assert.deepEqual(db.command('GET', 'bin'), new Uint8Array([0xff, 0x00, 0xfe]));
});
