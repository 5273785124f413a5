// Shared by the Node tests: a clock the test moves, a short wait for microtask delivery, and
// a real redis-server on a free loopback port.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:net';

const run = promisify(execFile);
export function fakeClock(start = 1_767_225_600_000) {
  let now = start;
  const clock = () => now;
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

export const settle = (ms = 0) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

// redis-server with its files in `dir` (plus `args`), once it answers PING: its port,
// `cli(...args)` through redis-cli, and `stop()`.
export async function startRedisServer(dir, args = []) {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' });
  const exited = new Promise((r) => proc.once('exit', r));
  const cli = (...a) => run('redis-cli', ['-p', String(port), ...a]);
  for (let i = 0; ; i++) {
    try {
      if ((await cli('PING')).stdout.trim() === 'PONG') break;
    } catch (e) {
      if (i > 50) throw e;
    }
    await settle(100);
  }
  return {
    port,
    cli,
    // Safe to call twice.
    async stop() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
