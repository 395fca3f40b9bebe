/**
 * A block's closures are made on first use (src/backends/soft/block-closures.ts): blocks that
 * run through their cold records never make them. Eager closures would pass every differential
 * test (they do the same work) and only cost memory: these tests look at the slots themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import { allClosures, closureAt, emptyClosures } from '../../src/backends/soft/block-closures.js';
import { W } from '../../src/backends/soft/cold-code.js';
import { RUN_WAYS, runLongModeGuest, softCpu } from './vm.js';

const insn = (hex: string) => decode(Uint8Array.from(Buffer.from(hex.padEnd(30, '0'), 'hex')), 64, 0);

test('block closures: made once each, on first use; allClosures makes the rest', () => {
  const slots = { insns: ['488b4308', '0fa2', '660ffec1'].map(insn), fns: emptyClosures(3) }; // mov rax, [rbx+8]; cpuid; paddd xmm0, xmm1
  assert.deepEqual(slots.fns, [undefined, undefined, undefined]);
  const cpuid = closureAt(slots, 1);
  assert.equal(typeof cpuid, 'function');
  assert.equal(closureAt(slots, 1), cpuid, 'the second use gets the same closure');
  assert.equal(slots.fns[0], undefined);
  assert.equal(slots.fns[2], undefined);
  const all = allClosures(slots);
  assert.equal(all.length, 3);
  assert.ok(all.every((f) => typeof f === 'function'));
  assert.equal(all[1], cpuid, 'allClosures keeps the ones already made');
});

// guests/soft-smc-keep.S: the block at 0x11000 (ADD EDX, 5; RET) runs 100 times.
const HOT = 0x11000;
for (const way of RUN_WAYS) {
  if (way[2]) continue; // one instruction at a time builds no blocks
  test(`block closures: a block run through its records makes none; a compiled one has all (${way[0]})`, () => {
    runLongModeGuest('soft-smc-keep', way, ({ end }, vm) => {
      assert.equal(end.reason, 'io', `ended with ${end.reason}`);
      const cpu = softCpu(vm);
      cpu.setRip(HOT);
      const block = cpu.fetchBlock();
      assert.ok(block?.code !== undefined && block.count === 2);
      for (let k = 0; k < block.count; k++) assert.notEqual(block.code[block.codeAt + k * W], 0, `instruction ${k} has a record`);
      if (way[1] === Infinity) assert.deepEqual(block.fns, [undefined, undefined], 'cold: no closure was made');
      else assert.ok(block.fn !== undefined && block.fns.every((f) => typeof f === 'function'), 'compiled: every closure bound');
    });
  });
}
