// The sandbox page in headless Chromium: type into the xterm.js terminal and read what it
// printed (redis-cli's formatting), watch the key browser and the persistence indicator,
// reload and find the data again (IndexedDB), import a dump.rdb written by redis-server and
// export one that redis-check-rdb accepts, see PUBLISH live, and load the page offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { withBrowser, newPage, ARTIFACTS } from '../../test/browser/harness.mjs';
import { startRedisServer } from '../../test/helpers.mjs';

const run = promisify(execFile);
const env = withBrowser();

async function openSandbox(context) {
  const page = await newPage(context);
  await page.goto(`${env.server.url}/sandbox/`);
  await page.waitForFunction(() => window.sandbox?.ready === true, null, { timeout: 20_000 });
  await page.click('#terminal');
  return page;
}

/** The terminal's text, trailing blanks trimmed. */
const screen = (page) =>
  page.evaluate(() => {
    const b = window.sandbox.term.buffer.active;
    const lines = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
    return lines.join('\n').replace(/\n+$/, '');
  });

/** Types a line, presses Enter, and returns what the terminal printed for it. */
async function type(page, line) {
  const before = (await screen(page)).split('\n').length;
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => {
    const b = window.sandbox.term.buffer.active;
    const lines = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
    const text = lines.join('\n').replace(/\n+$/, '');
    return text.split('\n').length > n && /^cinnabar(\[\d+\])?>\s*$/.test(lines.filter((l) => l.trim()).pop());
  }, before - 1);
  const lines = (await screen(page)).split('\n');
  const start = lines.findLastIndex((l, i) => i < lines.length - 1 && l.includes(`> ${line}`));
  return lines.slice(start + 1, -1).join('\n');
}

test('the terminal formats replies as redis-cli, the panels follow, data survives a reload', async () => {
  const context = await env.browser.newContext();
  const page = await openSandbox(context);
  assert.equal(await type(page, 'SET greeting hello'), 'OK');
  assert.equal(await type(page, 'GET greeting'), '"hello"');
  assert.equal(await type(page, 'GET nothing'), '(nil)');
  assert.equal(await type(page, 'INCR visits'), '(integer) 1');
  assert.equal(await type(page, 'INCR greeting'), '(error) ERR value is not an integer or out of range');
  assert.equal(await type(page, 'RPUSH list a b'), '(integer) 2');
  assert.equal(await type(page, 'LRANGE list 0 -1'), '1) "a"\n2) "b"');
  assert.equal(await type(page, `EVAL "return {1,{2,'x'}}" 0`), '1) (integer) 1\n2) 1) (integer) 2\n   2) "x"');
  assert.equal(await type(page, 'HSET user:1 name "Ada Lovelace"'), '(integer) 1');
  assert.equal(await type(page, 'EXPIRE user:1 1000'), '(integer) 1');
  // A line longer than the terminal is wide wraps and still runs as typed.
  const long = 'x'.repeat(250);
  await page.keyboard.type(`SET long ${long}`);
  await page.keyboard.press('Enter');
  assert.equal(await type(page, 'STRLEN long'), '(integer) 250');
  assert.ok((await screen(page)).replace(/\n/g, '').includes(`cinnabar> SET long ${long}`), 'the wrapped input is shown whole');
  // History: Up brings back the last line.
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.sandbox.term.buffer.active.length > 0);
  // Completion: Tab completes a unique prefix.
  await page.keyboard.type('ZINTERC');
  await page.keyboard.press('Tab');
  assert.match(await page.evaluate(() => document.getElementById('hint').textContent), /^ZINTERCARD numkeys key \[key \.\.\.\] \[LIMIT limit\]/);
  await page.keyboard.press('Control+C');
  // The key browser lists keys with their types, TTLs and values.
  await page.waitForSelector('#keys tr[data-key="user:1"]');
  const row = await page.$eval('#keys tr[data-key="user:1"]', (tr) => [...tr.children].map((td) => td.textContent));
  assert.equal(row[1], 'hash');
  assert.match(row[2], /^\d+s$/);
  assert.match(row[3], /Ada Lovelace/);
  assert.equal(await page.$eval('#keys tr[data-key="list"] td.type', (td) => td.textContent), 'list');
  // It follows the terminal's database.
  assert.equal(await type(page, 'SELECT 3'), 'OK');
  assert.equal(await type(page, 'SET only:in:3 x'), 'OK');
  await page.waitForSelector('#keys tr[data-key="only:in:3"]');
  assert.equal(await page.$('#keys tr[data-key="user:1"]'), null);
  assert.equal(await page.textContent('#key-count'), '(1 in db 3)');
  assert.equal(await type(page, 'SELECT 0'), 'OK');
  await page.waitForSelector('#keys tr[data-key="user:1"]');
  // The indicator goes from unsaved changes to saved (save point: 1 change, 1 second).
  await page.waitForFunction(() => document.getElementById('persist-state').dataset.state === 'saved', null, { timeout: 10_000 });
  assert.match(await page.textContent('#persist-last'), /last save/);
  await page.screenshot({ path: join(ARTIFACTS, 'sandbox.png') });
  await page.reload();
  await page.waitForFunction(() => window.sandbox?.ready === true);
  await page.click('#terminal');
  assert.equal(await type(page, 'GET greeting'), '"hello"');
  assert.equal(await type(page, 'HGET user:1 name'), '"Ada Lovelace"');
  await context.close();
});

