// The edge cache under workerd (miniflare): the package's worker entry (the .wasm imported
// as a compiled module), a service-bound slow origin, a KV namespace for snapshots. Cache
// hits and misses, a stampede, TTL expiry on a controlled clock, rate-limit verdicts, and
// the snapshot restored after the worker restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';

const WWW = fileURLToPath(new URL('../../', import.meta.url));

function worker(kvPersist, bindings = {}) {
  return new Miniflare({
    kvPersist, // shared by the workers: the KV data outlives this instance
    workers: [
      {
        name: 'edge',
        modules: true,
        modulesRoot: WWW,
        scriptPath: join(WWW, 'edge/worker.js'),
        modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
        compatibilityDate: '2024-09-23',
        serviceBindings: { ORIGIN: 'origin' },
        kvNamespaces: ['SNAPSHOTS'],
        bindings: { TEST_CLOCK: '1', RATE_LIMIT: '5', RATE_WINDOW: '1000', TTL: '30', JITTER: '0', ...bindings },
      },
      { name: 'origin', modules: true, scriptPath: join(WWW, 'edge/origin-worker.js'), compatibilityDate: '2024-09-23' },
    ],
  });
}

const T0 = 1_767_225_600_000;
const at = (mf, path, now, client = 'c') => mf.dispatchFetch(`http://edge${path}`, { headers: { 'x-test-now': String(now), 'x-client': client } });

test('under workerd: misses, hits, a stampede, TTL expiry, rate limits, and a snapshot across restarts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cinnabar-workerd-'));
  let mf = worker(dir);
  try {
    let r = await at(mf, '/item/1', T0);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-cache'), 'MISS');
    assert.equal(await r.text(), 'value of 1 (origin)');
    r = await at(mf, '/item/1', T0 + 10);
    assert.equal(r.headers.get('x-cache'), 'HIT');
    await r.text();

    // A stampede: the origin is called once, the rest wait for its value.
    const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => at(mf, '/item/hot', T0 + 20, `burst-${i}`)));
    const kinds = burst.map((x) => x.headers.get('x-cache')).sort();
    await Promise.all(burst.map((x) => x.text()));
    assert.deepEqual(kinds, ['MISS', 'WAIT', 'WAIT', 'WAIT', 'WAIT']);
    let stats = await (await at(mf, '/stats', T0 + 30)).json();
    assert.equal(stats.originCalls, 2);

    // TTL 30 s (no jitter): still a hit at +29 s, a miss at +31 s.
    r = await at(mf, '/item/1', T0 + 29_000, 'ttl');
    assert.equal(r.headers.get('x-cache'), 'HIT');
    await r.text();
    r = await at(mf, '/item/1', T0 + 31_000, 'ttl');
    assert.equal(r.headers.get('x-cache'), 'MISS');
    await r.text();

    // Rate limit: 5 per second per client.
    const codes = [];
    for (let i = 0; i < 6; i++) {
      const x = await at(mf, '/item/1', T0 + 40_000 + i, 'greedy');
      codes.push(x.status);
      await x.text();
    }
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 429]);
    r = await at(mf, '/item/1', T0 + 41_001, 'greedy');
    assert.equal(r.status, 200, 'the window slid');
    await r.text();

    // Snapshot to KV, then a new worker (a restart) opens it: a hit with no origin call.
    r = await mf.dispatchFetch('http://edge/snapshot', { method: 'POST', headers: { 'x-test-now': String(T0 + 42_000) } });
    assert.equal((await r.json()).saved, true);
    await mf.dispose();
    mf = worker(dir);
    r = await at(mf, '/item/1', T0 + 43_000, 'after-restart');
    assert.equal(r.headers.get('x-cache'), 'HIT');
    assert.equal(await r.text(), 'value of 1 (origin)');
    stats = await (await at(mf, '/stats', T0 + 43_001)).json();
    assert.equal(stats.originCalls, 0);
    assert.ok(stats.keys >= 2);
  } finally {
    await mf.dispose();
    await rm(dir, { recursive: true });
  }
});
