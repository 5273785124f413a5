// Serves the sandbox: `npm run serve` (or `node sandbox/serve.mjs [port]`) in www/, then open
// the printed URL. The package (pkg/) must be built first: `bash scripts/ci/wasm.sh`, or
// cargo build --release --target wasm32-unknown-unknown -p cinnabar && wasm-bindgen --target web --out-dir www/pkg ...
// && node www/scripts/patch-glue.mjs www/pkg
import { existsSync } from 'node:fs';
import { serve } from '../test/browser/harness.mjs';

const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
if (!existsSync(new URL('../pkg/cinnabar_bg.wasm', import.meta.url))) {
  console.error('www/pkg is missing: build the package first (see README, "The browser sandbox")');
  process.exit(1);
}
const s = await serve(undefined, port);
console.log(`Cinnabar sandbox: ${s.url}/sandbox/`);
