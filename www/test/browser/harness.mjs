// Browser tests' plumbing: a static server for www/ on a loopback port and Debian's
// Chromium driven by playwright-core (no downloaded browser). A missing Chromium is a
// failure, not a skip.
import { createServer } from 'node:http';
import { readFile, stat, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { before, after } from 'node:test';

export const WWW = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = join(WWW, 'test-artifacts');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.rdb': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
};

/** Serves `root` (default www/) on 127.0.0.1; resolves to { url, close }. */
export async function serve(root = WWW, port = 0) {
  const server = createServer(async (req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    try {
      let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      path = normalize(path).replace(/^(\.\.[/\\])+/, '');
      let file = join(root, path);
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

export function chromiumPath() {
  const p = process.env.CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
  if (!p) throw new Error('Chromium not found (apt-get install chromium, or set CHROMIUM)');
  return p;
}

export async function launch() {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

/** A page whose console errors and uncaught exceptions fail loudly in the test output. */
export async function newPage(context) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error('[page console]', m.text());
  });
  return page;
}

/** A static server and a Chromium for the whole test file, started before its tests and
 * closed after them; their handles are on the returned object once `before` has run. */
export function withBrowser() {
  const env = {};
  before(async () => {
    env.server = await serve();
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}

/** The package's test page (test/browser/page.html) in a new page of `context`, once the
 * package has loaded in it (`window.ready`). */
export async function openTestPage(env, context) {
  const page = await newPage(context);
  await page.goto(`${env.server.url}/test/browser/page.html`);
  await page.waitForFunction(() => window.ready === true);
  return page;
}
