/**
 * A block's successor links (cpu.ts nextBlock) key each successor by the RIP it started at, kept
 * as two small integers so that V8 holds them in the block itself (a kernel RIP's low half is
 * beyond its 31-bit small integers and was a separate heap number). The soft-link-keys guest
 * (guests/soft-link-keys.S) has one indirect CALL alternate between two targets the keys must
 * tell apart: one byte apart at 0xffffffff81000000, and the same low half at
 * 0xffffffff81000000 and 0x0000000081000000 (different code behind each). Each sum must be what
 * the targets return, run every way: with an inexact key the second target would get the first
 * one's block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_WAYS, runLongModeGuest } from './vm.js';

/** 100 calls to each target of a site: MOV AL,0xB0 at the kernel page, 0xC3 one byte on, 0xD0 at the low-half page. */
const EXPECTED = [100 * (0xb0 + 0xc3), 100 * (0xb0 + 0xd0)];

for (const way of RUN_WAYS) {
  test(`block links tell apart successors one byte apart and under another high half (${way[0]})`, () => {
    runLongModeGuest('soft-link-keys', way, ({ log, end }) => {
      assert.equal(end.reason, 'io', `ended with ${end.reason}`);
      assert.deepEqual(log, EXPECTED);
    });
  });
}
