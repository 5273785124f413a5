// Surviving a trap in a real page: the browser build (the .wasm fetched and streamed by
// browser.js) panics on DEBUG PANIC, the package re-instantiates it and rebuilds the engine
// from the last snapshot saved to IndexedDB plus the writes acknowledged since, and what
// IndexedDB holds afterwards opens with every acknowledged write after a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withBrowser, openTestPage } from './harness.mjs';

const env = withBrowser();

const open = (context) => openTestPage(env, context);

test('a trap in the page loses no acknowledged write; IndexedDB has them all after a reload', async () => {
  const context = await env.browser.newContext();
  const page = await open(context);
  const r = await page.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter, ReplyError } = window.pkg;
    const db = await Cinnabar.open({ persistence: indexedDbAdapter('recover'), autosave: false, conf: { 'enable-debug-command': 'yes' } });
    const logs = [];
    db.onLog((level, message) => logs.push(message));
    const trap = async (...argv) => {
      try {
        const reply = await db.command(...(argv.length ? argv : ['DEBUG', 'PANIC']));
        return `no trap: ${JSON.stringify(reply)}`;
      } catch (e) {
        return [e instanceof ReplyError, e.message];
      }
    };
    const out = {};
    // In the saved snapshot.
    await db.set('saved', 'in IndexedDB');
    await db.command('RPUSH', 'list', 'a', 'b');
    await db.save();
    // Only in the journal.
    await db.set('ttl', 'v', { EX: 600 });
    await db.hset('hash', { f1: '1', f2: '2' });
    await db.command('RPUSH', 'list', 'c');
    await db.command('MULTI');
    await db.command('INCR', 'n');
    await db.command('SADD', 's', 'x');
    await db.command('EXEC');
    const msgs = [];
    await db.subscribe('ch', (m) => msgs.push(m));
    const popped = db.blpop('q', 0);
    // A transaction that traps at EXEC: none of it stays.
    await db.command('MULTI');
    await db.command('SET', 'doomed', '1');
    await db.command('DEBUG', 'PANIC');
    out.first = await trap('EXEC');
    out.data = [await db.get('saved'), await db.get('ttl'), await db.ttl('ttl'), await db.hgetall('hash'), await db.lrange('list', 0, -1), await db.get('n'), await db.smembers('s'), await db.get('doomed')];
    out.receivers = await db.publish('ch', 'after');
    await db.rpush('q', 'job');
    out.popped = await popped;
    await new Promise((res) => setTimeout(res, 0));
    out.msgs = msgs;
    // Again, after more writes.
    await db.set('second', '2');
    out.second = await trap();
    out.secondValue = await db.get('second');
    out.recoveries = db.status.recoveries;
    out.lastTrap = db.status.lastTrap;
    out.logs = logs;
    await db.saving;
    await db.close();
    return out;
  });
  assert.deepEqual(r.first, [true, 'ERR internal error: the engine trapped (a bug) and was recovered from its last snapshot and the 5 acknowledged writes since']);
  assert.deepEqual(r.data.slice(0, 2), ['in IndexedDB', 'v']);
  assert.ok(r.data[2] > 590 && r.data[2] <= 600);
  assert.deepEqual(r.data.slice(3), [{ f1: '1', f2: '2' }, ['a', 'b', 'c'], '1', ['x'], null]);
  assert.equal(r.receivers, 1);
  assert.deepEqual(r.popped, ['q', 'job']);
  assert.deepEqual(r.msgs, ['after']);
  assert.match(r.second[1], /^ERR internal error: the engine trapped \(a bug\) and was recovered from its last snapshot and the \d+ acknowledged writes since$/);
  assert.equal(r.secondValue, '2');
  assert.equal(r.recoveries, 2);
  assert.match(r.lastTrap, /RuntimeError: unreachable .*DEBUG PANIC/s);
  // Each trap is logged, and so is each recovery's load of the snapshot, as Redis logs a load.
  assert.equal(r.logs.filter((m) => !m.startsWith('Done loading RDB')).length, 2, JSON.stringify(r.logs));
  assert.equal(r.logs.filter((m) => /^Done loading RDB, keys loaded: \d+, keys expired: 0\.$/.test(m)).length, 2, JSON.stringify(r.logs));

  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const after = await page.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    const db = await Cinnabar.open({ persistence: indexedDbAdapter('recover') });
    const out = [await db.get('saved'), await db.get('ttl'), await db.hgetall('hash'), await db.lrange('list', 0, -1), await db.get('n'), await db.get('second'), await db.llen('q'), await db.get('doomed')];
    await db.close();
    return out;
  });
  assert.deepEqual(after, ['in IndexedDB', 'v', { f1: '1', f2: '2' }, ['a', 'b', 'c'], '1', '2', 0, null]);
  await context.close();
});
