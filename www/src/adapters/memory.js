// The reference adapter: the snapshot lives in this object (tests, and edge workers that only
// need the dataset to survive a `db.close()` / `Cinnabar.open()` within one isolate). Like
// the IndexedDB adapter it keeps the snapshot before the current one (`loadPrevious`).
export function memoryAdapter(name = 'memory') {
  let current = null;
  let previous = null;
  return {
    name,
    async load() {
      return current ? current.slice() : null;
    },
    async loadPrevious() {
      return previous ? previous.slice() : null;
    },
    async save(bytes) {
      previous = current;
      current = bytes.slice();
    },
    /** The bytes as stored (tests). */
    peek() {
      return current;
    },
    /** Overwrites the current snapshot with raw bytes (tests of corrupt data). */
    _putRaw(bytes) {
      current = bytes.slice();
    },
  };
}
