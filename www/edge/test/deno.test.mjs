// The edge cache under Deno (the deno binary from npm, a devDependency): edge/deno.js runs
// the stampede, TTL, rate-limit and restart scenario and prints its results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const www = fileURLToPath(new URL('../..', import.meta.url));

test('the edge cache runs under Deno: one origin call per stampede, TTL, rate limit, restart', () => {
  const deno = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));
  const stdout = execFileSync(deno, ['run', '--quiet', `--allow-read=${www}`, 'edge/deno.js'], { cwd: www, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
  const r = JSON.parse(stdout.trim().split('\n').pop());
  assert.match(r.runtime, /^deno 2\./);
  assert.deepEqual(r.stampede.caches, ['MISS', 'WAIT', 'WAIT', 'WAIT', 'WAIT']);
  assert.deepEqual(r.stampede.bodies, Array(5).fill('value of 7'));
  assert.equal(r.stampede.originCalls, 1);
  assert.equal(r.hit, 'HIT');
  assert.equal(r.afterTtl, 'MISS');
  assert.deepEqual(r.rateLimit, [200, 200, 200, 429, 200]);
  assert.equal(r.afterRestart, 'HIT');
  assert.equal(r.originCallsAtEnd, 3);
});
