// Surviving a trap under workerd (miniflare): the worker build, whose .wasm arrives as a
// compiled module, re-instantiates it after DEBUG PANIC and loses no acknowledged write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';

const WWW = fileURLToPath(new URL('../../', import.meta.url));

test('under workerd a trap is recovered from: the module instantiated again, the writes replayed', async () => {
  const mf = new Miniflare({
    modules: true,
    modulesRoot: WWW,
    scriptPath: join(WWW, 'edge/test/recovery-worker.js'),
    modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2024-09-23',
  });
  try {
    const r = await (await mf.dispatchFetch('http://worker/')).json();
    const recovered = (n) => `ERR internal error: the engine trapped (a bug) and was recovered from its last snapshot and the ${n} acknowledged writes since`;
    assert.equal(r.first, recovered(3));
    assert.deepEqual(r.after, ['1', 100, ['x', 'y'], { f: 'v' }]);
    assert.equal(r.second, recovered(4));
    assert.equal(r.b, '2');
    assert.equal(r.recoveries, 2);
    assert.match(r.lastTrap, /RuntimeError: unreachable .*DEBUG PANIC/s);
  } finally {
    await mf.dispose();
  }
});
