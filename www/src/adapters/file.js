// A dump.rdb file in Node, written as redis-server writes it: a temp file in the same
// directory, fsync, then rename over the old one, so a crash leaves the old or the new
// snapshot, never half of one.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export function fileAdapter(path) {
  const full = resolve(path);
  return {
    name: `file:${full}`,
    async load() {
      try {
        return new Uint8Array(await readFile(full));
      } catch (e) {
        if (e.code === 'ENOENT') return null;
        throw e;
      }
    },
    async save(bytes) {
      const tmp = join(dirname(full), `temp-${process.pid}-${Date.now()}-${basename(full)}`);
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } catch (e) {
        await fh.close();
        await unlink(tmp).catch(() => {});
        throw e;
      }
      await fh.close();
      await rename(tmp, full);
    },
  };
}
