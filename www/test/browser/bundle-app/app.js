// A user's app, bundled by esbuild from the package name (the "browser" export condition).
import { Cinnabar, setWasmUrl } from 'cinnabar';

setWasmUrl(new URL('./cinnabar_bg.wasm', import.meta.url));
const db = await Cinnabar.open();
await db.set('bundled', 'yes');
window.result = [await db.get('bundled'), await db.incr('n')];
