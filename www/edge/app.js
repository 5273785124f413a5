// An in-process cache in front of a slow origin, the same code under workerd (worker.js) and
// Node (node.js). The engine lives as long as the isolate; requests drive its clock.
//
//   GET /item/:id    cache-aside: a hit is served from the engine; a miss takes a stampede
//                    lock (SET lock:<id> <token> NX PX), fetches the origin once, stores the
//                    value with a TTL plus jitter, and releases the lock (compare-and-delete
//                    in Lua). Requests that lose the lock wait for the winner's value.
//   every request    a sliding-window rate limit per client (x-client header), one Lua
//                    script over a sorted set of request times: 429 past the limit.
//   GET /stats       origin calls, hits, misses, keys, evicted keys, used memory.
//   POST /snapshot   writes the snapshot now (also written by save points).
//
// Eviction under a memory cap is the engine's: `maxmemory` + `maxmemory-policy` options.

export const RATE_LIMIT = `
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
if used >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, used, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return {1, used + 1, 0}
`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

const json = (body, init = {}) => new Response(JSON.stringify(body), { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });

/**
 * @param {object} o
 * @param {import('../src/core.js').Cinnabar} o.db  an open database
 * @param {(id: string) => Promise<string>} o.origin  the slow source of truth
 * @param {() => number} [o.clock]
 * @param {number} [o.ttl]  seconds a cached value lives (plus up to `jitter` seconds)
 * @param {number} [o.jitter]
 * @param {number} [o.limit]  requests per client per `window` ms
 * @param {number} [o.window]
 * @param {() => number} [o.random]
 */
export function createApp({ db, origin, clock = Date.now, ttl = 60, jitter = 10, limit = 10, window = 1000, lockMs = 5000, random = Math.random, sleep = (ms) => new Promise((r) => setTimeout(r, ms)) }) {
  const stats = { originCalls: 0, hits: 0, misses: 0, waited: 0 };
  let seq = 0;

  async function cached(id) {
    const key = `cache:item:${id}`;
    const hit = await db.get(key);
    if (hit !== null) {
      stats.hits++;
      return { value: hit, cache: 'HIT' };
    }
    stats.misses++;
    const lock = `lock:item:${id}`;
    const token = `${clock()}-${++seq}-${random()}`;
    if ((await db.set(lock, token, { NX: true, PX: lockMs })) === 'OK') {
      try {
        stats.originCalls++;
        const value = await origin(id);
        // Jitter spreads expiries so keys cached together do not all miss together.
        const life = ttl + Math.floor(random() * (jitter + 1));
        await db.set(key, value, { EX: life });
        return { value, cache: 'MISS' };
      } finally {
        await db.eval(RELEASE, [lock], [token]);
      }
    }
    // Someone else is fetching it: wait for their value rather than stampeding the origin.
    stats.waited++;
    for (let waited = 0; waited < lockMs; waited += 10) {
      await sleep(10);
      const v = await db.get(key);
      if (v !== null) return { value: v, cache: 'WAIT' };
      if ((await db.exists(lock)) === 0) break;
    }
    stats.originCalls++;
    return { value: await origin(id), cache: 'BYPASS' };
  }

  async function rateLimit(client) {
    const now = clock();
    const [allowed, used, retryMs] = await db.eval(RATE_LIMIT, [`rate:${client}`], [now, window, limit, `${now}-${++seq}`]);
    return { allowed: allowed === 1, used, retryMs };
  }

  async function fetch(request) {
    db.tick(); // workers have no timers between requests: expiry and save points run here
    const url = new URL(request.url);
    const client = request.headers.get('x-client') ?? request.headers.get('cf-connecting-ip') ?? 'anonymous';
    if (url.pathname === '/stats') {
      const info = await db.command('INFO', 'stats');
      const evicted = Number(/evicted_keys:(\d+)/.exec(info)?.[1] ?? 0);
      const memory = await db.command('INFO', 'memory');
      const used = Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? 0);
      return json({ ...stats, keys: await db.dbsize(), evicted, usedMemory: used, dirty: db.status.dirty, lastSave: db.status.lastSave });
    }
    if (url.pathname === '/snapshot' && request.method === 'POST') {
      await db.save();
      return json({ saved: true, lastSave: db.status.lastSave });
    }
    const rl = await rateLimit(client);
    const rlHeaders = { 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(Math.max(0, limit - rl.used)) };
    if (!rl.allowed) {
      return json({ error: 'rate limited' }, { status: 429, headers: { ...rlHeaders, 'retry-after': String(Math.ceil(rl.retryMs / 1000)) } });
    }
    const m = /^\/item\/([\w-]+)$/.exec(url.pathname);
    if (m) {
      const { value, cache } = await cached(m[1]);
      return new Response(value, { headers: { ...rlHeaders, 'x-cache': cache, 'content-type': 'text/plain' } });
    }
    return json({ error: 'not found' }, { status: 404, headers: rlHeaders });
  }

  return { fetch, stats, db };
}
