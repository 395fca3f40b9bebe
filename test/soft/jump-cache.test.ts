/**
 * The soft CPU's jump cache (cpu.ts fetchBlock: blocks by linear address for the steps block
 * links miss) must never serve a block after what is behind its address changed: the
 * soft-jump-cache guest (guests/soft-jump-cache.S) calls three functions at fixed linear
 * addresses through one indirect CALL while, inside one run, their page is remapped with
 * INVLPG, remapped back with a CR3 reload, and written. Each phase's sum must be what the code
 * then mapped returns, with blocks run through their closures, compiled after a few runs, and
 * one instruction at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_WAYS, runLongModeGuest, softCpu, WASM_WAY } from './vm.js';

/** 300 calls, 100 to each function: the sums of the values they return. */
const sum = (values: number[]): number => 100 * values.reduce((a, b) => a + b, 0);
const EXPECTED = [sum([0xa0, 0xa1, 0xa2]), sum([0xb0, 0xb1, 0xb2]), sum([0xa0, 0xa1, 0xa2]), sum([0xc0, 0xa1, 0xa2])];

for (const way of [...RUN_WAYS, WASM_WAY]) {
  test(`jump cache: remapped, reloaded and rewritten code is seen at once (${way[0]})`, () => {
    runLongModeGuest('soft-jump-cache', way, ({ log, end }, vm) => {
      assert.equal(end.reason, 'io', `ended with ${end.reason}`);
      assert.deepEqual(log, EXPECTED);
      // The wasm chain keeps a jump cache of its own (wasm/chain.ts): it must have been used.
      if (way === WASM_WAY) assert.ok((softCpu(vm).wasm?.chainSteps ?? 0) > 100, 'wasm blocks ran chained');
    });
  });
}
