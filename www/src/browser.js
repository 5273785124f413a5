// Cinnabar in a browser: the .wasm is fetched next to ../pkg/cinnabar.js (or from
// `setWasmUrl`), streamed and compiled once per page.
import { setLoader } from './core.js';
import init, * as wasm from '../pkg/cinnabar.js';

let ready = null;
let url;
/** Where the .wasm lives, when a bundler or CDN moved it away from pkg/. */
export function setWasmUrl(u) {
  url = u;
}
setLoader(() => {
  ready ??= init(url === undefined ? undefined : { module_or_path: url }).then(() => wasm);
  return ready;
});

export { Cinnabar, ReplyError, DatabaseLockedError, RespConnection } from './core.js';
export { memoryAdapter } from './adapters/memory.js';
export { indexedDbAdapter } from './adapters/indexeddb.js';
export { customAdapter } from './adapters/custom.js';
