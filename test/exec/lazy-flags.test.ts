/**
 * The lazy-flag readers that skip materialising (conditionOf's fast paths, carry) against the
 * materialised RFLAGS, for every record kind the ALU helpers leave (the materialised flags
 * themselves are checked against the host CPU by the native differential tests). Seeded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, add32, add64, incDec, incDec32, incDec64, logic32, logic64, logicResult, sub, sub32, sub64 } from '../../src/x86/exec/alu.js';
import type { ExecContext } from '../../src/x86/exec/context.js';
import { carry, conditionOf, LazyFlags, recordSzp, writeCfOf } from '../../src/x86/exec/lazy-flags.js';
import { condition, CF, OF } from '../../src/x86/exec/flags.js';
import { Rng, testSeed } from './rng.js';

const lo32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hi32 = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));

/** Leaves one record in c: kind k of RECORDS on operands (a, b) with carry-in c0. */
const RECORDS: ((c: LazyFlags, a: bigint, b: bigint, c0: number) => void)[] = [
  (c, a, b, c0) => { add32(c, lo32(a), lo32(b), c0); },
  (c, a, b, c0) => { sub32(c, lo32(a), lo32(b), c0); },
  (c, a, b) => { logic32(c, lo32(a) & lo32(b)); },
  (c, a, b, c0) => { add64(c, lo32(a), hi32(a), lo32(b), hi32(b), c0); },
  (c, a, b, c0) => { sub64(c, lo32(a), hi32(a), lo32(b), hi32(b), c0); },
  (c, a, b) => { logic64(c, lo32(a) ^ lo32(b), hi32(a) ^ hi32(b)); },
  (c, a, _b, c0) => { incDec32(c, lo32(a), c0 === 1); },
  (c, a, _b, c0) => { incDec64(c, lo32(a), hi32(a), c0 === 1); },
  // Byte and word records (CMP AL, TEST byte [mem]...), operands in range as the executor passes them.
  ...[1, 2].flatMap((size) => {
    const m = size === 1 ? 0xff : 0xffff, x = (c: LazyFlags): ExecContext => c as unknown as ExecContext;
    return [
      (c: LazyFlags, a: bigint, b: bigint, c0: number) => { add(x(c), size, lo32(a) & m, 0, lo32(b) & m, 0, c0); },
      (c: LazyFlags, a: bigint, b: bigint, c0: number) => { sub(x(c), size, lo32(a) & m, 0, lo32(b) & m, 0, c0); },
      (c: LazyFlags, a: bigint, b: bigint) => { logicResult(x(c), size, lo32(a) & lo32(b) & m, 0); },
      (c: LazyFlags, a: bigint, _b: bigint, c0: number) => { incDec(x(c), size, lo32(a) & m, 0, c0 === 1); },
    ];
  }),
  // A shift's record: SF ZF PF from the result, CF OF AF given.
  (c, a, b) => { recordSzp(c, 4, lo32(a), 0, lo32(b) & (CF | OF | 0x10)); },
  (c, a, b) => { recordSzp(c, 8, lo32(a), hi32(a), lo32(b) & (CF | OF | 0x10)); },
];

/**
 * A LazyFlags with earlier flags (CF, which INC/DEC keep, and OF when withOf) and, with odds
 * recordOdds in 1, one random record on random operands; what: the case, for messages.
 */
function randomRecord(rng: Rng, seed: number, withOf: boolean, recordOdds: number): { lazy: LazyFlags; what: string } {
  const k = rng.int(RECORDS.length), a = rng.value(), b = rng.value(), c0 = rng.int(2);
  const lazy = new LazyFlags();
  lazy.flags = 2 | rng.int(2) | (withOf && rng.int(2) ? OF : 0);
  if (rng.next() < recordOdds) RECORDS[k]!(lazy, a, b, c0); // else no record: writes go to flagBits
  return { lazy, what: `seed ${seed}: record ${k} on ${a}, ${b}, carry-in ${c0}` };
}

/** Materialises a copy of lazy's state; checks carry and every conditionOf against those flags. */
function checkReaders(lazy: LazyFlags, what: string): number {
  const flags = Object.assign(new LazyFlags(), { ...lazy }).flags;
  assert.equal(carry(lazy), flags & CF, `carry, ${what}`);
  for (let cc = 0; cc < 16; cc++) assert.equal(conditionOf(lazy, cc), condition(flags, cc), `cc ${cc}, ${what}`);
  return flags;
}

test('conditionOf and carry read the record as the materialised flags do', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  for (let i = 0; i < 20000; i++) {
    const { lazy, what } = randomRecord(rng, seed, false, 1);
    checkReaders(lazy, what);
  }
});

test('writeCfOf over any record changes CF (and OF) and nothing else, and the readers agree', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  for (let i = 0; i < 20000; i++) {
    const { lazy, what } = randomRecord(rng, seed, true, 0.8);
    // One or two overrides, as ROL then BT or IMUL then RCL leave them.
    let want = Object.assign(new LazyFlags(), { ...lazy }).flags;
    for (let n = 1 + rng.int(2); n > 0; n--) {
      const mask = rng.int(2) ? CF | OF : CF, bits = (rng.int(2) ? CF : 0) | (rng.int(2) ? OF : 0);
      writeCfOf(lazy, mask, bits & mask);
      want = (want & ~mask) | (bits & mask);
    }
    assert.equal(checkReaders(lazy, what), want, `materialised, ${what}`);
  }
});
