// Cinnabar in JavaScript: the Rust engine compiled to wasm (built into ../pkg by
// scripts/ci/wasm.sh with `wasm-bindgen --target nodejs`). The host owns the clock: pass
// `clock` to control time (tests, simulations); it defaults to Date.now.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const wasm = require('../pkg/cinnabar.js');

export class Cinnabar {
  /**
   * @param {{ seed?: number, clock?: () => number, hz?: number }} [options]
   *   hz > 0 starts a timer that runs active expiry; call close() to stop it.
   */
  constructor({ seed = Math.floor(Math.random() * 2 ** 32), clock = Date.now, hz = 0 } = {}) {
    this.clock = clock;
    this.engine = new wasm.Engine(seed, clock());
    this.timer = hz > 0 ? setInterval(() => this.tick(), 1000 / hz) : null;
    if (this.timer && this.timer.unref) this.timer.unref();
  }

  /** Runs a command: `db.command('SET', 'k', 'v')`. Redis errors are thrown as Error. */
  command(...argv) {
    return this.engine.command(argv, this.clock());
  }

  /** Active expiry; runs automatically when constructed with `hz`. */
  tick() {
    this.engine.tick(this.clock());
  }

  close() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
