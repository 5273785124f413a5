// Any key-value store with get/put of binary values: a Durable Object's `state.storage`,
// Workers KV, a Map. `get(key)` resolves to a Uint8Array / ArrayBuffer or null/undefined;
// `put(key, bytes)` stores it. The snapshot is one value under `key`, replaced whole, so a
// store whose put is atomic per value (DO storage, KV) keeps either the old or the new one.
export function customAdapter({ get, put, key = 'cinnabar.rdb', name = key }) {
  return {
    name,
    async load() {
      const v = await get(key);
      if (v === null || v === undefined) return null;
      return v instanceof Uint8Array ? v : new Uint8Array(v);
    },
    async save(bytes) {
      await put(key, bytes);
    },
  };
}
