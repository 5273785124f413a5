// Snapshots in IndexedDB (browsers). One object store holds, per database name, the current
// snapshot and the one before it. A save is one readwrite transaction that moves the current
// snapshot to `previous` and puts the new one: IndexedDB commits a transaction whole or not
// at all, so a tab closed mid-save leaves the old pair intact. If the current snapshot is
// ever unreadable (its RDB checksum fails), the wrapper refuses it and opens `previous`.
const DB_NAME = 'cinnabar';
const STORE = 'snapshots';

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function openDb(idb) {
  const r = idb.open(DB_NAME, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE);
  return request(r);
}

export function indexedDbAdapter(name = 'default', { indexedDB: idb = globalThis.indexedDB } = {}) {
  if (!idb) throw new Error('cinnabar: IndexedDB is not available here');
  let handle = null;
  const db = async () => (handle ??= await openDb(idb));
  const read = async (key) => {
    const tx = (await db()).transaction(STORE, 'readonly');
    const v = await request(tx.objectStore(STORE).get(key));
    return v ? new Uint8Array(v.bytes) : null;
  };
  return {
    name: `indexeddb:${name}`,
    load: () => read(name),
    loadPrevious: () => read(`${name}:previous`),
    async save(bytes) {
      const tx = (await db()).transaction(STORE, 'readwrite', { durability: 'strict' });
      const store = tx.objectStore(STORE);
      const done = new Promise((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error('snapshot transaction aborted'));
      });
      const cur = store.get(name);
      cur.onsuccess = () => {
        if (cur.result) store.put(cur.result, `${name}:previous`);
        store.put({ bytes: bytes.slice().buffer, savedAt: Date.now(), size: bytes.length }, name);
      };
      await done;
    },
    /** Writes raw bytes as the current snapshot without checks (tests of corrupt data). */
    async _putRaw(bytes) {
      const tx = (await db()).transaction(STORE, 'readwrite');
      tx.objectStore(STORE).put({ bytes: bytes.slice().buffer, savedAt: Date.now(), size: bytes.length }, name);
      await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
    },
    close() {
      handle?.close();
      handle = null;
    },
  };
}
