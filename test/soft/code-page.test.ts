/**
 * Code pages written a few bytes at a time (code-page.ts): a guest write drops only what was
 * decoded from the bytes it changed. The soft-smc-keep guest (guests/soft-smc-keep.S) rewrites
 * one function's immediate every pass while calling another function on the same page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_WAYS, runLongModeGuest, softCpu } from './vm.js';
import { DecodedInstructions } from '../../src/backends/soft/code-page.js';
import { decode } from '../../src/x86/decoder/index.js';

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

test('code page: decoded instructions by offset (DecodedInstructions): set, replace, drop, bounded by the offsets used', () => {
  const d = new DecodedInstructions();
  const insn = (hex: string) => decode(Uint8Array.from(Buffer.from(hex.padEnd(30, '0'), 'hex')), 64, 0);
  const nop = insn('90'), mov = insn('4889d8'), ret = insn('c3');
  assert.equal(d.at(0), undefined);
  d.set(0, nop);
  d.set(4095, ret);
  assert.equal(d.at(0), nop);
  assert.equal(d.at(4095), ret);
  assert.equal(d.at(1), undefined);
  // A page rewritten again and again: each offset keeps one place in the list.
  for (let k = 0; k < 1000; k++) d.set(1, k % 2 === 0 ? mov : nop);
  assert.equal(d.at(1), nop, 'the last set wins (k = 999 set NOP)');
  assert.equal((d as unknown as { list: unknown[] }).list.length, 3);
  // As keepUnchanged drops what covers a changed byte: byte 1 changed.
  d.dropWhere((off, i) => off <= 1 && off + i.length > 1);
  assert.equal(d.at(0), nop, 'the one-byte NOP at 0 does not cover byte 1');
  assert.equal(d.at(1), undefined);
  assert.equal(d.at(4095), ret);
  d.set(0, mov);
  assert.equal(d.at(0), mov);
  assert.equal((d as unknown as { list: unknown[] }).list.length, 3);
});
