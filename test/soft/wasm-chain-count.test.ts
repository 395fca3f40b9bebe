/**
 * The retired count that code called from a compiled block sees (RDTSC's TSC here) when the block
 * runs chained after others inside wasm (wasm/chain.ts): each block adds its count to the arena's
 * at its end, and JS code called from the next one must see those too, as the interpreter and the
 * JS tiers show them. The fuzz found it (seed 3, 45 cases): a TSC two instructions short.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_WAYS, runLongModeGuest, softCpu, WASM_WAY } from './vm.js';

// mov ecx, 200; L: nop; nop; jmp M; M: rdtsc; add r8d, eax; dec ecx; jnz L;
// mov eax, r8d; out 0xe9, eax; hlt: the sum of the TSC's low halves at 200 RDTSCs, each run
// right after the block before it.
const CODE = [
  0xb9, 0xc8, 0x00, 0x00, 0x00,
  0x90, 0x90, 0xeb, 0x00,
  0x0f, 0x31, 0x41, 0x01, 0xc0, 0xff, 0xc9, 0x75, 0xf3,
  0x44, 0x89, 0xc0, 0xe7, 0xe9, 0xf4,
];

test('RDTSC in a block run chained after another sees every instruction retired before it, on every way', () => {
  const sums = [...RUN_WAYS, WASM_WAY].map((way) => {
    let sum = -1;
    runLongModeGuest(CODE, way, ({ log, end }, vm) => {
      assert.equal(end.reason, 'halted', `${way[0]}: ended with ${end.reason}`);
      assert.equal(log.length, 1, `${way[0]}: one OUT`);
      sum = log[0]!;
      if (way === WASM_WAY) assert.ok((softCpu(vm).wasm?.chainSteps ?? 0) > 100, 'wasm blocks ran chained');
    });
    return [way[0], sum] as const;
  });
  const ref = sums.find(([name]) => name === 'one instruction at a time')![1];
  for (const [name, sum] of sums) assert.equal(sum, ref, `${name}: TSC sum vs one instruction at a time`);
});