test('blocking commands wait in the terminal; pub/sub shows live', async () => {
  const context = await env.browser.newContext();
  const page = await openSandbox(context);
  await page.keyboard.type('BLPOP jobs 0');
  await page.keyboard.press('Enter');
  await new Promise((r) => setTimeout(r, 100));
  assert.doesNotMatch(await screen(page), /"jobs"/);
  await page.evaluate(() => window.sandbox.db.rpush('jobs', 'j1'));
  await page.waitForFunction(() => {
    const b = window.sandbox.term.buffer.active;
    let t = '';
    for (let i = 0; i < b.length; i++) t += b.getLine(i).translateToString(true) + '\n';
    return t.includes('1) "jobs"') && t.includes('2) "j1"');
  });
  assert.equal(await type(page, 'PUBLISH news "hello world"'), '(integer) 1');
  // Ctrl-C leaves a waiting command; QUIT ends the session and a new one opens.
  await page.keyboard.type('BLPOP nothing 0');
  await page.keyboard.press('Enter');
  await new Promise((r) => setTimeout(r, 50));
  await page.keyboard.press('Control+C');
  assert.equal(await type(page, 'SELECT 1'), 'OK');
  assert.match(await type(page, 'QUIT'), /^OK\n.*\(the connection was closed: a new one is open\)$/s);
  assert.equal(await type(page, 'PING'), 'PONG');
  // SUBSCRIBE in the terminal: messages print as redis-cli prints them, Ctrl-C leaves.
  await page.keyboard.type('SUBSCRIBE chan');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.sandbox.term.buffer.active.getLine(0) !== undefined);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await page.evaluate(() => window.sandbox.db.publish('chan', 'hi')), 2); // the terminal and the panel
  await page.waitForFunction(() => {
    const b = window.sandbox.term.buffer.active;
    let t = '';
    for (let i = 0; i < b.length; i++) t += b.getLine(i).translateToString(true) + '\n';
    return t.includes('Reading messages... (press Ctrl-C to quit)\n1) "subscribe"\n2) "chan"\n3) (integer) 1\n1) "message"\n2) "chan"\n3) "hi"\n');
  });
  await page.keyboard.press('Control+C');
  assert.match(await type(page, 'help GET'), /GET key\n\s+summary: Get the value of a key/);
  assert.equal(await page.evaluate(() => window.sandbox.db.command('INFO', 'clients').then((s) => /blocked_clients:0/.test(s))), true);
  await page.waitForFunction(() => document.getElementById('messages').textContent.includes('news: hello world'));
  await context.close();
});

test('import a dump.rdb from redis-server (file input, progress) and export one redis-check-rdb accepts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cinnabar-sandbox-'));
  const redis = await startRedisServer(dir);
  try {
    const cli = redis.cli;
    await cli('SET', 'from:redis', 'server value');
    await cli('HSET', 'from:hash', 'f', 'v');
    await cli('ZADD', 'from:zset', '1', 'a');
    await cli('SAVE');
    const context = await env.browser.newContext({ acceptDownloads: true });
    const page = await openSandbox(context);
    await page.setInputFiles('#import', join(dir, 'dump.rdb'));
    await page.waitForSelector('#keys tr[data-key="from:redis"]');
    assert.equal(await page.$eval('#progress', (p) => p.value), 100);
    assert.equal(await type(page, 'GET from:redis'), '"server value"');
    assert.equal(await type(page, 'ZSCORE from:zset a'), '"1"');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    assert.equal(download.suggestedFilename(), 'dump.rdb');
    const out = join(dir, 'exported.rdb');
    await download.saveAs(out);
    const check = await run('redis-check-rdb', [out]);
    assert.match(check.stdout, /RDB looks OK!/);
    const bytes = await readFile(out);
    assert.equal(bytes.subarray(0, 5).toString(), 'REDIS');
    // Drag and drop: a dump dropped on the page is imported too.
    await cli('FLUSHALL');
    await cli('SET', 'dropped', 'yes');
    await cli('SAVE');
    const dropped = [...(await readFile(join(dir, 'dump.rdb')))];
    await page.evaluate((data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], 'dropped.rdb'));
      document.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, dropped);
    await page.waitForSelector('#keys tr[data-key="dropped"]');
    assert.equal(await page.$eval('#drop', (d) => d.hidden), true);
    await context.close();
    // The export loads into a redis-server started on it, with the sandbox's keys.
    await redis.stop();
    const redis2 = await startRedisServer(dir, ['--dbfilename', 'exported.rdb']);
    try {
      const cli2 = redis2.cli;
      assert.equal((await cli2('GET', 'from:redis')).stdout.trim(), 'server value');
      assert.equal((await cli2('HGET', 'from:hash', 'f')).stdout.trim(), 'v');
      assert.equal((await cli2('DBSIZE')).stdout.trim(), '3');
    } finally {
      await redis2.stop();
    }
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true });
  }
});

test('the page loads and works offline once loaded (service worker)', async () => {
  const context = await env.browser.newContext();
  const page = await openSandbox(context);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  });
  await context.setOffline(true);
  await page.reload();
  await page.waitForFunction(() => window.sandbox?.ready === true, null, { timeout: 20_000 });
  await page.click('#terminal');
  assert.equal(await type(page, 'PING'), 'PONG');
  await context.setOffline(false);
  await context.close();
});
