// The package in real headless Chromium: commands, blocking and pub/sub in a page, IndexedDB
// snapshots across reloads, a corrupt snapshot refused, and two tabs on one database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withBrowser, openTestPage, ARTIFACTS } from './harness.mjs';

const env = withBrowser();

const open = (context) => openTestPage(env, context);

test('the package runs in the page: commands, errors, blocking, pub/sub', async () => {
  const context = await env.browser.newContext();
  const page = await open(context);
  const result = await page.evaluate(async () => {
    const { Cinnabar } = window.pkg;
    const db = await Cinnabar.open();
    const out = {};
    out.set = await db.set('k', 'v', { EX: 60 });
    out.get = await db.get('k');
    out.ttl = await db.ttl('k');
    out.hash = await db.hset('h', { a: 1 }).then(() => db.hgetall('h'));
    try {
      await db.command('INCR', 'k');
    } catch (e) {
      out.error = [e.name, e.message];
    }
    const popped = db.blpop('q', 0);
    await new Promise((r) => setTimeout(r, 10));
    await db.rpush('q', 'x');
    out.blpop = await popped;
    const msgs = [];
    await db.subscribe('c', (m, ch) => msgs.push([ch, m]));
    out.receivers = await db.publish('c', 'hi');
    await new Promise((r) => setTimeout(r, 0));
    out.msgs = msgs;
    out.resp = new TextDecoder().decode(db.resp('PING\r\n'));
    await db.close();
    return out;
  });
  assert.deepEqual(result, {
    set: 'OK', get: 'v', ttl: 60, hash: { a: '1' },
    error: ['ReplyError', 'ERR value is not an integer or out of range'],
    blpop: ['q', 'x'], receivers: 1, msgs: [['c', 'hi']], resp: '+PONG\r\n',
  });
  await page.screenshot({ path: join(ARTIFACTS, 'package-page.png') });
  await context.close();
});

test('an IndexedDB snapshot survives a page reload; pagehide saves unsaved changes', async () => {
  const context = await env.browser.newContext();
  const page = await open(context);
  await page.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    const db = await Cinnabar.open({ persistence: indexedDbAdapter('reload') });
    await db.set('saved', 'by SAVE');
    await db.rpush('list', 'a', 'b');
    await db.save();
    await db.set('unsaved', 'saved by pagehide');
    window.dispatchEvent(new Event('pagehide'));
    await db.saving;
    window.statusAfterHide = db.status;
  });
  assert.equal((await page.evaluate(() => window.statusAfterHide)).dirty, 0);
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const after = await page.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    const db = await Cinnabar.open({ persistence: indexedDbAdapter('reload') });
    const r = [await db.get('saved'), await db.lrange('list', 0, -1), await db.get('unsaved'), db.status.dirty];
    await db.close();
    return r;
  });
  assert.deepEqual(after, ['by SAVE', ['a', 'b'], 'saved by pagehide', 0]);
  await context.close();
});

test('hiding the page (visibilitychange) saves unsaved changes; a visible page does not', async () => {
  const context = await env.browser.newContext();
  const page = await open(context);
  const r = await page.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    const db = await Cinnabar.open({ persistence: indexedDbAdapter('hide'), autosave: false });
    await db.set('k', 'v');
    let state = 'visible';
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    document.dispatchEvent(new Event('visibilitychange'));
    await db.saving;
    const whileVisible = db.status.dirty;
    state = 'hidden';
    document.dispatchEvent(new Event('visibilitychange'));
    await db.saving;
    const afterHidden = db.status.dirty;
    const stored = await indexedDbAdapter('hide').load();
    await db.close();
    return { whileVisible, afterHidden, stored: stored ? stored.length : 0 };
  });
  assert.equal(r.whileVisible, 1);
  assert.equal(r.afterHidden, 0);
  assert.ok(r.stored > 0);
  await context.close();
});

test('a corrupt snapshot in IndexedDB is refused by its checksum and the previous one opens', async () => {
  const context = await env.browser.newContext();
  const page = await open(context);
  await page.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    const store = indexedDbAdapter('corrupt');
    const db = await Cinnabar.open({ persistence: store });
    await db.set('gen', '1');
    await db.save();
    await db.set('gen', '2');
    await db.save();
    const bytes = db.exportRdb();
    await db.close();
    bytes[bytes.length - 12] ^= 0xff; // inside the data: only the CRC64 tells
    await store._putRaw(bytes);
  });
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const r = await page.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    const db = await Cinnabar.open({ persistence: indexedDbAdapter('corrupt') });
    const out = { gen: await db.get('gen'), loadError: db.loadError?.message, status: db.status.error };
    await db.close();
    return out;
  });
  assert.equal(r.gen, '1');
  assert.match(r.loadError, /bad RDB snapshot/);
  assert.match(r.status, /refused/);
  // With no sound snapshot at all, open() fails with the reason and does not keep the lock.
  const lone = await page.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    const store = indexedDbAdapter('lone');
    await store._putRaw(new TextEncoder().encode('REDIS0010 truncated'));
    let error = null;
    try {
      await Cinnabar.open({ persistence: store });
    } catch (e) {
      error = e.message;
    }
    const held = (await navigator.locks.query()).held.map((l) => l.name);
    return { error, held };
  });
  assert.match(lone.error, /bad RDB snapshot/);
  assert.ok(!lone.held.includes('cinnabar:indexeddb:lone'), 'the lock was released');
  await context.close();
});

test('two tabs on one database: one owner (Web Locks), the other told so', async () => {
  const context = await env.browser.newContext();
  const a = await open(context);
  const b = await open(context);
  await a.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    window.db = await Cinnabar.open({ persistence: indexedDbAdapter('tabs') });
    await window.db.set('owner', 'tab A');
    await window.db.save();
  });
  const refused = await b.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    try {
      await Cinnabar.open({ persistence: indexedDbAdapter('tabs') });
      return 'opened';
    } catch (e) {
      return [e.name, e.message];
    }
  });
  assert.equal(refused[0], 'DatabaseLockedError');
  assert.match(refused[1], /open in another tab/);
  const shared = await b.evaluate(async () => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    const db = await Cinnabar.open({ persistence: indexedDbAdapter('tabs'), lock: 'shared' });
    await db.set('owner', 'tab B (not saved)');
    await db.save(); // a non-owner's save stores nothing
    const r = { owner: db.status.owner, value: await db.get('owner') };
    await db.close();
    return r;
  });
  assert.deepEqual(shared, { owner: false, value: 'tab B (not saved)' });
  // 'wait' opens once tab A closes, and sees tab A's data, not tab B's copy.
  await b.evaluate(() => {
    const { Cinnabar, indexedDbAdapter } = window.pkg;
    window.waiting = Cinnabar.open({ persistence: indexedDbAdapter('tabs'), lock: 'wait' }).then(async (db) => {
      window.waited = await db.get('owner');
      window.waitedOwner = db.status.owner;
    });
  });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await b.evaluate(() => window.waited ?? null), null, 'still waiting while tab A owns it');
  await a.evaluate(() => window.db.close());
  await b.waitForFunction(() => window.waited !== undefined);
  assert.deepEqual(await b.evaluate(() => [window.waited, window.waitedOwner]), ['tab A', true]);
  await context.close();
});
