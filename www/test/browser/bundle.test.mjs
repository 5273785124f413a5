// Packaging through a bundler: esbuild bundles an app that imports the package by name for
// the browser (the .wasm copied next to the bundle, as a bundler's asset step would), and
// the bundle runs in Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { serve, launch, newPage, WWW, ARTIFACTS } from './harness.mjs';

test('an esbuild bundle of an app using the package runs in Chromium', async () => {
  const out = join(ARTIFACTS, 'bundle');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await build({
    entryPoints: [join(WWW, 'test/browser/bundle-app/app.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(out, 'app.js'),
    absWorkingDir: WWW,
    logLevel: 'error',
  });
  await copyFile(join(WWW, 'test/browser/bundle-app/index.html'), join(out, 'index.html'));
  await copyFile(join(WWW, 'pkg/cinnabar_bg.wasm'), join(out, 'cinnabar_bg.wasm'));
  const server = await serve(out);
  const browser = await launch();
  try {
    const page = await newPage(await browser.newContext());
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20_000 });
    assert.deepEqual(await page.evaluate(() => window.result), ['yes', 1]);
  } finally {
    await browser.close();
    await server.close();
  }
});
