/**
 * Code pages written a few bytes at a time (code-page.ts): a guest write drops only what was
 * decoded from the bytes it changed. The soft-smc-keep guest (guests/soft-smc-keep.S) rewrites
 * one function's immediate every pass while calling another function on the same page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_WAYS, runLongModeGuest, softCpu } from './vm.js';

/** 100 passes of 5 plus the immediate just written (100 down to 1). */
const EXPECTED = 100 * 5 + (100 * 101) / 2;
const HOT = 0x11000;

for (const way of RUN_WAYS) {
  test(`code page: a rewritten immediate is seen each pass, an unwritten block on the page survives (${way[0]})`, () => {
    runLongModeGuest('soft-smc-keep', way, ({ log, end }, vm) => {
      assert.equal(end.reason, 'io', `ended with ${end.reason}`);
      assert.deepEqual(log, [EXPECTED]);
      const cpu = softCpu(vm);
      if (cpu.interpretOnly) return;
      cpu.setRip(HOT);
      const block = cpu.fetchBlock();
      assert.ok(block);
      if (way[1] === Infinity) assert.equal(block.runs, 100, 'the same block ran every pass, through 100 writes to its page');
      else assert.ok(block.fn !== undefined && block.runs === way[1], 'compiled once, kept through 100 writes to its page');
    });
  });
}
