// In-process ops/s of the wasm engine in Node against ioredis-mock on the same workload
// (GET, SET, INCR, HSET, ZADD, LPUSH+RPOP). Not a test; results go in docs/PERFORMANCE.md.
//   cd www/bench && npm install && node run.mjs      (N=ops per measurement, ROUNDS=5)
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import RedisMock from 'ioredis-mock';
import { Cinnabar } from '../src/index.js';

const N = Number(process.env.N ?? 100_000);
const workload = {
  SET: (i) => ['SET', `key:${i % 1000}`, 'value'],
  GET: (i) => ['GET', `key:${i % 1000}`],
  INCR: () => ['INCR', 'counter'],
  HSET: (i) => ['HSET', 'hash', `f${i % 100}`, 'v'],
  ZADD: (i) => ['ZADD', 'zset', i % 1000, `m${i % 1000}`],
  'LPUSH+RPOP': (i) => (i % 2 ? ['RPOP', 'list'] : ['LPUSH', 'list', 'x']),
};

// A synchronous call measured without an `await` per call (awaiting a plain value still
// costs a microtask turn, which is the Promise API's cost, not the binding's).
function timeSync(n, fn) {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return n / s;
}

async function time(label, n, fn) {
  for (let i = 0; i < Math.min(n, 2000); i++) await fn(i); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return n / s;
}

const db = await Cinnabar.open({ hz: 0 });
const wire = db.wire;
const main = db.engine.defaultClient();
const mock = new RedisMock();
// The shared machines this runs on are noisy (±20% between runs of one binary, and worse in
// bursts): every measurement is taken ROUNDS times, interleaved, and the best kept, for ours
// and ioredis-mock's alike.
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const rows = [];
for (const [name, args] of Object.entries(workload)) {
  const best = { sync: 0, asyncOps: 0, pipeOps: 0, mockPipe: 0, mockOps: 0 };
  const keep = (k, v) => { best[k] = Math.max(best[k], v); };
  // 100 commands per `db.pipeline` call (ioredis's pipeline().exec() is the mock's match).
  const batch = (i) => Array.from({ length: 100 }, (_, j) => args(i * 100 + j));
  for (let round = 0; round < ROUNDS; round++) {
    keep('sync', timeSync(N, (i) => wire.call(main, args(i), Date.now(), false)));
    keep('asyncOps', await time(name, N, (i) => db.command(...args(i))));
    keep('pipeOps', 100 * (await time(name, N / 100, (i) => db.pipeline(batch(i)))));
    keep('mockPipe', 100 * (await time(name, Math.max(50, N / 2000), (i) => {
      const p = mock.pipeline();
      for (const [cmd, ...rest] of batch(i)) p[cmd.toLowerCase()](...rest);
      return p.exec();
    })));
    keep('mockOps', await time(name, Math.max(5000, N / 20), (i) => {
      const [cmd, ...rest] = args(i);
      return mock[cmd.toLowerCase()](...rest);
    }));
  }
  rows.push({ name, ...best });
}
await db.close();
mock.disconnect();

const wasm = readFileSync(new URL('../pkg/cinnabar_bg.wasm', import.meta.url));
const f = (x) => Math.round(x).toLocaleString('en-US');
console.log(`| command | wire.call (sync) ops/s | db.command (await) ops/s | ioredis-mock ops/s | db.command ÷ mock | db.pipeline ×100 ops/s | mock pipeline ×100 ops/s | pipeline ÷ mock |`);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (const r of rows) console.log(`| ${r.name} | ${f(r.sync)} | ${f(r.asyncOps)} | ${f(r.mockOps)} | ${(r.asyncOps / r.mockOps).toFixed(1)}× | ${f(r.pipeOps)} | ${f(r.mockPipe)} | ${(r.pipeOps / r.mockPipe).toFixed(1)}× |`);
console.log(`\ncinnabar_bg.wasm: ${f(wasm.length)} bytes, ${f(gzipSync(wasm, { level: 9 }).length)} gzipped; node ${process.version}, N=${N}, best of ${ROUNDS} rounds`);
