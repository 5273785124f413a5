// Cinnabar in an edge worker (workerd / Cloudflare Workers, and bundlers that import .wasm as
// a compiled WebAssembly.Module): the module comes in by import, so no fetch and no file.
import { setLoader } from './core.js';
import * as wasm from '../pkg/cinnabar.js';
import module from '../pkg/cinnabar_bg.wasm';

let ready = false;
setLoader(async () => {
  if (!ready) {
    wasm.initSync({ module });
    ready = true;
  }
  return wasm;
});

export { Cinnabar, ReplyError, DatabaseLockedError, RespConnection } from './core.js';
export { memoryAdapter } from './adapters/memory.js';
export { customAdapter } from './adapters/custom.js';
