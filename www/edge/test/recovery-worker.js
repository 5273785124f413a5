// A module worker for recovery.test.mjs: the package's worker entry (the .wasm imported as a
// compiled module) traps on DEBUG PANIC and re-instantiates that module under workerd.
import { Cinnabar } from '../../src/worker.js';

async function trap(db) {
  try {
    return `no trap: ${JSON.stringify(await db.command('DEBUG', 'PANIC'))}`;
  } catch (e) {
    return e.message;
  }
}

export default {
  async fetch() {
    const db = await Cinnabar.open({ hz: 0, conf: { 'enable-debug-command': 'yes' } });
    const out = {};
    await db.set('a', '1', { EX: 100 });
    await db.command('RPUSH', 'l', 'x', 'y');
    await db.hset('h', { f: 'v' });
    out.first = await trap(db);
    out.after = [await db.get('a'), await db.ttl('a'), await db.command('LRANGE', 'l', 0, -1), await db.hgetall('h')];
    await db.set('b', '2');
    out.second = await trap(db);
    out.b = await db.get('b');
    out.recoveries = db.status.recoveries;
    out.lastTrap = db.status.lastTrap;
    await db.close();
    return Response.json(out);
  },
};
