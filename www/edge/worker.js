// The cache as a Cloudflare-style module worker (workerd). Bindings:
//   ORIGIN     a service binding to the slow origin (GET /item/:id)
//   SNAPSHOTS  a KV namespace: the engine's RDB snapshot lives under one key
//   MAXMEMORY, POLICY, TTL, JITTER, RATE_LIMIT, RATE_WINDOW  optional vars
//   TEST_CLOCK "1" lets the x-test-now header set the clock (tests only)
import { Cinnabar, customAdapter } from '../src/worker.js';
import { createApp } from './app.js';

let app = null;
let now = null;
const clock = () => now ?? Date.now();

async function init(env) {
  const db = await Cinnabar.open({
    hz: 0, // no timers in a worker: each request ticks the engine
    clock,
    maxmemory: env.MAXMEMORY ?? '8mb',
    policy: env.POLICY ?? 'allkeys-lru',
    persistence: env.SNAPSHOTS
      ? customAdapter({ key: 'cinnabar.rdb', get: (k) => env.SNAPSHOTS.get(k, 'arrayBuffer'), put: (k, v) => env.SNAPSHOTS.put(k, v) })
      : undefined,
    autosave: [{ seconds: 5, changes: 1 }],
  });
  return createApp({
    db,
    clock,
    origin: async (id) => (await env.ORIGIN.fetch(`http://origin/item/${id}`)).text(),
    ttl: Number(env.TTL ?? 60),
    jitter: Number(env.JITTER ?? 10),
    limit: Number(env.RATE_LIMIT ?? 10),
    window: Number(env.RATE_WINDOW ?? 1000),
  });
}

export default {
  async fetch(request, env, ctx) {
    if (env.TEST_CLOCK === '1' && request.headers.has('x-test-now')) now = Number(request.headers.get('x-test-now'));
    app ??= await init(env);
    const response = await app.fetch(request);
    // Saves started by this request (save points, /snapshot) finish after the response.
    ctx.waitUntil(app.db?.saving ?? Promise.resolve());
    return response;
  },
};
