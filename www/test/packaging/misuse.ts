// Each line below must be a type error (checked by packaging.test.mjs).
import { Cinnabar } from 'cinnabar';
declare const db: Cinnabar;
// @ts-expect-error: options are typed
await Cinnabar.open({ autosave: [{ seconds: '60' }] });
// @ts-expect-error: incr resolves to a number
const s: string = await db.incr('n');
// @ts-expect-error: unknown lock mode
await Cinnabar.open({ lock: 'steal' });
export { s };
