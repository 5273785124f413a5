// The edge cache under Deno: the package loaded as a browser or Deno Deploy loads it
// (src/browser.js, the .wasm fetched beside the glue), the same app as under workerd and
// Node. Run by edge/test/deno.test.mjs with Deno from npm; prints one JSON line of results.
//   deno run --allow-read edge/deno.js
import { Cinnabar, memoryAdapter } from '../src/browser.js';
import { createApp } from './app.js';

let now = 1_767_225_600_000;
const clock = () => now;
const calls = [];
const origin = async (id) => {
  calls.push(id);
  await new Promise((r) => setTimeout(r, 20));
  return `value of ${id}`;
};
const store = memoryAdapter();
const get = (app, path, client = 'c1') => app.fetch(new Request(`http://edge${path}`, { headers: { 'x-client': client } }));
const out = { runtime: `deno ${Deno.version.deno}` };

let db = await Cinnabar.open({ clock, hz: 0, persistence: store, maxmemory: '4mb', policy: 'allkeys-lru' });
let app = createApp({ db, origin, clock, ttl: 60, jitter: 10, random: () => 0.5, limit: 3, window: 1000 });
// A stampede: five concurrent misses, one origin call.
const first = await Promise.all([1, 2, 3, 4, 5].map((i) => get(app, '/item/7', `s${i}`)));
out.stampede = { caches: first.map((r) => r.headers.get('x-cache')).sort(), bodies: await Promise.all(first.map((r) => r.text())), originCalls: calls.length };
out.hit = (await get(app, '/item/7', 'h')).headers.get('x-cache');
now += 66_000; // past the TTL plus jitter
out.afterTtl = (await get(app, '/item/7', 'h')).headers.get('x-cache');
// The sliding window: three requests pass, the fourth is refused, and a second later it passes.
const statuses = [];
for (let i = 0; i < 4; i++) statuses.push((await get(app, '/item/8', 'rl')).status);
now += 1001;
statuses.push((await get(app, '/item/8', 'rl')).status);
out.rateLimit = statuses;
// The snapshot survives a restart of the worker.
await db.close({ save: true });
db = await Cinnabar.open({ clock, hz: 0, persistence: store });
app = createApp({ db, origin, clock, ttl: 60, jitter: 10, random: () => 0.5, limit: 100 });
out.afterRestart = (await get(app, '/item/7', 'r')).headers.get('x-cache');
out.originCallsAtEnd = calls.length;
await db.close();
console.log(JSON.stringify(out));
