// The same cache under Node: an HTTP server around createApp, the snapshot in a file.
//   node edge/node.js [port]   (ORIGIN_DELAY_MS, MAXMEMORY, SNAPSHOT env vars)
import { createServer } from 'node:http';
import { Cinnabar, fileAdapter } from '../src/index.js';
import { createApp } from './app.js';

export async function start({ port = 8787, origin, snapshot = process.env.SNAPSHOT, maxmemory = process.env.MAXMEMORY ?? '8mb', clock = Date.now, ...rest } = {}) {
  const db = await Cinnabar.open({
    clock,
    maxmemory,
    policy: 'allkeys-lru',
    persistence: snapshot ? fileAdapter(snapshot) : undefined,
    autosave: [{ seconds: 5, changes: 1 }],
  });
  const delay = Number(process.env.ORIGIN_DELAY_MS ?? 200);
  origin ??= (id) => new Promise((r) => setTimeout(() => r(`item ${id} from the origin`), delay));
  const app = createApp({ db, origin, clock, ...rest });
  const server = createServer(async (req, res) => {
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, { method: req.method, headers: req.headers });
    const response = await app.fetch(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { db, app, server, url: `http://127.0.0.1:${server.address().port}`, async close() { await new Promise((r) => server.close(r)); await db.close({ save: !!snapshot }); } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await start({ port: Number(process.argv[2] ?? 8787) });
  console.log(`edge cache on ${s.url} (try ${s.url}/item/1)`);
}
