// The package as users get it: imported by its name through package.json's exports (Node
// picks the node entry), its files list covers what the entries import, and the TypeScript
// declarations compile against real usage (tsc --noEmit, strict).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const WWW = fileURLToPath(new URL('../', import.meta.url));

test('import by package name resolves the Node entry and works', async () => {
  const pkg = await import('cinnabar');
  const db = await pkg.Cinnabar.open({ hz: 0 });
  assert.equal(await db.command('PING'), 'PONG');
  assert.equal(typeof pkg.fileAdapter, 'function');
  assert.equal(typeof pkg.ioredisConnector, 'function');
  await db.close();
});

test('exports name an entry per runtime and the types', async () => {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url)));
  const e = pkg.exports['.'];
  assert.equal(e.node, './src/index.js');
  assert.equal(e.browser, './src/browser.js');
  assert.equal(e.workerd, './src/worker.js');
  assert.equal(e.types, './src/index.d.ts');
  assert.deepEqual(pkg.files, ['src', 'pkg']);
});

test('the TypeScript declarations compile against usage, and misuse is rejected', async () => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  try {
    await run(process.execPath, [tsc, '-p', 'test/packaging/tsconfig.json'], { cwd: WWW });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});

test('the packed tarball installs into a fresh project and runs there', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cinnabar-pack-'));
  try {
    const { stdout } = await run('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: WWW });
    const tarball = join(dir, stdout.trim().split('\n').pop());
    const app = join(dir, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: app });
    await writeFile(join(app, 'main.js'), `
      import { Cinnabar, memoryAdapter } from 'cinnabar';
      const db = await Cinnabar.open({ persistence: memoryAdapter() });
      await db.set('k', 'from the tarball');
      await db.save();
      console.log(await db.get('k'), db.status.dirty);
      await db.close();
    `);
    const out = await run(process.execPath, ['main.js'], { cwd: app });
    assert.equal(out.stdout.trim(), 'from the tarball 0');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
