// Compiled (not run) by packaging.test.mjs with tsc --noEmit: the declarations describe the
// API the docs show, and misuse is a type error.
import { Cinnabar, ReplyError, memoryAdapter, fileAdapter, customAdapter, ioredisConnector, type Reply, type Status } from 'cinnabar';

async function main(): Promise<void> {
  const db: Cinnabar = await Cinnabar.open({ persistence: memoryAdapter(), autosave: [{ seconds: 60, changes: 1 }], maxmemory: '64mb', policy: 'allkeys-lru', hz: 10 });
  const r: Reply = await db.command('SET', 'k', 'v', 'EX', 60);
  const v: string | Uint8Array | null = await db.get('k');
  const n: number = await db.incr('n');
  const h: Record<string, string | Uint8Array> = await db.hgetall('h');
  const popped = await db.blpop(['a', 'b'], 1);
  const off = await db.subscribe('c', (message, channel) => console.log(channel, message));
  await off();
  const bytes: Uint8Array = db.resp('PING\r\n');
  const s: Status = db.status;
  const recovered: number = s.recoveries;
  const trap: string | null = s.lastTrap;
  const debug = await Cinnabar.open({ conf: { 'enable-debug-command': 'yes', save: ['60 1', '10 5'] } });
  await Cinnabar.open({ conf: 'databases 4\nrename-command KEYS ""' });
  console.log(recovered, trap, debug.status.journal);
  const rdb: Uint8Array = db.exportRdb();
  await db.importRdb(rdb);
  await db.set('k', 'v', { EX: 10, NX: true });
  await db.zrange('z', 0, -1, { WITHSCORES: true });
  const conn = db.connect((b) => b.length);
  conn.write(bytes);
  const file = fileAdapter('/tmp/x.rdb');
  const kv = customAdapter({ get: async () => null, put: async () => undefined });
  const Connector = ioredisConnector(db);
  try {
    await db.command('INCR', 'k');
  } catch (e) {
    if (e instanceof ReplyError) console.log(e.code, e.message);
  }
  console.log(r, v, n, h, popped, s, file, kv, Connector);
  await db.close();
}
main();
