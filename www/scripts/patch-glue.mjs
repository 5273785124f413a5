// Run right after `wasm-bindgen --target web --out-dir www/pkg ...`:
//   node www/scripts/patch-glue.mjs [www/pkg]
// wasm-bindgen's glue keeps one module-level instance and `initSync`/`init` refuse to make a
// second. After a trap (a Rust panic in wasm) that instance is unusable, so the package
// re-creates it (www/src/recovery.js): this appends `reinstantiate()`, which instantiates
// the module the glue already compiled anew, with the glue's own imports, and makes it the
// glue's instance. It relies on three internal names of the glue; if a wasm-bindgen version
// renames them the build stops here, loudly, instead of shipping a package that cannot
// recover.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(process.argv[2] ?? new URL('../pkg', import.meta.url).pathname);
const js = join(dir, 'cinnabar.js');
const dts = join(dir, 'cinnabar.d.ts');
const MARK = '// --- cinnabar: reinstantiate (appended by www/scripts/patch-glue.mjs)';

let glue = readFileSync(js, 'utf8');
const needed = [
  ['function __wbg_get_imports()', 'the imports builder'],
  ['function __wbg_finalize_init(instance, module)', 'the instance setter'],
  ['let wasmModule, wasmInstance, wasm;', 'the module-level instance'],
];
const missing = needed.filter(([text]) => !glue.includes(text));
if (missing.length) {
  console.error(`patch-glue: ${js} lacks ${missing.map(([t, what]) => `${what} (\`${t}\`)`).join(', ')}.`);
  console.error('patch-glue: this wasm-bindgen version generates different glue; adapt www/scripts/patch-glue.mjs to it (the package cannot recover from a trap without it).');
  process.exit(1);
}
if (!glue.includes(MARK)) {
  glue += `
${MARK}
/**
 * Instantiates the compiled module again (a fresh memory) and makes it this glue's instance.
 * Every object made by the old instance is invalid afterwards: detach each with
 * \`__destroy_into_raw()\` (never \`free()\`, which would free into the new instance).
 * @returns {Promise<void>}
 */
export async function reinstantiate() {
    if (wasmModule === undefined) throw new Error('cinnabar: the wasm module was never initialised');
    const instance = await WebAssembly.instantiate(wasmModule, __wbg_get_imports());
    __wbg_finalize_init(instance, wasmModule);
}
`;
  writeFileSync(js, glue);
}
let types = readFileSync(dts, 'utf8');
if (!types.includes('export function reinstantiate(')) {
  types = types.replace(/\nexport function wasmMemory\(\): any;\n/, (m) => `${m}\n/** A fresh instance of the module (see www/scripts/patch-glue.mjs). */\nexport function reinstantiate(): Promise<void>;\n`);
  if (!types.includes('export function reinstantiate(')) types += '\n/** A fresh instance of the module (see www/scripts/patch-glue.mjs). */\nexport function reinstantiate(): Promise<void>;\n';
  writeFileSync(dts, types);
}
console.log(`patch-glue: ${js} can reinstantiate`);
