/**
 * The TLB's pair tags (tlb.ts probePair, what the cold records probe with int32 halves) must
 * answer every access exactly as the double tags (probeAt) do, through fills, flushes, INVLPG,
 * address-space switches and write revocation: a pair tag left valid where the double one was
 * dropped would let a cold store reach a page that now holds code, or one no longer mapped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P_RS, P_RU, P_WS, P_WU, probeAt, probePair, slotOf, Tlb, TLB_SIZE } from '../../src/backends/soft/tlb.js';
import { Rng, testSeed } from '../exec/rng.js';

const TWO32 = 4294967296;

test('TLB pair tags answer every access as the double tags do, through fills, flushes and revocations', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const buffer = new ArrayBuffer(1 << 20);
  const main = { u8: new Uint8Array(buffer), u16: new Uint16Array(buffer), i32: new Int32Array(buffer) };
  const other = new Uint8Array(1 << 16); // RAM outside the main buffer: no probe tag at all
  const t = new Tlb();
  t.useMemory(main);
  // Kernel-half, low, and 4 GiB-boundary pages; slots collide on purpose (few distinct low bits).
  const pageOf = (): number => {
    const low = rng.int(64) * TLB_SIZE + rng.int(8);
    switch (rng.int(3)) {
      case 0: return -0x80000000 / 4096 * 16 + low; // 0xffff_fff8_0000_0000 region (signed)
      case 1: return low;
      default: return TWO32 / 4096 - 4 + rng.int(8); // around 4 GiB
    }
  };
  const pages: number[] = [], physPages: number[] = [];
  const kinds = [[t.readS, t.readLoS], [t.readU, t.readLoU], [t.writeS, t.writeLoS], [t.writeU, t.writeLoU]] as const;
  for (let step = 0; step < 4000; step++) {
    const op = rng.int(20);
    if (op < 12) {
      const page = pageOf(), i = page & (TLB_SIZE - 1);
      const inMain = rng.int(8) !== 0;
      const base = inMain ? rng.int(256) * 4096 : 0;
      const phys = rng.int(64);
      t.fill(i, page, rng.int(64) & (P_RS | P_RU | P_WS | P_WU), phys, inMain ? { u8: main.u8, buffer: main } : { u8: other, buffer: undefined }, base, rng.int(2) === 0);
      pages.push(page); physPages.push(phys);
    } else if (op === 12) t.flush();
    else if (op === 13) t.flushNonGlobal();
    else if (op === 14 && pages.length) t.flushPage(rng.pick(pages));
    else if (op >= 15 && physPages.length) t.revokeWrites(rng.pick(physPages));
    // Probe accesses around known pages: every size, aligned or not, near both page ends.
    for (let q = 0; q < 4 && pages.length; q++) {
      const page = rng.pick(pages), size = rng.pick([1, 2, 4, 8]);
      const off = rng.pick([0, size, 4096 - size, rng.int(4096), 4095, 4092]);
      const lin = page * 4096 + off;
      const lo = lin | 0, hi = Math.floor(lin / TWO32) | 0;
      for (const [tags, tagsLo] of kinds) {
        const want = probeAt(tags, t.at, slotOf(lin), lin, size);
        const got = probePair(tagsLo, t.tagHi, t.at8, lo, hi, size);
        assert.equal(got, want, `seed ${seed} (TSVISOR_SEED=${seed}) step ${step}: lin 0x${lin.toString(16)} size ${size}`);
      }
    }
  }
});
