// Cinnabar for Node: the wasm engine (wasm-bindgen's `--target web` output in ../pkg, loaded
// from its file with initSync) behind the wrapper in core.js. Browsers import browser.js and
// edge workers worker.js; package.json's "exports" picks the right one.
import { readFileSync } from 'node:fs';
import { setLoader } from './core.js';
import * as wasm from '../pkg/cinnabar.js';

let ready = false;
setLoader(async () => {
  if (!ready) {
    wasm.initSync({ module: readFileSync(new URL('../pkg/cinnabar_bg.wasm', import.meta.url)) });
    ready = true;
  }
  return wasm;
});

export { Cinnabar, ReplyError, DatabaseLockedError, RespConnection } from './core.js';
export { memoryAdapter } from './adapters/memory.js';
export { fileAdapter } from './adapters/file.js';
export { customAdapter } from './adapters/custom.js';
export { createRespStream, ioredisConnector, serveResp } from './stream.js';
