/**
 * `node --import` this for lazy-commands.test.ts: the soft CPU's module is replaced by one that
 * throws (its importers then fail to link against it), so a command that loads it fails and one
 * that does not is unaffected.
 */
import { register } from 'node:module';
import type { StubData } from './module-stub-hooks.js';

const data: StubData = { suffix: '/backends/soft/cpu.js', source: "throw new Error('simulated: the soft CPU module was loaded');" };
register('./module-stub-hooks.js', { parentURL: import.meta.url, data });
