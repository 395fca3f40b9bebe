/**
 * Code at the end of a page (cpu.ts buildBlock, fetchSlow): blocks are built up to the page's
 * last byte, ending before an instruction that continues on the next page; that instruction
 * runs on its own, its decoded copy reused only while its bytes on the next page are unchanged.
 * The soft-page-end guest (guests/soft-page-end.S) loops through the first page's last 14 bytes
 * into a MOV whose immediate it rewrites on the next page every pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_WAYS, runLongModeGuest, softCpu } from './vm.js';

/** 200 passes of 3 plus the immediate the previous pass stored: 600 + (0 + 1 + ... + 199). */
const EXPECTED = 600 + (199 * 200) / 2;
const LOOP = 0x10ff4, CROSSING = 0x10fff;

for (const way of RUN_WAYS) {
  test(`page end: blocks reach the page's last byte, a crossing instruction sees its rewritten bytes (${way[0]})`, () => {
    runLongModeGuest('soft-page-end', way, ({ log, end }, vm) => {
      assert.equal(end.reason, 'io', `ended with ${end.reason}`);
      assert.deepEqual(log, [EXPECTED]);
      const cpu = softCpu(vm);
      if (cpu.interpretOnly) return;
      // The loop's head is a block of its five instructions, up to the MOV on the page's last byte.
      cpu.setRip(LOOP);
      const block = cpu.fetchBlock();
      assert.ok(block, 'a block starts in the page\'s last 14 bytes');
      assert.deepEqual(block.insns.map((i) => i.mnemonic), ['add', 'inc', 'nop', 'nop', 'mov']);
      assert.equal(block.bytes, CROSSING - LOOP, 'it ends where the crossing MOV starts');
      cpu.setRip(CROSSING);
      assert.equal(cpu.fetchBlock(), undefined, 'the MOV continuing on the next page runs on its own');
    });
  });
}
