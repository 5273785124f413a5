// The sandbox works offline once loaded: everything it needs is cached at install, and
// requests are answered from the cache first (falling back to the network, whose answer
// refreshes the cache). Bump VERSION when the file list changes.
const VERSION = 'cinnabar-sandbox-v4';
const FILES = [
  './',
  './index.html',
  './app.js',
  './format.js',
  './style.css',
  '../src/browser.js',
  '../src/core.js',
  '../src/helpers.js',
  '../src/rebuild.js',
  '../src/pubsub.js',
  '../src/persistence.js',
  '../src/convenience.js',
  '../src/resp_connection.js',
  '../src/wire.js',
  '../src/recovery.js',
  '../src/adapters/memory.js',
  '../src/adapters/indexeddb.js',
  '../src/adapters/custom.js',
  '../pkg/cinnabar.js',
  '../pkg/cinnabar_bg.wasm',
  '../node_modules/xterm/lib/xterm.js',
  '../node_modules/xterm/css/xterm.css',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k)))).then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  if (event.request.method !== 'GET') return;
  event.respondWith(
    caches.open(VERSION).then(async (cache) => {
      const cached = await cache.match(event.request, { ignoreSearch: true });
      const network = fetch(event.request)
        .then((res) => {
          if (res.ok) cache.put(event.request, res.clone());
          return res;
        })
        .catch(() => undefined);
      return cached ?? (await network) ?? new Response('offline', { status: 503 });
    }),
  );
});
