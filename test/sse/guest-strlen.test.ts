/**
 * A 64-bit guest (guests/sse-strlen.S) runs glibc-shaped SSE2/SSE4.2 strlen and memchr loops
 * (PCMPEQB/PMOVMSKB/BSF, PCMPISTRI, a PSHUFD broadcast) on the soft backend to completion and
 * checks every result against byte-at-a-time references in the guest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load, longMode, runLogged, softVm } from '../soft/vm.js';

test('guest strlen/memchr with SSE2 and SSE4.2 agree with byte loops for 3072 strings', () => {
  const vm = softVm();
  try {
    load(vm, 'sse-strlen', 0x10000);
    vm.cpu.setState(longMode(vm, 0x10000));
    const { log, end } = runLogged(vm.cpu);
    assert.equal(end.reason, 'io', `the guest ends with OUT 0xf4, not ${end.reason}${end.reason === 'invalid' ? `: ${end.detail}` : ''}`);
    // What the guest's fill pattern gives: memchr(buf + off, 0x55, len) finds a byte or not.
    let sum = 0, hits = 0;
    for (let off = 0; off < 32; off++) {
      for (let len = 0; len < 96; len++) {
        sum += len;
        let found = false;
        for (let i = 0; i < len; i++) if ((((off + i) * 7 + len) & 0x7f | 1) === 0x55) found = true;
        if (found) hits++;
      }
    }
    assert.ok(hits > 100 && hits < 3072, `the pattern exercises both outcomes (${hits} hits)`);
    assert.deepEqual(log, [0, 32 * 96, sum, hits], 'mismatches, cases, sum of lengths, memchr hits');
  } finally {
    vm.hv.close();
  }
});
